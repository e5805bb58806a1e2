"""The validator node's configuration: exactly the env file step 5 exports (`rum-<n>-<addr>.env`).

The file is read as text (never sourced by a shell): `NAME=value` lines, `#` comments, values bare
or single-quoted the POSIX way, as `export.rum_env` writes them. Every problem is an InputError
naming the variable (exit code 2), and nothing is sent before the whole file is valid.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.keyref import KeyRef, parse_key_ref

ADDRESSES = {
    "origin_core": "MOSAIC_ORIGIN_CORE_ADDRESS",
    "origin_validator": "MOSAIC_ORIGIN_VALIDATOR_ADDRESS",
    "auxiliary_validator": "MOSAIC_AUXILIARY_VALIDATOR_ADDRESS",
    "origin_block_store": "MOSAIC_ORIGIN_BLOCK_STORE_ADDRESS",
    "auxiliary_block_store": "MOSAIC_AUXILIARY_BLOCK_STORE_ADDRESS",
    "kernel_gateway": "MOSAIC_KERNEL_GATEWAY_ADDRESS",
    "polling_place": "MOSAIC_POLLING_PLACE_ADDRESS",
}
NUMBERS = {
    "origin_polling_interval": "MOSAIC_ORIGIN_POLLING_INTERVAL",
    "auxiliary_polling_interval": "MOSAIC_AUXILIARY_POLLING_INTERVAL",
    "origin_chain_id": "MOSAIC_ORIGIN_CHAIN_ID",
    "auxiliary_chain_id": "MOSAIC_AUXILIARY_CHAIN_ID",
    "origin_epoch_length": "MOSAIC_ORIGIN_EPOCH_LENGTH",
    "auxiliary_epoch_length": "MOSAIC_AUXILIARY_EPOCH_LENGTH",
}
ENDPOINTS = {"origin_endpoint": "MOSAIC_ORIGIN_ENDPOINT", "auxiliary_endpoint": "MOSAIC_AUXILIARY_ENDPOINT"}
KEYS = {"origin_key": "MOSAIC_ORIGIN_VALIDATOR_KEY_REF", "auxiliary_key": "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF"}
PASSWORD_FILES = {"origin_password_file": "MOSAIC_ORIGIN_VALIDATOR_PASSWORD_FILE",
                  "auxiliary_password_file": "MOSAIC_AUXILIARY_VALIDATOR_PASSWORD_FILE"}
CORE_IDENTIFIER = "MOSAIC_CORE_IDENTIFIER"
_NAME = re.compile(r"[A-Z_][A-Z0-9_]*", re.ASCII)


@dataclass(frozen=True)
class NodeConfig:
    env_file: Path
    origin_endpoint: str
    auxiliary_endpoint: str
    origin_chain_id: int
    auxiliary_chain_id: int
    core_identifier: bytes
    origin_core: str
    origin_validator: str
    auxiliary_validator: str
    origin_block_store: str
    auxiliary_block_store: str
    kernel_gateway: str
    polling_place: str
    origin_polling_interval: int
    auxiliary_polling_interval: int
    origin_epoch_length: int
    auxiliary_epoch_length: int
    origin_key: KeyRef
    auxiliary_key: KeyRef
    origin_password_file: Path | None = None
    auxiliary_password_file: Path | None = None

    @property
    def ledger_path(self) -> Path:
        """The node's journal, beside its env file: one per validator, never shared."""
        return self.env_file.with_name(self.env_file.stem + ".validator.json")

    @property
    def name(self) -> str:
        return self.auxiliary_validator[:10]


def parse_env_text(text: str, where: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not _NAME.fullmatch(name.strip()):
            raise InputError(f"{where} line {number}", "expected NAME=value.")
        try:
            parts = shlex.split(value, comments=False, posix=True)
        except ValueError:
            raise InputError(name.strip(), f"{where} line {number}: the value's quotes do not close.") from None
        values[name.strip()] = " ".join(parts)
    return values


def load_config(path: str | os.PathLike[str]) -> NodeConfig:
    env_file = Path(path)
    try:
        text = env_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("ENV_FILE", f"{env_file} does not exist; export it with mosaic-tui export PLAN.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError("ENV_FILE", f"{env_file} cannot be read ({type(error).__name__}).") from None
    values = parse_env_text(text, str(env_file))
    problems: list[InputError] = []
    found: dict[str, object] = {"env_file": env_file.resolve()}

    def need(variable: str) -> str | None:
        value = values.get(variable, "").strip()
        if not value:
            problems.append(InputError(variable, f"{env_file} does not set it; export the file again."))
            return None
        return value

    for key, variable in ENDPOINTS.items():
        value = need(variable)
        if value is not None and not re.fullmatch(r"https?://\S+", value):
            problems.append(InputError(variable, f"'{value}' is not an http(s) URL."))
        found[key] = value
    for key, variable in ADDRESSES.items():
        value = need(variable)
        if value is not None:
            try:
                found[key] = units.parse_address(value, variable)
            except InputError as error:
                problems.append(error)
    for key, variable in NUMBERS.items():
        value = need(variable)
        if value is not None:
            if not value.isdigit() or int(value) < 1:
                problems.append(InputError(variable, f"'{value}' is not a whole number of at least 1."))
            else:
                found[key] = int(value)
    identifier = need(CORE_IDENTIFIER)
    if identifier is not None:
        if not re.fullmatch(r"0x[0-9a-fA-F]{40}", identifier):
            problems.append(InputError(CORE_IDENTIFIER, "expected 0x and 40 hex digits (20 bytes)."))
        else:
            found["core_identifier"] = bytes.fromhex(identifier[2:])
    for key, variable in KEYS.items():
        value = need(variable)
        if value is not None:
            try:
                found[key] = parse_key_ref(value, variable)
            except InputError as error:
                problems.append(error)
    for key, variable in PASSWORD_FILES.items():
        value = values.get(variable, "").strip()
        if value:
            found[key] = Path(value).expanduser()
    if problems:
        raise InputErrors(problems)
    return NodeConfig(**found)  # type: ignore[arg-type]
