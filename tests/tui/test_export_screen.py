"""The rum export page: the files, each validator's env (secrets redacted), copying a path, starting rum."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from textual.widgets import Static

from mosaic_tui import export
from mosaic_tui.plan import load_plan
from mosaic_tui.screens.export import RumExportScreen, redact_env
from tests.tui.conftest import wait_for
from tests.tui.screen_text import flat, screen_text
from tests.tui.test_snapshots import rum_export


def test_the_env_preview_redacts_whatever_looks_secret() -> None:
    text = ("# comment\nMOSAIC_ORIGIN_ENDPOINT=http://x\nMOSAIC_ORIGIN_VALIDATOR_PASSWORD_FILE=/p/pw\n"
            "MOSAIC_AUXILIARY_VALIDATOR_PASSWORD=hunter2\nSOME_KEY=0x" + "ab" * 32 + "\n")
    assert redact_env(text).splitlines() == [
        "# comment", "MOSAIC_ORIGIN_ENDPOINT=http://x", "MOSAIC_ORIGIN_VALIDATOR_PASSWORD_FILE=/p/pw",
        "MOSAIC_AUXILIARY_VALIDATOR_PASSWORD=********", "SOME_KEY=********"]


async def test_export_page_lists_files_previews_envs_copies_paths_and_starts_rum(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    rum = bin_dir / "rum"  # a stand-in rum: records the environment it was started with
    rum.write_text(f"#!/bin/sh\nenv > {tmp_path / 'rum-started.env'}\n")
    rum.chmod(rum.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    app, run = rum_export()
    async with app.run_test(size=(100, 32)) as pilot:
        await run(pilot)
        assert isinstance(app.screen, RumExportScreen)
        plan = load_plan(Path("mosaic-plan.toml"))
        text = flat(screen_text(app))
        for name in ("genesis.json", "spec.json", "nethermind.cfg", "docker-compose.yml", "deployment.toml", "rum.toml",
                     export.env_file_name(plan, 0), export.env_file_name(plan, 1)):
            assert name in text, name
        assert f"MOSAIC_ORIGIN_VALIDATOR_ADDRESS={plan.validators[0].origin_address}" in text
        await pilot.press("v")
        await pilot.pause()
        assert f"MOSAIC_ORIGIN_VALIDATOR_ADDRESS={plan.validators[1].origin_address}" in flat(screen_text(app))

        await pilot.press("c")  # the highlighted file is the first: docker-compose.yml
        assert app.clipboard == str((tmp_path / "out" / "docker-compose.yml").resolve())

        assert "rum is installed; r starts it for validator 2." in flat(str(app.screen.query_one(
            "#export-rum", Static).render()))
        await pilot.press("r")
        await wait_for(pilot, lambda: (tmp_path / "rum-started.env").is_file(), what="rum to start")
        started = (tmp_path / "rum-started.env").read_text()
        assert f"MOSAIC_ORIGIN_VALIDATOR_ADDRESS={plan.validators[1].origin_address}" in started
        assert "MOSAIC_AUXILIARY_ENDPOINT=http://127.0.0.1:8546" in started

        (tmp_path / "out" / "rum.toml").unlink()
        await pilot.press("w")  # the same files as `mosaic-tui export`
        await wait_for(pilot, lambda: (tmp_path / "out" / "rum.toml").is_file(), what="the export written again")
        await pilot.press("ctrl+q")
