"""Step 2's side of external validators: wait for what they sign on their own machines, read it from chain.

An external validator (origin_key = external) approves its stake and stakes in OSTGateway with
`mosaic-tui validator stake`; the coordinator never holds its key. Step 2 therefore waits: first for
every external approval (then Stake.initialize can pull the stakes), then for every external gateway
stake, found in OSTGateway's StakeIntentDeclared events (the mints of step 4 need them). While it
waits it reports a row per validator (`ValidatorsAwaited`), names whoever approved too little or
staked for the wrong beneficiary, and gives up at the plan's staking deadline naming who is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mosaic_tui import units
from mosaic_tui.errors import StepFailed
from mosaic_tui.events import ValidatorsAwaited, ValidatorState
from mosaic_tui.plan import format_deadline
from mosaic_tui.runner import Action
from mosaic_tui.steps.common import ost_address

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

POLL_SECONDS = 1.0  # how often the chain is read while waiting on people
AWAIT_APPROVALS = "2.await_external_approvals"
AWAIT_STAKES = "2.await_external_gateway_stakes"


def validator_command(ctx: Deployment, index: int) -> str:
    return f"mosaic-tui validator stake {ctx.plan_path.name} --validator {index + 1}"


def _stake_records(ctx: Deployment) -> dict[str, list[dict[str, Any]]]:
    """Every gateway stake since OSTGateway's deployment, by staker (one log query for all of them)."""
    gateway = ctx.contract("OSTGateway", "origin", ctx.outputs.ost_gateway)
    entry = ctx.journal.entry("1.deploy_ost_gateway")
    start = entry.receipt.block_number if entry is not None and entry.receipt is not None else 0
    logs = ctx.origin.call("reading the gateway's stakes",
                           lambda: gateway.events.StakeIntentDeclared.get_logs(from_block=start))
    found: dict[str, list[dict[str, Any]]] = {}
    for log in logs:
        args = log["args"]
        found.setdefault(args["staker"], []).append({
            "staker": args["staker"], "beneficiary": args["beneficiary"], "amount": int(args["amount"]),
            "nonce": int(args["nonce"]), "message_hash": "0x" + bytes(args["messageHash"]).hex()})
    return found


def read_states(ctx: Deployment) -> tuple[tuple[ValidatorState, ...], dict[int, dict[str, Any]]]:
    """Each validator's row as the chain shows it, and the right gateway stake of each external one."""
    plan = ctx.plan
    initialized = bool(ctx.read("Stake", "origin", ctx.outputs.stake, "initialized"))
    stakes = _stake_records(ctx)
    rows: list[ValidatorState] = []
    good: dict[int, dict[str, Any]] = {}
    for index, validator in enumerate(plan.validators):
        external = validator.origin_key.is_external
        allowance = 0 if initialized else int(ctx.read("EIP20Token", "origin", ost_address(ctx), "allowance",
                                                      validator.origin_address, ctx.outputs.stake))
        approved = initialized or allowance >= validator.stake
        notes: list[str] = []
        if not approved and allowance:
            notes.append(f"approved too little: {units.format_amount(allowance)} of {units.format_amount(validator.stake)}")
        if approved and not initialized and external:
            # Stake.initialize would revert for everyone if one approved stake is not there to take.
            balance = int(ctx.read("EIP20Token", "origin", ost_address(ctx), "balanceOf", validator.origin_address))
            if balance < validator.stake:
                approved = False
                notes.append(f"holds {units.format_amount(balance)}, less than its stake "
                             f"{units.format_amount(validator.stake)}")
        mine = stakes.get(validator.origin_address, [])
        right = [s for s in mine if s["beneficiary"] == validator.auxiliary_address
                 and s["amount"] == validator.gateway_stake]
        if right:
            good[index] = right[0]
        else:
            for stake in mine:
                if stake["beneficiary"] != validator.auxiliary_address:
                    notes.append(f"staked {units.format_amount(stake['amount'])} in the gateway for the wrong "
                                 f"beneficiary {stake['beneficiary']} (the plan says {validator.auxiliary_address})")
                else:
                    notes.append(f"staked {units.format_amount(stake['amount'])} in the gateway, the plan says "
                                 f"{units.format_amount(validator.gateway_stake)}")
        state = "staked" if approved and right else "approved" if approved else "waiting"
        rows.append(ValidatorState(index + 1, validator.origin_address, external, state, "; ".join(notes),
                                   validator_command(ctx, index) if external else ""))
    return tuple(rows), good


def _missing(rows: tuple[ValidatorState, ...], need: str) -> list[ValidatorState]:
    wanted = ("approved", "staked") if need == "approval" else ("staked",)
    return [row for row in rows if row.external and row.state not in wanted]


def _sentence(row: ValidatorState, need: str) -> str:
    what = "has not approved its stake" if need == "approval" or row.state == "waiting" else \
        "has not staked in the gateway"
    return f"validator {row.number} ({row.origin_address}) {what}" + (f" ({row.note})" if row.note else "")


def _wait(ctx: Deployment, action_id: str, need: str) -> tuple[tuple[ValidatorState, ...], dict[int, dict[str, Any]]]:
    deadline = ctx.plan.origin.staking_deadline
    shown: tuple[ValidatorState, ...] | None = None
    told = False
    while True:
        rows, good = read_states(ctx)
        if rows != shown:
            ctx.emit(ValidatorsAwaited("2", rows, format_deadline(deadline) if deadline else None))
            shown = rows
        missing = _missing(rows, need)
        if not missing:
            return rows, good
        if deadline is not None and datetime.now(UTC) >= deadline:
            raise StepFailed("2", action_id, f"the staking deadline {format_deadline(deadline)} passed: "
                             + "; ".join(_sentence(row, need) for row in missing))
        if ctx.should_stop():
            raise StepFailed("2", action_id, "stopped by the operator; run again to resume")
        if not told and ctx.on_wait is not None:
            numbers, many = ", ".join(str(row.number) for row in missing), len(missing) > 1
            what = ("approve their stakes" if many else "approve its stake") if need == "approval" else \
                "stake in the gateway"
            ctx.on_wait(f"waiting for validator{'s' if many else ''} {numbers} to {what}"
                        + (f" (deadline {format_deadline(deadline)})" if deadline else ""))
            told = True
        time.sleep(POLL_SECONDS)


def _await_approvals(ctx: Deployment) -> dict[str, Any]:
    _wait(ctx, AWAIT_APPROVALS, "approval")
    numbers = ", ".join(str(index + 1) for index in ctx.plan.external_validators)
    return {"detail": f"validators {numbers} approved their stakes on their own machines"}


def _await_stakes(ctx: Deployment) -> dict[str, Any]:
    _, good = _wait(ctx, AWAIT_STAKES, "stake")
    stakes = [good[index] for index in ctx.plan.external_validators]
    return {"_stakes": stakes, "detail": f"{len(stakes)} gateway stakes of external validators found on chain"}


def reported(finish: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    """Step 2's finish, after showing the validators' rows once more as the chain holds them at the end."""
    def final(ctx: Deployment) -> dict[str, Any]:
        if ctx.plan.external_validators:
            rows, _ = read_states(ctx)
            deadline = ctx.plan.origin.staking_deadline
            ctx.emit(ValidatorsAwaited("2", rows, format_deadline(deadline) if deadline else None))
        return finish(ctx)
    return final


def actions(ctx: Deployment, quiet_after: tuple[str, ...]) -> list[Action]:
    """The waits, or nothing when every validator's key is held by the coordinator.

    A wait blocks the runner, so each starts when nothing of the coordinator's is in flight: the
    approvals' wait after the coordinator's own transactions of step 2 (`quiet_after`) are confirmed,
    the gateway stakes' wait after Stake.initialize is."""
    if not ctx.plan.external_validators:
        return []
    return [
        Action(id=AWAIT_APPROVALS, label="wait for the external validators' stake approvals",
               after=quiet_after, run=_await_approvals),
        Action(id=AWAIT_STAKES, label="wait for the external validators' gateway stakes",
               after=(AWAIT_APPROVALS, "2.initialize_stake"), run=_await_stakes),
    ]
