"""Step 5's files: deployment.toml (every output of every step) and what the rum validator nodes run with.

The journal holds the step outputs; the plan holds the inputs. From both this writes, into `out/`:
- `deployment.toml`, the record of the deployment (docs/design.md, "Files"), public (0644);
- `rum.toml`, every address and endpoint OIP-3 step 5 lists, for all validators at once, and
- `rum-<index>-<address>.env`, one per validator, the variables rum reads.
The last two say how each validator's keys are unlocked, by reference only (the plan's
`keyring:`/`keystore:`/`node`/`dev:` reference and the path of a password file the operator
keeps), never a key or a password, and they are still written 0600: they map a validator's
accounts to where its secrets live. Exporting never opens a key.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mosaic_tui import authority, units
from mosaic_tui.errors import InputError, MosaicError
from mosaic_tui.fsio import atomic_write
from mosaic_tui.keyref import KeyRef, looks_like_secret
from mosaic_tui.plan import Plan, ValidatorPlan
from mosaic_tui.tomlio import write_toml

DEPLOYMENT_FILE = "deployment.toml"
RUM_FILE = "rum.toml"
ORIGIN_POLLING_INTERVAL = 12  # seconds: Ethereum's slot time; polling faster finds no new block
DEVNET_POLLING_INTERVAL = 1

# Which step records each output (COMMON.md "Deployment outputs"), to say what to run when one is missing.
PRODUCED_BY = {
    "ost": "devnet preparation (the dev OST token)",
    **dict.fromkeys(("origin_core", "stake", "ost_gateway"), "step 1 (origin contracts)"),
    **dict.fromkeys(("setup_block_hash", "setup_block_number", "setup_state_root"), "step 2 (staking)"),
    **dict.fromkeys(("auxiliary_rpc", "origin_block_store", "auxiliary_block_store", "polling_place",
                     "kernel_gateway", "ost_prime", "proposer_set", "initial_proposer"),
                    "step 3 (starting the auxiliary chain)"),
    **dict.fromkeys(("gas_price", "base_coin_minted"), "step 4 (initializing the auxiliary chain)"),
}


class ExportError(MosaicError):
    """The outputs cannot be exported: one is missing or is not what its step records."""

    exit_code = 1


class MissingOutput(ExportError):
    """Outputs the export needs are not in the journal yet; names each one and the step that records it."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        listed = "; ".join(f"{name} (recorded by {PRODUCED_BY.get(name, 'no known step')})" for name in self.names)
        super().__init__(f"the deployment has no {listed} yet; finish the deployment (mosaic-tui deploy PLAN) "
                         "and export again.")


class _Outputs:
    """Reads outputs, remembering every missing name so one error can list them all."""

    def __init__(self, outputs: Mapping[str, Any]) -> None:
        self.outputs = outputs
        self.missing: list[str] = []

    def raw(self, name: str) -> Any:
        value = self.outputs.get(name)
        if value is None or value == "":
            if name not in self.missing:
                self.missing.append(name)
            return None
        return value

    def address(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        try:
            return units.parse_address(value, name)
        except InputError as error:
            raise ExportError(f"the journal's output {error.field} is not an address: {error.message}") from None

    def integer(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise ExportError(f"the journal's output {name} should be a whole number, not {type(value).__name__}.")

    def hash32(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        text = "0x" + value.hex() if isinstance(value, bytes | bytearray) else str(value).lower()
        if not re.fullmatch(r"0x[0-9a-f]{64}", text):
            raise ExportError(f"the journal's output {name} should be a 32-byte hash (0x and 64 hex digits).")
        return text

    def check(self) -> None:
        if self.missing:
            raise MissingOutput(self.missing)


def _ost(plan: Plan, read: _Outputs) -> str | None:
    return read.address("ost") if plan.deploys_ost else plan.origin.ost


def deployment_document(plan: Plan, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """deployment.toml's tables (docs/design.md, "Files"): addresses checksummed, amounts integer wei."""
    read = _Outputs(outputs)
    origin = {
        "rpc": plan.origin.rpc,
        "chain_id": plan.origin.chain_id,
        "ost": _ost(plan, read),
        "origin_core": read.address("origin_core"),
        "stake": read.address("stake"),
        "ost_gateway": read.address("ost_gateway"),
        "setup_block_hash": read.hash32("setup_block_hash"),
        "setup_block_number": read.integer("setup_block_number"),
    }
    if outputs.get("setup_state_root"):
        origin["setup_state_root"] = read.hash32("setup_state_root")
    auxiliary = {
        "rpc": outputs.get("auxiliary_rpc") or plan.auxiliary.rpc,
        "chain_id": plan.auxiliary.chain_id,
        **{name: read.address(name) for name in ("origin_block_store", "auxiliary_block_store", "polling_place",
                                                 "kernel_gateway", "ost_prime", "proposer_set", "initial_proposer")},
        "gas_price": read.integer("gas_price"),
        "base_coin_supply": plan.auxiliary.base_coin_supply,
    }
    if outputs.get("base_coin_minted") is not None:
        auxiliary["base_coin_minted"] = read.integer("base_coin_minted")
    read.check()
    return {
        "core": {"identifier": plan.core_identifier},
        "origin": origin,
        "auxiliary": auxiliary,
        "validators": [{"origin_address": v.origin_address, "auxiliary_address": v.auxiliary_address,
                        "stake": v.stake, "gateway_stake": v.gateway_stake} for v in plan.validators],
    }


def _validator(plan: Plan, validator: int | ValidatorPlan) -> tuple[int, ValidatorPlan]:
    if isinstance(validator, int):
        if not 0 <= validator < len(plan.validators):
            raise ExportError(f"the plan has no validator {validator}; it lists {len(plan.validators)}.")
        return validator, plan.validators[validator]
    for index, candidate in enumerate(plan.validators):
        if candidate == validator:
            return index, candidate
    raise ExportError(f"validator {validator.auxiliary_address} is not in the plan.")


def env_file_name(plan: Plan, validator: int | ValidatorPlan) -> str:
    """rum-<index>-<first 8 hex digits of the auxiliary address>.env: stable, and safe on any filesystem."""
    index, entry = _validator(plan, validator)
    return f"rum-{index}-{entry.auxiliary_address[2:10].lower()}.env"


def _password_file(ref: KeyRef, node: str, base: Path | None) -> str | None:
    """The password file that unlocks `ref`: for a keystore its passphrase, for `node` the node's account.

    A keyring unlocks itself and a dev key needs nothing, so they have none.
    """
    if ref.kind not in ("keystore", "node"):
        return None
    relative = authority.password_file(node)
    return str(base / relative) if base is not None else relative


def _key_reference(ref: KeyRef, where: str) -> str:
    text = str(ref)
    if looks_like_secret(text):  # parse_key_ref refuses these already; an export must never be the leak
        raise ExportError(f"{where} holds what looks like a key, not a reference to one; nothing was written.")
    return text


def _rum_validator(plan: Plan, index: int, base: Path | None) -> dict[str, Any]:
    entry = plan.validators[index]
    node = authority.validator_node(index)
    found: dict[str, Any] = {
        "name": node,
        "env_file": env_file_name(plan, index),
        "origin_address": entry.origin_address,
        "auxiliary_address": entry.auxiliary_address,
        "origin_key": _key_reference(entry.origin_key, f"validators[{index}].origin_key"),
        "auxiliary_key": _key_reference(entry.auxiliary_key, f"validators[{index}].auxiliary_key"),
    }
    # The auxiliary account is the one the validator's authority node unlocks, with the same file.
    for side, ref, owner in (("origin", entry.origin_key, f"{node}-origin"), ("auxiliary", entry.auxiliary_key, node)):
        path = _password_file(ref, owner, base)
        if path is not None:
            found[f"{side}_password_file"] = path
    return found


def polling_intervals(plan: Plan) -> tuple[int, int]:
    """(origin, auxiliary) seconds between rum's polls: about once per new block."""
    origin = DEVNET_POLLING_INTERVAL if plan.devnet else ORIGIN_POLLING_INTERVAL
    return origin, max(1, plan.auxiliary.block_time)


def rum_document(plan: Plan, outputs: Mapping[str, Any], *, base: Path | None = None) -> dict[str, Any]:
    """rum.toml: the addresses and endpoints of OIP-3 step 5 for every validator, keys by reference.

    No amounts, so every integer fits 64 bits and any TOML reader can read it. Password file
    paths are relative to the export directory unless `base` makes them absolute.
    """
    read = _Outputs(outputs)
    origin_interval, auxiliary_interval = polling_intervals(plan)
    epoch = plan.auxiliary.epoch_length
    document = {
        "core": {"identifier": plan.core_identifier},
        "origin": {
            "rpc": plan.origin.rpc,
            "chain_id": plan.origin.chain_id,
            "origin_core": read.address("origin_core"),
            "polling_interval": origin_interval,
            "epoch_length": epoch,
            # OriginBlockStore's trusted checkpoint, where rum starts following origin.
            "initial_block_hash": read.hash32("setup_block_hash"),
            "initial_block_number": read.integer("setup_block_number"),
        },
        "auxiliary": {
            "rpc": outputs.get("auxiliary_rpc") or plan.auxiliary.rpc,
            "chain_id": plan.auxiliary.chain_id,
            **{name: read.address(name) for name in ("kernel_gateway", "polling_place", "origin_block_store",
                                                     "auxiliary_block_store")},
            "polling_interval": auxiliary_interval,
            "epoch_length": epoch,
        },
        "validators": [_rum_validator(plan, index, base) for index in range(len(plan.validators))],
    }
    read.check()
    return document


_SAFE_VALUE = re.compile(r"[A-Za-z0-9_./:@%+,=-]*", re.ASCII)


def _env_value(value: object) -> str:
    """A value as POSIX shell, systemd and docker --env-file all read it.

    Everything rum needs is addresses, URLs, numbers and plain paths, written bare so no reader sees
    quotes; anything else is single-quoted the POSIX way (docker would keep those quotes, so such a
    value, e.g. a path with a space, is best avoided).
    """
    text = str(value)
    if any(not character.isprintable() for character in text):
        raise ExportError("an env file value holds a line break or control character; it cannot be exported.")
    if _SAFE_VALUE.fullmatch(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def rum_env(plan: Plan, outputs: Mapping[str, Any], validator: int | ValidatorPlan, *,
            base: Path | None = None) -> str:
    """The env file one validator's rum node runs with."""
    index, _ = _validator(plan, validator)
    document = rum_document(plan, outputs, base=base)
    origin, aux, mine = document["origin"], document["auxiliary"], document["validators"][index]
    variables = {
        "MOSAIC_ORIGIN_ENDPOINT": origin["rpc"],
        "MOSAIC_AUXILIARY_ENDPOINT": aux["rpc"],
        "MOSAIC_ORIGIN_CORE_ADDRESS": origin["origin_core"],
        "MOSAIC_ORIGIN_VALIDATOR_ADDRESS": mine["origin_address"],
        "MOSAIC_AUXILIARY_VALIDATOR_ADDRESS": mine["auxiliary_address"],
        "MOSAIC_ORIGIN_BLOCK_STORE_ADDRESS": aux["origin_block_store"],
        "MOSAIC_AUXILIARY_BLOCK_STORE_ADDRESS": aux["auxiliary_block_store"],
        "MOSAIC_ORIGIN_POLLING_INTERVAL": origin["polling_interval"],
        "MOSAIC_AUXILIARY_POLLING_INTERVAL": aux["polling_interval"],
        "MOSAIC_KERNEL_GATEWAY_ADDRESS": aux["kernel_gateway"],
        "MOSAIC_POLLING_PLACE_ADDRESS": aux["polling_place"],
        "MOSAIC_CORE_IDENTIFIER": document["core"]["identifier"],
        "MOSAIC_ORIGIN_CHAIN_ID": origin["chain_id"],
        "MOSAIC_AUXILIARY_CHAIN_ID": aux["chain_id"],
        "MOSAIC_ORIGIN_EPOCH_LENGTH": origin["epoch_length"],
        "MOSAIC_AUXILIARY_EPOCH_LENGTH": aux["epoch_length"],
        "MOSAIC_ORIGIN_INITIAL_BLOCK_HASH": origin["initial_block_hash"],
        "MOSAIC_ORIGIN_INITIAL_BLOCK_HEIGHT": origin["initial_block_number"],
        "MOSAIC_ORIGIN_VALIDATOR_KEY_REF": mine["origin_key"],
        "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF": mine["auxiliary_key"],
    }
    for side in ("origin", "auxiliary"):
        if f"{side}_password_file" in mine:
            variables[f"MOSAIC_{side.upper()}_VALIDATOR_PASSWORD_FILE"] = mine[f"{side}_password_file"]
    header = (f"# rum node of validator {index} ({mine['auxiliary_address']}), written by mosaic-tui.\n"
              "# Keys are referenced, never held here: *_KEY_REF is the plan's reference, *_PASSWORD_FILE the\n"
              "# path of a file (mode 0600) you keep with the password. Start: see `mosaic-tui export`.\n")
    return header + "".join(f"{name}={_env_value(value)}\n" for name, value in variables.items())


def rum_command(plan: Plan, outputs: Mapping[str, Any], validator: int | ValidatorPlan, *,
                out_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The command that starts this validator's node: rum with the env file exported into its
    environment where rum is on PATH, otherwise our own node, `mosaic-tui validator run ENV_FILE`.

    The env file's path is absolute and so holds a slash: `.` would otherwise search PATH for it.
    Raises MissingOutput, as the export does, while the deployment is unfinished: rum cannot run yet.
    """
    rum_document(plan, outputs)
    env_path = os.path.abspath(Path(out_dir if out_dir is not None else plan.out_dir) / env_file_name(plan, validator))
    rum = shutil.which("rum")
    if rum is None:
        ours = shutil.which("mosaic-tui")
        return [*([ours] if ours else [sys.executable, "-m", "mosaic_tui.cli"]), "validator", "run", env_path]
    return ["sh", "-ac", '. "$1" && exec "$2"', "rum", env_path, rum]


def write_exports(out_dir: str | os.PathLike[str], plan: Plan, outputs: Mapping[str, Any]) -> list[Path]:
    """Write deployment.toml (0644), rum.toml and one env file per validator (0600) into `out_dir`.

    Everything is built before anything is written, so a missing output leaves no half export.
    """
    out = Path(out_dir)
    base = Path(os.path.abspath(out))
    deployment = deployment_document(plan, outputs)
    rum = rum_document(plan, outputs, base=base)
    envs = {env_file_name(plan, index): rum_env(plan, outputs, index, base=base)
            for index in range(len(plan.validators))}
    written = [
        write_toml(out / DEPLOYMENT_FILE, deployment, header=(
            "Mosaic deployment record, written by mosaic-tui: every output of every step.\n"
            "Amounts are integer wei and may exceed 64 bits (Python's tomllib reads them exactly).")),
        write_toml(out / RUM_FILE, rum, secret=True, header=(
            "rum configuration for every validator, written by mosaic-tui (OIP-3 step 5).\n"
            "Keys are referenced (keyring:, keystore:, node, dev:) and passwords are file paths; neither is held here.")),
    ]
    written += [atomic_write(out / name, text.encode("utf-8"), secret=True) for name, text in envs.items()]
    return written


def outputs_from_deployment_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A validator's machine has no coordinator journal: the outputs come from its deployment.toml."""
    import tomllib

    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("--deployment", f"{path} does not exist; ask the coordinator for deployment.toml "
                                         "(public, written at the end of the deployment).") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError("--deployment", f"{path} cannot be read as TOML ({error}).") from None
    outputs: dict[str, Any] = {}
    for table in ("origin", "auxiliary"):
        part = document.get(table)
        if isinstance(part, Mapping):
            outputs.update({key: value for key, value in part.items() if key not in ("rpc", "chain_id")})
    if isinstance(document.get("auxiliary"), Mapping) and "rpc" in document["auxiliary"]:
        outputs["auxiliary_rpc"] = document["auxiliary"]["rpc"]
    return outputs


def write_validator_exports(out_dir: str | os.PathLike[str], plan: Plan, outputs: Mapping[str, Any], index: int,
                            origin_key: KeyRef | None, auxiliary_key: KeyRef | None) -> list[Path]:
    """One validator's own rum.toml and env file, on its machine, with its own key references.

    The plan holds `external` for a validator who keeps its keys; the references given here replace
    them (they name the validator's keyring entry or keystore, never the key)."""
    from dataclasses import replace

    index, entry = _validator(plan, index)
    for side, given in (("origin_key", origin_key), ("auxiliary_key", auxiliary_key)):
        if given is None and getattr(entry, side).is_external:
            flag = "--key" if side == "origin_key" else "--auxiliary-key"
            raise InputError(flag, f"validator {index + 1}'s {side} is external in the plan; give your own reference "
                                   f"with {flag} (keyring:<name> or keystore:<path>).")
    own = replace(entry, origin_key=origin_key or entry.origin_key, auxiliary_key=auxiliary_key or entry.auxiliary_key)
    mine = replace(plan, validators=tuple(own if i == index else v for i, v in enumerate(plan.validators)))
    out = Path(out_dir)
    base = Path(os.path.abspath(out))
    rum = rum_document(mine, outputs, base=base)
    rum["validators"] = [rum["validators"][index]]
    env = rum_env(mine, outputs, index, base=base)
    return [write_toml(out / env_file_name(plan, index).replace(".env", ".toml"), rum, secret=True, header=(
                f"rum configuration of validator {index + 1}, written on its own machine by mosaic-tui.\n"
                "Keys are referenced, never held here.")),
            atomic_write(out / env_file_name(plan, index), env.encode("utf-8"), secret=True)]


__all__ = ["DEPLOYMENT_FILE", "PRODUCED_BY", "RUM_FILE", "ExportError", "MissingOutput", "deployment_document",
           "env_file_name", "outputs_from_deployment_file", "polling_intervals", "rum_command", "rum_document", "rum_env",
           "write_exports", "write_validator_exports"]
