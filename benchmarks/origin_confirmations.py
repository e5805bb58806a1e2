"""Deployment time with geth --dev as the origin chain, and what waiting for confirmations costs.

Each run is one whole deployment through the engine (what `mosaic-tui deploy PLAN --yes` does) on a
fresh geth --dev node sealing a block a second (the pinned test tool, `mosaic-tui tools install`),
with keystore validators funded by geth's unlocked developer account (the deployer, `node` in the
plan) and the auxiliary chain on anvil started from the generated genesis by a stand-in operator.
Runs differ only in origin.confirmations. Printed per run: wall time, the time step 2 spent waiting
for the set-up block (from its first "set-up block ..." notice to the end of step 2), and the extra
wall time against the run with 0 confirmations.

    python benchmarks/origin_confirmations.py [--validators 2] [--confirmations 0 12 finalized]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mosaic_tui import devnet, events, keys  # noqa: E402
from tests.origin.conftest import Operator, make_origin_world, run_deployment, world_plan, write_plan  # noqa: E402
from tests.origin.geth import start_geth  # noqa: E402
from tests.reliability.world import PASSPHRASE  # noqa: E402


def one_run(base: Path, validators: int, confirmations: int | str) -> dict[str, Any]:
    directory = base / f"run-{confirmations}"
    directory.mkdir()
    geth = start_geth(directory / "geth", period=1)
    started: list[devnet.AnvilNode] = []

    def anvil_factory(**kwargs: Any) -> devnet.AnvilNode:
        node = devnet.start_anvil(**kwargs)
        started.append(node)
        return node

    operator = Operator(anvil_factory)
    try:
        world = make_origin_world(geth.w3, geth.rpc_url, directory, validators)
        plan_path = write_plan(directory, world_plan(world, confirmations=confirmations))
        operator.watch(plan_path)
        marks: dict[str, float] = {}

        def hook(event: events.Event) -> None:
            now = time.monotonic()
            if isinstance(event, events.Waiting) and event.reason.startswith("set-up block"):
                marks.setdefault("wait", now)
            if isinstance(event, events.StepDone):
                marks[f"done{event.step}"] = now

        start = time.monotonic()
        deployed = run_deployment(plan_path, hook)
        wall = time.monotonic() - start
        failed = deployed.failed_checks()
        if failed:
            raise SystemExit(f"verify failed after the run with {confirmations} confirmations: {failed}")
        waited = marks["done2"] - marks["wait"] if "wait" in marks else 0.0
        return {"confirmations": confirmations, "wall": wall, "waited": waited,
                "setup_block": deployed.outputs["setup_block_number"]}
    finally:
        operator.stop.set()
        for thread in operator.threads:
            thread.join(30)
        for node in started:
            node.stop()
        geth.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--validators", type=int, default=2)
    parser.add_argument("--confirmations", nargs="+", default=["0", "12", "finalized"])
    args = parser.parse_args(argv)
    os.environ.setdefault(keys.PASSPHRASE_ENV, PASSPHRASE)
    wanted = [int(c) if c.isdigit() else c for c in args.confirmations]
    results = []
    with tempfile.TemporaryDirectory(prefix="mosaic-origin-bench-") as base:
        for confirmations in wanted:
            results.append(one_run(Path(base), args.validators, confirmations))
    baseline = next((r["wall"] for r in results if r["confirmations"] == 0), None)
    for r in results:
        extra = "" if baseline is None else f" extra={r['wall'] - baseline:+6.1f}s"
        print(f"geth-dev validators={args.validators} confirmations={r['confirmations']!s:<9} "
              f"wall={r['wall']:6.1f}s setup_wait={r['waited']:5.1f}s{extra}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
