"""The journal (`<plan>.state.json`): what has happened, so a run can stop anywhere and resume.

Before a transaction is broadcast the runner records its signed bytes, hash, sender and nonce;
after its receipt, what it produced. A restarted run reads this back and rebroadcasts or adopts
the recorded transaction instead of signing a second one for the same action, which on a chain
would mean a second contract or a second stake.

Every change rewrites the whole file atomically (temp file, fsync, rename), so after a crash the
file holds exactly the changes made before it. The file is 0600: signed transactions are not
secrets, but nobody else needs to read them.

Test hook: with MOSAIC_TUI_CRASH_AFTER_WRITE=k in the environment the process kills itself with
SIGKILL right after the k-th journal write (counted from 1 across the process), so reliability
tests can crash a run at every point it can be interrupted.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui.errors import JournalError
from mosaic_tui.fsio import atomic_write
from mosaic_tui.plan_files import journal_path as journal_path  # re-exported: callers name it from here

JOURNAL_VERSION = 1
CRASH_ENV = "MOSAIC_TUI_CRASH_AFTER_WRITE"
STATUSES = ("planned", "signed", "sent", "confirmed", "failed")
CHAINS = ("origin", "auxiliary")
_HASH = re.compile(r"0x[0-9a-f]{64}", re.ASCII)
_HEX = re.compile(r"0x(?:[0-9a-f]{2})*", re.ASCII)

_writes_in_process = 0


@dataclass(frozen=True)
class Receipt:
    block_number: int
    gas_used: int
    status: int  # 1 success, 0 reverted
    block_hash: str | None = None  # checked against the canonical chain on every resume


@dataclass(frozen=True)
class ActionEntry:
    """A read-only copy of one action's record."""

    action_id: str
    status: str
    chain: str | None = None
    sender: str | None = None
    nonce: int | None = None
    tx_hash: str | None = None
    raw_tx: str | None = None
    earlier_tx_hashes: tuple[str, ...] = ()  # replaced or failed attempts that might still be mined
    earlier_raw_txs: tuple[str, ...] = ()  # their signed bytes, same order ("" where an old journal lacks them)
    receipt: Receipt | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    updated_at: float = 0.0

    @property
    def has_transaction(self) -> bool:
        return self.raw_tx is not None

    @property
    def versions(self) -> list[tuple[str, str]]:
        """(hash, signed bytes) of every transaction signed for this action, the latest first."""
        latest = [(self.tx_hash, self.raw_tx)] if self.tx_hash and self.raw_tx else []
        raws = list(self.earlier_raw_txs) + [""] * (len(self.earlier_tx_hashes) - len(self.earlier_raw_txs))
        return latest + [(h, r) for h, r in reversed(list(zip(self.earlier_tx_hashes, raws, strict=False)))]


def _empty() -> dict[str, Any]:
    return {"version": JOURNAL_VERSION, "sequence": 0, "plan_digest": None, "actions": {}, "steps": {}}


def _jsonable(value: Any, where: str) -> Any:
    """Outputs as JSON values; bytes (and web3's HexBytes) become 0x-hex text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_jsonable(item, where) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item, where) for key, item in value.items()}
    raise TypeError(f"{where}: a journal output must be JSON-like (text, numbers, bytes, lists, dicts), "
                    f"not {type(value).__name__}")


class Journal:
    """The state file of one plan; every `record_*` / `set_*` / `mark_*` call is written to disk at once."""

    def __init__(self, path: str | os.PathLike[str], data: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self._data = data if data is not None else _empty()
        self._lock_fd: int | None = None
        self._batching = False
        self._dirty = False

    # -- loading and locking ---------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Journal:
        """The journal at `path`; a missing file is a fresh journal, a damaged one a JournalError."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as error:
            raise JournalError(str(path), f"the journal cannot be read ({error.__class__.__name__}).") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise JournalError(str(path), f"the journal is damaged: not valid JSON at line {error.lineno}. "
                                          + _DAMAGED_ADVICE) from None
        problem = _structure_problem(data)
        if problem:
            raise JournalError(str(path), f"the journal is damaged: {problem}. " + _DAMAGED_ADVICE)
        return cls(path, data)

    def lock(self) -> None:
        """Claim the journal for this process: two runs of one plan would sign every action twice."""
        if self._lock_fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(str(self.path), "another mosaic-tui process is deploying this plan; "
                                               "wait for it to finish or stop it first.") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # -- the plan this journal belongs to --------------------------------------------------------

    @property
    def sequence(self) -> int:
        """How many writes the file has seen, over all runs."""
        return int(self._data["sequence"])

    @property
    def plan_digest(self) -> str | None:
        digest: str | None = self._data["plan_digest"]
        return digest

    def bind_plan(self, digest: str, applied: Mapping[str, Any] | None = None, *, accept_change: bool = False) -> None:
        """Tie the journal to a plan (`Plan.digest()`) and keep the applied plan itself (`plan.plan_data(plan)`),
        so that a changed plan can be told field by field; resuming with a changed plan is refused
        unless the preflight found the change harmless (`accept_change`)."""
        current = self._data["plan_digest"]
        kept = None if applied is None else _jsonable(dict(applied), "plan")
        if current == digest and (kept is None or self._data.get("plan") == kept):
            return
        if current is not None and current != digest and not accept_change:
            raise JournalError(str(self.path), "the journal belongs to a different version of the plan; "
                                               "a deployment cannot be resumed with changed inputs.")

        def bind(data: dict[str, Any]) -> None:
            data["plan_digest"] = digest
            if kept is not None:
                data["plan"] = kept
        self._commit(bind)

    @property
    def applied_plan(self) -> dict[str, Any] | None:
        """The plan the journal was last bound to (None for a journal that kept only its digest)."""
        plan: dict[str, Any] | None = copy.deepcopy(self._data.get("plan"))
        return plan

    # -- actions ---------------------------------------------------------------------------------

    def entry(self, action_id: str) -> ActionEntry | None:
        raw = self._data["actions"].get(action_id)
        return None if raw is None else _entry_from_raw(action_id, raw)

    def confirmed(self, action_id: str) -> bool:
        """The action is done: its receipt is in, or it needed no transaction."""
        raw = self._data["actions"].get(action_id)
        return raw is not None and raw["status"] == "confirmed"

    def entries(self) -> list[ActionEntry]:
        return [_entry_from_raw(action_id, raw) for action_id, raw in self._data["actions"].items()]

    def record_planned(self, action_id: str, chain: str | None = None) -> None:
        if action_id in self._data["actions"]:
            return
        _check_chain(chain, allow_none=True)
        self._update(action_id, lambda entry: entry.update(status="planned", chain=chain))

    def record_signed(self, action_id: str, chain: str, sender: str, nonce: int, tx_hash: str, raw_tx: str,
                      *, nonce_released: bool = False) -> None:
        """Record a signed transaction before it is broadcast.

        An action that already has a transaction gets another one only at the same sender and nonce (a
        replacement: only one of the two can ever be mined), or at a new nonce when its own earlier
        transaction reverted (its nonce is used) or the caller has proven from the chain that the earlier
        nonce was consumed by a different transaction (`nonce_released`). A node's error words never are
        such a proof."""
        _check_chain(chain)
        if not isinstance(nonce, int) or isinstance(nonce, bool) or nonce < 0:
            raise ValueError(f"{action_id}: nonce must be a non-negative int, not {nonce!r}")
        tx_hash, raw_tx = _hex(tx_hash, "tx_hash", _HASH), _hex(raw_tx, "raw_tx", _HEX)
        current = self._data["actions"].get(action_id)
        earlier: list[tuple[str, str]] = []
        if current is not None and current.get("tx_hash"):
            status = current["status"]
            if status == "confirmed":
                raise JournalError(str(self.path), f"action {action_id} is already confirmed in "
                                                   f"{current['tx_hash']}; it must never be signed again.")
            same_slot = (current["chain"], current["sender"], current["nonce"]) == (chain, sender, nonce)
            reverted = status == "failed" and current.get("receipt") is not None
            if not same_slot and not reverted and not nonce_released:
                raise JournalError(str(self.path), f"action {action_id} already has transaction "
                                                   f"{current['tx_hash']} from {current['sender']} with nonce "
                                                   f"{current['nonce']} that is not proven dropped; adopt or "
                                                   "replace it at the same nonce.")
            hashes = current.get("earlier_tx_hashes", [])
            raws = list(current.get("earlier_raw_txs", []))
            raws += [""] * (len(hashes) - len(raws))
            earlier = [*zip(hashes, raws, strict=True), (current["tx_hash"], current.get("raw_tx") or "")]
            unique: dict[str, str] = {}
            for h, r in earlier:
                if h != tx_hash:
                    unique[h] = r or unique.get(h, "")
            earlier = list(unique.items())
        self._update(action_id, lambda entry: entry.update(
            status="signed", chain=chain, sender=sender, nonce=nonce, tx_hash=tx_hash, raw_tx=raw_tx,
            earlier_tx_hashes=[h for h, _ in earlier], earlier_raw_txs=[r for _, r in earlier],
            receipt=None, error=None))

    def record_sent(self, action_id: str) -> None:
        current = self._require(action_id, ("signed", "sent"))
        if current["status"] != "sent":
            self._update(action_id, lambda entry: entry.update(status="sent"))

    def record_sent_many(self, action_ids: list[str]) -> None:
        """`record_sent` for a whole round of broadcasts, in one write."""
        with self.batch():
            for action_id in action_ids:
                self.record_sent(action_id)

    def record_receipt(self, action_id: str, block_number: int, gas_used: int, status: int,
                       outputs: Mapping[str, Any] | None = None, *, tx_hash: str | None = None,
                       block_hash: str | None = None) -> None:
        """Record a mined transaction: confirmed with `outputs` when `status` is 1, failed when 0.

        `tx_hash` names the version that was mined when an earlier one (a replaced transaction) won: it
        becomes the entry's transaction and the others its earlier ones. `block_hash` is kept so every
        later run can check the receipt is still on the canonical chain."""
        current = self._require(action_id, ("signed", "sent", "failed"))
        if not current.get("tx_hash"):
            raise ValueError(f"{action_id}: a receipt needs a recorded transaction")
        clean = _jsonable(dict(outputs or {}), action_id)
        receipt: dict[str, Any] = {"block_number": int(block_number), "gas_used": int(gas_used), "status": int(status)}
        if block_hash is not None:
            receipt["block_hash"] = _hex(block_hash, "block_hash", _HASH)
        if status == 1:
            change = {"status": "confirmed", "receipt": receipt, "outputs": clean, "error": None}
        else:
            change = {"status": "failed", "receipt": receipt,
                      "error": f"the transaction reverted in block {block_number}"}
        mined = _hex(tx_hash, "tx_hash", _HASH) if tx_hash is not None else current["tx_hash"]
        if mined != current["tx_hash"]:
            entry = _entry_from_raw(action_id, current)
            versions = entry.versions
            if mined not in [h for h, _ in versions]:
                raise ValueError(f"{action_id}: {mined} is not one of its transactions")
            raw = dict(versions)[mined]
            others = [(h, r) for h, r in reversed(versions) if h != mined]
            change.update(tx_hash=mined, raw_tx=raw or current["raw_tx"], earlier_tx_hashes=[h for h, _ in others],
                          earlier_raw_txs=[r for _, r in others])
        self._update(action_id, lambda entry: entry.update(change))

    def record_reorged(self, action_id: str) -> None:
        """A reorg took the action's receipt off the canonical chain: it is in flight again (its signed
        bytes are rebroadcast or a re-inclusion adopted), and its step is no longer done."""
        current = self._require(action_id, ("confirmed", "failed"))
        if not current.get("tx_hash") or current.get("receipt") is None:
            raise ValueError(f"{action_id}: only a mined transaction can be reorged away")
        self._update(action_id, lambda entry: entry.update(status="sent", receipt=None, error=None))

    def record_found(self, action_id: str, outputs: Mapping[str, Any] | None = None) -> None:
        """The action's effect is on chain, whoever caused it: done, with or without a receipt of ours
        (a journalled transaction of ours that reverted, or never got in, stays in the entry)."""
        current = self._data["actions"].get(action_id)
        if current is not None and current.get("status") == "confirmed":
            return
        clean = _jsonable(dict(outputs or {}), action_id)
        self._update(action_id, lambda entry: entry.update(status="confirmed", outputs=clean, error=None,
                                                           found_on_chain=True))

    def record_failed(self, action_id: str, reason: str) -> None:
        current = self._data["actions"].get(action_id)
        if current is not None and current["status"] == "confirmed":
            raise JournalError(str(self.path), f"action {action_id} is confirmed; it cannot fail afterwards.")
        self._update(action_id, lambda entry: entry.update(status="failed", error=str(reason)))

    def record_done(self, action_id: str, outputs: Mapping[str, Any] | None = None) -> None:
        """Confirm an action that needs no transaction (a node started, a file written)."""
        current = self._data["actions"].get(action_id)
        if current is not None and current.get("tx_hash"):
            raise ValueError(f"{action_id}: an action with a transaction is confirmed by its receipt")
        clean = _jsonable(dict(outputs or {}), action_id)
        self._update(action_id, lambda entry: entry.update(status="confirmed", outputs=clean, error=None))

    # -- steps -----------------------------------------------------------------------------------

    def set_step_output(self, step: str | int, key: str, value: Any) -> None:
        """Record an output of a step; output names are unique across steps (see `outputs`)."""
        step, clean = str(step), _jsonable(value, f"step {step} output {key}")
        for other, record in self._data["steps"].items():
            if other != step and key in record["outputs"] and record["outputs"][key] != clean:
                raise ValueError(f"output {key!r} of step {step} is already an output of step {other}")
        if self._data["steps"].get(step, {}).get("outputs", {}).get(key, object()) == clean:
            return  # unchanged: no write
        self._commit(lambda data: _step(data, step)["outputs"].__setitem__(key, clean))

    def step_outputs(self, step: str | int) -> dict[str, Any]:
        return copy.deepcopy(self._data["steps"].get(str(step), {}).get("outputs", {}))

    def mark_step_done(self, step: str | int) -> None:
        if not self.is_step_done(step):
            self._commit(lambda data: _step(data, str(step)).__setitem__("done", True))

    def mark_step_undone(self, step: str | int) -> None:
        """A reorg undid part of a finished step: it runs again (adopting what is still on chain)."""
        if self.is_step_done(step):
            self._commit(lambda data: _step(data, str(step)).__setitem__("done", False))

    def is_step_done(self, step: str | int) -> bool:
        return bool(self._data["steps"].get(str(step), {}).get("done", False))

    def outputs(self) -> dict[str, Any]:
        """All outputs of all steps in one mapping (names are unique across steps)."""
        merged: dict[str, Any] = {}
        for record in self._data["steps"].values():
            merged.update(copy.deepcopy(record["outputs"]))
        return merged

    def outputs_by_step(self) -> dict[str, dict[str, Any]]:
        return {step: copy.deepcopy(record["outputs"]) for step, record in self._data["steps"].items()}

    # -- writing ---------------------------------------------------------------------------------

    def _require(self, action_id: str, statuses: tuple[str, ...]) -> dict[str, Any]:
        current: dict[str, Any] | None = self._data["actions"].get(action_id)
        if current is None or current["status"] not in statuses:
            found = "no record" if current is None else f"status {current['status']}"
            raise ValueError(f"{action_id}: expected status {' or '.join(statuses)}, found {found}")
        return current

    def _update(self, action_id: str, change: Callable[[dict[str, Any]], None]) -> None:
        def apply(data: dict[str, Any]) -> None:
            entry = data["actions"].setdefault(action_id, {"status": "planned", "outputs": {}})
            change(entry)
            entry["updated_at"] = time.time()
        self._commit(apply)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes, one write: the runner signs a whole round of transactions, records them all
        in one atomic write, then broadcasts them. An exception inside drops every change of the batch."""
        if self._batching:
            yield
            return
        saved = self._data
        self._data = copy.deepcopy(saved)
        self._batching, self._dirty = True, False
        try:
            yield
        except BaseException:
            self._data = saved
            raise
        finally:
            self._batching = False
        if self._dirty:
            self._write(self._data)

    def _commit(self, change: Callable[[dict[str, Any]], None]) -> None:
        if self._batching:
            change(self._data)
            self._dirty = True
            return
        # Change a copy and keep it only once it is on disk, so memory never runs ahead of the file.
        data = copy.deepcopy(self._data)
        change(data)
        self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        data["sequence"] += 1
        blob = json.dumps(data, indent=1).encode("utf-8") + b"\n"
        atomic_write(self.path, blob, secret=True)
        self._data = data
        _count_write_and_maybe_crash()


def _step(data: dict[str, Any], step: str) -> dict[str, Any]:
    record: dict[str, Any] = data["steps"].setdefault(step, {"done": False, "outputs": {}})
    return record


def _count_write_and_maybe_crash() -> None:
    global _writes_in_process
    _writes_in_process += 1
    crash_after = os.environ.get(CRASH_ENV, "")
    if crash_after.isdigit() and int(crash_after) == _writes_in_process:
        os.kill(os.getpid(), signal.SIGKILL)


def _check_chain(chain: str | None, *, allow_none: bool = False) -> None:
    if not (chain in CHAINS or (allow_none and chain is None)):
        raise ValueError(f"chain must be one of {CHAINS}, not {chain!r}")


def _hex(value: str, name: str, pattern: re.Pattern[str]) -> str:
    text = value.lower() if isinstance(value, str) else ""
    if not pattern.fullmatch(text):
        raise ValueError(f"{name} must be 0x-prefixed hex, not {value!r:.80}")
    return text


def _entry_from_raw(action_id: str, raw: Mapping[str, Any]) -> ActionEntry:
    receipt = raw.get("receipt")
    return ActionEntry(
        action_id=action_id, status=raw["status"], chain=raw.get("chain"), sender=raw.get("sender"),
        nonce=raw.get("nonce"), tx_hash=raw.get("tx_hash"), raw_tx=raw.get("raw_tx"),
        earlier_tx_hashes=tuple(raw.get("earlier_tx_hashes", ())),
        earlier_raw_txs=tuple(raw.get("earlier_raw_txs", ())),
        receipt=Receipt(**receipt) if receipt else None, outputs=copy.deepcopy(raw.get("outputs", {})),
        error=raw.get("error"), updated_at=float(raw.get("updated_at", 0.0)),
    )


_DAMAGED_ADVICE = ("Restore it from a backup; move it aside only if no transaction was sent yet, "
                   "otherwise a new run would send them again")


def _structure_problem(data: Any) -> str | None:
    """What is wrong with a parsed journal, or None if it has the shape this version writes."""
    if not isinstance(data, dict):
        return "the top level is not an object"
    if data.get("version") != JOURNAL_VERSION:
        return f"version {data.get('version')!r} is not the version {JOURNAL_VERSION} this program reads"
    if not isinstance(data.get("sequence"), int) or not isinstance(data.get("actions"), dict) \
            or not isinstance(data.get("steps"), dict) or "plan_digest" not in data:
        return "sequence, plan_digest, actions or steps is missing or of the wrong type"
    for action_id, raw in data["actions"].items():
        if not isinstance(raw, dict) or raw.get("status") not in STATUSES or not isinstance(raw.get("outputs"), dict):
            return f"action {action_id!r} has no valid status or outputs"
        if raw.get("chain") not in (*CHAINS, None):
            return f"action {action_id!r} names an unknown chain"
        receipt = raw.get("receipt")
        if receipt is not None and (not isinstance(receipt, dict)
                                    or not {"block_number", "gas_used", "status"} <= set(receipt)
                                    <= {"block_number", "gas_used", "status", "block_hash"}):
            return f"action {action_id!r} has a malformed receipt"
        if raw["status"] in ("signed", "sent") and not all(
                isinstance(raw.get(key), str) for key in ("tx_hash", "raw_tx", "sender")):
            return f"action {action_id!r} is {raw['status']} but its transaction is missing"
    owners: dict[str, str] = {}
    for step, record in data["steps"].items():
        if not isinstance(record, dict) or not isinstance(record.get("outputs"), dict) \
                or not isinstance(record.get("done"), bool):
            return f"step {step!r} has no valid done flag or outputs"
        for key in record["outputs"]:
            if key in owners:
                return f"output {key!r} is given by step {owners[key]!r} and again by step {step!r}"
            owners[key] = step
    return None
