"""Block headers: `mosaic_tui.chain.header.encode_header` rebuilds the RLP header whose keccak is
the block hash on real anvil blocks of several hard forks, and BlockHeader (through ProofHarness)
reads from it the same fields the node reports.
"""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth_utils import keccak
from web3.exceptions import ContractLogicError

from mosaic_tui.chain.header import HeaderError, encode_header, header_hash, verified_header
from mosaic_tui.devnet import rpc_call
from tests.helpers import deploy, revert_reason

# Items in a header after the fork (blocks after genesis; anvil's genesis can carry extra fields).
FIELDS_BY_FORK = {"london": 16, "shanghai": 17, "cancun": 20, "prague": 21}


@pytest.fixture
def harness(anvil: Any) -> Any:
    # The harness lives on its own default node: its shanghai bytecode (PUSH0) cannot be deployed
    # on a london chain, and decoding is pure, so any node can decode any chain's headers.
    return deploy(anvil.w3, "ProofHarness")


def _make_blocks(w3: Any) -> None:
    accounts = w3.eth.accounts
    for i in range(3):
        tx = w3.eth.send_transaction({"from": accounts[i], "to": accounts[i + 1], "value": 10**15 + i})
        w3.eth.wait_for_transaction_receipt(tx)
    w3.provider.make_request("evm_mine", [])  # and one block without transactions


@pytest.mark.parametrize("hardfork", sorted(FIELDS_BY_FORK))
def test_headers_hash_to_the_block_hash_and_decode_to_the_node_fields(
    anvil_factory: Any, harness: Any, hardfork: str
) -> None:
    node = anvil_factory(hardfork=hardfork)
    w3 = node.w3
    _make_blocks(w3)
    latest = w3.eth.block_number
    assert latest >= 4
    gas_used_seen = 0
    for number in range(latest + 1):
        block = w3.eth.get_block(number)
        encoded = encode_header(block)
        assert keccak(encoded) == bytes(block["hash"]) == header_hash(block)
        if number > 0:
            assert len(rlp.decode(encoded)) == FIELDS_BY_FORK[hardfork]

        decoded = harness.functions.decodeHeader(encoded).call()
        assert decoded == (
            bytes(block["hash"]),
            bytes(block["parentHash"]),
            bytes(block["stateRoot"]),
            bytes(block["transactionsRoot"]),
            block["number"],
            block["gasUsed"],
        )
        assert harness.functions.headerFields(encoded).call() == list(decoded[1:])
        assert bytes(harness.functions.headerHash(encoded).call()) == bytes(block["hash"])
        gas_used_seen += block["gasUsed"]
    assert gas_used_seen > 0


def test_raw_json_rpc_blocks_encode_like_web3_blocks(anvil: Any) -> None:
    w3 = anvil.w3
    _make_blocks(w3)
    for number in range(w3.eth.block_number + 1):
        raw = rpc_call(anvil.rpc_url, "eth_getBlockByNumber", [hex(number), False])
        assert encode_header(raw) == encode_header(w3.eth.get_block(number))
        assert keccak(encode_header(raw)) == bytes.fromhex(raw["hash"][2:])


def test_verified_header_refuses_a_block_missing_a_fork_field(anvil: Any) -> None:
    block = dict(anvil.w3.eth.get_block("latest"))
    assert keccak(verified_header(block)) == bytes(block["hash"])
    del block["requestsHash"]  # as a node that does not know Prague would report it
    with pytest.raises(HeaderError, match="does not hash to the block hash"):
        verified_header(block)


def test_a_block_without_a_base_field_cannot_be_encoded(anvil: Any) -> None:
    block = dict(anvil.w3.eth.get_block("latest"))
    del block["mixHash"]
    with pytest.raises(HeaderError, match="mixHash"):
        encode_header(block)


def _header_fields(anvil: Any) -> list[Any]:
    return list(rlp.decode(encode_header(anvil.w3.eth.get_block("latest"))))


def _reverts(harness: Any, data: bytes) -> str:
    with pytest.raises(ContractLogicError) as caught:
        harness.functions.decodeHeader(data).call()
    return revert_reason(caught.value)


def test_aura_style_headers_of_fifteen_fields_decode(anvil: Any, harness: Any) -> None:
    # Aura seals with (step, signature) where PoW has (mixHash, nonce); the fields we read are
    # the same thirteen, so any header of 15 or more items decodes.
    fields = _header_fields(anvil)[:13] + [(12345).to_bytes(8, "big").lstrip(b"\0"), b"\x11" * 65]
    encoded = rlp.encode(fields)
    decoded = harness.functions.decodeHeader(encoded).call()
    assert decoded[0] == keccak(encoded)
    assert decoded[2] == fields[3] and decoded[4] == int.from_bytes(fields[8], "big")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("drop", "BlockHeader: fewer than 15 fields"),
        ("short state root", "RLP: bytes32 is not 32 bytes"),
        ("padded number", "RLP: uint with leading zero"),
        ("list as gas used", "RLP: not a string"),
        ("trailing byte", "RLP: trailing bytes"),
        ("not a list", "RLP: not a list"),
    ],
)
def test_malformed_headers_revert_with_their_reason(anvil: Any, harness: Any, change: str, reason: str) -> None:
    fields = _header_fields(anvil)
    if change == "drop":
        encoded = rlp.encode(fields[:14])
    elif change == "short state root":
        encoded = rlp.encode(fields[:3] + [fields[3][:31]] + fields[4:])
    elif change == "padded number":
        encoded = rlp.encode(fields[:8] + [b"\x00" + fields[8]] + fields[9:])
    elif change == "list as gas used":
        encoded = rlp.encode(fields[:10] + [[fields[10]]] + fields[11:])
    elif change == "trailing byte":
        encoded = rlp.encode(fields) + b"\x00"
    else:
        encoded = rlp.encode(b"".join(fields[:3]))
    assert _reverts(harness, encoded) == reason
