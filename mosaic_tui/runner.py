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

import contextlib
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from mosaic_tui import events as ev
from mosaic_tui.chain.sender import Decoded, Inflight, Signed, TxRejected, TxSender, decode_raw
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import ActionEntry, Journal

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

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
    # How a journalled transaction is compared with what `build` gives now, where they legitimately
    # differ once the action is mined (a gateway stake's nonce): None means to, data and value equal.
    matches: Callable[[Any, Tx, Decoded], bool] | None = None


@dataclass
class Step:
    key: str  # "1".."5"
    title: str
    actions: list[Action]
    before: Callable[[Any], None] | None = None  # checks or set-up before any action (e.g. fee mode)
    finish: Callable[[Any], dict[str, Any]] | None = None  # step outputs computed from the actions'
    # Checks of the step outputs that `finish` computed, against the chain, on every resume: each
    # returned sentence is a mismatch (the journal is a cache, never an authority).
    check: Callable[[Any], list[str]] | None = None
    # Called with the number of the step's transactions a reorg removed, before the step is marked to run
    # again: it may refuse (StepFailed) when later work was built on the step's outputs for good.
    reorged: Callable[[Any, int], None] | None = None


class JournalMismatch(StepFailed):
    """The journal says something the plan and the chain do not: nothing is adopted, nothing signed."""

    def __init__(self, step: str, action: str, what: str) -> None:
        super().__init__(step, action, f"the journal entry {action} does not match the chain: {what}. "
                                       "Nothing was signed or sent. The journal is only a cache of what this "
                                       "program did; if it was edited or belongs to another deployment, restore "
                                       "the right one.")


CRASH_AFTER_STEP_ENV = "MOSAIC_TUI_CRASH_AFTER_STEP"


def _maybe_crash_after_step(step: str) -> None:
    """Test hook: SIGKILL this process right after a step is recorded as done (resume tests)."""
    if os.environ.get(CRASH_AFTER_STEP_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _hex(value: Any) -> str:
    """A hash from web3 (HexBytes) or JSON (text) as 0x-hex text."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _gwei(wei: int | None) -> str:
    if wei is None:
        return "unset"
    from mosaic_tui.units import format_amount

    return format_amount(wei, "gwei")


def _block_hash(client: Any, number: int) -> str | None:
    from web3.exceptions import BlockNotFound

    try:
        return _hex(client.w3.eth.get_block(number)["hash"])
    except BlockNotFound:
        return None


def create_address(sender: str, nonce: int) -> str:
    """The address a contract deployed by `sender` with `nonce` gets (web3's own helper; imported here, as
    web3 stays off the first screen's way)."""
    from web3.utils.address import get_create_address

    return str(get_create_address(sender, nonce))  # type: ignore[arg-type]


def _same_value(a: Any, b: Any) -> bool:
    """Journal values against chain values: hex text in any case, bytes as hex, lists and dicts deep."""
    from mosaic_tui.journal import _jsonable

    def norm(value: Any) -> Any:
        value = _jsonable(value, "comparing")
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value
    return bool(norm(a) == norm(b))


def _same_tx(expected: Tx, found: Decoded) -> list[str]:
    """Where a decoded transaction differs from the one the action builds now."""
    differences = []
    want_to = expected.to.lower() if expected.to else None
    if (found.to.lower() if found.to else None) != want_to:
        differences.append(f"it is sent to {found.to or 'no one (a contract creation)'}, the action sends to "
                           f"{expected.to or 'no one (a contract creation)'}")
    if found.data.lower() != expected.data.lower():
        differences.append("its data is not what the action builds from the plan and the chain now")
    if found.value != expected.value:
        differences.append(f"its value is {found.value} wei, the action sends {expected.value} wei")
    return differences


@dataclass
class _Prepared:
    """A fresh transaction action after the read-only work (checks, build, gas), before signing."""

    action: Action
    tx: dict[str, Any] | None = None
    gas: int = 0
    found: dict[str, Any] | None = None  # its effect is already on chain: these are its outputs
    refused: str | None = None  # the node would revert it: the reason


class Runner:
    def __init__(self, ctx: Deployment, journal: Journal, sender: TxSender, emit: Callable[[ev.Event], None],
                 *, max_inflight: int | None = None, should_stop: Callable[[], bool] = lambda: False) -> None:
        self.ctx = ctx
        self.journal = journal
        self.sender = sender
        self.emit = emit
        self.max_inflight = max_inflight
        self.should_stop = should_stop
        self._slots: dict[str, int] = {}  # action -> the journalled nonce its next signature must reuse
        self._released: set[str] = set()  # actions whose old nonce the chain proved used by another tx
        self._built: list[Step] = []  # steps built so far, in order (their receipts are re-checked)
        self._sent_block: dict[str, int] = {}  # action -> the head when its current version was first seen
        self._told_ceiling: set[str] = set()
        self._told_refused: set[str] = set()

    def run_steps(self, steps: list[Callable[[Any], Step]]) -> None:
        """Build each step just before it runs: later steps read the outputs of earlier ones. Before a
        step builds on earlier outputs, their receipts are checked against the canonical chain; a step a
        reorg undid runs again from there."""
        # Preparing a round is RPC-bound (reads, gas estimates); a few threads overlap those waits.
        with ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="prepare") as pool:
            self._pool = pool
            index = 0
            while index < len(steps):
                redo = self._reorged_step()
                if redo is not None:
                    index = redo
                    del self._built[redo:]
                step = steps[index](self.ctx)
                self._built.append(step)
                self.run_step(step)
                index += 1

    def _reorged_step(self) -> int | None:
        """The first built step with a receipt a reorg took off the canonical chain (it is marked to run
        again, its entries back in flight), or None."""
        for index, step in enumerate(self._built):
            if self._check_canonical(step):
                return index
        return None

    def _check_canonical(self, step: Step) -> bool:
        """Every mined transaction of the step is still in the block its receipt named; a removed one goes
        back in flight (adopted if re-included, else rebroadcast byte for byte) and the step runs again."""
        moved = []
        blocks: dict[tuple[str, int], str | None] = {}
        for action in step.actions:
            entry = self.journal.entry(action.id)
            if entry is None or not entry.has_transaction or entry.receipt is None or action.chain is None:
                continue
            receipt = entry.receipt
            if receipt.block_hash is None:
                continue  # journalled by an older version: nothing to compare with
            key = (action.chain, receipt.block_number)
            if key not in blocks:
                blocks[key] = self._canonical_hash(action.chain, receipt.block_number)
            if blocks[key] != receipt.block_hash:
                moved.append(action)
        if not moved:
            return False
        if step.reorged is not None:
            step.reorged(self.ctx, len(moved))
        with self.journal.batch():
            for action in moved:
                self.journal.record_reorged(action.id)
            self.journal.mark_step_undone(step.key)
        for action in moved:
            self.emit(ev.Waiting(step.key, f"{action.label}: its block left the canonical chain (a reorg); "
                                           "its transaction is adopted again or rebroadcast byte for byte"))
        return True

    def _canonical_hash(self, chain: str, number: int) -> str | None:
        client = self.sender.chain(chain)
        return client.call("checking a block", lambda: _block_hash(client, number))

    def run_step(self, step: Step) -> None:
        self.emit(ev.StepStarted(step.key, step.title, len(step.actions)))
        self._check_canonical(step)
        self._audit(step)
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
                self._replace_stuck(step, chain, head, inflight, by_id, started)
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

    # -- the journal is a cache, never an authority -------------------------------------------------------

    def _audit(self, step: Step) -> None:
        """Check what the journal says about this step against the plan and the chains before any of it is
        adopted or built on: every signed transaction decodes to its entry's hash, sender, nonce and chain,
        and to what the action builds now; every receipt is on chain with the outputs the journal holds; a
        deployed address is CREATE(sender, nonce) and holds our code; the step's own outputs equal those.
        A mismatch raises JournalMismatch (exit 1), and nothing is signed."""
        derived: dict[str, Any] = {}
        for action in step.actions:
            entry = self.journal.entry(action.id)
            if entry is None or action.chain is None:
                continue
            if entry.has_transaction:
                self._audit_transaction(step, action, entry)
                if action.deploy_output:
                    assert entry.sender is not None and entry.nonce is not None
                    derived[action.deploy_output] = create_address(entry.sender, entry.nonce)
            if entry.status != "confirmed":
                continue
            if entry.has_transaction and entry.receipt is not None and entry.receipt.status == 1:
                outputs = self._audit_receipt(step, action, entry)
            else:
                if action.done_on_chain is None:
                    raise JournalMismatch(step.key, action.id, "it is marked done without a receipt, but only its "
                                                               "own transaction can do what it does")
                found = action.done_on_chain(self.ctx)
                if found is None:
                    raise JournalMismatch(step.key, action.id, "it is marked done, but its effect is not on chain")
                outputs = found
            for key, value in outputs.items():
                if not key.startswith("_") and key != "detail":
                    derived[key] = value
        recorded = self.journal.step_outputs(step.key)
        for key, value in derived.items():
            if key in recorded and not _same_value(recorded[key], value):
                raise JournalMismatch(step.key, f"step {step.key} output {key}",
                                      f"it says {recorded[key]}, the chain and the plan give {value}")
        owned = {a.deploy_output for a in step.actions if a.deploy_output}
        for key in sorted(owned & set(recorded) - set(derived)):
            raise JournalMismatch(step.key, f"step {step.key} output {key}",
                                  f"it says {recorded[key]}, but no verified transaction of this deployment gives it")
        if step.check is not None and self.journal.is_step_done(step.key):
            for problem in step.check(self.ctx):
                raise JournalMismatch(step.key, f"step {step.key} outputs", problem)

    def _audit_transaction(self, step: Step, action: Action, entry: ActionEntry) -> Decoded:
        assert action.chain is not None and action.build is not None
        client = self.sender.chain(action.chain)
        expected_sender = self.ctx.signer(action.sender).address
        latest: Decoded | None = None
        for tx_hash, raw in entry.versions:
            if not raw:
                continue  # an earlier version journalled before its bytes were kept: adopted only if it decodes
            try:
                decoded = decode_raw(bytes.fromhex(raw[2:]))
            except ValueError as error:
                raise JournalMismatch(step.key, action.id, f"its signed bytes are not a transaction ({error})") from None
            if decoded.tx_hash != tx_hash:
                raise JournalMismatch(step.key, action.id, f"its signed bytes hash to {decoded.tx_hash}, the entry "
                                                           f"says {tx_hash}")
            if decoded.sender != entry.sender or decoded.sender != expected_sender:
                raise JournalMismatch(step.key, action.id, f"transaction {tx_hash} was signed by {decoded.sender}; "
                                                           f"the entry says {entry.sender}, and the plan's "
                                                           f"{action.sender} is {expected_sender}")
            if decoded.nonce != entry.nonce:
                raise JournalMismatch(step.key, action.id, f"transaction {tx_hash} has nonce {decoded.nonce}, the "
                                                           f"entry says {entry.nonce}")
            if decoded.chain_id != client.chain_id:
                raise JournalMismatch(step.key, action.id, f"transaction {tx_hash} is for chain id "
                                                           f"{decoded.chain_id}, the {action.chain} chain is "
                                                           f"{client.chain_id}")
            if latest is None:
                latest = decoded
        if latest is None:
            raise JournalMismatch(step.key, action.id, "it names a transaction but holds no signed bytes of it")
        try:
            expected = action.build(self.ctx)
        except StepFailed:
            raise
        except Exception as error:
            raise JournalMismatch(step.key, action.id, f"the action cannot be built again from the plan and the "
                                                       f"chain to compare ({type(error).__name__}: {error})") from None
        for tx_hash, raw in entry.versions:
            if not raw:
                continue
            decoded = decode_raw(bytes.fromhex(raw[2:]))
            if action.matches is not None:
                differences = [] if action.matches(self.ctx, expected, decoded) else [
                    "it is not the transaction the action builds from the plan and the chain now"]
            else:
                differences = _same_tx(expected, decoded)
            if differences and entry.status == "confirmed":
                differences = self._sent_under_applied_plan(action, decoded, differences)
            if differences:
                raise JournalMismatch(step.key, action.id, f"transaction {tx_hash}: " + "; ".join(differences))
        return latest

    def _sent_under_applied_plan(self, action: Action, decoded: Decoded, differences: list[str]) -> list[str]:
        """A confirmed transaction sent before a harmless plan change was built from the plan the journal was
        bound to then: it must be exactly what the action builds from that plan (and the chain now)."""
        sent_plan = getattr(self.ctx, "sent_plan", None)
        if sent_plan is None:
            return differences
        assert action.build is not None
        current = self.ctx.plan
        self.ctx.plan = sent_plan
        try:
            expected = action.build(self.ctx)
            if action.matches is not None:
                return [] if action.matches(self.ctx, expected, decoded) else differences
            return differences if _same_tx(expected, decoded) else []
        except StepFailed:
            raise
        except Exception:
            return differences
        finally:
            self.ctx.plan = current

    def _audit_receipt(self, step: Step, action: Action, entry: ActionEntry) -> dict[str, Any]:
        """The receipt the journal holds is on chain, and the outputs it records are what the chain says."""
        assert action.chain is not None and entry.tx_hash and entry.sender is not None and entry.nonce is not None
        receipt = self.sender.receipt(action.chain, entry.tx_hash)
        if receipt is None or int(receipt["status"]) != 1:
            raise JournalMismatch(step.key, action.id, f"it says {entry.tx_hash} succeeded, but the {action.chain} "
                                                       "chain has no successful receipt of it")
        outputs = self._receipt_outputs(action, receipt)
        if action.deploy_output:
            address = create_address(entry.sender, entry.nonce)
            if not _same_value(outputs[action.deploy_output], address):
                raise JournalMismatch(step.key, action.id, f"the contract is at {outputs[action.deploy_output]}, not "
                                                           f"at CREATE({entry.sender}, {entry.nonce}) = {address}")
            self._audit_code(step, action, entry, address)
        for key, value in outputs.items():
            if key in entry.outputs and not _same_value(entry.outputs[key], value):
                raise JournalMismatch(step.key, action.id, f"its output {key} is {entry.outputs[key]}, the chain "
                                                           f"says {value}")
        return outputs

    def _audit_code(self, step: Step, action: Action, entry: ActionEntry, address: str) -> None:
        from mosaic_tui.contracts import artifacts_dir, load_artifact
        from mosaic_tui.verify import code_matches

        assert entry.raw_tx and action.chain is not None
        data = decode_raw(bytes.fromhex(entry.raw_tx[2:])).data.lower()
        names = sorted(path.stem for path in artifacts_dir().glob("*.json"))
        artifact = next((a for a in map(load_artifact, names) if data.startswith(a["bytecode"].lower())), None)
        client = self.sender.chain(action.chain)
        code = client.call("reading code", lambda: client.w3.eth.get_code(address))
        if artifact is None or not code_matches(bytes(code), artifact):
            raise JournalMismatch(step.key, action.id, f"the code at {address} is not the code of our "
                                                       f"{artifact['contractName'] if artifact else 'contracts'}")

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
        if entry is None or not entry.has_transaction or (entry.status == "failed" and entry.receipt is not None):
            return False  # nothing signed yet, or its own transaction reverted (its nonce is used)
        sent = entry.status in ("signed", "sent")
        try:
            tx, how = self.sender.resume(entry) if sent else self._look_up(entry)
        except TxRejected as error:
            self._fail(step, action, entry.tx_hash, error.reason)
        if how == "released":
            self._released.add(action.id)  # the chain proved the old nonce used by another transaction
            return False
        if how == "unsent":
            assert entry.nonce is not None
            self._slots[action.id] = entry.nonce  # refused earlier: replaced at its own nonce
            return False
        self.emit(ev.TxSent(step.key, action.id, tx.tx_hash, rebroadcast=how == "rebroadcast"))
        return tx

    def _look_up(self, entry: ActionEntry) -> tuple[Inflight, str]:
        """A transaction recorded as refused at broadcast: mined or held after all, proven dropped, or
        still "unsent" (then only a replacement at its own nonce may follow)."""
        assert entry.chain and entry.tx_hash and entry.sender is not None and entry.nonce is not None
        inflight = Inflight(entry.action_id, entry.chain, entry.tx_hash, entry.sender, entry.nonce)
        mined = self.sender.mined_version(entry)
        if mined is not None:
            inflight.tx_hash = mined[0]
            return inflight, "mined"
        if self.sender.nonce_consumed_by_other(entry):
            return inflight, "released"
        return inflight, "unsent"

    def _prepare(self, action: Action) -> _Prepared:
        """The read-only part of a fresh action (run in a worker thread): effect already on chain?
        its transaction, and its gas (a revert here is reported before anything is signed)."""
        if action.done_on_chain is not None:  # whoever caused it, journal or not
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
            if error.estimate:
                return _Prepared(action, refused=f"the node could not estimate gas for {action.label}: {error.reason}")
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
            if action.id in self._slots:
                nonce = self._slots[action.id]
            else:
                nonce = self.sender.next_nonce(action.chain, signer.address)
            if action.expected_nonce is not None and nonce != action.expected_nonce:
                self._fail(step, action, None, (
                    f"{signer.address} has nonce {nonce} on the {action.chain} chain, but the deployment "
                    f"precomputed addresses from nonce {action.expected_nonce}; it must not send anything else "
                    "during the bootstrap"))
            assert prepared.tx is not None
            previous = self.journal.entry(action.id)
            replaces = previous.raw_tx if previous is not None and previous.nonce == nonce and \
                action.id in self._slots else None
            signed.append((action, self.sender.sign(action.id, action.chain, signer, prepared.tx,
                                                    gas=prepared.gas, nonce=nonce, replaces=replaces)))
        if found:
            with self.journal.batch():
                for prepared in found:
                    assert prepared.found is not None
                    self._record_outputs(step, prepared.action, prepared.found)
                    self.journal.record_found(prepared.action.id, prepared.found)
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
                    self.sender.record([item for _, item in signed], frozenset(self._released))
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
        if entry is None or not entry.has_transaction or (entry.status == "failed" and entry.receipt is not None):
            return True
        # A transaction the journal holds is looked up first (`_resume_or_run`), never signed over.
        return action.id in self._slots or action.id in self._released

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
            entry = self.journal.entry(action_id)
            if entry is not None and entry.earlier_tx_hashes:  # replaced: whichever version is mined
                found = self.sender.mined_version(entry)
                receipt = found[1] if found is not None else None
                if found is not None:
                    tx.tx_hash = found[0]
            else:
                receipt = self.sender.receipt(tx.chain, tx.tx_hash)
            if receipt is not None and int(receipt["blockNumber"]) <= head:
                mined.append((action_id, tx, receipt))
            elif time.monotonic() - started[action_id] > RECEIPT_TIMEOUT:
                raise StepFailed(step.key, action_id, f"transaction {tx.tx_hash} was not mined within "
                                 f"{RECEIPT_TIMEOUT:.0f} s; it stays in the journal and is picked up when you "
                                 "run again")
        return mined

    def _replace_stuck(self, step: Step, chain: str, head: int, inflight: dict[str, Inflight],
                       by_id: dict[str, Action], started: dict[str, float]) -> None:
        """A transaction not mined within the plan's number of blocks is replaced at its nonce with both fees
        raised by at least 10 %, never above the ceiling, journalled before it is broadcast. At the ceiling
        the run says that it waits, and why."""
        policy = self.sender.policy.get(chain)
        if policy is None:
            return
        for action_id, tx in list(inflight.items()):
            if tx.chain != chain:
                continue
            first = self._sent_block.setdefault(action_id, head)
            if head - first < policy.replace_after_blocks:
                continue
            self._sent_block[action_id] = head
            entry = self.journal.entry(action_id)
            action = by_id[action_id]
            assert entry is not None
            # Only a transaction the node holds is priced out: one it forgot is sent again byte for byte.
            try:
                held, how = self.sender.resume(entry)
            except TxRejected:
                how = "refused"  # priced out of the pool: replaced below, with raised fees
            if how in ("mined", "released", "rebroadcast"):
                if how == "rebroadcast":
                    self.emit(ev.TxSent(step.key, action_id, held.tx_hash, rebroadcast=True))
                continue
            signed = self.sender.replacement(entry, self.ctx.signer(action.sender))
            if signed is None:
                if action_id not in self._told_ceiling:
                    self._told_ceiling.add(action_id)
                    self.emit(ev.Waiting(step.key, (
                        f"{action.label}: not mined within {policy.replace_after_blocks} blocks, and its fees are at "
                        f"the plan's ceiling (origin.max_fee_per_gas {_gwei(policy.max_fee_per_gas)}, "
                        f"origin.max_priority_fee_per_gas {_gwei(policy.max_priority_fee_per_gas)}); waiting for "
                        "the base fee to fall below it")))
                continue
            self.sender.record([signed])  # journalled before it is broadcast; the earlier hashes stay
            with contextlib.suppress(TxRejected):  # the earlier version holds the nonce: whichever is mined is adopted
                self.sender.broadcast(signed)
            inflight[action_id] = self.sender.inflight(signed)
            started[action_id] = time.monotonic()
            replaced = len(entry.versions)
            self.emit(ev.TxSent(step.key, action_id, signed.tx_hash, replaced=replaced))

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
                tx, how = self.sender.resume(entry)
            except TxRejected as error:
                if entry.chain not in self.sender.policy:
                    self._fail(step, by_id[action_id], entry.tx_hash, error.reason)
                # Priced out for now (a base fee above its fee cap): it is replaced with raised fees under the
                # ceiling, or sent again once the base fee falls; RECEIPT_TIMEOUT bounds the wait.
                if action_id not in self._told_refused:
                    self._told_refused.add(action_id)
                    self.emit(ev.Waiting(step.key, f"{by_id[action_id].label}: the node does not take it for now "
                                                   f"({error.reason}); waiting, and replacing it with raised fees "
                                                   "under the plan's ceiling"))
                continue
            if how == "released":
                self._fail(step, by_id[action_id], entry.tx_hash, (
                    f"nonce {entry.nonce} of {entry.sender} on the {entry.chain} chain was used by a transaction "
                    "this deployment did not send; run again: the action is then checked on chain and, if still "
                    "needed, signed at a new nonce"))
            inflight[action_id] = tx  # the version the node holds or mined
            if how == "rebroadcast":
                self.emit(ev.TxSent(step.key, action_id, tx.tx_hash, rebroadcast=True))

    def _finish_round(self, step: Step, by_id: dict[str, Action], mined: list[tuple[str, Inflight, Any]]) -> None:
        """Record a block's worth of receipts in one write; a reverted one then stops the step."""
        reverted = [(a, tx, r) for a, tx, r in mined if int(r["status"]) != 1]
        confirmed = [(a, tx, r) for a, tx, r in mined if int(r["status"]) == 1]
        with self.journal.batch():
            for action_id, _, receipt in confirmed:
                self._confirm(step, by_id[action_id], receipt)
            for action_id, _, receipt in reverted:
                self.journal.record_receipt(action_id, int(receipt["blockNumber"]), int(receipt["gasUsed"]), 0,
                                            tx_hash=_hex(receipt["transactionHash"]),
                                            block_hash=_hex(receipt["blockHash"]))
        for action_id, tx, receipt in confirmed:
            self.emit(ev.TxConfirmed(step.key, action_id, by_id[action_id].label, tx.tx_hash,
                                     int(receipt["blockNumber"]), int(receipt["gasUsed"])))
        for action_id, tx, receipt in reverted:
            action = by_id[action_id]
            found = action.done_on_chain(self.ctx) if action.done_on_chain is not None else None
            if found is not None:  # someone else's transaction got there first: the action is done
                with self.journal.batch():
                    self._record_outputs(step, action, found)
                    self.journal.record_found(action_id, found)
                self.emit(ev.ActionSkipped(step.key, action_id, action.label,
                                           "already on chain (another transaction did it first)"))
                continue
            reason = self.sender.failure_reason(tx.chain, tx.tx_hash, int(receipt["blockNumber"]))
            self._fail(step, action, tx.tx_hash, reason)

    def _confirm(self, step: Step, action: Action, receipt: Any) -> None:
        block, gas_used = int(receipt["blockNumber"]), int(receipt["gasUsed"])
        block_hash = _hex(receipt["blockHash"])
        outputs: dict[str, Any] = {"block_number": block, "block_hash": block_hash}
        outputs.update(self._receipt_outputs(action, receipt))
        self._record_outputs(step, action, {k: v for k, v in outputs.items() if k not in ("block_number", "block_hash")})
        self.journal.record_receipt(action.id, block, gas_used, 1, outputs, tx_hash=_hex(receipt["transactionHash"]),
                                    block_hash=block_hash)

    def _receipt_outputs(self, action: Action, receipt: Any) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        if action.outputs is not None:
            outputs.update(action.outputs(self.ctx, receipt))
        if action.deploy_output:
            outputs[action.deploy_output] = receipt["contractAddress"]
        return outputs

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
