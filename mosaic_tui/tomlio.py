"""The one TOML writer: plans, exports and deployment records all go through `write_toml`.

(Reading is tomllib's; `key_lines` adds the line numbers that tomllib does not report.)

Writes are atomic (see `fsio`). TOML integers are 64-bit, yet wei amounts often are not: the plan
writes amounts as text with a unit ("1000 OST"). Integers wider than 64 bits are still written
as digits, which Python's tomllib reads back exactly but strict readers in other languages
refuse; `wide_integers` lists them so a caller that cares can check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from mosaic_tui.fsio import atomic_write

_TOML_INT_MIN = -(2**63)
_TOML_INT_MAX = 2**63 - 1


def dumps_toml(data: Mapping[str, Any], *, header: str | None = None) -> str:
    """TOML text for `data`, preceded by `header` as comment lines."""
    text = tomli_w.dumps(dict(data))
    if header:
        comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
        text = comment + "\n" + text
    return text


def write_toml(path: str | os.PathLike[str], data: Mapping[str, Any], secret: bool = False,
               *, header: str | None = None) -> Path:
    """Write `data` as TOML to `path` atomically; mode 0600 when `secret` or when a value is a URL with
    credentials in it (user:pass@, an API key in the path or query), else 0644."""
    secret = secret or _holds_credentials(data)
    return atomic_write(path, dumps_toml(data, header=header).encode("utf-8"), secret=secret)


def _holds_credentials(value: Any) -> bool:
    from mosaic_tui.redact import url_has_credentials

    if isinstance(value, str):
        return "://" in value and url_has_credentials(value)
    if isinstance(value, Mapping):
        return any(_holds_credentials(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_credentials(item) for item in value)
    return False


def wide_integers(value: Any, where: str = "") -> list[str]:
    """Dotted keys of the integers in `value` that do not fit a 64-bit TOML integer."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [] if _TOML_INT_MIN <= value <= _TOML_INT_MAX else [where or "value"]
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += wide_integers(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            found += wide_integers(item, f"{where}[{position}]")
    return found


def key_lines(text: str) -> dict[str, int]:
    """Where keys sit in TOML text: `table.key` / `array[i].key` -> line, for pointing at errors.

    Only plain `[table]`, `[[array]]` and `key = ...` lines are located; dotted keys and inline
    tables are not, and their errors simply carry no line number.
    """
    found: dict[str, int] = {}
    table = ""
    counts: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if match := re.match(r"\[\[\s*([A-Za-z0-9_-]+)\s*\]\]", line):
            counts[match[1]] = counts.get(match[1], -1) + 1
            table = f"{match[1]}[{counts[match[1]]}]"
        elif match := re.match(r"\[\s*([A-Za-z0-9_-]+)\s*\]", line):
            table = match[1]
        elif match := re.match(r"""([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""", line):
            key = match[1].strip("\"'")
            found.setdefault(f"{table}.{key}" if table else key, number)
            continue
        else:
            continue
        found.setdefault(table, number)
    return found
