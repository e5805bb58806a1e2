// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import "../lib/EIP20Interface.sol";

/// @title OSTGateway
/// @notice Locks OST on origin for base coin on the auxiliary chain. A stake records its message
///         hash in `stakedMessages`; `OSTPrime` on the auxiliary chain releases the same amount
///         of base coin to the beneficiary after proving that storage entry against an origin
///         state root. All value stays here, on origin.
/// @dev `stakedMessages` must stay the first state variable (slot 0) and the contract must
///      inherit no state: the auxiliary chain proves `keccak256(abi.encode(messageHash, 0))`.
contract OSTGateway {
    /// @notice Storage slot 0 (see the contract's dev note).
    mapping(bytes32 => bool) public stakedMessages;
    /// @notice The nonce the staker's next stake must carry.
    mapping(address => uint256) public nonces;

    bytes32 public constant STAKE_TYPEHASH =
        keccak256("Stake(address gateway,uint256 amount,address beneficiary,address staker,uint256 nonce)");

    EIP20Interface public immutable token;
    /// @notice The `OriginCore` of the meta-blockchain this gateway serves.
    address public immutable core;

    event StakeIntentDeclared(
        bytes32 indexed messageHash, address indexed staker, address indexed beneficiary, uint256 amount, uint256 nonce
    );

    constructor(address token_, address core_) {
        require(token_ != address(0), "OSTGateway: token is zero");
        require(core_ != address(0), "OSTGateway: core is zero");
        token = EIP20Interface(token_);
        core = core_;
    }

    /// @notice Pulls `amount` OST from the caller (approve this gateway first) and records the
    ///         stake for `beneficiary` on the auxiliary chain.
    /// @param nonce Must equal `nonces(msg.sender)`: the caller states which stake it means, so
    ///        a resent transaction cannot stake twice.
    function stake(uint256 amount, address beneficiary, uint256 nonce) external returns (bytes32 hash) {
        require(amount > 0, "OSTGateway: amount is zero");
        require(beneficiary != address(0), "OSTGateway: beneficiary is zero");
        require(nonce == nonces[msg.sender], "OSTGateway: wrong nonce");
        require(token.allowance(msg.sender, address(this)) >= amount, "OSTGateway: allowance too low");

        hash = messageHash(msg.sender, amount, beneficiary, nonce);
        nonces[msg.sender] = nonce + 1;
        stakedMessages[hash] = true;
        emit StakeIntentDeclared(hash, msg.sender, beneficiary, amount, nonce);

        require(token.transferFrom(msg.sender, address(this), amount), "OSTGateway: transfer failed");
    }

    function messageHash(address staker, uint256 amount, address beneficiary, uint256 nonce)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(STAKE_TYPEHASH, address(this), amount, beneficiary, staker, nonce));
    }
}
