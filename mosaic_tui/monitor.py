"""Validator status snapshots: what both chains hold for every planned validator, read in batches.

An operator watching a deployment (or a running meta-blockchain) wants one table: per validator
its stake weight on origin, its OST and ETH, its base coin on the auxiliary chain, and whether
`PollingPlace` and `ProposerSet` list it. With ten thousand validators that is 60,000 values, so
each chain is read in a constant number of JSON-RPC batch requests (`chain.batch`), and the values
each validator has (balances, `Stake.weight`, last votes) are not one `eth_call` each: a few
`eth_call`s of `StatusReader`'s creation code (contracts/tools/StatusReader.sol, never deployed) read
them for hundreds of validators at once. A value StatusReader cannot give (a call that reverts, a
value too large for its 16 bytes) is read again on its own, and a node that refuses such calls gets
one request per value from then on (`Monitor.reader_refused`), so what a snapshot shows never
depends on the way it was read. `batched=False` keeps one HTTP request per value for comparison.

Each chain is read at one block: its head first, then every value pinned to that block number, so
a row never mixes two states of a chain. That is three requests for the auxiliary chain and three for
origin (`Stake.weight` needs the open kernel height first, the block stores' heights their heads)
and one more per chain for the time of its finalised checkpoint; more when a batch exceeds `chunk`.

A snapshot never raises for a chain problem: a chain that does not answer leaves its columns
unknown (None) and puts a sentence in that chain's errors; a contract that is not deployed yet
(no address in the outputs) just leaves its column unknown. `format_table` renders the plain text
of `mosaic-tui status PLAN --once`; the TUI panel renders the same Snapshot rows.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from eth_utils import keccak

from mosaic_tui import units
from mosaic_tui.chain.batch import (
    DEFAULT_TIMEOUT,
    AbiFunction,
    BatchClient,
    RpcFailure,
    RpcTransportError,
    balance_request,
    call_request,
)
from mosaic_tui.contracts import load_artifact

# The outputs (COMMON.md "Deployment outputs") the monitor reads from.
ADDRESS_KEYS = ("ost", "stake", "polling_place", "proposer_set", "origin_core", "origin_block_store",
                "auxiliary_block_store", "kernel_gateway")
# Gas of one PollingPlace vote as the validator node sends it (a vote that justifies costs up to
# about 135,000; benchmarks/validator_finality.py measures it), for the runway column.
VOTE_GAS = 135_000
SILENT_EPOCHS = 2  # a validator this many checkpoints behind the others is called silent
STALL_EPOCHS = 4  # finality this many epochs behind the chain's head is called stalled ...
STALL_BLOCKS = 20  # ... and at least this many blocks (short devnet epochs finalise in bursts)
DAY = 86_400


class PlannedValidator(Protocol):
    """What the monitor needs of a validator; `plan.ValidatorPlan` is one."""

    @property
    def origin_address(self) -> str: ...

    @property
    def auxiliary_address(self) -> str: ...

    @property
    def stake(self) -> int: ...


@dataclass(frozen=True)
class ValidatorStatus:
    """One validator as the chains hold it; None where a value is unknown."""

    index: int
    origin_address: str
    auxiliary_address: str
    planned_stake: int
    stake_weight: int | None = None  # Stake.weight(openHeight, auxiliary address) on origin
    ost_balance: int | None = None  # OST held by the origin address
    eth_balance: int | None = None  # ETH held by the origin address
    base_coin_balance: int | None = None  # base coin held by the auxiliary address
    in_polling_place: bool | None = None
    polling_place_weight: int | None = None  # 0 when PollingPlace does not list it
    in_proposer_set: bool | None = None
    last_vote: int | None = None  # PollingPlace.lastTargetHeight on auxiliary checkpoints
    last_origin_vote: int | None = None  # ... and on origin checkpoints
    votes_missed: int | None = None  # auxiliary checkpoints behind the validator that voted highest
    runway: int | None = None  # votes its base coin still pays for at the current gas price


@dataclass(frozen=True)
class Finality:
    """One chain's checkpoints as its block store on the auxiliary chain holds them (heights)."""

    chain: str
    epoch_length: int | None = None
    reported: int | None = None
    justified: int | None = None
    finalised: int | None = None
    head: int | None = None  # the chain's own latest block
    lag_blocks: int | None = None  # head - finalised
    lag_seconds: int | None = None  # age of the finalised checkpoint at the head's time


@dataclass(frozen=True)
class MetaStatus:
    """The meta-blockchain: finality on both chains, meta-blocks on origin, kernels on both."""

    origin: Finality
    auxiliary: Finality
    committed_height: int | None = None  # OriginCore.head().height; None before the first commit
    open_kernel: int | None = None  # OriginCore.openKernelHeight()
    active_kernel: int | None = None  # KernelGateway.activeKernelHeight(); None before K0 is proven
    gas_price: int | None = None  # the auxiliary chain's gas price (eth_gasPrice)
    total_weight: int | None = None  # PollingPlace weights, all validators
    voting_weight: int | None = None  # ... of those not silent


@dataclass(frozen=True)
class ChainStatus:
    name: str  # "origin" or "auxiliary"
    url: str | None
    chain_id: int | None = None
    block_number: int | None = None  # the block every value of this chain was read at
    block_timestamp: int | None = None
    errors: tuple[str, ...] = ()

    @property
    def reachable(self) -> bool:
        return self.block_number is not None

    def with_errors(self, errors: Sequence[str]) -> ChainStatus:
        return replace(self, errors=(*self.errors, *errors))


@dataclass(frozen=True)
class Snapshot:
    rows: tuple[ValidatorStatus, ...]
    origin: ChainStatus
    auxiliary: ChainStatus
    kernel_height: int | None = None  # Stake.openHeight: the kernel open in OriginCore
    proposers: tuple[str, ...] | None = None  # ProposerSet.getValidators()
    taken_at: float = 0.0  # time.time() when the snapshot was complete
    seconds: float = 0.0  # how long taking it took
    http_requests: int = 0
    meta: MetaStatus | None = None
    votes_per_day: float | None = None  # checkpoints a validator votes on per day, both chains

    @property
    def errors(self) -> list[str]:
        return [*self.origin.errors, *self.auxiliary.errors]

    @property
    def warnings(self) -> list[str]:
        return snapshot_warnings(self)


@functools.cache
def _function(contract: str, name: str) -> AbiFunction:
    return AbiFunction.from_abi(load_artifact(contract)["abi"], name)


def _quantity(value: Any) -> int:
    return int(value, 16)  # anything but hex text raises ValueError or TypeError, which _Round reports


class _Round:
    """Reads of one chain sent together; each answer is decoded and stored where its row wants it,
    and failures are gathered per kind of read so a thousand failed reads make one sentence."""

    def __init__(self, chain: str) -> None:
        self.chain = chain
        self._requests: list[tuple[str, list[Any]]] = []
        self._handlers: list[tuple[str | None, Callable[[Any], Any], Callable[[Any], None]]] = []
        self._counted: dict[str, int] = {}  # reads of a label done elsewhere, for the "N of M" sentences

    def add(self, label: str, request: tuple[str, list[Any]], decode: Callable[[Any], Any],
            store: Callable[[Any], None]) -> None:
        self._requests.append(request)
        self._handlers.append((label, decode, store))

    def add_raw(self, request: tuple[str, list[Any]], handle: Callable[[Any], None]) -> None:
        """`handle` gets the answer as it comes, an RpcFailure included, and reports nothing itself."""
        self._requests.append(request)
        self._handlers.append((None, _same, handle))

    def count(self, label: str, reads: int) -> None:
        """`reads` more reads of `label` were done (and answered) outside this round."""
        self._counted[label] = self._counted.get(label, 0) + reads

    def call(self, label: str, to: str, function: AbiFunction, args: Sequence[Any], block: int | str,
             store: Callable[[Any], None]) -> None:
        """`store` gets the decoded answer: the value itself for a function with one output, else a tuple."""
        decode = (lambda data: function.decode(data)[0]) if len(function.outputs) == 1 else function.decode
        self.add(label, call_request(to, function, args, block), decode, store)

    def balance(self, label: str, address: str, block: int, store: Callable[[Any], None]) -> None:
        self.add(label, balance_request(address, block), _quantity, store)

    def send(self, client: BatchClient, batched: bool) -> list[str]:
        if not self._requests:
            return []
        answers = client.run(self._requests, batched=batched)
        totals: dict[str, int] = dict(self._counted)
        failures: dict[str, list[str]] = {}
        for (label, decode, store), answer in zip(self._handlers, answers, strict=True):
            if label is None:
                store(answer)
                continue
            totals[label] = totals.get(label, 0) + 1
            try:
                if isinstance(answer, RpcFailure):
                    raise ValueError(answer.message)
                store(decode(answer))
            except (ValueError, TypeError, KeyError) as error:
                failures.setdefault(label, []).append(str(error))
        return [f"{self.chain} chain: {label} failed for {len(reasons)} of {totals[label]} reads ({reasons[0]})."
                if totals[label] > 1 else f"{self.chain} chain: {label} failed ({reasons[0]})."
                for label, reasons in failures.items()]


def _checksummed(addresses: Sequence[str]) -> tuple[str, ...]:
    # eth_abi decodes addresses in lower case; everything we show is in EIP-55 form.
    return tuple(_checksum(address.removeprefix("0x")) for address in addresses)


# A keccak per address is 0.14 s for 10,000 ProposerSet members; the set hardly changes between refreshes.
_checksum = functools.lru_cache(maxsize=1 << 16)(units.checksum_address)


def _put(mapping: dict[str, Any], key: str) -> Callable[[Any], None]:
    return lambda value: mapping.__setitem__(key, value)


def _setter(column: list[Any], index: int) -> Callable[[Any], None]:
    return lambda value: column.__setitem__(index, value)


def _read_head(client: BatchClient, name: str, batched: bool) -> tuple[ChainStatus, list[str]]:
    head: dict[str, Any] = {}
    first = _Round(name)
    first.add("eth_chainId", ("eth_chainId", []), _quantity, lambda value: head.__setitem__("chain_id", value))
    first.add("the latest block", ("eth_getBlockByNumber", ["latest", False]), dict,
              lambda block: head.update(number=_quantity(block["number"]), timestamp=_quantity(block["timestamp"])))
    errors = first.send(client, batched)
    status = ChainStatus(name, client.url, head.get("chain_id"), head.get("number"), head.get("timestamp"))
    return status, errors


def _same(value: Any) -> Any:
    return value


# --- per-validator reads: StatusReader calls, one request per value where those cannot be made ------

@dataclass(frozen=True)
class _AccountRead:
    """One value per validator: the balance of one of its accounts (no function), or a view call whose
    last argument is that account and whose answer is one uint256 (`args` go before it)."""

    label: str  # as the per-value read names it in error sentences
    column: str
    account: int  # which of the validator's accounts: its origin address (0) or auxiliary address (1)
    to: str | None = None
    function: AbiFunction | None = None
    args: tuple[Any, ...] = ()

    def add_to(self, reads: _Round, accounts: Sequence[str], block: int, store: Callable[[Any], None]) -> None:
        """The read as one JSON-RPC request of its own."""
        if self.function is None:
            reads.balance(self.label, accounts[self.account], block, store)
        else:
            assert self.to is not None
            reads.call(self.label, self.to, self.function, (*self.args, accounts[self.account]), block, store)


# StatusReader (contracts/tools/StatusReader.sol) answers each value in 16 bytes, this one meaning "not
# read here". Its return data is a creation's code: EIP-170 bounds it to 24,576 bytes and it costs
# 200 gas a byte; EIP-3860 bounds the creation code with its arguments to 49,152 bytes.
READER_UNREAD = 2**128 - 1
READER_MAX_RETURN = 24_576
READER_MAX_INITCODE = 49_152
# Gas one call may use. The smallest default cap among the nodes operators run: geth's RPCGasCap,
# 50,000,000 (eth/ethconfig/config.go); Nethermind's JsonRpc.GasCap is 100,000,000
# (src/Nethermind/Nethermind.JsonRpc/IJsonRpcConfig.cs); anvil gives a call its block gas limit (30M by
# default); EIP-7825 (Osaka) caps a transaction at 2^24. A fifth of geth's cap stays under all of them
# and under the 10M gas limit of a small auxiliary chain.
READER_GAS_BUDGET = 10_000_000
# Estimated gas per value read, and the code deposit per value returned. They are about twice what
# anvil measures (benchmarks/monitor_refresh.py, eth_estimateGas of each call: a validator's OST and
# ETH 13,900 gas with their deposit, its weight 9,800, its base coin and two last votes 21,100).
READER_GAS_PER_BALANCE = 6_000
READER_GAS_PER_CALL = 15_000
READER_GAS_PER_VALUE_RETURNED = 16 * 200


@functools.cache
def _reader_code() -> str:
    return str(load_artifact("StatusReader")["bytecode"])


def _reader_rows_per_call(reads: Sequence[_AccountRead], width: int) -> int:
    """How many validators one StatusReader call reads, within the limits above."""
    code = len(_reader_code()) // 2 + 32 * (8 + 5 * len(reads))  # the code, the arguments' heads, the reads
    gas = sum(READER_GAS_PER_BALANCE if read.function is None else READER_GAS_PER_CALL for read in reads)
    gas += READER_GAS_PER_VALUE_RETURNED * len(reads) + 20 * 16  # the values returned, the accounts sent
    return max(1, min((READER_MAX_RETURN - 32) // (16 * len(reads)),
                      (READER_MAX_INITCODE - code) // (20 * width) - 1,
                      (READER_GAS_BUDGET - 200_000) // gas))


class _ReaderPass:
    """One round's per-validator reads as StatusReader calls (`eth_call` of its creation code, no `to`,
    at the round's block), each reading a chunk of validators. The values a call could not read (a
    call that reverted or did not answer one word) and the chunks a node refused are read again one
    request per value afterwards (`follow_up`), so every value and every error sentence is what the
    per-value reads give."""

    def __init__(self, reads: Sequence[_AccountRead], accounts: Sequence[Sequence[str]],
                 columns: dict[str, list[Any]]) -> None:
        self.reads = tuple(reads)
        self.accounts = accounts
        self.columns = columns
        self.unread: list[tuple[int, int]] = []  # (validator, read), in the per-value order
        self.refusals: list[str] = []  # what the node said when it did not run a call

    def add_to(self, round_: _Round, block: int, rows_per_call: int) -> None:
        from eth_abi import encode

        used = sorted({read.account for read in self.reads})  # only the accounts some read needs are sent
        specs: list[tuple[str | None, bytes, bool, int, int]] = []
        for read in self.reads:
            if read.function is None:
                specs.append(("0x" + "00" * 20, bytes(4), False, 0, used.index(read.account)))
                continue
            data = bytes.fromhex(read.function.encode(*read.args, "0x" + "00" * 20)[2:])
            prefix = data[4:-32]  # the arguments before the account: at most one word
            assert read.function.outputs == ("uint256",) and len(prefix) in (0, 32), read.label
            specs.append((read.to, data[:4], bool(prefix), int.from_bytes(prefix or bytes(32), "big"),
                          used.index(read.account)))
        code = _reader_code()
        for first in range(0, len(self.accounts), rows_per_call):
            rows = self.accounts[first:first + rows_per_call]
            packed = b"".join(bytes.fromhex(row[index][2:]) for row in rows for index in used)
            arguments = encode(["(address,bytes4,bool,uint256,uint8)[]", "uint256", "bytes"],
                               [specs, len(used), packed])
            request = ("eth_call", [{"data": code + arguments.hex()}, hex(block)])
            round_.add_raw(request, functools.partial(self._answer, first, len(rows)))

    def _answer(self, first: int, count: int, answer: Any) -> None:
        cells = count * len(self.reads)
        data = b""
        if isinstance(answer, RpcFailure):
            self.refusals.append(answer.message)
        elif isinstance(answer, str) and answer.startswith("0x"):
            with contextlib.suppress(ValueError):
                data = bytes.fromhex(answer[2:])
        if len(data) != 32 + 16 * cells or int.from_bytes(data[:32], "big") != count:
            if not isinstance(answer, RpcFailure):
                self.refusals.append(f"StatusReader answered {len(data)} bytes for {count} validators")
            self.unread += [(first + row, read) for row in range(count) for read in range(len(self.reads))]
            return
        targets = [self.columns[read.column] for read in self.reads]
        offset = 32
        for row in range(first, first + count):
            for read, column in enumerate(targets):
                value = int.from_bytes(data[offset:offset + 16], "big")
                offset += 16
                if value == READER_UNREAD:
                    self.unread.append((row, read))
                else:
                    column[row] = value

    def follow_up(self, chain: str, block: int) -> _Round:
        """The values not read yet, one request each; their error sentences count every validator."""
        again = _Round(chain)
        unread = sorted(self.unread)  # per validator, then per read: the order of the per-value round
        for row, index in unread:
            read = self.reads[index]
            read.add_to(again, self.accounts[row], block, _setter(self.columns[read.column], row))
        # The values StatusReader did read count too, so a sentence says "failed for N of M reads" as the
        # per-value round would.
        for read in self.reads:
            again.count(read.label, len(self.accounts))
        for _, index in unread:
            again.count(self.reads[index].label, -1)
        return again


class Monitor:
    """Takes snapshots of the validators again and again over the same kept-alive connections.

    `addresses` may be replaced between snapshots as a deployment gets further.
    """

    def __init__(self, origin_url: str, auxiliary_url: str | None, validators: Sequence[PlannedValidator],
                 addresses: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT, chunk: int | None = None,
                 votes_per_day: float | None = None) -> None:
        self.validators = tuple(validators)
        self.votes_per_day = votes_per_day
        self.addresses = dict(addresses)
        self._origin = BatchClient(origin_url, timeout=timeout, chunk=chunk)
        self._auxiliary = BatchClient(auxiliary_url, timeout=timeout, chunk=chunk) if auxiliary_url else None
        # The chains are independent, so their reads overlap; each of the two threads owns one client.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="monitor")
        self._accounts = tuple((v.origin_address, v.auxiliary_address) for v in self.validators)
        # Per chain: why its node does not run StatusReader calls (then every value is one request
        # from the next snapshot on), and by how much chunks were made smaller after a call ran out of gas.
        self.reader_refused: dict[str, str] = {}
        self._reader_shrink: dict[str, int] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._origin.close()
        if self._auxiliary is not None:
            self._auxiliary.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def snapshot(self, *, batched: bool = True) -> Snapshot:
        started = time.perf_counter()
        before = self._requests_sent()
        origin_future = self._pool.submit(self._read_origin, batched)
        auxiliary_future = self._pool.submit(self._read_auxiliary, batched)
        origin, origin_columns, kernel_height, origin_meta = origin_future.result()
        auxiliary, auxiliary_columns, proposers, auxiliary_meta = auxiliary_future.result()
        columns = origin_columns | auxiliary_columns
        meta = self._meta(origin, auxiliary, origin_meta, auxiliary_meta, columns, batched)
        rows = tuple(
            ValidatorStatus(index, v.origin_address, v.auxiliary_address, v.stake,
                            **{key: column[index] for key, column in columns.items()})
            for index, v in enumerate(self.validators))
        return Snapshot(rows, origin, auxiliary, kernel_height, proposers, time.time(),
                        time.perf_counter() - started, self._requests_sent() - before, meta, self.votes_per_day)

    def _meta(self, origin: ChainStatus, auxiliary: ChainStatus, origin_meta: dict[str, Any],
              auxiliary_meta: dict[str, Any], columns: dict[str, list[Any]], batched: bool) -> MetaStatus | None:
        """Finality, meta-blocks and kernels; fills the vote columns (missed votes, runway) in `columns`."""
        if not origin_meta and not auxiliary_meta:
            return None
        finality = {}
        for name, chain, client in (("origin", origin, self._origin), ("auxiliary", auxiliary, self._auxiliary)):
            store = auxiliary_meta.get(f"store {name}", {})
            head, finalised = chain.block_number, store.get("finalised")
            lag_blocks = head - finalised if head is not None and finalised is not None else None
            lag_seconds = None
            if lag_blocks is not None and client is not None and chain.block_timestamp is not None:
                stamp = _block_timestamp(client, finalised, batched)
                lag_seconds = max(0, chain.block_timestamp - stamp) if stamp is not None else None
            justified = store.get("justified")
            if finalised is not None and (justified is None or justified < finalised):
                justified = finalised
            finality[name] = Finality(name, store.get("epoch"), store.get("reported"), justified, finalised, head,
                                      lag_blocks, lag_seconds)
        votes = columns.get("last_vote", [])
        known = [vote for vote in votes if vote is not None]
        epoch = finality["auxiliary"].epoch_length or 1
        weights = columns.get("polling_place_weight", [None] * len(votes))
        voting = 0
        highest = max(known, default=0)
        for index, vote in enumerate(votes):
            if vote is None:
                continue
            missed = (highest - vote) // epoch
            columns["votes_missed"][index] = missed
            if missed < SILENT_EPOCHS:
                voting += weights[index] or 0
        price = auxiliary_meta.get("gas_price")
        if price:
            for index, balance in enumerate(columns.get("base_coin_balance", [])):
                if balance is not None:
                    columns["runway"][index] = balance // (VOTE_GAS * price)
        head = origin_meta.get("head")
        committed = int(head[0]) if head is not None and bytes(head[1]) != bytes(32) else None
        active = self._active_kernel(auxiliary_meta)
        total = auxiliary_meta.get("total_weight")
        return MetaStatus(finality["origin"], finality["auxiliary"], committed, origin_meta.get("open_kernel"),
                          active, price, total, voting if known else None)

    def _requests_sent(self) -> int:
        return self._origin.http_requests + (self._auxiliary.http_requests if self._auxiliary else 0)

    def _read_origin(self, batched: bool) -> tuple[ChainStatus, dict[str, list[Any]], int | None, dict[str, Any]]:
        count = len(self.validators)
        meta: dict[str, Any] = {}
        columns: dict[str, list[Any]] = {"stake_weight": [None] * count, "ost_balance": [None] * count,
                                         "eth_balance": [None] * count}
        stake, ost = self.addresses.get("stake"), self.addresses.get("ost")
        heights: dict[str, int] = {}
        try:
            status, errors = _read_head(self._origin, "origin", batched)
            if status.block_number is None:
                return status.with_errors(errors), columns, None, meta
            block = status.block_number
            reads = _Round("origin")
            core = self.addresses.get("origin_core")
            if core:
                reads.call("OriginCore.head", core, _function("OriginCore", "head"), (), block,
                           lambda value: meta.__setitem__("head", value))
                reads.call("OriginCore.openKernelHeight", core, _function("OriginCore", "openKernelHeight"), (), block,
                           lambda value: meta.__setitem__("open_kernel", value))
            if stake:
                reads.call("Stake.openHeight", stake, _function("Stake", "openHeight"), (), block,
                           lambda value: heights.__setitem__("open", value))
            balances = [_AccountRead("eth_getBalance", "eth_balance", 0)]
            if ost:
                balances.insert(0, _AccountRead("OST balanceOf", "ost_balance", 0, ost,
                                                _function("EIP20Token", "balanceOf")))
            errors += self._send_with_accounts(reads, self._origin, block, balances, columns, batched)
            if stake and "open" in heights:
                # The weight read needs the open height, so it is a second round at the same block.
                weight = _AccountRead("Stake.weight", "stake_weight", 1, stake, _function("Stake", "weight"),
                                      (heights["open"],))
                errors += self._send_with_accounts(_Round("origin"), self._origin, block, [weight], columns,
                                                   batched)
        except RpcTransportError as error:
            return (ChainStatus("origin", self._origin.url, errors=(f"origin chain: {error}",)), _unknown(columns), None,
                    {})
        return status.with_errors(errors), columns, heights.get("open"), meta

    def _read_auxiliary(self, batched: bool
                        ) -> tuple[ChainStatus, dict[str, list[Any]], tuple[str, ...] | None, dict[str, Any]]:
        count = len(self.validators)
        columns: dict[str, list[Any]] = {"base_coin_balance": [None] * count, "in_polling_place": [None] * count,
                                         "polling_place_weight": [None] * count, "in_proposer_set": [None] * count,
                                         "last_vote": [None] * count, "last_origin_vote": [None] * count,
                                         "votes_missed": [None] * count, "runway": [None] * count}
        meta: dict[str, Any] = {}
        client = self._auxiliary
        if client is None:
            return ChainStatus("auxiliary", None), columns, None, meta
        polling_place, proposer_set = self.addresses.get("polling_place"), self.addresses.get("proposer_set")
        found: dict[str, Any] = {}
        try:
            status, errors = _read_head(client, "auxiliary", batched)
            if status.block_number is None:
                return status.with_errors(errors), columns, None, meta
            block = status.block_number
            reads = _Round("auxiliary")
            self._meta_reads(reads, block, meta)
            if polling_place:
                reads.call("PollingPlace.getValidators", polling_place, _function("PollingPlace", "getValidators"),
                           (), block, lambda decoded: found.__setitem__("polling", decoded))
            if proposer_set:
                reads.call("ProposerSet.getValidators", proposer_set, _function("ProposerSet", "getValidators"),
                           (), block, lambda value: found.__setitem__("proposers", _checksummed(value)))
            per_validator = [_AccountRead("PollingPlace.lastTargetHeight", column, 1, polling_place,
                                          _function("PollingPlace", "lastTargetHeight"),
                                          (bytes.fromhex(identifier[2:]),))
                             for column, identifier in (("last_vote", self.addresses.get("core_identifier")),
                                                        ("last_origin_vote", self.addresses.get("origin_core_identifier")))
                             if polling_place and identifier]
            per_validator.append(_AccountRead("eth_getBalance", "base_coin_balance", 1))
            errors += self._send_with_accounts(reads, client, block, per_validator, columns, batched)
            heads = _Round("auxiliary")
            for name in ("origin", "auxiliary"):
                store, found_store = self.addresses.get(f"{name}_block_store"), meta.get(f"store {name}")
                if store and found_store is not None and "head" in found_store:
                    heads.call(f"{name} block store heightOf", store, _function("OriginBlockStore", "heightOf"),
                               (found_store["head"],), block,
                               _put(found_store, "reported"))
            errors += heads.send(client, batched)
        except RpcTransportError as error:
            return (ChainStatus("auxiliary", client.url, errors=(f"auxiliary chain: {error}",)), _unknown(columns), None,
                    {})
        if "polling" in found:
            listed, weights = found["polling"]
            weight_of = {address.lower(): weight for address, weight in zip(listed, weights, strict=True)}
            for index, validator in enumerate(self.validators):
                weight = weight_of.get(validator.auxiliary_address.lower(), 0)
                columns["in_polling_place"][index] = weight > 0
                columns["polling_place_weight"][index] = weight
        proposers = found.get("proposers")
        if proposers is not None:
            members = {address.lower() for address in proposers}
            for index, validator in enumerate(self.validators):
                columns["in_proposer_set"][index] = validator.auxiliary_address.lower() in members
        return status.with_errors(errors), columns, proposers, meta

    def _meta_reads(self, reads: _Round, block: int, meta: dict[str, Any]) -> None:
        """Block stores, kernel gateway, gas price and PollingPlace's total weight, in the same round."""
        for name in ("origin", "auxiliary"):
            store = self.addresses.get(f"{name}_block_store")
            if not store:
                continue
            found: dict[str, Any] = {}
            meta[f"store {name}"] = found
            for label, key in (("head", "head"), ("latestFinalisedHeight", "finalised"), ("epochLength", "epoch")):
                reads.call(f"{name} block store {label}", store, _function("OriginBlockStore", label), (), block,
                           _put(found, key))
            reads.add(f"{name} block store justifications", ("eth_getLogs", [{
                "address": store, "fromBlock": hex(max(0, block - JUSTIFIED_LOOKBACK)), "toBlock": hex(block),
                "topics": ["0x" + _JUSTIFIED_TOPIC.hex()]}]), _highest_justified,
                _put(found, "justified"))
        gateway = self.addresses.get("kernel_gateway")
        if gateway:
            reads.call("KernelGateway.getActiveKernelHash", gateway, _function("KernelGateway", "getActiveKernelHash"),
                       (), block, lambda value: meta.__setitem__("active_hash", value))
            reads.call("KernelGateway.activeKernelHeight", gateway, _function("KernelGateway", "activeKernelHeight"),
                       (), block, lambda value: meta.__setitem__("active_height", value))
        reads.add("eth_gasPrice", ("eth_gasPrice", []), _quantity, lambda value: meta.__setitem__("gas_price", value))
        place = self.addresses.get("polling_place")
        if place:
            reads.call("PollingPlace.totalWeight", place, _function("PollingPlace", "totalWeight"), (), block,
                       _put(meta, "total_weight"))

    def _send_with_accounts(self, reads: _Round, client: BatchClient, block: int, per_validator: Sequence[_AccountRead],
                            columns: dict[str, list[Any]], batched: bool) -> list[str]:
        """Sends `reads` with every validator's `per_validator` values after them: in StatusReader calls
        when batched and the node runs them, else one request per value, as `batched=False` always does."""
        chain = reads.chain
        if not batched or chain in self.reader_refused or not self._accounts:
            for index, accounts in enumerate(self._accounts):
                for read in per_validator:
                    read.add_to(reads, accounts, block, _setter(columns[read.column], index))
            return reads.send(client, batched)
        shrink = self._reader_shrink.get(chain, 1)
        rows = max(1, _reader_rows_per_call(per_validator, len({read.account for read in per_validator})) // shrink)
        reader = _ReaderPass(per_validator, self._accounts, columns)
        reader.add_to(reads, block, rows)
        errors = reads.send(client, batched)
        if reader.refusals:
            # Remembered, so the next snapshots do not ask again: a call that ran out of gas (a node
            # with a lower cap) makes chunks half as large; anything else means the node does not run
            # them (a provider that forbids calls without `to`, say) and values go one request each.
            reason = reader.refusals[0]
            if "gas" in reason.lower() and rows > 16:
                self._reader_shrink[chain] = shrink * 2
            else:
                self.reader_refused[chain] = reason
        return errors + reader.follow_up(chain, block).send(client, batched)

    @staticmethod
    def _active_kernel(meta: dict[str, Any]) -> int | None:
        if "active_hash" not in meta or bytes(meta["active_hash"]) == bytes(32):
            return None
        return meta.get("active_height")


JUSTIFIED_LOOKBACK = 5_000  # auxiliary blocks searched for the latest CheckpointJustified event
_JUSTIFIED_TOPIC = keccak(text="CheckpointJustified(bytes32,bytes32,uint256)")


def _highest_justified(logs: Any) -> int | None:
    heights = [int(entry["data"][2:66], 16) for entry in logs if len(entry.get("data", "")) >= 66]
    return max(heights) if heights else None


def _block_timestamp(client: BatchClient, number: int, batched: bool) -> int | None:
    try:
        answers = client.run([("eth_getBlockByNumber", [hex(number), False])], batched=batched)
    except RpcTransportError:
        return None
    answer = answers[0]
    if isinstance(answer, RpcFailure) or not isinstance(answer, dict):
        return None
    return _quantity(answer["timestamp"])


def _unknown(columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    # A chain that stopped answering mid-way must not show half of a snapshot as if it were whole.
    return {key: [None] * len(column) for key, column in columns.items()}


def take_snapshot(origin_url: str, auxiliary_url: str | None, validators: Sequence[PlannedValidator],
                  addresses: Mapping[str, Any], *, batched: bool = True, timeout: float = DEFAULT_TIMEOUT,
                  chunk: int | None = None) -> Snapshot:
    """One snapshot over fresh connections (use `Monitor` to refresh repeatedly)."""
    with Monitor(origin_url, auxiliary_url, validators, addresses, timeout=timeout, chunk=chunk) as monitor:
        return monitor.snapshot(batched=batched)


def monitor_addresses(plan: Any, outputs: Mapping[str, Any]) -> dict[str, str]:
    """The addresses to read from: the journal's outputs, and the plan's OST token when it was not
    deployed by us (only a devnet's dev OST is an output)."""
    found = {key: str(outputs[key]) for key in ADDRESS_KEYS if outputs.get(key)}
    ost = getattr(plan.origin, "ost", None)
    if "ost" not in found and ost and not getattr(plan, "deploys_ost", False):
        found["ost"] = ost
    if "polling_place" in found:
        # The chains votes name (contracts/README.md): this core, and origin as 8 bytes of chain id + 12 zeros.
        found["core_identifier"] = plan.core_identifier
        found["origin_core_identifier"] = "0x" + plan.origin.chain_id.to_bytes(8, "big").hex() + "00" * 12
    return found


def votes_per_day(plan: Any) -> float | None:
    """Checkpoints a validator votes on per day: one per auxiliary epoch, and about as many on origin."""
    epoch, block_time = getattr(plan.auxiliary, "epoch_length", None), getattr(plan.auxiliary, "block_time", None)
    if not epoch or not block_time:
        return None
    return 2 * DAY / (epoch * block_time)


def plan_monitor(plan: Any, outputs: Mapping[str, Any], **options: Any) -> Monitor:
    """A Monitor for a plan and its journal's outputs (step 3 may have recorded the auxiliary RPC)."""
    auxiliary_url = outputs.get("auxiliary_rpc") or plan.auxiliary.rpc
    options.setdefault("votes_per_day", votes_per_day(plan))
    return Monitor(plan.origin.rpc, auxiliary_url, plan.validators, monitor_addresses(plan, outputs), **options)


# --- warnings ------------------------------------------------------------------------------------


def snapshot_warnings(snapshot: Snapshot) -> list[str]:
    """What an operator must look at: silent validators, short runways, stalled finality (and why)."""
    found: list[str] = []
    meta = snapshot.meta
    for row in snapshot.rows:
        if row.in_polling_place and row.votes_missed is not None and row.votes_missed >= SILENT_EPOCHS:
            found.append(f"validator {row.index + 1} ({row.auxiliary_address}) is silent: {row.votes_missed} "
                         f"checkpoints behind (last vote at {row.last_vote}).")
        if row.in_polling_place and row.runway is not None and snapshot.votes_per_day and \
                row.runway < snapshot.votes_per_day:
            found.append(f"validator {row.index + 1} ({row.auxiliary_address}) has base coin for {row.runway} more "
                         f"votes, under a day ({snapshot.votes_per_day:.0f} a day).")
    if meta is not None:
        for finality in (meta.auxiliary, meta.origin):
            epoch = finality.epoch_length
            if epoch is None or finality.lag_blocks is None or \
                    finality.lag_blocks < max(STALL_EPOCHS * epoch, STALL_BLOCKS):
                continue
            why = ""
            if meta.total_weight and meta.voting_weight is not None:
                share = 100 * meta.voting_weight / meta.total_weight
                if meta.voting_weight * 3 < meta.total_weight * 2:
                    why = (f": the weight voting is {short_amount(meta.voting_weight)} of "
                           f"{short_amount(meta.total_weight)} OST ({share:.0f} %), below the 2/3 needed")
                else:
                    why = f" although {share:.0f} % of the weight votes: check that headers are reported"
            found.append(f"{finality.chain} finality stalled at checkpoint {finality.finalised}, "
                         f"{finality.lag_blocks} blocks behind the head{why}.")
    return found


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """`status --once --json`: the snapshot as plain data, with its warnings and errors."""
    from dataclasses import asdict

    document = asdict(snapshot)
    document["warnings"] = snapshot.warnings
    document["errors"] = snapshot.errors
    return document


# --- the plain-text table of `status --once` -----------------------------------------------------

HEADERS = ("#", "origin address", "auxiliary address", "stake", "OST", "ETH", "base coin", "PollingPlace", "ProposerSet",
           "last vote", "missed", "runway")
_RIGHT = {0, 3, 4, 5, 6, 9, 10, 11}
_DECIMALS = 4


def short_amount(wei: int | None) -> str:
    """An amount of an 18-decimal unit, rounded down to a few decimals, with thousands grouped."""
    if wei is None:
        return "-"
    step = 10 ** (18 - _DECIMALS)
    if 0 < wei < step:
        return f"<{step / 10**18:.{_DECIMALS}f}"
    number = units.format_amount(wei - wei % step, "ether").removesuffix(" ETH")
    whole, dot, fraction = number.partition(".")
    return f"{int(whole):,}{dot}{fraction}"


def _flag(value: bool | None, detail: str = "") -> str:
    if value is None:
        return "-"
    return f"yes{detail}" if value else "no"


def _row_cells(row: ValidatorStatus) -> list[str]:
    stake = short_amount(row.stake_weight)
    if row.stake_weight is not None and row.stake_weight != row.planned_stake:
        stake += f" (plan {short_amount(row.planned_stake)})"
    polling = _flag(row.in_polling_place,
                    f" {short_amount(row.polling_place_weight)}" if row.polling_place_weight else "")
    return [str(row.index + 1), row.origin_address, row.auxiliary_address, stake, short_amount(row.ost_balance),
            short_amount(row.eth_balance), short_amount(row.base_coin_balance), polling, _flag(row.in_proposer_set),
            _number(row.last_vote), _number(row.votes_missed), _number(row.runway)]


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def finality_line(finality: Finality) -> str:
    """`auxiliary checkpoints: reported 120, justified 115, finalised 110, lag 12 blocks (12 s)`."""
    lag = "-" if finality.lag_blocks is None else f"{finality.lag_blocks} blocks"
    if finality.lag_seconds is not None:
        lag += f" ({finality.lag_seconds} s)"
    return (f"{finality.chain} checkpoints: reported {_number(finality.reported)}, justified "
            f"{_number(finality.justified)}, finalised {_number(finality.finalised)}, finality lag {lag}")


def meta_lines(meta: MetaStatus) -> list[str]:
    committed = "none yet" if meta.committed_height is None else str(meta.committed_height)
    active = "none" if meta.active_kernel is None else str(meta.active_kernel)
    return [f"meta-blocks: committed height {committed}, open kernel {_number(meta.open_kernel)} on origin, "
            f"active kernel {active} on auxiliary",
            finality_line(meta.auxiliary), finality_line(meta.origin)]


def _chain_line(chain: ChainStatus, now: float, extra: str) -> str:
    if not chain.url:
        return f"{chain.name:<9}  no RPC URL known yet"
    if not chain.reachable:
        return f"{chain.name:<9}  {chain.url}  not answering"
    when = ""
    if chain.block_timestamp is not None:
        stamp = datetime.fromtimestamp(chain.block_timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        when = f" at {stamp} ({max(0, round(now - chain.block_timestamp))} s ago)"
    return f"{chain.name:<9}  {chain.url}  chain id {chain.chain_id}  block {chain.block_number}{when}{extra}"


def format_table(snapshot: Snapshot) -> str:
    """The snapshot as plain text: one line per chain, the table, then every error sentence."""
    now = snapshot.taken_at or time.time()
    kernel = f"  kernel height {snapshot.kernel_height}" if snapshot.kernel_height is not None else ""
    proposers = ""
    if snapshot.proposers is not None:
        planned = {row.auxiliary_address.lower() for row in snapshot.rows}
        listed = sum(1 for address in snapshot.proposers if address.lower() in planned)
        proposers = f"  proposers {len(snapshot.proposers)} ({listed} planned validators)"
    lines = [_chain_line(snapshot.origin, now, kernel), _chain_line(snapshot.auxiliary, now, proposers)]
    if snapshot.meta is not None:
        lines += meta_lines(snapshot.meta)
    lines += ["amounts: stake, OST and PollingPlace weight in OST; ETH in ether; base coin in its 18-decimal unit; "
              "last vote: auxiliary checkpoint; runway: votes the base coin pays for; - unknown", ""]
    table = [list(HEADERS), *(_row_cells(row) for row in snapshot.rows)]
    widths = [max(len(cells[column]) for cells in table) for column in range(len(HEADERS))]
    for cells in table:
        lines.append("  ".join(cell.rjust(width) if column in _RIGHT else cell.ljust(width)
                               for column, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip())
    if snapshot.warnings:
        lines.append("")
        lines += [f"warning: {warning}" for warning in snapshot.warnings]
    if snapshot.errors:
        lines.append("")
        lines += [f"error: {error}" for error in snapshot.errors]
    return "\n".join(lines) + "\n"


__all__ = ["ADDRESS_KEYS", "HEADERS", "ChainStatus", "Finality", "MetaStatus", "Monitor", "PlannedValidator", "Snapshot",
           "ValidatorStatus", "finality_line", "format_table", "meta_lines", "monitor_addresses", "plan_monitor",
           "short_amount", "snapshot_json", "snapshot_warnings", "take_snapshot", "votes_per_day"]
