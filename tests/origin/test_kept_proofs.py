"""Proofs kept from the set-up block: a deployment finishes although the origin node has long dropped
that block's state.

The origin node sits behind a proxy that answers state and proof calls only for the latest 16 blocks,
with geth's own error; the operator starts the auxiliary node only once the set-up block is past that
window. Before this change step 4 called eth_getProof at the set-up block when it ran, and stopped there
for good ("historical state ... is not available").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet
from mosaic_tui.chain import proofs
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.setup_block import kept_proofs
from tests.origin.conftest import make_origin_world, run_deployment, world_plan, write_plan
from tests.origin.rpc_proxy import RpcProxy

pytestmark = pytest.mark.slow
WINDOW = 16


@pytest.fixture
def pruned_origin(anvil_factory: Any) -> Iterator[tuple[devnet.AnvilNode, RpcProxy]]:
    node = anvil_factory(block_time=0.2)
    proxy = RpcProxy(node.rpc_url, state_window=WINDOW).start()
    yield node, proxy
    proxy.stop()


def test_a_deployment_finishes_after_the_set_up_state_left_the_nodes_window(
        pruned_origin: tuple[devnet.AnvilNode, RpcProxy], operator: Any, passphrase: Any, tmp_path: Path) -> None:
    node, proxy = pruned_origin
    world = make_origin_world(node.w3, proxy.url, tmp_path, 2)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations=2))
    refused: list[str] = []

    def ready() -> bool:
        """The slow operator: the auxiliary node starts once the origin node refuses the set-up state."""
        outputs = Journal.load(journal_path(plan_path)).outputs()
        if "setup_block_number" not in outputs:
            return False
        try:
            devnet.rpc_call(proxy.url, "eth_getProof", [outputs["origin_core"], [], hex(outputs["setup_block_number"])])
        except devnet.DevnetError as error:
            refused.append(str(error))
            return True
        return False

    operator.watch(plan_path, ready)
    deployed = run_deployment(plan_path)

    assert refused and "historical state" in refused[0] and "is not available" in refused[0]
    assert proxy.too_old == ["eth_getProof"]  # the operator's look; the deployment never asked for old state
    assert deployed.failed_checks() == []
    kept = kept_proofs(deployed.outputs)
    assert kept is not None
    assert proofs.storage_slot_value(kept.origin_core) != 0  # the open kernel K0, proven at the set-up block
    assert len(kept.ost_gateway["storageProof"]) == len(deployed.outputs["gateway_stakes"]) == 3


def test_kept_proofs_that_do_not_match_the_state_root_are_refused(
        pruned_origin: tuple[devnet.AnvilNode, RpcProxy], operator: Any, passphrase: Any, tmp_path: Path) -> None:
    node, proxy = pruned_origin
    world = make_origin_world(node.w3, proxy.url, tmp_path, 1)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations=0))
    outputs = run_deployment(plan_path, upto="staking").outputs
    forged = dict(outputs)
    forged["setup_proofs"] = {**outputs["setup_proofs"],
                              "origin_core": {**outputs["setup_proofs"]["origin_core"], "balance": "0x1"}}
    with pytest.raises(proofs.ProofError, match="does not match the state root"):
        kept_proofs(forged)
    assert kept_proofs({k: v for k, v in outputs.items() if k != "setup_proofs"}) is None


def test_waiting_for_finalized_on_a_node_without_finality_is_refused_before_anything_is_sent(
        anvil_factory: Any, passphrase: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mosaic_tui import cli

    node = anvil_factory()
    proxy = RpcProxy(node.rpc_url, no_finality=True).start()
    try:
        world = make_origin_world(node.w3, proxy.url, tmp_path, 1, deployer_ref="node")
        plan = world_plan(world, confirmations=0)
        del plan["origin"]["confirmations"]  # the default off a devnet: "finalized"
        plan_path = write_plan(tmp_path, plan)
        before = node.w3.eth.block_number
        assert cli.main(["deploy", str(plan_path), "--yes"]) == 2
        err = capsys.readouterr().err
        assert ('origin.confirmations: is "finalized" (the default off a devnet), but the origin node does not report '
                "finalized blocks (finalized block not found); give a number of blocks instead.") in err
        assert node.w3.eth.block_number == before and not journal_path(plan_path).exists()
    finally:
        proxy.stop()
