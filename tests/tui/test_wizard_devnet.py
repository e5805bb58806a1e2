"""The whole wizard on a real devnet: welcome -> chains -> validators -> review -> steps 0-4 -> rum export.

Three validators, real anvil nodes, real transactions; the test asserts on the messages the app
received (in order), on what the tables show, on the journal, and that `verify` passes at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button, DataTable

from mosaic_tui import messages as m
from mosaic_tui import verify
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.monitor import short_amount
from mosaic_tui.plan import load_plan
from mosaic_tui.screens.export import RumExportScreen
from mosaic_tui.screens.prerequisites import PrerequisitesScreen
from mosaic_tui.screens.review import ReviewScreen
from mosaic_tui.screens.status import ValidatorStatusScreen
from mosaic_tui.screens.validators import ValidatorsScreen
from mosaic_tui.screens.welcome import WelcomeScreen
from mosaic_tui.widgets.action_table import ActionTable
from mosaic_tui.widgets.status_table import ValidatorStatusTable
from tests.tui.conftest import Devnet, kinds, wait_for
from tests.tui.screen_text import flat, screen_text

STEPS = ["0", "1", "2", "3", "4", "5"]


def progress(messages: list[Any]) -> list[Any]:
    return kinds(messages, m.DeploymentProgressed)


def table_column(table: DataTable[Any], column: str) -> list[str]:
    return [str(table.get_cell(row, column)) for row in table.rows]


async def walk_to_review(app: Any, pilot: Any, messages: list[Any]) -> None:
    """Welcome -> devnet -> the prefilled chains and validators -> Review with the preflight passed."""
    assert isinstance(app.screen, WelcomeScreen)
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen), what="the chains page")
    await wait_for(pilot, lambda: "connected: chain id 1337" in screen_text(app), what="the live RPC check")
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen), what="the validators page")
    await wait_for(pilot, lambda: kinds(messages, m.FundsChecked), what="the balance check")
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), what="the review page")
    await wait_for(pilot, lambda: app.session.preflight_report is not None or app.session.preflight_problems,
                   what="the preflight")
    assert app.session.preflight_problems == [], app.session.preflight_problems


async def test_whole_wizard_on_a_devnet_from_welcome_to_rum_export(wizard_devnet: Devnet) -> None:
    messages: list[Any] = []
    app = wizard_devnet.app()
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await walk_to_review(app, pilot, messages)

        validators = app.page("validators").query_one("#validators-table", DataTable)
        assert len(validators.rows) == 3
        assert table_column(validators, "check") == ["ok", "ok", "ok"]
        costs = app.screen.query_one("#review-costs", DataTable)
        assert [str(costs.get_cell_at((row, 0))) for row in range(costs.row_count - 1)] == ["0", "1", "2", "2", "3-4"]
        assert not kinds(messages, m.TransactionSigned), "nothing may be sent before Deploy"
        assert not journal_path(wizard_devnet.devnet_plan).exists()

        await pilot.press("ctrl+n")  # Deploy
        await wait_for(pilot, lambda: app.session.finished or app.session.failure, timeout=180, what="the deployment")
        assert app.session.failure is None, app.session.failure
        await wait_for(pilot, lambda: isinstance(app.screen, RumExportScreen), what="the rum export page")
        await pilot.pause()

        # The messages, in order: each step listed, started, its transactions signed -> sent -> confirmed, done.
        events = progress(messages)
        assert [e.step for e in events if isinstance(e, m.StepListed)] == STEPS
        assert [e.step for e in events if isinstance(e, m.StepFinished)] == STEPS
        assert not [e for e in events if isinstance(e, m.TransactionFailed)]
        for step in STEPS:
            mine = [e for e in events if e.step == step]
            assert isinstance(mine[0], m.StepListed) and isinstance(mine[1], m.StepStarted)
            assert isinstance(mine[-1], m.StepFinished)
            for signed in (e for e in mine if isinstance(e, m.TransactionSigned)):
                after = mine[mine.index(signed):]
                states = [type(e) for e in after if getattr(e.event, "action", None) == signed.event.action]
                assert states[:3] == [m.TransactionSigned, m.TransactionSent, m.TransactionConfirmed], states
        outcome = kinds(messages, m.PreflightCompleted, m.DeploymentFinished)
        assert [type(x) for x in outcome] == [m.PreflightCompleted, m.DeploymentFinished]

        # Back walks through the step pages; what each table shows is what the journal holds.
        journal = Journal.load(journal_path(wizard_devnet.devnet_plan))
        for step in ("4", "3", "2", "1", "0"):
            await pilot.press("escape")
            await wait_for(pilot, lambda s=step: getattr(app.screen, "PAGE", "") == f"step-{s}")
            table = app.screen.query_one(ActionTable)
            entries = {e.action_id: e for e in journal.entries() if e.action_id.startswith(f"{step}.")}
            assert {key.value for key in table.rows} == set(entries), step
            for key in table.rows:
                entry = entries[key.value]
                status = str(table.get_cell(key, "status"))
                if entry.tx_hash:
                    assert status == "confirmed", (key.value, status)
                    assert str(table.get_cell(key, "block")) == str(entry.receipt.block_number)
                    assert str(table.get_cell(key, "gas")) == f"{entry.receipt.gas_used:,}"
                else:
                    assert status in ("done", "skipped"), (key.value, status)
        assert journal.is_step_done("5")
        for _ in range(5):
            await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, RumExportScreen), what="Next back to the export")

        # The rum export page shows the env of validator 1 with the deployed addresses.
        outputs = journal.outputs()
        text = screen_text(app)
        assert "rum-0-" in text and "deployment.toml" in text
        assert f"MOSAIC_ORIGIN_CORE_ADDRESS={outputs['origin_core']}" in text
        assert app.screen.query_one("#nav-next", Button).disabled  # the last page

        plan = load_plan(wizard_devnet.devnet_plan)
        checks = verify.run_checks(plan, outputs)
        assert checks and all(check.ok for check in checks), [c for c in checks if not c.ok]

        # The validator status panel reads both chains: every validator staked, in PollingPlace and ProposerSet.
        await pilot.press("f2")
        await wait_for(pilot, lambda: kinds(messages, m.SnapshotTaken), what="the status panel's first read")
        assert isinstance(app.screen, ValidatorStatusScreen)
        status = app.screen.query_one(ValidatorStatusTable)
        assert table_column(status, "stake") == [short_amount(v.stake) for v in plan.validators]
        assert table_column(status, "polling") == ["yes"] * 3
        assert table_column(status, "proposer") == ["yes"] * 3
        assert all(value != "-" for value in table_column(status, "base"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RumExportScreen))
        await pilot.press("ctrl+q")
        await pilot.click("#keep")  # the fixture stops the nodes
    assert app.session.devnet_left_running


async def test_back_and_next_move_between_the_pages_and_keep_the_answers(wizard_devnet: Devnet) -> None:
    messages: list[Any] = []
    app = wizard_devnet.app()
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await walk_to_review(app, pilot, messages)
        await pilot.press("escape")
        assert isinstance(app.screen, ValidatorsScreen)
        await pilot.press("x")  # remove validator 1
        await wait_for(pilot, lambda: len(app.session.form.validators) == 2)
        await pilot.press("escape")
        assert isinstance(app.screen, PrerequisitesScreen)
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, ValidatorsScreen)
        assert len(app.screen.query_one(DataTable).rows) == 2
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.session.preflight_report is not None, what="the preflight")
        assert "with 2 validators" in flat(screen_text(app))
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+q")
        await pilot.click("#keep")


async def test_the_wizard_leaves_a_validator_node_per_validator_running_on_its_devnet(
        wizard_devnet: Devnet, monkeypatch: Any) -> None:
    """Like `deploy --devnet`, the wizard's devnet deployment ends with one `validator run` per validator,
    recorded in the devnet folder (so `devnet down` stops them; the fixture does), and they vote."""
    from mosaic_tui import devnet

    monkeypatch.delenv(devnet.VALIDATORS_OFF_ENV, raising=False)  # the suite turns the nodes off elsewhere
    messages: list[Any] = []
    app = wizard_devnet.app()
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await walk_to_review(app, pilot, messages)
        await pilot.press("ctrl+n")  # Deploy
        await wait_for(pilot, lambda: app.session.finished or app.session.failure, timeout=180, what="the deployment")
        assert app.session.failure is None, app.session.failure
        nodes = devnet.load_validators(wizard_devnet.directory)
        assert sorted(nodes) == ["validator-0", "validator-1", "validator-2"]
        assert all(node.is_ours() for node in nodes.values())
        await wait_for(pilot, lambda: all("vote auxiliary: voted" in Path(node.log_path).read_text()
                                          for node in nodes.values()), timeout=120, what="every node's first vote")
        await pilot.press("ctrl+q")
        await pilot.click("#keep")
