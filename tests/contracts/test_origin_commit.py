"""Committing meta-blocks in OriginCore on a real chain: proposals, votes signed with the
validators' auxiliary keys, commit at exactly 2/3 of the weight, the next kernel, and every
proposal and vote guard with its reason."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from mosaic_tui import metablock
from tests.contracts.origin_world import (
    INITIAL_AUXILIARY_GAS,
    MAX_ACCUMULATE_GAS,
    OST,
    build_origin,
    keys,
    make_validators,
    reason_of,
)
from tests.helpers import transact

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture
def world(anvil):
    world = build_origin(anvil.w3)
    world.initialize()
    return world


def _proposal_weight(world, transition: metablock.Transition) -> int:
    return world.core.functions.getProposal(transition.hash()).call()[2]


def test_commit_at_exactly_two_thirds_opens_the_next_kernel(world) -> None:
    core, big_a, big_b, ninety_nine, one = world.core, *world.validators
    k0 = world.k0()
    transition = world.propose()
    assert transition.kernel_hash == k0.hash()

    # 100 + 99 of 300 OST: one OST short of two thirds, nothing is committed.
    for validator in (ninety_nine, big_a):
        vote = world.vote_for(transition)
        assert world.verify_call(vote, world.sign(validator, vote)).call() is False
        world.cast(validator, transition)
    assert _proposal_weight(world, transition) == 199 * OST
    assert world.open_kernel_hash() == k0.hash()
    assert core.functions.head().call()[1] == bytes(32)

    # The 1 OST validator brings it to 200 of 300: exactly two thirds commits.
    vote = world.vote_for(transition)
    assert world.verify_call(vote, world.sign(one, vote)).call() is True
    receipt = world.cast(one, transition)

    (committed,) = core.events.MetaBlockCommitted().process_receipt(receipt, errors=DISCARD)
    assert (committed.args.height, committed.args.kernelHash, committed.args.transitionHash,
            committed.args.voteWeight) == (0, k0.hash(), transition.hash(), 200 * OST)
    assert core.functions.head().call() == [
        0, k0.hash(), transition.hash(), transition.auxiliary_dynasty, transition.accumulated_gas,
        transition.origin_dynasty, transition.origin_block_hash, transition.transaction_root]

    k1 = metablock.Kernel(1, k0.hash())
    assert world.open_kernel_hash() == k1.hash() != k0.hash()
    assert bytes(world.w3.eth.get_storage_at(core.address, 0)) == k1.hash()
    assert core.functions.getOpenKernel().call() == [1, k0.hash(), [], []]
    assert core.functions.openKernelTotalWeight().call() == 300 * OST
    (opened,) = core.events.KernelOpened().process_receipt(receipt, errors=DISCARD)
    assert (opened.args.height, opened.args.kernelHash, opened.args.parent) == (1, k1.hash(), k0.hash())
    assert world.stake.functions.openHeight().call() == 1
    (advanced,) = world.stake.events.HeightAdvanced().process_receipt(receipt, errors=DISCARD)
    assert (advanced.args.height, advanced.args.joinedValidators, advanced.args.totalWeight) == (1, 0, 300 * OST)
    # Weights carry over: K0's validators vote at height 1 with the same stake.
    assert world.stake.functions.weight(1, big_b.auxiliary.address).call() == 100 * OST

    # Late votes for the committed meta-block no longer count.
    vote = world.vote_for(transition)
    assert reason_of(world.w3, world.verify_call(vote, world.sign(big_b, vote))) == "OriginCore: proposal is stale"


def test_deposited_validator_joins_the_next_kernel_and_votes_there(world) -> None:
    w3, core, stake = world.w3, world.core, world.stake
    (newcomer,) = make_validators((5 * OST,), prefix="newcomer")
    world.fund(newcomer.origin, newcomer.stake)
    world.approve(newcomer)
    transact(w3, stake.functions.deposit(newcomer.auxiliary.address, newcomer.stake), newcomer.origin)

    first = world.propose()
    vote = world.vote_for(first)
    # Not yet a validator at the open height 0.
    assert reason_of(w3, world.verify_call(vote, world.sign(newcomer, vote))) == "OriginCore: not a validator"
    world.cast(world.validators[0], first)
    world.cast(world.validators[1], first)

    k1 = metablock.Kernel(1, world.k0().hash(), (newcomer.auxiliary.address,), (newcomer.stake,))
    assert world.open_kernel_hash() == k1.hash()
    assert core.functions.openKernelTotalWeight().call() == 305 * OST
    assert stake.functions.getPendingValidators().call() == []

    # 200 of 305 OST is short of two thirds now; the newcomer's 5 OST tips it.
    second = world.propose()
    assert second.kernel_hash == k1.hash()
    world.cast(world.validators[0], second)
    world.cast(world.validators[1], second)
    assert world.open_kernel_hash() == k1.hash()
    world.cast(newcomer, second)
    assert core.functions.head().call()[:3] == [1, k1.hash(), second.hash()]
    assert world.open_kernel_hash() == metablock.Kernel(2, k1.hash()).hash()


def test_proposal_guards(anvil) -> None:
    world = build_origin(anvil.w3)
    w3 = world.w3
    height, transition = world.next_transition()
    assert reason_of(w3, world.propose_call(height, transition)) == "OriginCore: no open kernel"
    world.initialize()

    def reason(height_offset: int = 0, **overrides: object) -> str:
        height, transition = world.next_transition(**overrides)
        return reason_of(w3, world.propose_call(height + height_offset, transition))

    assert reason(height_offset=1) == "OriginCore: wrong height"
    assert reason(auxiliary_block_hash=bytes(32)) == "OriginCore: auxiliary block hash is zero"
    assert reason(auxiliary_dynasty=0) == "OriginCore: auxiliary dynasty not above head"
    assert reason(accumulated_gas=INITIAL_AUXILIARY_GAS - 1) == "OriginCore: accumulated gas below head"
    assert reason(accumulated_gas=INITIAL_AUXILIARY_GAS + MAX_ACCUMULATE_GAS + 1) \
        == "OriginCore: accumulated gas over limit"
    # The limit itself is allowed.
    world.propose(accumulated_gas=INITIAL_AUXILIARY_GAS + MAX_ACCUMULATE_GAS)

    transition = world.propose()
    assert reason_of(w3, world.propose_call(0, transition)) == "OriginCore: already proposed"
    world.cast(world.validators[0], transition)
    world.cast(world.validators[1], transition)
    assert world.core.functions.openKernelHeight().call() == 1

    assert reason(auxiliary_dynasty=transition.auxiliary_dynasty) == "OriginCore: auxiliary dynasty not above head"
    assert reason(origin_dynasty=transition.origin_dynasty - 1) == "OriginCore: origin dynasty below head"
    assert reason(accumulated_gas=transition.accumulated_gas - 1) == "OriginCore: accumulated gas below head"
    assert reason(height_offset=-1) == "OriginCore: wrong height"


def test_vote_guards(world) -> None:
    w3, validator = world.w3, world.validators[0]
    transition = world.propose()

    def reason(vote: metablock.Vote, signature: metablock.VoteSignature | None = None, **kw: object) -> str:
        return reason_of(w3, world.verify_call(vote, signature or world.sign(validator, vote), **kw))

    unknown = world.vote_for(transition, transition_hash=keccak(text="never proposed"))
    assert reason(unknown) == "OriginCore: unknown proposal"
    assert reason(world.vote_for(transition, target=keccak(text="another block"))) \
        == "OriginCore: target is not the proposed block"
    assert reason(world.vote_for(transition, source_height=10, target_height=10)) \
        == "OriginCore: target not above source"

    vote = world.vote_for(transition)
    assert reason(vote, world.sign(keys("outsider"), vote)) == "OriginCore: not a validator"
    # Signed for another core, chain or contract: the recovered key is nobody's.
    other_core = world.vote_for(transition, core_identifier=b"\x02" * 20)
    assert reason(vote, world.sign(validator, other_core)) == "OriginCore: not a validator"
    other_chain = metablock.sign_vote(validator.auxiliary.key, vote, world.chain_id + 1, world.core.address)
    assert reason(vote, other_chain) == "OriginCore: not a validator"
    other_contract = metablock.sign_vote(validator.auxiliary.key, vote, world.chain_id, world.gateway.address)
    assert reason(vote, other_contract) == "OriginCore: not a validator"
    # The PollingPlace-shaped overload refuses a vote for another core outright.
    assert reason(other_core, world.sign(validator, other_core), with_core=True) == "OriginCore: wrong core identifier"

    good = world.sign(validator, vote)
    s = int.from_bytes(good.s, "big")
    high_s = metablock.VoteSignature(good.signer, 55 - good.v, good.r, (SECP256K1_N - s).to_bytes(32, "big"))
    assert reason(vote, high_s) == "MetaBlock: invalid signature"
    assert reason(vote, metablock.VoteSignature(good.signer, 29, good.r, good.s)) == "MetaBlock: invalid signature"
    assert reason(vote, metablock.VoteSignature(good.signer, good.v, bytes(32), good.s)) \
        == "MetaBlock: invalid signature"
    tampered_s = metablock.VoteSignature(good.signer, good.v, good.r, (s ^ 1).to_bytes(32, "big"))
    assert reason(vote, tampered_s) == "OriginCore: not a validator"
    assert _proposal_weight(world, transition) == 0

    # The same vote through the overload with the right core identifier counts, once.
    receipt = transact(w3, world.verify_call(vote, good, with_core=True))
    (counted,) = world.core.events.VoteVerified().process_receipt(receipt, errors=DISCARD)
    assert (counted.args.transitionHash, counted.args.validator, counted.args.weight,
            counted.args.proposalWeight) == (transition.hash(), validator.auxiliary.address, validator.stake,
                                             validator.stake)
    assert world.core.functions.hasVoted(transition.hash(), validator.auxiliary.address).call()
    assert _proposal_weight(world, transition) == validator.stake
    assert reason(vote, good) == "OriginCore: vote already counted"
    # A second signature of the same validator for a different link is still the same validator.
    relink = world.vote_for(transition, source=keccak(text="another source"), source_height=1)
    assert reason(relink) == "OriginCore: vote already counted"
    assert _proposal_weight(world, transition) == validator.stake


def test_competing_proposal_goes_stale_when_another_commits(world) -> None:
    first = world.propose()
    rival = world.propose(auxiliary_block_hash=keccak(text="rival checkpoint"))
    world.cast(world.validators[2], rival)
    world.cast(world.validators[0], first)
    world.cast(world.validators[1], first)
    assert world.core.functions.head().call()[2] == first.hash()
    vote = world.vote_for(rival)
    call = world.verify_call(vote, world.sign(world.validators[3], vote))
    assert reason_of(world.w3, call) == "OriginCore: proposal is stale"
