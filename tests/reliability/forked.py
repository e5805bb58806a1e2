"""Run engine code in a forked child: a SIGKILL lands on a real process, not on the test runner.

Starting a fresh Python that imports web3 costs about two seconds; a fork of the test process, which
has imported everything already, costs milliseconds. That is what lets the crash test kill a
deployment at every one of its ~150 journal writes within a few minutes. The child runs one
function and reports its return value (or its traceback) through a pipe, then leaves with
os._exit so nothing of pytest runs twice. It builds its own web3 connections: the parent's are
never shared across the fork.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mosaic_tui import journal

_MAX_REPORT = 200_000


@dataclass
class ChildResult:
    exit_code: int | None  # None when a signal ended the child
    signal: int | None
    value: Any = None
    error: str | None = None  # the child's traceback, when its function raised
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.signal == signal.SIGKILL

    def unwrap(self) -> Any:
        """The function's value; anything else (a crash, a signal, an exception) fails the test."""
        if self.error is not None:
            raise AssertionError(f"the child process raised:\n{self.error}")
        if self.signal is not None or self.exit_code != 0:
            raise AssertionError(f"the child process ended with exit code {self.exit_code}, signal {self.signal}")
        return self.value


def run_forked(function: Callable[[], Any], *, env: dict[str, str] | None = None, timeout: float = 120.0) -> ChildResult:
    """Run `function()` in a forked child with `env` added to its environment."""
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(read_end)
            os.environ.update(env or {})
            # The crash hook counts journal writes per process; a fork inherits the parent's count.
            journal._writes_in_process = 0
            try:
                report = ("ok", function())
            except BaseException:  # noqa: BLE001 - everything goes back to the parent as text
                report = ("error", traceback.format_exc()[-_MAX_REPORT:])
            try:
                payload = pickle.dumps(report)
            except Exception:  # noqa: BLE001
                payload = pickle.dumps(("error", f"unpicklable result: {report!r:.2000}"))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(0)
    os.close(write_end)
    deadline = started + timeout
    chunks: list[bytes] = []
    open_pipe = True
    # Read while waiting: a report larger than the pipe buffer would otherwise block the child.
    while open_pipe:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # our own child, stuck: that is itself a finding
            os.waitpid(pid, 0)
            os.close(read_end)
            raise AssertionError(f"the child process did not finish within {timeout:.0f} s (a stuck run)")
        ready, _, _ = select.select([read_end], [], [], 0.05)
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if chunk:
                chunks.append(chunk)
            else:
                open_pipe = False  # the child exited (or was killed): its end of the pipe closed
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    result = ChildResult(exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                         signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                         seconds=time.monotonic() - started)
    if chunks:
        kind, value = pickle.loads(b"".join(chunks))
        if kind == "ok":
            result.value = value
        else:
            result.error = value
    return result
