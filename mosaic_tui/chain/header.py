"""RLP block headers rebuilt from `eth_getBlockByNumber` results.

The auxiliary block stores take blocks as RLP headers (`reportBlock(rlpHeader)`) and trust them
because their keccak256 is the block hash. Nodes only hand out headers as JSON, so the engine
re-encodes them here, in the canonical field order of each hard fork.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rlp
from eth_utils import keccak, to_bytes

# (JSON field, kind) in header order. Kinds: "bytes" are fixed strings encoded as they are (hashes,
# the 8-byte PoW nonce), "int" are quantities encoded without leading zero bytes.
_BASE_FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "bytes"),
    ("sha3Uncles", "bytes"),
    ("miner", "bytes"),
    ("stateRoot", "bytes"),
    ("transactionsRoot", "bytes"),
    ("receiptsRoot", "bytes"),
    ("logsBloom", "bytes"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "bytes"),
    ("mixHash", "bytes"),
    ("nonce", "bytes"),
)

# Each hard fork appends fields after the fifteen above, in this order.
_FORK_FIELDS: tuple[tuple[str, str], ...] = (
    ("baseFeePerGas", "int"),  # London
    ("withdrawalsRoot", "bytes"),  # Shanghai
    ("blobGasUsed", "int"),  # Cancun
    ("excessBlobGas", "int"),  # Cancun
    ("parentBeaconBlockRoot", "bytes"),  # Cancun
    ("requestsHash", "bytes"),  # Prague
)


class HeaderError(ValueError):
    """The block dict cannot be turned into a header (a field is missing, or it hashes wrong)."""


def as_bytes(value: Any) -> bytes:
    """A data field from web3 (HexBytes) or raw JSON-RPC (hex string) as bytes."""
    if isinstance(value, str):
        return to_bytes(hexstr=value)
    return bytes(value)


def as_quantity(value: Any) -> int:
    """A quantity from web3 (int, or HexBytes for storage values) or raw JSON-RPC (hex string)."""
    if isinstance(value, str):
        return int(value, 16)
    if isinstance(value, bytes | bytearray):
        return int.from_bytes(value, "big")
    return int(value)


def header_fields(block: Mapping[str, Any]) -> list[bytes | int]:
    """The header's fields in RLP order, from a web3 block (AttributeDict) or a raw JSON-RPC dict."""
    fields: list[bytes | int] = []
    for name, kind in _BASE_FIELDS:
        if block.get(name) is None:
            raise HeaderError(f"block has no '{name}' field; cannot rebuild its header.")
        fields.append(as_quantity(block[name]) if kind == "int" else as_bytes(block[name]))
    # Present optional fields are appended in fork order and absent ones skipped: that is how
    # clients encode (anvil run with a pre-London hard fork still reports the two blob-gas fields,
    # and hashes them that way). A missing field shows up as a hash mismatch, see `verified_header`.
    for name, kind in _FORK_FIELDS:
        if block.get(name) is not None:
            fields.append(as_quantity(block[name]) if kind == "int" else as_bytes(block[name]))
    return fields


def encode_header(block: Mapping[str, Any]) -> bytes:
    """The RLP header whose keccak256 is the block hash."""
    return bytes(rlp.encode(header_fields(block)))


def header_hash(block: Mapping[str, Any]) -> bytes:
    return bytes(keccak(encode_header(block)))


def verified_header(block: Mapping[str, Any]) -> bytes:
    """`encode_header`, checked against the block's own hash: a node that leaves out a header
    field, or a chain with a header layout we do not know, fails here rather than on chain."""
    encoded = encode_header(block)
    if block.get("hash") is None or bytes(keccak(encoded)) != as_bytes(block["hash"]):
        raise HeaderError(
            f"block {as_quantity(block['number'])}: the rebuilt header does not hash to the block hash; "
            "the node may leave out a header field this program does not know."
        )
    return encoded
