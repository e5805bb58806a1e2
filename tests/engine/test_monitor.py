"""The validator monitor against two real anvil chains carrying a whole deployment.

Every value a snapshot shows is compared with what the chain answers to web3's own calls, through
the bootstrap (K0 proven, base coin minted, block proposal handed over); batched and one-call-per-
value snapshots must agree row for row; a chain that does not answer or a contract that is not
there yields a sentence, not an exception.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address

from mosaic_tui import devnet, monitor
from mosaic_tui.keyref import KeyRef
from mosaic_tui.monitor import Monitor, Snapshot, format_table, short_amount, take_snapshot
from mosaic_tui.plan import ValidatorPlan
from tests.contracts import aux_setup
from tests.contracts.aux_setup import TwoChains
from tests.contracts.origin_world import OST, keys
from tests.helpers import transact
from tests.origin.rpc_proxy import RpcProxy

ROOT = Path(__file__).resolve().parents[2]
NEWCOMER_STAKE = 40 * OST


def planned(chains: TwoChains, *extra: ValidatorPlan) -> list[ValidatorPlan]:
    node = KeyRef("node")
    return [ValidatorPlan(v.origin.address, v.auxiliary.address, v.stake, OST, node, node)
            for v in chains.origin.validators] + list(extra)


def outsider(label: str, stake: int = 5 * OST) -> ValidatorPlan:
    """A planned validator that never staked: the chains know nothing of it."""
    return ValidatorPlan(keys(f"{label}-origin").address, keys(f"{label}-auxiliary").address, stake, OST,
                         KeyRef("node"), KeyRef("node"))


def addresses(chains: TwoChains) -> dict[str, str]:
    origin = chains.origin
    return {"ost": origin.token.address, "stake": origin.stake.address, "origin_core": origin.core.address,
            "ost_gateway": origin.gateway.address, "polling_place": chains.polling_place.address,
            "proposer_set": chains.proposer_set.address, "kernel_gateway": chains.kernel_gateway.address}


def aux_url(chains: TwoChains) -> str:
    return chains.aux_w3.provider.endpoint_uri


def origin_url(chains: TwoChains) -> str:
    return chains.origin.w3.provider.endpoint_uri


def both(chains: TwoChains, validators: list[ValidatorPlan], where: dict[str, str] | None = None) -> Snapshot:
    """A batched snapshot, after checking that one call per value reads exactly the same."""
    where = addresses(chains) if where is None else where
    batched = take_snapshot(origin_url(chains), aux_url(chains), validators, where)
    single = take_snapshot(origin_url(chains), aux_url(chains), validators, where, batched=False)
    assert batched.rows == single.rows
    assert (batched.origin, batched.auxiliary) == (single.origin, single.auxiliary)
    assert (batched.kernel_height, batched.proposers) == (single.kernel_height, single.proposers)
    return batched


def assert_matches_chain(chains: TwoChains, snapshot: Snapshot) -> None:
    """Every value equals what web3 reads independently, at the block the snapshot names."""
    origin_w3, aux_w3 = chains.origin.w3, chains.aux_w3
    stake, token = chains.origin.stake, chains.origin.token
    assert snapshot.origin.block_number == origin_w3.eth.block_number
    assert snapshot.auxiliary.block_number == aux_w3.eth.block_number
    assert snapshot.origin.chain_id == origin_w3.eth.chain_id
    assert snapshot.auxiliary.chain_id == aux_w3.eth.chain_id
    assert snapshot.origin.block_timestamp == origin_w3.eth.get_block("latest")["timestamp"]
    height = stake.functions.openHeight().call()
    assert snapshot.kernel_height == height
    listed, weights = chains.polling_place.functions.getValidators().call()
    weight_of = dict(zip(listed, weights, strict=True))
    proposers = chains.proposer_set.functions.getValidators().call()
    assert snapshot.proposers == tuple(proposers)
    for row in snapshot.rows:
        assert row.stake_weight == stake.functions.weight(height, row.auxiliary_address).call()
        assert row.ost_balance == token.functions.balanceOf(row.origin_address).call()
        assert row.eth_balance == origin_w3.eth.get_balance(row.origin_address)
        assert row.base_coin_balance == aux_w3.eth.get_balance(row.auxiliary_address)
        assert row.in_polling_place is (row.auxiliary_address in weight_of)
        assert row.polling_place_weight == weight_of.get(row.auxiliary_address, 0)
        assert row.in_proposer_set is (row.auxiliary_address in proposers)
    assert snapshot.errors == []


def test_snapshot_follows_the_bootstrap_and_batched_equals_one_call_per_value(chains: TwoChains) -> None:
    stranger = outsider("never-staked")
    validators = planned(chains, stranger)
    stakes = {v.auxiliary_address: v.stake for v in validators[:-1]}

    # Step 3 done: stakes are on origin, the auxiliary contracts know no validator yet.
    before = both(chains, validators)
    assert_matches_chain(chains, before)
    assert [row.stake_weight for row in before.rows] == [*stakes.values(), 0]
    assert all((row.ost_balance or 0) > 0 and (row.eth_balance or 0) > 0 for row in before.rows[:-1])
    assert (before.rows[-1].ost_balance, before.rows[-1].eth_balance) == (0, 0)
    assert [row.in_polling_place for row in before.rows] == [False] * len(validators)
    assert [row.base_coin_balance for row in before.rows] == [0] * len(validators)
    assert before.proposers == (chains.proposer.address,)
    assert not any(row.in_proposer_set for row in before.rows)

    # Step 4.1 and 4.2: K0 proven into PollingPlace, base coin minted for every gateway stake.
    chains.prove_k0()
    chains.prove_gateway()
    for stake in chains.stakes:
        chains.send(chains.mint_call(stake, chains.stake_proof(stake)))
    proven = both(chains, validators)
    assert_matches_chain(chains, proven)
    minted = {stake.beneficiary: stake.amount for stake in chains.stakes}
    for row in proven.rows[:-1]:
        assert (row.in_polling_place, row.polling_place_weight) == (True, stakes[row.auxiliary_address])
        assert row.base_coin_balance == minted[row.auxiliary_address]
        assert minted[row.auxiliary_address] > 0
        assert row.in_proposer_set is False
    assert (proven.rows[-1].in_polling_place, proven.rows[-1].polling_place_weight) == (False, 0)

    # Step 4.4: the initial proposer hands block proposal to the validators.
    listed, _ = chains.polling_place.functions.getValidators().call()
    chains.send(chains.proposer_set.functions.handOver(listed))
    # The AuRa engine enacts the signalled set with finalizeChange; getValidators lists it from then on.
    aux_setup.enable_proposer_set(chains.aux_w3, chains.proposer_set.address)
    handed = both(chains, validators)
    assert_matches_chain(chains, handed)
    assert [row.in_proposer_set for row in handed.rows] == [True] * (len(validators) - 1) + [False]
    assert handed.proposers is not None and chains.proposer.address not in handed.proposers


def test_weight_is_read_at_the_open_kernel_height(chains: TwoChains) -> None:
    """A validator that deposits now only votes from the next kernel on: weight 0 at the open height."""
    origin = chains.origin
    newcomer = outsider("newcomer", NEWCOMER_STAKE)
    transact(origin.w3, origin.token.functions.approve(origin.stake.address, NEWCOMER_STAKE), origin.deployer)
    transact(origin.w3, origin.stake.functions.deposit(newcomer.auxiliary_address, NEWCOMER_STAKE), origin.deployer)
    height = origin.stake.functions.openHeight().call()
    assert origin.stake.functions.weight(height + 1, newcomer.auxiliary_address).call() == NEWCOMER_STAKE

    snapshot = both(chains, planned(chains, newcomer))
    assert_matches_chain(chains, snapshot)
    assert snapshot.rows[-1].stake_weight == 0
    assert snapshot.rows[0].stake_weight == chains.origin.validators[0].stake


def per_value_snapshot(chains: TwoChains, validators: Any, where: dict[str, str], **options: Any) -> Snapshot:
    """A batched snapshot with one JSON-RPC request per value (what a node refusing StatusReader calls gets)."""
    with Monitor(origin_url(chains), aux_url(chains), validators, where, **options) as watcher:
        watcher.reader_refused.update(origin="not asked", auxiliary="not asked")
        return watcher.snapshot()


def test_batched_reads_take_a_constant_number_of_requests_even_across_chunks(chains: TwoChains) -> None:
    validators = planned(chains, *(outsider(f"extra-{i}", (i + 1) * OST) for i in range(6)))
    where = addresses(chains)
    whole = take_snapshot(origin_url(chains), aux_url(chains), validators, where)
    # origin: head, then openHeight, OriginCore's head and open kernel + a StatusReader call (OST and ETH
    # of every validator), then one StatusReader call (weights); auxiliary: head, then 2 getValidators,
    # the gas price, KernelGateway's active kernel (2), PollingPlace's total weight + a StatusReader call.
    assert whole.http_requests == 5
    chunked = take_snapshot(origin_url(chains), aux_url(chains), validators, where, chunk=4)
    assert chunked.rows == whole.rows
    assert chunked.http_requests == 1 + 1 + 1 + 1 + 2
    # One request per value, in batches: the same rows.
    count = len(validators)
    values = per_value_snapshot(chains, validators, where, chunk=4)
    assert values.rows == whole.rows
    assert values.http_requests == 1 + -(-(3 + 2 * count) // 4) + -(-count // 4) + 1 + -(-(6 + count) // 4)
    single = take_snapshot(origin_url(chains), aux_url(chains), validators, where, batched=False)
    assert single.rows == whole.rows
    assert single.http_requests == 2 + (3 + 3 * count) + 2 + (6 + count)


@dataclass(frozen=True)
class Watched:
    origin_address: str
    auxiliary_address: str
    stake: int


def many(count: int) -> list[Watched]:
    """Validators the chains know nothing of (no keys needed: they are only read)."""
    return [Watched(to_checksum_address(keccak(text=f"watched {i} origin")[12:]),
                    to_checksum_address(keccak(text=f"watched {i} auxiliary")[12:]), OST) for i in range(count)]


def full_addresses(chains: TwoChains) -> dict[str, str]:
    """Everything `monitor_addresses` gives after step 4: the block stores and the two chains' identifiers too."""
    return addresses(chains) | {
        "origin_block_store": chains.origin_block_store.address,
        "auxiliary_block_store": chains.auxiliary_block_store.address,
        "core_identifier": "0x" + chains.auxiliary_identifier.hex(),
        "origin_core_identifier": "0x" + chains.origin_identifier.hex()}


def test_a_thousand_validators_take_eight_requests_with_status_reader_calls(chains: TwoChains) -> None:
    """Each chain's per-validator values come in a few StatusReader calls, not one request per value
    (before them, 1,000 validators took 12 requests: 3,000 values per chain in batches of 500)."""
    validators = [*planned(chains), *many(996)]
    where = full_addresses(chains)
    with Monitor(origin_url(chains), aux_url(chains), validators, where) as watcher:
        snapshot = watcher.snapshot()
        assert watcher.reader_refused == {}
    assert snapshot.errors == []
    # origin: head, the scalars + OST and ETH, the weights; auxiliary: head, the scalars + base coin and
    # last votes, the block stores' heads; then the time of each chain's finalised checkpoint.
    assert snapshot.http_requests == 8
    values = per_value_snapshot(chains, validators, where)
    assert values.http_requests > 12
    assert values.rows == snapshot.rows
    assert (values.origin, values.auxiliary, values.meta) == (snapshot.origin, snapshot.auxiliary, snapshot.meta)
    assert [row.stake_weight for row in snapshot.rows[:4]] == [v.stake for v in chains.origin.validators]
    assert all(row.stake_weight == 0 and row.eth_balance == 0 for row in snapshot.rows[4:])


def test_status_reader_values_are_what_one_request_per_value_reads(chains: TwoChains) -> None:
    """Last votes on both chains, balances the 16-byte cells cannot hold and an account without code
    where the token should be: the StatusReader path shows exactly the rows and sentences of the
    per-value path, which reads the cells StatusReader could not again, one request each."""
    chains.prove_k0()
    store, ident = chains.auxiliary_block_store, chains.auxiliary_identifier
    epoch = store.functions.epochLength().call()
    chains.report(store, chains.aux_w3, 1, 2 * epoch)
    genesis, first = (bytes(chains.aux_w3.eth.get_block(n)["hash"]) for n in (0, epoch))
    v0, v1, v2, _ = chains.origin.validators
    chains.link([v0, v2], ident, store, genesis, first)
    rich, richer = outsider("rich"), outsider("richer")
    chains.origin.w3.provider.make_request("anvil_setBalance", [rich.origin_address, hex(2**200)])
    chains.aux_w3.provider.make_request("anvil_setBalance", [richer.auxiliary_address, hex(2**128 - 1)])
    validators = planned(chains, rich, richer)
    where = full_addresses(chains)

    snapshot = both(chains, validators, where)
    assert_matches_chain(chains, snapshot)
    assert [row.last_vote for row in snapshot.rows] == [epoch, 0, epoch, 0, 0, 0]
    assert [row.last_origin_vote for row in snapshot.rows] == [0] * 6
    assert (snapshot.rows[4].eth_balance, snapshot.rows[5].base_coin_balance) == (2**200, 2**128 - 1)
    assert snapshot.meta is not None and snapshot.meta.auxiliary.finalised == 0
    # The two values StatusReader could not hold were read again, one more request per chain.
    assert snapshot.http_requests == 8 + 2
    assert per_value_snapshot(chains, validators, where).rows == snapshot.rows

    nothing_there = where | {"ost": chains.proposer.address}
    wrong = both(chains, validators, nothing_there)
    assert wrong.origin.errors == (f"origin chain: OST balanceOf failed for {len(validators)} of {len(validators)} "
                                   "reads (empty answer (no contract code at that address?)).",)
    assert all(row.ost_balance is None for row in wrong.rows)
    values = per_value_snapshot(chains, validators, nothing_there)
    assert (values.rows, values.origin.errors) == (wrong.rows, wrong.origin.errors)


class CreationRefusingProxy(RpcProxy):
    """A provider that does not run an `eth_call` without `to` (a contract creation): it answers with
    an error, or (`empty`) with "0x" as some EVM-compatible chains do; or only the first `out_of_gas`
    of them with "out of gas", as a node whose call gas cap is lower than StatusReader assumes."""

    def __init__(self, upstream: str, *, empty: bool = False, out_of_gas: int | None = None) -> None:
        super().__init__(upstream)
        self.empty = empty
        self.out_of_gas = out_of_gas
        self.creations = 0  # creation calls asked for
        self.refused = 0

    def _one(self, request: dict[str, Any]) -> dict[str, Any]:
        params = request.get("params") or []
        if request.get("method") == "eth_call" and params and "to" not in params[0]:
            self.creations += 1
            if self.out_of_gas is None or self.refused < self.out_of_gas:
                self.refused += 1
                if self.empty:
                    return {"jsonrpc": "2.0", "id": request.get("id"), "result": "0x"}
                message = "out of gas" if self.out_of_gas is not None else "contract creation is not allowed"
                return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": -32000, "message": message}}
        return super()._one(request)


@pytest.mark.parametrize("empty", [False, True], ids=["error", "empty answer"])
def test_a_node_that_refuses_status_reader_calls_gets_one_request_per_value(chains: TwoChains, empty: bool) -> None:
    validators = planned(chains, outsider("never-staked"))
    where = full_addresses(chains)
    expected = take_snapshot(origin_url(chains), aux_url(chains), validators, where, batched=False)
    origin = CreationRefusingProxy(origin_url(chains), empty=empty).start()
    auxiliary = CreationRefusingProxy(aux_url(chains), empty=empty).start()
    try:
        with Monitor(origin.url, auxiliary.url, validators, where) as watcher:
            first = watcher.snapshot()
            asked = (origin.creations, auxiliary.creations)
            assert asked == (1, 1)  # OST and ETH (the weights are then read per value at once); auxiliary
            assert set(watcher.reader_refused) == {"origin", "auxiliary"}
            assert ("StatusReader answered 0 bytes for 5 validators" if empty else "contract creation is not allowed") \
                in watcher.reader_refused["origin"]
            second = watcher.snapshot()
            # Remembered: the next refresh does not ask again.
            assert (origin.creations, auxiliary.creations) == asked
    finally:
        origin.stop()
        auxiliary.stop()
    for snapshot in (first, second):
        assert snapshot.rows == expected.rows
        assert snapshot.errors == expected.errors == []
        assert (snapshot.kernel_height, snapshot.proposers, snapshot.meta) == (
            expected.kernel_height, expected.proposers, expected.meta)
    assert second.http_requests == 8  # the per-value reads, in batches


def test_a_status_reader_call_out_of_gas_is_read_per_value_then_asked_again_in_smaller_chunks(
        chains: TwoChains) -> None:
    validators = planned(chains)
    where = full_addresses(chains)
    expected = take_snapshot(origin_url(chains), aux_url(chains), validators, where)
    origin = CreationRefusingProxy(origin_url(chains), out_of_gas=1).start()
    try:
        with Monitor(origin.url, aux_url(chains), validators, where) as watcher:
            first = watcher.snapshot()
            assert watcher.reader_refused == {}
            second = watcher.snapshot()
    finally:
        origin.stop()
    assert (origin.creations, origin.refused) == (4, 1)
    assert first.rows == second.rows == expected.rows
    assert first.errors == second.errors == []
    assert first.http_requests == expected.http_requests + 1  # the refused chunk's values, one request each


def test_missing_addresses_leave_columns_unknown_without_errors(chains: TwoChains) -> None:
    validators = planned(chains)
    snapshot = both(chains, validators, {})
    assert snapshot.errors == []
    assert snapshot.kernel_height is None and snapshot.proposers is None
    for row in snapshot.rows:
        assert (row.stake_weight, row.ost_balance, row.in_polling_place, row.polling_place_weight,
                row.in_proposer_set) == (None,) * 5
        assert row.eth_balance == chains.origin.w3.eth.get_balance(row.origin_address) > 0
        assert row.base_coin_balance == 0
    # Only the auxiliary contracts are missing (step 3 not done yet): origin columns are all there.
    partial = take_snapshot(origin_url(chains), aux_url(chains), validators,
                            {k: v for k, v in addresses(chains).items() if k in ("ost", "stake")})
    assert [row.stake_weight for row in partial.rows] == [v.stake for v in validators]
    assert all(row.in_polling_place is None for row in partial.rows)


def test_an_unreachable_auxiliary_chain_is_a_sentence_and_origin_is_still_read(chains: TwoChains) -> None:
    validators = planned(chains)
    dead = f"http://127.0.0.1:{devnet.free_port()}"
    for batched in (True, False):
        snapshot = take_snapshot(origin_url(chains), dead, validators, addresses(chains), batched=batched)
        assert snapshot.auxiliary.errors == (f"auxiliary chain: {dead} cannot be reached (connection refused).",)
        assert snapshot.origin.errors == ()
        assert snapshot.auxiliary.block_number is None and snapshot.proposers is None
        assert [row.stake_weight for row in snapshot.rows] == [v.stake for v in validators]
        assert all(row.ost_balance and row.eth_balance for row in snapshot.rows)
        assert all(row.base_coin_balance is None and row.in_polling_place is None and row.in_proposer_set is None
                   for row in snapshot.rows)
    text = format_table(snapshot)
    assert f"auxiliary  {dead}  not answering" in text
    assert f"error: auxiliary chain: {dead} cannot be reached (connection refused)." in text


def test_a_wrong_contract_address_fails_only_its_own_column(chains: TwoChains) -> None:
    validators = planned(chains)
    # An account without code where PollingPlace should be, and a Stake that is really the token.
    wrong = addresses(chains) | {"polling_place": chains.proposer.address, "stake": chains.origin.token.address}
    snapshot = both(chains, validators, wrong)
    assert all(row.in_polling_place is None and row.stake_weight is None for row in snapshot.rows)
    assert all(row.in_proposer_set is False and row.ost_balance for row in snapshot.rows)
    assert snapshot.auxiliary.errors == (
        "auxiliary chain: PollingPlace.totalWeight failed (empty answer (no contract code at that address?)).",
        "auxiliary chain: PollingPlace.getValidators failed (empty answer (no contract code at that address?)).")
    (error,) = snapshot.origin.errors
    assert error.startswith("origin chain: Stake.openHeight failed (execution reverted")


def test_the_table_shows_the_chain_values(chains: TwoChains) -> None:
    chains.prove_k0()
    validators = planned(chains, outsider("never-staked", 5 * OST))
    snapshot = take_snapshot(origin_url(chains), aux_url(chains), validators, addresses(chains))
    text = format_table(snapshot)
    lines = text.splitlines()
    assert lines[0].startswith(f"origin     {origin_url(chains)}  chain id {aux_setup.ORIGIN_CHAIN_ID}  "
                               f"block {chains.origin.w3.eth.block_number} at ")
    assert lines[0].endswith("  kernel height 0")
    assert f"block {chains.aux_w3.eth.block_number} at " in lines[1]
    assert lines[1].endswith("proposers 1 (0 planned validators)")
    header = next(line for line in lines if line.lstrip().startswith("#"))
    assert re.split(r"\s{2,}", header.strip()) == list(monitor.HEADERS)
    for row, validator in zip(snapshot.rows, validators, strict=True):
        (line,) = [line for line in lines if validator.origin_address in line]
        cells = re.split(r"\s{2,}", line.strip())
        ost = chains.origin.token.functions.balanceOf(validator.origin_address).call()
        eth = chains.origin.w3.eth.get_balance(validator.origin_address)
        if validator is validators[-1]:
            assert cells == [str(row.index + 1), validator.origin_address, validator.auxiliary_address,
                             "0 (plan 5)", "0", "0", "0", "no", "no", "-", "-", "-"]
            continue
        weight = short_amount(validator.stake)
        assert cells == [str(row.index + 1), validator.origin_address, validator.auxiliary_address, weight,
                         short_amount(ost), short_amount(eth), "0", f"yes {weight}", "no", "-", "-", "-"]
    assert "error:" not in text


def test_short_amount_rounds_down_and_groups_thousands() -> None:
    assert short_amount(None) == "-"
    assert short_amount(0) == "0"
    assert short_amount(1) == "<0.0001"
    assert short_amount(10**14) == "0.0001"
    assert short_amount(1234567 * OST + 98765 * 10**13) == "1,234,567.9876"
    assert short_amount(10**9 * OST) == "1,000,000,000"


def test_plan_helpers_take_ost_from_the_plan_unless_it_was_deployed(chains: TwoChains) -> None:
    plan = type("P", (), {})()
    plan.origin = type("O", (), {"ost": "0x" + "11" * 20, "rpc": origin_url(chains)})()
    plan.auxiliary = type("A", (), {"rpc": "http://127.0.0.1:1"})()
    plan.validators = tuple(planned(chains))
    plan.deploys_ost = False
    outputs = {"stake": chains.origin.stake.address, "auxiliary_rpc": aux_url(chains), "gas_price": 10**9}
    assert monitor.monitor_addresses(plan, outputs) == {"stake": chains.origin.stake.address, "ost": "0x" + "11" * 20}
    plan.deploys_ost = True
    assert monitor.monitor_addresses(plan, outputs | {"ost": chains.origin.token.address}) == {
        "stake": chains.origin.stake.address, "ost": chains.origin.token.address}
    with monitor.plan_monitor(plan, outputs | {"ost": chains.origin.token.address}) as watcher:
        first = watcher.snapshot()
        # The monitor follows the outputs as a deployment proceeds: step 3's addresses appear later.
        watcher.addresses |= {"polling_place": chains.polling_place.address}
        second = watcher.snapshot()
    assert first.errors == [] and second.errors == []
    assert first.auxiliary.url == aux_url(chains)  # the journal's auxiliary RPC wins over the plan's
    assert all(row.in_polling_place is None for row in first.rows)
    assert all(row.in_polling_place is False for row in second.rows)
    assert [replace(row, in_polling_place=None, polling_place_weight=None) for row in second.rows] == list(first.rows)


def test_benchmark_smoke_runs_with_a_few_validators() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "monitor_refresh.py"), "--validators", "5"],
                            capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stderr + result.stdout
    batched = re.search(r"batched:\s+([0-9.]+) s in (\d+) HTTP requests", result.stdout)
    single = re.search(r"one call per value:\s+([0-9.]+) s in (\d+) HTTP requests", result.stdout)
    assert batched and single, result.stdout
    # 5 validators: origin 3 requests + auxiliary 2; one per value: 2 + 18 (OriginCore's head and open
    # kernel too) + 2 + 19 (the gas price, PollingPlace's total weight and two last votes per validator too).
    assert (int(batched[2]), int(single[2])) == (5, 41)
    assert re.search(r"ratio:\s+[0-9.]+x", result.stdout)
    assert "rows identical: yes" in result.stdout
    assert "values checked against the chain: 5 validators" in result.stdout


def test_importing_the_monitor_pulls_in_neither_textual_nor_web3() -> None:
    code = "import sys, mosaic_tui.monitor; print(sorted(m for m in ('textual', 'web3') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
