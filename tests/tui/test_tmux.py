"""The real `mosaic-tui --devnet` in a 120x36 tmux terminal, driven with keys from the welcome screen to the
rum export, checked with capture-pane.

The devnet runs on free ports (`--origin-port`, `--auxiliary-port`), never on 8545/8546, which a
developer's own devnet may hold; the devnet record then stops exactly its nodes afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mosaic_tui import devnet

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (scripts/test installs it with apt-get)")


class Terminal:
    def __init__(self, socket: Path, session: str) -> None:
        self.socket, self.session = socket, session

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        # A private server (-S) with no config file (-f): the developer's tmux and settings stay out of it.
        return subprocess.run([TMUX, "-S", str(self.socket), "-f", "/dev/null", *args], capture_output=True,
                              text=True, check=True).stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def wait_until(self, condition: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if condition(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not appear within {timeout:.0f} s; the terminal shows:\n{shown}")
            time.sleep(0.2)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in " ".join(shown.split()):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear within {timeout:.0f} s; the terminal shows:\n{shown}")
            time.sleep(0.2)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, int, Path]]:
    devnet_dir = tmp_path / "devnet"
    program = Path(sys.executable).parent / "mosaic-tui"
    # COLUMNS / LINES (set under pytest) would pin the app to 80x24 whatever the terminal's size is.
    origin_port = devnet.free_port()
    ports = f"--origin-port {origin_port} --auxiliary-port {devnet.free_port()}"
    inner = (f"cd {tmp_path} && exec env -u COLUMNS -u LINES MOSAIC_TUI_DEVNET_DIR={devnet_dir} "
             f"TERM=xterm-256color {program} --devnet {ports} --plan {tmp_path / 'mosaic-plan.toml'}")
    socket, session = tmp_path / "tmux.sock", "wizard"
    term = Terminal(socket, session)
    term.tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", f"sh -c '{inner}'")
    term.tmux("set-option", "-t", session, "remain-on-exit", "on")
    term.tmux("set-option", "-t", session, "window-size", "manual")
    term.tmux("resize-window", "-t", session, "-x", "120", "-y", "36")
    try:
        yield term, origin_port, tmp_path
    finally:
        subprocess.run([TMUX, "-S", str(socket), "kill-server"], capture_output=True, check=False)
        devnet.down(devnet_dir)  # whatever the run left, stopped by PID


def test_mosaic_tui_devnet_in_tmux_from_welcome_to_rum_export(terminal: tuple[Terminal, int, Path]) -> None:
    term, origin_port, folder = terminal
    term.wait_for("Deploy a Mosaic meta-blockchain", timeout=60)
    term.wait_for(f"Local devnet running at http://127.0.0.1:{origin_port}")
    term.keys("d")
    term.wait_for("connected: chain id 1337")
    term.keys("C-n")
    term.wait_for("balances read at origin block")
    term.keys("C-n")
    for text in ("Preflight passed.", "Devnet preparation", "Origin contracts"):
        term.wait_for(text)
    term.keys("C-n")
    term.wait_for("Step 5 — Rum nodes.", timeout=240)
    # The page fills in parts (files, then the env preview): wait for each, never judge a half-drawn screen.
    for text in ("MOSAIC_ORIGIN_CORE_ADDRESS=0x", "rum-0-", "deployment.toml"):
        term.wait_for(text)
    assert (folder / "out" / "deployment.toml").is_file()
    term.keys("F2")
    term.wait_for("proposers 3")
    # In PollingPlace and in ProposerSet, each of the 3 validators.
    term.wait_until(lambda shown: shown.count("yes") == 6, "six 'yes' cells in the status table")
    term.keys("Escape")
    term.wait_for("Step 5 — Rum nodes.")
    term.keys("q")
    term.wait_for("Keep it running after you quit?")
    term.keys("s")
    deadline = time.monotonic() + 30
    while term.tmux("display", "-p", "-t", term.session, "#{pane_dead}").strip() != "1":
        assert time.monotonic() < deadline, f"mosaic-tui did not exit; the terminal shows:\n{term.screen()}"
        time.sleep(0.2)
    assert devnet.load_record(folder / "devnet") == {}  # "Stop it" stopped both nodes
