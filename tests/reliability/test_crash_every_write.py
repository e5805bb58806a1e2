"""Kill a 4-validator devnet deployment right after each of its journal writes in turn, and resume it.

docs/design.md ("The journal before the chain") promises that a restarted run rebroadcasts or adopts what the journal holds and never
signs a second transaction for the same action. The journal is written before every broadcast,
after it and after every receipt, so killing the process (SIGKILL: no cleanup, no finally) right
after each write is every point at which a real crash can leave a deployment. At each point the
same command runs again and must finish: `verify` passes, every sender's nonce equals the nonce an
uninterrupted run ends with, and the journal's transactions are exactly the ones the chains counted.

K is the number of journal writes of an uninterrupted run, counted, not assumed: the runner batches
writes (one per round of signatures, one per block of receipts), and the test follows whatever it
does. The devnet preparation (dev token, funding) is crashed too, though OIP-3 names steps 1-4.

Speed: the deploying process is a fork of this one (MOSAIC_TUI_CRASH_AFTER_WRITE=k kills it), and
every kill point starts from the same fresh origin chain, restored with anvil's evm_snapshot /
evm_revert (which drops the reverted blocks, their transactions and receipts, as checked below).
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui import deploy, devnet, events, verify
from mosaic_tui.journal import CRASH_ENV, Journal, journal_path
from tests.reliability.forked import run_forked
from tests.reliability.world import ledger, resent_actions

VALIDATORS = 4
MAX_REPORTED_FAILURES = 3  # stop after a few broken kill points: one is enough to fail, more are noise
PLAN = "mosaic-plan.toml"


def deploy_and_verify(plan_path: Path, devnet_dir: Path) -> dict[str, Any]:
    """The deployment as `mosaic-tui deploy --yes` runs it, then `verify`; runs in a forked child."""
    seen: list[events.Event] = []
    prepared = deploy.prepare(plan_path, devnet_dir=devnet_dir)
    deploy.execute(prepared, seen.append)
    checks = verify.run_checks(prepared.ctx.plan, prepared.ctx.journal.outputs())
    return {"signed": [e.action for e in seen if isinstance(e, events.TxSigned)],
            "rebroadcast": [e.action for e in seen if isinstance(e, events.TxSent) and e.rebroadcast],
            "checks": len(checks), "failed": [f"{c.name}: {c.detail}" for c in checks if not c.ok]}


def signed_transactions(plan_path: Path) -> dict[str, str]:
    return {e.action_id: e.tx_hash for e in Journal.load(journal_path(plan_path)).entries() if e.tx_hash}


class Origin:
    """The origin node, put back to its fresh state before each kill point."""

    def __init__(self, node: devnet.AnvilNode) -> None:
        self.url = node.rpc_url
        self.snapshot = devnet.rpc_call(self.url, "evm_snapshot")

    def restore(self) -> None:
        # anvil forgets a snapshot once reverted to it, so take it again for the next kill point.
        assert devnet.rpc_call(self.url, "evm_revert", [self.snapshot]) is True
        assert devnet.rpc_call(self.url, "eth_blockNumber") == "0x0"
        self.snapshot = devnet.rpc_call(self.url, "evm_snapshot")


def stop_recorded_nodes(devnet_dir: Path) -> None:
    """Stop what the run started (the auxiliary node); the shared origin node stays."""
    for name, node in devnet.load_record(devnet_dir).items():
        if name != "origin":
            node.stop()


def fresh_folder(plan_text: str, folder: Path, origin: devnet.AnvilNode) -> Path:
    """A deployment folder holding nothing but the plan (no journal, no exports), and the devnet record
    naming the origin node (a devnet plan runs only on a node the devnet record names)."""
    folder.mkdir(parents=True)
    (folder / PLAN).write_text(plan_text)
    devnet.add_node(folder / "devnet", origin)
    return folder / PLAN


def test_kill_after_every_journal_write_then_resume(anvil_factory: Any, tmp_path: Path, figure: Any,
                                                    stop_devnet_nodes: Any) -> None:
    node = anvil_factory()
    origin = Origin(node)
    deploy.write_devnet_plan(tmp_path / PLAN, VALIDATORS, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                             auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
    plan_text = (tmp_path / PLAN).read_text()

    # The uninterrupted run: the nonces every kill point must end with, and K. It runs in this
    # process, not a fork, so every later fork starts warm (dev keys derived, artifacts read).
    reference_plan = fresh_folder(plan_text, tmp_path / "reference", node)
    stop_devnet_nodes(tmp_path / "reference" / "devnet")
    reference = deploy_and_verify(reference_plan, tmp_path / "reference" / "devnet")
    assert reference["checks"] >= 15 and not reference["failed"], reference["failed"]
    expected_nonces, journalled = ledger(reference_plan)
    assert expected_nonces == journalled
    writes = Journal.load(journal_path(reference_plan)).sequence
    mined = {e.tx_hash for e in Journal.load(journal_path(reference_plan)).entries() if e.chain == "origin"}
    stop_recorded_nodes(tmp_path / "reference" / "devnet")
    origin.restore()
    # What makes reusing one origin node sound: the reverted chain has forgotten those transactions.
    assert all(devnet.rpc_call(node.rpc_url, "eth_getTransactionReceipt", [h]) is None for h in mined)

    started = time.monotonic()
    failures: list[str] = []
    kinds: Counter[str] = Counter()
    tried = recovered = duplicates = beyond = 0
    for k in range(1, writes + 1):
        if len(failures) >= MAX_REPORTED_FAILURES:
            break
        folder = tmp_path / f"k{k}"
        point_plan = fresh_folder(plan_text, folder, node)
        stop_devnet_nodes(folder / "devnet")
        try:
            point = kill_and_resume(k, point_plan, folder / "devnet", expected_nonces, reference["checks"])
        finally:
            stop_recorded_nodes(folder / "devnet")
            origin.restore()
        if point.outcome == "beyond":
            beyond += 1  # this run needed fewer writes than the reference (receipts batched differently)
            continue
        tried += 1
        if point.outcome == "recovered":
            recovered += 1
            kinds[in_flight_at_kill(point.at_kill)] += 1
            shutil.rmtree(folder)
        else:
            duplicates += point.duplicates
            failures.append(f"kill point {k}: {point.problem}")
    seconds = time.monotonic() - started
    figure(f"kill points: {tried} tried, {recovered} recovered, {duplicates} duplicate transactions "
           f"(K = {writes} journal writes of an uninterrupted {VALIDATORS}-validator devnet deployment"
           + (f", {beyond} beyond the end of a shorter run" if beyond else "") + "; killed "
           + ", ".join(f"{count} {kind}" for kind, count in kinds.most_common()) + f"; {seconds:.0f} s)")
    assert not failures, "\n".join(failures)
    # A run may batch its receipts into fewer writes than the reference did, by a write or two at the end.
    assert tried == recovered >= writes - 2 and beyond <= 2 and duplicates == 0


def in_flight_at_kill(journal: dict[str, Any]) -> str:
    """What the kill left in flight, read from the journal it left (for the figure)."""
    statuses = {entry["status"] for entry in journal["actions"].values()}
    if "signed" in statuses:
        return "with a signed transaction not yet broadcast"
    if "sent" in statuses:
        return "with broadcast transactions whose receipts were not recorded"
    return "with nothing in flight (after receipts, outputs, files, step done)"


@dataclass
class Point:
    outcome: str  # "recovered", "failed", or "beyond": the run finished in fewer than k writes
    at_kill: dict[str, Any] = field(default_factory=dict)  # the journal as the kill left it
    problem: str = ""
    duplicates: int = 0


def kill_and_resume(k: int, plan_path: Path, devnet_dir: Path, expected_nonces: dict[tuple[str, str], int],
                    expected_checks: int) -> Point:
    """One kill point: kill the run right after its k-th journal write, resume it, check everything."""
    killed = run_forked(lambda: deploy_and_verify(plan_path, devnet_dir), env={CRASH_ENV: str(k)}, timeout=60)
    if not killed.killed:
        finished = killed.exit_code == 0 and killed.error is None and not killed.value["failed"]
        if finished and Journal.load(journal_path(plan_path)).sequence < k:
            return Point("beyond")
        return Point("failed", problem=f"the run was not killed at write {k} (exit {killed.exit_code}): "
                                       f"{killed.error or killed.value}")
    at_kill = json.loads(journal_path(plan_path).read_text())
    if at_kill["sequence"] != k:
        return Point("failed", problem=f"killed with {at_kill['sequence']} writes on disk, expected {k}")
    signed_before = signed_transactions(plan_path)

    resumed = run_forked(lambda: deploy_and_verify(plan_path, devnet_dir), timeout=60)
    if resumed.error is not None or resumed.exit_code != 0:
        return Point("failed", problem=f"the resumed run did not finish: {resumed.error or resumed.signal}")
    report = resumed.value
    nonces, journalled = ledger(plan_path)
    extra = sum(nonces.values()) - sum(expected_nonces.values())
    resigned = sorted(set(report["signed"]) & set(signed_before))
    after = signed_transactions(plan_path)
    changed = sorted(action for action, tx_hash in signed_before.items() if after.get(action) != tx_hash)
    problems = []
    if report["checks"] != expected_checks or report["failed"]:
        problems.append(f"verify failed: {report['failed']}")
    if nonces != expected_nonces:
        problems.append(f"nonces {nonces} differ from the uninterrupted run's {expected_nonces}")
    if nonces != journalled:
        problems.append(f"the chains counted {nonces} transactions, the journal holds {journalled}")
    if resigned or changed or resent_actions(plan_path):
        problems.append(f"signed again: {resigned}, transaction replaced: {changed}, "
                        f"with earlier transactions: {resent_actions(plan_path)}")
    unconfirmed = [e.action_id for e in Journal.load(journal_path(plan_path)).entries() if e.status != "confirmed"]
    if unconfirmed:
        problems.append(f"not confirmed: {unconfirmed}")
    if problems:
        return Point("failed", problem="; ".join(problems), duplicates=max(extra, len(resigned)))
    return Point("recovered", at_kill=at_kill)
