"""Issue 12, every node's dialect in fee reading: a node without eth_maxPriorityFeePerGas or
eth_feeHistory("pending") (EthereumJS) made `--dry-run` end in a traceback. Now the fees fall back
(feeHistory on "latest", then eth_gasPrice) and the run says which; a failed gas estimate is reported
as one, in the node's words, never as a refusal or a raw JSON-RPC dict; preflight prices the
deployment at the plan's ceiling and says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import cli, deploy, keys
from mosaic_tui.contracts import load_artifact
from mosaic_tui.errors import StepFailed
from mosaic_tui.steps import origin, staking
from tests.helpers import transact
from tests.reliability import world as world_module
from tests.reliability.world import PASSPHRASE, World, plan_dict
from tests.safety.rpc_dialect import DialectProxy


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path) -> World:
    return world_module.make_world(anvil_factory(), tmp_path)


@pytest.fixture
def proxy(world: World) -> Iterator[DialectProxy]:
    started = DialectProxy(world.node.rpc_url).start()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)


def write_plan(world: World, **changes: Any) -> Path:
    path = world.directory / "mosaic-plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world, 2, **changes)))
    return path


@pytest.mark.parametrize(("missing", "source"), [
    ({"eth_maxPriorityFeePerGas"}, 'eth_feeHistory on "latest"'),
    ({"eth_maxPriorityFeePerGas", "eth_feeHistory"}, "eth_gasPrice"),
])
def test_a_node_without_the_fee_methods_still_gets_a_dry_run_that_says_where_the_tip_came_from(
        world: World, proxy: DialectProxy, capsys: pytest.CaptureFixture[str], missing: set[str], source: str) -> None:
    proxy.missing, proxy.no_pending_fee_history = missing, True
    path = write_plan(world, **{"origin.rpc": proxy.url})
    code = cli.main(["deploy", str(path), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err and f"tip from {source}" in out, out


def test_preflight_prices_the_deployment_at_the_ceiling_and_says_so(world: World,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(world, **{"origin.max_fee_per_gas": "50 gwei", "origin.max_priority_fee_per_gas": "2 gwei"})
    assert cli.main(["deploy", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "priced at 50 gwei per gas (the plan's ceiling origin.max_fee_per_gas)" in out, out


def test_a_tip_ceiling_above_the_fee_ceiling_is_refused_naming_the_field(world: World,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(world, **{"origin.max_fee_per_gas": "5 gwei", "origin.max_priority_fee_per_gas": "6 gwei"})
    assert cli.main(["deploy", str(path), "--dry-run"]) == 2
    assert "origin.max_priority_fee_per_gas" in capsys.readouterr().err


def test_a_failed_gas_estimate_is_reported_as_one_in_the_nodes_words(world: World) -> None:
    path = write_plan(world)
    deploy.execute(deploy.prepare(path), lambda event: None, steps=[origin.step])
    prepared = deploy.prepare(path)
    # Validator 1 gives its OST away before the stakes are pulled: Stake.initialize cannot be estimated.
    w3 = world.node.w3
    token = w3.eth.contract(address=world.token, abi=load_artifact("EIP20Token")["abi"])
    holder = world.accounts[1]
    transact(w3, token.functions.transfer(w3.eth.accounts[0], token.functions.balanceOf(holder.address).call()),
             holder)
    with pytest.raises(StepFailed) as stopped:
        deploy.execute(prepared, lambda event: None, steps=[origin.step, staking.step])
    reason = stopped.value.reason
    assert reason.startswith("the node could not estimate gas for "), reason
    assert "{" not in reason and "code" not in reason, reason
