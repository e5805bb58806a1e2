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
contract AuxiliaryBlockStore is BlockStore {
    /// @notice Gas used by all blocks from the chain's start up to and including a block.
    mapping(bytes32 => uint256) public accumulatedGas;
    /// @notice The kernel that was active when a checkpoint was justified (zero if never).
    mapping(bytes32 => bytes32) public checkpointKernelHash;
    /// @notice The kernel `KernelGateway` most recently proved opened in `OriginCore`.
    bytes32 public activeKernelHash;

    event KernelActivated(bytes32 indexed kernelHash);

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
        accumulatedGas[initialBlockHash] = initialAccumulatedGas;
    }

    function activateKernel(bytes32 kernelHash) external onlyPollingPlace {
        activeKernelHash = kernelHash;
        emit KernelActivated(kernelHash);
    }

    function _blockReported(BlockHeader.Header memory header) internal override {
        accumulatedGas[header.hash] = accumulatedGas[header.parentHash] + header.gasUsed;
    }

    function _checkpointJustified(bytes32 target) internal override {
        checkpointKernelHash[target] = activeKernelHash;
    }
}
