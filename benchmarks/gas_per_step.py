"""Gas of a real devnet deployment, per step, per kind of action and per contract deployment.

Runs `mosaic-tui deploy --devnet` once (4 validators unless told otherwise) and reads the gas of
every transaction from the journal's receipts. Origin gas is priced at 20 gwei (an assumption for
a busy mainnet day; the devnet itself charges its own base fee). Auxiliary gas is shown but costs
no ETH: step 4's transactions are paid in base coin (the kernel gas price) that the genesis gives the
initial proposer; step 3 sends nothing. Nothing is asserted; benchmarks/gas_origin.py has the origin contracts' calls in isolation.

    /tmp/venv0/bin/python benchmarks/gas_per_step.py [--validators 4] [--block-time S] [--work DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from devnet_deploy import DeployRun, TxRecord, deploy, load_plan_roles

ORIGIN_GWEI = 20
STEP_TITLES = {"0": "Devnet preparation", "1": "Origin contracts", "2": "Staking", "3": "Auxiliary chain",
               "4": "Initialize auxiliary"}
DEPLOYMENTS = {"0.deploy_ost": "EIP20Token (dev OST)", "1.deploy_origin_core": "OriginCore (its constructor deploys Stake)",
               "1.deploy_ost_gateway": "OSTGateway"}


def contract_of(action_id: str) -> str | None:
    if action_id in DEPLOYMENTS:
        return DEPLOYMENTS[action_id]
    if action_id.startswith("3.deploy."):
        from mosaic_tui.steps.common import AUXILIARY_OUTPUTS

        names = {output: name for name, output in AUXILIARY_OUTPUTS.items()}
        return names.get(action_id.split(".", 2)[2], action_id)
    return None


def kind_of(action_id: str) -> str:
    """`2.approve_stake.7` -> `2.approve_stake`; `4.mint.<staker>.<nonce>` -> `4.mint`."""
    return re.sub(r"\.(\d+|deployer|0x[0-9a-fA-F]{40}\.\d+)$", "", action_id)


def eth(gas: int, chain: str) -> float:
    return gas * ORIGIN_GWEI * 10**9 / 10**18 if chain == "origin" else 0.0


def print_tables(run: DeployRun) -> None:
    roles = load_plan_roles(run.out_dir)
    from mosaic_tui.contracts import SETTINGS, SOLC_VERSION

    optimizer = SETTINGS["optimizer"]
    print(f"validators: {run.validators}; compiler solc {SOLC_VERSION}, optimizer "
          f"{'enabled' if optimizer['enabled'] else 'disabled'}, runs {optimizer['runs']}, "
          f"evmVersion {SETTINGS['evmVersion']}, viaIR {'yes' if SETTINGS.get('viaIR') else 'no'}")
    print(f"prices: origin {ORIGIN_GWEI} gwei; auxiliary gas is paid in base coin, no ETH")

    print("\ncontract deployments")
    print(f"{'contract':<44} {'chain':<10} {'gas':>11} {'cost ETH':>10}")
    for tx in run.txs:
        name = contract_of(tx.action_id)
        if name:
            print(f"{name:<44} {tx.chain:<10} {tx.gas_used:>11,} {eth(tx.gas_used, tx.chain):>10.6f}")

    print("\nper kind of action")
    print(f"{'step':<4} {'action':<30} {'chain':<10} {'paid by':<10} {'txs':>4} {'gas each':>11} {'gas total':>11} "
          f"{'cost ETH':>10}")
    kinds: dict[tuple[str, str, str], list[TxRecord]] = defaultdict(list)
    for tx in run.txs:
        kinds[kind_of(tx.action_id), tx.chain, roles.get(tx.sender.lower(), "other")].append(tx)
    for (kind, chain, payer), txs in kinds.items():  # journal order: the order the actions were planned
        total = sum(t.gas_used for t in txs)
        each = f"{total // len(txs):,}" if len({t.gas_used for t in txs}) == 1 else f"~{total // len(txs):,}"
        print(f"{kind.split('.')[0]:<4} {kind.split('.', 1)[1]:<30} {chain:<10} {payer:<10} {len(txs):>4} {each:>11} "
              f"{total:>11,} {eth(total, chain):>10.6f}")

    print("\nper step")
    print(f"{'step':<4} {'title':<22} {'chain':<10} {'txs':>4} {'gas':>12} {'cost ETH':>10}")
    origin_total = auxiliary_total = 0
    steps: dict[tuple[str, str], list[TxRecord]] = defaultdict(list)
    for tx in run.txs:
        steps[tx.action_id.split(".")[0], tx.chain].append(tx)
    for (step, chain), txs in sorted(steps.items()):
        gas = sum(t.gas_used for t in txs)
        if chain == "origin":
            origin_total += gas
        else:
            auxiliary_total += gas
        print(f"{step:<4} {STEP_TITLES.get(step, '?'):<22} {chain:<10} {len(txs):>4} {gas:>12,} {eth(gas, chain):>10.6f}")
    print(f"total origin gas {origin_total:,} = {eth(origin_total, 'origin'):.6f} ETH at {ORIGIN_GWEI} gwei; "
          f"auxiliary gas {auxiliary_total:,} (cost 0)")
    deployer = sum(t.gas_used for t in run.txs if t.chain == "origin" and roles.get(t.sender.lower()) == "deployer")
    validator = sum(t.gas_used for t in run.txs if t.chain == "origin" and roles.get(t.sender.lower()) == "validator")
    print(f"origin paid by the deployer {eth(deployer, 'origin'):.6f} ETH, by each validator "
          f"{eth(validator, 'origin') / max(1, run.validators):.6f} ETH on average")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validators", type=int, default=4, help="validators of the devnet plan (default 4)")
    parser.add_argument("--block-time", type=float, default=0.0,
                        help="seconds per block; 0 = a block per transaction (default; gas does not depend on it)")
    parser.add_argument("--work", type=Path, default=None, help="keep the plan, journal and log here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mosaic-gas-") as scratch:
        run = deploy((args.work or Path(scratch)) / f"gas-{args.validators}", args.validators,
                     block_time=args.block_time or None)
        print_tables(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
