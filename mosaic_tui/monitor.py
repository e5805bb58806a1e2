"""Validator status snapshots: what both chains hold for every planned validator, read in batches.

An operator watching a deployment (or a running meta-blockchain) wants one table: per validator
its stake weight on origin, its OST and ETH, its base coin on the auxiliary chain, and whether
`PollingPlace` and `ProposerSet` list it. With a thousand validators that is thousands of reads,
so each chain is read in a constant number of JSON-RPC batch requests (`chain.batch`), not one
request per value; `batched=False` keeps the one-request-per-value way for comparison.

Each chain is read at one block: its head first, then every value pinned to that block number, so
a row never mixes two states of a chain. That is two requests for the auxiliary chain and three for
origin (`Stake.weight` needs the open kernel height first); more only when a batch exceeds `chunk`.

A snapshot never raises for a chain problem: a chain that does not answer leaves its columns
unknown (None) and puts a sentence in that chain's errors; a contract that is not deployed yet
(no address in the outputs) just leaves its column unknown. `format_table` renders the plain text
of `mosaic-tui status PLAN --once`; the TUI panel renders the same Snapshot rows.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from mosaic_tui import units
from mosaic_tui.chain.batch import (
    DEFAULT_CHUNK,
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
ADDRESS_KEYS = ("ost", "stake", "polling_place", "proposer_set")


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

    @property
    def errors(self) -> list[str]:
        return [*self.origin.errors, *self.auxiliary.errors]


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
        self._handlers: list[tuple[str, Callable[[Any], Any], Callable[[Any], None]]] = []

    def add(self, label: str, request: tuple[str, list[Any]], decode: Callable[[Any], Any],
            store: Callable[[Any], None]) -> None:
        self._requests.append(request)
        self._handlers.append((label, decode, store))

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
        totals: dict[str, int] = {}
        failures: dict[str, list[str]] = {}
        for (label, decode, store), answer in zip(self._handlers, answers, strict=True):
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
    return tuple(units.checksum_address(address.removeprefix("0x")) for address in addresses)


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


class Monitor:
    """Takes snapshots of the validators again and again over the same kept-alive connections.

    `addresses` may be replaced between snapshots as a deployment gets further.
    """

    def __init__(self, origin_url: str, auxiliary_url: str | None, validators: Sequence[PlannedValidator],
                 addresses: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT, chunk: int = DEFAULT_CHUNK) -> None:
        self.validators = tuple(validators)
        self.addresses = dict(addresses)
        self._origin = BatchClient(origin_url, timeout=timeout, chunk=chunk)
        self._auxiliary = BatchClient(auxiliary_url, timeout=timeout, chunk=chunk) if auxiliary_url else None
        # The chains are independent, so their reads overlap; each of the two threads owns one client.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="monitor")

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
        origin, origin_columns, kernel_height = origin_future.result()
        auxiliary, auxiliary_columns, proposers = auxiliary_future.result()
        rows = tuple(
            ValidatorStatus(index, v.origin_address, v.auxiliary_address, v.stake,
                            **{key: column[index] for key, column in (origin_columns | auxiliary_columns).items()})
            for index, v in enumerate(self.validators))
        return Snapshot(rows, origin, auxiliary, kernel_height, proposers, time.time(),
                        time.perf_counter() - started, self._requests_sent() - before)

    def _requests_sent(self) -> int:
        return self._origin.http_requests + (self._auxiliary.http_requests if self._auxiliary else 0)

    def _read_origin(self, batched: bool) -> tuple[ChainStatus, dict[str, list[Any]], int | None]:
        count = len(self.validators)
        columns: dict[str, list[Any]] = {"stake_weight": [None] * count, "ost_balance": [None] * count,
                                         "eth_balance": [None] * count}
        stake, ost = self.addresses.get("stake"), self.addresses.get("ost")
        heights: dict[str, int] = {}
        try:
            status, errors = _read_head(self._origin, "origin", batched)
            if status.block_number is None:
                return status.with_errors(errors), columns, None
            block = status.block_number
            reads = _Round("origin")
            if stake:
                reads.call("Stake.openHeight", stake, _function("Stake", "openHeight"), (), block,
                           lambda value: heights.__setitem__("open", value))
            for index, validator in enumerate(self.validators):
                if ost:
                    reads.call("OST balanceOf", ost, _function("EIP20Token", "balanceOf"),
                               (validator.origin_address,), block, _setter(columns["ost_balance"], index))
                reads.balance("eth_getBalance", validator.origin_address, block, _setter(columns["eth_balance"], index))
            errors += reads.send(self._origin, batched)
            if stake and "open" in heights:
                # The weight read needs the open height, so it is a second round at the same block.
                weights = _Round("origin")
                for index, validator in enumerate(self.validators):
                    weights.call("Stake.weight", stake, _function("Stake", "weight"),
                                 (heights["open"], validator.auxiliary_address), block,
                                 _setter(columns["stake_weight"], index))
                errors += weights.send(self._origin, batched)
        except RpcTransportError as error:
            return ChainStatus("origin", self._origin.url, errors=(f"origin chain: {error}",)), _unknown(columns), None
        return status.with_errors(errors), columns, heights.get("open")

    def _read_auxiliary(self, batched: bool) -> tuple[ChainStatus, dict[str, list[Any]], tuple[str, ...] | None]:
        count = len(self.validators)
        columns: dict[str, list[Any]] = {"base_coin_balance": [None] * count, "in_polling_place": [None] * count,
                                         "polling_place_weight": [None] * count, "in_proposer_set": [None] * count}
        client = self._auxiliary
        if client is None:
            return ChainStatus("auxiliary", None), columns, None
        polling_place, proposer_set = self.addresses.get("polling_place"), self.addresses.get("proposer_set")
        found: dict[str, Any] = {}
        try:
            status, errors = _read_head(client, "auxiliary", batched)
            if status.block_number is None:
                return status.with_errors(errors), columns, None
            block = status.block_number
            reads = _Round("auxiliary")
            if polling_place:
                reads.call("PollingPlace.getValidators", polling_place, _function("PollingPlace", "getValidators"),
                           (), block, lambda decoded: found.__setitem__("polling", decoded))
            if proposer_set:
                reads.call("ProposerSet.getValidators", proposer_set, _function("ProposerSet", "getValidators"),
                           (), block, lambda value: found.__setitem__("proposers", _checksummed(value)))
            for index, validator in enumerate(self.validators):
                reads.balance("eth_getBalance", validator.auxiliary_address, block,
                              _setter(columns["base_coin_balance"], index))
            errors += reads.send(client, batched)
        except RpcTransportError as error:
            return ChainStatus("auxiliary", client.url, errors=(f"auxiliary chain: {error}",)), _unknown(columns), None
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
        return status.with_errors(errors), columns, proposers


def _unknown(columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    # A chain that stopped answering mid-way must not show half of a snapshot as if it were whole.
    return {key: [None] * len(column) for key, column in columns.items()}


def take_snapshot(origin_url: str, auxiliary_url: str | None, validators: Sequence[PlannedValidator],
                  addresses: Mapping[str, Any], *, batched: bool = True, timeout: float = DEFAULT_TIMEOUT,
                  chunk: int = DEFAULT_CHUNK) -> Snapshot:
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
    return found


def plan_monitor(plan: Any, outputs: Mapping[str, Any], **options: Any) -> Monitor:
    """A Monitor for a plan and its journal's outputs (step 3 may have recorded the auxiliary RPC)."""
    auxiliary_url = outputs.get("auxiliary_rpc") or plan.auxiliary.rpc
    return Monitor(plan.origin.rpc, auxiliary_url, plan.validators, monitor_addresses(plan, outputs), **options)


# --- the plain-text table of `status --once` -----------------------------------------------------

HEADERS = ("#", "origin address", "auxiliary address", "stake", "OST", "ETH", "base coin", "PollingPlace", "ProposerSet")
_RIGHT = {0, 3, 4, 5, 6}
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
            short_amount(row.eth_balance), short_amount(row.base_coin_balance), polling, _flag(row.in_proposer_set)]


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
    lines = [_chain_line(snapshot.origin, now, kernel), _chain_line(snapshot.auxiliary, now, proposers),
             "amounts: stake, OST and PollingPlace weight in OST; ETH in ether; base coin in its 18-decimal unit; "
             "- unknown", ""]
    table = [list(HEADERS), *(_row_cells(row) for row in snapshot.rows)]
    widths = [max(len(cells[column]) for cells in table) for column in range(len(HEADERS))]
    for cells in table:
        lines.append("  ".join(cell.rjust(width) if column in _RIGHT else cell.ljust(width)
                               for column, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip())
    if snapshot.errors:
        lines.append("")
        lines += [f"error: {error}" for error in snapshot.errors]
    return "\n".join(lines) + "\n"


__all__ = ["ADDRESS_KEYS", "HEADERS", "ChainStatus", "Monitor", "PlannedValidator", "Snapshot", "ValidatorStatus",
           "format_table", "monitor_addresses", "plan_monitor", "short_amount", "take_snapshot"]
