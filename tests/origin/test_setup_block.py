"""The set-up block is a trust anchor only once confirmed, and only while it is canonical.

A reorg of the origin chain that replaces the set-up block (made with `anvil_reorg`, which drops the
transactions of the blocks it replaces) is noticed: before confirmation it is derived again (step 2's
journalled transactions sent again, byte for byte), after the auxiliary chain was anchored on it the
run stops with a sentence instead of proving against an orphan.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import cli, deploy, devnet, events
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import Journal, journal_path
from tests.origin.conftest import run_deployment

pytestmark = pytest.mark.slow


@pytest.fixture
def devnet_nodes() -> Iterator[None]:
    """Step 3 starts the devnet's auxiliary node detached, recorded in the (per-test) devnet folder."""
    yield
    devnet.down(devnet.default_dir())


def devnet_plan(tmp_path: Path, node: devnet.AnvilNode, **origin: Any) -> Path:
    devnet.add_node(devnet.default_dir(), node)  # a devnet plan runs only on a node the devnet record names
    plan = deploy.devnet_plan_dict(1, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                                   auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
    plan["origin"].update(origin)
    path = tmp_path / "mosaic-plan.toml"
    path.write_text(tomli_w.dumps(plan))
    return path


def reorg(node: devnet.AnvilNode, depth: int) -> None:
    devnet.rpc_call(node.rpc_url, "anvil_reorg", [depth, []])


def block_hash(node: devnet.AnvilNode, number: int) -> str:
    return str(devnet.rpc_call(node.rpc_url, "eth_getBlockByNumber", [hex(number), False])["hash"])


def test_a_reorg_after_step_2_is_noticed_and_the_set_up_block_derived_again(
        anvil_factory: Any, devnet_nodes: None, tmp_path: Path) -> None:
    # Fails before this change: step 3 anchored the auxiliary chain on the orphaned block and step 4 ended
    # in "KernelGateway: invalid account proof" on every run.
    node = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID)
    plan_path = devnet_plan(tmp_path, node)
    first = run_deployment(plan_path, upto="staking").outputs
    reorg(node, 1)  # the set-up block and the transactions in it are gone
    assert block_hash(node, first["setup_block_number"]) != first["setup_block_hash"]

    deployed = run_deployment(plan_path)

    outputs = deployed.outputs
    assert outputs["setup_block_hash"] != first["setup_block_hash"]
    assert block_hash(node, outputs["setup_block_number"]) == outputs["setup_block_hash"]
    assert any("left the chain in a reorg" in w for w in deployed.waits())
    assert deployed.failed_checks() == []
    # No action had two effects: every journalled origin transaction is counted once by its sender's nonce.
    journal = Journal.load(journal_path(plan_path))
    for sender in {e.sender for e in journal.entries() if e.chain == "origin" and e.sender}:
        sent = [e for e in journal.entries() if e.chain == "origin" and e.sender == sender and e.tx_hash]
        assert int(devnet.rpc_call(node.rpc_url, "eth_getTransactionCount", [sender, "latest"]), 16) == len(sent)


def test_a_set_up_block_replaced_by_one_with_the_same_transactions_at_the_same_height_is_derived_again(
        anvil_factory: Any, devnet_nodes: None, tmp_path: Path) -> None:
    """The reorg where step 2's receipts stay put: the set-up block is replaced by a block at the same height
    holding the same transactions (anvil_reorg with them), so every receipt keeps its block number and only
    the block hash changes. The run notices, adopts the transactions again and takes the new block."""
    node = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID)
    plan_path = devnet_plan(tmp_path, node)
    first = run_deployment(plan_path, upto="staking").outputs
    number = first["setup_block_number"]
    journal = Journal.load(journal_path(plan_path))
    in_block = [e for e in journal.entries() if e.receipt and e.receipt.block_number == number]
    assert in_block
    devnet.rpc_call(node.rpc_url, "anvil_reorg", [1, [[e.raw_tx, 0] for e in in_block]])
    assert block_hash(node, number) != first["setup_block_hash"]
    for entry in in_block:  # the same transactions, at the same height
        assert int(devnet.rpc_call(node.rpc_url, "eth_getTransactionReceipt", [entry.tx_hash])["blockNumber"], 16) == number

    deployed = run_deployment(plan_path)

    outputs = deployed.outputs
    assert (outputs["setup_block_number"], outputs["setup_block_hash"]) == (number, block_hash(node, number))
    assert any("left the chain in a reorg" in w for w in deployed.waits())
    assert deployed.failed_checks() == []


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_reorg_while_the_set_up_block_waits_for_confirmations(anvil_factory: Any, devnet_nodes: None,
                                                                tmp_path: Path, depth: int) -> None:
    node = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID, block_time=0.2)
    plan_path = devnet_plan(tmp_path, node, confirmations=4)
    replaced: list[tuple[int, str]] = []

    def hook(event: events.Event) -> None:
        if isinstance(event, events.Waiting) and event.reason.startswith("set-up block") and not replaced:
            number = int(event.reason.split()[2])
            head = int(devnet.rpc_call(node.rpc_url, "eth_blockNumber"), 16)
            replaced.append((number, block_hash(node, number)))
            reorg(node, head - number + depth)  # `depth` blocks below the set-up block go too

    deployed = run_deployment(plan_path, hook)

    number, old_hash = replaced[0]
    outputs = deployed.outputs
    assert outputs["setup_block_hash"] != old_hash
    assert block_hash(node, outputs["setup_block_number"]) == outputs["setup_block_hash"]
    assert any(w.startswith(f"set-up block {number} was replaced by a reorg") for w in deployed.waits())
    assert deployed.failed_checks() == []


def test_a_set_up_block_replaced_after_the_auxiliary_chain_was_anchored_stops_the_run(
        anvil_factory: Any, devnet_nodes: None, tmp_path: Path) -> None:
    node = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID)
    plan_path = devnet_plan(tmp_path, node)
    outputs = run_deployment(plan_path, upto="auxiliary").outputs
    reorg(node, int(devnet.rpc_call(node.rpc_url, "eth_blockNumber"), 16) - outputs["setup_block_number"] + 1)

    with pytest.raises(StepFailed) as failed:
        run_deployment(plan_path)

    assert failed.value.step == "4"
    assert f"the set-up block {outputs['setup_block_number']} is no longer on the origin chain" in str(failed.value)
    journal = Journal.load(journal_path(plan_path))
    assert not [e for e in journal.entries() if e.action_id.startswith("4.") and e.tx_hash]


def test_deploy_devnet_waiting_64_confirmations_shows_the_wait_and_finishes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    try:
        code = cli.main(["deploy", "--devnet", "--validators", "1", "--block-time", "0.1", "--confirmations", "64",
                         "--origin-port", str(devnet.free_port()), "--auxiliary-port", str(devnet.free_port()),
                         "--out", str(out), "--yes"])
        printed, err = capsys.readouterr()
        assert code == 0, printed + err
        outputs = Journal.load(journal_path(out / "mosaic-plan.toml")).outputs()
        waits = [line for line in printed.splitlines()
                 if f"set-up block {outputs['setup_block_number']} confirmed in ~" in line]
        assert waits and all(line.endswith("/64") for line in waits)
        assert cli.main(["verify", str(out / "mosaic-plan.toml")]) == 0
    finally:
        devnet.down(devnet.default_dir())


def test_confirmations_that_are_not_a_number_of_blocks_are_refused(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    plan = deploy.devnet_plan_dict(1, origin_url="http://127.0.0.1:1", origin_chain_id=1337,
                                   auxiliary_url="http://127.0.0.1:2")
    plan["origin"]["confirmations"] = "soon"
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan))
    assert cli.main(["deploy", str(path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert 'origin.confirmations' in err and 'expected a number of blocks (0 or more) or "finalized"' in err
    assert "Traceback" not in err
    assert cli.main(["deploy", "--devnet", "--confirmations", "3", "--out", str(tmp_path / "o"), "--yes"]) == 2
    assert "add --block-time" in capsys.readouterr().err
