// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MetaBlock} from "../lib/MetaBlock.sol";
import {AuxiliaryBlockStore} from "./AuxiliaryBlockStore.sol";
import {BlockStore} from "./BlockStore.sol";

/// @title PollingPlace
/// @notice Where the staked validators vote on checkpoints of both chains. A vote is an EIP-712
///         signature (domain "Mosaic"/"0", this chain, this contract) by a validator's auxiliary
///         key; once the signers of one vote hold 2/3 of the weight, the block store of the chain
///         the vote names justifies the target. Validators and weights come only from kernels
///         that `KernelGateway` proved opened in `OriginCore`.
/// @dev Votes are tallied per meta-block (kernel height) and vote hash, so a kernel that changes
///      the weights starts fresh tallies under the new weights. Each validator's target heights
///      must strictly increase per chain: it can neither be counted twice for a vote nor cast
///      two votes for the same height (Casper's first slashing condition, enforced outright).
///      The transition hash is signed and tallied but not checked here: `OriginCore` checks it
///      when the meta-block is committed on origin.
contract PollingPlace {
    bytes20 public immutable originCoreIdentifier;
    bytes20 public immutable auxiliaryCoreIdentifier;
    BlockStore public immutable originBlockStore;
    AuxiliaryBlockStore public immutable auxiliaryBlockStore;
    address public immutable kernelGateway;

    /// @dev A validator's weight and its place in `validators` share one slot.
    struct Entry {
        uint96 weight;
        uint160 positionPlusOne;
    }

    address[] private validators;
    mapping(address => Entry) private entries;
    uint256 public totalWeight;
    /// @notice Height of the kernel that set the current validators.
    uint256 public metaBlockHeight;
    /// @notice True while `KernelGateway` applies a kernel in parts: no vote counts until the
    ///         whole kernel is applied, so 2/3 is never taken of a half-updated set.
    bool public updating;

    mapping(bytes20 => mapping(address => uint256)) public lastTargetHeight;
    mapping(bytes32 => uint256) private tallies;

    event MetaBlockUpdated(uint256 indexed height, bytes32 kernelHash, uint256 validatorCount, uint256 totalWeight);
    event VoteCounted(address indexed validator, bytes32 indexed voteHash, uint256 tally, uint256 totalWeight);

    /// @param originCoreIdentifier_ Names the origin chain in votes (votes go to `originBlockStore`).
    /// @param auxiliaryCoreIdentifier_ This meta-blockchain's core identifier (votes go to
    ///        `auxiliaryBlockStore`).
    constructor(
        bytes20 originCoreIdentifier_,
        bytes20 auxiliaryCoreIdentifier_,
        address originBlockStore_,
        address auxiliaryBlockStore_,
        address kernelGateway_
    ) {
        require(originCoreIdentifier_ != auxiliaryCoreIdentifier_, "PollingPlace: core identifiers must differ");
        require(
            originBlockStore_ != address(0) && auxiliaryBlockStore_ != address(0) && kernelGateway_ != address(0),
            "PollingPlace: zero address"
        );
        originCoreIdentifier = originCoreIdentifier_;
        auxiliaryCoreIdentifier = auxiliaryCoreIdentifier_;
        originBlockStore = BlockStore(originBlockStore_);
        auxiliaryBlockStore = AuxiliaryBlockStore(auxiliaryBlockStore_);
        kernelGateway = kernelGateway_;
    }

    /// @notice Applies a proven kernel: each updated validator gets its new weight (weight 0
    ///         removes it), and the auxiliary block store learns the active kernel.
    /// @dev `KernelGateway` checked the arrays (equal lengths) and that `OriginCore` opened them.
    function updateMetaBlock(
        address[] calldata updatedValidators,
        uint256[] calldata updatedWeights,
        uint256 kernelHeight,
        bytes32 kernelHash
    ) external {
        require(msg.sender == kernelGateway, "PollingPlace: only kernel gateway");
        uint256 total = _setWeights(updatedValidators, updatedWeights);
        metaBlockHeight = kernelHeight;
        if (updating) updating = false;
        auxiliaryBlockStore.activateKernel(kernelHash);
        emit MetaBlockUpdated(kernelHeight, kernelHash, validators.length, total);
    }

    /// @notice Applies one part of a kernel that `KernelGateway` brings over in parts; the last
    ///         part comes through `updateMetaBlock`. Votes wait until then.
    function updateMetaBlockPart(address[] calldata updatedValidators, uint256[] calldata updatedWeights) external {
        require(msg.sender == kernelGateway, "PollingPlace: only kernel gateway");
        if (!updating) updating = true;
        _setWeights(updatedValidators, updatedWeights);
    }

    /// @notice The weight `validator` (an auxiliary address) votes with; 0 if it is none.
    function weightOf(address validator) external view returns (uint256) {
        return entries[validator].weight;
    }

    /// @notice Counts one validator's signed vote for the link `source -> target` on the chain
    ///         that `coreIdentifier` names; justifies `target` when the vote reaches 2/3.
    function vote(
        bytes20 coreIdentifier,
        bytes32 transitionHash,
        bytes32 source,
        bytes32 target,
        uint256 sourceHeight,
        uint256 targetHeight,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        MetaBlock.Vote memory ballot =
            MetaBlock.Vote(coreIdentifier, transitionHash, source, target, sourceHeight, targetHeight);
        _count(ballot, v, r, s);
    }

    /// @notice The EIP-712 domain separator votes are signed under.
    function domainSeparator() public view returns (bytes32) {
        return MetaBlock.domainSeparator(block.chainid, address(this));
    }

    /// @notice Weight that has voted for `voteHash` under the current meta-block.
    function voteWeight(bytes32 voteHash) external view returns (uint256) {
        return tallies[_tallyKey(voteHash)];
    }

    function getValidators() external view returns (address[] memory auxiliaryAddresses, uint256[] memory weights) {
        auxiliaryAddresses = validators;
        weights = new uint256[](auxiliaryAddresses.length);
        for (uint256 i = 0; i < auxiliaryAddresses.length; i++) {
            weights[i] = entries[auxiliaryAddresses[i]].weight;
        }
    }

    function _count(MetaBlock.Vote memory ballot, uint8 v, bytes32 r, bytes32 s) private {
        require(!updating, "PollingPlace: kernel update in progress");
        BlockStore store = _blockStore(ballot.coreIdentifier);
        bytes32 voteHash = MetaBlock.hashVote(ballot);
        address validator = MetaBlock.recoverSigner(MetaBlock.digest(domainSeparator(), voteHash), v, r, s);
        uint256 weight = entries[validator].weight;
        require(weight > 0, "PollingPlace: not a validator");

        store.validateLink(ballot.source, ballot.target);
        require(store.heightOf(ballot.source) == ballot.sourceHeight, "PollingPlace: wrong source height");
        require(store.heightOf(ballot.target) == ballot.targetHeight, "PollingPlace: wrong target height");
        require(
            ballot.targetHeight > lastTargetHeight[ballot.coreIdentifier][validator],
            "PollingPlace: target height already voted"
        );
        lastTargetHeight[ballot.coreIdentifier][validator] = ballot.targetHeight;

        bytes32 key = _tallyKey(voteHash);
        uint256 before = tallies[key];
        uint256 tally = before + weight;
        tallies[key] = tally;
        emit VoteCounted(validator, voteHash, tally, totalWeight);
        // Justify exactly once, on the vote that crosses 2/3; later votes only add to the tally.
        if (!MetaBlock.hasSupermajority(before, totalWeight) && MetaBlock.hasSupermajority(tally, totalWeight)) {
            store.justify(ballot.source, ballot.target);
        }
    }

    function _blockStore(bytes20 coreIdentifier) private view returns (BlockStore) {
        if (coreIdentifier == auxiliaryCoreIdentifier) return auxiliaryBlockStore;
        if (coreIdentifier == originCoreIdentifier) return originBlockStore;
        revert("PollingPlace: unknown core identifier");
    }

    function _tallyKey(bytes32 voteHash) private view returns (bytes32) {
        return keccak256(abi.encode(metaBlockHeight, voteHash));
    }

    /// @dev Linear: one slot per validator for its entry, one for its place in `validators`,
    ///      and the total written once.
    function _setWeights(address[] calldata updatedValidators, uint256[] calldata updatedWeights)
        private
        returns (uint256 total)
    {
        require(updatedValidators.length == updatedWeights.length, "PollingPlace: validators and weights differ in length");
        total = totalWeight;
        for (uint256 i = 0; i < updatedValidators.length; i++) {
            total = _setWeight(updatedValidators[i], updatedWeights[i], total);
        }
        totalWeight = total;
    }

    function _setWeight(address validator, uint256 weight, uint256 total) private returns (uint256) {
        require(weight <= type(uint96).max, "PollingPlace: weight too large");
        Entry memory entry = entries[validator];
        uint256 previous = entry.weight;
        total = total - previous + weight;
        if (previous == 0 && weight > 0) {
            validators.push(validator);
            entries[validator] = Entry(uint96(weight), uint160(validators.length));
        } else if (previous > 0 && weight == 0) {
            uint256 index = entry.positionPlusOne - 1;
            address last = validators[validators.length - 1];
            validators[index] = last;
            entries[last].positionPlusOne = uint160(index + 1);
            validators.pop();
            delete entries[validator];
        } else if (weight != previous) {
            entries[validator].weight = uint96(weight);
        }
        return total;
    }
}
