"""Wrong-chain safety: a node that is not the chain the plan describes is refused before anything is
signed for it.

Cases: the origin node's chain id differs from the plan's (at the start, and when a deployment is
resumed against a node that was swapped for another chain); the operator's auxiliary node runs another
chain id, or was started from a genesis other than the one step 3 generated; and the generated
genesis.json was edited between a crash and the resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import cli, deploy, devnet, genesis, keys
from mosaic_tui.journal import CRASH_ENV, Journal, journal_path
from mosaic_tui.plan import plan_from_dict
from mosaic_tui.runner import CRASH_AFTER_STEP_ENV
from mosaic_tui.steps.common import auxiliary_addresses
from tests.reliability.forked import run_forked
from tests.reliability.world import AUXILIARY_CHAIN_ID, PASSPHRASE, World, core_identifier, plan_dict


def block_number(url: str) -> int:
    return int(devnet.rpc_call(url, "eth_blockNumber"), 16)


def deploy_cli(plan_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["deploy", str(plan_path), "--yes"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


def auxiliary_entries(plan_path: Path) -> list[str]:
    return [e.action_id for e in Journal.load(journal_path(plan_path)).entries() if e.chain == "auxiliary"]


def test_origin_chain_id_differs_from_the_plan(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, figure: Any) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    path = tmp_path / "plan.toml"
    wrong: dict[str, Any] = {"origin.chain_id": 1, "core.identifier": core_identifier(1)}
    path.write_text(tomli_w.dumps(plan_dict(world, **wrong)))
    before = block_number(world.node.rpc_url)
    code, err = deploy_cli(path, capsys)
    assert code == 2
    assert f"origin.chain_id: the plan says 1, but the node at {world.node.rpc_url} is chain {world.node.chain_id}; " \
           "nothing will be signed for the wrong chain." in err
    assert block_number(world.node.rpc_url) == before
    assert not journal_path(path).exists(), "a journal was started for the wrong chain"
    figure("origin chain id 1 planned, node is 31337: refused with exit code 2, 0 transactions")


def test_resume_against_an_origin_node_swapped_for_another_chain(anvil_factory: Any, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                stop_devnet_nodes: Any) -> None:
    node = anvil_factory()
    plan_path = tmp_path / "mosaic-plan.toml"
    deploy.write_devnet_plan(plan_path, 2, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                             auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
    stop_devnet_nodes(tmp_path / "devnet")
    devnet.add_node(tmp_path / "devnet", node)  # a devnet plan runs only on a node the devnet record names

    def run() -> None:
        deploy.execute(deploy.prepare(plan_path, devnet_dir=tmp_path / "devnet"), lambda event: None)

    assert run_forked(run, env={CRASH_AFTER_STEP_ENV: "1"}).killed
    node.stop()
    other = anvil_factory(port=node.port, chain_id=4242)  # same URL, another chain
    code, err = deploy_cli(plan_path, capsys)
    assert code == 2
    assert f"origin.chain_id: the plan says {node.chain_id}, but the node at {node.rpc_url} is chain 4242" in err
    assert block_number(other.rpc_url) == 0


@pytest.fixture
def half_deployed(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, Any]]:
    """A non-devnet plan over the funded world, with the auxiliary URL on a free port."""
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    plan = plan_dict(world, 1)
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan))
    return path, plan


def auxiliary_node(anvil_factory: Any, plan: dict[str, Any], tmp_path: Path, *, chain_id: int,
                   genesis_plan: dict[str, Any] | None = None) -> devnet.AnvilNode:
    """The operator's auxiliary node at the plan's URL, from the genesis of `genesis_plan` (else none)."""
    port = int(plan["auxiliary"]["rpc"].rsplit(":", 1)[1])
    kwargs: dict[str, Any] = {}
    if genesis_plan is not None:
        parsed = plan_from_dict(genesis_plan)
        # Another chain with the same id: the supply at OSTPrime's genesis address, no system contracts.
        state = {auxiliary_addresses()["ost_prime"].lower(): {"balance": parsed.auxiliary.base_coin_supply,
                                                               "nonce": 0, "code": b"", "storage": {}}}
        document = genesis.genesis_json(parsed, state, timestamp=0)
        path = tmp_path / "operators-genesis.json"
        path.write_text(json.dumps(document))
        kwargs = {"genesis": path, "extra_args": genesis.anvil_flags(parsed)}
    return anvil_factory(port=port, chain_id=chain_id, hardfork="berlin", accounts=0, **kwargs)


def test_operator_auxiliary_node_runs_another_chain_id(anvil_factory: Any, half_deployed: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], figure: Any) -> None:
    path, plan = half_deployed
    node = auxiliary_node(anvil_factory, plan, tmp_path, chain_id=AUXILIARY_CHAIN_ID + 1)
    code, err = deploy_cli(path, capsys)
    assert code == 1
    assert (f"step 3, action 3.start_node: the auxiliary node at {plan['auxiliary']['rpc']} reports chain id "
            f"{AUXILIARY_CHAIN_ID + 1}, the plan says {AUXILIARY_CHAIN_ID}") in err
    assert block_number(node.rpc_url) == 0 and auxiliary_entries(path) == []
    figure(f"auxiliary node on chain {AUXILIARY_CHAIN_ID + 1}, plan says {AUXILIARY_CHAIN_ID}: stopped at "
           "3.start_node, 0 auxiliary transactions")


def test_operator_auxiliary_node_from_another_genesis(anvil_factory: Any, half_deployed: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path, plan = half_deployed
    other = json.loads(json.dumps(plan))
    other["auxiliary"]["base_coin_supply"] = "900000000 OST"  # same chain id, another allocation
    node = auxiliary_node(anvil_factory, plan, tmp_path, chain_id=AUXILIARY_CHAIN_ID, genesis_plan=other)
    code, err = deploy_cli(path, capsys)
    assert code == 1
    assert "3.start_node: the auxiliary node at" in err and "did not start from the generated genesis" in err
    assert "ProposerSet's code or OSTPrime's balance at block 0 differ" in err
    assert block_number(node.rpc_url) == 0 and auxiliary_entries(path) == []


def test_genesis_edited_between_a_crash_and_the_resume(anvil_factory: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], stop_devnet_nodes: Any,
                                                       figure: Any) -> None:
    node = anvil_factory()
    plan_path = tmp_path / "mosaic-plan.toml"
    auxiliary_url = f"http://127.0.0.1:{devnet.free_port()}"
    deploy.write_devnet_plan(plan_path, 2, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                             auxiliary_url=auxiliary_url)
    devnet_dir = tmp_path / "devnet"
    stop_devnet_nodes(devnet_dir)
    for record in (devnet_dir, devnet.default_dir()):  # the CLI below resumes with the default record
        devnet.add_node(record, node)  # a devnet plan runs only on a node the devnet record names

    def run() -> None:
        deploy.execute(deploy.prepare(plan_path, devnet_dir=devnet_dir), lambda event: None)

    # Crash once step 2 is done, then again right after the resumed run's first write: step 3's genesis.
    assert run_forked(run, env={CRASH_AFTER_STEP_ENV: "2"}).killed
    assert run_forked(run, env={CRASH_ENV: "1"}).killed
    journal = Journal.load(journal_path(plan_path))
    genesis_entry, start_entry = journal.entry("3.genesis"), journal.entry("3.start_node")
    assert genesis_entry is not None and genesis_entry.status == "confirmed" and start_entry is None

    written = Path(journal.outputs()["genesis_path"])
    document = json.loads(written.read_text())
    document["alloc"]["0x" + "ab" * 20] = {"balance": hex(10**24)}  # someone gives themselves coin
    written.write_text(json.dumps(document, indent=2))
    before = block_number(node.rpc_url)

    code, err = deploy_cli(plan_path, capsys)
    assert code == 1
    assert (f"step 3, action 3.start_node: {written} differs from the one step 3 wrote; nothing was sent to "
            "the auxiliary chain") in err
    assert "auxiliary" not in devnet.load_record(devnet_dir) and "auxiliary" not in devnet.load_record(
        devnet.default_dir())
    with pytest.raises(OSError):
        devnet.rpc_call(auxiliary_url, "eth_chainId", timeout=1.0)
    assert auxiliary_entries(plan_path) == [] and block_number(node.rpc_url) == before
    figure("genesis.json edited after a crash in step 3: the resume refused it before starting a node or signing")
