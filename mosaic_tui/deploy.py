"""Deploying a plan: preflight, then the steps through the runner; and the plan for a fresh devnet.

This is the engine's front door. The headless CLI and the TUI's worker both call `prepare` and
`execute`, so the two faces run the very same deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mosaic_tui import devnet, events, keys
from mosaic_tui.chain.sender import FeePolicy, TxSender
from mosaic_tui.deployment import Deployment
from mosaic_tui.errors import DevnetError, InputErrors
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import (
    DEPLOY_OST,
    REPLACE_AFTER_BLOCKS,
    CorePlan,
    OriginPlan,
    Plan,
    ValidatorPlan,
    load_plan,
    plan_data,
    plan_from_dict,
    save_plan,
)
from mosaic_tui.plan_fields import form_fields
from mosaic_tui.preflight import PreflightReport, plan_changes, run_preflight
from mosaic_tui.runner import Runner
from mosaic_tui.steps import build_steps

DEVNET_AUXILIARY_CHAIN_ID = 1405
DEV_PROPOSER_INDEX = 900
DEV_AUXILIARY_BASE = 500  # validator i signs on the auxiliary chain with dev:<500 + i>


def dev_validator(index: int) -> dict[str, str]:
    """Validator `index` of a devnet plan: dev accounts as `deploy --devnet` numbers them, a stake each."""
    return {"origin_address": keys.dev_signer(1 + index).address,
            "auxiliary_address": keys.dev_signer(DEV_AUXILIARY_BASE + index).address,
            "stake": f"{1000 + index} OST", "gateway_stake": _suggested(ValidatorPlan, "gateway_stake"),
            "origin_key": f"dev:{1 + index}", "auxiliary_key": f"dev:{DEV_AUXILIARY_BASE + index}"}


def _suggested(model: type, name: str) -> str:
    return next(spec.suggested for spec in form_fields(model) if spec.key == name)


def devnet_plan_dict(validators: int, *, origin_url: str, origin_chain_id: int, auxiliary_url: str,
                     auxiliary_chain_id: int = DEVNET_AUXILIARY_CHAIN_ID, block_time: int = 1,
                     out_dir: str = ".", confirmations: int | str | None = None) -> dict[str, Any]:
    """A plan for a fresh devnet: dev keys, a dev OST token, every validator staking about 1,000 OST.

    What is not said here is the plan's default or the wizard's suggestion; a devnet only runs faster
    (short blocks and epochs) and fits more in a block."""
    return {
        "devnet": True, "out_dir": out_dir,
        "core": {"minimum_weight": _suggested(CorePlan, "minimum_weight")},
        "origin": {"rpc": origin_url, "chain_id": origin_chain_id, "ost": DEPLOY_OST, "deployer": "dev:0",
                   "deployer_gateway_stake": _suggested(OriginPlan, "deployer_gateway_stake"),
                   **({} if confirmations is None else {"confirmations": confirmations})},
        "auxiliary": {"rpc": auxiliary_url, "chain_id": auxiliary_chain_id,
                      "initial_proposer": f"dev:{DEV_PROPOSER_INDEX}", "block_time": block_time,
                      "gas_limit": 30_000_000, "epoch_length": 3},
        "validators": [dev_validator(index) for index in range(validators)],
    }


def write_devnet_plan(path: Path, validators: int, **kwargs: Any) -> Plan:
    plan = plan_from_dict(devnet_plan_dict(validators, **kwargs))
    save_plan(plan, path)
    return plan


@dataclass
class Prepared:
    ctx: Deployment
    report: PreflightReport


def prepare(plan_path: Path, *, passphrase: keys.Passphrase | None = None,
            on_wait: Callable[[str], None] | None = None, devnet_dir: Path | None = None) -> Prepared:
    """Load the plan and its journal, run the preflight. Problems raise InputErrors (exit code 2)."""
    keys.take_env_passphrases()  # before step 3 may start a node that would inherit them
    plan = load_plan(plan_path)
    journal = Journal.load(journal_path(plan_path))
    changes = plan_changes(journal, plan, plan_path)  # a harmful change raises InputErrors naming the field
    ctx = Deployment(plan, plan_path, journal, passphrase=passphrase, on_wait=on_wait)
    ctx.devnet_dir = devnet_dir
    _check_devnet_auxiliary(plan, journal)
    report = run_preflight(ctx)
    report.changes = changes
    if report.problems:
        raise InputErrors(report.problems)
    return Prepared(ctx, report)


def _check_devnet_auxiliary(plan: Plan, journal: Journal) -> None:
    """A devnet's auxiliary chain lives only as long as its anvil process (it cannot save a chain started
    from a genesis file); say so at once rather than retrying a node that will never come back."""
    if not plan.devnet or not journal.confirmed("3.start_node"):
        return
    if not devnet.answers(plan.auxiliary.rpc, timeout=2.0):
        raise DevnetError(f"the devnet's auxiliary chain at {plan.auxiliary.rpc} is gone (it ends when its node "
                          "stops); its deployment cannot continue. Start a fresh one: mosaic-tui devnet down, then "
                          "mosaic-tui deploy --devnet with a new --out folder.")


def execute(prepared: Prepared, emit: Callable[[events.Event], None], *, max_inflight: int | None = None,
            should_stop: Callable[[], bool] = lambda: False,
            steps: list[Callable[[Any], Any]] | None = None) -> None:
    """Run every step not done yet; raises StepFailed (exit code 1) naming the step and action.

    `steps` replaces the plan's step factories (the wizard wraps them to pause between steps)."""
    ctx = prepared.ctx
    journal = ctx.journal
    journal.lock()
    try:
        # prepare() accepted any change from the journal's plan as harmless; the journal keeps the plan applied.
        previous = journal.applied_plan
        if previous is not None and previous != plan_data(ctx.plan):
            ctx.sent_plan = plan_from_dict(previous, validate=False)
        journal.bind_plan(ctx.plan.digest(), plan_data(ctx.plan), accept_change=True)
        origin_plan = ctx.plan.origin
        policy = {"origin": FeePolicy(origin_plan.max_fee_per_gas, origin_plan.max_priority_fee_per_gas,
                                      origin_plan.replace_after_blocks or REPLACE_AFTER_BLOCKS)}
        sender = TxSender(journal, ctx.chain, policy=policy, notify=lambda text: emit(events.Waiting("-", text)))
        ctx.sender = sender
        ctx.emit, ctx.should_stop = emit, should_stop
        current = ["-"]

        def tracked(event: events.Event) -> None:
            if isinstance(event, events.StepStarted):
                current[0] = event.step
            emit(event)

        ctx.emit = tracked
        runner = Runner(ctx, journal, sender, tracked, max_inflight=max_inflight, should_stop=should_stop)
        try:
            runner.run_steps(build_steps(ctx) if steps is None else steps)
        except Exception as error:
            # A node's error answer that no step turned into words: a sentence, never web3's raw dict.
            from mosaic_tui.chain.rpc import rpc_error_sentence
            from mosaic_tui.errors import MosaicError, StepFailed

            sentence = None if isinstance(error, MosaicError) else rpc_error_sentence(error)
            if sentence is None:
                raise
            raise StepFailed(current[0], "-", f"a node refused a request: {sentence}") from None
    finally:
        journal.unlock()
