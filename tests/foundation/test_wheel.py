"""The built wheel loads its contract artifacts without the source tree and without any compiler."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_artifacts_and_needs_no_compiler(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, text=True)
    wheel = next(wheels.glob("mosaic_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mosaic_tui/artifacts/EIP20Token.json" in names
    assert any(name.startswith("mosaic_tui/screens/") for name in names)
    assert not any(name.startswith("screens/") for name in names)  # no top-level module named `screens`
    assert not any(name.endswith(".sol") for name in names)
    # Test-only contracts (contracts/test) are not part of the product; the others all ship.
    test_only = {path.stem for path in (ROOT / "contracts" / "test").glob("*.sol")}
    shipped = {Path(name).stem for name in names if name.startswith("mosaic_tui/artifacts/")}
    assert test_only and not test_only & shipped, test_only & shipped
    assert {path.stem for path in (ROOT / "mosaic_tui" / "artifacts").glob("*.json")} - test_only == shipped

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no site-packages, so neither the editable install of this checkout nor any compiler package.
    code = (
        f"import sys; sys.path.insert(0, {str(site)!r})\n"
        "import mosaic_tui, mosaic_tui.contracts as c\n"
        f"assert mosaic_tui.__file__.startswith({str(site)!r}), mosaic_tui.__file__\n"
        "a = c.load_artifact('EIP20Token')\n"
        "import importlib.util\n"
        f"assert importlib.util.find_spec('mosaic_tui.screens').origin.startswith({str(site)!r})\n"
        "assert importlib.util.find_spec('screens') is None\n"
        "print(len(a['abi']) > 5, a['bytecode'][:4], 'solcx' in sys.modules)\n"
    )
    env = {"PATH": str(tmp_path / "no-tools"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                            env=env, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True 0x60 False"


def test_screens_are_importable_only_inside_the_package(tmp_path: Path) -> None:
    # From a folder outside the checkout, as an installed venv is used: mosaic_tui.screens works, `screens` not.
    code = "import mosaic_tui.screens.welcome\ntry:\n    import screens\nexcept ImportError as e:\n    print('refused:', e)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert result.stdout.startswith("refused: the screens are installed as mosaic_tui.screens"), result.stdout
