// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RLP} from "./RLP.sol";

/// @title BlockHeader
/// @notice Reads the fields the block stores need from an RLP-encoded block header. The header's
///         hash is the keccak256 of exactly these bytes, so a caller that checks the hash against a
///         known block hash can trust every field it reads here.
/// @dev The first thirteen fields are in the same place in every Ethereum header (legacy PoW/PoS:
///      15 fields; London adds baseFee, Shanghai withdrawalsRoot, Cancun three blob/beacon fields,
///      Prague requestsHash) and in Aura headers, whose two seal fields replace mixHash and nonce.
///      Later fields are only appended, so any list of at least 15 items is accepted and only the
///      fields read here are type-checked.
library BlockHeader {
    using RLP for RLP.RLPItem;

    struct Header {
        bytes32 hash;
        bytes32 parentHash;
        bytes32 stateRoot;
        bytes32 transactionsRoot;
        uint256 number;
        uint256 gasUsed;
    }

    uint256 private constant PARENT_HASH = 0;
    uint256 private constant STATE_ROOT = 3;
    uint256 private constant TRANSACTIONS_ROOT = 4;
    uint256 private constant NUMBER = 8;
    uint256 private constant GAS_USED = 10;
    uint256 private constant MIN_FIELDS = 15;

    function decode(bytes memory rlpHeader) internal pure returns (Header memory header) {
        RLP.RLPItem[] memory fields = RLP.toItem(rlpHeader).toList();
        require(fields.length >= MIN_FIELDS, "BlockHeader: fewer than 15 fields");
        header.hash = keccak256(rlpHeader);
        header.parentHash = fields[PARENT_HASH].toBytes32();
        header.stateRoot = fields[STATE_ROOT].toBytes32();
        header.transactionsRoot = fields[TRANSACTIONS_ROOT].toBytes32();
        header.number = fields[NUMBER].toUint();
        header.gasUsed = fields[GAS_USED].toUint();
    }

    function hash(bytes memory rlpHeader) internal pure returns (bytes32) {
        return keccak256(rlpHeader);
    }

    function parentHash(bytes memory rlpHeader) internal pure returns (bytes32) {
        return decode(rlpHeader).parentHash;
    }

    function stateRoot(bytes memory rlpHeader) internal pure returns (bytes32) {
        return decode(rlpHeader).stateRoot;
    }

    function transactionsRoot(bytes memory rlpHeader) internal pure returns (bytes32) {
        return decode(rlpHeader).transactionsRoot;
    }

    function number(bytes memory rlpHeader) internal pure returns (uint256) {
        return decode(rlpHeader).number;
    }

    function gasUsed(bytes memory rlpHeader) internal pure returns (uint256) {
        return decode(rlpHeader).gasUsed;
    }
}
