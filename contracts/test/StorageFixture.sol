// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title StorageFixture
/// @notice Test-only: a contract whose storage the proof tests read back through eth_getProof —
///         a plain slot (0), a mapping (slot 1) and a bytes32-keyed mapping (slot 2), laid out
///         like the slots the auxiliary chain proves on origin.
contract StorageFixture {
    bytes32 public plain;
    mapping(address => uint256) public balances;
    mapping(bytes32 => bool) public recorded;

    function setPlain(bytes32 value) external {
        plain = value;
    }

    function setBalance(address owner, uint256 value) external {
        balances[owner] = value;
    }

    function record(bytes32 key) external {
        recorded[key] = true;
    }
}
