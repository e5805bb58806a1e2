"""The validator node's journal: every vote it signed and every transaction not yet mined.

The rule of the deployment journal holds here too, and it matters more: a validator that signs two
different votes for the same target height can be slashed. So a vote is written here (atomically,
fsync'd) before it leaves the process, and the node never signs a vote for a target height at or
below the highest one it ever signed for that chain; after a crash it sends the signature it
already has. The same for its meta-block votes on origin, one per meta-block height.

Transactions are recorded with their signed bytes before broadcast; after a restart each is adopted
when mined, waited for when the node still holds it, dropped when its nonce was used by another,
and rebroadcast byte for byte otherwise.

The file is 0600 and holds signatures and signed transactions, never a key. An exclusive lock on
`<ledger>.lock` keeps a second node for the same validator from running at the same time.

Test hook: MOSAIC_TUI_VALIDATOR_CRASH=k kills the process with SIGKILL right after its k-th ledger
write, so a test can crash the node between signing and sending.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mosaic_tui.errors import JournalError
from mosaic_tui.fsio import atomic_write

LEDGER_VERSION = 1
CRASH_ENV = "MOSAIC_TUI_VALIDATOR_CRASH"
KEEP_VOTES = 64  # signed votes kept per chain; the highest target height is kept separately, for good

_writes = 0


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.writes = 0  # in this process
        self._new_pending = False  # a transaction added since the last write
        self._lock_file: Any = None
        self.data: dict[str, Any] = {"version": LEDGER_VERSION, "votes": {}, "max_target": {},
                                     "origin_votes": {}, "pending": []}
        if path.exists():
            try:
                loaded = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise JournalError(str(path), f"the validator ledger cannot be read ({error}); it records the "
                                              "votes this validator signed, so look at it before starting again.") from None
            if not isinstance(loaded, dict) or loaded.get("version") != LEDGER_VERSION:
                raise JournalError(str(path), "this is not a validator ledger this program wrote.")
            self.data.update(loaded)

    # -- one node per ledger ------------------------------------------------------------------------

    def lock(self) -> None:
        handle = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise JournalError(str(self.path), "another validator node runs with this ledger (same env file); "
                                               "two nodes for one validator could sign twice.") from None
        self._lock_file = handle

    def unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- writes --------------------------------------------------------------------------------------

    def save(self) -> None:
        global _writes
        atomic_write(self.path, json.dumps(self.data, indent=1, sort_keys=True).encode(), secret=True)
        _writes += 1
        self.writes += 1
        # Test hook: a number k kills the node right after its k-th write; "pending" right after the first write
        # that journals a transaction, before its broadcast.
        crash = os.environ.get(CRASH_ENV)
        new_pending, self._new_pending = self._new_pending, False
        if crash and ((crash.isdigit() and _writes == int(crash)) or (crash == "pending" and new_pending)):
            os.kill(os.getpid(), signal.SIGKILL)

    # -- checkpoint votes (PollingPlace) -------------------------------------------------------------

    def vote(self, core: str, target_height: int) -> dict[str, Any] | None:
        return self.data["votes"].get(core, {}).get(str(target_height))

    def max_target(self, core: str) -> int:
        return int(self.data["max_target"].get(core, 0))

    def may_sign(self, core: str, target_height: int) -> bool:
        """A new vote only above every target height ever signed for this chain."""
        return target_height > self.max_target(core) and self.vote(core, target_height) is None

    def record_vote(self, core: str, target_height: int, vote: dict[str, Any]) -> None:
        if not self.may_sign(core, target_height):
            raise JournalError(str(self.path), f"refusing to record a second vote at height {target_height}.")
        votes = self.data["votes"].setdefault(core, {})
        votes[str(target_height)] = {**vote, "signed_at": time.time()}
        for old in sorted(votes, key=int)[:-KEEP_VOTES]:
            del votes[old]
        self.data["max_target"][core] = target_height

    # -- meta-block votes (OriginCore.verifyVote), one per meta-block height -------------------------

    def origin_vote(self, height: int) -> dict[str, Any] | None:
        return self.data["origin_votes"].get(str(height))

    def record_origin_vote(self, height: int, vote: dict[str, Any]) -> None:
        if self.origin_vote(height) is not None:
            raise JournalError(str(self.path), f"refusing to record a second vote for meta-block {height}.")
        votes = self.data["origin_votes"]
        votes[str(height)] = {**vote, "signed_at": time.time()}
        for old in sorted(votes, key=int)[:-KEEP_VOTES]:
            del votes[old]

    # -- transactions --------------------------------------------------------------------------------

    def pending(self, chain: str | None = None) -> list[dict[str, Any]]:
        return [dict(p) for p in self.data["pending"] if chain is None or p["chain"] == chain]

    def add_pending(self, chain: str, sender: str, nonce: int, tx_hash: str, raw: str, purpose: str) -> None:
        self.data["pending"].append({"chain": chain, "sender": sender, "nonce": nonce, "hash": tx_hash,
                                     "raw": raw, "purpose": purpose, "at": time.time()})
        self._new_pending = True

    def drop_pending(self, tx_hash: str) -> None:
        self.data["pending"] = [p for p in self.data["pending"] if p["hash"] != tx_hash]

    def next_nonce(self, chain: str, sender: str) -> int:
        nonces = [p["nonce"] for p in self.data["pending"] if p["chain"] == chain and p["sender"] == sender]
        return max(nonces) + 1 if nonces else 0

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Changes inside are written once, at the end."""
        yield
        self.save()
