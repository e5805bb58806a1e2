"""A round the node takes only in part: one sender's transaction is refused at broadcast, the others go
out in the same batch. The run stops naming the refused action; once the cause is fixed the same command
finishes, adopting what went out; no action has two transactions on chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet, events, keys, verify
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from tests.reliability.test_rpc_outage import Run
from tests.reliability.world import chain_nonce


def test_round_taken_in_part_resumes_without_duplicates(anvil_factory: Any, tmp_path: Path, figure: Any,
                                                        stop_devnet_nodes: Any) -> None:
    node = anvil_factory(block_time=1)  # a block a second: the whole round is in the pool at once
    run = Run(tmp_path, node.rpc_url, node.chain_id)
    stop_devnet_nodes(run.devnet_dir)
    devnet.add_node(run.devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    # Validator 2 (dev:2) can pay for nothing more once its approvals are mined, so its gateway stake is
    # refused at broadcast, while the initialize and the other gateway stakes of that round go out.
    poor = keys.dev_signer(2).address
    balance: dict[str, int] = {}

    def drain(event: events.Event) -> None:
        if isinstance(event, events.TxConfirmed) and event.action == "2.approve_gateway.1" and not balance:
            balance["before"] = int(devnet.rpc_call(node.rpc_url, "eth_getBalance", [poor, "latest"]), 16)
            devnet.rpc_call(node.rpc_url, "anvil_setBalance", [poor, "0x0"])

    run.hook = drain
    with pytest.raises(StepFailed) as stopped:
        run.execute()
    assert (stopped.value.step, stopped.value.action) == ("2", "2.gateway_stake.1")
    journal = Journal.load(journal_path(run.plan))
    went_out = [e for e in journal.entries() if e.action_id.startswith("2.") and e.status in ("sent", "confirmed")]
    refused = [e for e in journal.entries() if e.action_id.startswith("2.") and e.status == "failed"]
    assert refused and all(e.receipt is None for e in refused)

    devnet.rpc_call(node.rpc_url, "anvil_setBalance", [poor, hex(balance["before"])])
    run.hook = lambda event: None
    run.execute()
    checks = verify.run_checks(load_plan(run.plan), Journal.load(journal_path(run.plan)).outputs())
    assert [c for c in checks if not c.ok] == []
    # The refused stake was signed again at the same nonce (a replacement: only one of the two can ever be
    # mined). Every action has exactly one transaction on chain, and the chains count exactly those.
    journal = Journal.load(journal_path(run.plan))
    mined: dict[tuple[str, str], set[int]] = {}
    for entry in journal.entries():
        if not entry.tx_hash:
            continue
        for earlier in entry.earlier_tx_hashes:
            assert devnet.rpc_call(node.rpc_url, "eth_getTransactionReceipt", [earlier]) is None, entry.action_id
        assert entry.receipt is not None and entry.status == "confirmed", entry.action_id
        mined.setdefault((entry.chain or "", entry.sender or ""), set()).add(entry.nonce or 0)
    for (chain, sender), nonces in mined.items():
        if chain == "origin":
            assert chain_nonce(node.rpc_url, sender) == len(nonces) == max(nonces) + 1, sender
    replaced = [e.action_id for e in journal.entries() if e.earlier_tx_hashes]
    assert replaced == ["2.gateway_stake.1"]
    figure(f"a round taken in part ({len(went_out)} sent, {len(refused)} refused at broadcast): resumed, "
           "verify passed, the refused one replaced at its own nonce, no action mined twice")
