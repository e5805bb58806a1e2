// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {PollingPlace} from "./PollingPlace.sol";

/// @title ProposerSet
/// @notice Who seals auxiliary blocks, as the validator-set contract of an Aura chain
///         (OpenEthereum/Nethermind "safeContract": `getValidators`, `finalizeChange`,
///         `InitiateChange`). It starts with the initial proposer alone, which bootstraps the
///         chain; one `handOver` replaces it with the staked validators' auxiliary addresses,
///         for good.
/// @dev The initial proposer's only privilege anywhere in the auxiliary contracts is this
///      handover (and, off-chain, its sealing slot until the handover takes effect): block
///      reports are open to anyone, proofs authenticate themselves, and justification needs
///      2/3 of the proven stake. After `handOver` nothing can ever give it rights again.
///
///      Semantics of the set: `getValidators` returns the newest set as soon as it is signalled
///      with `InitiateChange`. A node enacts a signalled set once the signalling block is final
///      and then calls `finalizeChange` as the SYSTEM address; `finalized` says whether that has
///      happened. A chain whose client never calls it (anvil on a devnet) therefore still lists
///      the validators after the handover, and an Aura client that re-reads the contract reads
///      the set it has been told to enact.
contract ProposerSet {
    /// @notice The address OpenEthereum and Nethermind send system calls from.
    address public constant SYSTEM = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;

    address public immutable initialProposer;
    PollingPlace public immutable pollingPlace;

    address[] private proposers;
    /// @notice True once the initial proposer handed over to the validators.
    bool public handedOver;
    /// @notice False between `InitiateChange` and the client's `finalizeChange`.
    bool public finalized = true;

    event InitiateChange(bytes32 indexed _parentHash, address[] _newSet);
    event ChangeFinalized(address[] currentSet);

    /// @param initialProposer_ The bootstrap sealer (a parameter, not `msg.sender`, so the
    ///        contract can also be placed in an Aura genesis by the chain spec).
    /// @param pollingPlace_ `PollingPlace`, whose proven validators are the only set this hands over to.
    constructor(address initialProposer_, address pollingPlace_) {
        require(initialProposer_ != address(0) && pollingPlace_ != address(0), "ProposerSet: zero address");
        initialProposer = initialProposer_;
        pollingPlace = PollingPlace(pollingPlace_);
        proposers.push(initialProposer_);
    }

    /// @notice The initial proposer hands block proposal to the validators `PollingPlace`
    ///         holds (passed explicitly, in `PollingPlace.getValidators()` order, so the
    ///         transaction states what it does). Once only.
    function handOver(address[] calldata validators) external {
        require(msg.sender == initialProposer, "ProposerSet: only initial proposer");
        require(!handedOver, "ProposerSet: already handed over");
        (address[] memory staked,) = pollingPlace.getValidators();
        require(staked.length > 0, "ProposerSet: no proven validators");
        require(_equal(validators, staked), "ProposerSet: not the polling place validators");
        handedOver = true;
        finalized = false;
        proposers = validators;
        emit InitiateChange(blockhash(block.number - 1), validators);
    }

    /// @notice Called by the Aura client (as SYSTEM) once the signalled set is enacted.
    function finalizeChange() external {
        require(msg.sender == SYSTEM, "ProposerSet: only system");
        require(!finalized, "ProposerSet: no pending change");
        finalized = true;
        emit ChangeFinalized(proposers);
    }

    function getValidators() external view returns (address[] memory) {
        return proposers;
    }

    function _equal(address[] calldata a, address[] memory b) private pure returns (bool) {
        if (a.length != b.length) return false;
        for (uint256 i = 0; i < a.length; i++) {
            if (a[i] != b[i]) return false;
        }
        return true;
    }
}
