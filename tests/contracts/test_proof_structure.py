"""MerklePatriciaProof on tries built in the test (tests/contracts/trie.py): embedded nodes, both
ways clients list them, and every structural guard of the verifier with its revert reason.

Real state tries keyed by hashes practically never embed nodes and never contain broken nodes,
so these cases need tries we build ourselves; the first test shows the builder reproduces a real
anvil storage trie, root and proof nodes alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from mosaic_tui.chain.proofs import (
    slot_key,
    storage_path,
    storage_proof_nodes,
    storage_slot_value,
    storage_value_rlp,
)
from tests.contracts.trie import EMPTY_STRING, Trie, hex_prefix, reference, rlp_list, rlp_string
from tests.helpers import deploy, revert_reason, transact

EMPTY_TRIE_ROOT = keccak(b"\x80")


@pytest.fixture
def harness(anvil: Any) -> Any:
    return deploy(anvil.w3, "ProofHarness")


def get(harness: Any, root: bytes, path: bytes, nodes: list[bytes]) -> tuple[bool, bytes]:
    found, value = harness.functions.mptGet(root, path, nodes).call()
    return found, bytes(value)


def verify(harness: Any, value: bytes, path: bytes, nodes: list[bytes], root: bytes) -> bool:
    return bool(harness.functions.mptVerify(value, path, nodes, root).call())


def get_reverts(harness: Any, root: bytes, path: bytes, nodes: list[bytes]) -> str:
    with pytest.raises(ContractLogicError) as caught:
        harness.functions.mptGet(root, path, nodes).call()
    return revert_reason(caught.value)


def test_trie_builder_reproduces_a_real_storage_trie(anvil: Any, harness: Any) -> None:
    w3 = anvil.w3
    fixture = deploy(w3, "StorageFixture")
    transact(w3, fixture.functions.setPlain(keccak(b"x")))
    for i, holder in enumerate(w3.eth.accounts[:8]):
        transact(w3, fixture.functions.setBalance(holder, i + 1))
    keys = [slot_key(0)] + [
        keccak(bytes.fromhex(h[2:]).rjust(32, b"\0") + slot_key(1)) for h in w3.eth.accounts[:8]
    ]
    proof = w3.eth.get_proof(fixture.address, keys, "latest")
    trie = Trie({storage_path(k): storage_value_rlp(storage_slot_value(proof, i)) for i, k in enumerate(keys)})

    assert trie.root == bytes(proof["storageHash"])
    for index, key in enumerate(keys):
        assert trie.proof(storage_path(key)) == storage_proof_nodes(proof, index)


# ----------------------------------------------------------------------------------- embedded nodes

PREFIX = bytes(range(1, 31))  # 30 shared bytes push the leaves deep enough to be embedded


def embedded_trie() -> tuple[Trie, dict[bytes, bytes]]:
    """Paths sharing 62 or 63 nibbles: an extension, then branches and leaves under 32 bytes."""
    entries = {
        PREFIX + b"\x00\x01": b"\x01",
        PREFIX + b"\x00\x02": b"\x02",  # differs from the first only in the last nibble
        PREFIX + b"\x10\x00": b"\x03",
        PREFIX + b"\x20\x00": rlp_string(b"x" * 40),  # a leaf big enough to be hashed
        keccak(b"far away"): b"\x04",
    }
    return Trie(entries), entries


def test_values_under_embedded_nodes_are_found_with_either_proof_style(harness: Any) -> None:
    trie, entries = embedded_trie()
    saw_embedded = False
    for path, value in entries.items():
        geth_style, reth_style = trie.proof(path), trie.proof(path, with_embedded=True)
        saw_embedded |= len(reth_style) > len(geth_style)
        for nodes in (geth_style, reth_style):
            assert get(harness, trie.root, path, nodes) == (True, value)
            assert verify(harness, value, path, nodes, trie.root)
            assert not verify(harness, value + b"\x00", path, nodes, trie.root)
    assert saw_embedded, "the trie has no embedded node on any path: the test proves nothing"


def test_absence_under_embedded_nodes(harness: Any) -> None:
    trie, entries = embedded_trie()
    for missing in (PREFIX + b"\x00\x03", PREFIX + b"\x00\x10", PREFIX + b"\x30\x00", PREFIX[:-1] + b"\x00\x00\x01"):
        assert missing not in entries
        for nodes in (trie.proof(missing), trie.proof(missing, with_embedded=True)):
            assert get(harness, trie.root, missing, nodes) == (False, b"")
            assert verify(harness, b"", missing, nodes, trie.root)


def test_a_listed_embedded_node_that_differs_from_the_parent_copy_is_refused(harness: Any) -> None:
    trie, _ = embedded_trie()
    path = PREFIX + b"\x00\x01"
    nodes = trie.proof(path, with_embedded=True)
    last = bytearray(nodes[-1])
    assert len(last) < 32
    last[-1] ^= 0x01
    forged = [*nodes[:-1], bytes(last)]
    assert not verify(harness, b"\x01", path, forged, trie.root)
    assert get_reverts(harness, trie.root, path, forged) == "MPT: unused proof nodes"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    suffixes=st.lists(st.binary(min_size=2, max_size=2), min_size=1, max_size=12, unique=True),
    values=st.lists(st.binary(min_size=1, max_size=40), min_size=12, max_size=12),
    probe=st.binary(min_size=2, max_size=2),
)
def test_every_entry_of_random_tries_is_proven(harness: Any, suffixes: list[bytes], values: list[bytes],
                                                probe: bytes) -> None:
    entries = {PREFIX + suffix: rlp_string(value) for suffix, value in zip(suffixes, values, strict=False)}
    trie = Trie(entries)
    for path, value in entries.items():
        assert get(harness, trie.root, path, trie.proof(path, with_embedded=len(value) % 2 == 0)) == (True, value)
    probe_path = PREFIX + probe
    expected = entries.get(probe_path, b"")
    assert verify(harness, expected, probe_path, trie.proof(probe_path), trie.root)


# -------------------------------------------------------------------------------- structural guards

PATH = bytes([0x12]) + bytes(31)


def leaf(key_nibbles: tuple[int, ...], value: bytes) -> bytes:
    return rlp_list([rlp_string(hex_prefix(key_nibbles, leaf=True)), rlp_string(value)])


def branch(children: dict[int, bytes], value: bytes = EMPTY_STRING) -> bytes:
    return rlp_list([children.get(i, EMPTY_STRING) for i in range(16)] + [value])


REST_OF_PATH = (2,) + (0,) * 62  # PATH's nibbles after the first one


def malformed_roots() -> dict[str, list[bytes]]:
    """Single-node (or root + child) proofs whose hashes all match but whose nodes are invalid."""
    good_leaf = leaf(REST_OF_PATH, b"\x05" * 40)
    return {
        "three items": ("MPT: malformed node", [rlp_list([EMPTY_STRING] * 3)]),
        "not RLP": ("MPT: malformed node", [rlp_list([EMPTY_STRING] * 2) + b"\x00"]),
        "string node": ("MPT: malformed node", [rlp_string(b"\x99" * 40)]),
        "leaf without value": ("MPT: malformed node", [rlp_list([rlp_string(hex_prefix((1, *REST_OF_PATH), True)), EMPTY_STRING])]),
        "list as leaf value": ("MPT: malformed node", [rlp_list([rlp_string(hex_prefix((1, *REST_OF_PATH), True)), rlp_list([])])]),
        "list as key": ("MPT: malformed node", [rlp_list([rlp_list([]), rlp_string(b"\x01")])]),
        "extension without key": ("MPT: malformed node", [rlp_list([rlp_string(hex_prefix((), False)), reference(good_leaf)]), good_leaf]),
        "extension without child": ("MPT: malformed node", [rlp_list([rlp_string(hex_prefix((1,), False)), EMPTY_STRING])]),
        "branch holding a value": ("MPT: malformed node", [branch({1: reference(good_leaf)}, value=b"\x01"), good_leaf]),
        "flag 4": ("MPT: bad hex-prefix key", [rlp_list([rlp_string(b"\x41\x22"), rlp_string(b"\x01")])]),
        "even key, odd padding": ("MPT: bad hex-prefix key", [rlp_list([rlp_string(b"\x21\x22"), rlp_string(b"\x01")])]),
        "empty key": ("MPT: bad hex-prefix key", [rlp_list([EMPTY_STRING, rlp_string(b"\x01")])]),
        "short hash": ("MPT: bad child reference", [branch({1: rlp_string(b"\xaa" * 5)}), good_leaf]),
        "long hash": ("MPT: bad child reference", [branch({1: rlp_string(keccak(good_leaf) + b"\x00")}), good_leaf]),
        "big embedded node": ("MPT: bad child reference", [branch({1: good_leaf}), good_leaf]),
        "missing child": ("MPT: proof ends early", [branch({1: reference(good_leaf)})]),
    }


@pytest.mark.parametrize("case", sorted(malformed_roots()))
def test_structurally_invalid_nodes_are_refused_with_their_reason(harness: Any, case: str) -> None:
    reason, nodes = malformed_roots()[case]
    root = keccak(nodes[0])
    assert get_reverts(harness, root, PATH, nodes) == reason
    for claimed in (b"", b"\x01", b"\x05" * 40):
        assert not verify(harness, claimed, PATH, nodes, root)


def test_the_guards_above_only_trip_on_the_broken_part(harness: Any) -> None:
    """The same shapes, well-formed, are accepted: the failures above come from the defects."""
    good_leaf = leaf(REST_OF_PATH, b"\x05" * 40)
    nodes = [branch({1: reference(good_leaf)}), good_leaf]
    assert get(harness, keccak(nodes[0]), PATH, nodes) == (True, b"\x05" * 40)
    deep_leaf = leaf((0,) * 62, b"\x07" * 40)
    deep_branch = branch({2: reference(deep_leaf)})
    extension = rlp_list([rlp_string(hex_prefix((1,), False)), reference(deep_branch)])
    nodes = [extension, deep_branch, deep_leaf]
    assert get(harness, keccak(extension), PATH, nodes) == (True, b"\x07" * 40)


def test_empty_trie_proofs(harness: Any) -> None:
    for nodes in ([], [EMPTY_STRING]):
        assert get(harness, EMPTY_TRIE_ROOT, PATH, nodes) == (False, b"")
        assert verify(harness, b"", PATH, nodes, EMPTY_TRIE_ROOT)
    # rlp("") followed by anything is not an empty trie.
    assert get_reverts(harness, EMPTY_TRIE_ROOT, PATH, [EMPTY_STRING, EMPTY_STRING]) == "MPT: malformed node"
