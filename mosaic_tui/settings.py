"""Every MOSAIC_TUI_* environment variable, declared, read and checked in one place.

A bad value is a sentence naming the variable (an InputError, exit code 2), never a crash and never
silently replaced by the default; the CLI checks them all before it does anything (`check_environment`),
and a MOSAIC_TUI_* name that is not a setting is pointed out with the closest real name. Values are read
when asked for, not cached, so a test or a wrapper may change them between runs.

Keystore passphrases (MOSAIC_TUI_PASSPHRASE, MOSAIC_TUI_PASSPHRASE_<NAME>) are listed here but read only
by keys.py, which takes them out of the environment; test hooks are listed so that they are known.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors

PREFIX = "MOSAIC_TUI_"


def _seconds(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(name, f"expected a number of seconds, not {text[:30]!r}.") from None
    if not 1.0 <= value <= 86_400.0:
        raise InputError(name, f"expected between 1 and 86400 seconds, not {text[:30]}.")
    return value


def _count(text: str, name: str) -> int:
    return units.parse_int(text, name, minimum=1, maximum=1_000_000)


def _port(text: str, name: str) -> int:
    return units.parse_int(text, name, minimum=1, maximum=65_535, what="a port number")


def _path(text: str, name: str) -> Path:
    return Path(text).expanduser()


def _flag(text: str, name: str) -> bool:
    return True  # set to anything: on


def _text(text: str, name: str) -> str:
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    about: str
    parse: Callable[[str, str], Any] = _text
    default: Any = None
    checked: bool = True  # False: read elsewhere (secrets, executables checked when used, test hooks)


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("MOSAIC_TUI_AUXILIARY_PORT", "the devnet's auxiliary port in the wizard (default 8546)", _port, 8546),
    Setting("MOSAIC_TUI_RPC_PATIENCE", "seconds an RPC call keeps retrying a node that does not answer", _seconds,
            120.0),
    Setting("MOSAIC_TUI_RPC_BATCH_SIZE", "calls per JSON-RPC batch request (default 500)", _count, 500),
    Setting("MOSAIC_TUI_DEVNET_DIR", "where `devnet up` keeps its nodes (default: the user data folder)", _path),
    Setting("MOSAIC_TUI_CACHE", "where the pinned tools are installed (default: the user cache folder)", _path),
    Setting("MOSAIC_TUI_NO_VALIDATORS", "set: a devnet starts no validator nodes", _flag, False),
    Setting("MOSAIC_TUI_DEVNET_GONE_SECONDS", "seconds a devnet's validator node waits for its chains once they stop "
            "answering, before it stops itself (default 60)", _seconds, 60.0),
    Setting("MOSAIC_TUI_DEVNET_ENGINE", "set: a validator node drives a devnet's AuRa engine itself", _flag, False),
    Setting("MOSAIC_TUI_ANVIL", "an anvil binary to use instead of the pinned one", checked=False),
    Setting("MOSAIC_TUI_GETH", "a geth binary to use (tests only)", checked=False),
    Setting("MOSAIC_TUI_GANACHE", "a ganache binary to use (tests only)", checked=False),
    Setting("MOSAIC_TUI_SOLC", "a solc binary to use instead of solc-js", checked=False),
    Setting("MOSAIC_TUI_SOLC_JS", "set by the solc-js shim for its own child process", checked=False),
    Setting("MOSAIC_TUI_PASSPHRASE", "the passphrase of every keystore without its own (keys.py)", checked=False),
    Setting("MOSAIC_TUI_VALIDATOR_KEY", "`validator stake`: the validator's origin key reference", checked=False),
    Setting("MOSAIC_TUI_VALIDATOR_AUXILIARY_KEY", "`validator stake`: its auxiliary key reference", checked=False),
    Setting("MOSAIC_TUI_CRASH_AFTER_STEP", "test hook: kill the run after this step", checked=False),
    Setting("MOSAIC_TUI_CRASH_AFTER_WRITE", "test hook: kill the run after this journal write", checked=False),
    Setting("MOSAIC_TUI_VALIDATOR_CRASH", "test hook: kill a validator node after its k-th ledger write, or after the first that journals a transaction (pending)", checked=False),
)}
_FAMILIES = ("MOSAIC_TUI_PASSPHRASE_",)  # one variable per keystore: MOSAIC_TUI_PASSPHRASE_<NAME>


def get(name: str) -> Any:
    """The setting's value from the environment, its default when unset or empty; InputError when bad."""
    setting = SETTINGS[name]
    text = os.environ.get(name, "").strip()
    if not text:
        return setting.default
    return setting.parse(text, name)


def check_environment() -> list[str]:
    """Check every MOSAIC_TUI_* variable set: InputErrors for bad values, and a note per unknown name."""
    problems: list[InputError] = []
    notes: list[str] = []
    for name in sorted(n for n in os.environ if n.startswith(PREFIX)):
        setting = SETTINGS.get(name)
        if setting is None:
            if not name.startswith(_FAMILIES):
                hint = difflib.get_close_matches(name, SETTINGS, n=1)
                notes.append(f"{name} is not a mosaic-tui setting and is ignored"
                             + (f"; did you mean {hint[0]}?" if hint else "."))
            continue
        if setting.checked:
            try:
                get(name)
            except InputError as error:
                problems.append(error)
    if problems:
        raise InputErrors(problems)
    return notes
