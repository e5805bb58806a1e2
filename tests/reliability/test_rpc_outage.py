"""The origin RPC goes away in the middle of step 2, loses answers, or forgets a pending transaction.

docs/design.md: an RPC node that restarts or drops a connection must not end a deployment; the run waits
(telling the operator, a "wait" line in the CLI), retries, and completes. A transaction the node
lost is sent again byte for byte (same nonce, same hash), never signed a second time.

The faults are real: a TCP proxy of ours between the deployment and anvil resets connections or
throws answers away (proxy.py); anvil itself drops a pending transaction from its pool.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import deploy, devnet, events, verify
from mosaic_tui.console import ConsolePrinter
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from tests.reliability.proxy import FaultyProxy
from tests.reliability.world import ledger, resent_actions

OUTAGE = 10.0
VALIDATORS = 2


@pytest.fixture
def proxy_factory() -> Iterator[Callable[[int], FaultyProxy]]:
    started: list[FaultyProxy] = []

    def start(port: int) -> FaultyProxy:
        proxy = FaultyProxy(port).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


class Run:
    """One headless deployment in this process, printing what the CLI prints, with a hook per event."""

    def __init__(self, directory: Path, origin_url: str, chain_id: int) -> None:
        self.plan = directory / "mosaic-plan.toml"
        self.devnet_dir = directory / "devnet"
        deploy.write_devnet_plan(self.plan, VALIDATORS, origin_url=origin_url, origin_chain_id=chain_id,
                                 auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
        self.output = io.StringIO()
        self.printer = ConsolePrinter(self.output)
        self.seen: list[tuple[float, events.Event]] = []
        self.hook: Callable[[events.Event], None] = lambda event: None

    def emit(self, event: events.Event) -> None:
        self.seen.append((time.monotonic(), event))
        self.printer(event)
        self.hook(event)

    def wait_notice(self, text: str) -> None:
        # Exactly what `mosaic-tui deploy` does with the engine's waiting notices.
        self.emit(events.Waiting("-", text))

    def execute(self) -> None:
        prepared = deploy.prepare(self.plan, on_wait=self.wait_notice, devnet_dir=self.devnet_dir)
        deploy.execute(prepared, self.emit)

    def when(self, kind: type, step: str) -> float:
        return next(t for t, e in self.seen if isinstance(e, kind) and getattr(e, "step", None) == step)

    def assert_complete_and_verified(self) -> int:
        checks = verify.run_checks(load_plan(self.plan), Journal.load(journal_path(self.plan)).outputs())
        assert [c for c in checks if not c.ok] == []
        nonces, journalled = ledger(self.plan)
        assert nonces == journalled, "the chains counted other transactions than the journal holds"
        assert resent_actions(self.plan) == []
        return len(checks)


def first_step_2_broadcast(run: Run, action: Callable[[events.TxSent], None]) -> None:
    """Call `action` once, right after the first transaction of step 2 went out."""
    def hook(event: events.Event) -> None:
        if isinstance(event, events.TxSent) and event.step == "2" and not fired:
            fired.append(event)
            action(event)
    fired: list[events.TxSent] = []
    run.hook = hook


def test_origin_unreachable_for_ten_seconds_in_step_2(anvil_factory: Any, proxy_factory: Any, tmp_path: Path,
                                                      figure: Any, stop_devnet_nodes: Any) -> None:
    node = anvil_factory()
    proxy = proxy_factory(node.port)
    run = Run(tmp_path, proxy.url, node.chain_id)
    stop_devnet_nodes(run.devnet_dir)
    devnet.add_node(run.devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    outage: dict[str, float] = {}

    def restore() -> None:
        proxy.restore()
        outage["end"] = time.monotonic()

    def cut(event: events.TxSent) -> None:
        proxy.cut()
        outage["start"] = time.monotonic()
        threading.Timer(OUTAGE, restore).start()

    first_step_2_broadcast(run, cut)
    run.execute()

    printed = run.output.getvalue()
    waits = [line for line in printed.splitlines() if line.startswith("  wait  the origin RPC")]
    assert waits, printed
    assert outage["end"] - outage["start"] >= OUTAGE
    assert proxy.refused > 0, "nothing tried the origin while it was unreachable"
    # Step 2 finished only after the origin came back: the run waited through the outage, it did not skip it.
    assert run.when(events.StepStarted, "2") < outage["start"] < outage["end"] < run.when(events.StepDone, "2")
    assert "FAIL" not in printed
    passed = run.assert_complete_and_verified()
    figure(f"origin RPC unreachable for {outage['end'] - outage['start']:.1f} s in step 2: "
           f"{proxy.refused} connections reset, {len(waits)} wait notice(s), run completed, verify {passed}/{passed}")


def test_broadcast_whose_answers_are_lost(anvil_factory: Any, proxy_factory: Any, tmp_path: Path, figure: Any,
                                          stop_devnet_nodes: Any) -> None:
    """The node gets the transaction and mines it, but its answer never arrives, twice: the retried
    broadcast then meets the node's "nonce too low" (geth says so for a mined transaction)."""
    node = anvil_factory()
    proxy = proxy_factory(node.port)
    run = Run(tmp_path, proxy.url, node.chain_id)
    stop_devnet_nodes(run.devnet_dir)
    devnet.add_node(run.devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    first_step_2_broadcast(run, lambda event: proxy.lose_answers(b"eth_sendRawTransaction", 2))
    run.execute()

    assert proxy.lost == 2
    run.assert_complete_and_verified()
    run.seen, run.hook = [], lambda event: None
    run.execute()  # the same command again: everything is done, nothing may be signed
    assert not [e for _, e in run.seen if isinstance(e, events.TxSigned)], "a second run signed again"
    figure(f"{proxy.lost} broadcast answers lost after the node took the transaction: run completed, "
           "0 transactions signed twice")


def test_transaction_the_node_dropped_is_sent_again_with_the_same_nonce(anvil_factory: Any, tmp_path: Path,
                                                                        figure: Any, stop_devnet_nodes: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from mosaic_tui import runner

    # Without the look-up the run would wait for a receipt that never comes; fail in 30 s, not 600.
    monkeypatch.setattr(runner, "RECEIPT_TIMEOUT", 30.0)
    # A block a second, so a transaction of step 2 is still pending when anvil is told to drop it.
    node = anvil_factory(block_time=1)
    run = Run(tmp_path, node.rpc_url, node.chain_id)
    stop_devnet_nodes(run.devnet_dir)
    devnet.add_node(run.devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    dropped: dict[str, tuple[str, float]] = {}

    def drop(event: events.Event) -> None:
        # anvil answers None when the transaction was mined already; then the next one of step 2 is dropped.
        if isinstance(event, events.TxSent) and event.step == "2" and not event.rebroadcast and not dropped \
                and devnet.rpc_call(node.rpc_url, "anvil_dropTransaction", [event.tx_hash]) is not None:
            assert devnet.rpc_call(node.rpc_url, "eth_getTransactionByHash", [event.tx_hash]) is None
            dropped[event.action] = (event.tx_hash, time.monotonic())

    run.hook = drop
    run.execute()

    assert len(dropped) == 1, "no transaction of step 2 was still pending to drop"
    [(action, (tx_hash, at))] = dropped.items()
    resent = [(t, e) for t, e in run.seen if isinstance(e, events.TxSent) and e.rebroadcast]
    first = {e.action: (t, e.tx_hash) for t, e in reversed(resent)}
    assert first[action][1] == tx_hash
    # A round goes out as one batch, so the sender's later transactions may sit queued behind the gap and
    # be sent again too: always the journalled bytes (same hash), never a new signature.
    journal = Journal.load(journal_path(run.plan))
    for other, (_, other_hash) in first.items():
        other_entry = journal.entry(other)
        assert other_entry is not None and other_entry.tx_hash == other_hash and not other_entry.earlier_tx_hashes
    resent = [(first[action][0], next(e for _, e in resent if e.action == action))]
    entry = journal.entry(action)
    assert entry is not None and entry.status == "confirmed" and entry.tx_hash == tx_hash
    mined = devnet.rpc_call(node.rpc_url, "eth_getTransactionByHash", [tx_hash])
    assert int(mined["nonce"], 16) == entry.nonce and mined["blockNumber"] is not None
    assert "resend" in run.output.getvalue()
    run.assert_complete_and_verified()
    figure(f"dropped {action} ({tx_hash[:10]}…, nonce {entry.nonce}) from the node's pool: sent again "
           f"{resent[0][0] - at:.1f} s later with the same nonce and hash; run completed, 0 signed twice")
