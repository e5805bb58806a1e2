// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import "../lib/MetaBlock.sol";
import "./Stake.sol";

/// @title OriginCore
/// @notice The meta-blockchain's consensus contract on origin. It holds the open kernel (the
///         validator set the next meta-block is voted on with), takes proposals of transitions
///         that the auxiliary chain finalised, counts the validators' EIP-712 votes by stake
///         weight and, at 2/3, commits the meta-block and opens the next kernel.
/// @dev `openKernelHash` must stay the first state variable and `kernelHashes` the second, and
///      the contract must inherit no state: the auxiliary chain's `KernelGateway` proves storage
///      slot 0 (the open kernel) or the `kernelHashes` entry of a kernel's height at slot
///      `keccak256(abi.encode(height, 1))` (contracts/README.md). Every kernel ever opened stays
///      provable from any later origin state, so a kernel opened and superseded between two
///      finalised origin checkpoints can still be brought to the auxiliary chain in its turn.
///      Immutables occupy no slot. Kernels are not stored in clear: `KernelOpened` carries them
///      and `getKernel` rebuilds them from `Stake`.
contract OriginCore {
    struct Proposal {
        MetaBlock.Transition transition;
        uint256 height;
        uint256 voteWeight;
    }

    /// @dev The last committed meta-block. Before the first commit `kernelHash` is zero and the
    ///      gas and transaction root are the constructor's initial values, the baseline the
    ///      first proposal must build on.
    struct Head {
        uint256 height;
        bytes32 kernelHash;
        bytes32 transitionHash;
        uint256 auxiliaryDynasty;
        uint256 accumulatedGas;
        uint256 originDynasty;
        bytes32 originBlockHash;
        bytes32 transactionRoot;
    }

    /// @notice Storage slot 0 (see the contract's dev note).
    bytes32 public openKernelHash;
    /// @notice Storage slot 1: kernel height => hash of the kernel opened at that height.
    mapping(uint256 => bytes32) public kernelHashes;

    uint256 public openKernelHeight;
    uint256 public openKernelTotalWeight;

    Head public head;
    mapping(bytes32 => Proposal) private proposals;
    /// @notice transition hash => auxiliary address => whether its vote was counted.
    mapping(bytes32 => mapping(address => bool)) public hasVoted;

    bytes20 public immutable coreIdentifier;
    Stake public immutable stake;
    /// @notice The most auxiliary gas one meta-block may add to the head's accumulated gas.
    uint256 public immutable maxAccumulateGasLimit;

    uint256 private immutable cachedChainId;
    bytes32 private immutable cachedDomainSeparator;

    event KernelOpened(
        uint256 indexed height,
        bytes32 indexed kernelHash,
        bytes32 parent,
        address[] updatedValidators,
        uint256[] updatedWeights,
        uint256 totalWeight
    );
    event BlockProposed(
        uint256 indexed height,
        bytes32 indexed transitionHash,
        bytes32 indexed kernelHash,
        uint256 auxiliaryDynasty,
        bytes32 auxiliaryBlockHash,
        uint256 accumulatedGas
    );
    event VoteVerified(
        bytes32 indexed transitionHash, address indexed validator, uint256 weight, uint256 proposalWeight
    );
    event MetaBlockCommitted(
        uint256 indexed height, bytes32 indexed kernelHash, bytes32 indexed transitionHash, uint256 voteWeight
    );

    constructor(
        bytes20 coreIdentifier_,
        address ost,
        uint256 initialAuxiliaryGas,
        bytes32 initialTransactionRoot,
        uint256 minimumWeight,
        uint256 maxAccumulateGasLimit_
    ) {
        require(coreIdentifier_ != bytes20(0), "OriginCore: core identifier is zero");
        require(ost != address(0), "OriginCore: token is zero");
        require(maxAccumulateGasLimit_ > 0, "OriginCore: gas limit is zero");
        coreIdentifier = coreIdentifier_;
        maxAccumulateGasLimit = maxAccumulateGasLimit_;
        head.accumulatedGas = initialAuxiliaryGas;
        head.transactionRoot = initialTransactionRoot;
        cachedChainId = block.chainid;
        cachedDomainSeparator = MetaBlock.domainSeparator(block.chainid, address(this));
        // The deployer, not tx.origin, may initialize: a contract deploying the core keeps control.
        stake = new Stake(ost, address(this), minimumWeight, msg.sender);
    }

    /// @notice Opens the genesis kernel K0; `Stake.initialize` calls it exactly once.
    function openKernel(address[] calldata updatedValidators, uint256[] calldata updatedWeights) external {
        require(msg.sender == address(stake), "OriginCore: only stake");
        _openKernel(0, bytes32(0), updatedValidators, updatedWeights);
    }

    /// @notice Proposes the transition of a finalised auxiliary checkpoint as the meta-block at
    ///         the open kernel's height. Anyone may propose; only votes decide.
    function proposeBlock(
        uint256 height,
        uint256 auxiliaryDynasty,
        bytes32 auxiliaryBlockHash,
        uint256 accumulatedGas,
        uint256 originDynasty,
        bytes32 originBlockHash,
        bytes32 transactionRoot
    ) external returns (bytes32 transitionHash) {
        require(openKernelHash != bytes32(0), "OriginCore: no open kernel");
        require(height == openKernelHeight, "OriginCore: wrong height");
        require(auxiliaryBlockHash != bytes32(0), "OriginCore: auxiliary block hash is zero");
        require(auxiliaryDynasty > head.auxiliaryDynasty, "OriginCore: auxiliary dynasty not above head");
        require(originDynasty >= head.originDynasty, "OriginCore: origin dynasty below head");
        require(accumulatedGas >= head.accumulatedGas, "OriginCore: accumulated gas below head");
        require(accumulatedGas - head.accumulatedGas <= maxAccumulateGasLimit, "OriginCore: accumulated gas over limit");

        MetaBlock.Transition memory transition = MetaBlock.Transition(
            coreIdentifier,
            openKernelHash,
            auxiliaryDynasty,
            auxiliaryBlockHash,
            accumulatedGas,
            originDynasty,
            originBlockHash,
            transactionRoot
        );
        transitionHash = MetaBlock.hashTransition(transition);
        Proposal storage proposal = proposals[transitionHash];
        require(proposal.transition.kernelHash == bytes32(0), "OriginCore: already proposed");
        proposal.transition = transition;
        proposal.height = height;
        emit BlockProposed(height, transitionHash, openKernelHash, auxiliaryDynasty, auxiliaryBlockHash, accumulatedGas);
    }

    /// @notice Counts a validator's signed vote for a proposed transition; commits the
    ///         meta-block once the votes reach 2/3 of the open kernel's weight.
    /// @return committed Whether this vote committed the meta-block.
    function verifyVote(
        bytes32 transitionHash,
        bytes32 source,
        bytes32 target,
        uint256 sourceHeight,
        uint256 targetHeight,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bool committed) {
        return _countVote(
            MetaBlock.Vote(coreIdentifier, transitionHash, source, target, sourceHeight, targetHeight), v, r, s
        );
    }

    /// @notice The same vote in the shape `PollingPlace.vote` takes it on the auxiliary chain,
    ///         so a relayer can forward it unchanged; a vote for another core is refused.
    function verifyVote(
        bytes20 voteCoreIdentifier,
        bytes32 transitionHash,
        bytes32 source,
        bytes32 target,
        uint256 sourceHeight,
        uint256 targetHeight,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bool committed) {
        require(voteCoreIdentifier == coreIdentifier, "OriginCore: wrong core identifier");
        return _countVote(
            MetaBlock.Vote(voteCoreIdentifier, transitionHash, source, target, sourceHeight, targetHeight), v, r, s
        );
    }

    /// @notice EIP-712 domain separator of votes verified here (name "Mosaic", version "0").
    function domainSeparator() public view returns (bytes32) {
        // Recomputed after a chain split so that votes signed for the other chain do not count.
        if (block.chainid == cachedChainId) {
            return cachedDomainSeparator;
        }
        return MetaBlock.domainSeparator(block.chainid, address(this));
    }

    function getOpenKernel()
        external
        view
        returns (uint256 height, bytes32 parent, address[] memory updatedValidators, uint256[] memory updatedWeights)
    {
        return getKernel(openKernelHeight);
    }

    /// @notice The parent of the kernel at `height` (zero for K0).
    function openKernelParent() external view returns (bytes32) {
        return openKernelHeight == 0 ? bytes32(0) : kernelHashes[openKernelHeight - 1];
    }

    /// @notice Any kernel opened so far, in clear: hashing it gives `kernelHashes(height)`.
    ///         Empty arrays for a height not opened yet.
    function getKernel(uint256 height)
        public
        view
        returns (uint256, bytes32 parent, address[] memory updatedValidators, uint256[] memory updatedWeights)
    {
        if (kernelHashes[height] == bytes32(0)) {
            return (height, parent, updatedValidators, updatedWeights);
        }
        parent = height == 0 ? bytes32(0) : kernelHashes[height - 1];
        (updatedValidators, updatedWeights) = stake.getKernelValidators(height);
        return (height, parent, updatedValidators, updatedWeights);
    }

    function getProposal(bytes32 transitionHash)
        external
        view
        returns (MetaBlock.Transition memory transition, uint256 height, uint256 voteWeight)
    {
        Proposal storage proposal = proposals[transitionHash];
        return (proposal.transition, proposal.height, proposal.voteWeight);
    }

    function _countVote(MetaBlock.Vote memory vote, uint8 v, bytes32 r, bytes32 s) private returns (bool) {
        Proposal storage proposal = proposals[vote.transitionHash];
        bytes32 kernelHash = proposal.transition.kernelHash;
        require(kernelHash != bytes32(0), "OriginCore: unknown proposal");
        // A proposal made under an earlier kernel can no longer be committed.
        require(kernelHash == openKernelHash, "OriginCore: proposal is stale");
        require(vote.target == proposal.transition.auxiliaryBlockHash, "OriginCore: target is not the proposed block");
        require(vote.targetHeight > vote.sourceHeight, "OriginCore: target not above source");

        address validator =
            MetaBlock.recoverSigner(MetaBlock.digest(domainSeparator(), MetaBlock.hashVote(vote)), v, r, s);
        uint256 validatorWeight = stake.weight(openKernelHeight, validator);
        require(validatorWeight > 0, "OriginCore: not a validator");
        require(!hasVoted[vote.transitionHash][validator], "OriginCore: vote already counted");
        hasVoted[vote.transitionHash][validator] = true;
        uint256 proposalWeight = proposal.voteWeight + validatorWeight;
        proposal.voteWeight = proposalWeight;
        emit VoteVerified(vote.transitionHash, validator, validatorWeight, proposalWeight);

        if (!MetaBlock.hasSupermajority(proposalWeight, openKernelTotalWeight)) {
            return false;
        }
        _commit(vote.transitionHash, proposal);
        return true;
    }

    function _commit(bytes32 transitionHash, Proposal storage proposal) private {
        MetaBlock.Transition storage transition = proposal.transition;
        uint256 height = proposal.height;
        bytes32 kernelHash = transition.kernelHash;
        head = Head(
            height,
            kernelHash,
            transitionHash,
            transition.auxiliaryDynasty,
            transition.accumulatedGas,
            transition.originDynasty,
            transition.originBlockHash,
            transition.transactionRoot
        );
        emit MetaBlockCommitted(height, kernelHash, transitionHash, proposal.voteWeight);

        (address[] memory joined, uint256[] memory weights) = stake.advanceHeight();
        _openKernel(height + 1, kernelHash, joined, weights);
    }

    function _openKernel(
        uint256 height,
        bytes32 parent,
        address[] memory updatedValidators,
        uint256[] memory updatedWeights
    ) private {
        bytes32 kernelHash = MetaBlock.hashKernel(height, parent, updatedValidators, updatedWeights);
        uint256 totalWeight = stake.totalWeightAtHeight(height);
        openKernelHash = kernelHash;
        kernelHashes[height] = kernelHash;
        openKernelHeight = height;
        openKernelTotalWeight = totalWeight;
        emit KernelOpened(height, kernelHash, parent, updatedValidators, updatedWeights, totalWeight);
    }
}
