"""A real geth `--dev` node for the tests: the origin client operators actually point this tool at.

geth keeps the state of the latest 128 blocks only, limits batches, reports "finalized" blocks and
holds an unlocked developer account: everything anvil does not do. `start_geth` runs the pinned
binary (`mosaic-tui tools install` builds it) on free loopback ports in a temporary data folder;
`GethNode.stop` ends exactly that process, by PID.
"""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui import devnet, toolchain

GETH_CHAIN_ID = 1337  # what `geth --dev` always uses
START_TIMEOUT = 30.0
STATE_WINDOW = 128  # blocks of state a geth full node (path scheme) serves


@dataclass
class GethNode:
    port: int
    datadir: Path
    pid: int
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    chain_id: int = GETH_CHAIN_ID

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rpc(self, method: str, *params: Any) -> Any:
        return devnet.rpc_call(self.rpc_url, method, params, timeout=10.0)

    @property
    def w3(self) -> Any:
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))

    @property
    def dev_account(self) -> str:
        accounts = self.rpc("eth_accounts")
        return str(accounts[0])

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def send(self, to: str, value: int, sender: str | None = None) -> str:
        """A plain transfer from the unlocked developer account (geth signs it)."""
        return str(self.rpc("eth_sendTransaction", {"from": sender or self.dev_account, "to": to,
                                                    "value": hex(value)}))

    def wait_for_block(self, number: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while self.block_number() < number:
            if time.monotonic() > deadline:
                raise TimeoutError(f"geth did not reach block {number} within {timeout:.0f} s")
            time.sleep(0.2)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_geth(datadir: Path, *, period: int = 1, extra_args: tuple[str, ...] = ()) -> GethNode:
    """Start `geth --dev` (a block every `period` seconds; 0: a block per pending transaction)."""
    binary = toolchain.geth_path()
    datadir.mkdir(parents=True, exist_ok=True)
    port = devnet.free_port()
    log_path = datadir / "geth.log"
    args = [str(binary), "--dev", "--dev.period", str(period), "--datadir", str(datadir),
            "--http", "--http.addr", "127.0.0.1", "--http.port", str(port),
            "--http.api", "eth,net,web3,debug,txpool", "--ipcdisable", "--nodiscover", "--maxpeers", "0",
            "--port", "0", "--authrpc.port", str(devnet.free_port()), "--verbosity", "2", "--cache", "256",
            *extra_args]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    node = GethNode(port=port, datadir=datadir, pid=process.pid, log_path=log_path, process=process)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"geth exited at start with code {process.returncode}: {node.log_tail()}")
            try:
                if int(node.rpc("eth_chainId"), 16) == GETH_CHAIN_ID and node.rpc("eth_accounts"):
                    return node
            except (OSError, urllib.error.URLError, ValueError, devnet.DevnetError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"geth did not answer on {node.rpc_url} within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)
    except BaseException:
        node.stop()
        raise
