// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import "../lib/MetaBlock.sol";

/// @title MetaBlockHarness
/// @notice Exposes the internal MetaBlock library so tests can compare every hash with the
///         Python engine's and hit the signature checks directly. Never deployed in production.
contract MetaBlockHarness {
    function domainSeparator(uint256 chainId, address verifyingContract) external pure returns (bytes32) {
        return MetaBlock.domainSeparator(chainId, verifyingContract);
    }

    function hashKernel(
        uint256 height,
        bytes32 parent,
        address[] calldata updatedValidators,
        uint256[] calldata updatedWeights
    ) external pure returns (bytes32) {
        return MetaBlock.hashKernel(height, parent, updatedValidators, updatedWeights);
    }

    function hashTransition(MetaBlock.Transition calldata transition) external pure returns (bytes32) {
        return MetaBlock.hashTransition(transition);
    }

    function hashVote(MetaBlock.Vote calldata vote) external pure returns (bytes32) {
        return MetaBlock.hashVote(vote);
    }

    function digest(bytes32 domainSeparator_, bytes32 structHash) external pure returns (bytes32) {
        return MetaBlock.digest(domainSeparator_, structHash);
    }

    function hasSupermajority(uint256 weight, uint256 total) external pure returns (bool) {
        return MetaBlock.hasSupermajority(weight, total);
    }

    function recoverSigner(bytes32 digest_, uint8 v, bytes32 r, bytes32 s) external pure returns (address) {
        return MetaBlock.recoverSigner(digest_, v, r, s);
    }
}
