// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RLP} from "../lib/RLP.sol";
import {MerklePatriciaProof} from "../lib/MerklePatriciaProof.sol";
import {BlockHeader} from "../lib/BlockHeader.sol";

/// @title ProofHarness
/// @notice Test-only: exposes the internal RLP, MerklePatriciaProof and BlockHeader libraries as
///         external pure functions, so the tests can exercise them with eth_call on a real node.
contract ProofHarness {
    using RLP for RLP.RLPItem;

    // ------------------------------------------------------------------ RLP

    function rlpIsList(bytes memory data) external pure returns (bool) {
        return RLP.toItem(data).isList();
    }

    function rlpTryToItem(bytes memory data) external pure returns (bool ok) {
        (ok, ) = RLP.tryToItem(data);
    }

    function rlpTryToList(bytes memory data) external pure returns (bool ok, uint256 count) {
        (bool itemOk, RLP.RLPItem memory item) = RLP.tryToItem(data);
        if (!itemOk) return (false, 0);
        RLP.RLPItem[] memory items;
        (ok, items) = RLP.tryToList(item);
        count = items.length;
    }

    /// @notice Whether `data` is one item whose nested lists are all well-formed, all the way down.
    function rlpIsValid(bytes memory data) external pure returns (bool) {
        (bool ok, RLP.RLPItem memory item) = RLP.tryToItem(data);
        return ok && _validTree(item);
    }

    function _validTree(RLP.RLPItem memory item) private pure returns (bool) {
        if (!item.isList()) return true;
        (bool ok, RLP.RLPItem[] memory items) = RLP.tryToList(item);
        if (!ok) return false;
        for (uint256 i = 0; i < items.length; i++) {
            if (!_validTree(items[i])) return false;
        }
        return true;
    }

    /// @notice The raw encodings of the list's elements (each as `toRlpBytes` returns it).
    function rlpToList(bytes memory data) external pure returns (bytes[] memory raw) {
        RLP.RLPItem[] memory items = RLP.toItem(data).toList();
        raw = new bytes[](items.length);
        for (uint256 i = 0; i < items.length; i++) {
            raw[i] = items[i].toRlpBytes();
        }
    }

    function rlpToBytes(bytes memory data) external pure returns (bytes memory) {
        return RLP.toItem(data).toBytes();
    }

    function rlpToUint(bytes memory data) external pure returns (uint256) {
        return RLP.toItem(data).toUint();
    }

    function rlpToAddress(bytes memory data) external pure returns (address) {
        return RLP.toItem(data).toAddress();
    }

    function rlpToBytes32(bytes memory data) external pure returns (bytes32) {
        return RLP.toItem(data).toBytes32();
    }

    function rlpHash(bytes memory data) external pure returns (bytes32) {
        return RLP.toItem(data).rlpHash();
    }

    // ------------------------------------------------------------------ Merkle-Patricia proofs

    function mptGet(bytes32 root, bytes32 path, bytes[] memory proof)
        external
        pure
        returns (bool found, bytes memory value)
    {
        return MerklePatriciaProof.get(root, path, proof);
    }

    function mptVerify(bytes memory value, bytes32 path, bytes[] memory proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return MerklePatriciaProof.verify(value, path, proof, root);
    }

    function accountStorageRoot(bytes memory accountRlp) external pure returns (bytes32) {
        return MerklePatriciaProof.accountStorageRoot(accountRlp);
    }

    // ------------------------------------------------------------------ block headers

    function decodeHeader(bytes memory rlpHeader) external pure returns (BlockHeader.Header memory) {
        return BlockHeader.decode(rlpHeader);
    }

    function headerHash(bytes memory rlpHeader) external pure returns (bytes32) {
        return BlockHeader.hash(rlpHeader);
    }

    function headerFields(bytes memory rlpHeader)
        external
        pure
        returns (bytes32 parent, bytes32 state, bytes32 transactions, uint256 number, uint256 gasUsed)
    {
        return (
            BlockHeader.parentHash(rlpHeader),
            BlockHeader.stateRoot(rlpHeader),
            BlockHeader.transactionsRoot(rlpHeader),
            BlockHeader.number(rlpHeader),
            BlockHeader.gasUsed(rlpHeader)
        );
    }
}
