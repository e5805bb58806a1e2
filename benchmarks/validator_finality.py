"""The validator nodes on a devnet: time to the first committed meta-block, finality lag, gas per validator.

Runs the real `mosaic-tui deploy --devnet --validators N` (1 s blocks; it starts one validator node per
validator) in a private devnet folder and measures, from the moment the command starts:
- the first committed meta-block on origin (OriginCore.head() with a kernel hash) and the first
  finalised auxiliary checkpoint;
- the finality lag on both chains (head minus latest finalised checkpoint, in blocks and seconds of
  block time), sampled once a second over --watch seconds;
- the gas each validator pays per committed meta-block, from the receipts of every transaction its
  two addresses sent during the watch: on origin (proposals, meta-block votes) and on the auxiliary
  chain (header reports, checkpoint votes, kernel proofs), split into reporter and non-reporter.
Ends with `devnet down` for its own folder, whatever happened.

    python benchmarks/validator_finality.py [--validators 4 16] [--watch 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.devnet_deploy import CLI, engine_revision, free_port  # noqa: E402

TARGET_SECONDS = 30.0


def contracts(out: Path) -> dict[str, Any]:
    from web3 import Web3

    from mosaic_tui.contracts import load_artifact

    deployed = tomllib.loads((out / "deployment.toml").read_text())
    origin = Web3(Web3.HTTPProvider(deployed["origin"]["rpc"]))
    aux = Web3(Web3.HTTPProvider(deployed["auxiliary"]["rpc"]))

    def on(w3: Any, name: str, address: str) -> Any:
        return w3.eth.contract(address=address, abi=load_artifact(name)["abi"])

    return {"origin": origin, "aux": aux, "deployed": deployed,
            "core": on(origin, "OriginCore", deployed["origin"]["origin_core"]),
            "aux_store": on(aux, "AuxiliaryBlockStore", deployed["auxiliary"]["auxiliary_block_store"]),
            "origin_store": on(aux, "OriginBlockStore", deployed["auxiliary"]["origin_block_store"])}


def committed(world: dict[str, Any]) -> int | None:
    head = world["core"].functions.head().call()
    return None if bytes(head[1]) == bytes(32) else int(head[0])


def gas_by_sender(w3: Any, first: int, last: int) -> dict[str, tuple[int, int]]:
    """sender -> (gas used, fee paid in wei) over blocks first..last."""
    totals: dict[str, tuple[int, int]] = {}
    for number in range(first, last + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block.transactions:
            receipt = w3.eth.get_transaction_receipt(tx.hash)
            gas, fee = totals.get(tx["from"], (0, 0))
            totals[tx["from"]] = (gas + receipt.gasUsed, fee + receipt.gasUsed * receipt.effectiveGasPrice)
    return totals


def run(validators: int, watch: float, work: Path) -> dict[str, Any]:
    out = work / "out"
    env = {key: value for key, value in os.environ.items() if key != "MOSAIC_TUI_NO_VALIDATORS"}
    env["MOSAIC_TUI_DEVNET_DIR"] = str(work / "devnet")
    command = [*CLI, "deploy", "--devnet", "--yes", "--validators", str(validators), "--block-time", "1",
               "--out", str(out), "--origin-port", str(free_port()), "--auxiliary-port", str(free_port())]
    started = time.monotonic()
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        deployed_after = time.monotonic() - started
        if result.returncode != 0:
            raise SystemExit(f"deploy failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        world = contracts(out)
        first_final = first_commit = None
        while first_commit is None and time.monotonic() - started < 300:
            if first_final is None and world["aux_store"].functions.latestFinalisedHeight().call() > 0:
                first_final = time.monotonic() - started
            if committed(world) is not None:
                first_commit = time.monotonic() - started
            time.sleep(0.2)
        if first_final is None:
            first_final = first_commit
        origin_start, aux_start = world["origin"].eth.block_number, world["aux"].eth.block_number
        commits_start = committed(world) or 0
        lags: dict[str, list[tuple[int, int]]] = {"auxiliary": [], "origin": []}
        watch_end = time.monotonic() + watch
        while time.monotonic() < watch_end:
            for name, w3, store in (("auxiliary", world["aux"], world["aux_store"]),
                                    ("origin", world["origin"], world["origin_store"])):
                head = w3.eth.get_block("latest")
                final = store.functions.latestFinalisedHeight().call()
                final_time = w3.eth.get_block(final)["timestamp"]
                lags[name].append((head["number"] - final, head["timestamp"] - final_time))
            time.sleep(1.0)
        commits = (committed(world) or 0) - commits_start
        origin_gas = gas_by_sender(world["origin"], origin_start + 1, world["origin"].eth.block_number)
        aux_gas = gas_by_sender(world["aux"], aux_start + 1, world["aux"].eth.block_number)
        members = world["deployed"]["validators"]
    finally:
        subprocess.run([*CLI, "devnet", "down"], env=env, capture_output=True, check=False, timeout=120)
    per_validator = []
    for member in members:
        origin_used, origin_fee = origin_gas.get(member["origin_address"], (0, 0))
        aux_used, aux_fee = aux_gas.get(member["auxiliary_address"], (0, 0))
        per_validator.append((origin_used, origin_fee, aux_used, aux_fee))
    return {"validators": validators, "deployed": deployed_after, "first_final": first_final,
            "first_commit": first_commit, "commits": commits, "watch": watch, "lags": lags,
            "per_validator": per_validator}


def summary(figures: dict[str, Any]) -> list[str]:
    commits = max(1, figures["commits"])
    lines = [f"validators {figures['validators']}: deploy --devnet done after {figures['deployed']:.1f} s; "
             f"first finalised auxiliary checkpoint {figures['first_final']:.1f} s; first committed meta-block "
             f"{figures['first_commit']:.1f} s (target < {TARGET_SECONDS:.0f} s: "
             f"{'met' if figures['first_commit'] < TARGET_SECONDS else 'NOT met'})",
             f"  over {figures['watch']:.0f} s: {figures['commits']} meta-blocks committed"]
    for name, samples in figures["lags"].items():
        blocks = [b for b, _ in samples]
        seconds = [s for _, s in samples]
        lines.append(f"  {name} finality lag: median {statistics.median(blocks):.0f} blocks "
                     f"({statistics.median(seconds):.0f} s), max {max(blocks)} blocks ({max(seconds)} s)")
    reporter, *others = figures["per_validator"]
    for label, rows in (("reporter (validator 1)", [reporter]), ("each other validator (mean)", others or [reporter])):
        origin_used = statistics.mean(r[0] for r in rows) / commits
        origin_fee = statistics.mean(r[1] for r in rows) / commits
        aux_used = statistics.mean(r[2] for r in rows) / commits
        aux_fee = statistics.mean(r[3] for r in rows) / commits
        lines.append(f"  gas per meta-block, {label}: origin {origin_used:,.0f} gas ({origin_fee / 1e18:.6f} ETH "
                     f"at the devnet's fees), auxiliary {aux_used:,.0f} gas ({aux_fee / 1e18:.6f} base coin)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--validators", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--watch", type=float, default=60.0, help="seconds of lag and gas sampling after the first commit")
    args = parser.parse_args()
    print(f"engine: {engine_revision()}")
    for count in args.validators:
        with tempfile.TemporaryDirectory(prefix="validator-bench-") as work:
            for line in summary(run(count, args.watch, Path(work))):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
