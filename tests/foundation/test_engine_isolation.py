"""The engine stays free of textual (SPEC section 4), checked in a fresh interpreter and by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


FACES = {"mosaic_tui.app", "mosaic_tui.messages", "mosaic_tui.widgets"}


def test_importing_every_engine_module_does_not_import_textual() -> None:
    code = (
        "import importlib, pkgutil, sys, mosaic_tui\n"
        f"faces = {sorted(FACES)!r}\n"
        "for info in pkgutil.walk_packages(mosaic_tui.__path__, 'mosaic_tui.'):\n"
        "    if not any(info.name == f or info.name.startswith(f + '.') for f in faces):\n"
        "        importlib.import_module(info.name)\n"
        "print(sorted(m for m in ('textual', 'screens') if m in sys.modules))"
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
