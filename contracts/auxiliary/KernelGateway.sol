// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MetaBlock} from "../lib/MetaBlock.sol";
import {BlockStore} from "./BlockStore.sol";
import {OriginProof} from "./OriginProof.sol";
import {PollingPlace} from "./PollingPlace.sol";

/// @title KernelGateway
/// @notice Brings the kernels that `OriginCore` opens on origin over to the auxiliary chain, so
///         the validators staked on origin are the ones voting here. Two self-authenticating
///         steps, callable by anyone: prove OriginCore's account (its storage root) against a
///         finalised origin state root, then prove that OriginCore opened the kernel given in
///         clear. The kernel then becomes active and its validators and weights go to
///         `PollingPlace`.
/// @dev Kernels are activated strictly in order (K0, K1, ...), each naming the previous one as
///      parent, so an old kernel can never be re-activated. A kernel is proven either by
///      OriginCore's slot 0 (`openKernelHash`, the kernel open at that origin height) or by its
///      entry in OriginCore's `kernelHashes` mapping (slot 1), which keeps every kernel ever
///      opened: a kernel opened and superseded between two finalised origin checkpoints is still
///      provable from any later finalised checkpoint, so the validator set cannot freeze.
///
///      A kernel whose validators do not fit one block is brought over in parts:
///      `proveKernelOpening` checks the proof and remembers the kernel's hash and the hashes of
///      its two arrays; `activateKernelPart` then applies the next slice of the validators (the
///      caller passes the whole arrays again, checked against those hashes) and activates the
///      kernel with the last slice. Until then `PollingPlace` counts no vote, so no 2/3 is ever
///      taken of a half-applied set.
contract KernelGateway {
    /// @dev OriginCore's first state variable, `openKernelHash`.
    bytes32 private constant OPEN_KERNEL_HASH_SLOT = bytes32(0);
    /// @dev OriginCore's second state variable, `mapping(uint256 => bytes32) kernelHashes`.
    uint256 private constant KERNEL_HASHES_SLOT = 1;

    struct PendingKernel {
        bytes32 kernelHash;
        bytes32 validatorsHash;
        bytes32 weightsHash;
        uint256 height;
        uint256 originHeight;
        uint256 applied;
    }

    address public immutable originCore;
    BlockStore public immutable originBlockStore;
    PollingPlace public immutable pollingPlace;

    /// @notice OriginCore's storage root at each origin height it was proven at.
    mapping(uint256 => bytes32) public originCoreStorageRoot;

    bytes32 private activeKernelHash;
    uint256 public activeKernelHeight;
    /// @notice A proven kernel whose validators are being applied in parts (zero hash if none).
    PendingKernel public pendingKernel;

    event OriginCoreProven(uint256 indexed originHeight, bytes32 storageRoot);
    event KernelProven(uint256 indexed height, bytes32 indexed kernelHash, uint256 originHeight, uint256 validatorCount);
    event KernelActivated(uint256 indexed height, bytes32 indexed kernelHash, uint256 originHeight);

    /// @param originCore_ OriginCore's address on the origin chain.
    constructor(address originCore_, address originBlockStore_, address pollingPlace_) {
        require(
            originCore_ != address(0) && originBlockStore_ != address(0) && pollingPlace_ != address(0),
            "KernelGateway: zero address"
        );
        originCore = originCore_;
        originBlockStore = BlockStore(originBlockStore_);
        pollingPlace = PollingPlace(pollingPlace_);
    }

    /// @notice Proves OriginCore's account at a finalised origin height (as `eth_getProof`
    ///         returns it) and caches its storage root for that height.
    function proveOriginCore(bytes calldata accountRlp, bytes[] calldata accountProof, uint256 originHeight) external {
        bytes32 stateRoot = originBlockStore.stateRoot(originHeight);
        (bool proven, bytes32 storageRoot) =
            OriginProof.accountStorageRoot(stateRoot, originCore, accountRlp, accountProof);
        require(proven, "KernelGateway: invalid account proof");
        originCoreStorageRoot[originHeight] = storageRoot;
        emit OriginCoreProven(originHeight, storageRoot);
    }

    /// @notice Activates the kernel `(height, parent, validators, weights)` in one transaction
    ///         after proving that OriginCore opened it (see the contract's dev note for the two
    ///         slots `storageProof` may prove).
    /// @param validators The kernel's updated validators (auxiliary addresses).
    /// @param storageProof `eth_getProof` storage proof at `originHeight` of OriginCore's slot 0
    ///        or of `kernelHashes[height]`.
    function proveBlockOpening(
        uint256 height,
        bytes32 parent,
        address[] calldata validators,
        uint256[] calldata weights,
        bytes[] calldata storageProof,
        uint256 originHeight
    ) external {
        bytes32 kernelHash = _prove(height, parent, validators, weights, storageProof, originHeight);
        pollingPlace.updateMetaBlock(validators, weights, height, kernelHash);
        _activated(height, kernelHash, originHeight);
    }

    /// @notice The first half of a kernel brought over in parts: proves it as
    ///         `proveBlockOpening` does and remembers it; `activateKernelPart` applies it.
    function proveKernelOpening(
        uint256 height,
        bytes32 parent,
        address[] calldata validators,
        uint256[] calldata weights,
        bytes[] calldata storageProof,
        uint256 originHeight
    ) external {
        require(validators.length > 1, "KernelGateway: kernel too small to activate in parts");
        bytes32 kernelHash = _prove(height, parent, validators, weights, storageProof, originHeight);
        pendingKernel = PendingKernel(
            kernelHash,
            keccak256(abi.encodePacked(validators)),
            keccak256(abi.encodePacked(weights)),
            height,
            originHeight,
            0
        );
        emit KernelProven(height, kernelHash, originHeight, validators.length);
    }

    /// @notice Applies validators `[applied, end)` of the pending kernel to `PollingPlace`, and
    ///         activates the kernel when `end` is its last validator.
    /// @param validators The pending kernel's whole `updatedValidators`, as proven.
    /// @param weights The pending kernel's whole `updatedWeights`, as proven.
    function activateKernelPart(address[] calldata validators, uint256[] calldata weights, uint256 end) external {
        PendingKernel storage pending = pendingKernel;
        bytes32 kernelHash = pending.kernelHash;
        require(kernelHash != bytes32(0), "KernelGateway: no pending kernel");
        require(
            keccak256(abi.encodePacked(validators)) == pending.validatorsHash
                && keccak256(abi.encodePacked(weights)) == pending.weightsHash,
            "KernelGateway: not the pending kernel's validators"
        );
        uint256 start = pending.applied;
        require(end > start && end <= validators.length, "KernelGateway: part out of range");
        if (end < validators.length) {
            pending.applied = end;
            pollingPlace.updateMetaBlockPart(validators[start:end], weights[start:end]);
            return;
        }
        uint256 height = pending.height;
        uint256 originHeight = pending.originHeight;
        delete pendingKernel;
        pollingPlace.updateMetaBlock(validators[start:end], weights[start:end], height, kernelHash);
        _activated(height, kernelHash, originHeight);
    }

    /// @notice The active kernel's hash; equals `OriginCore.openKernelHash()` once proven.
    function getActiveKernelHash() external view returns (bytes32) {
        return activeKernelHash;
    }

    function _prove(
        uint256 height,
        bytes32 parent,
        address[] calldata validators,
        uint256[] calldata weights,
        bytes[] calldata storageProof,
        uint256 originHeight
    ) private view returns (bytes32 kernelHash) {
        require(validators.length == weights.length, "KernelGateway: validators and weights differ in length");
        require(pendingKernel.kernelHash == bytes32(0), "KernelGateway: a kernel is being activated in parts");
        uint256 expected = activeKernelHash == bytes32(0) ? 0 : activeKernelHeight + 1;
        require(height >= expected, "KernelGateway: stale kernel");
        require(height == expected, "KernelGateway: kernel height skips ahead");
        require(parent == activeKernelHash, "KernelGateway: parent is not the active kernel");

        bytes32 storageRoot = originCoreStorageRoot[originHeight];
        require(storageRoot != bytes32(0), "KernelGateway: origin core not proven at height");
        kernelHash = MetaBlock.hashKernel(height, parent, validators, weights);
        bytes[] memory proof = storageProof;
        bytes32 mappingSlot = keccak256(abi.encode(height, KERNEL_HASHES_SLOT));
        require(
            OriginProof.holdsWord(storageRoot, mappingSlot, kernelHash, proof)
                || OriginProof.holdsWord(storageRoot, OPEN_KERNEL_HASH_SLOT, kernelHash, proof),
            "KernelGateway: kernel not open in origin core"
        );
    }

    function _activated(uint256 height, bytes32 kernelHash, uint256 originHeight) private {
        activeKernelHash = kernelHash;
        activeKernelHeight = height;
        emit KernelActivated(height, kernelHash, originHeight);
    }
}
