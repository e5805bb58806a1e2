"""Origin set-up on a real chain: Stake.initialize opens K0 in OriginCore with the planned
validators, OSTGateway records stakes where the auxiliary chain will prove them, and every
staking guard refuses with its reason."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.logs import DISCARD

from mosaic_tui import metablock
from mosaic_tui.contracts import load_artifact
from tests.contracts.origin_world import (
    MINIMUM_WEIGHT,
    OST,
    TOKEN_SUPPLY,
    build_origin,
    deploy_reason,
    keys,
    make_validators,
    reason_of,
)
from tests.helpers import deploy, transact

STAKE_TYPEHASH = keccak(text="Stake(address gateway,uint256 amount,address beneficiary,address staker,uint256 nonce)")


@pytest.fixture
def world(anvil):
    return build_origin(anvil.w3)


def test_initialize_opens_k0_with_the_planned_validators(world) -> None:
    w3, stake, core = world.w3, world.stake, world.core
    before = {v.origin.address: world.token.functions.balanceOf(v.origin.address).call() for v in world.validators}
    assert not stake.functions.initialized().call()
    assert core.functions.openKernelHash().call() == bytes(32)

    receipt = world.initialize()

    k0 = world.k0()
    assert world.open_kernel_hash() == k0.hash()
    assert core.functions.getOpenKernel().call() == [
        0, bytes(32), [v.auxiliary.address for v in world.validators], [v.stake for v in world.validators]]
    total = sum(v.stake for v in world.validators)
    assert core.functions.openKernelTotalWeight().call() == total
    (opened,) = core.events.KernelOpened().process_receipt(receipt, errors=DISCARD)
    assert opened.args.kernelHash == k0.hash() and opened.args.height == 0 and opened.args.totalWeight == total

    assert stake.functions.initialized().call()
    assert stake.functions.getValidatorAddresses().call() == [v.auxiliary.address for v in world.validators]
    assert stake.functions.totalWeightAtHeight(0).call() == total
    for v in world.validators:
        assert stake.functions.weight(0, v.auxiliary.address).call() == v.stake
        assert stake.functions.validators(v.auxiliary.address).call() == [v.origin.address, v.stake, 0]
        # Keyed by the auxiliary address only: the origin address carries no weight.
        assert stake.functions.weight(0, v.origin.address).call() == 0
        assert world.token.functions.balanceOf(v.origin.address).call() == before[v.origin.address] - v.stake
    assert world.token.functions.balanceOf(stake.address).call() == total
    deposited = stake.events.ValidatorDeposited().process_receipt(receipt, errors=DISCARD)
    assert [(e.args.auxiliaryAddress, e.args.depositor, e.args.stake, e.args.startHeight) for e in deposited] == [
        (v.auxiliary.address, v.origin.address, v.stake, 0) for v in world.validators]
    (initialized,) = stake.events.Initialized().process_receipt(receipt, errors=DISCARD)
    assert (initialized.args.validatorCount, initialized.args.totalWeight) == (len(world.validators), total)
    assert w3.eth.get_code(stake.address) != b""


def test_open_kernel_hash_is_storage_slot_zero(world) -> None:
    layout = load_artifact("OriginCore")["storageLayout"]["storage"]
    first = next(entry for entry in layout if entry["label"] == "openKernelHash")
    assert (first["slot"], first["offset"], first["type"]) == ("0", 0, "t_bytes32")
    world.initialize()
    slot_zero = world.w3.eth.get_storage_at(world.core.address, 0)
    assert bytes(slot_zero) == world.open_kernel_hash() == world.k0().hash()
    # The auxiliary chain proves exactly this key with eth_getProof.
    proof = world.w3.eth.get_proof(world.core.address, ["0x" + "00" * 32], "latest")
    assert int.from_bytes(proof["storageProof"][0]["value"], "big") == int.from_bytes(world.k0().hash(), "big")


def test_gateway_stake_is_recorded_at_the_documented_slot(world) -> None:
    w3, gateway = world.w3, world.gateway
    layout = load_artifact("OSTGateway")["storageLayout"]["storage"]
    assert next(e for e in layout if e["label"] == "stakedMessages")["slot"] == "0"
    staker, beneficiary = world.validators[0].origin, keys("beneficiary").address
    amount = 7 * OST
    world.approve(world.validators[0], amount, spender=gateway)
    balance = world.token.functions.balanceOf(staker.address).call()

    receipt = transact(w3, gateway.functions.stake(amount, beneficiary, 0), staker)

    expected = keccak(encode(["bytes32", "address", "uint256", "address", "address", "uint256"],
                             [STAKE_TYPEHASH, gateway.address, amount, beneficiary, staker.address, 0]))
    (event,) = gateway.events.StakeIntentDeclared().process_receipt(receipt, errors=DISCARD)
    assert event.args.messageHash == expected
    assert (event.args.staker, event.args.beneficiary, event.args.amount, event.args.nonce) == (
        staker.address, beneficiary, amount, 0)
    assert gateway.functions.messageHash(staker.address, amount, beneficiary, 0).call() == expected
    slot = keccak(expected + (0).to_bytes(32, "big"))
    assert int.from_bytes(w3.eth.get_storage_at(gateway.address, slot), "big") == 1
    proof = w3.eth.get_proof(gateway.address, ["0x" + slot.hex()], "latest")
    assert int.from_bytes(proof["storageProof"][0]["value"], "big") == 1
    assert gateway.functions.stakedMessages(expected).call() is True
    assert gateway.functions.nonces(staker.address).call() == 1
    assert world.token.functions.balanceOf(staker.address).call() == balance - amount
    assert world.token.functions.balanceOf(gateway.address).call() == amount

    # The next stake must carry the next nonce; the old one is refused.
    world.approve(world.validators[0], amount, spender=gateway)
    assert reason_of(w3, gateway.functions.stake(amount, beneficiary, 0), staker) == "OSTGateway: wrong nonce"
    transact(w3, gateway.functions.stake(amount, beneficiary, 1), staker)
    assert gateway.functions.stakedMessages(
        gateway.functions.messageHash(staker.address, amount, beneficiary, 1).call()).call()


def test_gateway_guards(world) -> None:
    w3, gateway, staker = world.w3, world.gateway, world.validators[1].origin
    beneficiary = keys("beneficiary").address
    assert reason_of(w3, gateway.functions.stake(OST, beneficiary, 0), staker) == "OSTGateway: allowance too low"
    world.approve(world.validators[1], OST, spender=gateway)
    assert reason_of(w3, gateway.functions.stake(OST, beneficiary, 5), staker) == "OSTGateway: wrong nonce"
    assert reason_of(w3, gateway.functions.stake(0, beneficiary, 0), staker) == "OSTGateway: amount is zero"
    zero = "0x" + "00" * 20
    assert reason_of(w3, gateway.functions.stake(OST, zero, 0), staker) == "OSTGateway: beneficiary is zero"
    assert deploy_reason(w3, "OSTGateway", zero, world.core.address) == "OSTGateway: token is zero"
    assert deploy_reason(w3, "OSTGateway", world.token.address, zero) == "OSTGateway: core is zero"
    assert gateway.functions.nonces(staker.address).call() == 0


def test_initialize_guards(world) -> None:
    w3, stake = world.w3, world.stake
    validators = world.validators
    for v in validators:
        world.approve(v)
    outsider = w3.eth.accounts[3]
    assert reason_of(w3, world.initialize_call(), outsider) == "Stake: only initializer"
    assert reason_of(w3, stake.functions.initialize([], [], []), world.deployer) == "Stake: no validators"
    mismatch = stake.functions.initialize([validators[0].origin.address], [validators[0].auxiliary.address], [])
    assert reason_of(w3, mismatch, world.deployer) == "Stake: length mismatch"
    zero = "0x" + "00" * 20
    for origin, auxiliary in ((zero, validators[0].auxiliary.address), (validators[0].origin.address, zero)):
        call = stake.functions.initialize([origin], [auxiliary], [validators[0].stake])
        assert reason_of(w3, call, world.deployer) == "Stake: zero address"
    twice = stake.functions.initialize([validators[0].origin.address, validators[1].origin.address],
                                       [validators[0].auxiliary.address] * 2, [OST, OST])
    assert reason_of(w3, twice, world.deployer) == "Stake: duplicate validator"
    same_origin = stake.functions.initialize([validators[0].origin.address] * 2,
                                             [validators[0].auxiliary.address, validators[1].auxiliary.address],
                                             [OST, OST])
    assert reason_of(w3, same_origin, world.deployer) == "Stake: duplicate origin address"
    low = stake.functions.initialize([validators[0].origin.address], [validators[0].auxiliary.address],
                                     [MINIMUM_WEIGHT - 1])
    assert reason_of(w3, low, world.deployer) == "Stake: stake below minimum weight"

    # One validator without approval stops the whole initialization.
    transact(w3, world.token.functions.approve(stake.address, 0), validators[2].origin)
    assert reason_of(w3, world.initialize_call(), world.deployer) == "Stake: allowance too low"
    assert not stake.functions.initialized().call()

    world.approve(validators[2])
    transact(w3, world.initialize_call(), world.deployer)
    assert reason_of(w3, world.initialize_call(), world.deployer) == "Stake: already initialized"


def test_only_stake_opens_a_kernel_and_only_core_advances_height(world) -> None:
    w3 = world.w3
    call = world.core.functions.openKernel([world.validators[0].auxiliary.address], [OST])
    assert reason_of(w3, call, world.deployer) == "OriginCore: only stake"
    assert reason_of(w3, world.stake.functions.advanceHeight(), world.deployer) == "Stake: only origin core"
    world.initialize()
    assert reason_of(w3, call, world.deployer) == "OriginCore: only stake"
    assert reason_of(w3, world.stake.functions.advanceHeight(), world.deployer) == "Stake: only origin core"


def test_deposit_joins_from_the_next_height(world) -> None:
    w3, stake = world.w3, world.stake
    (newcomer,) = make_validators((5 * OST,), prefix="newcomer")
    world.fund(newcomer.origin, newcomer.stake)
    world.approve(newcomer)
    deposit = stake.functions.deposit(newcomer.auxiliary.address, newcomer.stake)
    assert reason_of(w3, deposit, newcomer.origin) == "Stake: not initialized"

    world.initialize()
    total = sum(v.stake for v in world.validators)
    transact(w3, deposit, newcomer.origin)

    assert stake.functions.validators(newcomer.auxiliary.address).call() == [newcomer.origin.address, 5 * OST, 1]
    assert stake.functions.weight(0, newcomer.auxiliary.address).call() == 0
    assert stake.functions.weight(1, newcomer.auxiliary.address).call() == 5 * OST
    assert stake.functions.totalWeightAtHeight(0).call() == total
    assert stake.functions.totalWeightAtHeight(1).call() == total + 5 * OST
    assert stake.functions.getPendingValidators().call() == [newcomer.auxiliary.address]
    assert stake.functions.getValidatorAddresses().call()[-1] == newcomer.auxiliary.address
    assert world.token.functions.balanceOf(stake.address).call() == total + 5 * OST
    # The open kernel is not touched until the next one opens.
    assert world.open_kernel_hash() == world.k0().hash()

    assert reason_of(w3, deposit, newcomer.origin) == "Stake: duplicate validator"
    (late,) = make_validators((MINIMUM_WEIGHT - 1,), prefix="late")
    call = stake.functions.deposit(late.auxiliary.address, late.stake)
    assert reason_of(w3, call, newcomer.origin) == "Stake: stake below minimum weight"
    call = stake.functions.deposit(late.auxiliary.address, MINIMUM_WEIGHT)
    assert reason_of(w3, call, newcomer.origin) == "Stake: allowance too low"
    call = stake.functions.deposit("0x" + "00" * 20, MINIMUM_WEIGHT)
    assert reason_of(w3, call, newcomer.origin) == "Stake: zero address"


def test_constructor_guards(anvil) -> None:
    w3 = anvil.w3
    token = deploy(w3, "EIP20Token", "Open Simple Token", "OST", 18, TOKEN_SUPPLY)
    good = [b"\x00" * 7 + b"\x01" + b"\x00" * 12, token.address, 0, bytes(32), MINIMUM_WEIGHT, 10**6]

    def with_(index: int, value: object) -> list[object]:
        return [*good[:index], value, *good[index + 1:]]

    assert deploy_reason(w3, "OriginCore", *with_(0, bytes(20))) == "OriginCore: core identifier is zero"
    assert deploy_reason(w3, "OriginCore", *with_(1, "0x" + "00" * 20)) == "OriginCore: token is zero"
    assert deploy_reason(w3, "OriginCore", *with_(5, 0)) == "OriginCore: gas limit is zero"
    # Stake's own guard surfaces through OriginCore's constructor, which deploys it.
    assert deploy_reason(w3, "OriginCore", *with_(4, 0)) == "Stake: minimum weight is zero"
    core = deploy(w3, "OriginCore", *good)
    stake = w3.eth.contract(address=core.functions.stake().call(), abi=load_artifact("Stake")["abi"])
    assert stake.functions.initializer().call() == w3.eth.accounts[0]
    assert stake.functions.originCore().call() == core.address
    assert stake.functions.token().call() == token.address
    assert stake.functions.minimumWeight().call() == MINIMUM_WEIGHT
    assert core.functions.coreIdentifier().call() == bytes(good[0])
    assert bytes(core.functions.domainSeparator().call()) == metablock.domain_separator(anvil.chain_id, core.address)


def test_tokens_that_return_false_are_refused(anvil) -> None:
    """Some ERC20s signal failure by returning false; neither contract may count such a transfer."""
    w3 = anvil.w3
    token = deploy(w3, "RefusingToken")
    core = deploy(w3, "OriginCore", b"\x01" * 20, token.address, 0, bytes(32), MINIMUM_WEIGHT, 10**6)
    stake = w3.eth.contract(address=core.functions.stake().call(), abi=load_artifact("Stake")["abi"])
    (v,) = make_validators((OST,))
    call = stake.functions.initialize([v.origin.address], [v.auxiliary.address], [v.stake])
    assert reason_of(w3, call, w3.eth.accounts[0]) == "Stake: transfer failed"
    gateway = deploy(w3, "OSTGateway", token.address, core.address)
    call = gateway.functions.stake(OST, v.auxiliary.address, 0)
    assert reason_of(w3, call, w3.eth.accounts[0]) == "OSTGateway: transfer failed"
