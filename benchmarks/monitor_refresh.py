"""How long one refresh of the validator monitor takes: batched reads against one call per value.

Starts two anvil nodes (origin, and an auxiliary node with Berlin rules at zero gas price), gives
N validators real on-chain state, then takes a batched and a one-call-per-value snapshot of the
same state, checks that both read the same rows and that those rows are what was set up, and
prints the wall times and their ratio. Target (issue 17): 10,000 validators under 1 s batched, and
the batched refresh at least 10x faster than one call per value.

    .venv/bin/python benchmarks/monitor_refresh.py [--validators N] [--repeat R] [--chunk C]

"batched" is what `mosaic-tui status` does: JSON-RPC batches, each validator's values read by
StatusReader calls (monitor.py); "batched, a request per value" is the way before StatusReader (a node
that refuses its calls gets it), and "one call per value" one HTTP request per value.

The state, and where speed won over realism (the monitor reads the same storage either way):
- origin: dev OST deployed; real token transfers of each validator's OST; real approvals sent by
  each validator (anvil impersonates them: they have no keys); a real `Stake.initialize` with all
  N validators, which opens K0 with them. ETH comes from `anvil_setBalance`.
- auxiliary: real `AuxiliaryBlockStore`, `PollingPlace` and `ProposerSet`, but the deployer stands
  in for `KernelGateway` and puts the N validators into `PollingPlace` with `updateMetaBlock`
  directly, instead of proving K0 from origin; then a real `ProposerSet.handOver`. Base coin is set
  with `anvil_setBalance` instead of minted by `OSTPrime`.
- Transactions are pipelined: both nodes run with `--no-mining`, every transaction of a stage goes
  out in one JSON-RPC batch, then `evm_mine` puts them into blocks and one batch reads the receipts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address

from mosaic_tui import devnet
from mosaic_tui.chain.batch import DEFAULT_CHUNK, AbiFunction, BatchClient, RpcFailure
from mosaic_tui.contracts import load_artifact
from mosaic_tui.monitor import Monitor
from mosaic_tui.runner import create_address

OST = 10**18
ORIGIN_CHAIN_ID = 1337
AUXILIARY_CHAIN_ID = 1000
GAS_LIMIT = 3_000_000_000  # one Stake.initialize, updateMetaBlock and handOver for all N validators (linear gas)
NODE_ARGS = ("--no-mining", "--gas-limit", str(GAS_LIMIT))
ETH_EACH = 10 * OST


@dataclass(frozen=True)
class BenchValidator:
    origin_address: str
    auxiliary_address: str
    stake: int
    ost: int  # OST transferred to the origin address (stake + some left over)
    base_coin: int


def address_of(label: str) -> str:
    # Addresses without keys: anvil impersonates the few that must send.
    return to_checksum_address(keccak(text=label)[12:])


def make_validators(count: int) -> list[BenchValidator]:
    return [BenchValidator(address_of(f"bench validator {i} origin"), address_of(f"bench validator {i} auxiliary"),
                           (i % 7 + 1) * 10 * OST, (i % 7 + 1) * 10 * OST + (i + 1) * OST, (i % 5 + 1) * OST)
            for i in range(count)]


class Chain:
    """Pipelined transactions on a --no-mining anvil node, through the same batch client the monitor uses."""

    def __init__(self, node: devnet.AnvilNode, chunk: int) -> None:
        self.node = node
        self.rpc = BatchClient(node.rpc_url, timeout=120, chunk=chunk)
        self.deployer = to_checksum_address(self.one("eth_accounts")[0])
        self.nonces: dict[str, int] = {}

    def one(self, method: str, params: Sequence[Any] = ()) -> Any:
        (answer,) = self.rpc.run([(method, list(params))])
        if isinstance(answer, RpcFailure):
            raise SystemExit(f"{method} failed: {answer.message}")
        return answer

    def all(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        answers = self.rpc.run(calls)
        failed = [answer.message for answer in answers if isinstance(answer, RpcFailure)]
        if failed:
            raise SystemExit(f"{len(failed)} of {len(calls)} requests failed, first: {failed[0]}")
        return answers

    def tx(self, sender: str, data: str, to: str | None = None, gas: int = 200_000) -> tuple[str, list[Any]]:
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        tx = {"from": sender, "data": data, "gas": hex(gas), "gasPrice": "0x0", "nonce": hex(nonce)}
        if to is not None:
            tx["to"] = to
        return "eth_sendTransaction", [tx]

    def mine_in_slices(self, txs: Sequence[tuple[str, list[Any]]], size: int = 1000) -> None:
        """`mine` a slice at a time: anvil's pool slows down badly with tens of thousands pending."""
        for start in range(0, len(txs), size):
            self.mine(txs[start:start + size])

    def mine(self, txs: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Send all, mine until every one has a receipt, and fail loudly if any reverted."""
        hashes = self.all(txs)
        receipts: list[Any] = [None] * len(hashes)
        for _ in range(100):
            self.one("evm_mine")
            waiting = [i for i, receipt in enumerate(receipts) if receipt is None]
            for i, receipt in zip(waiting, self.all([("eth_getTransactionReceipt", [hashes[i]]) for i in waiting]),
                                  strict=True):
                receipts[i] = receipt
            if all(receipts):
                break
        else:
            raise SystemExit("transactions were not mined")
        bad = [i for i, receipt in enumerate(receipts) if int(receipt["status"], 16) != 1]
        if bad:
            raise SystemExit(f"{len(bad)} of {len(txs)} transactions reverted")
        return receipts

    def deploy(self, name: str, *args: Any) -> str:
        from eth_abi import encode

        artifact = load_artifact(name)
        (constructor,) = [entry for entry in artifact["abi"] if entry["type"] == "constructor"]
        code = artifact["bytecode"].removeprefix("0x")
        data = "0x" + code + encode([p["type"] for p in constructor["inputs"]], list(args)).hex()
        (receipt,) = self.mine([self.tx(self.deployer, data, gas=GAS_LIMIT // 10)])
        return to_checksum_address(receipt["contractAddress"])

    def call(self, to: str, contract: str, name: str, *args: Any) -> tuple[Any, ...]:
        function = AbiFunction.from_abi(load_artifact(contract)["abi"], name)
        return function.decode(self.one("eth_call", [{"to": to, "data": function.encode(*args)}, "latest"]))


SYSTEM = "0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE"  # the address an AuRa engine sends system calls from


def fn(contract: str, name: str) -> AbiFunction:
    return AbiFunction.from_abi(load_artifact(contract)["abi"], name)


def set_up_origin(chain: Chain, validators: list[BenchValidator]) -> dict[str, str]:
    identifier = ORIGIN_CHAIN_ID.to_bytes(8, "big") + AUXILIARY_CHAIN_ID.to_bytes(12, "big")
    token = chain.deploy("EIP20Token", "Open Simple Token", "OST", 18, 10**9 * OST)
    core = chain.deploy("OriginCore", identifier, token, 0, bytes(32), OST, 10**9)
    (stake,) = chain.call(core, "OriginCore", "stake")
    stake = to_checksum_address(stake)
    chain.all([("anvil_setBalance", [v.origin_address, hex(ETH_EACH)]) for v in validators])
    chain.one("anvil_autoImpersonateAccount", [True])
    transfer, approve = fn("EIP20Token", "transfer"), fn("EIP20Token", "approve")
    chain.mine_in_slices([chain.tx(chain.deployer, transfer.encode(v.origin_address, v.ost), token, 80_000)
                          for v in validators]
                         + [chain.tx(v.origin_address, approve.encode(stake, v.stake), token, 80_000)
                            for v in validators])
    initialize = fn("Stake", "initialize").encode([v.origin_address for v in validators],
                                                   [v.auxiliary_address for v in validators],
                                                   [v.stake for v in validators])
    chain.mine([chain.tx(chain.deployer, initialize, stake, GAS_LIMIT // 2)])
    return {"ost": token, "origin_core": core, "stake": stake}


def set_up_auxiliary(chain: Chain, validators: list[BenchValidator]) -> dict[str, str]:
    deployer = chain.deployer
    nonce = int(chain.one("eth_getTransactionCount", [deployer, "latest"]), 16)
    polling_place = create_address(deployer, nonce + 1)
    genesis = chain.one("eth_getBlockByNumber", ["0x0", False])
    store = chain.deploy("AuxiliaryBlockStore", bytes.fromhex(genesis["hash"][2:]),
                         bytes.fromhex(genesis["stateRoot"][2:]), 0, 0, 4, polling_place)
    origin_store = address_of("origin block store stand-in")
    # The deployer stands in for KernelGateway, so it may call updateMetaBlock without a proof.
    deployed = chain.deploy("PollingPlace", ORIGIN_CHAIN_ID.to_bytes(8, "big") + bytes(12),
                            ORIGIN_CHAIN_ID.to_bytes(8, "big") + AUXILIARY_CHAIN_ID.to_bytes(12, "big"),
                            origin_store, store, deployer)
    assert deployed == polling_place, "PollingPlace landed away from its precomputed address"
    proposer_set = chain.deploy("ProposerSet", deployer, polling_place)
    auxiliary = [v.auxiliary_address for v in validators]
    update = fn("PollingPlace", "updateMetaBlock").encode(auxiliary, [v.stake for v in validators], 0,
                                                          keccak(text="bench kernel"))
    chain.mine([chain.tx(deployer, update, polling_place, GAS_LIMIT // 2)])
    # The AuRa engine's finalizeChange (as SYSTEM) enables the contract, and later enacts the handed-over set.
    chain.one("anvil_autoImpersonateAccount", [True])
    finalize = "0x" + keccak(text="finalizeChange()")[:4].hex()
    chain.mine([chain.tx(SYSTEM, finalize, proposer_set, GAS_LIMIT // 2)])  # copying the set grows with it
    chain.mine([chain.tx(deployer, fn("ProposerSet", "handOver").encode(auxiliary), proposer_set, GAS_LIMIT // 2)])
    chain.mine([chain.tx(SYSTEM, finalize, proposer_set, GAS_LIMIT // 2)])  # copying the set grows with it
    chain.all([("anvil_setBalance", [v.auxiliary_address, hex(v.base_coin)]) for v in validators])
    # The chains votes name (as monitor_addresses gives them), so each validator's last votes are read too.
    return {"polling_place": polling_place, "proposer_set": proposer_set,
            "core_identifier": "0x" + (ORIGIN_CHAIN_ID.to_bytes(8, "big") + AUXILIARY_CHAIN_ID.to_bytes(12, "big")).hex(),
            "origin_core_identifier": "0x" + ORIGIN_CHAIN_ID.to_bytes(8, "big").hex() + "00" * 12}


def check_rows(snapshot: Any, validators: list[BenchValidator], origin: Chain) -> None:
    """The rows hold what was set up (ETH is what is left after paying for the approval)."""
    eth = origin.all([("eth_getBalance", [v.origin_address, "latest"]) for v in validators])
    for row, validator, wei in zip(snapshot.rows, validators, eth, strict=True):
        expected = (validator.stake, validator.ost - validator.stake, int(wei, 16), validator.base_coin, True,
                    validator.stake, True, 0, 0)
        got = (row.stake_weight, row.ost_balance, row.eth_balance, row.base_coin_balance, row.in_polling_place,
               row.polling_place_weight, row.in_proposer_set, row.last_vote, row.last_origin_vote)
        if got != expected:
            raise SystemExit(f"validator {row.index} reads {got}, expected {expected}")
    if snapshot.errors:
        raise SystemExit("snapshot errors: " + " / ".join(snapshot.errors))


def median(snapshots: list[Any]) -> Any:
    return sorted(snapshots, key=lambda snapshot: snapshot.seconds)[len(snapshots) // 2]


def run(count: int, chunk: int, repeat: int) -> int:
    started = time.perf_counter()
    origin_node = devnet.start_anvil(name="origin", chain_id=ORIGIN_CHAIN_ID, base_fee=0, extra_args=NODE_ARGS)
    aux_node = None
    try:
        aux_node = devnet.start_anvil(name="auxiliary", chain_id=AUXILIARY_CHAIN_ID, hardfork="berlin",
                                      accounts=1, extra_args=(*NODE_ARGS, "--gas-price", "0"))
        origin, auxiliary = Chain(origin_node, chunk), Chain(aux_node, chunk)
        validators = make_validators(count)
        addresses = set_up_origin(origin, validators) | set_up_auxiliary(auxiliary, validators)
        print(f"validators: {count}")
        print(f"setup: {time.perf_counter() - started:.1f} s")
        with Monitor(origin_node.rpc_url, aux_node.rpc_url, validators, addresses, chunk=chunk) as monitor:
            monitor.snapshot()  # warm-up: connections, artifacts, ABI selectors
            # The machine is shared: the median of a few refreshes says more than any one of them.
            batched_runs = [monitor.snapshot() for _ in range(repeat)]
            if monitor.reader_refused:
                print(f"StatusReader calls refused: {monitor.reader_refused}")
            # The batched way before StatusReader: every value its own eth_call, in batches.
            monitor.reader_refused.update(origin="benchmark", auxiliary="benchmark")
            value_runs = [monitor.snapshot() for _ in range(repeat)]
            single_runs = [monitor.snapshot(batched=False) for _ in range(repeat)]
        batched, values, single = median(batched_runs), median(value_runs), median(single_runs)
        print(f"batched:            {batched.seconds:.3f} s in {batched.http_requests} HTTP requests"
              f" (median of {repeat})")
        print(f"batched, a request per value: {values.seconds:.3f} s in {values.http_requests} HTTP requests"
              f" (median of {repeat})")
        print(f"one call per value: {single.seconds:.3f} s in {single.http_requests} HTTP requests"
              f" (median of {repeat})")
        ratio = single.seconds / batched.seconds if batched.seconds else float("inf")
        print(f"ratio:              {ratio:.1f}x")
        identical = all(run.rows == batched.rows for run in (*batched_runs, *value_runs, *single_runs))
        print(f"rows identical: {'yes' if identical else 'NO'}")
        if not identical:
            return 1
        check_rows(batched, validators, origin)
        print(f"values checked against the chain: {count} validators")
        if count >= 1000:
            met = batched.seconds < 1.0 and ratio >= 10
            print(f"target (under 1 s batched, at least 10x): {'met' if met else 'NOT met'}")
        return 0
    finally:
        if aux_node is not None:
            aux_node.stop()
        origin_node.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validators", type=int, default=1000, help="how many validators (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="refreshes timed per way (default %(default)s)")
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="requests per batch (default %(default)s)")
    args = parser.parse_args(argv)
    if args.validators < 1 or args.repeat < 1 or args.chunk < 1:
        parser.error("--validators, --repeat and --chunk must be at least 1")
    return run(args.validators, args.chunk, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
