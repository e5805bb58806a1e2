"""Fixtures of the reliability suite: the figure each test measured, shown in every pytest run.

Each test here proves a promise of docs/design.md and reports a number (kill points recovered,
seconds waited, files scanned). `figure(...)` prints it (visible with -s or when the test fails)
and collects it for a "reliability figures" section at the end of the normal pytest output, so
`scripts/test` shows the figures without any extra flag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet
from tests.reliability import world as world_module

_FIGURES: list[str] = []


def record_figure(where: str, text: str) -> None:
    line = f"{where}: {text}"
    print(line)
    _FIGURES.append(line)


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    return lambda text: record_figure(request.node.name, text)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def stop_devnet_nodes() -> Iterator[Callable[[Path], None]]:
    """Register devnet folders whose recorded nodes (step 3's auxiliary node) must be stopped at the end."""
    folders: list[Path] = []
    yield folders.append
    for folder in folders:
        for node in devnet.load_record(folder).values():
            node.stop()


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path) -> world_module.World:
    """A real origin chain with a real OST token and funded keystore keys (see world.make_world)."""
    return world_module.make_world(anvil_factory(), tmp_path)
