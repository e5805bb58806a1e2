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


# --- checking a proof here, the way MerklePatriciaProof checks it on chain ---------------------------

EMPTY_TRIE_ROOT = bytes(keccak(rlp.encode(b"")))


class ProofError(ValueError):
    """A proof that does not lead from the root to the key: a node's hash or shape is wrong."""


def _nibbles(path: bytes) -> list[int]:
    return [n for byte in path for n in (byte >> 4, byte & 0x0F)]


def _compact(encoded: bytes) -> tuple[list[int], bool]:
    """A leaf's or extension's hex-prefix path: (its nibbles, whether it is a leaf)."""
    if not encoded:
        raise ProofError("a leaf or extension node has an empty path")
    flag = encoded[0] >> 4
    if flag > 3:
        raise ProofError(f"a node's path has the unknown hex-prefix flag {flag}")
    nibbles = _nibbles(encoded)[1 if flag & 1 else 2:]
    return nibbles, flag >= 2


def proven_value(root: bytes, path: bytes, nodes: Sequence[bytes]) -> bytes:
    """The value a proof holds at `path` (a 32-byte hashed key) under `root`, or b"" where the proof
    shows the key absent. Every node is found by its hash, starting from the root, so a proof that
    was not made from the trie under `root` raises ProofError."""
    by_hash = {bytes(keccak(node)): bytes(node) for node in nodes}
    remaining = _nibbles(path)
    reference: Any = bytes(root)
    if reference == EMPTY_TRIE_ROOT and not nodes:
        return b""
    for _ in range(len(remaining) * 2 + 2):
        if isinstance(reference, list):
            node = reference  # a node under 32 bytes is embedded in its parent
        else:
            if len(reference) != 32:
                raise ProofError(f"a reference of {len(reference)} bytes is neither a hash nor an embedded node")
            raw = by_hash.get(reference)
            if raw is None:
                raise ProofError(f"the proof has no node with hash 0x{reference.hex()}")
            node = rlp.decode(raw)
        if len(node) == 17:
            if not remaining:
                return bytes(node[16])
            reference, remaining = node[remaining[0]], remaining[1:]
            if reference == b"":
                return b""
        elif len(node) == 2:
            segment, leaf = _compact(bytes(node[0]))
            if leaf:
                return bytes(node[1]) if segment == remaining else b""
            if remaining[:len(segment)] != segment:
                return b""
            reference, remaining = node[1], remaining[len(segment):]
        else:
            raise ProofError(f"a trie node has {len(node)} items; expected 2 or 17")
    raise ProofError("the proof is longer than any path in a trie")


def check_account_proof(state_root: bytes, proof: Mapping[str, Any]) -> None:
    """The `eth_getProof` result's account and every storage value hold under `state_root`."""
    address = proof["address"]
    value = proven_value(state_root, account_path(address), _nodes(proof["accountProof"]))
    absent = (as_quantity(proof["nonce"]) == 0 and as_quantity(proof["balance"]) == 0
              and as_bytes(proof["storageHash"]) == EMPTY_TRIE_ROOT)
    if value != account_rlp(proof) and not (value == b"" and absent):
        raise ProofError(f"the account proof of {address} does not match the state root 0x{state_root.hex()}")
    storage_root = as_bytes(proof["storageHash"])
    for item in proof["storageProof"]:
        key = as_bytes(item["key"]).rjust(32, b"\0")
        found = proven_value(storage_root, storage_path(key), _nodes(item["proof"]))
        if found != storage_value_rlp(as_quantity(item["value"])):
            raise ProofError(f"the storage proof of {address} slot 0x{key.hex()} does not match its storage root")
