"""Meta-block hashes and vote signatures: the Python twin of contracts/lib/MetaBlock.sol.

The engine has to know, off chain, the hash OriginCore gives the genesis kernel (to check what the
auxiliary chain will prove), the hash of a transition it proposes, and the digest a validator's
auxiliary key signs for a vote. Those must equal the contracts' EIP-712 hashes bit for bit, with
the encodings contracts/README.md fixes; the contract tests compare the two on a real chain.

Struct hashes are computed directly with eth_abi, and votes are signed through eth_account's
`encode_typed_data`, so the two independent encodings check each other in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_bytes, to_checksum_address

DOMAIN_NAME = "Mosaic"
DOMAIN_VERSION = "0"

DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address"))
KERNEL_FIELDS = (
    ("height", "uint256"),
    ("parent", "bytes32"),
    ("updatedValidators", "address[]"),
    ("updatedWeights", "uint256[]"),
)
TRANSITION_FIELDS = (
    ("coreIdentifier", "bytes20"),
    ("kernelHash", "bytes32"),
    ("auxiliaryDynasty", "uint256"),
    ("auxiliaryBlockHash", "bytes32"),
    ("accumulatedGas", "uint256"),
    ("originDynasty", "uint256"),
    ("originBlockHash", "bytes32"),
    ("transactionRoot", "bytes32"),
)
VOTE_FIELDS = (
    ("coreIdentifier", "bytes20"),
    ("transitionHash", "bytes32"),
    ("source", "bytes32"),
    ("target", "bytes32"),
    ("sourceHeight", "uint256"),
    ("targetHeight", "uint256"),
)


def type_string(name: str, fields: Sequence[tuple[str, str]]) -> str:
    return f"{name}({','.join(f'{kind} {label}' for label, kind in fields)})"


DOMAIN_TYPEHASH = keccak(text=type_string("EIP712Domain", DOMAIN_FIELDS))
KERNEL_TYPEHASH = keccak(text=type_string("Kernel", KERNEL_FIELDS))
TRANSITION_TYPEHASH = keccak(text=type_string("Transition", TRANSITION_FIELDS))
VOTE_TYPEHASH = keccak(text=type_string("Vote", VOTE_FIELDS))

ZERO_HASH = bytes(32)


def _fixed(value: bytes | str, size: int, what: str) -> bytes:
    """Bytes of exactly `size` length from bytes or 0x-hex; a wrong length is a caller bug."""
    raw = bytes(value) if isinstance(value, bytes | bytearray) else to_bytes(hexstr=value)
    if len(raw) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True)
class Kernel:
    """The validator-set part of a meta-block: who joins (auxiliary addresses) at `height`."""

    height: int
    parent: bytes
    updated_validators: tuple[str, ...] = ()
    updated_weights: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parent", _fixed(self.parent, 32, "kernel parent"))
        object.__setattr__(self, "updated_validators", tuple(to_checksum_address(a) for a in self.updated_validators))
        object.__setattr__(self, "updated_weights", tuple(int(w) for w in self.updated_weights))
        if len(self.updated_validators) != len(self.updated_weights):
            raise ValueError("a kernel needs one weight per updated validator")

    def hash(self) -> bytes:
        # EIP-712 hashes an array as keccak of its elements each padded to 32 bytes.
        validators = b"".join(encode(["address"], [a]) for a in self.updated_validators)
        weights = b"".join(encode(["uint256"], [w]) for w in self.updated_weights)
        return keccak(
            encode(
                ["bytes32", "uint256", "bytes32", "bytes32", "bytes32"],
                [KERNEL_TYPEHASH, self.height, self.parent, keccak(validators), keccak(weights)],
            )
        )


def genesis_kernel(auxiliary_addresses: Sequence[str], stakes: Sequence[int]) -> Kernel:
    """K0 as `Stake.initialize` opens it: height 0, zero parent, the initial validators and stakes."""
    return Kernel(0, ZERO_HASH, tuple(auxiliary_addresses), tuple(stakes))


@dataclass(frozen=True)
class Transition:
    """The auxiliary chain's progress a meta-block commits to (from a finalised checkpoint)."""

    core_identifier: bytes
    kernel_hash: bytes
    auxiliary_dynasty: int
    auxiliary_block_hash: bytes
    accumulated_gas: int
    origin_dynasty: int
    origin_block_hash: bytes
    transaction_root: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "core_identifier", _fixed(self.core_identifier, 20, "core identifier"))
        for name in ("kernel_hash", "auxiliary_block_hash", "origin_block_hash", "transaction_root"):
            object.__setattr__(self, name, _fixed(getattr(self, name), 32, name.replace("_", " ")))

    def values(self) -> tuple[Any, ...]:
        return (
            self.core_identifier,
            self.kernel_hash,
            self.auxiliary_dynasty,
            self.auxiliary_block_hash,
            self.accumulated_gas,
            self.origin_dynasty,
            self.origin_block_hash,
            self.transaction_root,
        )

    def hash(self) -> bytes:
        kinds = ["bytes32"] + [kind for _, kind in TRANSITION_FIELDS]
        return keccak(encode(kinds, [TRANSITION_TYPEHASH, *self.values()]))


@dataclass(frozen=True)
class Vote:
    """A validator's Casper FFG link source -> target, cast for a transition of one core."""

    core_identifier: bytes
    transition_hash: bytes
    source: bytes
    target: bytes
    source_height: int
    target_height: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "core_identifier", _fixed(self.core_identifier, 20, "core identifier"))
        for name in ("transition_hash", "source", "target"):
            object.__setattr__(self, name, _fixed(getattr(self, name), 32, name.replace("_", " ")))

    def values(self) -> tuple[Any, ...]:
        return (
            self.core_identifier,
            self.transition_hash,
            self.source,
            self.target,
            self.source_height,
            self.target_height,
        )

    def hash(self) -> bytes:
        kinds = ["bytes32"] + [kind for _, kind in VOTE_FIELDS]
        return keccak(encode(kinds, [VOTE_TYPEHASH, *self.values()]))


def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION), chain_id, verifying_contract],
        )
    )


def digest(separator: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + separator + struct_hash)


def vote_digest(vote: Vote, chain_id: int, verifying_contract: str) -> bytes:
    """What a validator signs for `vote` to be counted by `verifying_contract` on `chain_id`."""
    return digest(domain_separator(chain_id, verifying_contract), vote.hash())


def vote_typed_data(vote: Vote, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The vote as an EIP-712 document (what a wallet or `eth_signTypedData_v4` would sign)."""
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS],
            "Vote": [{"name": n, "type": t} for n, t in VOTE_FIELDS],
        },
        "primaryType": "Vote",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(verifying_contract),
        },
        "message": dict(zip((n for n, _ in VOTE_FIELDS), vote.values(), strict=True)),
    }


@dataclass(frozen=True)
class VoteSignature:
    signer: str
    v: int
    r: bytes = field(repr=False)
    s: bytes = field(repr=False)


def sign_vote(private_key: bytes | str, vote: Vote, chain_id: int, verifying_contract: str) -> VoteSignature:
    """Sign `vote` with a validator's auxiliary key; v is 27/28 and s is in the lower half, as
    MetaBlock.recoverSigner requires."""
    signed = Account.sign_message(encode_typed_data(full_message=vote_typed_data(vote, chain_id, verifying_contract)),
                                  private_key)
    signer = Account.from_key(private_key).address
    return VoteSignature(signer, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))


def has_supermajority(weight: int, total: int) -> bool:
    """Same rule as the contracts: at least two thirds, in exact integer arithmetic."""
    return weight * 3 >= total * 2
