"""Fixtures of the wizard's tests: a real origin devnet on a free port, and wizard apps wired to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet
from mosaic_tui.app import MosaicApp


@dataclass
class Devnet:
    """The origin node (anvil, dev accounts funded) and where the wizard keeps everything else."""

    origin: devnet.AnvilNode
    auxiliary_port: int
    directory: Path  # the devnet record: step 3 records its auxiliary node here
    plan_path: Path  # the wizard's own-chains plan; the devnet plan goes to <dir>/out/mosaic-plan.toml

    @property
    def devnet_plan(self) -> Path:
        return self.plan_path.parent / "out" / "mosaic-plan.toml"

    def app(self, **kwargs: Any) -> MosaicApp:
        return MosaicApp(plan_path=self.plan_path, devnet_url=self.origin.rpc_url, devnet_dir=self.directory,
                         auxiliary_port=self.auxiliary_port, **kwargs)


@pytest.fixture
def wizard_devnet(anvil_factory: Callable[..., devnet.AnvilNode], tmp_path: Path, request: pytest.FixtureRequest
                  ) -> Iterator[Devnet]:
    """Origin on a free port (chain id 1337 like `devnet up`); `@pytest.mark.block_time(s)` slows its blocks."""
    marker = request.node.get_closest_marker("block_time")
    origin = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID, block_time=marker.args[0] if marker else None)
    auxiliary_port = devnet.free_port()
    while auxiliary_port == origin.port:
        auxiliary_port = devnet.free_port()
    directory = tmp_path / "devnet"
    devnet.add_node(directory, origin)  # a devnet plan runs only on a node the devnet record names
    yield Devnet(origin, auxiliary_port, directory, tmp_path / "mosaic-plan.toml")
    devnet.down(directory)  # the auxiliary node that step 3 started, detached


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "block_time(seconds): the origin devnet mines a block every N seconds")


async def wait_for(pilot: Any, condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    """Let the app run until `condition()` holds (no fixed sleeps: worker results arrive as messages)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            from tests.tui.screen_text import screen_text

            raise AssertionError(f"timed out waiting for {what or condition}; the screen shows:\n"
                                 f"{screen_text(pilot.app)}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)
    await pilot.pause()  # let the screen paint what the condition saw


def kinds(messages: list[Any], *types: type) -> list[Any]:
    """The messages of the given types, once each (a bubbling message is seen by every node it passes)."""
    seen: dict[int, Any] = {}
    for message in messages:
        if isinstance(message, types) and id(message) not in seen:
            seen[id(message)] = message
    return list(seen.values())
