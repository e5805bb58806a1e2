// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockHeader} from "../lib/BlockHeader.sol";
import {BlockStore} from "./BlockStore.sol";

/// @title AuxiliaryBlockStore
/// @notice The auxiliary chain's own headers, finalised by the validators. Beyond `BlockStore`
///         it keeps what a meta-block transition needs: the gas used along each branch, and the
///         kernel that was active when each checkpoint was justified.
/// @dev The active kernel is set by `PollingPlace` when `KernelGateway` opens a proven kernel
///      there, so this store trusts exactly one contract, the one it already trusts for `justify`.
///
///      In the auxiliary genesis this store cannot name its initial block: the genesis hash covers
///      the genesis state, which holds this store. It is constructed with a zero initial block and
///      anchored later, by anyone, with `anchorGenesis`: the chain itself vouches for the genesis
///      header through BLOCKHASH (docs/auxiliary-genesis.md).
contract AuxiliaryBlockStore is BlockStore {
    /// @notice Gas used by all blocks from the chain's start up to and including a block.
    mapping(bytes32 => uint256) public accumulatedGas;
    /// @notice The kernel that was active when a checkpoint was justified (zero if never).
    mapping(bytes32 => bytes32) public checkpointKernelHash;
    /// @notice The kernel `KernelGateway` most recently proved opened in `OriginCore`.
    bytes32 public activeKernelHash;

    /// @notice While `anchorGenesis` walks back to the genesis in several calls: the hash of the
    ///         next older header it still needs (zero before the first call and once anchored).
    bytes32 public anchorSearch;

    event KernelActivated(bytes32 indexed kernelHash);
    event GenesisAnchored(bytes32 indexed genesisHash, bytes32 stateRoot);

    /// @param initialBlockHash Zero for the store placed in the genesis (anchored by `anchorGenesis`).
    /// @param initialAccumulatedGas Gas used up to and including the initial block (0 when the
    ///        initial block is the genesis block).
    constructor(
        bytes32 initialBlockHash,
        bytes32 initialStateRoot,
        uint256 initialHeight,
        uint256 initialAccumulatedGas,
        uint256 epochLength,
        address pollingPlace
    ) BlockStore(initialBlockHash, initialStateRoot, initialHeight, epochLength, pollingPlace) {
        // Written only when non-zero: the genesis store (no initial block yet) then holds no storage
        // slot at all, not a slot set to zero (which anvil, unlike real clients, keeps in its trie).
        if (initialAccumulatedGas != 0) accumulatedGas[initialBlockHash] = initialAccumulatedGas;
    }

    /// @notice Sets the genesis block as the trusted initial checkpoint. `headers` are RLP headers
    ///         from newest to oldest, each the parent of the one before it; the first is a block
    ///         the chain still vouches for (`blockhash`, the last 256 blocks) or the header the
    ///         previous call stopped at (`anchorSearch`). When the last one is block 0 the store is
    ///         anchored; otherwise the walk continues from its parent in the next call. Within
    ///         256 blocks of the genesis one call with the genesis header alone does it.
    function anchorGenesis(bytes[] calldata headers) external {
        require(initialBlockHash == bytes32(0), "AuxiliaryBlockStore: genesis already anchored");
        require(headers.length > 0, "AuxiliaryBlockStore: no headers");
        BlockHeader.Header memory header = BlockHeader.decode(headers[0]);
        bool vouched = header.number < block.number && blockhash(header.number) == header.hash;
        require(vouched || (anchorSearch != bytes32(0) && header.hash == anchorSearch),
            "AuxiliaryBlockStore: first header is not a recent block");
        for (uint256 i = 1; i < headers.length; i++) {
            BlockHeader.Header memory older = BlockHeader.decode(headers[i]);
            require(older.hash == header.parentHash, "AuxiliaryBlockStore: headers do not link");
            header = older;
        }
        if (header.number == 0) {
            anchorSearch = bytes32(0);
            _trustInitial(header.hash, header.stateRoot, 0);
            emit GenesisAnchored(header.hash, header.stateRoot);
        } else {
            anchorSearch = header.parentHash;
        }
    }

    function activateKernel(bytes32 kernelHash) external onlyPollingPlace {
        activeKernelHash = kernelHash;
        emit KernelActivated(kernelHash);
    }

    function _anchorsLater() internal pure override returns (bool) {
        return true;
    }

    function _blockReported(BlockHeader.Header memory header) internal override {
        accumulatedGas[header.hash] = accumulatedGas[header.parentHash] + header.gasUsed;
    }

    function _checkpointJustified(bytes32 target) internal override {
        checkpointKernelHash[target] = activeKernelHash;
    }
}
