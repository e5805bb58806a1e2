"""Runs the steps' actions as a dependency graph, as many transactions in flight as the graph allows.

A deployment is a few rounds of dependent transactions, not a long line of them: every validator's
approval can go into the same block, and so can every gateway stake. The runner sends every action
whose dependencies are met (up to --max-inflight unconfirmed at once), then collects receipts, so
the number of blocks a deployment takes does not grow with the number of validators.

Dependencies come in two kinds: `after` (the other action must be confirmed on chain: its state is
needed) and `after_signed` (only its outputs are needed, such as a contract address known as soon as
the deploying transaction is signed). What happened is in the journal; a second run skips what is
confirmed, adopts what is in flight, and signs nothing twice.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mosaic_tui import events as ev
from mosaic_tui.chain.sender import Inflight, TxRejected, TxSender
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import Journal

POLL_INTERVAL = 0.05
RECEIPT_TIMEOUT = 600.0


@dataclass
class Tx:
    """What an action sends: `to` None deploys `data` as a contract."""

    to: str | None
    data: str
    value: int = 0
    gas: int | None = None  # fixed gas where estimating is impossible before a dependency is mined


@dataclass
class Action:
    id: str
    label: str
    chain: str | None = None  # None: a local action (files, nodes) done by `run`
    sender: str | None = None  # role whose signer sends it: "deployer", "validator:3", "proposer"
    after: tuple[str, ...] = ()
    after_signed: tuple[str, ...] = ()
    build: Callable[[Any], Tx] | None = None
    run: Callable[[Any], dict[str, Any]] | None = None
    done_on_chain: Callable[[Any], dict[str, Any] | None] | None = None
    outputs: Callable[[Any, Any], dict[str, Any]] | None = None
    deploy_output: str | None = None  # name of the step output that holds the deployed address
    expected_nonce: int | None = None  # precomputed addresses rely on it (auxiliary bootstrap)


@dataclass
class Step:
    key: str  # "1".."5"
    title: str
    actions: list[Action]
    before: Callable[[Any], None] | None = None  # checks or set-up before any action (e.g. fee mode)
    finish: Callable[[Any], dict[str, Any]] | None = None  # step outputs computed from the actions'


CRASH_AFTER_STEP_ENV = "MOSAIC_TUI_CRASH_AFTER_STEP"


def _maybe_crash_after_step(step: str) -> None:
    """Test hook: SIGKILL this process right after a step is recorded as done (resume tests)."""
    if os.environ.get(CRASH_AFTER_STEP_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def create_address(sender: str, nonce: int) -> str:
    import rlp
    from eth_utils import keccak, to_canonical_address, to_checksum_address

    return to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), nonce]))[12:])


class Runner:
    def __init__(self, ctx: Any, journal: Journal, sender: TxSender, emit: Callable[[ev.Event], None],
                 *, max_inflight: int | None = None, should_stop: Callable[[], bool] = lambda: False) -> None:
        self.ctx = ctx
        self.journal = journal
        self.sender = sender
        self.emit = emit
        self.max_inflight = max_inflight
        self.should_stop = should_stop

    def run_steps(self, steps: list[Callable[[Any], Step]]) -> None:
        """Build each step just before it runs: later steps read the outputs of earlier ones."""
        for build in steps:
            self.run_step(build(self.ctx))

    def run_step(self, step: Step) -> None:
        if self.journal.is_step_done(step.key):
            self.emit(ev.StepStarted(step.key, step.title, len(step.actions)))
            for action in step.actions:
                self.emit(ev.ActionSkipped(step.key, action.id, action.label, "done in an earlier run"))
            self.emit(ev.StepDone(step.key, step.title))
            return
        self.emit(ev.StepStarted(step.key, step.title, len(step.actions)))
        if step.before is not None:
            step.before(self.ctx)
        by_id = {action.id: action for action in step.actions}
        pending: dict[str, Action] = {}
        for action in step.actions:
            entry = self.journal.entry(action.id)
            if entry is not None and entry.status == "confirmed":
                self.emit(ev.ActionSkipped(step.key, action.id, action.label, "done in an earlier run"))
            else:
                pending[action.id] = action
        inflight: dict[str, Inflight] = {}
        started: dict[str, float] = {}
        while pending or inflight:
            if self.should_stop():
                raise StepFailed(step.key, "-", "stopped by the operator; run again to resume")
            progressed = False
            for action in list(pending.values()):
                if self.max_inflight is not None and len(inflight) >= self.max_inflight and action.chain:
                    break
                if not self._ready(action, by_id, inflight):
                    continue
                del pending[action.id]
                progressed = True
                sent = self._start(step, action)
                if sent is not None:
                    inflight[action.id] = sent
                    started[action.id] = time.monotonic()
            for action_id, tx in list(inflight.items()):
                receipt = self.sender.receipt(tx.chain, tx.tx_hash)
                if receipt is None:
                    if time.monotonic() - started[action_id] > RECEIPT_TIMEOUT:
                        raise StepFailed(step.key, action_id, f"transaction {tx.tx_hash} was not mined within "
                                         f"{RECEIPT_TIMEOUT:.0f} s; it stays in the journal and is picked up "
                                         "when you run again")
                    continue
                del inflight[action_id]
                progressed = True
                self._finish(step, by_id[action_id], tx, receipt)
            if pending and not inflight and not progressed:
                blocked = ", ".join(sorted(pending))
                raise StepFailed(step.key, blocked, "these actions wait on actions that are not in this step")
            if not progressed:
                time.sleep(POLL_INTERVAL)
        if step.finish is not None:
            for key, value in step.finish(self.ctx).items():
                self.journal.set_step_output(step.key, key, value)
        self.journal.mark_step_done(step.key)
        self.emit(ev.StepDone(step.key, step.title))
        _maybe_crash_after_step(step.key)

    def _ready(self, action: Action, by_id: dict[str, Action], inflight: dict[str, Inflight]) -> bool:
        for dep in action.after:
            entry = self.journal.entry(dep)
            if entry is None or entry.status != "confirmed":
                return False
        for dep in action.after_signed:
            entry = self.journal.entry(dep)
            if entry is None or entry.status not in ("signed", "sent", "confirmed"):
                return False
        return True

    def _start(self, step: Step, action: Action) -> Inflight | None:
        """Begin one action; returns the transaction in flight, or None when it finished at once."""
        entry = self.journal.entry(action.id)
        if action.chain is None:
            assert action.run is not None, action.id
            outputs = action.run(self.ctx)
            self._record_outputs(step, action, outputs)
            self.journal.record_done(action.id, outputs)
            self.emit(ev.ActionDone(step.key, action.id, action.label, outputs.get("detail", "done")))
            return None
        if entry is not None and entry.has_transaction and entry.status in ("signed", "sent"):
            try:
                tx, rebroadcast = self.sender.resume(entry)
            except TxRejected as error:
                self._fail(step, action, entry.tx_hash, error.reason)
            self.emit(ev.TxSent(step.key, action.id, tx.tx_hash, rebroadcast=rebroadcast))
            return tx
        if action.done_on_chain is not None and (entry is None or not entry.has_transaction):
            found = action.done_on_chain(self.ctx)
            if found is not None:
                self._record_outputs(step, action, found)
                self.journal.record_done(action.id, found)
                self.emit(ev.ActionSkipped(step.key, action.id, action.label, "already on chain"))
                return None
        signer = self.ctx.signer(action.sender)
        assert action.build is not None, action.id
        try:
            request = action.build(self.ctx)
            nonce = self.sender.peek_nonce(action.chain, signer.address)
            if action.expected_nonce is not None and nonce != action.expected_nonce:
                raise TxRejected(
                    f"{signer.address} has nonce {nonce} on the {action.chain} chain, but the deployment "
                    f"precomputed addresses from nonce {action.expected_nonce}; it must not send anything else "
                    "during the bootstrap")
            tx = {"to": request.to, "data": request.data, "value": request.value}
            gas = request.gas if request.gas is not None else self.sender.estimate(action.chain, signer.address, tx)
            if action.deploy_output:
                self._record_outputs(step, action, {action.deploy_output: create_address(signer.address, nonce)})
            sent = self.sender.send(action.id, action.chain, signer, tx, gas=gas,
                                    nonce=self.sender.next_nonce(action.chain, signer.address))
        except TxRejected as error:
            self._fail(step, action, None, error.reason)
        self.emit(ev.TxSigned(step.key, action.id, action.label, action.chain, sent.sender, sent.nonce, sent.tx_hash))
        self.emit(ev.TxSent(step.key, action.id, sent.tx_hash))
        return sent

    def _finish(self, step: Step, action: Action, tx: Inflight, receipt: Any) -> None:
        block, gas_used, status = int(receipt["blockNumber"]), int(receipt["gasUsed"]), int(receipt["status"])
        if status != 1:
            reason = self.sender.failure_reason(tx.chain, tx.tx_hash, block)
            self.journal.record_receipt(action.id, block, gas_used, status)
            self._fail(step, action, tx.tx_hash, reason)
        outputs = {"block_number": block, "block_hash": receipt["blockHash"].to_0x_hex()
                   if hasattr(receipt["blockHash"], "to_0x_hex") else str(receipt["blockHash"])}
        if action.outputs is not None:
            outputs.update(action.outputs(self.ctx, receipt))
        if action.deploy_output:
            outputs[action.deploy_output] = receipt["contractAddress"]
        self._record_outputs(step, action, {k: v for k, v in outputs.items() if k not in ("block_number", "block_hash")})
        self.journal.record_receipt(action.id, block, gas_used, status, outputs)
        self.emit(ev.TxConfirmed(step.key, action.id, action.label, tx.tx_hash, block, gas_used))

    def _record_outputs(self, step: Step, action: Action, outputs: dict[str, Any]) -> None:
        for key, value in outputs.items():
            if key != "detail" and not key.startswith("_"):
                self.journal.set_step_output(step.key, key, value)

    def _fail(self, step: Step, action: Action, tx_hash: str | None, reason: str) -> Any:
        entry = self.journal.entry(action.id)
        if entry is None or entry.status != "failed":
            self.journal.record_failed(action.id, reason)
        self.emit(ev.TxFailed(step.key, action.id, action.label, tx_hash, reason))
        raise StepFailed(step.key, action.id, reason)
