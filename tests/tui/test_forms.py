"""The chains and validators forms: inline errors from the engine's parser, Next disabled, an unreachable
RPC named where it is typed and again by the preflight, and CSV import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, Input, Static

from mosaic_tui import devnet, keys
from mosaic_tui import messages as m
from mosaic_tui.app import MosaicApp
from mosaic_tui.plan import plan_from_dict, save_plan
from mosaic_tui.screens.prerequisites import PrerequisitesScreen
from mosaic_tui.screens.review import ReviewScreen
from mosaic_tui.screens.validator_edit import CsvImportScreen, ValidatorEditScreen
from mosaic_tui.screens.validators import ValidatorsScreen
from mosaic_tui.widgets.fields import FormRow
from tests.tui.conftest import kinds, wait_for
from tests.tui.screen_text import flat, screen_text

OST_TOKEN = "0xfF69634D654B09039dc78e48644DC2e955981df0"


def own_plan(path: Path, rpc: str, validators: int = 2) -> Path:
    """A statically valid own-chains plan (keyring references; nothing needs to exist)."""
    members = [{"origin_address": keys.dev_signer(1 + i).address,
                "auxiliary_address": keys.dev_signer(500 + i).address, "stake": "2000 OST",
                "gateway_stake": "10 OST", "origin_key": f"keyring:validator-{i}",
                "auxiliary_key": f"keyring:validator-{i}-aux"} for i in range(validators)]
    plan = plan_from_dict({
        "plan_version": 1, "out_dir": "out",
        "core": {"minimum_weight": "1000 OST"},
        "origin": {"rpc": rpc, "chain_id": 1337, "ost": OST_TOKEN, "deployer": "keyring:deployer",
                   "deployer_gateway_stake": "100 OST"},
        "auxiliary": {"rpc": "http://127.0.0.1:1", "chain_id": 1405, "initial_proposer": "keyring:proposer"},
        "validators": members})
    save_plan(plan, path)
    return path


@pytest.fixture
def closed_url() -> str:
    return f"http://127.0.0.1:{devnet.free_port()}"  # nothing listens there


def row(app: MosaicApp, key: str) -> FormRow:
    return app.screen.query_one(f"#row-{key.replace('.', '-').replace('_', '-')}", FormRow)


async def retype(pilot: Any, widget: Input, text: str) -> None:
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await pilot.pause()


def note(form_row: FormRow) -> str:
    return str(form_row.query_one(".form-note", Static).render())


async def test_invalid_address_and_amount_are_named_under_the_field_and_next_is_disabled(
        tmp_path: Path, closed_url: str) -> None:
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", closed_url))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen))
        next_button = app.screen.query_one("#nav-next", Button)
        assert not next_button.disabled

        ost = row(app, "origin.ost")
        await retype(pilot, ost.input, "0x123")
        assert not ost.valid and ost.has_class("-invalid")
        assert note(ost) == "an address is 20 bytes (40 hex digits after 0x), this has 3 digits."
        assert next_button.disabled
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PrerequisitesScreen)  # Next does nothing while a field is refused
        assert "1 field to fix: OST token address" in flat(screen_text(app))

        await retype(pilot, ost.input, OST_TOKEN.lower())
        assert ost.valid and not next_button.disabled

        stake = row(app, "origin.deployer_gateway_stake")
        await retype(pilot, stake.input, "12 apples")
        assert note(stake) == "unknown unit 'apples'; use wei, gwei, ETH (ether) or OST."
        assert next_button.disabled
        await retype(pilot, stake.input, "12.5")  # a bare number in this field means OST
        assert stake.valid and not next_button.disabled
        assert app.session.form.plan_dict()["origin"]["deployer_gateway_stake"] == "12.5 OST"

        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorEditScreen))
        stake_row = row(app, "stake")
        await retype(pilot, stake_row.input, "-5")
        assert note(stake_row) == "an amount must not be negative."
        assert app.screen.query_one("#validator-save", Button).disabled
        await retype(pilot, row(app, "origin_address").input, "0xZZ")
        assert note(row(app, "origin_address")) == "an address may only hold hex digits (0-9, a-f) after 0x."
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        assert len(app.session.form.validators) == 2
        await pilot.press("ctrl+q")


async def test_a_stake_below_the_minimum_weight_marks_the_row_and_blocks_next(tmp_path: Path,
                                                                              closed_url: str) -> None:
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", closed_url))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorEditScreen))
        await retype(pilot, row(app, "stake").input, "999")  # valid on its own, below the plan's minimum
        await pilot.click("#validator-save")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell("0", "check")) == "invalid"
        assert "stake: the stake 999 OST is below the minimum weight 1000 OST." in flat(screen_text(app))
        assert app.screen.query_one("#nav-next", Button).disabled
        await pilot.press("ctrl+q")


async def test_an_unreachable_rpc_is_named_on_the_chains_page_and_by_the_preflight(tmp_path: Path,
                                                                                   closed_url: str) -> None:
    messages: list[Any] = []
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", closed_url))
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: any(c.field == "origin.rpc" for c in kinds(messages, m.RpcChecked)),
                       what="the RPC check")
        text = flat(screen_text(app))
        assert f"not connected: {closed_url} cannot be reached (connection refused)." in text
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await wait_for(pilot, lambda: app.session.preflight_problems, what="the preflight")
        problems = app.session.preflight_problems
        assert [(p.field, p.message) for p in problems] == [
            ("origin.rpc", f"no node answers at {closed_url}; check the URL and that the node runs.")]
        assert f"origin.rpc: no node answers at {closed_url}" in flat(screen_text(app))
        assert app.screen.query_one("#nav-next", Button).disabled
        await pilot.press("ctrl+n")
        assert not kinds(messages, m.TransactionSigned) and not app.session.deploying
        await pilot.press("ctrl+q")


async def test_validators_imported_from_csv_join_the_table_and_bad_lines_are_named(tmp_path: Path,
                                                                                    closed_url: str) -> None:
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", closed_url, validators=1))
    good = tmp_path / "validators.csv"
    good.write_text("origin_address,auxiliary_address,stake,origin_key,auxiliary_key\n"
                    f"{keys.dev_signer(7).address},{keys.dev_signer(507).address},1500 OST,keyring:v7,keyring:a7\n"
                    f"{keys.dev_signer(8).address.lower()},{keys.dev_signer(508).address},2000,keyring:v8,node\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("origin_address,auxiliary_address,stake\n0x1234,0x42,10 OST\n")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))

        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, CsvImportScreen))
        await retype(pilot, row(app, "csv").input, "bad.csv")
        await pilot.click("#csv-import")
        await pilot.pause()
        errors = flat(str(app.screen.query_one("#csv-errors", Static).render()))
        assert "line 2: origin_address: an address is 20 bytes (40 hex digits after 0x), this has 4 digits." in errors
        assert "line 2: auxiliary_address" in errors

        await retype(pilot, row(app, "csv").input, str(good))
        await pilot.click("#csv-import")
        await wait_for(pilot, lambda: isinstance(app.screen, ValidatorsScreen))
        table = app.screen.query_one(DataTable)
        assert len(table.rows) == 3
        assert [str(table.get_cell(str(i), "stake")) for i in range(3)] == ["2000 OST", "1500 OST", "2000 OST"]
        assert app.session.form.validators[2]["origin_address"] == keys.dev_signer(8).address  # checksummed on import
        assert not app.screen.query_one("#nav-next", Button).disabled
        await pilot.press("ctrl+q")
