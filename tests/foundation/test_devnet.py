"""The devnet against real anvil: up/status/down as a user runs them, persistence, and the bad cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mosaic_tui import devnet
from mosaic_tui.errors import DevnetError


def run_cli(*args: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MOSAIC_TUI_DEVNET_DIR": str(env_dir)}
    return subprocess.run([sys.executable, "-m", "mosaic_tui.cli", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def wait_for(probe, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def anvil_pids(port: int | None = None) -> set[int]:
    """Running anvil processes (on `port` only, when given: other suites may run nodes meanwhile)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = [part.decode(errors="replace") for part in (entry / "cmdline").read_bytes().split(b"\0")]
            except OSError:
                continue
            if not cmd or Path(cmd[0]).name != "anvil" or not devnet.pid_alive(int(entry.name)):
                continue
            if port is None or str(port) in cmd:
                pids.add(int(entry.name))
    return pids


def test_up_status_down_cycle_keeps_state_and_leaves_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "devnet"
    port = devnet.free_port()
    try:
        _cycle(directory, port)
    finally:
        for node in devnet.load_record(directory).values():  # whatever failed, stop what we started
            node.stop()
    assert anvil_pids(port) == set()


def _cycle(directory: Path, port: int) -> None:
    started = run_cli("devnet", "up", "--port", str(port), "--chain-id", "4242", env_dir=directory)
    assert started.returncode == 0, started.stderr
    assert "origin node started" in started.stdout and "mosaic-tui devnet down" in started.stdout
    record = json.loads((directory / "devnet.json").read_text())["nodes"]["origin"]
    assert record["port"] == port and record["chain_id"] == 4242
    assert anvil_pids(port) == {record["pid"]}

    # Use it: a transaction lands, and survives a restart of the node.
    url = f"http://127.0.0.1:{port}"
    accounts = devnet.rpc_call(url, "eth_accounts")
    tx_hash = devnet.rpc_call(url, "eth_sendTransaction", [{"from": accounts[0], "to": accounts[1], "value": hex(10**18)}])
    receipt = wait_for(lambda: devnet.rpc_call(url, "eth_getTransactionReceipt", [tx_hash]))
    assert int(receipt["blockNumber"], 16) == 1 and int(receipt["status"], 16) == 1

    again = run_cli("devnet", "up", "--port", str(port), "--chain-id", "4242", env_dir=directory)
    assert again.returncode == 0 and "already running" in again.stdout

    status = run_cli("devnet", "status", env_dir=directory)
    assert status.returncode == 0
    line = next(line for line in status.stdout.splitlines() if line.startswith("origin"))
    assert str(record["pid"]) in line and "running" in line and line.split()[-1] == "1"

    down = run_cli("devnet", "down", env_dir=directory)
    assert down.returncode == 0 and f"stopped origin node (PID {record['pid']}" in down.stdout
    assert anvil_pids(port) == set()
    assert not (directory / "devnet.json").exists()

    restarted = run_cli("devnet", "up", "--port", str(port), "--chain-id", "4242", env_dir=directory)
    assert restarted.returncode == 0, restarted.stderr
    assert int(devnet.rpc_call(url, "eth_blockNumber"), 16) == 1
    balance = int(devnet.rpc_call(url, "eth_getBalance", [accounts[1], "latest"]), 16)
    assert balance == 10_001 * 10**18
    assert run_cli("devnet", "down", env_dir=directory).returncode == 0


def test_port_in_use_is_bad_input_and_starts_nothing(tmp_path: Path, anvil) -> None:
    result = run_cli("devnet", "up", "--port", str(anvil.port), env_dir=tmp_path / "devnet")
    assert result.returncode == 2
    assert f"port {anvil.port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert anvil_pids(anvil.port) == {anvil.pid}


def test_stale_record_is_reported_and_cleared(tmp_path: Path) -> None:
    directory = tmp_path / "devnet"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = devnet.AnvilNode(name="origin", host="127.0.0.1", port=devnet.free_port(), chain_id=1337, pid=dead.pid)
    devnet.save_record(directory, {"origin": stale})

    status = run_cli("devnet", "status", env_dir=directory)
    assert "stopped" in status.stdout
    down = run_cli("devnet", "down", env_dir=directory)
    assert down.returncode == 0
    assert f"origin node (PID {dead.pid}, port {stale.port}) is no longer running; removed its stale record" in down.stdout
    assert not (directory / "devnet.json").exists()


def test_corrupt_record_is_a_clear_sentence(tmp_path: Path) -> None:
    directory = tmp_path / "devnet"
    directory.mkdir()
    (directory / "devnet.json").write_text("{not json")
    result = run_cli("devnet", "status", env_dir=directory)
    assert result.returncode == 2 and "is not a devnet record this program wrote" in result.stderr


def test_node_that_dies_at_start_leaves_no_process(tmp_path: Path) -> None:
    port = devnet.free_port()
    with pytest.raises(DevnetError) as raised:
        devnet.start_anvil(port=port, extra_args=["--no-such-flag"], log_path=tmp_path / "anvil.log")
    assert "exited at start" in str(raised.value) and "--no-such-flag" in str(raised.value)
    assert raised.value.exit_code == 1
    assert anvil_pids(port) == set()


def test_auxiliary_node_from_genesis(tmp_path: Path, anvil_factory) -> None:
    """The step-3 path: anvil started from a genesis file with its chain id; only the allocation has coin."""
    holder = "0x" + "ab" * 20
    genesis = {
        "config": {"chainId": 9001, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
                   "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
                   "berlinBlock": 0, "londonBlock": 0, "shanghaiTime": 0},
        "nonce": "0x0", "timestamp": "0x0", "extraData": "0x", "gasLimit": "0x1c9c380", "difficulty": "0x0",
        "baseFeePerGas": "0x0", "alloc": {holder: {"balance": hex(5 * 10**18)}},
    }
    path = tmp_path / "genesis.json"
    path.write_text(json.dumps(genesis))
    node = anvil_factory(name="auxiliary", genesis=path, chain_id=9001, accounts=0, base_fee=0)
    assert node.w3.eth.chain_id == 9001
    assert node.w3.eth.get_balance(node.w3.to_checksum_address(holder)) == 5 * 10**18
    assert node.w3.eth.accounts == []
