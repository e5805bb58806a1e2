"""Validators per deployment: `mosaic-tui deploy --devnet --validators N` with the default gas limits
(30M gas per block on both devnet chains), then `mosaic-tui verify`, for each N.

Prints per size: wall time of the deploy command, transactions, block rounds per chain (distinct
blocks holding our transactions), how Stake's genesis and K0's activation were split (one
transaction, or chunks / parts), the largest gas one of them used, verify's verdict, and the load
average before and after (the wall time depends on it; the rounds and gas do not).

    .venv/bin/python benchmarks/scale_deploy.py [--sizes 4 64 256] [--block-time S] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from devnet_deploy import DeployRun, deploy, engine_revision

GENESIS = ("2.register_validators.", "2.initialize_stake")
OPENING = ("4.prove_kernel_opening", "4.activate_kernel_part.", "4.prove_block_opening")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def describe(run: DeployRun, before: str) -> str:
    genesis = [t for t in run.txs if t.action_id.startswith(GENESIS)]
    opening = [t for t in run.txs if t.action_id.startswith(OPENING)]
    rounds = " + ".join(f"{chain} {len(run.blocks(chain))}" for chain in run.chains())
    return (f"{run.validators:>4} validators: {run.seconds:6.1f} s, {len(run.txs)} txs, rounds {rounds} "
            f"= {run.rounds()}; Stake genesis {len(genesis)} tx (max {max(t.gas_used for t in genesis):,} gas), "
            f"K0 activation {len(opening)} tx (max {max(t.gas_used for t in opening):,} gas); "
            f"verify: {run.verify}; load {before} -> {load()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 64, 256])
    parser.add_argument("--block-time", type=float, default=None,
                        help="seconds per block (default: a block per transaction, the CLI's default)")
    parser.add_argument("--work", type=Path, default=None, help="keep plans, journals and logs here")
    args = parser.parse_args(argv)
    print(f"engine: {engine_revision()}; block time: {args.block_time or 'a block per transaction'}")
    with tempfile.TemporaryDirectory(prefix="mosaic-scale-") as scratch:
        work = args.work or Path(scratch)
        for size in args.sizes:
            before = load()
            run = deploy(work / f"scale-{size}", size, block_time=args.block_time, verify=True)
            print(describe(run, before), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
