"""The validator status panel (timer that never overlaps reads, rows updated by key), the help screen and
the command palette."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette

from mosaic_tui import messages as m
from mosaic_tui import monitor
from mosaic_tui.app import MosaicApp
from mosaic_tui.screens import status as status_screen
from mosaic_tui.screens.help import HelpScreen
from mosaic_tui.screens.status import ValidatorStatusScreen
from mosaic_tui.screens.welcome import WelcomeScreen
from mosaic_tui.widgets.status_table import ValidatorStatusTable
from tests.tui.conftest import kinds, wait_for
from tests.tui.screen_text import flat, screen_text
from tests.tui.test_forms import own_plan


async def test_status_panel_reads_again_only_after_the_last_read_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_path = own_plan(tmp_path / "mosaic-plan.toml", "http://127.0.0.1:1")
    calls: list[tuple[float, float]] = []
    active = threading.Semaphore(1)
    real = monitor.Monitor.snapshot

    def slow_snapshot(self: monitor.Monitor, **kwargs: Any) -> monitor.Snapshot:
        assert active.acquire(blocking=False), "two reads overlapped"
        started = time.monotonic()
        time.sleep(0.2)  # a slow node: slower than the refresh interval
        try:
            return real(self, **kwargs)
        finally:
            calls.append((started, time.monotonic()))
            active.release()

    monkeypatch.setattr(monitor.Monitor, "snapshot", slow_snapshot)
    monkeypatch.setattr(status_screen, "REFRESH_SECONDS", 0.05)
    messages: list[Any] = []
    app = MosaicApp(plan_path=plan_path, start_with_status=True)
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorStatusScreen))
        await wait_for(pilot, lambda: len(kinds(messages, m.SnapshotTaken)) >= 1, what="the first read")
        table = app.screen.query_one(ValidatorStatusTable)
        first_keys = list(table.rows)
        await wait_for(pilot, lambda: len(kinds(messages, m.SnapshotTaken)) >= 4, what="more reads")
        assert list(table.rows) == first_keys and [k.value for k in first_keys] == ["0", "1"]
        assert all(a is b for a, b in zip(first_keys, table.rows, strict=True)), "rows were rebuilt, not updated"
        text = flat(screen_text(app))
        assert "origin http://127.0.0.1:1 not answering" in text
        await pilot.press("escape")  # `status --watch`: closing the panel quits
    for (_, end), (start, _) in zip(calls, calls[1:], strict=False):
        assert start >= end, "a read started before the previous one finished"
    assert app.return_code == 0


async def test_help_screen_and_command_palette(tmp_path: Path) -> None:
    app = MosaicApp(plan_path=tmp_path / "mosaic-plan.toml")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Keys everywhere: ctrl+n next, esc back, F1 this help, F2 validator status" in flat(screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"help")
        await wait_for(pilot, lambda: "Keys and what each step does" in flat(screen_text(app)),
                       what="the help command in the palette")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await pilot.press("ctrl+q")
    assert app.return_code == 0
