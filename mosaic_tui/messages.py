"""Textual messages of the app, and the one adapter that turns the engine's plain events into them.

Past-tense names: each says what happened; the App and the screens react. Workers run in threads
and only ever talk to the UI by posting these (`post_message` is thread-safe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

# --- the wizard ------------------------------------------------------------------------------------


@dataclass
class ModeChosen(Message):
    """The operator picked where to deploy: "devnet" or "own"."""

    mode: str


# Requests: a page asks, the App decides ("messages up"). Pages never change the App's state themselves.


@dataclass
class PageRequested(Message):
    """Show this page of the wizard (Back, Next, a link), if the App agrees."""

    page: str


class PreflightRequested(Message):
    """Save the form as the plan and check it against the chain (nothing is sent)."""


class DeploymentRequested(Message):
    """Send: deploy after a passed preflight, retry, or continue a paused run."""


class PauseRequested(Message):
    """Pause the running deployment once its running step is done."""


class StartOverRequested(Message):
    """Keep the plan's journal aside and deploy the same inputs afresh."""


@dataclass
class DevnetStarted(Message):
    rpc_url: str
    chain_id: int
    pid: int


@dataclass
class DevnetFailed(Message):
    reason: str


@dataclass
class RpcChecked(Message):
    """A live RPC check finished (`check` is a wizard_run.RpcCheck); `field` says which URL field asked."""

    field: str
    check: Any

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RpcChecked) and message.field == self.field


@dataclass
class FundsChecked(Message):
    """The validators' live balance / allowance check finished (a wizard_run.FundsCheck)."""

    check: Any

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FundsChecked)


@dataclass
class KeyStored(Message):
    """A key was put into the keyring or a keystore; the plan keeps only `ref`."""

    ref: str
    address: str | None


@dataclass
class PreflightCompleted(Message):
    """The preflight found nothing in the way; `report` is a preflight.PreflightReport."""

    report: Any


@dataclass
class PreflightFailed(Message):
    """The preflight (or loading the plan) found problems: errors.Problem, each a field (or None) and a sentence.

    `passphrase_rejected`: a keystore passphrase was wrong or not given, so it is asked again, not reused."""

    problems: list[Any]
    passphrase_rejected: bool = False


@dataclass
class SnapshotTaken(Message):
    """A validator status snapshot (monitor.Snapshot) was read from both chains."""

    snapshot: Any

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotTaken)


@dataclass
class ExportsWritten(Message):
    paths: list[Any]


# --- deployment progress: one message per engine event -------------------------------------------


@dataclass
class DeploymentProgressed(Message):
    """Base of the messages that carry one engine event (`event`) of the running deployment."""

    event: Any

    @property
    def step(self) -> str:
        return str(self.event.step)


class StepListed(DeploymentProgressed):
    """A step is about to run; its actions are known (wizard_run.StepPlanned)."""


class StepStarted(DeploymentProgressed):
    pass


class ActionSkipped(DeploymentProgressed):
    pass


class TransactionSigned(DeploymentProgressed):
    pass


class TransactionSent(DeploymentProgressed):
    pass


class TransactionConfirmed(DeploymentProgressed):
    pass


class TransactionFailed(DeploymentProgressed):
    pass


class ActionCompleted(DeploymentProgressed):
    pass


class WaitReported(DeploymentProgressed):
    """The engine waits on something outside its control; only the latest such note matters."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WaitReported)


class ValidatorsChecked(DeploymentProgressed):
    """Step 2 read the validators' approvals and gateway stakes from chain; only the latest matters."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ValidatorsChecked)


class StepFinished(DeploymentProgressed):
    pass


@dataclass
class DeploymentPaused(Message):
    """The operator asked for a pause; the step that ran is done, nothing is in flight."""

    after_step: str


@dataclass
class DeploymentFinished(Message):
    pass


@dataclass
class DeploymentFailed(Message):
    """A step failed (`StepFailed`) or the run could not go on (`reason` is one sentence)."""

    step: str
    action: str
    reason: str


@dataclass
class DeploymentStopped(Message):
    """The operator stopped the run; in-flight transactions stay in the journal and are adopted later."""

    step: str


def _event_messages() -> dict[type, type[DeploymentProgressed]]:
    from mosaic_tui import events as ev
    from mosaic_tui.wizard_run import StepPlanned

    return {StepPlanned: StepListed, ev.StepStarted: StepStarted, ev.ActionSkipped: ActionSkipped,
            ev.TxSigned: TransactionSigned, ev.TxSent: TransactionSent, ev.TxConfirmed: TransactionConfirmed,
            ev.TxFailed: TransactionFailed, ev.ActionDone: ActionCompleted, ev.Waiting: WaitReported,
            ev.ValidatorsAwaited: ValidatorsChecked, ev.StepDone: StepFinished}


_EVENT_MESSAGES: dict[type, type[DeploymentProgressed]] = {}


def from_event(event: Any) -> DeploymentProgressed:
    """The Textual message for one engine event (the only place events become messages)."""
    if not _EVENT_MESSAGES:
        _EVENT_MESSAGES.update(_event_messages())
    return _EVENT_MESSAGES[type(event)](event)


class EventBridge:
    """The `emit` callback the engine gets: posts each event, as its message, to `target` (thread-safe)."""

    def __init__(self, post: Callable[[Message], Any]) -> None:
        self._post = post

    def __call__(self, event: Any) -> None:
        self._post(from_event(event))
