"""After a whole deployment with keyring- and keystore-held keys, no file the program wrote holds a key
or a passphrase, and the files that map accounts to their secrets are 0600.

The plan is what a real operator writes (no dev keys, no devnet): keys in the system keyring and in
encrypted keystores, one of them written by the program itself (`keys.store_in_keystore`, as the
wizard does with a pasted key), accounts funded on a local origin chain, and the auxiliary node
started "by the operator" from the genesis step 3 writes. The keyring is an in-memory backend
selected explicitly, so no keyring file could be the place a key turns up; the program still opens
every key through `keys.open_signer`.
"""

from __future__ import annotations

import re
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest
import tomli_w
from eth_account import Account

from mosaic_tui import cli, devnet, genesis, keys
from mosaic_tui.plan import load_plan
from tests.helpers import deploy
from tests.keyring_memory import MemoryKeyring
from tests.reliability.world import AUXILIARY_CHAIN_ID, PASSPHRASE, core_identifier, fund, write_keystore


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_memory.MemoryKeyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    assert keys.usable_keyring() is backend
    return backend


def secret_patterns(private_keys: list[bytes], passphrases: list[str]) -> list[bytes]:
    """Lowercase forms to look for in lowercased file bytes: each key's hex (which also matches it with
    0x and in any case) and each passphrase."""
    return [key.hex().encode() for key in private_keys] + [p.lower().encode() for p in passphrases]


def scan(files: list[Path], patterns: list[bytes]) -> tuple[int, list[str]]:
    """Bytes read and every (file, secret number) where a secret appears."""
    total, hits = 0, []
    for path in files:
        data = path.read_bytes().lower()
        total += len(data)
        hits += [f"{path}: secret #{i}" for i, pattern in enumerate(patterns) if pattern in data]
    return total, hits


def every_file(*roots: Path) -> list[Path]:
    return sorted({p for root in roots for p in root.rglob("*") if p.is_file() and not p.is_symlink()})


def play_the_engine(plan: Any, stop: threading.Event) -> None:
    """anvil is no AuRa engine: make its SYSTEM call ProposerSet.finalizeChange whenever one is due."""
    from mosaic_tui.steps.auxiliary import devnet_engine_finalize

    while not stop.wait(0.3):
        try:
            devnet_engine_finalize(plan.auxiliary.rpc, plan)
        except (OSError, devnet.DevnetError):
            if stop.is_set():
                return


def start_operator_node(anvil_factory: Any, plan_path: Path, started: list[Any], stop: threading.Event) -> None:
    """Play the operator: once step 3 has written genesis.json, start the auxiliary node from it."""
    target = plan_path.parent / "out" / "genesis.json"
    while not stop.is_set():
        if target.is_file():
            plan = load_plan(plan_path)
            port = int(plan.auxiliary.rpc.rsplit(":", 1)[1])
            started.append(anvil_factory(port=port, chain_id=AUXILIARY_CHAIN_ID, hardfork=genesis.HARDFORK,
                                         accounts=0, genesis=target, extra_args=genesis.anvil_flags(plan)))
            play_the_engine(plan, stop)
            return
        time.sleep(0.05)


@pytest.fixture
def operator(anvil_factory: Any) -> Iterator[Any]:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def watch(plan_path: Path, started: list[Any]) -> None:
        thread = threading.Thread(target=start_operator_node, args=(anvil_factory, plan_path, started, stop),
                                  daemon=True)
        thread.start()
        threads.append(thread)

    yield watch
    stop.set()
    for thread in threads:
        thread.join(20)


def test_no_key_or_passphrase_in_any_written_file(anvil_factory: Any, memory_keyring: MemoryKeyring, operator: Any,
                                                 tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, isolated_home: Path,
                                                 figure: Any) -> None:
    node = anvil_factory()
    w3 = node.w3
    token = deploy(w3, "EIP20Token", "Simple Token", "OST", 18, 10**27)
    deployer, proposer, *validators = [Account.create() for _ in range(5)]
    keystores = tmp_path / "keys"
    # The deployer's key the way the wizard stores a pasted key: the program writes the keystore.
    deployer_ref = keys.store_in_keystore(keystores / "deployer.json", "0x" + bytes(deployer.key).hex(), PASSPHRASE)
    proposer_ref = keys.store_in_keyring("proposer", "0x" + bytes(proposer.key).hex())
    validator_refs = [str(keys.store_in_keyring("validator-0", bytes(validators[0].key).hex())),
                      f"keystore:{write_keystore(keystores / 'v1.json', validators[1])}",
                      f"keystore:{write_keystore(keystores / 'v2.json', validators[2])}"]
    for account in (deployer, *validators):
        fund(w3, token, account.address)

    plan_path = tmp_path / "deploy" / "mosaic-plan.toml"
    plan_path.parent.mkdir()
    auxiliary_rpc = f"http://127.0.0.1:{devnet.free_port()}"
    plan_path.write_text(tomli_w.dumps({
        "plan_version": 1, "devnet": False, "out_dir": "out",
        "core": {"identifier": core_identifier(node.chain_id), "minimum_weight": "1000 OST"},
        "origin": {"rpc": node.rpc_url, "chain_id": node.chain_id, "ost": token.address, "deployer": str(deployer_ref),
                   "deployer_gateway_stake": "100 OST", "confirmations": 0},  # anvil mines only for a transaction
        "auxiliary": {"rpc": auxiliary_rpc, "chain_id": AUXILIARY_CHAIN_ID, "initial_proposer": str(proposer_ref),
                      "block_time": 1, "gas_limit": 30_000_000, "gas_price": "1 gwei", "epoch_length": 10},
        "validators": [{"origin_address": account.address, "auxiliary_address": Account.create().address,
                        "stake": f"{1000 + i} OST", "gateway_stake": "10 OST", "origin_key": ref,
                        "auxiliary_key": "node"} for i, (account, ref) in enumerate(zip(validators, validator_refs, strict=True))],
    }))
    started: list[Any] = []
    operator(plan_path, started)
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    log = tmp_path / "logs" / "terminal.log"
    log.parent.mkdir()
    for command in (["deploy", str(plan_path), "--yes"], ["export", str(plan_path)], ["verify", str(plan_path)],
                    ["status", str(plan_path), "--once"]):
        code = cli.main(command)
        printed, err = capsys.readouterr()
        with log.open("a") as handle:
            handle.write(f"$ mosaic-tui {' '.join(command)}\n{printed}{err}")
        assert code == 0, f"{command}: {printed[-2000:]}{err}"
    assert started, "the auxiliary node was never needed"
    verified = re.search(r"(\d+) passed, 0 failed", log.read_text())
    assert verified and int(verified[1]) >= 15, "verify did not pass"
    assert {"proposer", "validator-0"} <= set(memory_keyring.read), "the keyring keys were not opened"

    private_keys = [bytes(a.key) for a in (deployer, proposer, *validators)]
    patterns = secret_patterns(private_keys, [PASSPHRASE])
    files = every_file(tmp_path, isolated_home)
    total, hits = scan(files, patterns)
    assert hits == []

    out = plan_path.parent / "out"
    secret_bearing = [plan_path.with_name("mosaic-plan.state.json"), out / "rum.toml", *out.glob("rum-*.env"),
                      keystores / "deployer.json"]
    assert len(list(out.glob("rum-*.env"))) == len(validators)
    modes = {str(p): stat.S_IMODE(p.stat().st_mode) for p in secret_bearing}
    assert modes == dict.fromkeys(modes, 0o600), modes
    # What the exports hold instead: references, never the secrets behind them.
    assert re.search(r"keyring:validator-0", (out / "rum.toml").read_text())

    # The scan itself works: a key planted in any case, with or without 0x, is found.
    planted = tmp_path_factory.mktemp("planted")
    (planted / "a.txt").write_text("key = 0x" + private_keys[2].hex().upper())
    (planted / "b.txt").write_text("x" + PASSPHRASE.title())
    assert len(scan(every_file(planted), patterns)[1]) == 2
    figure(f"secrets: {len(files)} files, {total:,} bytes scanned for {len(private_keys)} private keys and "
           f"1 passphrase: 0 hits; {len(secret_bearing)} secret-bearing files, all 0600")
