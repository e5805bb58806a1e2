// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockHeader} from "../lib/BlockHeader.sol";

/// @title BlockStore
/// @notice One chain's block headers as the auxiliary chain sees them, and which of their
///         checkpoints the staked validators have justified and finalised (Casper FFG).
///         `OriginBlockStore` tracks the origin chain so that proofs of origin state (the open
///         kernel, gateway stakes) can be checked against a finalised state root;
///         `AuxiliaryBlockStore` tracks the auxiliary chain itself.
/// @dev Anyone may report a header: a header only joins the store below a known parent, and a
///      forged header is inert because nothing reads a state root that 2/3 of the validators'
///      weight has not finalised. That is why reporting needs no bootstrap privilege.
///
///      Checkpoints are the trusted initial block and every block whose height is a multiple of
///      `epochLength`. A checkpoint's *parent checkpoint* is the nearest checkpoint below it on
///      its own branch. `PollingPlace` calls `justify(source, target)` once 2/3 of the weight has
///      voted for that link; the target becomes justified, and when the source is the target's
///      parent checkpoint the source becomes finalised. Every link must start at a justified
///      checkpoint that descends from the latest finalised one, so the finalised checkpoints
///      always form a single chain and `stateRoot(height)` has at most one answer.
abstract contract BlockStore {
    struct Block {
        bytes32 parent;
        bytes32 stateRoot;
        // Nearest checkpoint strictly below this block on its branch; lets a descendant check
        // hop epoch by epoch instead of block by block.
        bytes32 parentCheckpoint;
        uint128 height;
        bool reported;
    }

    uint256 public immutable epochLength;
    address public immutable pollingPlace;
    /// @notice The trusted initial checkpoint (zero until `AuxiliaryBlockStore` anchored its genesis).
    bytes32 public initialBlockHash;

    /// @notice The highest reported block (the first one reported wins a tie).
    bytes32 public head;
    /// @notice The highest finalised checkpoint.
    bytes32 public latestFinalised;

    mapping(bytes32 => Block) private blocks;
    mapping(bytes32 => bool) private justified;
    mapping(bytes32 => bool) private finalised;
    mapping(uint256 => bytes32) private finalisedAtHeight;

    event BlockReported(bytes32 indexed blockHash, uint256 height);
    event CheckpointJustified(bytes32 indexed source, bytes32 indexed target, uint256 targetHeight);
    event CheckpointFinalised(bytes32 indexed blockHash, uint256 height);

    modifier onlyPollingPlace() {
        require(msg.sender == pollingPlace, "BlockStore: only polling place");
        _;
    }

    /// @param initialBlockHash_ A block the deployer trusts (for the origin store: the block at
    ///        which set-up on origin was done). It counts as a justified, finalised checkpoint.
    /// @param pollingPlace_ The `PollingPlace` address, precomputed from deployer and nonce.
    constructor(
        bytes32 initialBlockHash_,
        bytes32 initialStateRoot,
        uint256 initialHeight,
        uint256 epochLength_,
        address pollingPlace_
    ) {
        require(initialBlockHash_ != bytes32(0) || _anchorsLater(), "BlockStore: zero initial block");
        require(epochLength_ > 0, "BlockStore: zero epoch length");
        require(pollingPlace_ != address(0), "BlockStore: zero polling place");
        require(initialHeight < type(uint128).max, "BlockStore: initial height too large");
        epochLength = epochLength_;
        pollingPlace = pollingPlace_;
        if (initialBlockHash_ != bytes32(0)) _trustInitial(initialBlockHash_, initialStateRoot, initialHeight);
    }

    /// @dev Makes `blockHash` the trusted initial checkpoint: reported, justified and finalised.
    function _trustInitial(bytes32 blockHash, bytes32 blockStateRoot, uint256 height) internal {
        initialBlockHash = blockHash;
        Block storage initial = blocks[blockHash];
        initial.stateRoot = blockStateRoot;
        initial.height = uint128(height);
        initial.reported = true;
        justified[blockHash] = true;
        finalised[blockHash] = true;
        finalisedAtHeight[height] = blockHash;
        head = blockHash;
        latestFinalised = blockHash;
        emit BlockReported(blockHash, height);
        emit CheckpointFinalised(blockHash, height);
    }

    /// @dev True for a store whose initial block is set after construction (the auxiliary store in
    ///      the genesis, which cannot hold the hash of the very block that contains it).
    function _anchorsLater() internal pure virtual returns (bool) {
        return false;
    }

    /// @notice Adds one block header (its RLP encoding, so its hash is computed here, not taken
    ///         on trust) whose parent the store already holds.
    function reportBlock(bytes calldata rlpHeader) external {
        BlockHeader.Header memory header = BlockHeader.decode(rlpHeader);
        Block storage parent = blocks[header.parentHash];
        require(parent.reported, "BlockStore: unknown parent");
        require(!blocks[header.hash].reported, "BlockStore: block already reported");
        require(header.number == uint256(parent.height) + 1, "BlockStore: height is not parent + 1");

        Block storage reported = blocks[header.hash];
        reported.parent = header.parentHash;
        reported.stateRoot = header.stateRoot;
        reported.height = uint128(header.number);
        reported.reported = true;
        reported.parentCheckpoint =
            _isCheckpoint(header.parentHash, parent.height) ? header.parentHash : parent.parentCheckpoint;
        if (header.number > blocks[head].height) head = header.hash;
        _blockReported(header);
        emit BlockReported(header.hash, header.number);
    }

    /// @notice Records a supermajority link from `source` to `target` (called by `PollingPlace`
    ///         once 2/3 of the weight voted for it). Finalises `source` when `target` is its
    ///         direct child checkpoint.
    function justify(bytes32 source, bytes32 target) external onlyPollingPlace {
        validateLink(source, target);
        justified[target] = true;
        _checkpointJustified(target);
        emit CheckpointJustified(source, target, blocks[target].height);
        if (blocks[target].parentCheckpoint == source && !finalised[source]) {
            uint256 height = blocks[source].height;
            finalised[source] = true;
            finalisedAtHeight[height] = source;
            latestFinalised = source;
            emit CheckpointFinalised(source, height);
        }
    }

    /// @notice Reverts with the reason a vote for `source -> target` could never justify
    ///         `target`; `PollingPlace` asks before it counts a vote.
    function validateLink(bytes32 source, bytes32 target) public view {
        require(justified[source], "BlockStore: source not justified");
        Block storage targetBlock = blocks[target];
        require(targetBlock.reported, "BlockStore: unknown target");
        require(_isCheckpoint(target, targetBlock.height), "BlockStore: target not a checkpoint");
        require(targetBlock.height > blocks[source].height, "BlockStore: target not above source");
        require(_descends(target, source), "BlockStore: target does not descend from source");
        require(_descends(source, latestFinalised), "BlockStore: source not on the finalised chain");
    }

    /// @notice The state root of the finalised checkpoint at `height`; reverts
    ///         "BlockStore: height not finalised" for any other height, so a caller can never
    ///         mistake an unfinalised or unknown root for zero.
    function stateRoot(uint256 height) external view returns (bytes32) {
        bytes32 checkpoint = finalisedAtHeight[height];
        require(checkpoint != bytes32(0), "BlockStore: height not finalised");
        return blocks[checkpoint].stateRoot;
    }

    function latestFinalisedHeight() external view returns (uint256) {
        return blocks[latestFinalised].height;
    }

    function isReported(bytes32 blockHash) external view returns (bool) {
        return blocks[blockHash].reported;
    }

    function isCheckpoint(bytes32 blockHash) external view returns (bool) {
        Block storage b = blocks[blockHash];
        return b.reported && _isCheckpoint(blockHash, b.height);
    }

    function isJustified(bytes32 blockHash) external view returns (bool) {
        return justified[blockHash];
    }

    function isFinalised(bytes32 blockHash) external view returns (bool) {
        return finalised[blockHash];
    }

    /// @notice The height of a reported block; reverts "BlockStore: unknown block" otherwise.
    function heightOf(bytes32 blockHash) public view returns (uint256) {
        Block storage b = blocks[blockHash];
        require(b.reported, "BlockStore: unknown block");
        return b.height;
    }

    /// @notice Everything stored for a block (all zero for an unknown one).
    function getBlock(bytes32 blockHash)
        external
        view
        returns (bytes32 parent, bytes32 blockStateRoot, uint256 height, bool reported)
    {
        Block storage b = blocks[blockHash];
        return (b.parent, b.stateRoot, b.height, b.reported);
    }

    /// @dev Hook for `AuxiliaryBlockStore`, which keeps more per block.
    function _blockReported(BlockHeader.Header memory header) internal virtual {}

    /// @dev Hook for `AuxiliaryBlockStore`, which keeps more per justified checkpoint.
    function _checkpointJustified(bytes32 target) internal virtual {}

    function _isCheckpoint(bytes32 blockHash, uint256 height) private view returns (bool) {
        return blockHash == initialBlockHash || height % epochLength == 0;
    }

    /// @dev True when checkpoint `ancestor` is `descendant` or lies below it on its branch.
    ///      Walks parent checkpoints, so the cost grows with the number of epochs in between;
    ///      validators link consecutive epochs, which keeps the walk short.
    function _descends(bytes32 descendant, bytes32 ancestor) private view returns (bool) {
        uint256 floor = blocks[ancestor].height;
        bytes32 cursor = descendant;
        while (blocks[cursor].height > floor) {
            cursor = blocks[cursor].parentCheckpoint;
        }
        return cursor == ancestor;
    }
}
