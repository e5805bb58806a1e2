"""Issue 12, reorgs at the receipt level: every receipt keeps its block hash; before a step builds on
earlier outputs (and on every resume) receipts are checked against the canonical chain, and a
transaction a reorg removed is adopted if re-included or rebroadcast byte for byte. anvil_reorg at
depths 1-3 at the boundaries of steps 1-2 of a devnet deployment: verify passes, no action has two
effects (every sender's nonce equals the transactions the journal holds, each signed once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import deploy, devnet, events, verify
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from tests.reliability.world import ledger, resent_actions


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("boundary", ["1", "2"])
def test_a_reorg_at_a_step_boundary_is_followed_and_no_action_has_two_effects(anvil_factory: Any, tmp_path: Path,
                                                                               boundary: str, depth: int) -> None:
    node = anvil_factory()
    plan_path = tmp_path / "mosaic-plan.toml"
    devnet_dir = tmp_path / "devnet"
    deploy.write_devnet_plan(plan_path, 2, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                             auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
    devnet.add_node(devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    for _ in range(3):  # a reorg may not reach below the genesis block: a few blocks to reorganise into
        devnet.rpc_call(node.rpc_url, "evm_mine")
    reorged: list[str] = []
    seen: list[events.Event] = []

    def reorg_at_the_boundary(event: events.Event) -> None:
        seen.append(event)
        if isinstance(event, events.StepDone) and event.step == boundary and not reorged:
            before = devnet.rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
            devnet.rpc_call(node.rpc_url, "anvil_reorg", [depth, []])
            after = devnet.rpc_call(node.rpc_url, "eth_getBlockByNumber", [before["number"], False])
            assert after["hash"] != before["hash"]  # the block step `boundary` ended in is gone
            reorged.append(before["hash"])

    try:
        deploy.execute(deploy.prepare(plan_path, devnet_dir=devnet_dir), reorg_at_the_boundary)
        assert reorged
        checks = verify.run_checks(load_plan(plan_path), Journal.load(journal_path(plan_path)).outputs())
        assert [c for c in checks if not c.ok] == []
        nonces, journalled = ledger(plan_path)
        assert nonces == journalled  # every transaction on chain is one the journal holds, each once
        assert resent_actions(plan_path) == []  # nothing was signed a second time: rebroadcast byte for byte
        journal = Journal.load(journal_path(plan_path))
        for entry in journal.entries():
            if entry.receipt is not None and entry.chain == "origin" and entry.receipt.block_hash:
                block = devnet.rpc_call(node.rpc_url, "eth_getBlockByNumber", [hex(entry.receipt.block_number), False])
                assert block["hash"] == entry.receipt.block_hash, entry.action_id  # receipts on the canonical chain
    finally:
        for started in devnet.load_record(devnet_dir).values():
            if started.pid != node.pid:
                started.stop()
