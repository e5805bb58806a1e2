// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title StatusReader
/// @notice Never deployed: the validator monitor (`mosaic_tui/monitor.py`) sends this contract's
///         creation code with its arguments as an `eth_call` without `to`, pinned to the block it
///         reads. The constructor makes, for every row of accounts, the same view calls and balance
///         reads the monitor would otherwise send one JSON-RPC request each for, and returns all
///         the values at once as the creation's return data (which a node returns to `eth_call`
///         instead of storing it as code). Nothing is written: an `eth_call` changes no state.
/// @dev Return data, raw (not ABI-encoded), so that a client slices it without a decoder:
///      - one 32-byte word: the number of rows (so the data never starts with 0xEF, EIP-3541);
///      - per row, per read, in order: the value as 16 bytes (uint128, big-endian).
///      A value that is not read here is `type(uint128).max`: a call that reverted, answered with
///      other than exactly one word (an account without code answers nothing), or a value of
///      2^128 - 1 or more. The monitor reads those cells again one request each, so what it shows
///      is always what the per-value reads answer.
///      The return data is a creation's code, so it is bounded by EIP-170 (24,576 bytes) and costs
///      200 gas a byte; the caller sizes its chunks of rows for both (`monitor.py`).
contract StatusReader {
    /// @notice One value per row. `target == address(0)`: the balance of the row's account;
    ///         otherwise `target.staticcall(selector ‖ [argument] ‖ account)`, whose one-word answer
    ///         is the value. `account` picks the row's account (rows have `width` accounts each).
    struct Read {
        address target;
        bytes4 selector;
        bool withArgument;
        uint256 argument;
        uint8 account;
    }

    uint256 private constant UNREAD = 0xffffffffffffffffffffffffffffffff; // type(uint128).max

    /// @param reads What to read for every row.
    /// @param width How many accounts each row has.
    /// @param accounts All rows' accounts, 20 bytes each, packed, row after row.
    constructor(Read[] memory reads, uint256 width, bytes memory accounts) {
        require(width > 0 && accounts.length % (20 * width) == 0, "StatusReader: bad accounts");
        uint256 rows = accounts.length / (20 * width);
        uint256 cells = rows * reads.length;
        bytes memory out = new bytes(32 + 16 * cells);
        assembly {
            mstore(add(out, 32), rows)
        }
        uint256 cell;
        for (uint256 row; row < rows; ++row) {
            for (uint256 r; r < reads.length; ++r) {
                Read memory read = reads[r];
                require(read.account < width, "StatusReader: bad account index");
                address account = _account(accounts, row * width + read.account);
                uint256 value = read.target == address(0) ? account.balance : _call(read, account);
                if (value > UNREAD) {
                    value = UNREAD;
                }
                assembly {
                    // The value's 16 bytes, then 16 zero bytes the next cell overwrites (past the
                    // last cell they land in unallocated memory).
                    mstore(add(add(out, 64), mul(cell, 16)), shl(128, value))
                }
                ++cell;
            }
        }
        assembly {
            return(add(out, 32), mload(out))
        }
    }

    function _account(bytes memory accounts, uint256 index) private pure returns (address account) {
        assembly {
            account := shr(96, mload(add(add(accounts, 32), mul(index, 20))))
        }
    }

    /// The call's one-word answer, or UNREAD when it reverts or answers anything else.
    function _call(Read memory read, address account) private view returns (uint256 value) {
        address target = read.target;
        bytes4 selector = read.selector;
        bool withArgument = read.withArgument;
        uint256 argument = read.argument;
        assembly {
            // The call data is built above the free memory pointer and not kept.
            let data := mload(0x40)
            mstore(data, selector)
            let length := 36
            switch withArgument
            case 0 {
                mstore(add(data, 4), account)
            }
            default {
                mstore(add(data, 4), argument)
                mstore(add(data, 36), account)
                length := 68
            }
            let ok := staticcall(gas(), target, data, length, 0, 32)
            value := UNREAD
            if and(ok, eq(returndatasize(), 32)) {
                value := mload(0)
            }
        }
    }
}
