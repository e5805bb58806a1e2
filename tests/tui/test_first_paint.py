"""The first screen paints without importing web3 (the engine's heavy part is imported lazily), nor the
plan model and the engine modules a step needs only when it runs (issue 17: first paint within 1.5x a bare
Textual app; benchmarks/startup.py measures it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.strip import Strip

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
    renders = 0

    def render_line(self, y: int) -> Strip:
        type(self).renders += 1
        return super().render_line(y)


def _footer_keys(app: MosaicApp) -> list[tuple[str, bool]]:
    return [(entry.description, entry.enabled) for entry in app.screen.query_one(PageFooter).entries]


async def test_welcome_footer_is_one_widget_drawn_again_only_when_its_keys_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: Textual's Footer, a widget per key, rebuilt itself for each of the six binding refreshes the
    # welcome page made while it mounted and resumed; then a footer rebuilt once, still eight widgets.
    monkeypatch.setattr(base, "PageFooter", _Counted)
    app = MosaicApp(plan_path=tmp_path / "mosaic-plan.toml")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.pause()
        footer = app.screen.query_one(PageFooter)
        assert list(footer.children) == []
        assert ("Back", False) in _footer_keys(app) and ("Local devnet", True) in _footer_keys(app)
        assert "Resume" not in dict(_footer_keys(app))  # nothing to resume: the key is hidden
        drawn = _Counted.renders

        # Refreshes that change no key draw nothing; a burst that does is drawn once, showing the keys as
        # they are after the burst.
        screen = app.screen
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert _Counted.renders == drawn
        for _ in range(3):
            screen.refresh_bindings()
        screen._summary = object()  # type: ignore[attr-defined]  # as if a journal offered a resume
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert _Counted.renders == drawn + 1
        assert ("Resume", True) in _footer_keys(app)


async def test_a_click_on_a_footer_key_presses_it_and_a_disabled_one_does_nothing(tmp_path: Path) -> None:
    app = MosaicApp(plan_path=tmp_path / "mosaic-plan.toml")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(PageFooter)
        spans = {entry.description: start for start, _end, entry in footer._spans}
        await pilot.click(PageFooter, offset=(spans["Back"] + 1, 0))  # disabled on the first page
        await pilot.pause()
        assert type(app.screen).__name__ == "WelcomeScreen"
        await pilot.click(PageFooter, offset=(spans["Help"] + 1, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
