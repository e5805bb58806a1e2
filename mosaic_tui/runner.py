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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn

from mosaic_tui import events as ev
from mosaic_tui.chain.sender import Inflight, Signed, TxRejected, TxSender
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import Journal

POLL_INTERVAL = 0.05
RECEIPT_TIMEOUT = 600.0
# Seconds without a receipt after which the node is asked whether it still holds the transaction: a
# node that restarts, or evicts its pool, forgets pending transactions, and no block would ever come.
STILL_PENDING_CHECK = 5.0
PREPARE_THREADS = 8


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
    """The address a contract deployed by `sender` with `nonce` gets (web3's own helper; imported here, as
    web3 stays off the first screen's way)."""
    from web3.utils.address import get_create_address

    return str(get_create_address(sender, nonce))  # type: ignore[arg-type]


@dataclass
class _Prepared:
    """A fresh transaction action after the read-only work (checks, build, gas), before signing."""

    action: Action
    tx: dict[str, Any] | None = None
    gas: int = 0
    found: dict[str, Any] | None = None  # its effect is already on chain: these are its outputs
    refused: str | None = None  # the node would revert it: the reason


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
        # Preparing a round is RPC-bound (reads, gas estimates); a few threads overlap those waits.
        with ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="prepare") as pool:
            self._pool = pool
            for build in steps:
                self.run_step(build(self.ctx))

    def run_step(self, step: Step) -> None:
        self.emit(ev.StepStarted(step.key, step.title, len(step.actions)))
        if self.journal.is_step_done(step.key):
            for action in step.actions:
                self.emit(ev.ActionSkipped(step.key, action.id, action.label, "done in an earlier run"))
            self.emit(ev.StepDone(step.key, step.title))
            return
        if step.before is not None:
            step.before(self.ctx)
        by_id = {action.id: action for action in step.actions}
        pending: dict[str, Action] = {}
        for action in step.actions:
            if self.journal.confirmed(action.id):
                self.emit(ev.ActionSkipped(step.key, action.id, action.label, "done in an earlier run"))
            else:
                pending[action.id] = action
        inflight: dict[str, Inflight] = {}
        started: dict[str, float] = {}
        looked: dict[str, float] = {}  # when each transaction in flight was last looked up on its node
        heads: dict[str, int] = {}  # the block each chain's receipts were last polled at
        while pending or inflight:
            if self.should_stop():
                raise StepFailed(step.key, "-", "stopped by the operator; run again to resume")
            progressed = False
            fresh: list[Action] = []
            for action in list(pending.values()):
                if self._room(inflight, fresh, action) and self._ready(action):
                    del pending[action.id]
                    progressed = True
                    resumed = self._resume_or_run(step, action)
                    if resumed is False:
                        fresh.append(action)
                    elif isinstance(resumed, Inflight):
                        inflight[action.id], started[action.id] = resumed, time.monotonic()
            for action, tx in self._send_round(step, self._sign_waves(step, fresh, pending, inflight)):
                inflight[action.id], started[action.id] = tx, time.monotonic()
            for chain in sorted({tx.chain for tx in inflight.values()}):
                client = self.sender.chain(chain)
                head = int(client.call("reading the block number", client.w3.eth.get_block_number))
                if heads.get(chain) == head and not fresh:
                    continue  # no new block since the last look, so no new receipt
                heads[chain] = head
                mined = self._collect_receipts(step, chain, head, inflight, started)
                if mined:
                    progressed = True
                    self._finish_round(step, by_id, mined)
                    for action_id, _, _ in mined:
                        del inflight[action_id]
            self._rebroadcast_forgotten(step, by_id, inflight, started, looked)
            if pending and not inflight and not progressed:
                blocked = ", ".join(sorted(pending))
                raise StepFailed(step.key, blocked, "these actions wait on actions that are not in this step")
            if not progressed:
                time.sleep(POLL_INTERVAL)
        if step.finish is not None:
            with self.journal.batch():
                for key, value in step.finish(self.ctx).items():
                    self.journal.set_step_output(step.key, key, value)
        self.journal.mark_step_done(step.key)
        self.emit(ev.StepDone(step.key, step.title))
        _maybe_crash_after_step(step.key)

    def _ready(self, action: Action) -> bool:
        if not all(self.journal.confirmed(dep) for dep in action.after):
            return False
        for dep in action.after_signed:
            entry = self.journal.entry(dep)
            if entry is None or entry.status not in ("signed", "sent", "confirmed"):
                return False
        return True

    def _resume_or_run(self, step: Step, action: Action) -> Inflight | bool | None:
        """A local action runs now (None); a journalled transaction is adopted or rebroadcast (its
        Inflight); False means a fresh transaction to prepare with its round."""
        if action.chain is None:
            assert action.run is not None, action.id
            outputs = action.run(self.ctx)
            with self.journal.batch():
                self._record_outputs(step, action, outputs)
                self.journal.record_done(action.id, outputs)
            self.emit(ev.ActionDone(step.key, action.id, action.label, outputs.get("detail", "done")))
            return None
        entry = self.journal.entry(action.id)
        if entry is not None and entry.has_transaction and entry.status in ("signed", "sent"):
            try:
                tx, rebroadcast = self.sender.resume(entry)
            except TxRejected as error:
                self._fail(step, action, entry.tx_hash, error.reason)
            self.emit(ev.TxSent(step.key, action.id, tx.tx_hash, rebroadcast=rebroadcast))
            return tx
        return False

    def _prepare(self, action: Action) -> _Prepared:
        """The read-only part of a fresh action (run in a worker thread): effect already on chain?
        its transaction, and its gas (a revert here is reported before anything is signed)."""
        entry = self.journal.entry(action.id)
        if action.done_on_chain is not None and (entry is None or not entry.has_transaction):
            found = action.done_on_chain(self.ctx)
            if found is not None:
                return _Prepared(action, found=found)
        signer = self.ctx.signer(action.sender)
        assert action.build is not None and action.chain is not None, action.id
        try:
            request = action.build(self.ctx)
            tx = {"to": request.to, "data": request.data, "value": request.value}
            gas = request.gas if request.gas is not None else self.sender.estimate(action.chain, signer.address, tx)
        except TxRejected as error:
            return _Prepared(action, refused=error.reason)
        return _Prepared(action, tx=tx, gas=gas)

    def _sign_round(self, step: Step, fresh: list[Action]) -> list[tuple[Action, Signed]]:
        """Prepare the round in parallel, then allocate nonces and sign in the actions' order."""
        for action in fresh:  # open keys here, not in the workers: opening may ask for a passphrase
            self.ctx.signer(action.sender)
        signed: list[tuple[Action, Signed]] = []
        found: list[_Prepared] = []
        for prepared in self._pool.map(self._prepare, fresh):
            action = prepared.action
            assert action.chain is not None
            if prepared.found is not None:
                found.append(prepared)
                continue
            if prepared.refused is not None:
                self._fail(step, action, None, prepared.refused)
            signer = self.ctx.signer(action.sender)
            nonce = self.sender.next_nonce(action.chain, signer.address)
            if action.expected_nonce is not None and nonce != action.expected_nonce:
                self._fail(step, action, None, (
                    f"{signer.address} has nonce {nonce} on the {action.chain} chain, but the deployment "
                    f"precomputed addresses from nonce {action.expected_nonce}; it must not send anything else "
                    "during the bootstrap"))
            assert prepared.tx is not None
            signed.append((action, self.sender.sign(action.id, action.chain, signer, prepared.tx,
                                                    gas=prepared.gas, nonce=nonce)))
        if found:
            with self.journal.batch():
                for prepared in found:
                    assert prepared.found is not None
                    self._record_outputs(step, prepared.action, prepared.found)
                    self.journal.record_done(prepared.action.id, prepared.found)
            for prepared in found:
                self.emit(ev.ActionSkipped(step.key, prepared.action.id, prepared.action.label, "already on chain"))
        return signed

    def _room(self, inflight: dict[str, Inflight], fresh: list[Action], action: Action) -> bool:
        return self.max_inflight is None or not action.chain or len(inflight) + len(fresh) < self.max_inflight

    def _sign_waves(self, step: Step, fresh: list[Action], pending: dict[str, Action],
                    inflight: dict[str, Inflight]) -> list[tuple[Action, Signed]]:
        """Sign the round, and in the same round whatever it makes ready through `after_signed` (the
        gateway deployment that only needs OriginCore's address): all recorded in one journal write,
        before any of them is broadcast. A refusal drops the whole unsent round from the journal."""
        round_: list[tuple[Action, Signed]] = []
        if not fresh:
            return round_
        try:
            with self.journal.batch():
                wave = fresh
                while wave:
                    signed = self._sign_round(step, wave)
                    for action, item in signed:
                        if action.deploy_output:
                            self._record_outputs(step, action, {action.deploy_output: create_address(item.sender,
                                                                                                     item.nonce)})
                    self.sender.record([item for _, item in signed])
                    round_ += signed
                    taken = [*fresh, *(a for a, _ in round_)]
                    wave = [a for a in pending.values() if a.chain and a.after_signed and self._ready(a)
                            and self._is_fresh(a) and self._room(inflight, taken, a)]
                    for action in wave:
                        del pending[action.id]
        except StepFailed as failure:  # the batch is dropped: record the refusal itself on disk
            entry = self.journal.entry(failure.action)
            ours = failure.action in {a.id for a in step.actions}
            if ours and (entry is None or entry.status not in ("confirmed", "failed")):
                self.journal.record_failed(failure.action, failure.reason)
            raise
        return round_

    def _is_fresh(self, action: Action) -> bool:
        entry = self.journal.entry(action.id)
        return entry is None or not (entry.has_transaction and entry.status in ("signed", "sent"))

    def _send_round(self, step: Step, round_: list[tuple[Action, Signed]]) -> list[tuple[Action, Inflight]]:
        """Broadcast a journalled round: one JSON-RPC batch per chain, so it lands in one block."""
        if not round_:
            return []
        answered = self.sender.broadcast_many([signed for _, signed in round_])
        sent: list[tuple[Action, Inflight]] = []
        for index, (action, signed) in enumerate(round_):
            self.emit(ev.TxSigned(step.key, action.id, action.label, signed.chain, signed.sender, signed.nonce,
                                  signed.tx_hash))
            try:
                # What the batch did not get accepted goes one by one: that path retries and classifies.
                sent.append((action, self.sender.inflight(signed) if signed.tx_hash in answered
                             else self.sender.broadcast(signed)))
            except TxRejected as error:
                # The batch may already have delivered later ones: those the node holds count as sent (the
                # next run adopts them); only the others are freed (failed, no receipt) for their nonces.
                with self.journal.batch():
                    for later, later_signed in round_[index + 1:]:
                        if later_signed.tx_hash in answered or self.sender.known(later_signed):
                            sent.append((later, self.sender.inflight(later_signed)))
                        else:
                            self.journal.record_failed(later.id, "not sent: an earlier transaction of its round "
                                                                 "was refused")
                    self.journal.record_sent_many([a.id for a, _ in sent])
                self._fail(step, action, signed.tx_hash, error.reason)
            self.emit(ev.TxSent(step.key, action.id, signed.tx_hash))
        self.journal.record_sent_many([action.id for action, _ in sent])
        return sent

    def _collect_receipts(self, step: Step, chain: str, head: int, inflight: dict[str, Inflight],
                          started: dict[str, float]) -> list[tuple[str, Inflight, Any]]:
        """Receipts up to `head` only: a block mined while we read is taken whole at the next look,
        so the round it completes starts at once instead of in two halves."""
        mined = []
        for action_id, tx in inflight.items():
            if tx.chain != chain:
                continue
            receipt = self.sender.receipt(tx.chain, tx.tx_hash)
            if receipt is not None and int(receipt["blockNumber"]) <= head:
                mined.append((action_id, tx, receipt))
            elif time.monotonic() - started[action_id] > RECEIPT_TIMEOUT:
                raise StepFailed(step.key, action_id, f"transaction {tx.tx_hash} was not mined within "
                                 f"{RECEIPT_TIMEOUT:.0f} s; it stays in the journal and is picked up when you "
                                 "run again")
        return mined

    def _rebroadcast_forgotten(self, step: Step, by_id: dict[str, Action], inflight: dict[str, Inflight],
                               started: dict[str, float], looked: dict[str, float]) -> None:
        """Send a transaction the node no longer holds again: the journalled bytes, so the same nonce and
        hash (`TxSender.resume` adopts it if mined meanwhile, and refuses if its nonce went elsewhere)."""
        now = time.monotonic()
        for action_id in list(inflight):
            if now - looked.get(action_id, started[action_id]) < STILL_PENDING_CHECK:
                continue
            looked[action_id] = now
            entry = self.journal.entry(action_id)
            assert entry is not None, action_id
            try:
                tx, rebroadcast = self.sender.resume(entry)
            except TxRejected as error:
                self._fail(step, by_id[action_id], entry.tx_hash, error.reason)
            if rebroadcast:
                self.emit(ev.TxSent(step.key, action_id, tx.tx_hash, rebroadcast=True))

    def _finish_round(self, step: Step, by_id: dict[str, Action], mined: list[tuple[str, Inflight, Any]]) -> None:
        """Record a block's worth of receipts in one write; a reverted one then stops the step."""
        reverted = [(a, tx, r) for a, tx, r in mined if int(r["status"]) != 1]
        confirmed = [(a, tx, r) for a, tx, r in mined if int(r["status"]) == 1]
        with self.journal.batch():
            for action_id, _, receipt in confirmed:
                self._confirm(step, by_id[action_id], receipt)
            for action_id, _, receipt in reverted:
                self.journal.record_receipt(action_id, int(receipt["blockNumber"]), int(receipt["gasUsed"]), 0)
        for action_id, tx, receipt in confirmed:
            self.emit(ev.TxConfirmed(step.key, action_id, by_id[action_id].label, tx.tx_hash,
                                     int(receipt["blockNumber"]), int(receipt["gasUsed"])))
        for action_id, tx, receipt in reverted:
            reason = self.sender.failure_reason(tx.chain, tx.tx_hash, int(receipt["blockNumber"]))
            self._fail(step, by_id[action_id], tx.tx_hash, reason)

    def _confirm(self, step: Step, action: Action, receipt: Any) -> None:
        block, gas_used = int(receipt["blockNumber"]), int(receipt["gasUsed"])
        block_hash = receipt["blockHash"]
        outputs: dict[str, Any] = {"block_number": block,
                                   "block_hash": block_hash.to_0x_hex() if hasattr(block_hash, "to_0x_hex")
                                   else str(block_hash)}
        if action.outputs is not None:
            outputs.update(action.outputs(self.ctx, receipt))
        if action.deploy_output:
            outputs[action.deploy_output] = receipt["contractAddress"]
        self._record_outputs(step, action, {k: v for k, v in outputs.items() if k not in ("block_number", "block_hash")})
        self.journal.record_receipt(action.id, block, gas_used, 1, outputs)

    def _record_outputs(self, step: Step, action: Action, outputs: dict[str, Any]) -> None:
        for key, value in outputs.items():
            if key != "detail" and not key.startswith("_"):
                self.journal.set_step_output(step.key, key, value)

    def _fail(self, step: Step, action: Action, tx_hash: str | None, reason: str) -> NoReturn:
        entry = self.journal.entry(action.id)
        if entry is None or entry.status != "failed":
            self.journal.record_failed(action.id, reason)
        self.emit(ev.TxFailed(step.key, action.id, action.label, tx_hash, reason))
        raise StepFailed(step.key, action.id, reason)
