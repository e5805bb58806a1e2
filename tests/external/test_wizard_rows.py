"""The wizard's step 2 page while it waits for an external validator: a live row per validator."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import Static

from mosaic_tui import messages as m
from mosaic_tui.app import MosaicApp
from tests.tui.conftest import kinds, wait_for

from .conftest import Ceremony


def rows_text(app: Any) -> str:
    page = app.page("step-2")
    return "" if page is None else str(page.query_one("#step-validators", Static).render())


async def test_step_2_page_shows_each_validator_waiting_then_staked(ceremony: Ceremony) -> None:
    ceremony.write_plan(2, external=(2,), deadline_in=600)
    validator = ceremony.validators[2]
    messages: list[Any] = []
    app = MosaicApp(plan_path=ceremony.plan, devnet_url=ceremony.origin.rpc_url,
                    auxiliary_port=ceremony.auxiliary_port)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        app.session.mode = "own"
        app.deployment.start_deployment()
        await wait_for(pilot, lambda: "send them: mosaic-tui validator stake mosaic-plan.toml --validator 2"
                       in rows_text(app) and "staked" in rows_text(app), timeout=180,
                       what="validator 1 staked and validator 2 waiting")
        text = rows_text(app)
        assert app.screen is app.page("step-2")
        assert "deadline" in text and "signs for itself" in text and "coordinator signs" in text
        own_row, external_row = [line for line in text.splitlines() if line.strip()[:1].isdigit()]
        assert "staked" in own_row and "waiting" in external_row

        ceremony.hand_out_ceremony()
        staked = await asyncio.to_thread(validator.cli, "validator", "stake", str(validator.plan), "--validator",
                                         "2", "--key", validator.key_ref, "--yes")
        assert staked.returncode == 0, staked.stdout + staked.stderr
        await wait_for(pilot, lambda: kinds(messages, m.StepFinished) and
                       any(x.step == "2" for x in kinds(messages, m.StepFinished)), timeout=120, what="step 2")
        states = [row.state for row in kinds(messages, m.ValidatorsChecked)[-1].event.validators]
        assert states == ["staked", "staked"]
        seen = [tuple(row.state for row in message.event.validators)
                for message in kinds(messages, m.ValidatorsChecked)]
        assert seen[0][1] == "waiting" and seen[-1][1] == "staked"
        await wait_for(pilot, lambda: app.session.finished or app.session.failure, timeout=240, what="the deployment")
        assert app.session.failure is None, app.session.failure
