"""Issue 13 item 1: the journal is a cache, never an authority.

Someone who can edit `<plan>.state.json` (it may be shared, committed or pasted into a bug report) marks
`1.deploy_origin_core` with their own look-alike OriginCore, or forges the set-up block that becomes the
auxiliary chain's trust anchor. The resume must stop with exit 1 naming the entry and what differs,
before anything is signed: no transaction, no OST moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from eth_account import Account

from mosaic_tui import cli, deploy, keys
from mosaic_tui.contracts import load_artifact
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from mosaic_tui.runner import create_address
from mosaic_tui.steps import origin, staking
from tests.reliability import world as world_module
from tests.reliability.world import PASSPHRASE, World, chain_nonce, plan_dict


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path) -> World:
    return world_module.make_world(anvil_factory(), tmp_path)


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)


def write_plan(world: World) -> Path:
    path = world.directory / "mosaic-plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world)))
    return path


def ledger_of(world: World) -> dict[str, tuple[int, int]]:
    """Every account's origin nonce and OST balance: what a deployment would change."""
    token = world.node.w3.eth.contract(address=world.token, abi=load_artifact("EIP20Token")["abi"])
    return {a.address: (chain_nonce(world.node.rpc_url, a.address), token.functions.balanceOf(a.address).call())
            for a in world.accounts}


def look_alike_origin_core(world: World, plan_path: Path) -> tuple[Any, str, str, str]:
    """The attacker deploys an OriginCore of their own from their own account: (account, hash, raw, address)."""
    w3 = world.node.w3
    attacker = Account.create()
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": attacker.address, "value": 10**18})
    plan = load_plan(plan_path)
    args = (bytes.fromhex(plan.core_identifier[2:]), world.token, 0, b"\0" * 32, plan.minimum_weight,
            plan.auxiliary.gas_limit * plan.auxiliary.epoch_length)
    artifact = load_artifact("OriginCore")
    data = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"]).constructor(*args).data_in_transaction
    tx = {"data": data, "nonce": 0, "gas": 8_000_000, "maxFeePerGas": 10 * w3.eth.gas_price + 10**9,
          "maxPriorityFeePerGas": 10**9, "chainId": w3.eth.chain_id, "value": 0}
    signed = attacker.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt.status == 1
    return attacker, "0x" + bytes(tx_hash).hex(), "0x" + bytes(signed.raw_transaction).hex(), receipt.contractAddress


def forge(plan_path: Path, change: Any) -> None:
    path = journal_path(plan_path)
    if not path.exists():
        Journal.load(path).bind_plan(load_plan(plan_path).digest())
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def resume_refused(plan_path: Path, capsys: pytest.CaptureFixture[str], codes: tuple[int, ...] = (1,)) -> str:
    code = cli.main(["deploy", str(plan_path), "--yes"])
    err = capsys.readouterr().err
    assert code in codes, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("how", ["sent with the attacker's bytes", "sent under the deployer's name",
                                 "confirmed with the look-alike's outputs", "bytes that are not its hash"])
def test_a_forged_look_alike_origin_core_in_the_journal_stops_the_resume_before_anything_is_signed(
        world: World, capsys: pytest.CaptureFixture[str], how: str) -> None:
    plan_path = write_plan(world)
    attacker, tx_hash, raw, look_alike = look_alike_origin_core(world, plan_path)
    deployer = world.accounts[0].address
    thief_stake = world.node.w3.eth.contract(address=look_alike, abi=load_artifact("OriginCore")["abi"]) \
        .functions.stake().call()

    def edit(data: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"status": "sent", "chain": "origin", "sender": attacker.address, "nonce": 0,
                                 "tx_hash": tx_hash, "raw_tx": raw, "earlier_tx_hashes": [], "receipt": None,
                                 "outputs": {}, "error": None, "updated_at": 0}
        outputs = {"origin_core": look_alike}
        if how == "sent under the deployer's name":
            entry["sender"] = deployer
        elif how == "confirmed with the look-alike's outputs":
            entry.update(status="confirmed", sender=deployer,
                         receipt={"block_number": 2, "gas_used": 10**6, "status": 1},
                         outputs={"origin_core": look_alike, "stake": thief_stake})
            outputs["stake"] = thief_stake
        elif how == "bytes that are not its hash":
            entry.update(sender=deployer, raw_tx="0x02c0")
        data["actions"]["1.deploy_origin_core"] = entry
        data["steps"]["1"] = {"done": how.startswith("confirmed"), "outputs": outputs}

    forge(plan_path, edit)
    before = ledger_of(world)
    if how == "sent with the attacker's bytes":
        # Bytes the attacker really signed name the attacker as this deployment's deployer: the preflight
        # refuses the plan's key for it (exit 2) before the runner would (exit 1). Either way: nothing signed.
        err = resume_refused(plan_path, capsys, (1, 2))
        assert "1.deploy_origin_core" in err, err
    else:
        err = resume_refused(plan_path, capsys)
        assert "1.deploy_origin_core" in err and "does not match" in err and "Nothing was signed" in err, err
    assert ledger_of(world) == before  # no transaction, no OST moved
    token = world.node.w3.eth.contract(address=world.token, abi=load_artifact("EIP20Token")["abi"])
    assert token.functions.balanceOf(thief_stake).call() == 0


@pytest.mark.parametrize("field", ["setup_block_hash", "setup_state_root"])
def test_a_forged_set_up_block_is_never_used_as_the_trust_anchor(world: World, capsys: pytest.CaptureFixture[str],
                                                                 field: str) -> None:
    plan_path = write_plan(world)
    deploy.execute(deploy.prepare(plan_path), lambda event: None, steps=[origin.step, staking.step])
    journal = Journal.load(journal_path(plan_path))
    assert journal.is_step_done("2")
    forged = "0x" + "ee" * 32

    forge(plan_path, lambda data: data["steps"]["2"]["outputs"].__setitem__(field, forged))
    before = ledger_of(world)
    err = resume_refused(plan_path, capsys)
    assert field in err and "step 2" in err and "does not match" in err, err  # (hashes are redacted in errors)
    assert ledger_of(world) == before
    assert not (plan_path.parent / "out" / "genesis.json").exists()  # step 3 never began


def test_an_untouched_journal_is_adopted_as_before(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """The checks do not refuse an honest resume: the same run, stopped after step 1, goes on."""
    plan_path = write_plan(world)
    deploy.execute(deploy.prepare(plan_path), lambda event: None, steps=[origin.step])
    deployer = world.accounts[0].address
    origin_core = Journal.load(journal_path(plan_path)).outputs()["origin_core"]
    assert origin_core == create_address(deployer, chain_nonce(world.node.rpc_url, deployer) - 2)
    deploy.execute(deploy.prepare(plan_path), lambda event: None, steps=[origin.step, staking.step])
    assert Journal.load(journal_path(plan_path)).is_step_done("2")
