// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockStore} from "./BlockStore.sol";

/// @title OriginBlockStore
/// @notice The origin chain's headers on the auxiliary chain. Its finalised state roots are what
///         `KernelGateway` and `OSTPrime` check origin proofs against; its trusted initial
///         checkpoint is the origin block at which set-up on origin was done.
contract OriginBlockStore is BlockStore {
    constructor(
        bytes32 initialBlockHash,
        bytes32 initialStateRoot,
        uint256 initialHeight,
        uint256 epochLength,
        address pollingPlace
    ) BlockStore(initialBlockHash, initialStateRoot, initialHeight, epochLength, pollingPlace) {}
}
