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


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return to_bytes(hexstr=value)
    return bytes(value)


def _as_int(value: Any) -> int:
    if isinstance(value, str):
        return int(value, 16)
    return int(value)


def header_fields(block: Mapping[str, Any]) -> list[bytes | int]:
    """The header's fields in RLP order, from a web3 block (AttributeDict) or a raw JSON-RPC dict."""
    fields: list[bytes | int] = []
    for name, kind in _BASE_FIELDS:
        if block.get(name) is None:
            raise HeaderError(f"block has no '{name}' field; cannot rebuild its header.")
        fields.append(_as_int(block[name]) if kind == "int" else _as_bytes(block[name]))
    # Present optional fields are appended in fork order and absent ones skipped: that is how
    # clients encode (anvil run with a pre-London hard fork still reports the two blob-gas fields,
    # and hashes them that way). A missing field shows up as a hash mismatch, see `header_hash`.
    for name, kind in _FORK_FIELDS:
        if block.get(name) is not None:
            fields.append(_as_int(block[name]) if kind == "int" else _as_bytes(block[name]))
    return fields


def encode_header(block: Mapping[str, Any]) -> bytes:
    """The RLP header whose keccak256 is the block hash."""
    return bytes(rlp.encode(header_fields(block)))


def header_hash(block: Mapping[str, Any]) -> bytes:
    return bytes(keccak(encode_header(block)))
