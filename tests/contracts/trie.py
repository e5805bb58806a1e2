"""A small, slow, obviously-correct Merkle-Patricia trie for the proof tests.

Real tries keyed by keccak hashes almost never contain embedded (< 32 byte) nodes, and every
node a real node returns hashes correctly, so neither embedded nodes nor the verifier's
structural checks can be reached with proofs from anvil alone. This builder makes tries with
chosen paths and lets a test hand-craft broken nodes. The proof tests first check that it
reproduces a real anvil storage root and proof, so what it builds is what clients build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eth_utils import keccak

EMPTY_STRING = b"\x80"


def _length_prefix(offset: int, length: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded_length = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded_length)]) + encoded_length


def rlp_string(data: bytes) -> bytes:
    if len(data) == 1 and data[0] < 0x80:
        return data
    return _length_prefix(0x80, len(data)) + data


def rlp_list(encoded_items: Sequence[bytes]) -> bytes:
    """A list of items that are already RLP-encoded (so embedded nodes go in as they are)."""
    payload = b"".join(encoded_items)
    return _length_prefix(0xC0, len(payload)) + payload


def nibbles(path: bytes) -> tuple[int, ...]:
    return tuple(n for byte in path for n in (byte >> 4, byte & 0x0F))


def hex_prefix(key: Sequence[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(key) % 2:
        packed = [(flag + 1) << 4 | key[0]]
        rest = key[1:]
    else:
        packed = [flag << 4]
        rest = key
    packed += [rest[i] << 4 | rest[i + 1] for i in range(0, len(rest), 2)]
    return bytes(packed)


def reference(encoded_node: bytes) -> bytes:
    """How a parent points at a child: embedded when under 32 bytes, else by hash."""
    return encoded_node if len(encoded_node) < 32 else rlp_string(keccak(encoded_node))


Pairs = list[tuple[tuple[int, ...], bytes]]


def _common_prefix(pairs: Pairs) -> tuple[int, ...]:
    first = pairs[0][0]
    length = 0
    while all(len(key) > length and key[length] == first[length] for key, _ in pairs):
        length += 1
    return first[:length]


def encode_node(pairs: Pairs) -> bytes:
    """The node holding `pairs` (keys relative to this node), for keys of equal length."""
    if len(pairs) == 1:
        key, value = pairs[0]
        return rlp_list([rlp_string(hex_prefix(key, leaf=True)), rlp_string(value)])
    common = _common_prefix(pairs)
    if common:
        child = encode_node([(key[len(common):], value) for key, value in pairs])
        return rlp_list([rlp_string(hex_prefix(common, leaf=False)), reference(child)])
    slots = []
    for nibble in range(16):
        group = [(key[1:], value) for key, value in pairs if key[0] == nibble]
        slots.append(reference(encode_node(group)) if group else EMPTY_STRING)
    return rlp_list([*slots, EMPTY_STRING])


class Trie:
    """Paths are 32 bytes; values are the leaf bytes (already RLP where the real trie stores RLP)."""

    def __init__(self, entries: Mapping[bytes, bytes]) -> None:
        assert all(len(path) == 32 for path in entries)
        self.pairs: Pairs = sorted((nibbles(path), value) for path, value in entries.items())

    @property
    def root(self) -> bytes:
        if not self.pairs:
            return bytes(keccak(EMPTY_STRING))
        return bytes(keccak(encode_node(self.pairs)))

    def proof(self, path: bytes, with_embedded: bool = False) -> list[bytes]:
        """Nodes from the root along `path`. Embedded nodes are listed only when `with_embedded`
        (geth leaves them out, reth/anvil put them in)."""
        if not self.pairs:
            return []
        out: list[bytes] = []
        pairs, rest = self.pairs, nibbles(path)
        is_root = True
        while True:
            encoded = encode_node(pairs)
            if is_root or len(encoded) >= 32 or with_embedded:
                out.append(encoded)
            is_root = False
            if len(pairs) == 1:
                return out
            common = _common_prefix(pairs)
            if common:
                if rest[: len(common)] != common:
                    return out
                pairs, rest = [(key[len(common):], value) for key, value in pairs], rest[len(common):]
                continue
            pairs = [(key[1:], value) for key, value in pairs if key[0] == rest[0]]
            rest = rest[1:]
            if not pairs:
                return out
