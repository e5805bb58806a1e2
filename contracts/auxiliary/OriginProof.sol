// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerklePatriciaProof} from "../lib/MerklePatriciaProof.sol";

/// @title OriginProof
/// @notice The two proofs the auxiliary chain accepts about origin state, shared by
///         `KernelGateway` (OriginCore's open kernel) and `OSTPrime` (OSTGateway's stakes):
///         an account's storage root under a finalised state root, then one 32-byte storage
///         word under that storage root. Both answer true/false so each contract reverts with
///         its own reason.
library OriginProof {
    /// @notice The storage root of `account` if `accountRlp` (`[nonce, balance, storageRoot,
    ///         codeHash]`, as the trie holds it) is proven at `keccak256(account)` under `stateRoot`.
    function accountStorageRoot(bytes32 stateRoot, address account, bytes memory accountRlp, bytes[] memory proof)
        internal
        pure
        returns (bool proven, bytes32 storageRoot)
    {
        // An empty value would "prove" that the account does not exist; that is never useful here.
        if (accountRlp.length == 0) return (false, bytes32(0));
        if (!MerklePatriciaProof.verify(accountRlp, keccak256(abi.encodePacked(account)), proof, stateRoot)) {
            return (false, bytes32(0));
        }
        return (true, MerklePatriciaProof.accountStorageRoot(accountRlp));
    }

    /// @notice True if storage slot `slot` holds `word` under `storageRoot`. A zero word is a
    ///         proof that the slot is empty, which is how the trie stores zero.
    function holdsWord(bytes32 storageRoot, bytes32 slot, bytes32 word, bytes[] memory proof)
        internal
        pure
        returns (bool)
    {
        return MerklePatriciaProof.verify(rlpWord(word), keccak256(abi.encode(slot)), proof, storageRoot);
    }

    /// @notice A storage trie leaf value: the RLP string of `word` without leading zero bytes
    ///         (empty for zero).
    function rlpWord(bytes32 word) internal pure returns (bytes memory) {
        uint256 value = uint256(word);
        if (value == 0) return "";
        uint256 length = 32;
        while (value >> ((length - 1) * 8) == 0) length--;
        bytes memory trimmed = new bytes(length);
        for (uint256 i = 0; i < length; i++) {
            trimmed[i] = bytes1(uint8(value >> ((length - 1 - i) * 8)));
        }
        if (length == 1 && uint8(trimmed[0]) < 0x80) return trimmed;
        return abi.encodePacked(bytes1(uint8(0x80 + length)), trimmed);
    }
}
