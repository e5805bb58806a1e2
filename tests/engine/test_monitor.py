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
from dataclasses import replace
from pathlib import Path

from mosaic_tui import devnet, monitor
from mosaic_tui.keyref import KeyRef
from mosaic_tui.monitor import Snapshot, format_table, short_amount, take_snapshot
from mosaic_tui.plan import ValidatorPlan
from tests.contracts import aux_setup
from tests.contracts.aux_setup import TwoChains
from tests.contracts.origin_world import OST, keys
from tests.helpers import transact

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


def test_batched_reads_take_a_constant_number_of_requests_even_across_chunks(chains: TwoChains) -> None:
    validators = planned(chains, *(outsider(f"extra-{i}", (i + 1) * OST) for i in range(6)))
    where = addresses(chains)
    whole = take_snapshot(origin_url(chains), aux_url(chains), validators, where)
    # origin: head, then openHeight, OriginCore's head and open kernel + 2 reads per validator, then one
    # weight per validator; auxiliary: head, then 2 getValidators, the gas price, KernelGateway's active
    # kernel (2), PollingPlace's total weight + 1 balance per validator.
    assert whole.http_requests == 5
    chunked = take_snapshot(origin_url(chains), aux_url(chains), validators, where, chunk=4)
    assert chunked.rows == whole.rows
    count = len(validators)
    assert chunked.http_requests == 1 + -(-(3 + 2 * count) // 4) + -(-count // 4) + 1 + -(-(6 + count) // 4)
    single = take_snapshot(origin_url(chains), aux_url(chains), validators, where, batched=False)
    assert single.rows == whole.rows
    assert single.http_requests == 2 + (3 + 3 * count) + 2 + (6 + count)


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
    # kernel too) + 2 + 9 (the gas price and PollingPlace's total weight too).
    assert (int(batched[2]), int(single[2])) == (5, 31)
    assert re.search(r"ratio:\s+[0-9.]+x", result.stdout)
    assert "rows identical: yes" in result.stdout
    assert "values checked against the chain: 5 validators" in result.stdout


def test_importing_the_monitor_pulls_in_neither_textual_nor_web3() -> None:
    code = "import sys, mosaic_tui.monitor; print(sorted(m for m in ('textual', 'web3') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
