"""Local anvil nodes: the devnet that lets anyone try the whole deployment in seconds.

`start_anvil` is the one place that launches anvil (tests, `devnet up` and step 3's auxiliary node
all go through it). `devnet up|down|status` keep a small record (devnet.json) of the PIDs and ports
they started, so `down` stops exactly those processes and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mosaic_tui import toolchain
from mosaic_tui.errors import DevnetError

DEFAULT_HOST = "127.0.0.1"
ORIGIN_PORT = 8545
AUXILIARY_PORT = 8546
ORIGIN_CHAIN_ID = 1337
RECORD = "devnet.json"
START_TIMEOUT = 15.0


def rpc_call(url: str, method: str, params: Sequence[Any] = (), timeout: float = 2.0) -> Any:
    """One JSON-RPC call with the standard library (no web3 import on the fast paths)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise DevnetError(f"{url} answered {method} with an error: {reply['error'].get('message')}")
    return reply["result"]


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a JSON-RPC node answers at `url` (a quick look, no retry)."""
    try:
        rpc_call(url, "eth_chainId", timeout=timeout)
    except Exception:
        return False
    return True


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not a running node.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


@dataclass
class AnvilNode:
    """A running anvil process that this program started."""

    name: str
    host: str
    port: int
    chain_id: int
    pid: int
    log_path: str | None = None
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def w3(self) -> Any:
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))

    def is_ours(self) -> bool:
        """The PID still runs the anvil we started (PIDs get reused after a reboot)."""
        cmd = _cmdline(self.pid)
        return pid_alive(self.pid) and bool(cmd) and Path(cmd[0]).name == "anvil" and str(self.port) in cmd

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (anvil writes its state on a clean exit), then SIGKILL if it lingers."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            return
        if not self.is_ours():
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # reap it if it was our own child (started detached)
            os.waitpid(self.pid, os.WNOHANG)

    def record(self) -> dict[str, Any]:
        # Not asdict(): it would deep-copy the Popen of a node this process started.
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "process"}


def start_anvil(
    *,
    name: str = "origin",
    host: str = DEFAULT_HOST,
    port: int | None = None,
    chain_id: int = ORIGIN_CHAIN_ID,
    block_time: float | None = None,
    hardfork: str | None = None,
    accounts: int = 10,
    balance_ether: int | None = None,
    base_fee: int | None = None,
    genesis: Path | None = None,
    state_path: Path | None = None,
    log_path: Path | None = None,
    extra_args: Sequence[str] = (),
    detached: bool = False,
    report: toolchain.Report = toolchain._quiet,
) -> AnvilNode:
    """Start anvil and wait until it answers eth_chainId with the expected id.

    A port in use is bad input (DevnetError with exit code 2); a node that dies or does not answer
    at start is a failure (exit code 1) and leaves no process behind.
    """
    binary = toolchain.anvil_path(report)
    if port is None:
        port = free_port(host)
    elif not port_free(host, port):
        raise DevnetError(
            f"port {port} on {host} is already in use; stop what listens there or choose another port.",
            exit_code=2,
        )
    args = [str(binary), "--host", host, "--port", str(port), "--chain-id", str(chain_id),
            "--accounts", str(accounts)]
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    if hardfork:
        args += ["--hardfork", hardfork]
    if balance_ether is not None:
        args += ["--balance", str(balance_ether)]
    if base_fee is not None:
        args += ["--base-fee", str(base_fee)]
    if genesis is not None:
        if state_path is not None:
            raise DevnetError("anvil cannot keep the state of a chain started from a genesis file (--init with "
                              "--state); start it without a state file.", 2)
        args += ["--init", str(genesis)]
    if state_path is not None:
        # --state loads the file if present and writes it back; the interval makes a crash lose little.
        args += ["--state", str(state_path), "--state-interval", "1"]
    args += list(extra_args)
    log = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=detached,
        )
    finally:
        if log_path is not None:
            log.close()  # type: ignore[union-attr]
    node = AnvilNode(name=name, host=host, port=port, chain_id=chain_id, pid=process.pid,
                     log_path=str(log_path) if log_path else None, args=args, process=process)
    try:
        _wait_ready(node, process)
    except BaseException:
        node.stop()
        raise
    if detached:
        node.process = None  # it outlives us; stop() then goes by PID and command line
    return node


def _wait_ready(node: AnvilNode, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = ""
            if node.log_path and Path(node.log_path).is_file():
                lines = [line.strip() for line in Path(node.log_path).read_text(errors="replace").splitlines() if line.strip()]
                errors = [line for line in lines if "error" in line.lower()]
                tail = " It said: " + " / ".join(errors[-2:] or lines[-3:])
            raise DevnetError(f"anvil ({node.name}) exited at start with code {process.returncode}.{tail}")
        try:
            chain_id = int(rpc_call(node.rpc_url, "eth_chainId", timeout=0.5), 16)
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.05)
            continue
        if chain_id != node.chain_id:
            raise DevnetError(f"anvil ({node.name}) reports chain id {chain_id}, expected {node.chain_id}.")
        return
    raise DevnetError(f"anvil ({node.name}) did not answer on {node.rpc_url} within {START_TIMEOUT:.0f} s.")


# --- the persistent devnet of `mosaic-tui devnet up|down|status` ---------------------------------


def default_dir() -> Path:
    from mosaic_tui import settings

    override = settings.get("MOSAIC_TUI_DEVNET_DIR")
    if override is not None:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("mosaic-tui")) / "devnet"


def load_record(directory: Path) -> dict[str, AnvilNode]:
    path = directory / RECORD
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {name: AnvilNode(**entry) for name, entry in data["nodes"].items()}
    except (ValueError, KeyError, TypeError) as error:
        raise DevnetError(f"{path} is not a devnet record this program wrote ({error}); remove it.", 2) from None


def save_record(directory: Path, nodes: dict[str, AnvilNode]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RECORD
    validators = load_validators(directory)
    if not nodes and not validators:
        path.unlink(missing_ok=True)
        return
    _write_record(path, nodes, validators)


def _write_record(path: Path, nodes: dict[str, AnvilNode], validators: dict[str, ValidatorProcess]) -> None:
    document: dict[str, Any] = {"nodes": {n: node.record() for n, node in nodes.items()}}
    if validators:
        document["validators"] = {n: asdict(v) for n, v in validators.items()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2))
    os.replace(temporary, path)


# --- validator nodes (`mosaic-tui validator run`) started with a devnet ------------------------------

VALIDATORS_OFF_ENV = "MOSAIC_TUI_NO_VALIDATORS"  # set (to anything) and no devnet starts validator nodes


@dataclass
class ValidatorProcess:
    """A detached `mosaic-tui validator run ENV_FILE` that this program started for a devnet."""

    name: str
    pid: int
    env_file: str
    log_path: str

    def is_ours(self) -> bool:
        cmd = _cmdline(self.pid)
        return pid_alive(self.pid) and "validator" in cmd and "run" in cmd and self.env_file in cmd

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (the node finishes its duty and exits cleanly), then SIGKILL if it lingers."""
        if not self.is_ours():
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, os.WNOHANG)


def load_validators(directory: Path) -> dict[str, ValidatorProcess]:
    path = directory / RECORD
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {name: ValidatorProcess(**entry) for name, entry in data.get("validators", {}).items()}
    except (ValueError, KeyError, TypeError) as error:
        raise DevnetError(f"{path} is not a devnet record this program wrote ({error}); remove it.", 2) from None


def start_validator(directory: Path, name: str, env_file: Path,
                    env: dict[str, str] | None = None) -> ValidatorProcess:
    """Start one validator node, detached, logging to <devnet>/<name>.log, and record it."""
    import sys

    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / f"{name}.log"
    env_path = str(env_file.resolve())
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "mosaic_tui.cli", "validator", "run", env_path],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env={**os.environ, **(env or {})})
    entry = ValidatorProcess(name, process.pid, env_path, str(log_path))
    validators = load_validators(directory)
    validators[name] = entry
    _write_record(directory / RECORD, load_record(directory), validators)
    return entry


def stop_validators(directory: Path, report: toolchain.Report = toolchain._quiet,
                    names: Sequence[str] | None = None) -> int:
    validators = load_validators(directory)
    stopped = 0
    for name, entry in list(validators.items()):
        if names is not None and name not in names:
            continue
        if entry.is_ours():
            entry.stop()
            stopped += 1
            report(f"stopped {name} (PID {entry.pid})")
        del validators[name]
    if (directory / RECORD).is_file():
        _write_record(directory / RECORD, load_record(directory), validators)
    return stopped


def running_nodes(directory: Path) -> tuple[dict[str, AnvilNode], list[str]]:
    """The recorded nodes still running, and a sentence for each stale entry (dropped from the record)."""
    nodes = load_record(directory)
    alive: dict[str, AnvilNode] = {}
    stale: list[str] = []
    for name, node in nodes.items():
        if node.is_ours():
            alive[name] = node
        else:
            stale.append(f"{name} node (PID {node.pid}, port {node.port}) is no longer running; removed its stale record.")
    if stale:
        save_record(directory, alive)
    return alive, stale


def up(
    directory: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = ORIGIN_PORT,
    chain_id: int = ORIGIN_CHAIN_ID,
    block_time: float | None = None,
    accounts: int = 10,
    report: toolchain.Report = toolchain._quiet,
) -> AnvilNode:
    """Start the origin node (detached, state kept under `directory`) unless it already runs."""
    alive, stale = running_nodes(directory)
    for line in stale:
        report(line)
    if "origin" in alive:
        node = alive["origin"]
        if node.port != port or node.chain_id != chain_id:
            raise DevnetError(
                f"a devnet already runs in {directory} (origin on port {node.port}, chain id {node.chain_id}); "
                "run 'mosaic-tui devnet down' first to start one with other settings.", 2)
        report(f"origin node already running: PID {node.pid}, {node.rpc_url}, chain id {node.chain_id}")
        return node
    directory.mkdir(parents=True, exist_ok=True)
    node = start_anvil(
        name="origin", host=host, port=port, chain_id=chain_id, block_time=block_time, accounts=accounts,
        state_path=directory / "origin-state.json", log_path=directory / "origin.log", detached=True,
        report=report,
    )
    alive["origin"] = node
    save_record(directory, alive)
    report(f"origin node started: PID {node.pid}, {node.rpc_url}, chain id {node.chain_id}")
    return node


def add_node(directory: Path, node: AnvilNode) -> None:
    """Record a node started elsewhere (step 3's auxiliary node) so `down` stops it too."""
    alive, _ = running_nodes(directory)
    alive[node.name] = node
    save_record(directory, alive)


def down(directory: Path, report: toolchain.Report = toolchain._quiet) -> int:
    """Stop exactly the recorded nodes (validator nodes first); returns how many were stopped."""
    validators = stop_validators(directory, report)
    alive, stale = running_nodes(directory)
    for line in stale:
        report(line)
    for name, node in alive.items():
        node.stop()
        report(f"stopped {name} node (PID {node.pid}, port {node.port})")
    save_record(directory, {})
    if not alive and not stale and not validators:
        report(f"no devnet is running from {directory}")
    return len(alive) + validators


def status(directory: Path) -> list[dict[str, Any]]:
    """One row per recorded node: name, pid, url, chain id, running, block number."""
    nodes = load_record(directory)
    rows = []
    for name, node in nodes.items():
        running = node.is_ours()
        block: int | None = None
        if running:
            try:
                block = int(rpc_call(node.rpc_url, "eth_blockNumber"), 16)
            except (OSError, urllib.error.URLError, DevnetError):
                block = None
        rows.append({"name": name, "pid": node.pid, "url": node.rpc_url, "chain_id": node.chain_id,
                     "running": running, "block": block})
    for name, entry in load_validators(directory).items():
        rows.append({"name": name, "pid": entry.pid, "url": "-", "chain_id": "-", "running": entry.is_ours(),
                     "block": None})
    return rows
