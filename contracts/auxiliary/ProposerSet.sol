// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {PollingPlace} from "./PollingPlace.sol";

/// @title ProposerSet
/// @notice Who seals auxiliary blocks: the validator-set contract an AuRa chain spec names as its
///         `safeContract` from block 0 (Nethermind's `ContractBasedValidator`, OpenEthereum's
///         `SafeContract`). It lives in the auxiliary genesis with the initial proposer as its only
///         member; one `handOver` signals the staked validators' auxiliary addresses, for good, and
///         `followKernel` later signals whatever set the newest proven kernel holds.
/// @dev The calls, as the engines make them:
///      - `getValidators()` is read against a block's parent state; it returns the last
///        *finalized* set, never a pending one.
///      - `InitiateChange(parentHash, newSet)` signals a change; the engine enacts it once the
///        signalling block is final and then calls `finalizeChange()` as SYSTEM. It ignores a
///        signal while another is pending, so this contract never emits one then.
///      - `finalizeChange()` is also called once when the contract is first enabled (Nethermind:
///        at block 1, its init block), with nothing signalled. It finalizes what is pending and is
///        a no-op otherwise: it never reverts for SYSTEM, so clients that treat a reverted system
///        call differently (OpenEthereum rolls it back, Nethermind keeps the state) still agree.
///        It costs the same whatever the size of the set (a pointer moves; nothing is copied): a
///        client gives a system call a fixed gas budget (Nethermind: 1,600,000).
contract ProposerSet {
    /// @notice The address OpenEthereum and Nethermind send system calls from.
    address public constant SYSTEM = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;

    address public immutable initialProposer;
    PollingPlace public immutable pollingPlace;

    /// @dev Every set ever signalled, by id (1 = the initial proposer alone). Only ids move.
    mapping(uint256 => address[]) private sets;
    uint256 private setCount;
    uint256 private currentSet;
    uint256 private pendingSet; // 0: none
    /// @notice True once the initial proposer handed over to the validators.
    bool public handedOver;
    /// @notice False while a signalled set waits for the engine's `finalizeChange`, and before the
    ///         first `finalizeChange` that enables the contract.
    bool public finalized;

    event InitiateChange(bytes32 indexed _parentHash, address[] _newSet);
    event ChangeFinalized(uint256 indexed setId);

    /// @param initialProposer_ The bootstrap sealer (a parameter, not `msg.sender`: the contract is
    ///        built for the genesis on a throwaway chain).
    /// @param pollingPlace_ `PollingPlace`, whose proven validators are the only sets this signals.
    constructor(address initialProposer_, address pollingPlace_) {
        require(initialProposer_ != address(0) && pollingPlace_ != address(0), "ProposerSet: zero address");
        initialProposer = initialProposer_;
        pollingPlace = PollingPlace(pollingPlace_);
        setCount = 1;
        currentSet = 1;
        sets[1].push(initialProposer_);
    }

    /// @notice The initial proposer hands block proposal to the validators `PollingPlace` holds
    ///         (passed explicitly, in `PollingPlace.getValidators()` order, so the transaction
    ///         states what it does). Once only, and only after the engine enabled the contract.
    function handOver(address[] calldata validators) external {
        require(msg.sender == initialProposer, "ProposerSet: only initial proposer");
        require(!handedOver, "ProposerSet: already handed over");
        require(finalized, "ProposerSet: not enabled by the engine yet");
        (address[] memory staked,) = pollingPlace.getValidators();
        require(staked.length > 0, "ProposerSet: no proven validators");
        require(_equal(validators, staked), "ProposerSet: not the polling place validators");
        handedOver = true;
        _initiate(staked);
    }

    /// @notice Anyone may call this once the active kernel's validators (`PollingPlace`) differ
    ///         from the finalized set: it signals them with `InitiateChange`. Reverts when there is
    ///         nothing to signal (before the hand-over, while a change is pending, or when the sets
    ///         are equal); `kernelSetDiffers()` says beforehand whether a call would go through.
    function followKernel() external {
        require(kernelSetDiffers(), "ProposerSet: nothing to follow");
        (address[] memory staked,) = pollingPlace.getValidators();
        _initiate(staked);
    }

    /// @notice Whether `followKernel` would signal a new set now.
    function kernelSetDiffers() public view returns (bool) {
        if (!handedOver || !finalized) return false;
        (address[] memory staked,) = pollingPlace.getValidators();
        return staked.length > 0 && !_sameSet(staked, sets[currentSet]);
    }

    /// @notice Called by the AuRa engine (as SYSTEM) when the contract is enabled and once a
    ///         signalled set is enacted.
    function finalizeChange() external {
        require(msg.sender == SYSTEM, "ProposerSet: only system");
        if (finalized) return;
        if (pendingSet != 0) {
            currentSet = pendingSet;
            pendingSet = 0;
        }
        finalized = true;
        emit ChangeFinalized(currentSet);
    }

    /// @notice The last finalized set: who may seal the next block.
    function getValidators() external view returns (address[] memory) {
        return sets[currentSet];
    }

    /// @notice The signalled set waiting for `finalizeChange` (empty when none).
    function getPendingValidators() external view returns (address[] memory) {
        address[] memory none;
        return pendingSet == 0 ? none : sets[pendingSet];
    }

    function _initiate(address[] memory validators) private {
        setCount += 1;
        sets[setCount] = validators;
        pendingSet = setCount;
        finalized = false;
        emit InitiateChange(blockhash(block.number - 1), validators);
    }

    function _equal(address[] calldata a, address[] memory b) private pure returns (bool) {
        if (a.length != b.length) return false;
        for (uint256 i = 0; i < a.length; i++) {
            if (a[i] != b[i]) return false;
        }
        return true;
    }

    function _sameSet(address[] memory a, address[] storage b) private view returns (bool) {
        if (a.length != b.length) return false;
        for (uint256 i = 0; i < a.length; i++) {
            if (a[i] != b[i]) return false;
        }
        return true;
    }
}
