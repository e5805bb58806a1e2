"""Compiled contracts: loading the committed artifacts, and `contracts build|check`.

The runtime only ever loads JSON artifacts shipped inside the package, so a deployment never needs a
compiler. Building compiles every source under contracts/ with the pinned solc (native where
py-solc-x can install it, otherwise solc-js through our stand-in executable), and each artifact
records a hash of exactly the sources it was built from so `check` can name a stale contract.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from mosaic_tui import toolchain
from mosaic_tui.errors import MosaicError, ToolchainError

SOLC_VERSION = toolchain.SOLC_VERSION
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "berlin",
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
                     "evm.deployedBytecode.immutableReferences", "storageLayout", "metadata"], "": ["ast"]}
    },
}


class ArtifactError(MosaicError):
    exit_code = 1


def artifacts_dir() -> Path:
    return Path(str(resources.files("mosaic_tui") / "artifacts"))


def default_sources_dir() -> Path:
    """contracts/ of a source checkout (an installed wheel has no sources and needs none)."""
    return Path(__file__).resolve().parent.parent / "contracts"


@functools.cache
def load_artifact(name: str) -> dict[str, Any]:
    path = artifacts_dir() / f"{name}.json"
    if not path.is_file():
        raise ArtifactError(f"no compiled artifact for contract {name} (expected {path}).")
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact


def source_hash(sources: dict[str, str], used: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"solc": SOLC_VERSION, "settings": SETTINGS}, sort_keys=True).encode())
    for name in sorted(used):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def read_sources(sources_dir: Path) -> dict[str, str]:
    return {
        path.relative_to(sources_dir).as_posix(): path.read_text()
        for path in sorted(sources_dir.rglob("*.sol"))
    }


def _solc_binary(report: toolchain.Report) -> Path:
    """The compiler py-solc-x drives: MOSAIC_TUI_SOLC, the native pinned solc, or our solc-js shim."""
    import os

    import solcx

    override = os.environ.get(toolchain.SOLC_ENV)
    if override:
        return Path(override)
    try:
        if SOLC_VERSION not in {str(v) for v in solcx.get_installed_solc_versions()}:
            solcx.install_solc(SOLC_VERSION)
        from solcx.install import get_executable

        return Path(get_executable(SOLC_VERSION))
    except Exception:  # offline or no native build for this platform: fall back to solc-js
        report(f"native solc {SOLC_VERSION} unavailable here; compiling with solc-js {SOLC_VERSION}")
        return toolchain.solc_js_executable(report)


def compile_sources(sources: dict[str, str], report: toolchain.Report = print) -> dict[str, dict[str, Any]]:
    """Compile all sources at once; returns artifacts by contract name."""
    import solcx
    from solcx.exceptions import SolcError

    binary = _solc_binary(report)
    found = solcx.wrapper.get_solc_version(binary)
    if str(found) != SOLC_VERSION:
        raise ToolchainError(f"the compiler at {binary} is solc {found}; contracts are pinned to {SOLC_VERSION}.")
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    try:
        output = solcx.compile_standard(standard_input, solc_binary=binary)
    except SolcError as error:
        raise ArtifactError(f"the contracts do not compile:\n{error.message}") from None
    artifacts: dict[str, dict[str, Any]] = {}
    libraries = {node["name"] for source in output.get("sources", {}).values()
                 for node in source.get("ast", {}).get("nodes", [])
                 if node.get("nodeType") == "ContractDefinition" and node.get("contractKind") == "library"}
    for source_name, contracts in output.get("contracts", {}).items():
        for contract_name, compiled in contracts.items():
            bytecode = compiled["evm"]["bytecode"]["object"]
            # Interfaces and abstract contracts have nothing to deploy; our libraries are internal only.
            if not bytecode or contract_name in libraries:
                continue
            if contract_name in artifacts:
                raise ArtifactError(f"two contracts are named {contract_name}; artifact names must be unique.")
            used = sorted(json.loads(compiled["metadata"])["sources"])
            artifacts[contract_name] = {
                "contractName": contract_name,
                "sourceName": source_name,
                "compiler": {"version": SOLC_VERSION, "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"}},
                "sourceHash": source_hash(sources, used),
                "sources": used,
                "abi": compiled["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                # Byte ranges the constructor fills in; `verify` masks them when comparing code.
                "immutableRanges": sorted([ref["start"], ref["length"]] for refs in
                                          compiled["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                                          for ref in refs),
                "storageLayout": _storage_layout(compiled["storageLayout"]),
            }
    return artifacts


def _storage_layout(layout: dict[str, Any]) -> dict[str, Any]:
    """The layout without AST ids, which depend on what else was in the same compilation."""
    text = json.dumps(layout)
    text = re.sub(r'"astId": \d+, ', "", text)
    text = re.sub(r"\)\d+(_storage|_memory|_calldata)", r")\1", text)
    result: dict[str, Any] = json.loads(text)
    return result


def _dump(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def build(sources_dir: Path | None = None, out_dir: Path | None = None, report: toolchain.Report = print) -> list[str]:
    """Compile contracts/ and write one artifact per contract; removes artifacts of deleted contracts."""
    sources_dir = sources_dir or default_sources_dir()
    out_dir = out_dir or artifacts_dir()
    sources = read_sources(sources_dir)
    if not sources:
        raise ArtifactError(f"no Solidity sources under {sources_dir}.")
    artifacts = compile_sources(sources, report)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.json"):
        if stale.stem not in artifacts:
            stale.unlink()
    for name, artifact in artifacts.items():
        (out_dir / f"{name}.json").write_text(_dump(artifact))
    load_artifact.cache_clear()
    report(f"built {len(artifacts)} contracts into {out_dir}")
    return sorted(artifacts)


def check(sources_dir: Path | None = None, out_dir: Path | None = None, report: toolchain.Report = print) -> list[str]:
    """Recompile and compare with the committed artifacts; returns one problem sentence per contract."""
    sources_dir = sources_dir or default_sources_dir()
    out_dir = out_dir or artifacts_dir()
    fresh = compile_sources(read_sources(sources_dir), report)
    problems: list[str] = []
    committed = {path.stem: path for path in out_dir.glob("*.json")}
    for name in sorted(set(fresh) | set(committed)):
        if name not in committed:
            problems.append(f"{name}: no artifact; run 'mosaic-tui contracts build'.")
        elif name not in fresh:
            problems.append(f"{name}: artifact has no source any more; run 'mosaic-tui contracts build'.")
        else:
            old = json.loads(committed[name].read_text())
            if old.get("sourceHash") != fresh[name]["sourceHash"]:
                problems.append(f"{name}: artifact does not match its source ({fresh[name]['sourceName']} changed).")
            elif _dump(old) != _dump(fresh[name]):
                problems.append(f"{name}: artifact differs from a fresh compile of the same source.")
    return problems
