"""What the step screens show, folded from the engine's events: per step its actions and their state.

Plain Python (no Textual) so the App can keep it while a step screen is not mounted, and tests can
fold a recorded event list and compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DONE_STATUSES = ("confirmed", "skipped", "done")


@dataclass
class ActionRow:
    action: str
    label: str
    chain: str | None = None
    sender: str = ""
    status: str = "pending"  # pending -> signed -> sent -> confirmed | failed; skipped; done (no transaction)
    tx_hash: str | None = None
    block: int | None = None
    gas_used: int | None = None
    note: str = ""  # the skip reason, the failure reason or what a local action did


@dataclass
class StepProgress:
    step: str
    title: str
    rows: dict[str, ActionRow] = field(default_factory=dict)
    state: str = "waiting"  # waiting | running | done | failed | stopped
    waiting: str | None = None  # what the engine waits on (an RPC outage, the operator's node)
    validators: tuple[Any, ...] = ()  # step 2 waiting on external validators: events.ValidatorState rows
    deadline: str | None = None

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def completed(self) -> int:
        return sum(1 for row in self.rows.values() if row.status in DONE_STATUSES)


@dataclass
class DeploymentProgress:
    steps: dict[str, StepProgress] = field(default_factory=dict)
    current: str | None = None

    def step(self, key: str, title: str = "") -> StepProgress:
        if key not in self.steps:
            self.steps[key] = StepProgress(key, title)
        return self.steps[key]

    def apply(self, event: Any) -> ActionRow | None:
        """Fold one event in; returns the row it changed (None for step-level events)."""
        from mosaic_tui import events as ev
        from mosaic_tui.wizard_run import StepPlanned

        if isinstance(event, StepPlanned):
            progress = StepProgress(event.step, event.title, state="waiting")
            for planned in event.actions:
                progress.rows[planned.action] = ActionRow(
                    planned.action, planned.label, planned.chain, planned.sender, planned.status, planned.tx_hash,
                    planned.block, planned.gas_used)
            self.steps[event.step] = progress
            self.current = event.step
            return None
        progress = self.step(event.step, getattr(event, "title", ""))
        if isinstance(event, ev.StepStarted):
            progress.state, progress.waiting = "running", None
            return None
        if isinstance(event, ev.StepDone):
            progress.state, progress.waiting = "done", None
            return None
        if isinstance(event, ev.Waiting):
            progress.waiting = event.reason
            return None
        if isinstance(event, ev.ValidatorsAwaited):
            progress.validators, progress.deadline = event.validators, event.deadline
            return None
        row = progress.rows.get(event.action)
        if row is None:
            row = progress.rows[event.action] = ActionRow(event.action, getattr(event, "label", event.action))
        progress.waiting = None
        if isinstance(event, ev.ActionSkipped):
            row.status, row.note = "skipped", event.reason
        elif isinstance(event, ev.TxSigned):
            row.status, row.sender, row.tx_hash, row.chain = "signed", event.sender, event.tx_hash, event.chain
        elif isinstance(event, ev.TxSent):
            row.status, row.tx_hash = "sent", event.tx_hash
            if event.replaced:
                row.status = f"replaced ({event.replaced})"
                row.note = "not mined in time: replaced at the same nonce with raised fees"
            elif event.rebroadcast:
                row.note = "rebroadcast from the journal (same signed bytes)"
        elif isinstance(event, ev.TxConfirmed):
            row.status, row.tx_hash, row.block, row.gas_used = "confirmed", event.tx_hash, event.block, event.gas_used
        elif isinstance(event, ev.TxFailed):
            row.status, row.note = "failed", event.reason
            row.tx_hash = event.tx_hash or row.tx_hash
            progress.state = "failed"
        elif isinstance(event, ev.ActionDone):
            row.status, row.note = "done", event.detail
        return row

    def mark_stopped(self, step: str) -> None:
        if step in self.steps and self.steps[step].state == "running":
            self.steps[step].state = "stopped"
