"""The pinned node tools: a real npm install into an empty cache, reuse, and the missing-npm sentence."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mosaic_tui import toolchain
from mosaic_tui.errors import ToolchainError


def test_install_into_empty_cache_then_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(toolchain.CACHE_ENV, str(tmp_path / "cache"))
    said: list[str] = []
    tools = toolchain.install(said.append)
    assert any("installing @foundry-rs/anvil@1.7.1" in line for line in said)
    version = subprocess.run([str(tools.anvil), "--version"], capture_output=True, text=True, check=True)
    assert "1.7.1" in version.stdout
    assert tools.anvil.is_relative_to(tmp_path / "cache")

    # Reuse: a second call finds the tools even with npm and node gone from PATH.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    said.clear()
    assert toolchain.install(said.append) == tools
    assert said == [f"anvil 1.7.1 and solc-js 0.8.30 already installed in {tools.anvil.parents[4]}"]


def test_missing_npm_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(toolchain.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolchainError) as raised:
        toolchain.anvil_path()
    message = str(raised.value)
    assert "npm was not found on PATH" in message
    assert "install Node.js" in message and toolchain.ANVIL_ENV in message


def test_anvil_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = toolchain.anvil_path()
    monkeypatch.setenv(toolchain.ANVIL_ENV, str(real))
    assert toolchain.anvil_path() == real
    not_executable = tmp_path / "anvil"
    not_executable.write_text("")
    monkeypatch.setenv(toolchain.ANVIL_ENV, str(not_executable))
    with pytest.raises(ToolchainError, match="MOSAIC_TUI_ANVIL points at .* not an executable file"):
        toolchain.anvil_path()


def test_solc_shim_answers_like_native_solc() -> None:
    shim = toolchain.solc_js_executable()
    version = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.splitlines()[1].startswith("Version: 0.8.30+commit.")
    source = "pragma solidity 0.8.30; contract A { function f() external pure returns (uint) { return 7; } }"
    import json

    request = {"language": "Solidity", "sources": {"a.sol": {"content": source}},
               "settings": {"outputSelection": {"*": {"*": ["abi"]}}}}
    result = subprocess.run([str(shim), "--standard-json"], input=json.dumps(request),
                            capture_output=True, text=True, check=True)
    output = json.loads(result.stdout)  # pure JSON on stdout, nothing before it
    assert output["contracts"]["a.sol"]["A"]["abi"][0]["name"] == "f"
