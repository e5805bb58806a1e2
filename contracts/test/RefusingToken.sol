// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title RefusingToken
/// @notice An ERC20 stand-in whose `transferFrom` returns false instead of reverting, as some
///         tokens do; lets tests reach the "transfer failed" guards of `Stake` and `OSTGateway`.
contract RefusingToken {
    function balanceOf(address) external pure returns (uint256) {
        return type(uint256).max;
    }

    function allowance(address, address) external pure returns (uint256) {
        return type(uint256).max;
    }

    function transferFrom(address, address, uint256) external pure returns (bool) {
        return false;
    }
}
