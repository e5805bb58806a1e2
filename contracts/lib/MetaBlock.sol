// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title MetaBlock
/// @notice The hashes both chains must agree on: EIP-712 `hashStruct` of a meta-block's kernel and
///         transition, the vote digest validators sign, and the 2/3 weight rule. `OriginCore` on
///         origin and `PollingPlace`/`KernelGateway` on the auxiliary chain use this one library, and
///         `mosaic_tui.metablock` mirrors it in Python; contracts/README.md fixes the encodings.
library MetaBlock {
    struct Kernel {
        uint256 height;
        bytes32 parent;
        address[] updatedValidators;
        uint256[] updatedWeights;
    }

    struct Transition {
        bytes20 coreIdentifier;
        bytes32 kernelHash;
        uint256 auxiliaryDynasty;
        bytes32 auxiliaryBlockHash;
        uint256 accumulatedGas;
        uint256 originDynasty;
        bytes32 originBlockHash;
        bytes32 transactionRoot;
    }

    struct Vote {
        bytes20 coreIdentifier;
        bytes32 transitionHash;
        bytes32 source;
        bytes32 target;
        uint256 sourceHeight;
        uint256 targetHeight;
    }

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant KERNEL_TYPEHASH =
        keccak256("Kernel(uint256 height,bytes32 parent,address[] updatedValidators,uint256[] updatedWeights)");
    bytes32 internal constant TRANSITION_TYPEHASH = keccak256(
        "Transition(bytes20 coreIdentifier,bytes32 kernelHash,uint256 auxiliaryDynasty,bytes32 auxiliaryBlockHash,"
        "uint256 accumulatedGas,uint256 originDynasty,bytes32 originBlockHash,bytes32 transactionRoot)"
    );
    bytes32 internal constant VOTE_TYPEHASH = keccak256(
        "Vote(bytes20 coreIdentifier,bytes32 transitionHash,bytes32 source,bytes32 target,"
        "uint256 sourceHeight,uint256 targetHeight)"
    );
    bytes32 internal constant DOMAIN_NAME_HASH = keccak256("Mosaic");
    bytes32 internal constant DOMAIN_VERSION_HASH = keccak256("0");

    /// @dev secp256k1n / 2. A signature with a larger s has a twin (n - s, flipped v) that
    ///      recovers the same signer, so accepting both would let one vote be replayed in a
    ///      second encoding.
    uint256 internal constant HALF_CURVE_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    function domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, chainId, verifyingContract)
        );
    }

    /// @dev EIP-712 encodes a dynamic array as the hash of its elements each padded to 32 bytes,
    ///      which is exactly what `abi.encodePacked` does to array elements.
    function hashKernel(Kernel memory kernel) internal pure returns (bytes32) {
        return hashKernel(kernel.height, kernel.parent, kernel.updatedValidators, kernel.updatedWeights);
    }

    function hashKernel(
        uint256 height,
        bytes32 parent,
        address[] memory updatedValidators,
        uint256[] memory updatedWeights
    ) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                KERNEL_TYPEHASH,
                height,
                parent,
                keccak256(abi.encodePacked(updatedValidators)),
                keccak256(abi.encodePacked(updatedWeights))
            )
        );
    }

    function hashTransition(Transition memory transition) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TRANSITION_TYPEHASH,
                transition.coreIdentifier,
                transition.kernelHash,
                transition.auxiliaryDynasty,
                transition.auxiliaryBlockHash,
                transition.accumulatedGas,
                transition.originDynasty,
                transition.originBlockHash,
                transition.transactionRoot
            )
        );
    }

    function hashVote(Vote memory vote) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                VOTE_TYPEHASH,
                vote.coreIdentifier,
                vote.transitionHash,
                vote.source,
                vote.target,
                vote.sourceHeight,
                vote.targetHeight
            )
        );
    }

    /// @notice The message a validator signs: `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`.
    function digest(bytes32 domainSeparator_, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator_, structHash));
    }

    /// @notice True when `weight` is at least two thirds of `total`. Multiplying instead of
    ///         dividing keeps the rule exact for every total.
    function hasSupermajority(uint256 weight, uint256 total) internal pure returns (bool) {
        return weight * 3 >= total * 2;
    }

    /// @notice The address that signed `digest_`; reverts rather than return a meaningless
    ///         address, since `ecrecover` maps malformed input to 0 or to a random key.
    function recoverSigner(bytes32 digest_, uint8 v, bytes32 r, bytes32 s) internal pure returns (address) {
        require(v == 27 || v == 28, "MetaBlock: invalid signature");
        require(uint256(s) <= HALF_CURVE_ORDER, "MetaBlock: invalid signature");
        address signer = ecrecover(digest_, v, r, s);
        require(signer != address(0), "MetaBlock: invalid signature");
        return signer;
    }
}
