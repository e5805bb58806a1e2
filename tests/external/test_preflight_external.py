"""The preflight on a real chain with an external validator: who acts for itself, and a resume after it acted."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import tomli_w

from mosaic_tui import deploy, keys
from mosaic_tui.contracts import load_artifact
from mosaic_tui.errors import StepFailed
from tests.engine.test_deploy_bad_plans import PASSPHRASE, plan_dict, world  # noqa: F401  (fixture)
from tests.helpers import transact

OST = 10**18


def test_a_resumed_run_does_not_ask_an_external_validator_for_what_it_already_staked(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    w3 = world["node"].w3
    token = w3.eth.contract(address=world["token"], abi=load_artifact("EIP20Token")["abi"])
    outsider = world["accounts"][3]  # validator 3 keeps its own key: the plan says external
    excess = token.functions.balanceOf(outsider.address).call() - 1010 * OST
    transact(w3, token.functions.transfer(w3.eth.accounts[0], excess), outsider)
    plan = plan_dict(world, **{"validators.2.origin_key": "external", "validators.2.auxiliary_key": "external",
                               "origin.staking_deadline": "2020-01-01T00:00:00Z"})
    path = world["dir"] / "plan.toml"
    path.write_text(tomli_w.dumps(plan))

    first = deploy.prepare(path)
    assert first.report.problems == []
    assert any(line.startswith(f"validator 3 ({outsider.address}) acts for itself") for line in first.report.external)
    with pytest.raises(StepFailed) as failed:  # the deadline has passed: step 2 stops, naming validator 3
        deploy.execute(first, lambda event: None)
    assert f"validator 3 ({outsider.address}) has not approved its stake" in failed.value.reason

    # Validator 3 stakes its 10 OST in the gateway (it now holds exactly its 1,000 OST stake) ...
    ceremony = tomllib.loads((world["dir"] / "out" / "ceremony.toml").read_text())["origin"]
    gateway = w3.eth.contract(address=ceremony["ost_gateway"], abi=load_artifact("OSTGateway")["abi"])
    transact(w3, token.functions.approve(ceremony["ost_gateway"], 10 * OST), outsider)
    transact(w3, gateway.functions.stake(10 * OST, plan["validators"][2]["auxiliary_address"], 0), outsider)

    # ... and the coordinator moves the deadline and resumes: the preflight does not ask it for 1,010 OST.
    plan["origin"]["staking_deadline"] = "2099-01-01T00:00:00Z"
    path.write_text(tomli_w.dumps(plan))
    resumed = deploy.prepare(path)  # raised InputErrors ("holds 1,000 OST but ... need 1,010 OST") before
    assert resumed.report.problems == []
    assert any("approved so far: 0 OST" in line for line in resumed.report.external)
