"""Fixtures shared by the whole suite: isolated home folders, real anvil nodes that are always stopped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from mosaic_tui import devnet, toolchain

# `deployed` and `chains`: one two-chain deployment per module, shared by contract and monitor tests.
pytest_plugins = ["tests.contracts.two_chains"]

# Property tests draw new random examples on every run (never derandomized), and a failure says how
# to get it back: the @reproduce_failure blob (print_blob) and the run's seed (see the hook below).
# The parent is named: under a CI variable Hypothesis makes its derandomized "ci" profile the default,
# and a profile without a parent would inherit that.
settings.register_profile("mosaic", parent=settings.get_profile("default"), print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mosaic"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under a failed property test, the seed its examples came from and the command that replays it."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    seed = getattr(getattr(item, "obj", None), "_hypothesis_internal_use_generated_seed", None)
    if report.when == "call" and report.failed and seed is not None:
        text = f"this run's examples came from seed {seed}; replay them with: pytest --hypothesis-seed={seed} {item.nodeid}"
        report.sections.append(("hypothesis seed", text))

# The figures the reliability tests measured (tests/reliability/conftest.py `figure`), carried by their reports
# so they reach this summary from xdist workers too; a later report of the same name replaces an earlier one.
_FIGURES: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == "reliability figure":
            _FIGURES[str(value).partition(": ")[0]] = str(value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES.values():
            terminalreporter.write_line(line)


# The pinned tools live in the real user cache; tests get a private HOME but keep that cache so the
# npm install happens once per machine, not once per test.
os.environ.setdefault(toolchain.CACHE_ENV, str(toolchain.cache_dir()))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the developer's own config, keyring and devnet out of every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_STATE_HOME", ".local/state"), ("XDG_RUNTIME_DIR", "run")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("MOSAIC_TUI_DEVNET_DIR", str(home / "devnet"))
    # A keyring in this process's memory (the program refuses plaintext keyring files); child
    # processes get the null keyring, which holds nothing.
    import keyring.core

    from mosaic_tui import keys
    from tests.keyring_memory import MemoryKeyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())
    monkeypatch.setattr(keys, "_env_passphrases", {}, raising=False)  # passphrases an earlier test's run took in
    # Devnets start a validator node per validator; only the validator tests (tests/validator) want them.
    monkeypatch.setenv("MOSAIC_TUI_NO_VALIDATORS", "1")
    return home


AnvilFactory = Callable[..., devnet.AnvilNode]


@pytest.fixture
def anvil_factory() -> Iterator[AnvilFactory]:
    """Start real anvil nodes on free ports; every one is stopped when the test ends."""
    started: list[devnet.AnvilNode] = []

    def start(**kwargs: Any) -> devnet.AnvilNode:
        kwargs.setdefault("chain_id", 31337)
        node = devnet.start_anvil(**kwargs)
        started.append(node)
        return node

    yield start
    for node in reversed(started):
        node.stop()


@pytest.fixture
def anvil(anvil_factory: AnvilFactory) -> devnet.AnvilNode:
    """One fresh anvil node with the ten funded dev accounts, mining a block per transaction."""
    return anvil_factory()
