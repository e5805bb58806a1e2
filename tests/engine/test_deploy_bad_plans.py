"""Bad plans are refused before anything is signed: exit code 2, every problem named, no transaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from eth_account import Account

from mosaic_tui import devnet, keys
from tests.helpers import deploy, transact

PASSPHRASE = "correct horse battery"


def write_keystore(path: Path, account: Any) -> None:
    """An encrypted keystore with a cheap KDF: the real scrypt cost is seconds per key, too slow for tests."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(account.key, PASSPHRASE, iterations=2)))
    path.chmod(0o600)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, keys.PASSPHRASE_ENV: PASSPHRASE}
    return subprocess.run([sys.executable, "-m", "mosaic_tui.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


@pytest.fixture
def world(anvil: devnet.AnvilNode, tmp_path: Path) -> dict[str, Any]:
    """A real origin chain with a real OST token, and keystore keys for a deployer and three validators."""
    w3 = anvil.w3
    token = deploy(w3, "EIP20Token", "Simple Token", "OST", 18, 10**27)
    accounts = [Account.create() for _ in range(5)]
    refs = []
    for index, account in enumerate(accounts):
        path = tmp_path / "keys" / f"key{index}.json"
        write_keystore(path, account)
        refs.append(f"keystore:{path}")
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": account.address, "value": 10**18})
        transact(w3, token.functions.transfer(account.address, 5000 * 10**18))
    return {"node": anvil, "token": token.address, "accounts": accounts, "refs": refs, "dir": tmp_path}


def plan_dict(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    accounts, refs = world["accounts"], world["refs"]
    chain_id = world["node"].chain_id
    validators = [{"origin_address": accounts[i].address, "auxiliary_address": Account.create().address,
                   "stake": "1000 OST", "gateway_stake": "10 OST", "origin_key": refs[i], "auxiliary_key": "node"}
                  for i in (1, 2, 3)]
    plan = {
        "plan_version": 1, "devnet": False, "out_dir": "out",
        "core": {"identifier": "0x" + chain_id.to_bytes(8, "big").hex() + (1405).to_bytes(12, "big").hex(),
                 "minimum_weight": "1000 OST"},
        "origin": {"rpc": world["node"].rpc_url, "chain_id": chain_id, "ost": world["token"], "deployer": refs[0],
                   "deployer_gateway_stake": "100 OST", "confirmations": 0},  # anvil mines only for a transaction
        "auxiliary": {"rpc": f"http://127.0.0.1:{devnet.free_port()}", "chain_id": 1405, "initial_proposer": refs[4]},
        "validators": validators,
    }
    for path, value in changes.items():
        target = plan
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return plan


def refused(world: dict[str, Any], plan: dict[str, Any]) -> str:
    path = world["dir"] / "plan.toml"
    path.write_text(tomli_w.dumps(plan))
    w3 = world["node"].w3
    block = w3.eth.block_number
    result = cli("deploy", str(path), "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert w3.eth.block_number == block, "a transaction was sent"
    return result.stderr


def test_good_plan_passes_preflight(world: dict[str, Any]) -> None:
    path = world["dir"] / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world)))
    result = cli("deploy", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing was sent" in result.stdout and "Origin contracts" in result.stdout


def test_wrong_chain_id(world: dict[str, Any]) -> None:
    identifier = "0x" + (5).to_bytes(8, "big").hex() + (1405).to_bytes(12, "big").hex()
    err = refused(world, plan_dict(world, **{"origin.chain_id": 5, "core.identifier": identifier}))
    assert "origin.chain_id" in err and f"is chain {world['node'].chain_id}" in err


def test_unreachable_rpc(world: dict[str, Any]) -> None:
    err = refused(world, plan_dict(world, **{"origin.rpc": f"http://127.0.0.1:{devnet.free_port()}"}))
    assert "origin.rpc" in err and "no node answers" in err


def test_ost_without_code(world: dict[str, Any]) -> None:
    err = refused(world, plan_dict(world, **{"origin.ost": Account.create().address}))
    assert "origin.ost" in err and "has no contract code" in err


def test_validator_without_funds_and_static_problems_all_named(world: dict[str, Any]) -> None:
    poor = Account.create()
    path = world["dir"] / "keys" / "poor.json"
    write_keystore(path, poor)
    err = refused(world, plan_dict(world, **{"validators.2.origin_address": poor.address,
                                             "validators.2.origin_key": f"keystore:{path}"}))
    assert "validators[2].origin_address" in err and "holds 0 OST" in err


def test_several_static_problems_reported_at_once(world: dict[str, Any]) -> None:
    plan = plan_dict(world, **{"core.identifier": "0x1234", "validators.1.stake": "0"})
    plan["validators"].append(dict(plan["validators"][0]))  # a duplicate validator
    err = refused(world, plan)
    for field in ("core.identifier", "validators[1].stake", "validators[3]"):
        assert field in err, f"{field} not named in: {err}"


def test_wrong_passphrase_names_the_key(world: dict[str, Any]) -> None:
    path = world["dir"] / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world)))
    env = {**os.environ, keys.PASSPHRASE_ENV: "not the passphrase"}
    result = subprocess.run([sys.executable, "-m", "mosaic_tui.cli", "deploy", str(path), "--yes"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2 and "origin.deployer" in result.stderr
    assert "the passphrase does not open the keystore" in result.stderr
