"""A deployment that fails on chain, and one quit half-way: the failure modal, retry, and resume.

The origin devnet mines a block a second here, so a step takes long enough to pause or quit inside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Button

from mosaic_tui import messages as m
from mosaic_tui import verify
from mosaic_tui.contracts import load_artifact
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from mosaic_tui.screens.failure import FailureScreen
from mosaic_tui.screens.quit import QuitScreen, StopDeploymentScreen
from mosaic_tui.screens.review import ReviewScreen
from mosaic_tui.screens.welcome import WelcomeScreen
from mosaic_tui.widgets.action_table import ActionTable
from tests.helpers import transact
from tests.tui.conftest import Devnet, kinds, wait_for
from tests.tui.screen_text import flat, screen_text
from tests.tui.test_wizard_devnet import walk_to_review

OST = 10**18


def ost_token(devnet: Devnet) -> Any:
    outputs = Journal.load(journal_path(devnet.devnet_plan)).outputs()
    return devnet.origin.w3.eth.contract(address=outputs["ost"], abi=load_artifact("EIP20Token")["abi"])


def all_checks_pass(devnet: Devnet) -> None:
    plan = load_plan(devnet.devnet_plan)
    checks = verify.run_checks(plan, Journal.load(journal_path(devnet.devnet_plan)).outputs())
    assert checks and all(check.ok for check in checks), [c for c in checks if not c.ok]


@pytest.mark.block_time(1)
async def test_a_reverting_transaction_opens_the_failure_modal_and_retry_finishes(wizard_devnet: Devnet) -> None:
    messages: list[Any] = []
    app = wizard_devnet.app()

    def hook(message: Any) -> None:
        messages.append(message)
        if isinstance(message, m.StepListed) and message.step == "1" and not kinds(messages, m.DeploymentPaused):
            app.deployment.request_pause()  # stop after step 1 (once), so the test can take validator 2's OST away

    async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
        await walk_to_review(app, pilot, messages)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: kinds(messages, m.DeploymentPaused), timeout=120, what="the pause")
        journal = Journal.load(journal_path(wizard_devnet.devnet_plan))
        assert journal.is_step_done("1") and not journal.is_step_done("2")

        # Validator 2 keeps its 10 OST gateway stake but no longer the 1001 OST of its stake.
        token, w3 = ost_token(wizard_devnet), wizard_devnet.origin.w3
        validator = load_plan(wizard_devnet.devnet_plan).validators[1].origin_address
        taken = token.functions.balanceOf(validator).call() - 10 * OST
        transact(w3, token.functions.transfer(w3.eth.accounts[9], taken), sender=validator)

        await pilot.press("c")  # continue
        await wait_for(pilot, lambda: app.session.failure is not None, timeout=120, what="the failure")
        await wait_for(pilot, lambda: isinstance(app.screen, FailureScreen), what="the failure modal")
        assert app.session.failure.step == "2" and app.session.failure.action == "2.initialize_stake"
        assert app.session.failure.reason == ("the node could not estimate gas for Stake.initialize: pull the stakes "
                                              "and open kernel K0: EIP20Token: balance too low")
        failed = kinds(messages, m.TransactionFailed)
        assert [f.event.action for f in failed] == ["2.initialize_stake"]
        modal = flat(screen_text(app))
        assert "Step 2 Staking failed" in modal and "EIP20Token: balance too low" in modal
        assert "Retry the step" in modal and "Edit the plan" in modal and "Quit, resume later" in modal
        table = app.page("step-2").query_one(ActionTable)
        assert str(table.get_cell("2.initialize_stake", "status")) == "failed"

        # The operator funds the validator again and retries: the step finishes, nothing is sent twice.
        transact(w3, token.functions.transfer(validator, taken), sender=w3.eth.accounts[0])
        await pilot.press("r")
        await wait_for(pilot, lambda: app.session.finished or (app.session.failure and not app.session.deploying and
                                                        kinds(messages, m.DeploymentFailed)[1:]),
                       timeout=180, what="the retried deployment")
        assert app.session.finished, app.session.failure
        assert str(table.get_cell("2.initialize_stake", "status")) == "confirmed"
        journal = Journal.load(journal_path(wizard_devnet.devnet_plan))
        assert all(not entry.earlier_tx_hashes for entry in journal.entries())
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.click("#keep")
    all_checks_pass(wizard_devnet)


@pytest.mark.block_time(2)  # step 2 spans a few blocks: time to press stop while it runs, even on a busy machine
async def test_quitting_mid_deployment_and_resuming_signs_nothing_twice(wizard_devnet: Devnet) -> None:
    messages: list[Any] = []
    app = wizard_devnet.app()
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await walk_to_review(app, pilot, messages)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: any(e.step == "2" for e in kinds(messages, m.TransactionSigned)),
                       timeout=120, what="step 2's first transaction")
        page = app.screen.PAGE
        assert app.screen.query_one("#nav-back", Button).disabled and app.screen.query_one("#nav-next", Button).disabled
        await pilot.press("escape")
        # The page may follow the deployment forward meanwhile (step 2 done, step 3 shown), never back.
        assert app.screen.PAGE in (page, app.session.neighbour(page, +1)), "no going back while transactions are in flight"
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, StopDeploymentScreen)
        await pilot.click("#stop")
        await wait_for(pilot, lambda: kinds(messages, m.DeploymentStopped), timeout=60, what="the stop")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the devnet question")
        await pilot.click("#keep")
    assert app.session.devnet_left_running
    journal = Journal.load(journal_path(wizard_devnet.devnet_plan))
    assert journal.is_step_done("1") and not journal.is_step_done("2")
    first_run = {e.action_id: e.tx_hash for e in journal.entries() if e.tx_hash}
    assert any(action.startswith("2.") for action in first_run)

    messages.clear()
    app = wizard_devnet.app()
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        assert "An unfinished deployment" in flat(screen_text(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), what="the review page")
        await wait_for(pilot, lambda: app.session.preflight_report is not None or app.session.preflight_problems,
                       what="the preflight")
        assert "Deploy resumes from there" in flat(screen_text(app))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.session.finished or app.session.failure, timeout=180, what="the resumed deployment")
        assert app.session.failure is None, app.session.failure
        skipped = {e.event.action for e in kinds(messages, m.ActionSkipped)}
        assert {a for a in first_run if a.startswith(("0.", "1."))} <= skipped
        signed_again = {e.event.action for e in kinds(messages, m.TransactionSigned)} & set(first_run)
        assert not signed_again, f"signed a second time: {signed_again}"
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.click("#keep")
    journal = Journal.load(journal_path(wizard_devnet.devnet_plan))
    for action, tx_hash in first_run.items():
        assert journal.entry(action).tx_hash == tx_hash
        assert journal.entry(action).status == "confirmed"
    all_checks_pass(wizard_devnet)
