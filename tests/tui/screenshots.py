"""Writes the README's SVG screenshots into assets/ from a real wizard run on a fresh devnet.

    python -m tests.tui.screenshots [assets]

A Pilot drives the real app (two anvil nodes on free ports, three validators) and saves a screenshot
at each main page; the origin mines a block a second so the step page is caught mid-deployment.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mosaic_tui import devnet
from mosaic_tui import messages as m
from mosaic_tui.app import MosaicApp

SIZE = (110, 34)


async def _until(pilot: Any, condition: Callable[[], object], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the wizard never reached {condition}")
        await pilot.pause(0.05)
    await pilot.pause(0.3)


async def capture(out: Path) -> list[Path]:
    folder = Path(tempfile.mkdtemp(prefix="mosaic-screenshots-"))
    os.chdir(folder)  # paths show relative to it
    origin = devnet.start_anvil(port=devnet.free_port(), chain_id=devnet.ORIGIN_CHAIN_ID, block_time=1)
    devnet.add_node(folder / "devnet", origin)  # a devnet plan runs only on a node the devnet record names
    app = MosaicApp(plan_path=Path("mosaic-plan.toml"), devnet_url=origin.rpc_url, devnet_dir=folder / "devnet",
                    auxiliary_port=devnet.free_port())
    seen: list[Any] = []
    saved: list[Path] = []

    def shot(name: str) -> None:
        saved.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(out))))

    try:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            await _until(pilot, lambda: True)
            shot("wizard-welcome")
            await pilot.press("d")
            await _until(pilot, lambda: "origin.rpc" in app.session.connected and "auxiliary.rpc" in app.session.connected)
            shot("wizard-chains")
            await pilot.press("ctrl+n")
            await _until(pilot, lambda: any(isinstance(x, m.FundsChecked) for x in seen))
            shot("wizard-validators")
            await pilot.press("ctrl+n")
            await _until(pilot, lambda: app.session.preflight_report is not None)
            shot("wizard-review")
            await pilot.press("ctrl+n")
            await _until(pilot, lambda: (p := app.session.progress.steps.get("2")) is not None and 0 < p.completed < p.total
                         and getattr(app.screen, "PAGE", "") == "step-2")
            shot("wizard-step-staking")
            await _until(pilot, lambda: app.session.finished and getattr(app.screen, "PAGE", "") == "export")
            shot("wizard-rum-export")
            await pilot.press("f2")
            await _until(pilot, lambda: any(isinstance(x, m.SnapshotTaken) for x in seen))
            shot("wizard-validator-status")
            await pilot.press("escape", "ctrl+q")
            await pilot.click("#stop")
    finally:
        devnet.down(folder / "devnet")
        origin.stop()
    return saved


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "assets").resolve()
    for path in asyncio.run(capture(out)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
