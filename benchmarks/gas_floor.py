"""Gas used vs its floor, per kind of action of a real devnet deployment, counted from traces.

The floor of a transaction is what its state change cannot do without: the intrinsic gas (21,000,
or 53,000 for a deployment) and its calldata (16 gas a non-zero byte, 4 a zero byte), plus, from
`debug_traceTransaction` on anvil (struct logger), every SSTORE as charged (cold access included),
every LOG as charged, every contract creation (32,000 and 200 gas per byte of deployed code) and
every value transfer (9,000 less the 2,300 stipend, and 25,000 when it creates the account). The
ratio gas used / floor is then what the computation costs on top: hashing, proof checks, reads,
calls, ABI handling. Refunds (a cleared slot) are not taken off the floor.

Per-validator actions are measured two ways: a transaction per validator (approve, gateway stake,
mint) by its own ratio, and a transaction for all validators (Stake.initialize, K0's activation,
the hand-over) by the marginal ratio: (gas at N2 - gas at N1) / (floor at N2 - floor at N1).

    .venv/bin/python benchmarks/gas_floor.py [--sizes 4 16] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devnet_deploy import CLI, engine_revision, free_port

SSTORE, CREATES, CALLS = "SSTORE", ("CREATE", "CREATE2"), ("CALL",)
PER_VALIDATOR_TX = ("2.approve_stake", "2.approve_gateway", "2.gateway_stake", "4.mint")
ONE_FOR_ALL = ("2.initialize_stake", "4.prove_block_opening", "4.hand_over")
WHY = {
    "2.initialize_stake": "per validator: its entry, its place in the list, its origin address marked, the token "
                          "transfer's 3 writes and 2 events; on top: 2 token calls (allowance check, transferFrom), "
                          "reading it back for K0's hash",
    "4.prove_block_opening": "per validator: its PollingPlace entry and list slot; on top: calldata copied and "
                             "hashed for the kernel hash",
    "4.hand_over": "ProposerSet (aura's): checks each address against PollingPlace, then stores the set twice "
                   "(pending, and the list it signals)",
    "4.mint": "a Merkle-Patricia proof (about 8 nodes, keccak of each, RLP walks) checked on chain is computation "
              "the floor does not count; the proof itself is calldata (in the floor)",
    "2.gateway_stake": "message hash, nonce and allowance reads, a call to the token",
}


def rpc(url: str, method: str, params: list[Any], timeout: float = 300) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        answer = json.loads(reply.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def calldata_gas(data: bytes) -> int:
    return sum(16 if byte else 4 for byte in data)


@dataclass
class Measured:
    action_id: str
    gas_used: int
    floor: int
    parts: dict[str, int]


def measure(url: str, tx_hash: str, action_id: str) -> Measured:
    tx = rpc(url, "eth_getTransactionByHash", [tx_hash])
    receipt = rpc(url, "eth_getTransactionReceipt", [tx_hash])
    data = bytes.fromhex(tx["input"][2:])
    creates = tx.get("to") is None
    parts = {"intrinsic": 53_000 if creates else 21_000, "calldata": calldata_gas(data), "storage": 0, "logs": 0,
             "code": 0, "value": 0}
    if creates:
        code = rpc(url, "eth_getCode", [receipt["contractAddress"], receipt["blockNumber"]])
        parts["code"] += 200 * (len(code) - 2) // 2
    trace = rpc(url, "debug_traceTransaction", [tx_hash, {"disableMemory": True, "disableStorage": True,
                                                           "disableStack": False, "enableReturnData": False}])
    logs = trace["structLogs"]
    for index, step in enumerate(logs):
        op, cost = step["op"], int(step["gasCost"])
        if op == SSTORE:
            parts["storage"] += cost
        elif op.startswith("LOG"):
            parts["logs"] += cost
        elif op in CREATES:
            parts["code"] += 32_000
            # The created code's deposit: the depth returns to this one with the new address on the stack.
            following = next((s for s in logs[index + 1:] if s["depth"] == step["depth"]), None)
            if following is not None:
                address = "0x" + following["stack"][-1][2:].rjust(40, "0")[-40:]
                code = rpc(url, "eth_getCode", [address, receipt["blockNumber"]])
                parts["code"] += 200 * (len(code) - 2) // 2
        elif op in CALLS and int(step["stack"][-3], 16) > 0:
            parts["value"] += 9_000 - 2_300 + (25_000 if cost >= 25_000 else 0)
    return Measured(action_id, int(receipt["gasUsed"], 16), sum(parts.values()), parts)


def kind(action_id: str) -> str:
    return re.sub(r"\.(\d+|deployer|0x[0-9a-fA-F]{40}\.\d+)$", "", action_id)


def tracing_anvil(folder: Path) -> Path:
    """An `anvil` that records opcode steps (anvil answers debug_traceTransaction with an empty
    structLogs without --steps-tracing); the CLI uses it through MOSAIC_TUI_ANVIL."""
    from mosaic_tui import toolchain

    real = toolchain.anvil_path()
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "anvil"  # the devnet recognises its nodes by the name of the binary
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" "$@" --steps-tracing\n')
    wrapper.chmod(0o755)
    return wrapper


def deployment(work: Path, validators: int) -> dict[str, Measured]:
    """One devnet deployment; traces of the first transaction of every kind of action; nodes stopped."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "out"
    env = {**os.environ, "MOSAIC_TUI_DEVNET_DIR": str(work / "devnet"),
           "MOSAIC_TUI_ANVIL": str(tracing_anvil(work / "bin"))}
    command = [*CLI, "deploy", "--devnet", "--yes", "--validators", str(validators), "--out", str(out),
               "--origin-port", str(free_port()), "--auxiliary-port", str(free_port())]
    try:
        with (work / "deploy.log").open("w") as log:
            result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=3600, check=False)
        if result.returncode != 0:
            raise SystemExit(f"deploy of {validators} validators failed; see {work / 'deploy.log'}")
        from mosaic_tui.plan import load_plan

        plan = load_plan(out / "mosaic-plan.toml")
        urls = {"origin": plan.origin.rpc, "auxiliary": plan.auxiliary.rpc}
        journal = json.loads((out / "mosaic-plan.state.json").read_text())["actions"]
        measured: dict[str, Measured] = {}
        for action_id, entry in journal.items():
            if not entry.get("receipt") or kind(action_id) in measured:
                continue
            measured[kind(action_id)] = measure(urls[entry["chain"]], entry["tx_hash"], action_id)
        return measured
    finally:
        subprocess.run([*CLI, "devnet", "down"], env=env, capture_output=True, check=False, timeout=120)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[4, 16], help="two validator counts (default 4 16)")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    small, large = args.sizes
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mosaic-floor-") as scratch:
        work = args.work or Path(scratch)
        runs = {size: deployment(work / f"floor-{size}", size) for size in (small, large)}
    print(f"engine: {engine_revision()}; sizes {small} and {large}; {time.perf_counter() - started:.0f} s; "
          f"load {os.getloadavg()[0]:.1f}")
    print("\n| action | gas used | floor | ratio | floor: intrinsic + calldata + storage + logs + code + value |")
    print("|---|---:|---:|---:|---|")
    for name, m in runs[large].items():
        p = m.parts
        print(f"| {name} ({large} validators) | {m.gas_used:,} | {m.floor:,} | {m.gas_used / m.floor:.2f} | "
              f"{p['intrinsic']:,} + {p['calldata']:,} + {p['storage']:,} + {p['logs']:,} + {p['code']:,} + "
              f"{p['value']:,} |")
    print("\n| per validator | gas | floor | ratio | why above 1.3 (if) |")
    print("|---|---:|---:|---:|---|")
    for name in PER_VALIDATOR_TX:
        m = runs[large].get(name)
        if m:
            ratio = m.gas_used / m.floor
            print(f"| {name} (one tx each) | {m.gas_used:,} | {m.floor:,} | {ratio:.2f} | "
                  f"{WHY.get(name, '') if ratio > 1.3 else ''} |")
    for name in ONE_FOR_ALL:
        a, b = runs[small].get(name), runs[large].get(name)
        if a and b:
            gas, floor = (b.gas_used - a.gas_used) / (large - small), (b.floor - a.floor) / (large - small)
            ratio = gas / floor
            print(f"| {name} (marginal, {small}->{large}) | {gas:,.0f} | {floor:,.0f} | {ratio:.2f} | "
                  f"{WHY.get(name, '') if ratio > 1.3 else ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
