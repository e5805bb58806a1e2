"""MetaBlock.sol and mosaic_tui.metablock compute the same EIP-712 hashes, and signer recovery
refuses malformed signatures. Runs the library on anvil through MetaBlockHarness."""

from __future__ import annotations

import os

import pytest
from eth_account.messages import encode_typed_data
from eth_keys import KeyAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mosaic_tui import metablock
from tests.contracts.origin_world import keys
from tests.helpers import deploy

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture
def harness(anvil):
    return deploy(anvil.w3, "MetaBlockHarness")


def _random_vote() -> metablock.Vote:
    return metablock.Vote(os.urandom(20), os.urandom(32), os.urandom(32), os.urandom(32),
                          int.from_bytes(os.urandom(4), "big"), int.from_bytes(os.urandom(8), "big"))


def test_typehashes_are_the_readme_type_strings() -> None:
    assert metablock.type_string("Kernel", metablock.KERNEL_FIELDS) == (
        "Kernel(uint256 height,bytes32 parent,address[] updatedValidators,uint256[] updatedWeights)")
    assert metablock.type_string("Vote", metablock.VOTE_FIELDS) == (
        "Vote(bytes20 coreIdentifier,bytes32 transitionHash,bytes32 source,bytes32 target,"
        "uint256 sourceHeight,uint256 targetHeight)")
    assert metablock.type_string("Transition", metablock.TRANSITION_FIELDS) == (
        "Transition(bytes20 coreIdentifier,bytes32 kernelHash,uint256 auxiliaryDynasty,bytes32 auxiliaryBlockHash,"
        "uint256 accumulatedGas,uint256 originDynasty,bytes32 originBlockHash,bytes32 transactionRoot)")


def test_kernel_hash_matches_contract_and_eip712(harness) -> None:
    validators = [keys(f"kernel-{i}").address for i in range(5)]
    weights = [10**18 * (i + 1) + i for i in range(5)]
    for height, parent, count in ((0, bytes(32), 5), (7, os.urandom(32), 2), (3, os.urandom(32), 0)):
        kernel = metablock.Kernel(height, parent, tuple(validators[:count]), tuple(weights[:count]))
        assert bytes(harness.functions.hashKernel(height, parent, validators[:count], weights[:count]).call()) \
            == kernel.hash()
        # eth_account's independent EIP-712 encoder agrees on the struct hash.
        document = {
            "types": {"EIP712Domain": [], "Kernel": [{"name": n, "type": t} for n, t in metablock.KERNEL_FIELDS]},
            "primaryType": "Kernel",
            "domain": {},
            "message": {"height": height, "parent": parent, "updatedValidators": validators[:count],
                        "updatedWeights": weights[:count]},
        }
        assert encode_typed_data(full_message=document).body == kernel.hash()


def test_kernel_hash_depends_on_every_field() -> None:
    base = metablock.genesis_kernel([keys("a").address], [5])
    variants = [
        metablock.Kernel(1, bytes(32), base.updated_validators, base.updated_weights),
        metablock.Kernel(0, b"\x01" * 32, base.updated_validators, base.updated_weights),
        metablock.Kernel(0, bytes(32), (keys("b").address,), base.updated_weights),
        metablock.Kernel(0, bytes(32), base.updated_validators, (6,)),
    ]
    assert len({base.hash(), *(k.hash() for k in variants)}) == 5


def test_transition_and_vote_hashes_match_contract(harness) -> None:
    for _ in range(3):
        transition = metablock.Transition(os.urandom(20), os.urandom(32), 12, os.urandom(32), 2**200 + 1,
                                          99, os.urandom(32), os.urandom(32))
        assert bytes(harness.functions.hashTransition(transition.values()).call()) == transition.hash()
        vote = _random_vote()
        assert bytes(harness.functions.hashVote(vote.values()).call()) == vote.hash()


def test_domain_separator_and_digest_match_contract_and_eip712(harness, anvil) -> None:
    verifying = keys("verifying-contract").address
    vote = _random_vote()
    separator = metablock.domain_separator(anvil.chain_id, verifying)
    assert bytes(harness.functions.domainSeparator(anvil.chain_id, verifying).call()) == separator
    signable = encode_typed_data(full_message=metablock.vote_typed_data(vote, anvil.chain_id, verifying))
    assert signable.header == separator and signable.body == vote.hash()
    assert bytes(harness.functions.digest(separator, vote.hash()).call()) \
        == metablock.vote_digest(vote, anvil.chain_id, verifying)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(min_value=0, max_value=2**120), offset=st.integers(min_value=-3, max_value=3))
def test_supermajority_rule_matches_contract(harness, total: int, offset: int) -> None:
    # Weights around the 2/3 boundary are where an off-by-one would show.
    weight = max(total * 2 // 3 + offset, 0)
    expected = weight * 3 >= total * 2
    assert metablock.has_supermajority(weight, total) is expected
    assert harness.functions.hasSupermajority(weight, total).call() is expected


def test_supermajority_boundary_is_exact() -> None:
    assert metablock.has_supermajority(200, 300) and not metablock.has_supermajority(199, 300)
    assert metablock.has_supermajority(2, 3) and not metablock.has_supermajority(1, 3)
    assert metablock.has_supermajority(0, 0)


def test_recover_signer_returns_the_auxiliary_key(harness, anvil) -> None:
    validator = keys("recover")
    vote = _random_vote()
    verifying = keys("verifying-contract").address
    signature = metablock.sign_vote(validator.key, vote, anvil.chain_id, verifying)
    assert signature.signer == validator.address and signature.v in (27, 28)
    assert int.from_bytes(signature.s, "big") <= SECP256K1_N // 2
    digest = metablock.vote_digest(vote, anvil.chain_id, verifying)
    assert harness.functions.recoverSigner(digest, signature.v, signature.r, signature.s).call() == validator.address


def test_recover_signer_rejects_malformed_signatures(harness, anvil) -> None:
    from web3.exceptions import ContractLogicError

    vote = _random_vote()
    verifying = keys("verifying-contract").address
    signature = metablock.sign_vote(keys("recover").key, vote, anvil.chain_id, verifying)
    digest = metablock.vote_digest(vote, anvil.chain_id, verifying)
    high_s = (SECP256K1_N - int.from_bytes(signature.s, "big")).to_bytes(32, "big")
    flipped_v = 55 - signature.v
    twin = KeyAPI.Signature(vrs=(flipped_v - 27, int.from_bytes(signature.r, "big"), int.from_bytes(high_s, "big")))
    assert twin.recover_public_key_from_msg_hash(digest).to_checksum_address() == signature.signer
    bad = [
        (signature.v - 27, signature.r, signature.s),  # v as 0/1, which ecrecover does not take
        (29, signature.r, signature.s),
        (flipped_v, signature.r, high_s),  # the malleable twin: would recover the same signer
        (signature.v, bytes(32), signature.s),  # r = 0: ecrecover yields the zero address
    ]
    for v, r, s in bad:
        with pytest.raises(ContractLogicError) as caught:
            harness.functions.recoverSigner(digest, v, r, s).call()
        assert "MetaBlock: invalid signature" in str(caught.value)
