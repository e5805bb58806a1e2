"""The wizard's step page shows the set-up block's wait, from the engine's own Waiting event."""

from __future__ import annotations

from textual.widgets import Static

from mosaic_tui import events as ev
from tests.tui.test_snapshots import _devnet_form_app, _feed, settle, staking_events

WAIT = "set-up block 17 finalised in ~6 min, 31/64"


async def test_the_staking_page_shows_the_set_up_block_wait() -> None:
    app = _devnet_form_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await _feed(app, pilot, [*staking_events(failed=False), ev.Waiting("2", WAIT)], deploying=True)

        def shown() -> str:
            return str(app.screen.query_one("#step-state", Static).render())

        await settle(pilot, lambda: WAIT in shown())
        assert f"waiting: {WAIT}" in shown()
