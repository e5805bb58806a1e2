"""Fixtures of the external-validator tests: a real origin anvil, a coordinator, and validators who each
keep their own keystore in their own folder and run in their own processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet, keys
from mosaic_tui.deploy import devnet_plan_dict
from mosaic_tui.plan import format_deadline, plan_from_dict, save_plan

CLI = [sys.executable, "-m", "mosaic_tui.cli"]
SECRET_ENV = (keys.PASSPHRASE_ENV, "MOSAIC_TUI_VALIDATOR_KEY", "MOSAIC_TUI_VALIDATOR_AUXILIARY_KEY",
              "SIGNER_PASSPHRASE")


@dataclass
class OwnValidator:
    """A validator run by another organisation: its folder, its keystores, its passphrase."""

    number: int
    home: Path
    origin_address: str
    auxiliary_address: str
    passphrase: str

    @property
    def key_ref(self) -> str:
        return f"keystore:{self.home / 'origin-key.json'}"

    @property
    def auxiliary_ref(self) -> str:
        return f"keystore:{self.home / 'auxiliary-key.json'}"

    @property
    def plan(self) -> Path:
        return self.home / "mosaic-plan.toml"

    def env(self) -> dict[str, str]:
        return {**clean_env(), keys.PASSPHRASE_ENV: self.passphrase}

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env or self.env(), timeout=timeout,
                              check=False, cwd=self.home)


def clean_env() -> dict[str, str]:
    """The environment of a process that holds nobody's secret."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENV}


@dataclass
class Ceremony:
    origin: devnet.AnvilNode
    root: Path
    auxiliary_port: int
    validators: dict[int, OwnValidator] = field(default_factory=dict)

    @property
    def plan(self) -> Path:
        return self.root / "coordinator" / "mosaic-plan.toml"

    @property
    def out(self) -> Path:
        return self.plan.parent / "out"

    def write_plan(self, count: int, external: tuple[int, ...], *, deadline_in: float | None) -> None:
        """A devnet plan whose validators at the `external` numbers (from 1) keep their own keys."""
        data: dict[str, Any] = devnet_plan_dict(count, origin_url=self.origin.rpc_url,
                                                origin_chain_id=devnet.ORIGIN_CHAIN_ID,
                                                auxiliary_url=f"http://127.0.0.1:{self.auxiliary_port}",
                                                out_dir="out")
        from eth_account import Account

        for number in external:
            home = self.root / f"validator-{number}"
            home.mkdir(parents=True)
            passphrase = f"passphrase of validator {number}"
            origin, auxiliary = Account.create(), Account.create()
            keys.store_in_keystore(home / "origin-key.json", origin.key.hex(), passphrase)
            keys.store_in_keystore(home / "auxiliary-key.json", auxiliary.key.hex(), passphrase)
            row = data["validators"][number - 1]
            row.update(origin_address=origin.address, auxiliary_address=auxiliary.address,
                       origin_key="external", auxiliary_key="external")
            self.validators[number] = OwnValidator(number, home, origin.address, auxiliary.address, passphrase)
            del origin, auxiliary  # from here on only the validator's own process opens its keystore
        if deadline_in is not None:
            data["origin"]["staking_deadline"] = format_deadline(datetime.now(UTC) + timedelta(seconds=deadline_in))
        self.plan.parent.mkdir(parents=True, exist_ok=True)
        save_plan(plan_from_dict(data), self.plan)
        for validator in self.validators.values():
            shutil.copy(self.plan, validator.plan)  # the plan holds no secret: the coordinator hands it out

    def start_coordinator(self) -> subprocess.Popen[str]:
        return subprocess.Popen([*CLI, "deploy", str(self.plan), "--yes"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=clean_env(), cwd=self.plan.parent)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, env=clean_env(), timeout=timeout,
                              check=False, cwd=self.plan.parent)

    def wait_for_ceremony(self, coordinator: subprocess.Popen[str], timeout: float = 180) -> Path:
        """The coordinator writes ceremony.toml once step 1 is done; hand it to every validator."""
        path = self.out / "ceremony.toml"
        deadline = time.monotonic() + timeout
        while not path.exists():
            if coordinator.poll() is not None:
                raise AssertionError("the coordinator ended before writing ceremony.toml:\n"
                                     + (coordinator.stdout.read() if coordinator.stdout else "")
                                     + (coordinator.stderr.read() if coordinator.stderr else ""))
            assert time.monotonic() < deadline, "no ceremony.toml"
            time.sleep(0.1)
        return self.hand_out_ceremony()

    def hand_out_ceremony(self) -> Path:
        path = self.out / "ceremony.toml"
        for validator in self.validators.values():
            (validator.home / "out").mkdir(exist_ok=True)
            shutil.copy(path, validator.home / "out" / "ceremony.toml")
        return path


@pytest.fixture
def ceremony(anvil_factory: Any, tmp_path: Path) -> Iterator[Ceremony]:
    origin = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID)
    port = devnet.free_port()
    while port == origin.port:
        port = devnet.free_port()
    devnet.add_node(devnet.default_dir(), origin)  # a devnet plan runs only on a node the devnet record names
    world = Ceremony(origin, tmp_path, port)
    devnet.add_node(devnet.default_dir(), origin)  # a devnet plan runs only on a node the devnet record names
    yield world
    devnet.down(devnet.default_dir())  # the auxiliary node that the coordinator's step 3 started, detached
