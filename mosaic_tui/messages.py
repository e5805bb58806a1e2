"""Textual messages of the app: the one place where engine events become messages.

Past-tense names: each says what happened, the App and screens react to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class ModeChosen(Message):
    """The operator picked where to deploy: "devnet" or "own"."""

    mode: str


@dataclass
class DevnetStarted(Message):
    rpc_url: str
    chain_id: int
    pid: int


@dataclass
class DevnetFailed(Message):
    reason: str
