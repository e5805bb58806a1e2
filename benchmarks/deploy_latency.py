"""How many block rounds and how much wall time a full devnet deployment takes, by number of validators.

For each size, deploys twice on fresh devnets, in the same run: with the default runner (every
action whose dependencies are met goes out at once) and with `--max-inflight 1` (one transaction at
a time, the way a plain script deploys). Prints, per run, the wall time of `mosaic-tui deploy`, the
transactions, and per chain the distinct blocks holding our transactions ("block rounds") and the
span from the first to the last of them; then the one-at-a-time / default ratio, and the targets:
the default needs the same number of rounds whatever the number of validators, at most 12 rounds
in all, and is at least 10x faster than one at a time at 64 validators.

    /tmp/venv0/bin/python benchmarks/deploy_latency.py [--sizes 4 16 64] [--block-time 1]
        [--modes default serial] [--detail] [--work DIR]

`--block-time 0` lets anvil mine a block per transaction (quick, for smoke runs; rounds then
count transactions, not dependency rounds). `--detail` lists which actions landed in which block
for the default runner, which is how a lost round is traced to a dependency or step boundary.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from devnet_deploy import DeployRun, deploy, engine_revision

MODES = {"default": None, "serial": 1}
ROUNDS_LIMIT = 12
SPEEDUP_TARGET = 10.0
SPEEDUP_AT = 64


def describe(run: DeployRun, mode: str) -> str:
    parts = [f"validators={run.validators:<3} mode={mode:<7} wall={run.seconds:7.1f}s txs={len(run.txs):<4}"]
    for chain in ("origin", "auxiliary"):
        blocks = run.blocks(chain)
        where = f"{blocks[0]}-{blocks[-1]}" if blocks else "-"
        parts.append(f"{chain}: rounds={len(blocks):<3} span={run.span(chain):<3} (blocks {where})")
    parts.append(f"rounds_total={run.rounds()}")
    return "deploy " + "  ".join(parts)


def action_kind(action_id: str) -> str:
    """`2.approve_stake.17` -> `2.approve_stake`; mints are keyed by address and nonce."""
    return re.sub(r"\.(\d+|0x[0-9a-fA-F]+(\.\d+)?|deployer)$", "", action_id)


def print_detail(run: DeployRun) -> None:
    for chain in run.chains():
        print(f"detail validators={run.validators} chain={chain}")
        for block, actions in run.by_block(chain).items():
            kinds = Counter(action_kind(a) for a in actions)
            print(f"  block {block:>4}: {len(actions):>4} txs  " + ", ".join(f"{k} x{n}" for k, n in kinds.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64], help="validator counts (default 4 16 64)")
    parser.add_argument("--block-time", type=float, default=1.0,
                        help="seconds per block on both devnet chains; 0 = a block per transaction (default 1)")
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=["default", "serial"],
                        help="default runner, and/or one transaction at a time (--max-inflight 1)")
    parser.add_argument("--detail", action="store_true", help="list the actions of every block (default runner)")
    parser.add_argument("--work", type=Path, default=None, help="keep plans, journals and logs here")
    args = parser.parse_args(argv)
    block_time = args.block_time or None

    with tempfile.TemporaryDirectory(prefix="mosaic-bench-") as scratch:
        work = args.work or Path(scratch)
        print(f"engine: {engine_revision()}")
        print(f"block time: {f'{block_time:g} s' if block_time else 'automine (a block per transaction)'}")
        runs: dict[tuple[int, str], DeployRun] = {}
        for size in args.sizes:
            for mode in args.modes:
                run = deploy(work / f"{size}-{mode}", size, block_time=block_time, max_inflight=MODES[mode])
                runs[size, mode] = run
                print(describe(run, mode), flush=True)
                if args.detail and mode == "default":
                    print_detail(run)
            if {"default", "serial"} <= set(args.modes):
                fast, slow = runs[size, "default"], runs[size, "serial"]
                print(f"ratio validators={size:<3} serial/default wall={slow.seconds / fast.seconds:5.1f}x  "
                      f"rounds {slow.rounds()}/{fast.rounds()}", flush=True)

    if block_time is None:
        print("targets: not judged; automine puts every transaction in its own block, so rounds only mean "
              "something with a block time")
        return 0
    if "default" in args.modes:
        rounds = {size: runs[size, "default"].rounds() for size in args.sizes}
        same = len(set(rounds.values())) == 1
        print(f"target same rounds for every size: {rounds} -> {'met' if same else 'NOT met'}")
        worst = max(rounds.values())
        print(f"target at most {ROUNDS_LIMIT} rounds: worst {worst} -> {'met' if worst <= ROUNDS_LIMIT else 'NOT met'}")
    if SPEEDUP_AT in args.sizes and {"default", "serial"} <= set(args.modes):
        ratio = runs[SPEEDUP_AT, "serial"].seconds / runs[SPEEDUP_AT, "default"].seconds
        verdict = "met" if ratio >= SPEEDUP_TARGET else "NOT met"
        print(f"target at least {SPEEDUP_TARGET:g}x faster than one at a time at {SPEEDUP_AT}: {ratio:.1f}x -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
