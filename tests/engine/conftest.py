"""Fixtures for whole deployments: a private devnet folder, free ports, and every node stopped after."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mosaic_tui import devnet


@dataclass
class DevnetRun:
    directory: Path
    out: Path
    origin_port: int
    auxiliary_port: int

    @property
    def plan(self) -> Path:
        return self.out / "mosaic-plan.toml"

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "MOSAIC_TUI_DEVNET_DIR": str(self.directory), **(env or {})}
        return subprocess.run([sys.executable, "-m", "mosaic_tui.cli", *args], capture_output=True, text=True,
                              env=full_env, timeout=timeout, check=False)

    def deploy_devnet(self, validators: int, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.cli("deploy", "--devnet", "--validators", str(validators), "--yes", "--out", str(self.out),
                        "--origin-port", str(self.origin_port), "--auxiliary-port", str(self.auxiliary_port),
                        *extra, env=env)


@pytest.fixture
def devnet_run(tmp_path: Path) -> Iterator[DevnetRun]:
    run = DevnetRun(tmp_path / "devnet", tmp_path / "out", devnet.free_port(), devnet.free_port())
    try:
        yield run
    finally:
        for node in devnet.load_record(run.directory).values():
            node.stop()
