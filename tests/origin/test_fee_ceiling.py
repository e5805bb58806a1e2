"""Issue 12, fees under a ceiling: a base-fee spike (anvil_setNextBlockBaseFeePerGas) strands the
deployment's transactions; each is replaced at its own nonce with both fees raised by at least 10 %,
never above the plan's ceiling; at the ceiling the run says it waits and why; whichever version is mined
is adopted, and no action has two effects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import deploy, devnet, events, keys
from mosaic_tui.chain.sender import decode_raw
from mosaic_tui.contracts import load_artifact
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.runner import create_address
from mosaic_tui.steps import origin, staking
from mosaic_tui.verify import code_matches
from mosaic_tui.widgets.progress_model import DeploymentProgress
from tests.reliability import world as world_module
from tests.reliability.world import PASSPHRASE, World, chain_nonce, plan_dict

GWEI = 10**9
CEILING, TIP_CEILING = 30 * GWEI, 2 * GWEI
SPIKE = 100 * GWEI


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path) -> World:
    built = world_module.make_world(anvil_factory(), tmp_path)
    devnet.rpc_call(built.node.rpc_url, "evm_setAutomine", [False])
    devnet.rpc_call(built.node.rpc_url, "evm_setIntervalMining", [1])  # a block a second, like a real chain
    return built


def test_stranded_transactions_are_replaced_under_the_ceiling_and_each_action_has_one_effect(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    url = world.node.rpc_url
    plan_path = world.directory / "mosaic-plan.toml"
    plan_path.write_text(tomli_w.dumps(plan_dict(world, 2, **{
        "origin.max_fee_per_gas": "30 gwei", "origin.max_priority_fee_per_gas": "2 gwei",
        "origin.replace_after_blocks": 2})))
    seen: list[events.Event] = []
    spiked: set[str] = set()

    def spike(event: events.Event) -> None:
        seen.append(event)
        if isinstance(event, events.TxSent) and event.action in ("1.deploy_origin_core", "2.approve_stake.0") \
                and event.action not in spiked:
            spiked.add(event.action)
            devnet.rpc_call(url, "anvil_setNextBlockBaseFeePerGas", [hex(SPIKE)])

    prepared = deploy.prepare(plan_path)
    deploy.execute(prepared, spike, steps=[origin.step, staking.step])

    journal = Journal.load(journal_path(plan_path))
    assert journal.is_step_done("2")
    replacements = [e for e in seen if isinstance(e, events.TxSent) and e.replaced]
    assert replacements, "no transaction was replaced"
    waits = [e.reason for e in seen if isinstance(e, events.Waiting) and "ceiling" in e.reason]
    assert waits and "origin.max_fee_per_gas 30 gwei" in waits[0], waits

    mined_per_sender: dict[str, int] = {}
    for entry in journal.entries():
        if not entry.tx_hash:
            continue
        receipts = [devnet.rpc_call(url, "eth_getTransactionReceipt", [h]) for h, _ in entry.versions]
        assert sum(r is not None for r in receipts) == 1, entry.action_id  # one version mined, one effect
        assert entry.receipt is not None and devnet.rpc_call(url, "eth_getTransactionReceipt", [entry.tx_hash])
        for _, raw in entry.versions:  # the ceiling is never exceeded, by any version ever signed
            fees = decode_raw(bytes.fromhex(raw[2:])).fees
            assert fees["maxFeePerGas"] <= CEILING and fees["maxPriorityFeePerGas"] <= TIP_CEILING, entry.action_id
        mined_per_sender[entry.sender or ""] = mined_per_sender.get(entry.sender or "", 0) + 1
    for sender, count in mined_per_sender.items():
        assert chain_nonce(url, sender) == count, sender
    deployer = world.accounts[0].address
    artifact = load_artifact("OriginCore")
    assert sum(code_matches(bytes(world.node.w3.eth.get_code(create_address(deployer, n))), artifact)
               for n in range(chain_nonce(url, deployer))) == 1
    replaced_entries = [e for e in journal.entries() if e.earlier_tx_hashes]
    assert replaced_entries and all(len(e.earlier_raw_txs) == len(e.earlier_tx_hashes) for e in replaced_entries)

    # Each replacement raised both fees by at least 10 % over the version it replaced (a pool refuses less).
    raw_of = {tx_hash: raw for entry in journal.entries() for tx_hash, raw in entry.versions}
    sent: dict[str, list[str]] = {}
    for event in seen:
        if isinstance(event, events.TxSent) and event.tx_hash not in sent.setdefault(event.action, []):
            sent[event.action].append(event.tx_hash)
    bumps = 0
    for action, hashes in sent.items():
        fees = [decode_raw(bytes.fromhex(raw_of[h][2:])).fees for h in hashes]
        for before, after in zip(fees, fees[1:], strict=False):
            bumps += 1
            for name in ("maxFeePerGas", "maxPriorityFeePerGas"):
                assert after[name] * 100 >= before[name] * 110, (action, name, before[name], after[name])
    assert bumps >= len(replaced_entries)

    # What the wizard's step page shows for such an action: "replaced (n)" while it waits, then confirmed.
    progress = DeploymentProgress()
    shown: dict[str, list[str]] = {}
    for event in seen:
        row = progress.apply(event)
        if row is not None:
            shown.setdefault(row.action, []).append(row.status)
    replaced_action = replacements[0].action
    assert f"replaced ({replacements[0].replaced})" in shown[replaced_action]
    assert shown[replaced_action][-1] == "confirmed"
