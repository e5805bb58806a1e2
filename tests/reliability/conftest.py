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

FIGURE = "reliability figure"  # the key of a figure in its test report's user_properties


def record_figure(where: str, text: str, node: Any = None) -> None:
    print(f"{where}: {text}")
    if node is not None:
        # Carried by the test's report, so the figure reaches the summary from an xdist worker too
        # (tests/conftest.py writes the section).
        node.user_properties.append((FIGURE, f"{where}: {text}"))


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    return lambda text: record_figure(request.node.name, text, request.node)


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
