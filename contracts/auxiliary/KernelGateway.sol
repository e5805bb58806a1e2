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
///         finalised origin state root, then prove that OriginCore's `openKernelHash` (storage
///         slot 0) is the hash of the kernel given in clear. The kernel then becomes active and
///         its validators and weights go to `PollingPlace`.
/// @dev Kernels are activated strictly in order (K0, K1, ...), each naming the previous one as
///      parent, so an old kernel that is still provable at an old origin height can never be
///      re-activated.
contract KernelGateway {
    /// @dev OriginCore's first state variable, `openKernelHash`.
    bytes32 private constant OPEN_KERNEL_HASH_SLOT = bytes32(0);

    address public immutable originCore;
    BlockStore public immutable originBlockStore;
    PollingPlace public immutable pollingPlace;

    /// @notice OriginCore's storage root at each origin height it was proven at.
    mapping(uint256 => bytes32) public originCoreStorageRoot;

    bytes32 private activeKernelHash;
    uint256 public activeKernelHeight;

    event OriginCoreProven(uint256 indexed originHeight, bytes32 storageRoot);
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

    /// @notice Activates the kernel `(height, parent, validators, weights)` after proving that
    ///         it is the kernel OriginCore had open at `originHeight`.
    /// @param validators The kernel's updated validators (auxiliary addresses).
    /// @param storageProof `eth_getProof` storage proof of OriginCore's slot 0 at `originHeight`.
    function proveBlockOpening(
        uint256 height,
        bytes32 parent,
        address[] memory validators,
        uint256[] memory weights,
        bytes[] memory storageProof,
        uint256 originHeight
    ) external {
        require(validators.length == weights.length, "KernelGateway: validators and weights differ in length");
        uint256 expected = activeKernelHash == bytes32(0) ? 0 : activeKernelHeight + 1;
        require(height >= expected, "KernelGateway: stale kernel");
        require(height == expected, "KernelGateway: kernel height skips ahead");
        require(parent == activeKernelHash, "KernelGateway: parent is not the active kernel");
        _activate(MetaBlock.Kernel(height, parent, validators, weights), storageProof, originHeight);
    }

    function _activate(MetaBlock.Kernel memory kernel, bytes[] memory storageProof, uint256 originHeight) private {
        bytes32 storageRoot = originCoreStorageRoot[originHeight];
        require(storageRoot != bytes32(0), "KernelGateway: origin core not proven at height");
        bytes32 kernelHash = MetaBlock.hashKernel(kernel);
        require(
            OriginProof.holdsWord(storageRoot, OPEN_KERNEL_HASH_SLOT, kernelHash, storageProof),
            "KernelGateway: kernel not open in origin core"
        );

        activeKernelHash = kernelHash;
        activeKernelHeight = kernel.height;
        pollingPlace.updateMetaBlock(kernel.updatedValidators, kernel.updatedWeights, kernel.height, kernelHash);
        emit KernelActivated(kernel.height, kernelHash, originHeight);
    }

    /// @notice The active kernel's hash; equals `OriginCore.openKernelHash()` once proven.
    function getActiveKernelHash() external view returns (bytes32) {
        return activeKernelHash;
    }
}
