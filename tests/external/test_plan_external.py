"""The plan's side of external validators: the key kind, where it may be used, the staking deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mosaic_tui.deploy import devnet_plan_dict
from mosaic_tui.errors import InputErrors
from mosaic_tui.keyref import KeyRef, parse_key_ref
from mosaic_tui.plan import load_plan, plan_from_dict, save_plan


def plan_data(**origin: Any) -> dict[str, Any]:
    data = devnet_plan_dict(3, origin_url="http://127.0.0.1:8545", origin_chain_id=1337,
                            auxiliary_url="http://127.0.0.1:8546")
    for row in data["validators"][1:]:
        row.update(origin_key="external", auxiliary_key="external")
    data["origin"].update(origin)
    return data


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputErrors) as raised:
        plan_from_dict(data)
    return {error.field: error.message for error in raised.value.errors}


def test_external_is_a_key_kind_that_round_trips_and_leaves_only_addresses() -> None:
    assert parse_key_ref("external", "f") == KeyRef("external") and str(KeyRef("external")) == "external"
    plan = plan_from_dict(plan_data())
    assert plan.external_validators == [1, 2]
    assert [str(v.origin_key) for v in plan.validators] == ["dev:1", "external", "external"]


def test_two_external_validators_are_not_taken_for_one_key_used_twice() -> None:
    plan_from_dict(plan_data())  # would say "this is the same key as validators[1]" if external were a key


def test_only_validator_keys_may_be_external() -> None:
    data = plan_data()
    data["origin"]["deployer"] = "external"
    data["auxiliary"]["initial_proposer"] = "external"
    found = problems(data)
    assert "only a validator's origin_key and auxiliary_key may be external" in found["origin.deployer"]
    assert "only a validator's origin_key and auxiliary_key may be external" in found["auxiliary.initial_proposer"]


def test_the_staking_deadline_is_a_moment_with_its_zone(tmp_path: Any) -> None:
    plan = plan_from_dict(plan_data(staking_deadline="2026-12-01T18:00:00+02:00"))
    assert plan.origin.staking_deadline == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    path = save_plan(plan, tmp_path / "plan.toml")
    assert 'staking_deadline = "2026-12-01T16:00:00Z"' in path.read_text()
    assert load_plan(path) == plan
    assert "give the time zone too" in problems(plan_data(staking_deadline="2026-12-01T18:00:00"))[
        "origin.staking_deadline"]
    assert "expected a date and time" in problems(plan_data(staking_deadline="tomorrow"))["origin.staking_deadline"]


def test_moving_the_deadline_keeps_the_plan_digest_so_a_deployment_can_resume() -> None:
    early = plan_from_dict(plan_data(staking_deadline="2026-12-01T18:00:00Z"))
    later = plan_from_dict(plan_data(staking_deadline="2026-12-02T18:00:00Z"))
    assert early.digest() == later.digest() == plan_from_dict(plan_data()).digest()


def test_an_external_key_is_never_opened_and_the_refusal_says_where_it_is_named() -> None:
    from mosaic_tui import keys
    from mosaic_tui.errors import InputError

    with pytest.raises(InputError) as refused:
        keys.open_signer(KeyRef("external"), "validators[1].auxiliary_key")
    assert refused.value.field == "validators[1].auxiliary_key"
    assert "only the validator holds this key" in refused.value.message
    assert "mosaic-tui export PLAN --validator N --key" in refused.value.message
