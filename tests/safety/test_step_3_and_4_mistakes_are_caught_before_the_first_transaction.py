"""Issue 13, item 4: every mistake that steps 3-5 would hit is caught by preflight, before anything is
staked; and a plan corrected in a harmless way is accepted, saying what changed.

The audit's two scenarios ran steps 0-2 (OST staked for good) and then stopped in step 3: a core
identifier whose auxiliary part is zero (PollingPlace refuses it) and an auxiliary gas limit too small
for the auxiliary contracts. Each now ends at preflight with exit code 2 and no transaction, on a real
origin chain with a real token and keystore-held keys (tests/reliability/world.py).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import cli, deploy, devnet, keys
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.runner import CRASH_AFTER_STEP_ENV
from tests.reliability.forked import run_forked
from tests.reliability.world import PASSPHRASE, World, make_world, plan_dict, write_keystore


def block_number(url: str) -> int:
    return int(devnet.rpc_call(url, "eth_blockNumber"), 16)


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    # Where a mistake slips through, steps 0-2 run and step 3 waits for the operator's auxiliary node:
    # let that wait end at once, so the test fails in seconds rather than ten minutes.
    monkeypatch.setattr("mosaic_tui.steps.auxiliary.NODE_WAIT", 0.0)
    return make_world(anvil_factory(), tmp_path)


def refused_at_preflight(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: Any) -> str:
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world, **changes)))
    before = block_number(world.node.rpc_url)
    code = cli.main(["deploy", str(path), "--yes"])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert block_number(world.node.rpc_url) == before, "a transaction was sent"
    assert not journal_path(path).exists()
    return err


def test_a_core_identifier_whose_auxiliary_part_is_zero_is_refused_at_preflight(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chain_id = world.node.chain_id
    zero_tail = "0x" + chain_id.to_bytes(8, "big").hex() + "00" * 12
    err = refused_at_preflight(world, tmp_path, capsys, **{"core.identifier": zero_tail})
    assert "error: core.identifier: its last 12 bytes (the auxiliary part) are zero" in err
    assert "PollingPlace refuses it in step 3" in err


def test_an_auxiliary_gas_limit_too_small_for_step_4_is_refused_at_preflight(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The proofs of step 4 come from a real origin chain's deep tries: 320,000 gas does not hold them."""
    err = refused_at_preflight(world, tmp_path, capsys, **{"auxiliary.gas_limit": 320_000})
    line = next(line for line in err.splitlines() if "is too small for steps 3-4" in line)
    assert line.removeprefix("error: ").startswith("auxiliary.gas_limit: the auxiliary block gas limit of 320,000 is too small for "
                           "steps 3-4: KernelGateway.proveOriginCore about 350,000")
    assert "OSTPrime.mint about 380,000" in line and "set it to at least 380,000." in line


def test_a_plan_whose_genesis_constructors_would_revert_is_refused_at_preflight(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 3 runs the auxiliary contracts' constructors into the genesis; preflight runs them first."""
    from mosaic_tui import genesis

    real = genesis.constructor_args

    def zero_epoch(plan: Any, inputs: Any, name: str) -> Any:  # a rule no plan check knows: BlockStore's epoch
        args = real(plan, inputs, name)
        return (*args[:-2], 0, args[-1]) if name == "OriginBlockStore" else args

    monkeypatch.setattr(genesis, "constructor_args", zero_epoch)
    err = refused_at_preflight(world, tmp_path, capsys)
    assert "error: auxiliary: step 3 could not build the auxiliary genesis from this plan: the OriginBlockStore " \
           "constructor reverted with these inputs" in err


def test_a_validators_auxiliary_key_that_is_not_its_address_is_refused_at_preflight(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The key a validator votes with was never opened before: here it is another account's keystore."""
    from eth_account import Account

    other = Account.create()
    ref = f"keystore:{write_keystore(tmp_path / 'keys' / 'aux-1.json', other)}"
    err = refused_at_preflight(world, tmp_path, capsys, **{"validators.1.auxiliary_key": ref})
    assert f"validators[1].auxiliary_key: opens the key of {other.address}, but auxiliary_address is" in err


def test_an_auxiliary_chain_id_of_a_public_network_is_refused_at_preflight(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.reliability.world import core_identifier

    err = refused_at_preflight(world, tmp_path, capsys, **{
        "auxiliary.chain_id": 137, "core.identifier": core_identifier(world.node.chain_id, 137)})
    assert "auxiliary.chain_id: 137 is the chain id of Polygon" in err


@pytest.fixture
def staked(anvil_factory: Any, tmp_path: Path, stop_devnet_nodes: Any) -> Path:
    """A devnet deployment stopped right after step 2: the stakes are locked on origin."""
    node = anvil_factory()
    devnet_dir = devnet.default_dir()
    devnet.add_node(devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    stop_devnet_nodes(devnet_dir)
    plan_path = tmp_path / "mosaic-plan.toml"
    deploy.write_devnet_plan(plan_path, 2, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                             auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
    crashed = run_forked(lambda: deploy.execute(deploy.prepare(plan_path), lambda event: None),
                         env={CRASH_AFTER_STEP_ENV: "2"})
    assert crashed.killed
    assert Journal.load(journal_path(plan_path)).is_step_done("2")
    return plan_path


def edit_plan(path: Path, section: str, key: str, value: Any) -> None:
    import tomllib

    data = tomllib.loads(path.read_text())
    target = data[section] if isinstance(section, str) and not section.startswith("validators") else \
        data["validators"][int(section.split(".")[1])]
    target[key] = value
    path.write_text(tomli_w.dumps(data))


def test_after_step_2_a_harmless_change_is_accepted_and_said_a_harmful_one_refused_naming_the_field(
        staked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = staked.read_text()
    origin_url = json.loads(journal_path(staked).read_text())["plan"]["origin"]["rpc"]

    # Harmful: the stakes are on chain; the plan may not say other stakes now.
    edit_plan(staked, "validators.0", "stake", "1500 OST")
    before = block_number(origin_url)
    assert cli.main(["deploy", str(staked), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "error: validators[0].stake: changed from 1000 OST to 1500 OST since the deployment started, and " \
           "step 0 already used it (the journal has step 2)" in err
    assert block_number(origin_url) == before

    # Another initial proposer after step 2 named the old one as the deployer's gateway-stake beneficiary.
    staked.write_text(original)
    edit_plan(staked, "auxiliary", "initial_proposer", "dev:901")
    assert cli.main(["deploy", str(staked), "--yes"]) == 2
    assert "error: auxiliary.initial_proposer: opens the key of" in capsys.readouterr().err

    # Harmless: step 3 has not started, so the auxiliary gas limit and epoch length may change.
    staked.write_text(original)
    planned = tomllib.loads(original)["auxiliary"]
    gas_limit, epoch = int(planned["gas_limit"]), int(planned["epoch_length"])
    edit_plan(staked, "auxiliary", "gas_limit", gas_limit - 10_000_000)
    edit_plan(staked, "auxiliary", "epoch_length", 4 * epoch)
    code = cli.main(["deploy", str(staked), "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, out[-3000:] + err
    assert f"plan changed since the deployment started, accepted: auxiliary.gas_limit: {gas_limit} -> " \
           f"{gas_limit - 10_000_000} (step 3, which uses it, has not started)" in out
    assert f"accepted: auxiliary.epoch_length: {epoch} -> {4 * epoch}" in out
    assert f"accepted: OriginCore, deployed in step 1, keeps {gas_limit * epoch:,} gas" in out
    applied = Journal.load(journal_path(staked)).applied_plan
    assert applied is not None and applied["auxiliary"]["gas_limit"] == gas_limit - 10_000_000
    assert cli.main(["verify", str(staked)]) == 0, capsys.readouterr().out
