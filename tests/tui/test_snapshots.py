"""Snapshot tests (pytest-textual-snapshot) of every page and dialog at 100x32, and the main ones at 80x24.

Deterministic by construction: the working folder is a fresh temp folder and paths are shown relative
to it, RPC URLs point at a closed port (127.0.0.1:9), the deployment progress, preflight report and
status snapshot are fixed values fed to the real screens, and input cursors do not blink.
Update the pictures with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mosaic_tui import events as ev
from mosaic_tui import keys
from mosaic_tui.app import MosaicApp
from mosaic_tui.deploy import devnet_plan_dict
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.messages import SnapshotTaken, from_event
from mosaic_tui.monitor import ChainStatus, Finality, MetaStatus, Snapshot, ValidatorStatus
from mosaic_tui.plan import plan_from_dict, save_plan
from mosaic_tui.preflight import PreflightReport, StepCost
from mosaic_tui.screens.status import ValidatorStatusScreen
from mosaic_tui.wizard_run import PlannedAction, StepPlanned
from tests.tui.test_forms import own_plan

CLOSED = "http://127.0.0.1:9"
OST = 10**18
Scenario = Callable[[], tuple[MosaicApp, Callable[[Pilot], Awaitable[None]]]]


async def settle(pilot: Pilot, condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"snapshot scenario never reached {condition}"
        await pilot.pause(0.05)
        await asyncio.sleep(0)
    await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def _checked(app: MosaicApp, *fields: str) -> Callable[[], bool]:
    return lambda: all(field in app.session.connected for field in fields)


def welcome() -> tuple[MosaicApp, Any]:
    app = MosaicApp(plan_path=Path("mosaic-plan.toml"))
    return app, lambda pilot: settle(pilot, lambda: True)


def welcome_resume() -> tuple[MosaicApp, Any]:
    path = own_plan(Path("mosaic-plan.toml"), CLOSED)
    journal = Journal(journal_path(path))
    journal.record_done("0.example", {})
    journal.mark_step_done("0")
    app = MosaicApp(plan_path=path)
    return app, lambda pilot: settle(pilot, lambda: True)


def chains() -> tuple[MosaicApp, Any]:
    app = MosaicApp(plan_path=own_plan(Path("mosaic-plan.toml"), CLOSED))

    async def run(pilot: Pilot) -> None:
        await pilot.press("o")
        await settle(pilot, _checked(app, "origin.rpc", "auxiliary.rpc"))
    return app, run


def chains_invalid() -> tuple[MosaicApp, Any]:
    app = MosaicApp(plan_path=own_plan(Path("mosaic-plan.toml"), CLOSED))

    async def run(pilot: Pilot) -> None:
        await pilot.press("o")
        await settle(pilot, _checked(app, "origin.rpc", "auxiliary.rpc"))
        field = app.screen.query_one("#input-origin-ost", Input)
        field.focus()
        field.value = "0x123"
        await settle(pilot, lambda: True)
    return app, run


def validators() -> tuple[MosaicApp, Any]:
    app = MosaicApp(plan_path=own_plan(Path("mosaic-plan.toml"), CLOSED, validators=3))

    async def run(pilot: Pilot) -> None:
        await pilot.press("o")
        await settle(pilot, _checked(app, "origin.rpc"))
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: getattr(app.screen, "funds_error", None))
    return app, run


def review_problems() -> tuple[MosaicApp, Any]:
    app = MosaicApp(plan_path=own_plan(Path("mosaic-plan.toml"), CLOSED))

    async def run(pilot: Pilot) -> None:
        await pilot.press("o")
        await settle(pilot, _checked(app, "origin.rpc"))
        await pilot.press("ctrl+n", "ctrl+n")
        await settle(pilot, lambda: app.session.preflight_problems)
    return app, run


def review_passed() -> tuple[MosaicApp, Any]:
    app = MosaicApp(plan_path=own_plan(Path("mosaic-plan.toml"), CLOSED, validators=3))

    async def run(pilot: Pilot) -> None:
        await pilot.press("o")
        await settle(pilot, _checked(app, "origin.rpc"))
        await pilot.press("ctrl+n", "ctrl+n")
        await settle(pilot, lambda: app.session.preflight_problems)
        fee = 3 * 10**9
        app.session.preflight_problems, app.session.preflight_report = [], PreflightReport(1337, 4242, fee, [
            StepCost("1", "Origin contracts", 4_100_000, 4_100_000 * fee),
            StepCost("2", "Staking (deployer)", 910_000, 910_000 * fee),
            StepCost("2", "Staking (validators, each pays its own)", 1_200_000, 1_200_000 * fee),
            StepCost("3-4", "Auxiliary chain (no ETH: base coin from the genesis)", 0, 0)])
        app.refresh_page("review")
        await settle(pilot, lambda: True)
    return app, run


def _fake_hash(n: int) -> str:
    return "0x" + f"{n:02x}" * 32


def staking_events(failed: bool) -> list[Any]:
    deployer, v1, v2 = keys.dev_signer(0).address, keys.dev_signer(1).address, keys.dev_signer(2).address
    actions = [("2.approve_stake.0", "validator 1 approves its stake", v1),
               ("2.approve_stake.1", "validator 2 approves its stake", v2),
               ("2.approve_gateway.0", "validator 1 approves its gateway stake", v1),
               ("2.approve_gateway.1", "validator 2 approves its gateway stake", v2),
               ("2.initialize_stake", "Stake.initialize: pull the stakes and open kernel K0", deployer),
               ("2.gateway_stake.0", "validator 1 stakes for base coin", v1),
               ("2.gateway_stake.1", "validator 2 stakes for base coin", v2)]
    planned = tuple(PlannedAction(a, label, "origin", "deployer" if who == deployer else f"validator {int(a[-1]) + 1}",
                                  "pending") for a, label, who in actions)
    out: list[Any] = [StepPlanned("2", "Staking", planned), ev.StepStarted("2", "Staking", len(actions))]
    for number, (action, label, who) in enumerate(actions[:4], start=1):
        out += [ev.TxSigned("2", action, label, "origin", who, 3, _fake_hash(number)),
                ev.TxSent("2", action, _fake_hash(number)),
                ev.TxConfirmed("2", action, label, _fake_hash(number), 17, 46_187)]
    action, label, who = actions[4]
    out += [ev.TxSigned("2", action, label, "origin", who, 9, _fake_hash(5)), ev.TxSent("2", action, _fake_hash(5))]
    if failed:
        out.append(ev.TxFailed("2", action, label, _fake_hash(5), "EIP20Token: balance too low"))
    return out


def _devnet_form_app() -> MosaicApp:
    app = MosaicApp(plan_path=Path("mosaic-plan.toml"))
    return app


async def _feed(app: MosaicApp, pilot: Pilot, events: list[Any], deploying: bool) -> None:
    from mosaic_tui.wizard_state import WizardForm

    app.session.mode = "own"
    app.session.form = WizardForm.from_plan_dict(devnet_plan_dict(2, origin_url=CLOSED, origin_chain_id=1337,
                                                          auxiliary_url="http://127.0.0.1:10"))
    app.session.deploying = deploying
    for event in events:
        app.post_message(from_event(event))
    await settle(pilot, lambda: getattr(app.screen, "PAGE", "") == "step-2")


def step_running() -> tuple[MosaicApp, Any]:
    app = _devnet_form_app()
    return app, lambda pilot: _feed(app, pilot, staking_events(failed=False), deploying=True)


def step_failed() -> tuple[MosaicApp, Any]:
    from mosaic_tui.messages import DeploymentFailed

    app = _devnet_form_app()

    async def run(pilot: Pilot) -> None:
        await _feed(app, pilot, staking_events(failed=True), deploying=True)
        app.post_message(DeploymentFailed("2", "2.initialize_stake", "EIP20Token: balance too low"))
        await settle(pilot, lambda: app.session.failure is not None and type(app.screen).__name__ == "FailureScreen")
    return app, run


def rum_export() -> tuple[MosaicApp, Any]:
    from mosaic_tui import export, genesis
    from mosaic_tui.wizard_state import WizardForm

    data = devnet_plan_dict(2, origin_url="http://127.0.0.1:8545", origin_chain_id=1337,
                            auxiliary_url="http://127.0.0.1:8546", out_dir="out")
    plan = plan_from_dict(data)
    path = Path("mosaic-plan.toml")
    save_plan(plan, path)
    proposer = keys.dev_signer(900).address
    fake = {name: keys.dev_signer(200 + i).address for i, name in enumerate(
        ("ost", "origin_core", "stake", "ost_gateway", "origin_block_store", "auxiliary_block_store",
         "polling_place", "kernel_gateway", "ost_prime", "proposer_set"))}
    state = {fake["ost_prime"].lower(): {"balance": plan.auxiliary.base_coin_supply, "nonce": 1, "code": b"\x00",
                                         "storage": {}}}
    built = genesis.Genesis(state, genesis.genesis_json(plan, state, timestamp=0),
                            genesis.aura_spec(plan, state, timestamp=0), "0x" + "00" * 32, "0x" + "00" * 32)
    files = genesis.write_genesis_files(Path("out"), built)
    for name in ("nodes/initial-proposer/nethermind.cfg", "docker-compose.yml"):
        Path("out", name).parent.mkdir(parents=True, exist_ok=True)
        Path("out", name).write_text("{}\n")
    files.update(node_config_path=Path("out/nodes/initial-proposer/nethermind.cfg"),
                 compose_path=Path("out/docker-compose.yml"))
    outputs = {**fake, "setup_block_hash": _fake_hash(7), "setup_block_number": 40, "setup_state_root": _fake_hash(8),
               "auxiliary_rpc": "http://127.0.0.1:8546", "initial_proposer": proposer, "gas_price": 10**9,
               "base_coin_minted": 120 * OST, **{key: str(value) for key, value in files.items()}}
    journal = Journal(journal_path(path))
    for key, value in outputs.items():
        journal.set_step_output("1", key, value)
    for step in "012345":
        journal.mark_step_done(step)
    export.write_exports(Path("out"), plan, outputs)
    app = MosaicApp(plan_path=path)

    async def run(pilot: Pilot) -> None:
        app.session.mode, app.session.form, app.session.finished = "own", WizardForm.from_plan(plan), True
        app.goto("export")
        await settle(pilot, lambda: getattr(app.screen, "PAGE", "") == "export")
    return app, run


def status_panel() -> tuple[MosaicApp, Any]:
    path = own_plan(Path("mosaic-plan.toml"), CLOSED, validators=3)
    rows = tuple(ValidatorStatus(i, keys.dev_signer(1 + i).address, keys.dev_signer(500 + i).address, 2000 * OST,
                                 2000 * OST, 0, 10 * OST - 123_456_789 * 10**9, 10 * OST, True, 2000 * OST, True,
                                 50 - 10 * (i // 2), 115, 2 * (i // 2), 73_000)
                 for i in range(3))
    meta = MetaStatus(Finality("origin", 5, 119, 115, 110, 120, 10, 10),
                      Finality("auxiliary", 5, 56, 50, 45, 57, 12, 12), committed_height=2, open_kernel=3,
                      active_kernel=3, gas_price=10**9, total_weight=6000 * OST, voting_weight=4000 * OST)
    fixed = Snapshot(rows, ChainStatus("origin", "http://127.0.0.1:8545", 1337, 120, None),
                     ChainStatus("auxiliary", "http://127.0.0.1:8546", 1405, 57, None), kernel_height=1,
                     proposers=tuple(r.auxiliary_address for r in rows), taken_at=0.0, seconds=0.012, http_requests=5,
                     meta=meta, votes_per_day=6912.0)

    def fixed_read(screen: ValidatorStatusScreen) -> None:
        screen.post_message(SnapshotTaken(fixed))

    app = MosaicApp(plan_path=path, start_with_status=True)

    async def run(pilot: Pilot) -> None:
        await settle(pilot, lambda: isinstance(app.screen, ValidatorStatusScreen) and app.screen.query_one(
            "#status-auxiliary").render().plain)
    return app, (run, fixed_read)


def modal(open_it: Callable[[MosaicApp], None], ready: Callable[[MosaicApp], bool] = lambda app: True,
          own: bool = True) -> Scenario:
    def scenario() -> tuple[MosaicApp, Any]:
        app = MosaicApp(plan_path=own_plan(Path("mosaic-plan.toml"), CLOSED))

        async def run(pilot: Pilot) -> None:
            if own:
                await pilot.press("o")
                await settle(pilot, _checked(app, "origin.rpc", "auxiliary.rpc"))
            open_it(app)
            await settle(pilot, lambda: ready(app))
        return app, run
    return scenario


def _key_entry(app: MosaicApp) -> None:
    app.screen.query_one("#key-origin-deployer").press()


def _validator_edit(app: MosaicApp) -> None:
    from mosaic_tui.screens.validator_edit import ValidatorEditScreen
    from mosaic_tui.wizard_state import default_validator

    app.push_screen(ValidatorEditScreen(default_validator(False, []), 3, devnet=False, plan_dir=Path(".")))


def _csv(app: MosaicApp) -> None:
    from mosaic_tui.screens.validator_edit import CsvImportScreen

    app.push_screen(CsvImportScreen(devnet=False, base=Path(".")))


def _passphrase(app: MosaicApp) -> None:
    from mosaic_tui.screens.keys import PassphraseScreen

    app.push_screen(PassphraseScreen("keystore:keys/deployer.json"))


def _help(app: MosaicApp) -> None:
    app.action_help()


def _quit(app: MosaicApp) -> None:
    from mosaic_tui.screens.quit import QuitScreen

    app.push_screen(QuitScreen())


def _stop(app: MosaicApp) -> None:
    from mosaic_tui.screens.quit import StopDeploymentScreen

    app.push_screen(StopDeploymentScreen())


SCENARIOS: dict[str, Scenario] = {
    "welcome": welcome, "welcome_resume": welcome_resume, "chains": chains, "chains_invalid": chains_invalid,
    "validators": validators, "review_problems": review_problems, "review_passed": review_passed,
    "step_running": step_running, "step_failed": step_failed, "rum_export": rum_export, "status_panel": status_panel,
    "key_entry": modal(_key_entry, lambda app: getattr(app.screen, "keyring_known", False)),
    "validator_edit": modal(_validator_edit), "csv_import": modal(_csv), "passphrase": modal(_passphrase),
    "help": modal(_help, own=False), "quit_devnet": modal(_quit, own=False), "stop_deployment": modal(_stop, own=False),
}


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[MosaicApp, Any]]:
    monkeypatch.chdir(tmp_path)

    def build(name: str) -> tuple[MosaicApp, Any]:
        app, run = SCENARIOS[name]()
        if isinstance(run, tuple):  # a scenario that replaces how the status panel reads
            run, fixed_read = run
            monkeypatch.setattr(ValidatorStatusScreen, "read_snapshot", fixed_read)
        return app, run
    return build


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_screen_at_100x32(name: str, scene: Callable[[str], tuple[MosaicApp, Any]], snap_compare: Any) -> None:
    app, run = scene(name)
    assert snap_compare(app, terminal_size=(100, 32), run_before=run)


@pytest.mark.parametrize("name", ["welcome", "chains", "validators", "step_running", "rum_export"])
def test_screen_at_80x24(name: str, scene: Callable[[str], tuple[MosaicApp, Any]], snap_compare: Any) -> None:
    app, run = scene(name)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
