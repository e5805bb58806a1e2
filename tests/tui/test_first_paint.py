"""The first screen paints without importing web3 (the engine's heavy part is imported lazily)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = """
import asyncio, sys
from pathlib import Path
from mosaic_tui.app import MosaicApp

async def main():
    app = MosaicApp(plan_path=Path(sys.argv[1]))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        print(type(app.screen).__name__, sorted(m for m in ("web3", "eth_account", "solcx") if m in sys.modules))
        await pilot.press("ctrl+q")

asyncio.run(main())
"""


def test_welcome_screen_paints_without_importing_web3(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "mosaic-plan.toml")], capture_output=True,
                            text=True, check=True, cwd=tmp_path, timeout=120)
    assert result.stdout.split("\n")[0] == "WelcomeScreen []"
