"""The wizard's form model and CSV import (mosaic_tui.wizard_state): the engine's parsers, no terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from mosaic_tui import keys
from mosaic_tui.deploy import devnet_plan_dict
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import plan_from_dict
from mosaic_tui.wizard_state import (
    FIELDS,
    FieldContext,
    WizardForm,
    archive_journal,
    default_validator,
    parse_field,
    summarize_journal,
    validators_from_csv,
)


def devnet_form() -> WizardForm:
    return WizardForm.from_plan_dict(devnet_plan_dict(3, origin_url="http://127.0.0.1:1", origin_chain_id=1337,
                                                      auxiliary_url="http://127.0.0.1:2"))


def test_a_plan_goes_through_the_form_and_comes_back_the_same() -> None:
    data = devnet_plan_dict(3, origin_url="http://127.0.0.1:1", origin_chain_id=1337, auxiliary_url="http://127.0.0.1:2")
    plan = plan_from_dict(data)
    assert WizardForm.from_plan(plan).to_plan().digest() == plan.digest()


def test_fields_parse_with_the_units_of_the_form() -> None:
    own, devnet = FieldContext(devnet=False, origin_chain_id=1337), FieldContext(devnet=True)
    assert parse_field(FIELDS["origin.deployer_gateway_stake"], "12.5", own) == "12.5 OST"
    assert parse_field(FIELDS["auxiliary.gas_price"], "2", own) == "2 gwei"
    assert parse_field(FIELDS["origin.ost"], "deploy", devnet) == "deploy"
    with pytest.raises(InputError, match="only a devnet deploys its own OST"):
        parse_field(FIELDS["origin.ost"], "deploy", own)
    with pytest.raises(InputError, match="dev:<index> keys exist only on a devnet"):
        parse_field(FIELDS["origin.deployer"], "dev:0", own)
    with pytest.raises(InputError, match="looks like a private key"):
        parse_field(FIELDS["origin.deployer"], "0x" + "ab" * 32, own)
    assert parse_field(FIELDS["core.identifier"], "", own) is None  # empty: the plan's default applies
    with pytest.raises(InputError, match="must start with 0x0000000000000539"):
        parse_field(FIELDS["core.identifier"], "0x" + "00" * 7 + "01" + "00" * 12, own)
    with pytest.raises(InputError, match="at least 1"):
        parse_field(FIELDS["auxiliary.block_time"], "0", own)


def test_problems_across_fields_name_the_plan_key() -> None:
    form = devnet_form()
    form.values["auxiliary.chain_id"] = form.values["origin.chain_id"]
    form.validators[1]["stake"] = "10 OST"
    fields = {problem.field for problem in form.problems()}
    assert "auxiliary.chain_id" in fields and "validators[1].stake" in fields
    assert form.field_errors() == {}  # each field parses on its own


def test_a_new_devnet_row_takes_the_next_free_dev_accounts() -> None:
    form = devnet_form()
    del form.validators[1]
    row = default_validator(True, form.validators)
    assert row["origin_key"] == "dev:2" and row["origin_address"] == keys.dev_signer(2).address
    assert default_validator(False, [])["origin_address"] == ""


def test_csv_import_reads_rows_and_names_each_bad_value_by_line() -> None:
    a, b = keys.dev_signer(7).address, keys.dev_signer(8).address
    rows = validators_from_csv(f"stake, origin_address, auxiliary_address\n1500, {a.lower()}, {b}\n\n")
    assert rows == [{"stake": "1500 OST", "origin_address": a, "auxiliary_address": b, "gateway_stake": "10 OST",
                     "origin_key": "", "auxiliary_key": ""}]
    with pytest.raises(InputErrors) as bad:
        validators_from_csv(f"origin_address,auxiliary_address,stake\n{a},{b},ten\n{a},0x12,5 OST\n")
    assert [(e.field, e.message) for e in bad.value.errors] == [
        ("line 2: stake", "expected an amount such as 1000 OST, 2.5 gwei, 1 ETH or an integer number of wei."),
        ("line 3: auxiliary_address", "an address is 20 bytes (40 hex digits after 0x), this has 2 digits.")]
    with pytest.raises(InputErrors, match="missing: stake"):
        validators_from_csv("origin_address,auxiliary_address\n")
    with pytest.raises(InputErrors) as unknown:
        validators_from_csv("origin_address,auxiliary_address,stake,private_key\n")
    assert "unknown column 'private_key'" in unknown.value.errors[0].message
    with pytest.raises(InputErrors, match="lists no validators"):
        validators_from_csv("origin_address,auxiliary_address,stake\n")


def test_journal_summary_and_archive(tmp_path: Path) -> None:
    plan = tmp_path / "mosaic-plan.toml"
    assert summarize_journal(plan) is None
    journal = Journal(journal_path(plan))
    journal.record_done("0.fund", {})
    journal.mark_step_done("0")
    summary = summarize_journal(plan)
    assert summary is not None and summary.started and not summary.finished
    assert summary.sentence() == "1 actions confirmed; steps done: 0 Devnet preparation"
    kept = archive_journal(plan)
    assert kept == tmp_path / "mosaic-plan.state.1.json" and kept.is_file()
    assert not journal_path(plan).exists() and summarize_journal(plan) is None
