"""Issue 13, item 5, in the wizard: an RPC URL's credentials (user:pass@, an API key in the path or the
query) are not shown where the wizard reports on that URL: the chains page's connection status and
the review page's preflight problems. (The field itself shows what the operator typed, to edit it.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from mosaic_tui import devnet
from mosaic_tui import messages as m
from mosaic_tui.app import MosaicApp
from mosaic_tui.screens.review import ReviewScreen
from mosaic_tui.screens.validators import ValidatorsScreen
from tests.tui.conftest import kinds, wait_for
from tests.tui.test_forms import own_plan

SECRETS = ("hunter22", "0123456789abcdef0123456789abcdef", "s3cr3t-api-key")


async def test_the_chains_page_and_the_preflight_show_the_url_without_its_credentials(tmp_path: Path) -> None:
    port = devnet.free_port()  # nothing listens there
    url = f"http://operator:hunter22@127.0.0.1:{port}/v3/0123456789abcdef0123456789abcdef?apikey=s3cr3t-api-key"
    shown = f"http://***@127.0.0.1:{port}/v3/***?apikey=***"
    messages: list[Any] = []
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", url))
    async with app.run_test(size=(140, 40), message_hook=messages.append) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: any(c.field == "origin.rpc" for c in kinds(messages, m.RpcChecked)),
                       what="the RPC check")
        await pilot.pause()
        status = str(app.screen.query_one("#status-origin-rpc", Static).render())
        assert f"not connected: {shown} cannot be reached" in status, status
        assert not any(secret in status for secret in SECRETS)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await wait_for(pilot, lambda: app.session.preflight_problems, what="the preflight")
        problems = [f"{p.field}: {p.message}" for p in app.session.preflight_problems]
        assert problems == [f"origin.rpc: no node answers at {shown}; check the URL and that the node runs."]
        shown_text = "\n".join(str(w.render()) for w in app.screen.query(Static))
        assert f"no node answers at {shown}" in shown_text.replace("\n", " ") or shown in shown_text
        assert not any(secret in shown_text for secret in SECRETS)
        await pilot.press("ctrl+q")
