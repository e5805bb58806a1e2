"""What the wizard shows of an error that is not about one field: the problem itself, never a field "plan"."""

from __future__ import annotations

from pathlib import Path

from mosaic_tui import devnet
from mosaic_tui.app import MosaicApp
from mosaic_tui.journal import journal_path
from mosaic_tui.screens.review import ReviewScreen
from mosaic_tui.screens.validators import ValidatorsScreen
from tests.tui.conftest import wait_for
from tests.tui.screen_text import screen_text
from tests.tui.test_forms import own_plan


async def test_a_damaged_journal_is_named_on_the_review_page_and_the_app_keeps_running(tmp_path: Path) -> None:
    # Failed before: loading the journal on the UI thread raised out of a message handler and ended the app.
    plan = own_plan(tmp_path / "mosaic-plan.toml", f"http://127.0.0.1:{devnet.free_port()}")  # nothing listens
    journal_path(plan).write_text("{ not json")
    app = MosaicApp(plan_path=plan)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("o")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await wait_for(pilot, lambda: app.session.preflight_problems, what="the preflight")
        problems = app.session.preflight_problems
        assert len(problems) == 1 and problems[0].field != "plan"
        assert problems[0].field == str(journal_path(plan))
        assert "mosaic-plan.state.json" in " ".join(screen_text(app).split())
        await pilot.press("ctrl+q")
