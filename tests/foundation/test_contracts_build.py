"""The compile pipeline: build artifacts, check them, and name the contract whose source changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mosaic_tui import cli, contracts

SOURCES = contracts.default_sources_dir()


def _token_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "contracts"
    (tree / "origin").mkdir(parents=True)
    shutil.copy(SOURCES / "origin" / "EIP20Token.sol", tree / "origin" / "EIP20Token.sol")
    return tree


def test_build_matches_committed_artifact_and_check_catches_a_change(tmp_path: Path, capsys) -> None:
    tree, out = _token_tree(tmp_path), tmp_path / "artifacts"
    assert cli.main(["contracts", "build", "--sources", str(tree), "--artifacts", str(out)]) == 0
    built = json.loads((out / "EIP20Token.json").read_text())
    committed = contracts.load_artifact("EIP20Token")
    assert built == committed
    assert built["bytecode"].startswith("0x60") and len(built["deployedBytecode"]) > 1000
    assert {"abi", "bytecode", "deployedBytecode", "storageLayout", "sourceHash"} <= set(built)

    assert cli.main(["contracts", "check", "--sources", str(tree), "--artifacts", str(out)]) == 0
    assert "all artifacts match their sources" in capsys.readouterr().out

    source = tree / "origin" / "EIP20Token.sol"
    source.write_text(source.read_text().replace('"EIP20Token: balance too low"', '"balance too low"'))
    assert cli.main(["contracts", "check", "--sources", str(tree), "--artifacts", str(out)]) == 1
    err = capsys.readouterr().err
    assert "EIP20Token: artifact does not match its source (origin/EIP20Token.sol changed)" in err


def test_committed_artifacts_match_the_sources(capsys) -> None:
    """The whole contracts/ tree recompiles to exactly the committed artifacts."""
    assert contracts.check() == []


def test_compile_error_is_one_clear_failure(tmp_path: Path, capsys) -> None:
    tree = _token_tree(tmp_path)
    (tree / "Broken.sol").write_text("pragma solidity 0.8.30; contract Broken { function }")
    assert cli.main(["contracts", "build", "--sources", str(tree), "--artifacts", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "the contracts do not compile" in err and "Broken.sol" in err and "Traceback" not in err
