"""`eth_getProof` results turned into the arguments our proof-checking contracts take.

`KernelGateway` and `OSTPrime` verify origin state with `MerklePatriciaProof` (contracts/lib):
nodes as `bytes[]` exactly as the node returned them, a 32-byte hashed path, and the leaf value
the trie stores (the RLP account, or the RLP of a storage value). These helpers build exactly
those bytes so the engine and the tests agree with the contracts on every encoding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from eth_utils import keccak

from mosaic_tui.chain.header import as_bytes, as_quantity


def _nodes(raw: Sequence[Any]) -> list[bytes]:
    return [as_bytes(node) for node in raw]


def account_rlp(proof: Mapping[str, Any]) -> bytes:
    """The account trie's leaf value: RLP([nonce, balance, storageRoot, codeHash])."""
    return bytes(
        rlp.encode(
            [
                as_quantity(proof["nonce"]),
                as_quantity(proof["balance"]),
                as_bytes(proof["storageHash"]),
                as_bytes(proof["codeHash"]),
            ]
        )
    )


def account_proof_args(proof: Mapping[str, Any]) -> tuple[bytes, list[bytes]]:
    """(account RLP, account proof nodes) for a `get_proof` result.

    A node reports an account that is not in the state as all zeros with the empty storage root
    and empty code hash; its RLP is still returned here, and the proof then proves absence
    (verify it against an empty value, see `account_path`).
    """
    return account_rlp(proof), _nodes(proof["accountProof"])


def storage_proof_nodes(proof: Mapping[str, Any], index: int = 0) -> list[bytes]:
    """The proof nodes of the `index`-th storage key asked for in `get_proof`."""
    return _nodes(proof["storageProof"][index]["proof"])


def storage_slot_value(proof: Mapping[str, Any], index: int = 0) -> int:
    """The value the node reports for the `index`-th storage key asked for in `get_proof`."""
    return as_quantity(proof["storageProof"][index]["value"])


def storage_key_for_mapping(key: bytes, slot: int) -> bytes:
    """The storage slot of `mapping[key]` for a mapping declared at `slot`:
    keccak256(abi.encode(key, slot)). A 20-byte key is an address and is left-padded like
    abi.encode pads it; other keys must already be 32 bytes (bytes32, or a uint as big-endian).
    """
    key = bytes(key)
    if len(key) == 20:
        key = key.rjust(32, b"\0")
    if len(key) != 32:
        raise ValueError(f"a mapping key must be 20 or 32 bytes, got {len(key)}")
    return bytes(keccak(key + slot.to_bytes(32, "big")))


def slot_key(slot: int) -> bytes:
    """A plain storage slot number as the 32-byte key `eth_getProof` and the trie use."""
    return slot.to_bytes(32, "big")


def storage_path(key: bytes) -> bytes:
    """The trie path of a storage slot: keccak256 of its 32-byte key."""
    if len(key) != 32:
        raise ValueError(f"a storage key must be 32 bytes, got {len(key)}")
    return bytes(keccak(key))


def account_path(address: str | bytes) -> bytes:
    """The trie path of an account: keccak256 of its 20-byte address."""
    raw = as_bytes(address)
    if len(raw) != 20:
        raise ValueError(f"an address must be 20 bytes, got {len(raw)}")
    return bytes(keccak(raw))


def storage_value_rlp(value: int) -> bytes:
    """The storage trie's leaf value for `value`: RLP of its big-endian bytes without leading
    zeros. Zero is never stored (the slot is absent), so it maps to b"", the value that
    `MerklePatriciaProof.verify` reads as "proven absent".
    """
    if value < 0:
        raise ValueError("storage values are unsigned")
    if value == 0:
        return b""
    return bytes(rlp.encode(value))
