"""The engine stays free of textual (docs/design.md, "Architecture"), checked in a fresh interpreter and by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


FACES = {"mosaic_tui.app", "mosaic_tui.messages", "mosaic_tui.screens", "mosaic_tui.widgets"}  # SPEC §4


def test_importing_every_engine_module_does_not_import_textual() -> None:
    # A walk that never imports the UI packages themselves (pkgutil.walk_packages would, to look inside).
    code = (
        "import importlib, pkgutil, sys\n"
        f"faces = {sorted(FACES)!r}\n"
        "def walk(name):\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.iter_modules(package.__path__, name + '.'):\n"
        "        if info.name in faces:\n"
        "            continue\n"
        "        importlib.import_module(info.name)\n"
        "        if info.ispkg:\n"
        "            walk(info.name)\n"
        "walk('mosaic_tui')\n"
        "print(sorted(m for m in ('textual', 'mosaic_tui.screens') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_cli_help_path_does_not_import_web3() -> None:
    code = "import sys, mosaic_tui.cli; print('web3' in sys.modules, 'textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False False"


def test_import_linter_contract_holds() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is a test dependency"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The engine never imports textual KEPT" in result.stdout
