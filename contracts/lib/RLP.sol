// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title RLP
/// @notice Strict decoding of Recursive Length Prefix data held in memory. Block headers, account
///         leaves and Merkle-Patricia nodes reach the contracts as RLP; a decoder that accepted
///         non-canonical or overlong encodings would let two different byte strings stand for the
///         same value, so every length is checked against the canonical form.
/// @dev An `RLPItem` points into the `bytes` it was decoded from (no copy). Items only come out of
///      `toItem`/`tryToItem`/`toList`/`tryToList`, which have validated their header and bounds;
///      the accessors rely on that. The `try*` variants report failure instead of reverting, for
///      callers (like a proof verifier) that must never revert on bad input.
library RLP {
    struct RLPItem {
        uint256 len; // length of the whole encoding (prefix + payload)
        uint256 memPtr; // memory address of the first prefix byte
    }

    uint256 private constant OK = 0;
    uint256 private constant ERR_EMPTY = 1;
    uint256 private constant ERR_BOUNDS = 2;
    uint256 private constant ERR_LENGTH = 3;
    uint256 private constant ERR_SINGLE_BYTE = 4;
    uint256 private constant ERR_TRAILING = 5;
    uint256 private constant ERR_NOT_LIST = 6;

    // ------------------------------------------------------------------ decoding

    /// @notice The single RLP item that `data` encodes; reverts unless `data` is exactly one item.
    function toItem(bytes memory data) internal pure returns (RLPItem memory item) {
        uint256 err;
        (err, item) = _toItem(data);
        _check(err);
    }

    /// @notice Like `toItem` but returns `ok = false` instead of reverting.
    function tryToItem(bytes memory data) internal pure returns (bool ok, RLPItem memory item) {
        uint256 err;
        (err, item) = _toItem(data);
        ok = err == OK;
    }

    /// @notice The items of a list; reverts if `item` is not a well-formed list.
    function toList(RLPItem memory item) internal pure returns (RLPItem[] memory items) {
        uint256 err;
        (err, items) = _toList(item);
        _check(err);
    }

    /// @notice Like `toList` but returns `ok = false` instead of reverting.
    function tryToList(RLPItem memory item) internal pure returns (bool ok, RLPItem[] memory items) {
        uint256 err;
        (err, items) = _toList(item);
        ok = err == OK;
    }

    // ------------------------------------------------------------------ accessors

    function isList(RLPItem memory item) internal pure returns (bool result) {
        uint256 ptr = item.memPtr;
        assembly ("memory-safe") {
            result := iszero(lt(byte(0, mload(ptr)), 0xc0))
        }
    }

    /// @notice Memory address and length of the payload (the bytes after the prefix).
    function payload(RLPItem memory item) internal pure returns (uint256 ptr, uint256 len) {
        uint256 offset = _payloadOffset(item.memPtr);
        ptr = item.memPtr + offset;
        len = item.len - offset;
    }

    /// @notice The whole encoding of the item, prefix included (a copy).
    function toRlpBytes(RLPItem memory item) internal pure returns (bytes memory) {
        return _copy(item.memPtr, item.len);
    }

    /// @notice keccak256 of the whole encoding, without copying it.
    function rlpHash(RLPItem memory item) internal pure returns (bytes32 result) {
        uint256 ptr = item.memPtr;
        uint256 len = item.len;
        assembly ("memory-safe") {
            result := keccak256(ptr, len)
        }
    }

    /// @notice The payload of a string item (a copy).
    function toBytes(RLPItem memory item) internal pure returns (bytes memory) {
        require(!isList(item), "RLP: not a string");
        (uint256 ptr, uint256 len) = payload(item);
        return _copy(ptr, len);
    }

    /// @notice A canonical big-endian unsigned integer: at most 32 bytes, no leading zero byte
    ///         (zero itself is the empty string 0x80).
    function toUint(RLPItem memory item) internal pure returns (uint256 result) {
        require(!isList(item), "RLP: not a string");
        (uint256 ptr, uint256 len) = payload(item);
        require(len <= 32, "RLP: uint longer than 32 bytes");
        if (len == 0) return 0;
        assembly ("memory-safe") {
            result := mload(ptr)
        }
        require(result >> 248 != 0, "RLP: uint with leading zero");
        result >>= 8 * (32 - len);
    }

    function toAddress(RLPItem memory item) internal pure returns (address result) {
        require(!isList(item), "RLP: not a string");
        (uint256 ptr, uint256 len) = payload(item);
        require(len == 20, "RLP: address is not 20 bytes");
        assembly ("memory-safe") {
            result := shr(96, mload(ptr))
        }
    }

    function toBytes32(RLPItem memory item) internal pure returns (bytes32 result) {
        require(!isList(item), "RLP: not a string");
        (uint256 ptr, uint256 len) = payload(item);
        require(len == 32, "RLP: bytes32 is not 32 bytes");
        assembly ("memory-safe") {
            result := mload(ptr)
        }
    }

    // ------------------------------------------------------------------ internals

    function _toItem(bytes memory data) private pure returns (uint256 err, RLPItem memory item) {
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(data, 32)
        }
        uint256 len;
        (err, len) = _itemLength(ptr, data.length);
        if (err == OK && len != data.length) err = ERR_TRAILING;
        item = RLPItem(len, ptr);
    }

    function _toList(RLPItem memory item) private pure returns (uint256 err, RLPItem[] memory items) {
        if (!isList(item)) return (ERR_NOT_LIST, items);
        (uint256 start, uint256 len) = payload(item);
        uint256 end = start + len;
        // First pass validates every element and counts them, so the array is allocated once.
        uint256 count;
        uint256 ptr = start;
        uint256 itemLen;
        while (ptr < end) {
            (err, itemLen) = _itemLength(ptr, end - ptr);
            if (err != OK) return (err, items);
            ptr += itemLen;
            count++;
        }
        items = new RLPItem[](count);
        ptr = start;
        for (uint256 i = 0; i < count; i++) {
            (, itemLen) = _itemLength(ptr, end - ptr);
            items[i] = RLPItem(itemLen, ptr);
            ptr += itemLen;
        }
    }

    /// @dev Total length of the item starting at `ptr`, which must fit in `available` bytes.
    function _itemLength(uint256 ptr, uint256 available) private pure returns (uint256 err, uint256 len) {
        if (available == 0) return (ERR_EMPTY, 0);
        uint256 b0;
        uint256 b1;
        assembly ("memory-safe") {
            let word := mload(ptr)
            b0 := byte(0, word)
            b1 := byte(1, word)
        }
        if (b0 < 0x80) return (OK, 1);
        if (b0 < 0xb8 || (b0 >= 0xc0 && b0 < 0xf8)) {
            uint256 payloadLen = b0 < 0xb8 ? b0 - 0x80 : b0 - 0xc0;
            if (payloadLen >= available) return (ERR_BOUNDS, 0);
            // A single byte below 0x80 is its own encoding; a prefixed form would be a second
            // encoding of the same value.
            if (b0 == 0x81 && b1 < 0x80) return (ERR_SINGLE_BYTE, 0);
            return (OK, 1 + payloadLen);
        }
        uint256 lenOfLen = b0 < 0xc0 ? b0 - 0xb7 : b0 - 0xf7; // 1..8
        if (lenOfLen >= available) return (ERR_BOUNDS, 0);
        if (b1 == 0) return (ERR_LENGTH, 0); // length with a leading zero byte
        uint256 longLen;
        assembly ("memory-safe") {
            longLen := shr(mul(8, sub(32, lenOfLen)), mload(add(ptr, 1)))
        }
        if (longLen < 56) return (ERR_LENGTH, 0); // should have used the short form
        // lenOfLen <= 8, so longLen < 2**64 and the sums below cannot overflow.
        if (longLen > available - 1 - lenOfLen) return (ERR_BOUNDS, 0);
        return (OK, 1 + lenOfLen + longLen);
    }

    /// @dev Prefix length of an item whose header has already been validated.
    function _payloadOffset(uint256 ptr) private pure returns (uint256) {
        uint256 b0;
        assembly ("memory-safe") {
            b0 := byte(0, mload(ptr))
        }
        if (b0 < 0x80) return 0;
        if (b0 < 0xb8) return 1;
        if (b0 < 0xc0) return 1 + b0 - 0xb7;
        if (b0 < 0xf8) return 1;
        return 1 + b0 - 0xf7;
    }

    function _copy(uint256 src, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            let dst := add(out, 32)
            for { let i := 0 } lt(i, len) { i := add(i, 32) } {
                mstore(add(dst, i), mload(add(src, i)))
            }
            // The last word copied may carry bytes past `len`; Solidity expects zero padding.
            mstore(add(dst, len), 0)
        }
    }

    function _check(uint256 err) private pure {
        if (err == OK) return;
        if (err == ERR_EMPTY) revert("RLP: empty input");
        if (err == ERR_BOUNDS) revert("RLP: length exceeds input");
        if (err == ERR_LENGTH) revert("RLP: non-canonical length");
        if (err == ERR_SINGLE_BYTE) revert("RLP: non-canonical single byte");
        if (err == ERR_TRAILING) revert("RLP: trailing bytes");
        revert("RLP: not a list");
    }
}
