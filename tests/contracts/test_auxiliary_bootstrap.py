"""Steps 3 and 4 at the contract level, on two real anvil chains: prove K0 from origin with real
`eth_getProof` data, mint base coin for every gateway stake, hand block proposal to the validators;
and every guard on that path reverts with its reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from mosaic_tui.chain import proofs
from tests.contracts import aux_setup
from tests.contracts.aux_setup import TwoChains
from tests.contracts.origin_world import deploy_reason

SYSTEM = "0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE"
ZERO = "0x" + "00" * 20
HASH = keccak(text="some block")


def planned(chains: TwoChains) -> tuple[list[str], list[int]]:
    return ([v.auxiliary.address for v in chains.origin.validators], [v.stake for v in chains.origin.validators])


def system_call(chains: TwoChains, fn: Any) -> Any:
    """Send `fn` as the SYSTEM address, the way an Aura client calls `finalizeChange`."""
    w3 = chains.aux_w3
    w3.provider.make_request("anvil_impersonateAccount", [SYSTEM])
    try:
        tx_hash = w3.eth.send_transaction(fn.build_transaction({"from": SYSTEM, "gasPrice": 0}))
        return w3.eth.wait_for_transaction_receipt(tx_hash)
    finally:
        w3.provider.make_request("anvil_stopImpersonatingAccount", [SYSTEM])


def test_bootstrap_proves_k0_mints_every_stake_and_hands_over(chains: TwoChains) -> None:
    w3 = chains.aux_w3
    validators, weights = planned(chains)
    supply = aux_setup.BASE_COIN_SUPPLY
    assert chains.polling_place.functions.getValidators().call() == [[], []]
    assert chains.proposer_set.functions.getValidators().call() == [chains.proposer.address]
    assert w3.eth.get_balance(chains.ost_prime.address) == supply
    # The trusted checkpoint is finalised from the start; its root is the set-up block's.
    assert chains.origin_block_store.functions.stateRoot(chains.setup_height).call() == chains.setup_block["stateRoot"]

    chains.prove_k0()
    assert chains.polling_place.functions.getValidators().call() == [validators, weights]
    assert chains.polling_place.functions.totalWeight().call() == sum(weights)
    open_kernel = bytes(chains.origin.core.functions.openKernelHash().call())
    assert bytes(chains.kernel_gateway.functions.getActiveKernelHash().call()) == open_kernel
    assert open_kernel == chains.origin.k0().hash()
    assert bytes(chains.auxiliary_block_store.functions.activeKernelHash().call()) == open_kernel

    chains.prove_gateway()
    for stake in chains.stakes:
        chains.send(chains.mint_call(stake, chains.stake_proof(stake)))
    for stake in chains.stakes:
        assert w3.eth.get_balance(stake.beneficiary) == stake.amount
        assert chains.ost_prime.functions.minted(stake.message_hash).call() is True
    assert w3.eth.get_balance(chains.ost_prime.address) == supply - sum(s.amount for s in chains.stakes)

    receipt = chains.send(chains.proposer_set.functions.handOver(validators))
    (change,) = chains.proposer_set.events.InitiateChange().process_receipt(receipt, errors=DISCARD)
    assert change.args._newSet == validators
    assert change.args._parentHash == w3.eth.get_block(receipt.blockNumber - 1)["hash"]
    # The engine reads the last finalized set until its finalizeChange enacts the signalled one.
    assert chains.proposer_set.functions.getValidators().call() == [chains.proposer.address]
    assert chains.proposer_set.functions.getPendingValidators().call() == validators
    assert chains.proposer_set.functions.finalized().call() is False

    system_call(chains, chains.proposer_set.functions.finalizeChange())
    assert chains.proposer_set.functions.finalized().call() is True
    assert chains.proposer_set.functions.getValidators().call() == validators


def test_kernel_gateway_accepts_only_a_proof_of_origin_core_at_a_finalised_height(chains: TwoChains) -> None:
    gateway = chains.kernel_gateway
    height = chains.setup_height
    core = chains.origin.core.address
    account_rlp, nodes, _ = chains.account_args(core, height)
    assert chains.reason(gateway.functions.proveOriginCore(account_rlp, nodes, height - 1)) == \
        "BlockStore: height not finalised"
    other_rlp, other_nodes, _ = chains.account_args(chains.origin.gateway.address, height)
    assert chains.reason(gateway.functions.proveOriginCore(other_rlp, other_nodes, height)) == \
        "KernelGateway: invalid account proof"
    # OriginCore's own proof, but from the block before the set-up block.
    old_rlp, old_nodes, _ = chains.account_args(core, height - 1)
    assert chains.reason(gateway.functions.proveOriginCore(old_rlp, old_nodes, height)) == \
        "KernelGateway: invalid account proof"
    # A true account value with the proof of another account.
    assert chains.reason(gateway.functions.proveOriginCore(account_rlp, other_nodes, height)) == \
        "KernelGateway: invalid account proof"
    assert chains.reason(gateway.functions.proveOriginCore(b"", nodes, height)) == \
        "KernelGateway: invalid account proof"
    assert gateway.functions.originCoreStorageRoot(height).call() == bytes(32)

    chains.send(gateway.functions.proveOriginCore(account_rlp, nodes, height))
    assert gateway.functions.originCoreStorageRoot(height).call() == \
        chains.origin.w3.eth.get_proof(core, [], height)["storageHash"]


def test_kernel_gateway_activates_only_the_open_kernel_in_order(chains: TwoChains) -> None:
    from mosaic_tui.metablock import Kernel

    k0 = chains.origin.k0()
    validators, weights = list(k0.updated_validators), list(k0.updated_weights)
    height = chains.setup_height
    slot0 = chains.origin.w3.eth.get_proof(chains.origin.core.address, [proofs.slot_key(0)], height)
    storage_proof = proofs.storage_proof_nodes(slot0)
    assert chains.reason(chains.open_call(k0, storage_proof)) == "KernelGateway: origin core not proven at height"

    assert chains.prove_origin_core() == storage_proof
    swapped = Kernel(0, k0.parent, tuple(validators), tuple(reversed(weights)))
    assert chains.reason(chains.open_call(swapped, storage_proof)) == "KernelGateway: kernel not open in origin core"
    fewer = Kernel(0, k0.parent, tuple(validators[:3]), tuple(weights[:3]))
    assert chains.reason(chains.open_call(fewer, storage_proof)) == "KernelGateway: kernel not open in origin core"
    slot1 = chains.origin.w3.eth.get_proof(chains.origin.core.address, [proofs.slot_key(1)], height)
    assert chains.reason(chains.open_call(k0, proofs.storage_proof_nodes(slot1))) == \
        "KernelGateway: kernel not open in origin core"
    unequal = chains.kernel_gateway.functions.proveBlockOpening(0, k0.parent, validators, weights[:3], storage_proof,
                                                                height)
    assert chains.reason(unequal) == "KernelGateway: validators and weights differ in length"
    assert chains.reason(chains.open_call(Kernel(1, k0.hash(), (), ()), storage_proof)) == \
        "KernelGateway: kernel height skips ahead"
    assert chains.reason(chains.open_call(Kernel(0, HASH, tuple(validators), tuple(weights)), storage_proof)) == \
        "KernelGateway: parent is not the active kernel"
    assert chains.kernel_gateway.functions.getActiveKernelHash().call() == bytes(32)

    chains.send(chains.open_call(k0, storage_proof))
    assert chains.reason(chains.open_call(k0, storage_proof)) == "KernelGateway: stale kernel"
    assert chains.polling_place.functions.getValidators().call() == [validators, weights]


def test_mint_releases_base_coin_only_for_a_proven_stake_and_only_once(chains: TwoChains) -> None:
    prime = chains.ost_prime
    height = chains.setup_height
    stake, other = chains.stakes[1], chains.stakes[2]
    proof = chains.stake_proof(stake)
    assert chains.reason(chains.mint_call(stake, proof)) == "OSTPrime: gateway not proven at height"
    core_rlp, core_nodes, _ = chains.account_args(chains.origin.core.address, height)
    assert chains.reason(prime.functions.proveGateway(core_rlp, core_nodes, height)) == \
        "OSTPrime: invalid account proof"
    gateway_rlp, gateway_nodes, _ = chains.account_args(chains.origin.gateway.address, height)
    assert chains.reason(prime.functions.proveGateway(gateway_rlp, gateway_nodes, height + 1)) == \
        "BlockStore: height not finalised"

    chains.prove_gateway()
    for change in ({"amount": stake.amount + 1}, {"beneficiary": other.beneficiary},
                   {"staker": other.staker}, {"nonce": stake.nonce + 1}):
        assert chains.reason(chains.mint_call(stake, proof, **change)) == "OSTPrime: stake not proven", change
    # A valid proof, but of another stake's entry.
    assert chains.reason(chains.mint_call(stake, chains.stake_proof(other))) == "OSTPrime: stake not proven"
    assert chains.aux_w3.eth.get_balance(stake.beneficiary) == 0

    chains.send(chains.mint_call(stake, proof))
    assert chains.aux_w3.eth.get_balance(stake.beneficiary) == stake.amount
    assert chains.reason(chains.mint_call(stake, proof)) == "OSTPrime: already minted"
    assert chains.aux_w3.eth.get_balance(stake.beneficiary) == stake.amount
    assert prime.functions.stakeMessageHash(stake.amount, stake.beneficiary, stake.staker, stake.nonce).call() == \
        stake.message_hash


def test_handover_guards_and_the_initial_proposer_loses_its_right_for_good(chains: TwoChains) -> None:
    proposer_set = chains.proposer_set
    validators, _ = planned(chains)
    stranger = chains.origin.validators[0].auxiliary
    assert chains.reason(proposer_set.functions.handOver(validators), stranger) == "ProposerSet: only initial proposer"
    assert chains.reason(proposer_set.functions.handOver(validators)) == "ProposerSet: no proven validators"
    assert chains.reason(proposer_set.functions.finalizeChange()) == "ProposerSet: only system"
    # With nothing pending the engine's call is a no-op, never a revert (clients treat reverts differently).
    chains.proposer_set.functions.finalizeChange().call({"from": SYSTEM})

    chains.prove_k0()
    for wrong in (validators[::-1], validators[:3], validators + [chains.proposer.address], []):
        assert chains.reason(proposer_set.functions.handOver(wrong)) == "ProposerSet: not the polling place validators"
    chains.send(proposer_set.functions.handOver(validators))
    assert proposer_set.functions.handedOver().call() is True
    system_call(chains, proposer_set.functions.finalizeChange())
    assert chains.proposer.address not in proposer_set.functions.getValidators().call()
    assert chains.reason(proposer_set.functions.handOver(validators)) == "ProposerSet: already handed over"
    assert chains.reason(proposer_set.functions.handOver([chains.proposer.address])) == \
        "ProposerSet: already handed over"
    assert chains.reason(proposer_set.functions.finalizeChange()) == "ProposerSet: only system"


def test_only_the_designated_contracts_may_update_validators_kernels_and_justifications(chains: TwoChains) -> None:
    validator = chains.origin.validators[0].auxiliary
    for sender in (chains.proposer, validator):
        assert chains.reason(chains.polling_place.functions.updateMetaBlock([sender.address], [1], 0, HASH), sender) \
            == "PollingPlace: only kernel gateway"
        assert chains.reason(chains.auxiliary_block_store.functions.activateKernel(HASH), sender) == \
            "BlockStore: only polling place"
        for store in (chains.origin_block_store, chains.auxiliary_block_store):
            genesis = store.functions.initialBlockHash().call()
            assert chains.reason(store.functions.justify(genesis, genesis), sender) == "BlockStore: only polling place"
    assert chains.polling_place.functions.getValidators().call() == [[], []]


def test_ost_prime_sits_on_the_preallocated_supply_and_takes_no_coin_back(chains: TwoChains) -> None:
    # The fixture funded the precomputed address before deploying there, as a genesis would.
    w3 = chains.aux_w3
    assert w3.eth.get_code(chains.ost_prime.address) != b""
    assert w3.eth.get_balance(chains.ost_prime.address) == aux_setup.BASE_COIN_SUPPLY
    chains.prove_gateway()
    stake = chains.stakes[0]
    chains.send(chains.mint_call(stake, chains.stake_proof(stake)))
    with pytest.raises(ContractLogicError):
        w3.eth.call({"from": stake.beneficiary, "to": chains.ost_prime.address, "value": 1, "gasPrice": 0})


@pytest.mark.parametrize(
    ("name", "args", "reason"),
    [
        ("OriginBlockStore", (bytes(32), HASH, 1, 4, SYSTEM), "BlockStore: zero initial block"),
        ("OriginBlockStore", (HASH, HASH, 1, 0, SYSTEM), "BlockStore: zero epoch length"),
        ("OriginBlockStore", (HASH, HASH, 1, 4, ZERO), "BlockStore: zero polling place"),
        ("OriginBlockStore", (HASH, HASH, 2**128 - 1, 4, SYSTEM), "BlockStore: initial height too large"),
        ("AuxiliaryBlockStore", (HASH, HASH, 0, 0, 0, SYSTEM), "BlockStore: zero epoch length"),
        ("PollingPlace", (b"\x01" * 20, b"\x01" * 20, SYSTEM, SYSTEM, SYSTEM),
         "PollingPlace: core identifiers must differ"),
        ("PollingPlace", (b"\x01" * 20, b"\x02" * 20, SYSTEM, ZERO, SYSTEM), "PollingPlace: zero address"),
        ("KernelGateway", (SYSTEM, SYSTEM, ZERO), "KernelGateway: zero address"),
        ("OSTPrime", (ZERO, SYSTEM, []), "OSTPrime: zero address"),
        ("ProposerSet", (ZERO, SYSTEM), "ProposerSet: zero address"),
    ],
)
def test_constructor_guards(deployed: TwoChains, name: str, args: tuple[object, ...], reason: str) -> None:
    assert deploy_reason(deployed.origin.w3, name, *args) == reason
