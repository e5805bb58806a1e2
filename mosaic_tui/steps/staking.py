"""Step 2, staking: validators approve and Stake.initialize opens K0; everyone stakes in OSTGateway.

Every approval goes out in one round, then initialize and all gateway stakes in the next, so the
step takes two block rounds whatever the number of validators. The block that holds the last of
them is the origin set-up block that the auxiliary chain later trusts and proves against; the step
ends once it is confirmed and its proofs are kept (see setup_block.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mosaic_tui.runner import Action, Step, Tx
from mosaic_tui.steps.common import ost_address


def _allowance(ctx: Any, owner: str, spender: str) -> int:
    return int(ctx.read("EIP20Token", "origin", ost_address(ctx), "allowance", owner, spender))


def _initialized(ctx: Any) -> bool:
    return bool(ctx.read("Stake", "origin", ctx.out("stake"), "initialized"))


def _once_initialized(check: Any) -> Any:
    """After Stake.initialize pulled the stakes the allowance is spent: the approval is done then too."""
    def done(ctx: Any) -> dict[str, Any] | None:
        return {} if _initialized(ctx) else check(ctx)
    return done


def _stake_event(ctx: Any, receipt: Any) -> dict[str, Any]:
    gateway = ctx.contract("OSTGateway", "origin", ctx.out("ost_gateway"))
    from web3.logs import DISCARD

    events = gateway.events.StakeIntentDeclared().process_receipt(receipt, errors=DISCARD)  # token logs too
    if len(events) != 1:
        raise ValueError("a gateway stake receipt must hold exactly one StakeIntentDeclared event")
    args = events[0]["args"]
    return {"_stake": {"staker": args["staker"], "beneficiary": args["beneficiary"], "amount": int(args["amount"]),
                       "nonce": int(args["nonce"]), "message_hash": "0x" + bytes(args["messageHash"]).hex()}}


def approve(action_id: str, label: str, role: str, owner: str, spender_key: str, amount: int) -> Action:
    return Action(
        id=action_id, label=label, chain="origin", sender=role,
        build=lambda c: Tx(ost_address(c), c.call_data("EIP20Token", "approve", c.out(spender_key), amount)),
        done_on_chain=lambda c: {} if _allowance(c, owner, c.out(spender_key)) >= amount else None)


def gateway_stake(action_id: str, label: str, role: str, approval: str, amount: int, beneficiary: str) -> Action:
    def build(c: Any) -> Tx:
        staker = c.signer(role).address
        nonce = int(c.read("OSTGateway", "origin", c.out("ost_gateway"), "nonces", staker))
        return Tx(c.out("ost_gateway"), c.call_data("OSTGateway", "stake", amount, beneficiary, nonce))
    return Action(id=action_id, label=label, chain="origin", sender=role, after=(approval,), build=build,
                  outputs=_stake_event)


def validator_actions(index: int, validator: Any) -> list[Action]:
    """What a validator signs in step 2: its two approvals and its gateway stake (the coordinator's run
    sends these for validators whose keys it holds; `mosaic-tui validator stake` for an external one)."""
    role = f"validator:{index}"
    stake_approval = approve(f"2.approve_stake.{index}", f"validator {index + 1} approves its stake", role,
                             validator.origin_address, "stake", validator.stake)
    return [replace(stake_approval, done_on_chain=_once_initialized(stake_approval.done_on_chain)),
            approve(f"2.approve_gateway.{index}", f"validator {index + 1} approves its gateway stake",
                    role, validator.origin_address, "ost_gateway", validator.gateway_stake),
            gateway_stake(f"2.gateway_stake.{index}", f"validator {index + 1} stakes for base coin", role,
                          f"2.approve_gateway.{index}", validator.gateway_stake, validator.auxiliary_address)]


def step(ctx: Any) -> Step:
    from mosaic_tui.steps import external

    plan = ctx.plan
    actions: list[Action] = []
    approvals: list[str] = []
    held = [(index, v) for index, v in enumerate(plan.validators) if not v.origin_key.is_external]
    own = {index: validator_actions(index, validator) for index, validator in held}
    for index, _ in held:
        approvals.append(f"2.approve_stake.{index}")
        actions += own[index][:2]
    actions.append(approve("2.approve_gateway.deployer", "deployer approves its gateway stake", "deployer",
                           ctx.signer("deployer").address, "ost_gateway", plan.deployer_gateway_stake))
    waits = external.actions(ctx, after_signed=tuple(approvals) + ("2.approve_gateway.deployer",))
    actions += waits
    approvals += [action.id for action in waits[:1]]

    def initialize_args(c: Any) -> Tx:
        origins = [v.origin_address for v in plan.validators]
        auxiliaries = [v.auxiliary_address for v in plan.validators]
        stakes = [v.stake for v in plan.validators]
        return Tx(c.out("stake"), c.call_data("Stake", "initialize", origins, auxiliaries, stakes))

    actions.append(Action(
        id="2.initialize_stake", label="Stake.initialize: pull the stakes and open kernel K0", chain="origin",
        sender="deployer", after=tuple(approvals), build=initialize_args,
        done_on_chain=lambda c: {} if _initialized(c) else None))

    for index, _ in held:
        actions.append(own[index][2])
    proposer = ctx.signer("proposer").address
    actions.append(gateway_stake("2.gateway_stake.deployer", "deployer stakes for the proposer's base coin",
                                 "deployer", "2.approve_gateway.deployer", plan.deployer_gateway_stake, proposer))
    return Step("2", "Staking", actions, before=_write_ceremony, finish=external.reported(_setup_block))


def _write_ceremony(ctx: Any) -> None:
    """ceremony.toml for the external validators (SPEC section 5), written on every run of step 2."""
    from mosaic_tui.ceremony import write_ceremony

    write_ceremony(ctx)


def _setup_block(ctx: Any) -> dict[str, Any]:
    """The origin block by which all of step 2 is on chain, once confirmed, with its proofs kept."""
    from mosaic_tui import setup_block

    return setup_block.settle(ctx)
