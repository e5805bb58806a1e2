"""Step 4 anchors the genesis on an auxiliary chain that is still at block 0.

The operator's node here seals blocks only for transactions, so when step 4 starts the chain has
nothing but its genesis block. Before this change `4.anchor_genesis` estimated its gas at block 0,
where BLOCKHASH cannot vouch for the genesis header yet, and the deployment stopped with
"first header is not a recent block" (the operator had to mine a block by hand first).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet, events
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from mosaic_tui.steps.auxiliary import devnet_engine_finalize
from mosaic_tui.steps.initialize import ANCHOR_AT_GENESIS_GAS
from tests.origin.conftest import Operator, make_origin_world, passphrase, run_deployment, world_plan, write_plan

pytestmark = pytest.mark.slow
__all__ = ["passphrase"]  # the fixture, shared with the origin suite


class QuietOperator(Operator):
    """Its node seals only for transactions, and its engine part (anvil makes finalizeChange a
    transaction) waits until the genesis is anchored, so nothing but the anchor leaves block 0."""

    def _play_the_engine(self, plan: Any) -> None:
        while devnet.rpc_call(plan.auxiliary.rpc, "eth_blockNumber", []) == "0x0":
            if self.stop.wait(0.1):
                return
        super()._play_the_engine(plan)


@pytest.fixture
def quiet_operator(anvil_factory: Any) -> Iterator[Operator]:
    watcher = QuietOperator(anvil_factory, seals_empty_blocks=False)
    yield watcher
    watcher.stop.set()
    for thread in watcher.threads:
        thread.join(30)


def test_step_4_anchors_the_genesis_while_the_auxiliary_chain_is_at_block_0(
        anvil_factory: Any, quiet_operator: Operator, passphrase: Any, tmp_path: Path) -> None:
    origin = anvil_factory()
    world = make_origin_world(origin.w3, origin.rpc_url, tmp_path, 1)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations=0))
    plan = load_plan(plan_path)

    def engine_at_block_1(event: events.Event) -> None:
        """The engine's first finalizeChange, a system call of block 1 on a real AuRa chain, made here as
        soon as the anchor made block 1 (before step 4 goes on, so the hand-over finds it made)."""
        if isinstance(event, events.TxConfirmed) and event.action == "4.anchor_genesis":
            devnet_engine_finalize(plan.auxiliary.rpc, plan)

    quiet_operator.watch(plan_path)
    deployed = run_deployment(plan_path, engine_at_block_1)

    assert deployed.failed_checks() == []
    auxiliary = plan.auxiliary.rpc
    entry = {e.action_id: e for e in Journal.load(journal_path(plan_path)).entries()}["4.anchor_genesis"]
    assert entry.status == "confirmed" and entry.receipt is not None
    # The anchor is the auxiliary chain's first transaction: nothing else moved it past block 0 before.
    assert entry.receipt.block_number == 1
    block1 = devnet.rpc_call(auxiliary, "eth_getBlockByNumber", ["0x1", False])
    assert entry.tx_hash in block1["transactions"]
    assert 0 < entry.receipt.gas_used < ANCHOR_AT_GENESIS_GAS
