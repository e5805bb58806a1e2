"""The first screen paints without importing web3 (the engine's heavy part is imported lazily), nor the
plan model and the engine modules a step needs only when it runs (issue 17: first paint within 1.5x a bare
Textual app; benchmarks/startup.py measures it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from mosaic_tui.app import MosaicApp
from mosaic_tui.screens import base
from mosaic_tui.widgets.footer import PageFooter

CODE = """
import asyncio, sys
from pathlib import Path
from mosaic_tui.app import MosaicApp

async def main():
    app = MosaicApp(plan_path=Path(sys.argv[1]))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        print(type(app.screen).__name__, sorted(m for m in ("web3", "eth_account", "solcx") if m in sys.modules))
        print(sorted(m for m in sys.argv[2].split(",") if m in sys.modules))
        await pilot.press("ctrl+q")

asyncio.run(main())
"""


# Imported by a step when it runs or by a form when it is filled, never to paint the welcome page (which reads
# each step's INFO): the plan model (pydantic), eth_utils / pycryptodome / rlp, the runner and the journal's writer.
NOT_FOR_THE_FIRST_PAINT = ("pydantic", "eth_utils", "Crypto", "rlp", "mosaic_tui.plan", "mosaic_tui.runner",
                           "mosaic_tui.genesis", "mosaic_tui.authority", "mosaic_tui.setup_block")


def _first_paint(tmp_path: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "mosaic-plan.toml"),
                             ",".join(NOT_FOR_THE_FIRST_PAINT)], capture_output=True, text=True, check=True,
                            cwd=tmp_path, timeout=120)
    return result.stdout.split("\n")


def test_welcome_screen_paints_without_importing_web3(tmp_path: Path) -> None:
    assert _first_paint(tmp_path)[0] == "WelcomeScreen []"


def test_welcome_screen_paints_without_the_plan_model_or_the_steps_engine(tmp_path: Path) -> None:
    assert _first_paint(tmp_path)[1] == "[]"


class _Counted(PageFooter):
    rebuilt = 0

    async def recompose(self) -> None:
        type(self).rebuilt += 1
        await super().recompose()


def _footer_keys(app: MosaicApp) -> list[tuple[str, bool]]:
    return [(key.description, not key.has_class("-disabled")) for key in app.screen.query(FooterKey)]


async def test_welcome_footer_is_built_once_and_again_only_when_its_keys_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: Textual's Footer rebuilt itself for each of the six binding refreshes the welcome page made while
    # it mounted and resumed (6 rebuilds, 2 of them before the first paint); the pages' footer is built once.
    monkeypatch.setattr(base, "PageFooter", _Counted)
    monkeypatch.setattr(_Counted, "rebuilt", 0)
    app = MosaicApp(plan_path=tmp_path / "mosaic-plan.toml")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert _Counted.rebuilt == 1
        assert ("Back", False) in _footer_keys(app) and ("Local devnet", True) in _footer_keys(app)
        assert "Resume" not in dict(_footer_keys(app))  # nothing to resume: the key is hidden

        # Refreshes that change no key rebuild nothing; a burst that does is one rebuild, showing the keys as
        # they are after the burst.
        screen = app.screen
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert _Counted.rebuilt == 1
        for _ in range(3):
            screen.refresh_bindings()
        screen._summary = object()  # type: ignore[attr-defined]  # as if a journal offered a resume
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert _Counted.rebuilt == 2
        assert ("Resume", True) in _footer_keys(app)
