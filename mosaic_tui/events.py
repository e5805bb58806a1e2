"""Plain events the runner emits while it deploys; the CLI prints them, the TUI turns them into messages.

They carry only text and numbers, so both faces (and tests) can record and compare them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mosaic_tui.redact import redact


class _Redacted:
    """Free text of an event (a reason, a detail) passes through the one redaction when it is made."""

    def __post_init__(self) -> None:
        for name in ("reason", "detail"):
            value = getattr(self, name, None)
            if isinstance(value, str):
                object.__setattr__(self, name, redact(value))


@dataclass(frozen=True)
class StepStarted:
    step: str
    title: str
    actions: int


@dataclass(frozen=True)
class ActionSkipped(_Redacted):
    step: str
    action: str
    label: str
    reason: str  # "done in an earlier run", "already on chain", ...


@dataclass(frozen=True)
class TxSigned:
    step: str
    action: str
    label: str
    chain: str
    sender: str
    nonce: int
    tx_hash: str


@dataclass(frozen=True)
class TxSent:
    step: str
    action: str
    tx_hash: str
    rebroadcast: bool = False
    replaced: int = 0  # >0: a replacement at the same nonce with raised fees; how many times it was replaced


@dataclass(frozen=True)
class TxConfirmed:
    step: str
    action: str
    label: str
    tx_hash: str
    block: int
    gas_used: int


@dataclass(frozen=True)
class TxFailed(_Redacted):
    step: str
    action: str
    label: str
    tx_hash: str | None
    reason: str


@dataclass(frozen=True)
class ActionDone(_Redacted):
    """An action without a transaction (a file written, a node started) finished."""

    step: str
    action: str
    label: str
    detail: str


@dataclass(frozen=True)
class Waiting(_Redacted):
    """The runner is waiting on something outside its control (an RPC outage, an operator's node)."""

    step: str
    reason: str


@dataclass(frozen=True)
class ValidatorState:
    """One validator as step 2 sees it on chain: who signs for it, and how far it got."""

    number: int  # counts from 1, as the wizard shows
    origin_address: str
    external: bool  # signs on its own machine (mosaic-tui validator stake)
    state: str  # "waiting" | "approved" | "staked"
    note: str = ""  # what is wrong ("approved too little: ...") or what it is waiting for
    command: str = ""  # for an external validator: the command to send it


@dataclass(frozen=True)
class ValidatorsAwaited:
    """Step 2 waits for external validators; emitted whenever what the chain shows of them changes."""

    step: str
    validators: tuple[ValidatorState, ...]
    deadline: str | None = None  # RFC 3339 UTC, from the plan


@dataclass(frozen=True)
class StepDone:
    step: str
    title: str


Event = (StepStarted | ActionSkipped | TxSigned | TxSent | TxConfirmed | TxFailed | ActionDone | Waiting
         | ValidatorsAwaited | StepDone)
