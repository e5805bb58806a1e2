"""A devnet deployed by the real CLI with its validator nodes running, and ways to look at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui import devnet
from mosaic_tui.contracts import load_artifact
from mosaic_tui.plan import load_plan
from mosaic_tui.validator.launch import start_devnet_validators


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class ValidatorWorld:
    directory: Path
    out: Path
    env: dict[str, str]
    deployed: dict[str, Any] = field(default_factory=dict)

    @property
    def plan_path(self) -> Path:
        return self.out / "mosaic-plan.toml"

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mosaic_tui.cli", *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout, check=False)

    def load(self) -> None:
        from web3 import Web3

        self.deployed = tomllib.loads((self.out / "deployment.toml").read_text())
        self.origin_w3 = Web3(Web3.HTTPProvider(self.deployed["origin"]["rpc"]))
        self.aux_w3 = Web3(Web3.HTTPProvider(self.deployed["auxiliary"]["rpc"]))
        aux = self.deployed["auxiliary"]

        def on(w3: Any, name: str, address: str) -> Any:
            return w3.eth.contract(address=address, abi=load_artifact(name)["abi"])

        self.core = on(self.origin_w3, "OriginCore", self.deployed["origin"]["origin_core"])
        self.aux_store = on(self.aux_w3, "AuxiliaryBlockStore", aux["auxiliary_block_store"])
        self.origin_store = on(self.aux_w3, "OriginBlockStore", aux["origin_block_store"])
        self.polling_place = on(self.aux_w3, "PollingPlace", aux["polling_place"])
        self.gateway = on(self.aux_w3, "KernelGateway", aux["kernel_gateway"])

    # -- what the chains say --------------------------------------------------------------------------

    def committed(self) -> int | None:
        head = self.core.functions.head().call()
        return None if bytes(head[1]) == bytes(32) else int(head[0])

    def finalised(self) -> int:
        return int(self.aux_store.functions.latestFinalisedHeight().call())

    def kernels(self) -> tuple[int, bytes, int, bytes]:
        return (self.core.functions.openKernelHeight().call(), bytes(self.core.functions.openKernelHash().call()),
                self.gateway.functions.activeKernelHeight().call(),
                bytes(self.gateway.functions.getActiveKernelHash().call()))

    def status_json(self) -> dict[str, Any]:
        result = self.cli("status", str(self.plan_path), "--once", "--json", timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    # -- the validator nodes -------------------------------------------------------------------------

    def stop(self, *indexes: int) -> None:
        devnet.stop_validators(self.directory, names=[f"validator-{i}" for i in indexes])

    def start_all(self) -> None:
        start_devnet_validators(self.directory, load_plan(self.plan_path), self.out)

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.directory.glob("validator-*.log")))


def deploy_world(tmp: Path, validators: int = 4, **settings: str) -> ValidatorWorld:
    env = {key: value for key, value in os.environ.items() if key != devnet.VALIDATORS_OFF_ENV} | settings
    directory, out = tmp / "devnet", tmp / "out"
    env["MOSAIC_TUI_DEVNET_DIR"] = str(directory)
    world = ValidatorWorld(directory, out, env)
    result = world.cli("deploy", "--devnet", "--validators", str(validators), "--yes", "--out", str(out),
                       "--origin-port", str(devnet.free_port()), "--auxiliary-port", str(devnet.free_port()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("node running: PID") == validators, result.stdout
    world.load()
    return world
