// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RLP} from "./RLP.sol";

/// @title MerklePatriciaProof
/// @notice Verifies Merkle-Patricia proofs exactly as `eth_getProof` returns them, so the auxiliary
///         chain can trust an account or a storage slot of the origin chain given only that chain's
///         state root. Proves both presence (the value at a path) and absence (no value at a path).
/// @dev Paths are 32-byte hashed keys (`keccak256(address)` for an account, `keccak256(slot)` for a
///      storage slot), walked nibble by nibble. Nodes of 32 bytes or more are referenced by hash and
///      must appear in `proof` in order from the root. A node under 32 bytes is embedded in its
///      parent; clients differ on whether they also list it as a proof element of its own (geth
///      does not, reth/anvil do), so an element equal to the embedded node is accepted and skipped.
///      The walk itself never reverts: it returns an error code, which `get` turns into a revert
///      reason and `verify` into `false`.
library MerklePatriciaProof {
    using RLP for RLP.RLPItem;

    /// keccak256(rlp("")), the root of a trie with no entries.
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    uint256 private constant OK = 0;
    uint256 private constant ERR_EMPTY_PROOF = 1;
    uint256 private constant ERR_HASH = 2;
    uint256 private constant ERR_MALFORMED = 3;
    uint256 private constant ERR_SHORT = 4;
    uint256 private constant ERR_TRAILING = 5;
    uint256 private constant ERR_CHILD = 6;
    uint256 private constant ERR_HEX_PREFIX = 7;

    uint256 private constant PATH_NIBBLES = 64;

    /// Where the walk is: the next nibble of the path and the next unread proof element.
    struct Cursor {
        bytes32 path;
        uint256 nibble;
        uint256 next;
    }

    /// @notice The value stored at `path` in the trie with root `root`.
    /// @return found false for a valid proof that nothing is stored at `path`.
    /// @return value the leaf value (for an account: its RLP; for a storage slot: the RLP of the
    ///         value); empty when not found.
    function get(bytes32 root, bytes32 path, bytes[] memory proof)
        internal
        pure
        returns (bool found, bytes memory value)
    {
        (uint256 err, bool present, RLP.RLPItem memory leaf) = _walk(root, path, proof);
        _check(err);
        if (present) return (true, leaf.toBytes());
        return (false, "");
    }

    /// @notice True iff `proof` is valid for `root` and the value at `path` equals `value`;
    ///         an empty `value` claims that nothing is stored at `path`. Never reverts.
    function verify(bytes memory value, bytes32 path, bytes[] memory proof, bytes32 root)
        internal
        pure
        returns (bool)
    {
        (uint256 err, bool present, RLP.RLPItem memory leaf) = _walk(root, path, proof);
        if (err != OK) return false;
        if (!present) return value.length == 0;
        (uint256 ptr, uint256 len) = leaf.payload();
        bytes32 leafHash;
        assembly ("memory-safe") {
            leafHash := keccak256(ptr, len)
        }
        return len == value.length && leafHash == keccak256(value);
    }

    /// @notice The storage root (item 2) of an account leaf value `[nonce, balance, storageRoot, codeHash]`.
    function accountStorageRoot(bytes memory accountRlp) internal pure returns (bytes32) {
        RLP.RLPItem[] memory fields = RLP.toItem(accountRlp).toList();
        require(fields.length == 4, "MPT: account is not 4 fields");
        return fields[2].toBytes32();
    }

    // ------------------------------------------------------------------ the walk

    function _walk(bytes32 root, bytes32 path, bytes[] memory proof)
        private
        pure
        returns (uint256 err, bool found, RLP.RLPItem memory value)
    {
        if (proof.length == 0) {
            return (root == EMPTY_TRIE_ROOT ? OK : ERR_EMPTY_PROOF, false, value);
        }
        if (keccak256(proof[0]) != root) return (ERR_HASH, false, value);
        (bool ok, RLP.RLPItem memory node) = RLP.tryToItem(proof[0]);
        if (!ok) return (ERR_MALFORMED, false, value);
        Cursor memory cursor = Cursor(path, 0, 1);

        // Some clients prove an empty trie with the single node rlp(""); its hash matched above,
        // so the root is the empty root and nothing is stored.
        if (!node.isList()) {
            if (!_isEmptyString(node) || proof.length != 1) return (ERR_MALFORMED, false, value);
            return (OK, false, value);
        }

        while (true) {
            RLP.RLPItem[] memory items;
            (ok, items) = RLP.tryToList(node);
            if (!ok) return (ERR_MALFORMED, false, value);
            RLP.RLPItem memory child;
            if (items.length == 17) {
                (err, child) = _branch(items, cursor);
            } else if (items.length == 2) {
                (err, found, value, child) = _shortNode(items, cursor);
            } else {
                return (ERR_MALFORMED, false, value);
            }
            if (err != OK) return (err, false, value);
            if (child.len == 0) break; // the walk ended in this node: found or proven absent
            (err, node) = _resolve(child, proof, cursor);
            if (err != OK) return (err, false, value);
        }
        if (cursor.next != proof.length) return (ERR_TRAILING, false, value);
    }

    /// @dev A branch either ends the walk (an empty slot: absent) or hands on the child to visit.
    function _branch(RLP.RLPItem[] memory items, Cursor memory cursor)
        private
        pure
        returns (uint256 err, RLP.RLPItem memory child)
    {
        // All paths are 64 nibbles, so no path ends at a branch and no branch holds a value.
        if (cursor.nibble == PATH_NIBBLES || !_isEmptyString(items[16])) return (ERR_MALFORMED, child);
        RLP.RLPItem memory slot = items[_pathNibble(cursor.path, cursor.nibble)];
        cursor.nibble++;
        if (!_isEmptyString(slot)) child = slot;
    }

    /// @dev A leaf or an extension, told apart by the hex-prefix flag of its first item.
    function _shortNode(RLP.RLPItem[] memory items, Cursor memory cursor)
        private
        pure
        returns (uint256 err, bool found, RLP.RLPItem memory value, RLP.RLPItem memory child)
    {
        (uint256 keyErr, bool leaf, bool matches, uint256 keyNibbles) = _hexPrefixKey(items[0], cursor);
        if (keyErr != OK) return (keyErr, false, value, child);
        if (leaf) {
            // A leaf that does not hold exactly the rest of our path stores another key:
            // ours is absent.
            if (!matches || cursor.nibble + keyNibbles != PATH_NIBBLES) return (OK, false, value, child);
            value = items[1];
            if (value.isList()) return (ERR_MALFORMED, false, value, child);
            (, uint256 len) = value.payload();
            if (len == 0) return (ERR_MALFORMED, false, value, child); // tries never store ""
            cursor.nibble = PATH_NIBBLES;
            return (OK, true, value, child);
        }
        if (keyNibbles == 0 || _isEmptyString(items[1])) return (ERR_MALFORMED, false, value, child);
        if (!matches) return (OK, false, value, child);
        cursor.nibble += keyNibbles;
        child = items[1];
    }

    /// @dev Decodes a hex-prefix key and compares it with the path from the cursor on.
    function _hexPrefixKey(RLP.RLPItem memory key, Cursor memory cursor)
        private
        pure
        returns (uint256 err, bool leaf, bool matches, uint256 keyNibbles)
    {
        if (key.isList()) return (ERR_MALFORMED, false, false, 0);
        (uint256 keyPtr, uint256 keyLen) = key.payload();
        if (keyLen == 0) return (ERR_HEX_PREFIX, false, false, 0);
        uint256 first;
        assembly ("memory-safe") {
            first := byte(0, mload(keyPtr))
        }
        uint256 flag = first >> 4;
        // Flags: 0 extension/even, 1 extension/odd, 2 leaf/even, 3 leaf/odd; an even key pads
        // its first byte with a zero nibble.
        if (flag > 3 || (flag & 1 == 0 && first & 0x0f != 0)) return (ERR_HEX_PREFIX, false, false, 0);
        leaf = flag >= 2;
        uint256 odd = flag & 1;
        keyNibbles = 2 * (keyLen - 1) + odd;
        matches = _keyMatches(keyPtr, 2 - odd, keyNibbles, cursor);
    }

    /// @dev The node a branch slot or an extension points at: embedded (a list under 32 bytes)
    ///      or the next proof element, whose hash must equal the 32-byte reference.
    function _resolve(RLP.RLPItem memory ref, bytes[] memory proof, Cursor memory cursor)
        private
        pure
        returns (uint256 err, RLP.RLPItem memory node)
    {
        if (ref.isList()) {
            if (ref.len >= 32) return (ERR_CHILD, node);
            if (cursor.next < proof.length && keccak256(proof[cursor.next]) == ref.rlpHash()) cursor.next++;
            return (OK, ref);
        }
        (uint256 ptr, uint256 len) = ref.payload();
        if (len != 32) return (ERR_CHILD, node);
        if (cursor.next == proof.length) return (ERR_SHORT, node);
        bytes32 expected;
        assembly ("memory-safe") {
            expected := mload(ptr)
        }
        bytes memory encoded = proof[cursor.next];
        if (keccak256(encoded) != expected) return (ERR_HASH, node);
        cursor.next++;
        bool ok;
        (ok, node) = RLP.tryToItem(encoded);
        if (!ok) return (ERR_MALFORMED, node);
    }

    /// @dev Whether the hex-prefix key (nibbles from `start`, counted within its bytes) equals
    ///      the path from the cursor on.
    function _keyMatches(uint256 keyPtr, uint256 start, uint256 keyNibbles, Cursor memory cursor)
        private
        pure
        returns (bool)
    {
        if (cursor.nibble + keyNibbles > PATH_NIBBLES) return false;
        for (uint256 i = 0; i < keyNibbles; i++) {
            uint256 at = start + i;
            uint256 b;
            assembly ("memory-safe") {
                b := byte(0, mload(add(keyPtr, shr(1, at))))
            }
            uint256 keyNibble = at & 1 == 0 ? b >> 4 : b & 0x0f;
            if (keyNibble != _pathNibble(cursor.path, cursor.nibble + i)) return false;
        }
        return true;
    }

    function _pathNibble(bytes32 path, uint256 index) private pure returns (uint256) {
        uint256 b = uint8(path[index >> 1]);
        return index & 1 == 0 ? b >> 4 : b & 0x0f;
    }

    function _isEmptyString(RLP.RLPItem memory item) private pure returns (bool) {
        if (item.isList()) return false;
        (, uint256 len) = item.payload();
        return len == 0 && item.len == 1;
    }

    function _check(uint256 err) private pure {
        if (err == OK) return;
        if (err == ERR_EMPTY_PROOF) revert("MPT: empty proof for a non-empty root");
        if (err == ERR_HASH) revert("MPT: node hash mismatch");
        if (err == ERR_MALFORMED) revert("MPT: malformed node");
        if (err == ERR_SHORT) revert("MPT: proof ends early");
        if (err == ERR_TRAILING) revert("MPT: unused proof nodes");
        if (err == ERR_CHILD) revert("MPT: bad child reference");
        revert("MPT: bad hex-prefix key");
    }
}
