"""A page switch the deployment asked for can fire while the app shuts down (CI saw it: the 0.15 s
timer ran after the last screen was gone and raised ScreenStackError out of the test's run)."""

from __future__ import annotations

from mosaic_tui.app import MosaicApp


async def test_a_page_switch_that_fires_after_the_screens_are_gone_does_nothing() -> None:
    app = MosaicApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        app.follow("step-2")
    # The app has shut down and its screen stack is empty; the timer's callback runs as it did in CI.
    app._follow_now()
    app.refresh_indicators()
    assert app.page("step-2") is None or not app.page("step-2").is_mounted
