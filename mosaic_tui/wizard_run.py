"""The wizard's way of running the engine: step by step with a pause between steps, and its live checks.

`deploy.execute` runs every remaining step in one go, which is what the headless CLI wants. The
wizard shows one screen per step and lets the operator pause after the running step, so it drives
the same `Runner` one step at a time and, before each step, says which actions the step holds
(`StepPlanned`), so the screen can list them as pending before the first one is sent.

The live checks (is the RPC answering, do the validators hold what they must) read through the
monitor's batch client: one HTTP request per refresh, no retries (the next refresh is the retry).
Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mosaic_tui.errors import MosaicError

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

ROLE_NAMES = {"deployer": "deployer", "proposer": "initial proposer"}


@dataclass(frozen=True)
class PlannedAction:
    action: str
    label: str
    chain: str | None
    sender: str  # a role in words ("deployer", "validator 2") until the transaction is signed
    status: str  # "pending", or what the journal already holds ("confirmed", "sent", "failed", ...)
    tx_hash: str | None = None
    block: int | None = None
    gas_used: int | None = None


@dataclass(frozen=True)
class StepPlanned:
    """Emitted before a step runs: every action it holds and what the journal knows of each."""

    step: str
    title: str
    actions: tuple[PlannedAction, ...]


def role_words(role: str | None) -> str:
    if role is None:
        return "local"
    if role.startswith("validator:"):
        return f"validator {int(role.split(':')[1]) + 1}"
    return ROLE_NAMES.get(role, role)


def _planned(step: Any, journal: Any) -> StepPlanned:
    rows = []
    for action in step.actions:
        entry = journal.entry(action.id)
        status = "pending" if entry is None or entry.status == "planned" else entry.status
        receipt = entry.receipt if entry is not None else None
        rows.append(PlannedAction(action.id, action.label, action.chain,
                                  entry.sender if entry is not None and entry.sender else role_words(action.sender),
                                  status, entry.tx_hash if entry is not None else None,
                                  receipt.block_number if receipt else None, receipt.gas_used if receipt else None))
    return StepPlanned(step.key, step.title, tuple(rows))


class _Paused(Exception):
    """Raised between two steps when the operator asked for a pause (never escapes `run_steps`)."""


def run_steps(prepared: Any, emit: Callable[[Any], None], *, should_stop: Callable[[], bool] = lambda: False,
              pause_requested: Callable[[], bool] = lambda: False, max_inflight: int | None = None) -> bool:
    """Run the remaining steps like `deploy.execute`; True when all are done, False when paused.

    A pause takes effect after the running step is done, so no transaction is left in flight.
    `should_stop` stops at once (in-flight transactions stay in the journal and are adopted later).
    """
    from mosaic_tui import deploy
    from mosaic_tui.steps import build_steps

    journal = prepared.ctx.journal

    def listed(build: Callable[[Any], Any], first: bool) -> Callable[[Any], Any]:
        # The runner builds each step just before running it, so this is the moment between two steps.
        def factory(context: Any) -> Any:
            if not first and pause_requested():
                raise _Paused
            step = build(context)
            emit(_planned(step, journal))
            return step
        return factory

    factories = build_steps(prepared.ctx)
    try:
        deploy.execute(prepared, emit, max_inflight=max_inflight, should_stop=should_stop,
                       steps=[listed(build, position == 0) for position, build in enumerate(factories)])
    except _Paused:
        return False
    _start_devnet_validators(prepared.ctx)
    return True


def _start_devnet_validators(ctx: Deployment) -> None:
    """On a devnet the wizard, like `deploy --devnet`, leaves a validator node per validator running."""
    from mosaic_tui import devnet
    from mosaic_tui.validator.launch import start_devnet_validators, validators_wanted

    if ctx.plan.devnet and validators_wanted():
        start_devnet_validators(ctx.devnet_dir or devnet.default_dir(), ctx.plan, ctx.out_dir)


# --- live checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RpcCheck:
    url: str
    chain_id: int | None = None
    block: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_rpc(url: str, timeout: float = 3.0) -> RpcCheck:
    """Chain id and head block of the node at `url`, or a sentence saying why there is none."""
    from mosaic_tui.chain.batch import BatchClient, RpcFailure

    try:
        with BatchClient(url, timeout=timeout) as client:
            chain_id, block = client.run([("eth_chainId", []), ("eth_blockNumber", [])])
    except MosaicError as error:
        return RpcCheck(url, error=str(error))
    except Exception as error:  # an odd URL can make requests raise before any connection
        return RpcCheck(url, error=f"{url} cannot be reached ({type(error).__name__}).")
    if isinstance(chain_id, RpcFailure) or isinstance(block, RpcFailure):
        return RpcCheck(url, error=f"{url} answers, but not as an Ethereum JSON-RPC node.")
    try:
        return RpcCheck(url, int(chain_id, 16), int(block, 16))
    except (TypeError, ValueError):
        return RpcCheck(url, error=f"{url} answers, but not as an Ethereum JSON-RPC node.")


@dataclass(frozen=True)
class FundsRow:
    """What one validator's origin address holds against what the deployment will take from it."""

    index: int
    eth: int | None = None
    ost: int | None = None
    stake_allowance: int | None = None  # OST approved to Stake (known once step 1 deployed it)
    gateway_allowance: int | None = None
    needs_ost: int = 0
    verdict: str = ""


@dataclass(frozen=True)
class FundsCheck:
    rows: tuple[FundsRow, ...]
    block: int | None = None
    error: str | None = None


def check_funds(origin_url: str, validators: Sequence[tuple[int, str, int, int]], *, ost: str | None,
                stake: str | None = None, gateway: str | None = None, devnet: bool = False,
                timeout: float = 3.0) -> FundsCheck:
    """ETH, OST and allowances of each validator `(index, origin_address, stake, gateway_stake)` at one block.

    `ost` None means the token is not known yet (a devnet deploys it in its preparation step).
    """
    from mosaic_tui.chain.batch import AbiFunction, BatchClient, RpcFailure, balance_request, call_request
    from mosaic_tui.contracts import load_artifact
    from mosaic_tui.steps.common import VALIDATOR_ORIGIN_GAS

    abi = load_artifact("EIP20Token")["abi"]
    balance_of, allowance = AbiFunction.from_abi(abi, "balanceOf"), AbiFunction.from_abi(abi, "allowance")
    try:
        with BatchClient(origin_url, timeout=timeout) as client:
            (head,) = client.run([("eth_blockNumber", [])])
            if isinstance(head, RpcFailure):
                return FundsCheck((), error=f"{origin_url}: {head.message}")
            block = int(head, 16)
            calls: list[tuple[str, list[Any]]] = []
            for _, address, _, _ in validators:
                calls.append(balance_request(address, block))
                if ost:
                    calls.append(call_request(ost, balance_of, (address,), block))
                    for spender in (stake, gateway):
                        if spender:
                            calls.append(call_request(ost, allowance, (address, spender), block))
            answers = iter(client.run(calls))
    except MosaicError as error:
        return FundsCheck((), error=str(error))

    def number(answer: Any, decode: Callable[[str], int] | None = None) -> int | None:
        if isinstance(answer, RpcFailure) or answer is None:
            return None
        try:
            return decode(answer) if decode else int(answer, 16)
        except (TypeError, ValueError):
            return None

    def word(data: str) -> int:
        return int(balance_of.decode(data)[0])

    rows = []
    for index, _, stake_wei, gateway_wei in validators:
        eth = number(next(answers))
        ost_held = stake_allowed = gateway_allowed = None
        if ost:
            ost_held = number(next(answers), word)
            stake_allowed = number(next(answers), word) if stake else None
            gateway_allowed = number(next(answers), word) if gateway else None
        need = stake_wei + gateway_wei
        rows.append(FundsRow(index, eth, ost_held, stake_allowed, gateway_allowed, need,
                             _verdict(eth, ost_held, need, ost is not None, devnet, VALIDATOR_ORIGIN_GAS)))
    return FundsCheck(tuple(rows), block)


def _verdict(eth: int | None, ost: int | None, need: int, token_known: bool, devnet: bool, gas: int) -> str:
    from mosaic_tui.units import format_amount

    if devnet and not token_known:
        return "ok: the devnet preparation funds it"
    if ost is None or eth is None:
        return "unknown: the token did not answer" if eth is not None else "unknown"
    if ost < need:
        return f"short: holds {format_amount(ost, 'OST')}, needs {format_amount(need, 'OST')}"
    if eth == 0 and not devnet:
        return f"short: no ETH for its own transactions (about {gas:,} gas)"
    return "ok"
