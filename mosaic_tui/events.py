"""Plain events the runner emits while it deploys; the CLI prints them, the TUI turns them into messages.

They carry only text and numbers, so both faces (and tests) can record and compare them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepStarted:
    step: str
    title: str
    actions: int


@dataclass(frozen=True)
class ActionSkipped:
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
class TxFailed:
    step: str
    action: str
    label: str
    tx_hash: str | None
    reason: str


@dataclass(frozen=True)
class ActionDone:
    """An action without a transaction (a file written, a node started) finished."""

    step: str
    action: str
    label: str
    detail: str


@dataclass(frozen=True)
class Waiting:
    """The runner is waiting on something outside its control (an RPC outage, an operator's node)."""

    step: str
    reason: str


@dataclass(frozen=True)
class StepDone:
    step: str
    title: str


Event = StepStarted | ActionSkipped | TxSigned | TxSent | TxConfirmed | TxFailed | ActionDone | Waiting | StepDone
