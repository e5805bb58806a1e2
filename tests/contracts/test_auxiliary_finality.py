"""Casper FFG on the auxiliary chain, on two real anvil chains: headers of both chains reported as
RLP, validators' EIP-712 votes counted by weight in `PollingPlace`, checkpoints justified at 2/3 and
finalised by their child checkpoint; a stake made on origin after set-up is minted once an origin
checkpoint holding it is finalised. Every guard on that path reverts with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils import keccak
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from mosaic_tui import metablock
from mosaic_tui.chain.header import encode_header
from tests.contracts import aux_setup
from tests.contracts.aux_setup import AUXILIARY_EPOCH, ORIGIN_EPOCH, TwoChains
from tests.contracts.origin_world import OST


@pytest.fixture
def chains(deployed: TwoChains) -> Iterator[TwoChains]:
    """Step 3's deployment with K0 proven; every test starts from the same snapshot."""
    ids = deployed.snapshot()
    deployed.prove_k0()
    yield deployed
    deployed.revert(ids)


def aux_hash(chains: TwoChains, number: int) -> bytes:
    return bytes(chains.aux_w3.eth.get_block(number)["hash"])


def report_aux(chains: TwoChains, last: int) -> None:
    """Report auxiliary blocks 1..last (each report is itself a new block, so the chain keeps ahead)."""
    chains.report(chains.auxiliary_block_store, chains.aux_w3, 1, last)


def justified_events(chains: TwoChains, store: Any, receipt: Any) -> list[Any]:
    return list(store.events.CheckpointJustified().process_receipt(receipt, errors=DISCARD))


def test_headers_extend_the_auxiliary_store_with_accumulated_gas(chains: TwoChains) -> None:
    store = chains.auxiliary_block_store
    report_aux(chains, 2 * AUXILIARY_EPOCH)
    gas = 0
    for number in range(1, 2 * AUXILIARY_EPOCH + 1):
        block = chains.aux_w3.eth.get_block(number)
        gas += block["gasUsed"]
        assert store.functions.accumulatedGas(block["hash"]).call() == gas
        assert store.functions.getBlock(block["hash"]).call() == \
            [block["parentHash"], block["stateRoot"], number, True]
        assert store.functions.isCheckpoint(block["hash"]).call() is (number % AUXILIARY_EPOCH == 0)
    assert gas > 0
    assert store.functions.head().call() == aux_hash(chains, 2 * AUXILIARY_EPOCH)
    assert store.functions.isCheckpoint(aux_hash(chains, 0)).call() is True


def test_report_guards(chains: TwoChains) -> None:
    store = chains.auxiliary_block_store
    w3 = chains.aux_w3
    report_aux(chains, 3)
    assert chains.reason(store.functions.reportBlock(encode_header(w3.eth.get_block(5)))) == \
        "BlockStore: unknown parent"
    assert chains.reason(store.functions.reportBlock(encode_header(w3.eth.get_block(3)))) == \
        "BlockStore: block already reported"
    wrong_number = aux_setup.forged_header(w3.eth.get_block(4), number=5)
    assert chains.reason(store.functions.reportBlock(wrong_number)) == "BlockStore: height is not parent + 1"
    assert chains.reason(store.functions.reportBlock(b"\xc3\x01\x02\x03")) == "BlockHeader: fewer than 15 fields"
    assert store.functions.head().call() == aux_hash(chains, 3)
    with pytest.raises(ContractLogicError, match="BlockStore: unknown block"):
        store.functions.heightOf(aux_hash(chains, 4)).call()


def test_votes_of_two_thirds_of_the_weight_justify_and_finalise_auxiliary_checkpoints(chains: TwoChains) -> None:
    store, place = chains.auxiliary_block_store, chains.polling_place
    v0, v1, v2, v3 = chains.origin.validators  # weights 100, 100, 99, 1 OST of 300
    ident = chains.auxiliary_identifier
    report_aux(chains, 2 * AUXILIARY_EPOCH)
    genesis, first, second = (aux_hash(chains, n) for n in (0, AUXILIARY_EPOCH, 2 * AUXILIARY_EPOCH))

    chains.link([v0, v2], ident, store, genesis, first)  # 199 of 300: one OST short
    assert store.functions.isJustified(first).call() is False
    vote_hash = metablock.Vote(ident, aux_setup.TRANSITION_HASH, genesis, first, 0, AUXILIARY_EPOCH).hash()
    assert place.functions.voteWeight(vote_hash).call() == 199 * OST
    receipt = chains.send(chains.vote_call(v3, ident, genesis, first, store))  # 200: exactly 2/3
    assert [e.args.target for e in justified_events(chains, store, receipt)] == [first]
    assert store.functions.isJustified(first).call() is True
    assert store.functions.isFinalised(first).call() is False
    assert chains.reason(store.functions.stateRoot(AUXILIARY_EPOCH)) == "BlockStore: height not finalised"
    assert store.functions.latestFinalisedHeight().call() == 0

    chains.link([v0, v1], ident, store, first, second)
    assert store.functions.isJustified(second).call() is True
    assert store.functions.isFinalised(first).call() is True
    assert store.functions.isFinalised(second).call() is False
    assert store.functions.latestFinalisedHeight().call() == AUXILIARY_EPOCH
    assert store.functions.stateRoot(AUXILIARY_EPOCH).call() == \
        chains.aux_w3.eth.get_block(AUXILIARY_EPOCH)["stateRoot"]
    active_kernel = chains.kernel_gateway.functions.getActiveKernelHash().call()
    assert store.functions.checkpointKernelHash(second).call() == active_kernel

    # A late vote still counts, but the link is not justified a second time.
    late = chains.send(chains.vote_call(v2, ident, first, second, store))
    assert justified_events(chains, store, late) == []


def test_vote_guards(chains: TwoChains) -> None:
    store = chains.auxiliary_block_store
    v0, v1, v2, v3 = chains.origin.validators
    ident = chains.auxiliary_identifier
    report_aux(chains, 2 * AUXILIARY_EPOCH + 1)
    genesis, first, second = (aux_hash(chains, n) for n in (0, AUXILIARY_EPOCH, 2 * AUXILIARY_EPOCH))
    odd = aux_hash(chains, AUXILIARY_EPOCH + 1)

    def reason(voter: Any, source: bytes, target: bytes, identifier: bytes = ident, **heights: int) -> str:
        return chains.reason(chains.vote_call(voter, identifier, source, target, store, **heights))

    assert reason(v0, genesis, first, b"\x07" * 20) == "PollingPlace: unknown core identifier"
    assert reason(chains.proposer, genesis, first) == "PollingPlace: not a validator"
    assert reason(v0, first, second) == "BlockStore: source not justified"
    assert reason(v0, genesis, b"\x01" * 32, target_height=AUXILIARY_EPOCH) == "BlockStore: unknown target"
    assert reason(v0, genesis, odd) == "BlockStore: target not a checkpoint"
    assert reason(v0, genesis, first, source_height=1) == "PollingPlace: wrong source height"
    assert reason(v0, genesis, first, target_height=2 * AUXILIARY_EPOCH) == "PollingPlace: wrong target height"
    signed = chains.vote_call(v0, ident, genesis, first, store)
    v, r, s = signed.args[-3:]
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    # The same signature's twin (n - s, flipped v) recovers the same signer; only low s is accepted.
    twin_s = (n - int.from_bytes(s, "big")).to_bytes(32, "big")
    twin = chains.polling_place.functions.vote(*signed.args[:-3], 55 - v, r, twin_s)
    assert chains.reason(twin) == "MetaBlock: invalid signature"

    chains.send(chains.vote_call(v0, ident, genesis, first, store))
    assert reason(v0, genesis, first) == "PollingPlace: target height already voted"
    # A forged sibling of the first checkpoint: same height, so v0 may not vote for it either.
    forged = aux_setup.forged_header(chains.aux_w3.eth.get_block(AUXILIARY_EPOCH))
    chains.send(store.functions.reportBlock(forged))
    sibling = keccak(forged)
    assert reason(v0, genesis, sibling) == "PollingPlace: target height already voted"

    # Validators may justify a forged block -- that is what they are accountable for -- but a link
    # from it to the real chain is refused, and so is one to its own height.
    chains.link([v1, v2, v3], ident, store, genesis, sibling)
    assert store.functions.isJustified(sibling).call() is True
    assert reason(v1, sibling, second) == "BlockStore: target does not descend from source"
    assert reason(v1, sibling, sibling) == "BlockStore: target not above source"


def test_only_links_from_the_finalised_chain_count(chains: TwoChains) -> None:
    store = chains.auxiliary_block_store
    v0, v1, v2, _ = chains.origin.validators
    ident = chains.auxiliary_identifier
    report_aux(chains, 3 * AUXILIARY_EPOCH)
    genesis, first, second, third = (aux_hash(chains, n * AUXILIARY_EPOCH) for n in range(4))
    chains.link([v0, v1], ident, store, genesis, first)
    chains.link([v0, v1], ident, store, first, second)
    assert store.functions.latestFinalisedHeight().call() == AUXILIARY_EPOCH
    # genesis is justified (and finalised) but lies below the latest finalised checkpoint.
    assert chains.reason(chains.vote_call(v2, ident, genesis, third, store)) == \
        "BlockStore: source not on the finalised chain"
    chains.send(chains.vote_call(v2, ident, second, third, store))


def test_a_link_that_skips_an_epoch_justifies_without_finalising(chains: TwoChains) -> None:
    store = chains.auxiliary_block_store
    v0, v1, _, _ = chains.origin.validators
    ident = chains.auxiliary_identifier
    report_aux(chains, 4 * AUXILIARY_EPOCH)
    genesis, first, _, third, fourth = (aux_hash(chains, n * AUXILIARY_EPOCH) for n in range(5))
    chains.link([v0, v1], ident, store, genesis, first)
    chains.link([v0, v1], ident, store, first, third)
    assert store.functions.isJustified(third).call() is True
    assert store.functions.isFinalised(first).call() is False  # third is not first's direct child
    chains.link([v0, v1], ident, store, third, fourth)
    assert store.functions.isFinalised(third).call() is True
    assert store.functions.isFinalised(first).call() is False
    assert store.functions.latestFinalisedHeight().call() == 3 * AUXILIARY_EPOCH
    assert chains.reason(store.functions.stateRoot(AUXILIARY_EPOCH)) == "BlockStore: height not finalised"


def test_origin_checkpoints_finalised_by_votes_let_a_later_stake_be_minted(chains: TwoChains) -> None:
    origin = chains.origin
    store = chains.origin_block_store
    v0, v1, _, _ = origin.validators
    ident = chains.origin_identifier
    setup = chains.setup_height
    # Two stakes after set-up: one for a plain account, one for a contract that refuses base coin.
    later = aux_setup.gateway_stake(origin, v0.origin, v0.auxiliary.address, 2 * OST)
    refused = aux_setup.gateway_stake(origin, origin.deployer, chains.proposer_set.address, 1 * OST)
    # The first checkpoint at or after both stakes, and the next one.
    first = -(-origin.w3.eth.block_number // ORIGIN_EPOCH) * ORIGIN_EPOCH
    second = first + ORIGIN_EPOCH
    while origin.w3.eth.block_number < second:
        origin.w3.provider.make_request("evm_mine", [])
    chains.report(store, origin.w3, setup + 1, second)
    assert store.functions.head().call() == origin.w3.eth.get_block(second)["hash"]
    first_hash, second_hash = (bytes(origin.w3.eth.get_block(n)["hash"]) for n in (first, second))

    gateway_rlp, gateway_nodes, _ = chains.account_args(origin.gateway.address, first)
    prove = chains.ost_prime.functions.proveGateway(gateway_rlp, gateway_nodes, first)
    assert chains.reason(prove) == "BlockStore: height not finalised"

    # The trusted set-up block is the first source; the link may span several epochs.
    chains.link([v0, v1], ident, store, bytes(chains.setup_block["hash"]), first_hash)
    chains.link([v0, v1], ident, store, first_hash, second_hash)
    assert store.functions.isFinalised(first_hash).call() is True
    assert store.functions.latestFinalisedHeight().call() == first
    assert store.functions.stateRoot(first).call() == origin.w3.eth.get_block(first)["stateRoot"]
    # Origin votes and auxiliary votes are separate: the same heights are still open on the other chain.
    last_aux_vote = chains.polling_place.functions.lastTargetHeight(chains.auxiliary_identifier, v0.auxiliary.address)
    assert last_aux_vote.call() == 0

    chains.send(prove)
    chains.send(chains.mint_call(later, chains.stake_proof(later, first), first))
    assert chains.aux_w3.eth.get_balance(v0.auxiliary.address) == 2 * OST
    assert chains.reason(chains.mint_call(refused, chains.stake_proof(refused, first), first)) == \
        "OSTPrime: transfer failed"
    assert chains.ost_prime.functions.minted(refused.message_hash).call() is False
    # At the set-up block the stake did not exist yet: a proof there shows its entry absent.
    chains.prove_gateway()
    assert chains.reason(chains.mint_call(refused, chains.stake_proof(refused))) == "OSTPrime: stake not proven"
    assert chains.reason(chains.mint_call(later, chains.stake_proof(later, first), first)) == "OSTPrime: already minted"
