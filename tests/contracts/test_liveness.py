"""Liveness of the meta-blockchain (issue 16's protocol fixes), on two real anvil chains.

Two attacks found by an outside review, reproduced here call by call:
- a kernel opened and superseded between two finalised origin checkpoints: at the later checkpoint
  OriginCore's slot 0 already holds the next kernel, so the superseded one could never be proven,
  and since kernels are activated strictly in order the auxiliary validator set froze for good.
  Now OriginCore keeps every kernel's hash in `kernelHashes` (slot 1), provable from any later
  finalised checkpoint. Before the fix `test_a_superseded_kernel_is_proven_from_a_later_checkpoint`
  fails: the proof of K1 at the later checkpoint is refused ("kernel not open in origin core").
- dust deposits: 600 deposits of 1 wei made committing a meta-block (which opens the next kernel
  with every joiner) cost more than a block's gas. Now a joiner brings at least 0.1 % of the total
  weight and a kernel takes at most 32 joiners; before the fix the 1-wei deposits in
  `test_dust_deposits_cannot_make_a_commit_outgrow_a_block` succeed and the test fails there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3.logs import DISCARD

from mosaic_tui import metablock
from mosaic_tui.chain import proofs
from mosaic_tui.steps.common import OPEN_KERNEL_HASH_SLOT, kernel_hash_key
from tests.contracts.aux_setup import ORIGIN_EPOCH, TwoChains
from tests.contracts.origin_world import OST, OriginWorld, build_origin, make_validators, reason_of
from tests.helpers import deploy, transact

MAX_JOINERS = 32


@pytest.fixture
def chains(deployed: TwoChains) -> Iterator[TwoChains]:
    """Step 3's deployment with K0 proven; every test starts from the same snapshot."""
    ids = deployed.snapshot()
    deployed.prove_k0()
    yield deployed
    deployed.revert(ids)


def _commit(world: OriginWorld) -> None:
    """Commit the open meta-block with K0's validators, voting until 2/3 of the weight is reached."""
    transition = world.propose()
    for validator in world.validators:
        world.cast(validator, transition)
        if world.core.functions.head().call()[2] == transition.hash():
            break
    assert world.core.functions.head().call()[2] == transition.hash()


def _join(world: OriginWorld, prefix: str, stake: int) -> Any:
    (newcomer,) = make_validators((stake,), prefix=prefix)
    world.fund(newcomer.origin, stake)
    world.approve(newcomer)
    transact(world.w3, world.stake.functions.deposit(newcomer.auxiliary.address, stake), newcomer.origin)
    return newcomer


def _finalise_origin_checkpoint(chains: TwoChains) -> int:
    """Report origin headers and let 2/3 of K0 finalise the first checkpoint after now; its height."""
    origin, store = chains.origin, chains.origin_block_store
    v0, v1, _, _ = origin.validators
    first = -(-origin.w3.eth.block_number // ORIGIN_EPOCH) * ORIGIN_EPOCH
    second = first + ORIGIN_EPOCH
    while origin.w3.eth.block_number < second:
        origin.w3.provider.make_request("evm_mine", [])
    chains.report(store, origin.w3, chains.setup_height + 1, second)
    first_hash, second_hash = (bytes(origin.w3.eth.get_block(n)["hash"]) for n in (first, second))
    ident = chains.origin_identifier
    chains.link([v0, v1], ident, store, bytes(chains.setup_block["hash"]), first_hash)
    chains.link([v0, v1], ident, store, first_hash, second_hash)
    assert store.functions.latestFinalisedHeight().call() == first
    return first


def _kernel_proof(chains: TwoChains, height: int, key: bytes) -> list[bytes]:
    proof = chains.origin.w3.eth.get_proof(chains.origin.core.address, [key], height)
    return proofs.storage_proof_nodes(proof)


def _kernel(world: OriginWorld, height: int) -> metablock.Kernel:
    _, parent, validators, weights = world.core.functions.getKernel(height).call()
    kernel = metablock.Kernel(height, bytes(parent), tuple(validators), tuple(weights))
    assert kernel.hash() == bytes(world.core.functions.kernelHashes(height).call())
    return kernel


def test_a_superseded_kernel_is_proven_from_a_later_checkpoint(chains: TwoChains) -> None:
    origin, gateway, place = chains.origin, chains.kernel_gateway, chains.polling_place
    # K1 brings one newcomer and is superseded by K2 (another newcomer) before any origin
    # checkpoint after set-up is finalised: no finalised origin state ever has K1 open.
    first_joiner = _join(origin, "joiner-1", 5 * OST)
    _commit(origin)
    second_joiner = _join(origin, "joiner-2", 7 * OST)
    _commit(origin)
    assert origin.core.functions.openKernelHeight().call() == 2
    k1, k2 = _kernel(origin, 1), _kernel(origin, 2)
    assert k1.updated_validators == (first_joiner.auxiliary.address,)
    assert k2.parent == k1.hash() and k2.updated_validators == (second_joiner.auxiliary.address,)
    assert origin.core.functions.getOpenKernel().call() == [2, k1.hash(), list(k2.updated_validators),
                                                            list(k2.updated_weights)]

    height = _finalise_origin_checkpoint(chains)
    chains.prove_origin_core(height)
    slot_zero = _kernel_proof(chains, height, proofs.slot_key(OPEN_KERNEL_HASH_SLOT))
    # What froze the validator set before: at this height slot 0 holds K2, and K2 cannot skip K1.
    assert chains.reason(chains.open_call(k1, slot_zero, height)) == "KernelGateway: kernel not open in origin core"
    assert chains.reason(chains.open_call(k2, slot_zero, height)) == "KernelGateway: kernel height skips ahead"
    # A proof of K1's own entry at another height's key does not prove K1.
    assert chains.reason(chains.open_call(k1, _kernel_proof(chains, height, kernel_hash_key(2)), height)) == \
        "KernelGateway: kernel not open in origin core"

    receipt = chains.send(chains.open_call(k1, _kernel_proof(chains, height, kernel_hash_key(1)), height))
    (activated,) = gateway.events.KernelActivated().process_receipt(receipt, errors=DISCARD)
    assert (activated.args.height, activated.args.kernelHash) == (1, k1.hash())
    assert chains.reason(chains.open_call(k1, _kernel_proof(chains, height, kernel_hash_key(1)), height)) == \
        "KernelGateway: stale kernel"
    chains.send(chains.open_call(k2, slot_zero, height))

    assert bytes(gateway.functions.getActiveKernelHash().call()) == origin.open_kernel_hash() == k2.hash()
    assert place.functions.metaBlockHeight().call() == 2
    validators, weights = place.functions.getValidators().call()
    expected = [(v.auxiliary.address, v.stake) for v in origin.validators] + \
        [(first_joiner.auxiliary.address, 5 * OST), (second_joiner.auxiliary.address, 7 * OST)]
    assert list(zip(validators, weights, strict=True)) == expected
    assert place.functions.totalWeight().call() == 312 * OST


def test_dust_deposits_cannot_make_a_commit_outgrow_a_block(anvil: Any) -> None:
    # A plan may set the minimum weight as low as 1 wei; the contract still refuses dust.
    world = build_origin(anvil.w3, minimum_weight=1)
    world.initialize()
    w3, stake, attacker = world.w3, world.stake, world.deployer
    total = sum(v.stake for v in world.validators)
    transact(w3, world.token.functions.approve(stake.address, 10**9 * OST), attacker)
    dust = [make_validators((1,), prefix=f"dust-{i}")[0].auxiliary.address for i in range(MAX_JOINERS + 1)]

    # The attack as reported: one deposit of 1 wei per fresh auxiliary address.
    one_wei = stake.functions.deposit(dust[0], 1)
    assert reason_of(w3, one_wei, attacker) == "Stake: stake below 0.1% of the total weight"
    share = total // 1000
    assert stake.functions.minimumDeposit().call() == share
    assert reason_of(w3, stake.functions.deposit(dust[0], share - 1), attacker) == \
        "Stake: stake below 0.1% of the total weight"

    # With real stake the next kernel fills up, and then takes no one else.
    for address in dust[:MAX_JOINERS]:
        transact(w3, stake.functions.deposit(address, share), attacker)
    assert stake.functions.MAX_JOINERS_PER_KERNEL().call() == MAX_JOINERS
    assert reason_of(w3, stake.functions.deposit(dust[MAX_JOINERS], share), attacker) == \
        "Stake: the next kernel is full"

    transition = world.propose()
    world.cast(world.validators[0], transition)
    receipt = world.cast(world.validators[1], transition)
    (opened,) = world.core.events.KernelOpened().process_receipt(receipt, errors=DISCARD)
    assert opened.args.height == 1 and len(opened.args.updatedValidators) == MAX_JOINERS
    # The commit opening a full kernel stays far inside a block (30M gas on anvil).
    assert receipt.gasUsed < 1_500_000 < w3.eth.get_block("latest")["gasLimit"]

    # The next kernel takes joiners again, each now 0.1 % of the grown total.
    grown = total + MAX_JOINERS * share
    assert stake.functions.minimumDeposit().call() == grown // 1000
    transact(w3, stake.functions.deposit(dust[MAX_JOINERS], grown // 1000), attacker)
    assert stake.functions.getPendingValidators().call() == [dust[MAX_JOINERS]]


def test_a_full_kernel_is_proven_on_the_auxiliary_chain_in_one_block(chains: TwoChains) -> None:
    origin = chains.origin
    transact(origin.w3, origin.token.functions.approve(origin.stake.address, 10**9 * OST), origin.deployer)
    share = origin.stake.functions.minimumDeposit().call()
    for index in range(MAX_JOINERS):
        address = make_validators((share,), prefix=f"full-{index}")[0].auxiliary.address
        transact(origin.w3, origin.stake.functions.deposit(address, share), origin.deployer)
    _commit(origin)
    height = _finalise_origin_checkpoint(chains)
    chains.prove_origin_core(height)
    receipt = chains.send(chains.open_call(_kernel(origin, 1), _kernel_proof(chains, height, kernel_hash_key(1)),
                                           height))
    assert receipt.gasUsed < 2_500_000
    assert len(chains.polling_place.functions.getValidators().call()[0]) == 4 + MAX_JOINERS


def test_deposit_and_stake_limits(anvil: Any) -> None:
    world = build_origin(anvil.w3)
    w3, stake = world.w3, world.stake
    (whale,) = make_validators((2**96,), prefix="whale")
    call = stake.functions.initialize([whale.origin.address], [whale.auxiliary.address], [2**96])
    assert reason_of(w3, call, world.deployer) == "Stake: stake too large"
    token = world.token.address
    from tests.contracts.origin_world import deploy_reason

    assert deploy_reason(w3, "OriginCore", b"\x01" * 20, token, 0, bytes(32), 2**96, 10**6) == \
        "Stake: minimum weight too large"


def test_polling_place_refuses_weights_it_cannot_hold(anvil: Any) -> None:
    w3 = anvil.w3
    gateway = w3.eth.accounts[1]  # stands in for KernelGateway
    stores = [deploy(w3, "OriginBlockStore", b"\x01" * 32, b"\x02" * 32, 0, 4, w3.eth.accounts[2]) for _ in range(2)]
    place = deploy(w3, "PollingPlace", b"\x01" * 20, b"\x02" * 20, stores[0].address, stores[1].address, gateway)
    heavy = place.functions.updateMetaBlockPart([w3.eth.accounts[3]], [2**96])
    assert reason_of(w3, heavy, gateway) == "PollingPlace: weight too large"
    uneven = place.functions.updateMetaBlockPart([w3.eth.accounts[3]], [])
    assert reason_of(w3, uneven, gateway) == "PollingPlace: validators and weights differ in length"
    assert reason_of(w3, place.functions.updateMetaBlockPart([w3.eth.accounts[3]], [1]), w3.eth.accounts[0]) == \
        "PollingPlace: only kernel gateway"
