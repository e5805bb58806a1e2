"""MerklePatriciaProof against real `eth_getProof` answers from anvil, and the engine's proof
helpers (mosaic_tui.chain.proofs) that turn those answers into call arguments.

Every test reads what the chain holds (balances, nonces, code, storage views) and checks that the
proof the library accepts says exactly that; every tampered proof, path, value or root must be
refused: `verify` returns false and `get` reverts with its reason (or, for a changed path, at
most proves that the changed path is empty).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak
from web3.exceptions import ContractLogicError

from mosaic_tui.chain.proofs import (
    account_path,
    account_proof_args,
    account_rlp,
    slot_key,
    storage_key_for_mapping,
    storage_path,
    storage_proof_nodes,
    storage_slot_value,
    storage_value_rlp,
)
from mosaic_tui.contracts import load_artifact
from mosaic_tui.devnet import rpc_call
from tests.helpers import deploy, revert_reason, transact

EMPTY_TRIE_ROOT = keccak(b"\x80")
EMPTY_CODE_HASH = keccak(b"")


def slot_of(contract: str, variable: str) -> int:
    """A state variable's slot from the compiler's storage layout (not hard-coded here)."""
    for entry in load_artifact(contract)["storageLayout"]["storage"]:
        if entry["label"] == variable:
            return int(entry["slot"])
    raise KeyError(variable)


@dataclass
class Chain:
    w3: Any
    harness: Any
    fixture: Any
    token: Any
    block: int
    state_root: bytes
    holders: list[str]
    record_key: bytes


@pytest.fixture
def chain(anvil: Any) -> Chain:
    """A chain with a contract holding a plain slot and two mappings, plus a token with balances."""
    w3 = anvil.w3
    accounts = w3.eth.accounts
    harness = deploy(w3, "ProofHarness")
    fixture = deploy(w3, "StorageFixture")
    token = deploy(w3, "EIP20Token", "Dev OST", "OST", 18, 10**27)
    transact(w3, fixture.functions.setPlain(keccak(b"plain")))
    holders = list(accounts[1:6])
    for i, holder in enumerate(holders):
        transact(w3, fixture.functions.setBalance(holder, (i + 1) * 10**18 + i))
    record_key = keccak(b"a stake message")
    transact(w3, fixture.functions.record(record_key))
    transact(w3, token.functions.transfer(accounts[1], 12345))
    block = w3.eth.block_number
    state_root = bytes(w3.eth.get_block(block)["stateRoot"])
    return Chain(w3, harness, fixture, token, block, state_root, holders, record_key)


def get(chain: Chain, root: bytes, path: bytes, nodes: list[bytes]) -> tuple[bool, bytes]:
    found, value = chain.harness.functions.mptGet(root, path, nodes).call()
    return found, bytes(value)


def verify(chain: Chain, value: bytes, path: bytes, nodes: list[bytes], root: bytes) -> bool:
    return bool(chain.harness.functions.mptVerify(value, path, nodes, root).call())


def get_reverts(chain: Chain, root: bytes, path: bytes, nodes: list[bytes]) -> str:
    with pytest.raises(ContractLogicError) as caught:
        chain.harness.functions.mptGet(root, path, nodes).call()
    return revert_reason(caught.value)


def fixture_storage_keys(chain: Chain) -> list[bytes]:
    """Every slot the fixture contract has written."""
    balances, recorded = slot_of("StorageFixture", "balances"), slot_of("StorageFixture", "recorded")
    return (
        [slot_key(slot_of("StorageFixture", "plain"))]
        + [storage_key_for_mapping(bytes.fromhex(h[2:]), balances) for h in chain.holders]
        + [storage_key_for_mapping(chain.record_key, recorded)]
    )


# ---------------------------------------------------------------------------------------- accounts


def test_account_proofs_of_eoas_and_contracts_give_the_accounts_the_chain_holds(chain: Chain) -> None:
    w3, block = chain.w3, chain.block
    sender, idle = w3.eth.accounts[0], w3.eth.accounts[9]  # one has sent transactions, one has not
    for address in (sender, idle, chain.fixture.address, chain.token.address):
        proof = w3.eth.get_proof(address, [], block)
        account_rlp, nodes = account_proof_args(proof)
        path = account_path(address)

        assert get(chain, chain.state_root, path, nodes) == (True, account_rlp)
        assert verify(chain, account_rlp, path, nodes, chain.state_root)

        nonce, balance, storage_root, code_hash = rlp.decode(account_rlp)
        assert int.from_bytes(nonce, "big") == w3.eth.get_transaction_count(address, block)
        assert int.from_bytes(balance, "big") == w3.eth.get_balance(address, block)
        assert code_hash == keccak(bytes(w3.eth.get_code(address, block)))
        assert chain.harness.functions.accountStorageRoot(account_rlp).call() == storage_root
        assert storage_root == bytes(proof["storageHash"])
    assert w3.eth.get_transaction_count(sender, block) > 0 == w3.eth.get_transaction_count(idle, block)


def test_account_that_does_not_exist_is_proven_absent(chain: Chain) -> None:
    stranger = Account.create().address
    proof = chain.w3.eth.get_proof(stranger, [], chain.block)
    account_rlp, nodes = account_proof_args(proof)
    path = account_path(stranger)

    assert get(chain, chain.state_root, path, nodes) == (False, b"")
    assert verify(chain, b"", path, nodes, chain.state_root)
    # The all-zero account the node reports is not in the trie, so claiming it is refused.
    assert not verify(chain, account_rlp, path, nodes, chain.state_root)


def test_account_storage_root_rejects_a_value_that_is_not_an_account(chain: Chain) -> None:
    not_account = rlp.encode([1, 2, EMPTY_TRIE_ROOT])
    with pytest.raises(ContractLogicError) as caught:
        chain.harness.functions.accountStorageRoot(not_account).call()
    assert revert_reason(caught.value) == "MPT: account is not 4 fields"


# ----------------------------------------------------------------------------------------- storage


def test_storage_proofs_of_a_plain_slot_and_mapping_entries(chain: Chain) -> None:
    w3, fixture = chain.w3, chain.fixture
    keys = fixture_storage_keys(chain)
    proof = w3.eth.get_proof(fixture.address, keys, chain.block)
    storage_root = bytes(proof["storageHash"])

    expected = (
        [int.from_bytes(fixture.functions.plain().call(block_identifier=chain.block), "big")]
        + [fixture.functions.balances(h).call(block_identifier=chain.block) for h in chain.holders]
        + [int(fixture.functions.recorded(chain.record_key).call(block_identifier=chain.block))]
    )
    for index, key in enumerate(keys):
        value = storage_slot_value(proof, index)
        # The helper's mapping slots are the ones the contract's own views read.
        assert value == expected[index] != 0
        assert int.from_bytes(w3.eth.get_storage_at(fixture.address, key, chain.block), "big") == value

        nodes, path = storage_proof_nodes(proof, index), storage_path(key)
        assert get(chain, storage_root, path, nodes) == (True, storage_value_rlp(value))
        assert verify(chain, storage_value_rlp(value), path, nodes, storage_root)
        assert not verify(chain, storage_value_rlp(value + 1), path, nodes, storage_root)


def test_storage_proof_of_an_eip20_balance(chain: Chain) -> None:
    holder = chain.w3.eth.accounts[1]
    key = storage_key_for_mapping(bytes.fromhex(holder[2:]), slot_of("EIP20Token", "balanceOf"))
    proof = chain.w3.eth.get_proof(chain.token.address, [key], chain.block)
    value = storage_slot_value(proof)
    assert value == chain.token.functions.balanceOf(holder).call(block_identifier=chain.block) == 12345

    nodes = storage_proof_nodes(proof)
    assert verify(chain, storage_value_rlp(12345), storage_path(key), nodes, bytes(proof["storageHash"]))


def test_storage_slot_never_written_is_proven_absent(chain: Chain) -> None:
    unset_holder = chain.w3.eth.accounts[9]
    key = storage_key_for_mapping(bytes.fromhex(unset_holder[2:]), slot_of("StorageFixture", "balances"))
    proof = chain.w3.eth.get_proof(chain.fixture.address, [key], chain.block)
    root, nodes, path = bytes(proof["storageHash"]), storage_proof_nodes(proof), storage_path(key)
    assert storage_slot_value(proof) == 0
    assert storage_value_rlp(0) == b""

    assert get(chain, root, path, nodes) == (False, b"")
    assert verify(chain, b"", path, nodes, root)
    assert not verify(chain, storage_value_rlp(1), path, nodes, root)


def test_storage_of_an_account_without_storage_is_the_empty_trie(chain: Chain) -> None:
    eoa = chain.w3.eth.accounts[0]
    proof = chain.w3.eth.get_proof(eoa, [slot_key(0)], chain.block)
    assert bytes(proof["storageHash"]) == EMPTY_TRIE_ROOT
    nodes, path = storage_proof_nodes(proof), storage_path(slot_key(0))
    # anvil proves the empty trie with the one node rlp(""); geth sends no nodes. Both are valid.
    for candidate in (nodes, []):
        assert get(chain, EMPTY_TRIE_ROOT, path, candidate) == (False, b"")
        assert verify(chain, b"", path, candidate, EMPTY_TRIE_ROOT)
        assert not verify(chain, storage_value_rlp(1), path, candidate, EMPTY_TRIE_ROOT)


def test_claiming_a_present_value_is_absent_is_refused(chain: Chain) -> None:
    key = fixture_storage_keys(chain)[0]
    proof = chain.w3.eth.get_proof(chain.fixture.address, [key], chain.block)
    assert not verify(chain, b"", storage_path(key), storage_proof_nodes(proof), bytes(proof["storageHash"]))


# ---------------------------------------------------------------------------------------- tampering


def _flip_positions(length: int, rng: random.Random) -> list[int]:
    return sorted({0, 1, length // 2, length - 1, *rng.sample(range(length), min(3, length))})


def _real_proofs(chain: Chain) -> list[tuple[str, bytes, bytes, list[bytes], bytes]]:
    """(label, root, path, nodes, value) for a contract account and a mapping entry."""
    w3 = chain.w3
    key = fixture_storage_keys(chain)[1]
    proof = w3.eth.get_proof(chain.fixture.address, [key], chain.block)
    account_rlp, account_nodes = account_proof_args(proof)
    return [
        ("account", chain.state_root, account_path(chain.fixture.address), account_nodes, account_rlp),
        ("storage", bytes(proof["storageHash"]), storage_path(key), storage_proof_nodes(proof),
         storage_value_rlp(storage_slot_value(proof))),
    ]


def test_any_changed_byte_of_any_proof_node_is_refused(chain: Chain) -> None:
    rng = random.Random(1)
    checked = 0
    for label, root, path, nodes, value in _real_proofs(chain):
        assert len(nodes) >= 2, f"{label} proof too shallow to test every node kind"
        for index, node in enumerate(nodes):
            for position in _flip_positions(len(node), rng):
                tampered = bytearray(node)
                tampered[position] ^= 0x01 if position % 2 else 0xFF
                forged = [*nodes[:index], bytes(tampered), *nodes[index + 1:]]
                assert not verify(chain, value, path, forged, root), (label, index, position)
                assert get_reverts(chain, root, path, forged) == "MPT: node hash mismatch"
                checked += 1
    assert checked >= 20


def test_a_changed_root_or_value_is_refused(chain: Chain) -> None:
    for _label, root, path, nodes, value in _real_proofs(chain):
        for position in (0, 17, 31):
            wrong_root = bytearray(root)
            wrong_root[position] ^= 0x80
            assert not verify(chain, value, path, nodes, bytes(wrong_root))
            assert get_reverts(chain, bytes(wrong_root), path, nodes) == "MPT: node hash mismatch"
        for wrong_value in (value[:-1], value + b"\x00", bytes([value[0] ^ 1]) + value[1:], b""):
            assert not verify(chain, wrong_value, path, nodes, root)
        assert verify(chain, value, path, nodes, root)


def test_a_changed_path_does_not_prove_the_value(chain: Chain) -> None:
    for _label, root, path, nodes, value in _real_proofs(chain):
        for position in (0, 1, 15, 31):
            wrong_path = bytearray(path)
            wrong_path[position] ^= 0x10 if position < 2 else 0x01
            assert not verify(chain, value, bytes(wrong_path), nodes, root)
            try:
                found, _ = get(chain, root, bytes(wrong_path), nodes)
            except ContractLogicError as error:
                assert revert_reason(error).startswith("MPT: ")
            else:
                assert not found  # at most: this proof shows the other path is empty


def test_truncated_padded_and_reordered_proofs_are_refused(chain: Chain) -> None:
    for _label, root, path, nodes, value in _real_proofs(chain):
        cases = {
            "MPT: proof ends early": nodes[:-1],
            "MPT: unused proof nodes": [*nodes, nodes[-1]],
            "MPT: node hash mismatch": [nodes[0], *reversed(nodes[1:])] if len(nodes) > 2 else nodes[::-1],
            "MPT: empty proof for a non-empty root": [],
        }
        for reason, forged in cases.items():
            assert not verify(chain, value, path, forged, root), reason
            assert get_reverts(chain, root, path, forged) == reason


# ------------------------------------------------------------------------------- engine helpers


def test_raw_json_rpc_proofs_give_the_same_arguments_as_web3_proofs(chain: Chain, anvil: Any) -> None:
    key = fixture_storage_keys(chain)[1]
    address = chain.fixture.address
    raw = rpc_call(anvil.rpc_url, "eth_getProof", [address, ["0x" + key.hex()], hex(chain.block)])
    parsed = chain.w3.eth.get_proof(address, [key], chain.block)
    assert account_proof_args(raw) == account_proof_args(parsed)
    assert storage_proof_nodes(raw) == storage_proof_nodes(parsed)
    assert storage_slot_value(raw) == storage_slot_value(parsed) != 0
    assert account_rlp(raw) == account_proof_args(raw)[0]


def test_helpers_refuse_keys_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="20 or 32 bytes"):
        storage_key_for_mapping(b"\x01" * 31, 0)
    with pytest.raises(ValueError, match="32 bytes"):
        storage_path(b"\x01" * 20)
    with pytest.raises(ValueError, match="20 bytes"):
        account_path(b"\x01" * 32)
    with pytest.raises(ValueError, match="unsigned"):
        storage_value_rlp(-1)
    # An address key is padded the way abi.encode pads it.
    address = bytes(range(20))
    assert storage_key_for_mapping(address, 3) == keccak(bytes(12) + address + (3).to_bytes(32, "big"))
