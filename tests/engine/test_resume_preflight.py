"""A real-chain deployment stopped in the middle of step 2 can be resumed: the preflight asks each account
only for what it still has to pay, not for the stakes Stake.initialize already pulled."""

from __future__ import annotations

from typing import Any

import pytest
import tomli_w

from mosaic_tui import deploy, events, keys
from mosaic_tui.contracts import load_artifact
from tests.helpers import transact

from .test_deploy_bad_plans import PASSPHRASE, plan_dict, world  # noqa: F401  (fixture)

OST = 10**18


class Stopped(Exception):
    """Stands for the process dying right after a receipt was recorded."""


def test_stopped_after_initialize_passes_the_preflight_again(world: dict[str, Any],  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    w3 = world["node"].w3
    token = w3.eth.contract(address=world["token"], abi=load_artifact("EIP20Token")["abi"])
    # Each validator holds exactly its stake and gateway stake, as a careful operator would fund it.
    for account in world["accounts"][1:4]:
        excess = token.functions.balanceOf(account.address).call() - 1010 * OST
        transact(w3, token.functions.transfer(w3.eth.accounts[0], excess), account)
    path = world["dir"] / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world)))

    def stop_after_initialize(event: events.Event) -> None:
        if isinstance(event, events.TxConfirmed) and event.action == "2.initialize_stake":
            raise Stopped

    with pytest.raises(Stopped):
        deploy.execute(deploy.prepare(path), stop_after_initialize)
    pulled = [token.functions.balanceOf(a.address).call() for a in world["accounts"][1:4]]
    assert all(balance <= 10 * OST for balance in pulled)  # the stakes are in Stake now

    resumed = deploy.prepare(path)  # raised InputErrors ("holds 10 OST but ... need 1,010 OST") before
    assert resumed.report.problems == []
