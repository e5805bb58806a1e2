// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title EIP20Interface
/// @notice The part of ERC20 that the origin contracts call to pull OST (`Stake`, `OSTGateway`),
///         so they work with the real OST token as well as the devnet `EIP20Token`.
interface EIP20Interface {
    function balanceOf(address owner) external view returns (uint256);

    function allowance(address owner, address spender) external view returns (uint256);

    function transferFrom(address from, address to, uint256 value) external returns (bool);
}
