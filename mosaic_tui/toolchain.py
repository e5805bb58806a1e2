"""The pinned node tools this program runs: anvil (local chains) and solc-js (compiler fallback),
and, for the test suite only, geth (a real origin node with finality, a state window and batch limits).

Operators should not have to install foundry or a Solidity compiler by hand, so the program installs
the exact versions it was tested with from npm into a per-user cache, once, and reuses them. geth is
built with `go install` into the same cache. A user who has their own binaries points at them with
MOSAIC_TUI_ANVIL / MOSAIC_TUI_SOLC / MOSAIC_TUI_GETH.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mosaic_tui.errors import ToolchainError

ANVIL_PACKAGE = "@foundry-rs/anvil"
ANVIL_VERSION = "1.7.1"
SOLC_PACKAGE = "solc"
SOLC_VERSION = "0.8.30"

GANACHE_PACKAGE = "ganache"  # a second origin client for the tests (EthereumJS), beside anvil and geth
GANACHE_VERSION = "7.9.2"
GETH_MODULE = "github.com/ethereum/go-ethereum/cmd/geth"
GETH_VERSION = "v1.17.10"

ANVIL_ENV = "MOSAIC_TUI_ANVIL"
GETH_ENV = "MOSAIC_TUI_GETH"
GANACHE_ENV = "MOSAIC_TUI_GANACHE"
SOLC_ENV = "MOSAIC_TUI_SOLC"
CACHE_ENV = "MOSAIC_TUI_CACHE"

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def cache_dir() -> Path:
    """Where the program keeps what it installs (MOSAIC_TUI_CACHE overrides the XDG default)."""
    from mosaic_tui import settings

    override = settings.get(CACHE_ENV)
    if override is not None:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mosaic-tui"))


def _tools_dir() -> Path:
    # One folder per pinned set: changing a version installs next to the old one, never over it.
    pins = f"{ANVIL_PACKAGE}@{ANVIL_VERSION} {SOLC_PACKAGE}@{SOLC_VERSION}"
    return cache_dir() / "tools" / hashlib.sha256(pins.encode()).hexdigest()[:12]


def _platform_package() -> str:
    machine = os.uname().machine.lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform)
    if arch is None or system is None:
        raise ToolchainError(
            f"anvil from npm has no build for {sys.platform}/{machine}; install foundry yourself "
            f"and set {ANVIL_ENV} to the anvil binary."
        )
    return f"anvil-{system}-{arch}"


@dataclass(frozen=True)
class Tools:
    anvil: Path
    solc_js: Path  # the solc npm package folder (holds soljson.js)


def _installed(root: Path) -> Tools | None:
    anvil = root / "node_modules" / "@foundry-rs" / _platform_package() / "bin" / "anvil"
    solc_js = root / "node_modules" / "solc"
    if anvil.is_file() and (solc_js / "soljson.js").is_file():
        return Tools(anvil=anvil, solc_js=solc_js)
    return None


def _require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise ToolchainError(
            f"{program} was not found on PATH. mosaic-tui installs its anvil and solc through npm: "
            "install Node.js 18 or newer with npm (https://nodejs.org, or your package manager's "
            f"'nodejs' and 'npm' packages), or set {ANVIL_ENV} and {SOLC_ENV} to binaries you have."
        )
    return found


def install(report: Report = _quiet) -> Tools:
    """Install the pinned tools into the cache unless they are already there."""
    root = _tools_dir()
    tools = _installed(root)
    if tools is not None:
        report(f"anvil {ANVIL_VERSION} and solc-js {SOLC_VERSION} already installed in {root}")
        return tools
    npm = _require("npm")
    _require("node")
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text('{"name": "mosaic-tui-tools", "private": true}\n')
    report(f"installing {ANVIL_PACKAGE}@{ANVIL_VERSION} and {SOLC_PACKAGE}@{SOLC_VERSION} into {root} ...")
    command = [
        npm, "install", "--no-audit", "--no-fund", "--loglevel", "error", "--prefix", str(root),
        f"{ANVIL_PACKAGE}@{ANVIL_VERSION}", f"{SOLC_PACKAGE}@{SOLC_VERSION}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    tools = _installed(root)
    if result.returncode != 0 or tools is None:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ToolchainError(
            "npm could not install the pinned tools (" + " / ".join(detail) + "). "
            "Check that the npm registry is reachable, then run 'mosaic-tui tools install' again."
        )
    report(f"installed anvil {ANVIL_VERSION} and solc-js {SOLC_VERSION}")
    return tools


def anvil_path(report: Report = _quiet) -> Path:
    """The anvil binary to run: MOSAIC_TUI_ANVIL, else the pinned one (installed on first need)."""
    override = _executable(ANVIL_ENV)
    if override is not None:
        return override
    return install(report).anvil


def solc_js_dir(report: Report = _quiet) -> Path:
    return install(report).solc_js


_SHIM = r"""// Makes solc-js answer like native solc for py-solc-x: --version and --standard-json only.
const solc = require(process.env.MOSAIC_TUI_SOLC_JS);
const args = process.argv.slice(2);
function finish(text, code) {
  // Let node drain stdout before exiting: a large JSON output is cut at 64 KiB otherwise.
  process.stdout.write(text, () => process.exit(code));
}
if (args.includes('--version')) {
  finish('solc, the solidity compiler commandline interface\nVersion: ' + solc.version() + '\n', 0);
} else if (args.includes('--standard-json')) {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const input = Buffer.concat(chunks).toString('utf8');
    const noImports = () => ({ error: 'imports must be given as sources' });
    finish(solc.compile(input, { import: noImports }), 0);
  });
} else {
  process.stderr.write('this solc stand-in supports only --version and --standard-json\n');
  process.exit(2);
}
"""


def solc_js_executable(report: Report = _quiet) -> Path:
    """A `solc` executable backed by solc-js, for machines where no native compiler can be had."""
    solc_js = solc_js_dir(report)
    node = _require("node")
    shim_dir = _tools_dir() / "solc-shim"
    shim_dir.mkdir(parents=True, exist_ok=True)
    script = shim_dir / "solc-shim.js"
    executable = shim_dir / "solc"
    wrapper = (
        "#!/bin/sh\n"
        f"MOSAIC_TUI_SOLC_JS='{solc_js}' exec '{node}' '{script}' \"$@\"\n"
    )
    if not script.is_file() or script.read_text() != _SHIM:
        script.write_text(_SHIM)
    if not executable.is_file() or executable.read_text() != wrapper:
        executable.write_text(wrapper)
        executable.chmod(executable.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return executable


# --- geth, a test tool ---------------------------------------------------------------------------


def _geth_dir() -> Path:
    return cache_dir() / "tools" / f"geth-{GETH_VERSION}"


def _executable(env: str) -> Path | None:
    override = os.environ.get(env)
    if not override:
        return None
    path = Path(override)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ToolchainError(f"{env} points at {path}, which is not an executable file.")
    return path


def install_geth(report: Report = _quiet) -> Path:
    """The pinned geth, built with `go install` into the tool cache on first need and reused after."""
    override = _executable(GETH_ENV)
    if override is not None:
        report(f"geth from {GETH_ENV}: {override}")
        return override
    binary = _geth_dir() / "geth"
    if binary.is_file() and os.access(binary, os.X_OK):
        report(f"geth {GETH_VERSION} (test tool) already installed in {binary.parent}")
        return binary
    go = shutil.which("go")
    if go is None:
        raise ToolchainError(
            f"go was not found on PATH. The tests run a real geth, which mosaic-tui builds with "
            f"'go install {GETH_MODULE}@{GETH_VERSION}': install Go 1.24 or newer (https://go.dev/dl), or set "
            f"{GETH_ENV} to a geth {GETH_VERSION} binary you have. Deploying does not need geth.")
    binary.parent.mkdir(parents=True, exist_ok=True)
    report(f"building geth {GETH_VERSION} (test tool) with go install into {binary.parent}; "
           "the first build takes a few minutes ...")
    environment = {**os.environ, "GOBIN": str(binary.parent)}
    result = subprocess.run([go, "install", f"{GETH_MODULE}@{GETH_VERSION}"], capture_output=True, text=True,
                            check=False, env=environment)
    if result.returncode != 0 or not binary.is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ToolchainError(
            f"go install could not build geth {GETH_VERSION} (" + " / ".join(detail) + "). Check that the Go "
            "module proxy is reachable, then run 'mosaic-tui tools install' again.")
    report(f"installed geth {GETH_VERSION}")
    return binary


def geth_path(report: Report = _quiet) -> Path:
    """The geth binary the tests run: MOSAIC_TUI_GETH, else the pinned one (built on first need)."""
    return install_geth(report)


def install_ganache(report: Report = _quiet) -> Path:
    """The pinned ganache (a test tool, from npm like anvil): MOSAIC_TUI_GANACHE, else installed on first need."""
    override = _executable(GANACHE_ENV)
    if override is not None:
        return override
    root = cache_dir() / "tools" / f"ganache-{GANACHE_VERSION}"
    binary = root / "node_modules" / ".bin" / "ganache"
    if binary.is_file():
        report(f"ganache {GANACHE_VERSION} (test tool) already installed in {root}")
        return binary
    npm = _require("npm")
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text('{"name": "mosaic-tui-test-tools", "private": true}\n')
    report(f"installing {GANACHE_PACKAGE}@{GANACHE_VERSION} (test tool) into {root} ...")
    result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel", "error", "--prefix", str(root),
                             f"{GANACHE_PACKAGE}@{GANACHE_VERSION}"], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not binary.is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ToolchainError("npm could not install ganache (" + " / ".join(detail) + "). Check that the npm "
                             "registry is reachable, then run 'mosaic-tui tools install' again.")
    report(f"installed ganache {GANACHE_VERSION}")
    return binary
