"""What the reliability tests share: a funded origin chain for non-devnet plans, and the ledger checks.

A non-devnet plan needs what a real operator has: an OST token on origin and accounts that hold ETH
and OST, opened through keystore files or the keyring (never dev keys). `make_world` builds that on
a local anvil. `ledger` compares the journal with what the chains hold: every transaction the
journal records is counted by the nodes' nonces, and nothing else was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from mosaic_tui import devnet
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from tests.helpers import deploy, transact

PASSPHRASE = "correct horse battery staple"
AUXILIARY_CHAIN_ID = 1405
OST = 10**18


def write_keystore(path: Path, account: Any, passphrase: str = PASSPHRASE) -> Path:
    """An encrypted keystore with a cheap KDF: the real scrypt cost is about a second per key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(account.key, passphrase, iterations=2)))
    path.chmod(0o600)
    return path


@dataclass
class World:
    node: devnet.AnvilNode
    token: str
    accounts: list[Any]  # eth-account LocalAccounts: 0 deployer, 1..n-2 validators, n-1 initial proposer
    refs: list[str]  # keystore:<path> of each account
    directory: Path


def fund(w3: Any, token: Any, address: str, *, eth: int = 10**18, ost: int = 5000 * OST) -> None:
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": address, "value": eth})
    if ost:
        transact(w3, token.functions.transfer(address, ost))


def make_world(node: devnet.AnvilNode, directory: Path, count: int = 5) -> World:
    """A real OST token and `count` keystore accounts, each holding 1 ETH and 5,000 OST."""
    w3 = node.w3
    token = deploy(w3, "EIP20Token", "Simple Token", "OST", 18, 10**27)
    accounts = [Account.create() for _ in range(count)]
    refs = []
    for index, account in enumerate(accounts):
        refs.append(f"keystore:{write_keystore(directory / 'keys' / f'key{index}.json', account)}")
        fund(w3, token, account.address)
    return World(node, token.address, accounts, refs, directory)


def core_identifier(origin_chain_id: int, auxiliary_chain_id: int = AUXILIARY_CHAIN_ID) -> str:
    return "0x" + origin_chain_id.to_bytes(8, "big").hex() + auxiliary_chain_id.to_bytes(12, "big").hex()


def plan_dict(world: World, count: int = 3, *, auxiliary_rpc: str | None = None,
              **changes: Any) -> dict[str, Any]:
    """A non-devnet plan over the world's accounts; `changes` maps dotted paths to new values."""
    accounts, refs = world.accounts, world.refs
    chain_id = world.node.chain_id
    members = [{"origin_address": accounts[i].address, "auxiliary_address": Account.create().address,
                "stake": "1000 OST", "gateway_stake": "10 OST", "origin_key": refs[i], "auxiliary_key": "node"}
               for i in range(1, 1 + count)]
    plan: dict[str, Any] = {
        "plan_version": 1, "devnet": False, "out_dir": "out",
        "core": {"identifier": core_identifier(chain_id), "minimum_weight": "1000 OST"},
        "origin": {"rpc": world.node.rpc_url, "chain_id": chain_id, "ost": world.token, "deployer": refs[0],
                   "deployer_gateway_stake": "100 OST", "confirmations": 0},  # anvil mines only for a transaction
        "auxiliary": {"rpc": auxiliary_rpc or f"http://127.0.0.1:{devnet.free_port()}",
                      "chain_id": AUXILIARY_CHAIN_ID, "initial_proposer": refs[-1], "block_time": 1,
                      "gas_limit": 30_000_000, "gas_price": "1 gwei", "epoch_length": 10},
        "validators": members,
    }
    for path, value in changes.items():
        set_field(plan, path, value)
    return plan


DELETE = object()  # a value for `set_field` that removes the key


def set_field(data: Any, path: str, value: Any) -> None:
    """Set `a.b.0.c` in nested dicts and lists; the value `DELETE` removes the key."""
    *parents, last = path.split(".")
    for part in parents:
        data = data[int(part)] if part.isdigit() else data[part]
    key: Any = int(last) if last.isdigit() else last
    if value is DELETE:
        del data[key]
    else:
        data[key] = value



def chain_nonce(url: str, address: str) -> int:
    return int(devnet.rpc_call(url, "eth_getTransactionCount", [address, "latest"], timeout=10), 16)


def ledger(plan_path: Path) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """(the nodes' nonce of every journalled sender, the transactions the journal holds for it)."""
    plan = load_plan(plan_path)
    urls = {"origin": plan.origin.rpc, "auxiliary": plan.auxiliary.rpc}
    counts: dict[tuple[str, str], int] = {}
    for entry in Journal.load(journal_path(plan_path)).entries():
        if entry.tx_hash:
            key = (entry.chain or "", entry.sender or "")
            counts[key] = counts.get(key, 0) + 1 + len(entry.earlier_tx_hashes)
    return {key: chain_nonce(urls[key[0]], key[1]) for key in counts}, counts


def resent_actions(plan_path: Path) -> list[str]:
    """Actions that hold more than one signed transaction: each one a second signature for one action."""
    return [e.action_id for e in Journal.load(journal_path(plan_path)).entries() if e.earlier_tx_hashes]
