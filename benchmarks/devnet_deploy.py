"""One real `mosaic-tui deploy --devnet` in a private devnet folder, and what its journal says.

The deployment benchmarks (deploy_latency.py, gas_per_step.py) measure the product as an operator
runs it: the CLI in a fresh process, on free ports, with its own MOSAIC_TUI_DEVNET_DIR so it never
touches anybody else's devnet, and `devnet down` for exactly that folder afterwards, whatever
happened. The figures come from the journal's receipts (block number and gas of every
transaction), not from the console output.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "mosaic_tui.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TxRecord:
    action_id: str
    chain: str
    sender: str
    block: int
    gas_used: int


@dataclass
class DeployRun:
    validators: int
    max_inflight: int | None
    block_time: float | None
    seconds: float  # wall time of the whole `deploy` command: devnet start, preflight, all steps
    out_dir: Path
    txs: list[TxRecord] = field(default_factory=list)
    verify: str = ""  # the last line of `mosaic-tui verify` when asked for

    def chains(self) -> list[str]:
        return [c for c in ("origin", "auxiliary") if any(t.chain == c for t in self.txs)]

    def blocks(self, chain: str) -> list[int]:
        """Distinct blocks that hold our transactions: one block round each."""
        return sorted({t.block for t in self.txs if t.chain == chain})

    def span(self, chain: str) -> int:
        """Blocks from the first to the last of our transactions, both included."""
        blocks = self.blocks(chain)
        return blocks[-1] - blocks[0] + 1 if blocks else 0

    def rounds(self) -> int:
        return sum(len(self.blocks(chain)) for chain in self.chains())

    def by_block(self, chain: str) -> dict[int, list[str]]:
        grouped: dict[int, list[str]] = defaultdict(list)
        for tx in self.txs:
            if tx.chain == chain:
                grouped[tx.block].append(tx.action_id)
        return dict(sorted(grouped.items()))


def read_journal(path: Path) -> list[TxRecord]:
    """Every confirmed transaction of the journal (local actions and skipped ones have no receipt)."""
    data = json.loads(path.read_text())
    records = []
    for action_id, entry in data["actions"].items():
        receipt = entry.get("receipt")
        if receipt:
            records.append(TxRecord(action_id, entry["chain"], entry["sender"], int(receipt["block_number"]),
                                    int(receipt["gas_used"])))
    return records


def deploy(work: Path, validators: int, *, block_time: float | None, max_inflight: int | None = None,
           timeout: float = 3600.0, verify: bool = False) -> DeployRun:
    """Run one devnet deployment under `work` (a fresh folder) and stop its nodes afterwards."""
    work.mkdir(parents=True, exist_ok=True)
    out_dir = work / "out"
    if out_dir.exists():  # the CLI would resume the old deployment instead of measuring a new one
        raise SystemExit(f"{out_dir} exists already; give an empty working folder")
    env = {**os.environ, "MOSAIC_TUI_DEVNET_DIR": str(work / "devnet")}
    # The deployment alone: no validator nodes (benchmarks/validator_finality.py measures those).
    command = [*CLI, "deploy", "--devnet", "--yes", "--no-validators", "--validators", str(validators), "--out",
               str(out_dir), "--origin-port", str(free_port()), "--auxiliary-port", str(free_port())]
    if block_time is not None:
        command += ["--block-time", str(block_time)]
    if max_inflight is not None:
        command += ["--max-inflight", str(max_inflight)]
    log = work / "deploy.log"
    started = time.perf_counter()
    try:
        with log.open("w") as handle:
            result = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout,
                                    check=False)
        seconds = time.perf_counter() - started
        checked = ""
        if verify and result.returncode == 0:
            done = subprocess.run([*CLI, "verify", str(out_dir / "mosaic-plan.toml")], env=env, capture_output=True,
                                  text=True, check=False, timeout=600)
            checked = (done.stdout.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            if done.returncode != 0:
                checked = f"FAILED (exit {done.returncode}): {checked}"
    finally:
        subprocess.run([*CLI, "devnet", "down"], env=env, capture_output=True, check=False, timeout=120)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise SystemExit(f"deploy of {validators} validators failed (exit {result.returncode}); {log}:\n{tail}")
    run = DeployRun(validators, max_inflight, block_time, seconds, out_dir, verify=checked)
    run.txs = read_journal(out_dir / "mosaic-plan.state.json")
    return run


def engine_revision() -> str:
    """The commit, and the engine files changed since it (results differ between runner versions)."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return result.stdout.rstrip() if result.returncode == 0 else "?"

    changed = [line[3:].removeprefix("mosaic_tui/") for line in git("status", "--porcelain", "--", "mosaic_tui").splitlines()]
    runner = hashlib.sha256((root / "mosaic_tui" / "runner.py").read_bytes()).hexdigest()[:12]
    text = f"commit {git('rev-parse', '--short', 'HEAD').strip()}, runner.py sha256 {runner}"
    return text + (f", uncommitted: {' '.join(changed)}" if changed else "")


def load_plan_roles(out_dir: Path) -> dict[str, str]:
    """Who sent what: sender address -> "deployer", "validator" or "proposer" (from the devnet plan)."""
    from mosaic_tui import deploy as engine
    from mosaic_tui import keys
    from mosaic_tui.plan import load_plan

    plan = load_plan(out_dir / "mosaic-plan.toml")
    roles: dict[str, Any] = {keys.dev_signer(0).address.lower(): "deployer",
                             keys.dev_signer(engine.DEV_PROPOSER_INDEX).address.lower(): "proposer"}
    for validator in plan.validators:
        roles[validator.origin_address.lower()] = "validator"
        roles[validator.auxiliary_address.lower()] = "validator"
    return roles
