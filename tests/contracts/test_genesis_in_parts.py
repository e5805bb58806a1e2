"""A genesis validator set too large for one block (issue 17), on real anvil chains: `Stake`
registers it in chunks before `initialize` opens K0, and `KernelGateway` brings K0 over in parts.
The kernel hash, the weights and the 2/3 rule are the same as in one transaction; every new guard
reverts with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3.logs import DISCARD

from tests.contracts import aux_setup
from tests.contracts.aux_setup import AUXILIARY_EPOCH, TwoChains
from tests.contracts.origin_world import OST, build_origin, make_validators, reason_of
from tests.helpers import transact


def _args(validators: list[Any]) -> tuple[list[str], list[str], list[int]]:
    return ([v.origin.address for v in validators], [v.auxiliary.address for v in validators],
            [v.stake for v in validators])


def test_chunks_open_the_same_k0_as_one_initialize(anvil: Any) -> None:
    validators = make_validators(tuple((i + 1) * OST for i in range(7)), prefix="chunked")
    world = build_origin(anvil.w3, validators)
    w3, stake, deployer = world.w3, world.stake, world.deployer
    for validator in validators:
        world.approve(validator)

    outsider = w3.eth.accounts[3]
    assert reason_of(w3, stake.functions.registerValidators(*_args(validators[:3])), outsider) == \
        "Stake: only initializer"
    assert reason_of(w3, stake.functions.registerValidators([], [], []), deployer) == "Stake: no validators"
    transact(w3, stake.functions.registerValidators(*_args(validators[:3])), deployer)
    transact(w3, stake.functions.registerValidators(*_args(validators[3:5])), deployer)
    # Nothing is open yet: no kernel, no deposits.
    assert stake.functions.initialized().call() is False
    assert world.open_kernel_hash() == bytes(32)
    # A duplicate is found across chunks as within one.
    again = make_validators((OST,), prefix="again")[0]
    same_origin = stake.functions.registerValidators([validators[0].origin.address], [again.auxiliary.address], [OST])
    assert reason_of(w3, same_origin, deployer) == "Stake: duplicate origin address"
    same_auxiliary = stake.functions.registerValidators([again.origin.address], [validators[4].auxiliary.address],
                                                        [OST])
    assert reason_of(w3, same_auxiliary, deployer) == "Stake: duplicate validator"

    receipt = transact(w3, stake.functions.initialize(*_args(validators[5:])), deployer)
    k0 = world.k0()
    assert world.open_kernel_hash() == k0.hash() == bytes(world.core.functions.kernelHashes(0).call())
    (opened,) = world.core.events.KernelOpened().process_receipt(receipt, errors=DISCARD)
    assert list(opened.args.updatedValidators) == [v.auxiliary.address for v in validators]
    assert list(opened.args.updatedWeights) == [v.stake for v in validators]
    assert world.core.functions.openKernelTotalWeight().call() == 28 * OST
    assert world.token.functions.balanceOf(stake.address).call() == 28 * OST
    assert stake.functions.getValidatorAddresses().call() == [v.auxiliary.address for v in validators]
    assert stake.functions.genesisValidatorOf(validators[6].origin.address).call() == validators[6].auxiliary.address
    assert reason_of(w3, stake.functions.registerValidators(*_args([again])), deployer) == \
        "Stake: already initialized"
    assert reason_of(w3, stake.functions.initialize([], [], []), deployer) == "Stake: already initialized"


def test_initialize_after_chunks_may_bring_no_more(anvil: Any) -> None:
    world = build_origin(anvil.w3)
    for validator in world.validators:
        world.approve(validator)
    transact(world.w3, world.stake.functions.registerValidators(*_args(world.validators)), world.deployer)
    transact(world.w3, world.stake.functions.initialize([], [], []), world.deployer)
    assert world.open_kernel_hash() == world.k0().hash()


@pytest.fixture
def chains(deployed: TwoChains) -> Iterator[TwoChains]:
    ids = deployed.snapshot()
    yield deployed
    deployed.revert(ids)


def _parts_call(chains: TwoChains, name: str, proof: list[bytes]) -> Any:
    k0 = chains.origin.k0()
    return getattr(chains.kernel_gateway.functions, name)(
        0, k0.parent, list(k0.updated_validators), list(k0.updated_weights), proof, chains.setup_height)


def test_k0_is_activated_in_parts_and_no_vote_counts_before_the_last(chains: TwoChains) -> None:
    gateway, place, store = chains.kernel_gateway, chains.polling_place, chains.auxiliary_block_store
    k0 = chains.origin.k0()
    validators, weights = list(k0.updated_validators), list(k0.updated_weights)
    proof = chains.prove_origin_core()
    part = gateway.functions.activateKernelPart(validators, weights, 2)
    assert chains.reason(part) == "KernelGateway: no pending kernel"
    single = gateway.functions.proveKernelOpening(0, k0.parent, validators[:1], weights[:1], proof,
                                                  chains.setup_height)
    assert chains.reason(single) == "KernelGateway: kernel too small to activate in parts"

    chains.send(_parts_call(chains, "proveKernelOpening", proof))
    assert chains.reason(_parts_call(chains, "proveBlockOpening", proof)) == \
        "KernelGateway: a kernel is being activated in parts"
    assert chains.reason(_parts_call(chains, "proveKernelOpening", proof)) == \
        "KernelGateway: a kernel is being activated in parts"
    altered = gateway.functions.activateKernelPart(validators, [weights[0] + 1, *weights[1:]], 2)
    assert chains.reason(altered) == "KernelGateway: not the pending kernel's validators"
    assert chains.reason(gateway.functions.activateKernelPart(validators, weights, 0)) == \
        "KernelGateway: part out of range"
    assert chains.reason(gateway.functions.activateKernelPart(validators, weights, 5)) == \
        "KernelGateway: part out of range"

    chains.send(part)
    assert place.functions.updating().call() is True
    assert bytes(gateway.functions.getActiveKernelHash().call()) == bytes(32)
    # The first two validators hold 200 of the 300 OST, 2/3 of the whole kernel; no vote counts yet.
    chains.report(store, chains.aux_w3, 1, AUXILIARY_EPOCH)
    genesis, first = (bytes(chains.aux_w3.eth.get_block(n)["hash"]) for n in (0, AUXILIARY_EPOCH))
    vote = chains.vote_call(chains.origin.validators[0], chains.auxiliary_identifier, genesis, first, store)
    assert chains.reason(vote) == "PollingPlace: kernel update in progress"
    assert chains.reason(gateway.functions.activateKernelPart(validators, weights, 2)) == \
        "KernelGateway: part out of range"

    receipt = chains.send(gateway.functions.activateKernelPart(validators, weights, 4))
    (activated,) = gateway.events.KernelActivated().process_receipt(receipt, errors=DISCARD)
    assert (activated.args.height, activated.args.kernelHash, activated.args.originHeight) == \
        (0, k0.hash(), chains.setup_height)
    assert bytes(gateway.functions.getActiveKernelHash().call()) == chains.origin.open_kernel_hash() == k0.hash()
    assert place.functions.updating().call() is False
    assert place.functions.getValidators().call() == [validators, weights]
    assert place.functions.totalWeight().call() == 300 * OST
    assert chains.reason(gateway.functions.activateKernelPart(validators, weights, 4)) == \
        "KernelGateway: no pending kernel"
    # Votes count again, under the whole kernel's weight.
    chains.send(vote)
    assert place.functions.voteWeight(aux_setup.metablock.Vote(
        chains.auxiliary_identifier, aux_setup.TRANSITION_HASH, genesis, first, 0, AUXILIARY_EPOCH).hash()).call() == \
        100 * OST
