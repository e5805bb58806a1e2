"""The plan: every input of step 0, declared once as pydantic models, loaded from and saved to TOML.

A plan is what the operator decided; the journal is what happened. The wizard fills a plan from
its forms (`plan_from_dict`), the headless CLI reads one from a file (`load_plan`), and both get
the same checks with every problem reported at once, each naming its key (and its line in a file),
so one edit fixes them all. Each field's kind (`plan_fields`) is its parser and its TOML form; its
`Form` metadata is what the wizard shows. Keys are never part of a plan, only references to them.

Layout of the file (see assets/example-plan.toml):

    plan_version, devnet, out_dir
    [core]          identifier, minimum_weight
    [origin]        rpc, chain_id, ost, deployer, deployer_gateway_stake, confirmations, staking_deadline,
                    max_fee_per_gas, max_priority_fee_per_gas, replace_after_blocks
    [auxiliary]     rpc, chain_id, initial_proposer, block_time, gas_limit, gas_price,
                    base_coin_supply, epoch_length
    [[validators]]  origin_address, auxiliary_address, stake, gateway_stake, origin_key, auxiliary_key
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from mosaic_tui import plan_fields as kinds
from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.keyref import PRIVATE_KEY_PATTERN, USE_A_REFERENCE, KeyRef
from mosaic_tui.plan_checks import static_problems
from mosaic_tui.plan_errors import input_errors, partial_plan
from mosaic_tui.plan_fields import DEPLOY_OST, FINALIZED, Form, format_deadline, parse_deadline
from mosaic_tui.tomlio import key_lines, write_toml

PLAN_VERSION = 1
_TABLE = ConfigDict(extra="forbid")
_VERSION = kinds.Kind("int", lambda value, field: _version(value, field))


def _version(value: Any, field: str) -> int:
    if value != PLAN_VERSION or isinstance(value, bool):
        raise InputError(field, f"this program reads plan_version {PLAN_VERSION}; the plan says {value!r}.")
    return PLAN_VERSION


@dataclass(frozen=True, config=_TABLE)
class OriginPlan:
    rpc: Annotated[str, kinds.URL, Form("Origin RPC URL", "the origin chain's JSON-RPC endpoint")]
    chain_id: Annotated[int, kinds.CHAIN_ID, Form("Origin chain id", "filled in from the node once connected")]
    ost: Annotated[str, kinds.OST_TOKEN, Form("OST token address", 'the OST token on origin ("deploy" on a devnet)')]
    deployer: Annotated[KeyRef, kinds.KEY, Form("Deployment key", "owns ETH for gas and OST for its gateway stake")]
    # wei of OST the deployer stakes in OSTGateway for base coin
    deployer_gateway_stake: Annotated[int, kinds.OST, Form(
        "Deployer gateway stake", "OST staked for the initial proposer's base coin", suggested="100 OST")]
    # Blocks on top of the set-up block before it is a trust anchor, or FINALIZED; None: the default
    # (FINALIZED off a devnet, 0 on one), see `Plan.confirmations`.
    confirmations: Annotated[int | str | None, kinds.CONFIRMATIONS] = None
    # When step 2 stops waiting for external validators (UTC); None waits until they all acted.
    staking_deadline: Annotated[datetime | None, kinds.DEADLINE] = None
    # Fee ceilings for origin transactions (wei per gas); None: no ceiling beyond the node's estimate.
    max_fee_per_gas: Annotated[int | None, kinds.GWEI] = None
    max_priority_fee_per_gas: Annotated[int | None, kinds.GWEI] = None
    # A transaction not mined within this many blocks is replaced at its nonce, both fees raised >= 10 %;
    # None: REPLACE_AFTER_BLOCKS.
    replace_after_blocks: Annotated[int | None, kinds.whole(1, 10_000)] = None


# origin keys that change how the deployment waits or pays, not what it deploys: outside the digest
REPLACE_AFTER_BLOCKS = 3
_NOT_DEPLOYED = ("confirmations", "staking_deadline", "max_fee_per_gas", "max_priority_fee_per_gas",
                 "replace_after_blocks")


@dataclass(frozen=True, config=_TABLE)
class CorePlan:
    # None in a file: the default, origin chain id + auxiliary chain id (filled in when the plan is read)
    identifier: Annotated[str | None, kinds.IDENTIFIER, Form(
        "Core identifier", "20 bytes; empty = origin chain id + auxiliary chain id", optional=True)] = \
        Field(default=None, kw_only=True)
    minimum_weight: Annotated[int, kinds.OST, Form(
        "Minimum weight", "the smallest stake a validator may have", suggested="1000 OST")]


@dataclass(frozen=True, config=_TABLE)
class AuxiliaryPlan:
    rpc: Annotated[str, kinds.URL, Form("Auxiliary RPC URL", "where the auxiliary node answers")]
    chain_id: Annotated[int, kinds.CHAIN_ID, Form("Auxiliary chain id", "must differ from the origin chain id")]
    # seals and deploys during the zero-gas-price bootstrap
    initial_proposer: Annotated[KeyRef, kinds.KEY, Form("Initial proposer key",
                                                        "seals and deploys during the zero-gas bootstrap")]
    block_time: Annotated[int, kinds.whole(1, 3600), Form(
        "Block time (s)", "seconds per block (Aura stepDuration)")] = 5
    gas_limit: Annotated[int, kinds.whole(21_000), Form("Block gas limit")] = 10_000_000
    # wei; the kernel gas price the chain runs at after bootstrap
    gas_price: Annotated[int, kinds.GWEI, Form("Gas price after bootstrap", "the kernel gas price")] = 10**9
    # all OST could be bridged: 800M, like OST's supply
    base_coin_supply: Annotated[int, kinds.OST, Form(
        "Base coin supply", "allocated to OSTPrime in genesis")] = 800_000_000 * 10**18
    epoch_length: Annotated[int, kinds.whole(1, 10**9), Form(
        "Epoch length (blocks)", "blocks between checkpoints")] = 100


@dataclass(frozen=True, config=_TABLE)
class ValidatorPlan:
    origin_address: Annotated[str, kinds.ADDRESS, Form("Origin address", "stakes OST on origin")]
    auxiliary_address: Annotated[str, kinds.ADDRESS, Form("Auxiliary address",
                                                          "votes and seals on the auxiliary chain")]
    # wei of OST staked in Stake; becomes the validator's weight
    stake: Annotated[int, kinds.OST, Form("Stake", "its weight; at least the minimum weight", suggested="1000 OST")]
    # wei of OST staked in OSTGateway for base coin to pay for votes
    gateway_stake: Annotated[int, kinds.OST, Form("Gateway stake", "buys base coin for its votes",
                                                  suggested="10 OST", csv_optional=True)]
    origin_key: Annotated[KeyRef, kinds.KEY, Form(
        "Origin key", 'signs its approvals and gateway stake; "external" if the validator signs on its own machine',
        csv_optional=True)]
    auxiliary_key: Annotated[KeyRef, kinds.KEY, Form(
        "Auxiliary key", 'the rum node\'s key on the auxiliary chain; "external" if only the validator holds it',
        csv_optional=True)]


@dataclass(frozen=True, config=_TABLE)
class Plan:
    origin: OriginPlan
    core: CorePlan
    auxiliary: AuxiliaryPlan
    validators: tuple[ValidatorPlan, ...] = ()
    out_dir: Annotated[str, kinds.TEXT, Form("Export folder", "relative to the plan file")] = "out"
    devnet: Annotated[bool, kinds.BOOL] = False
    plan_version: Annotated[int, _VERSION] = PLAN_VERSION

    @model_validator(mode="after")
    def _default_identifier(self) -> Plan:
        fill_default_identifier(self)
        return self

    @property
    def core_identifier(self) -> str:
        return self.core.identifier or ""

    @property
    def minimum_weight(self) -> int:
        return self.core.minimum_weight

    @property
    def external_validators(self) -> list[int]:
        """Positions of the validators who sign their own stake (origin_key = external)."""
        return [index for index, v in enumerate(self.validators) if v.origin_key is not None and v.origin_key.is_external]

    @property
    def deploys_ost(self) -> bool:
        return self.origin.ost == DEPLOY_OST

    @property
    def deployer_gateway_stake(self) -> int:
        return self.origin.deployer_gateway_stake

    @property
    def confirmations(self) -> int | str:
        """origin.confirmations as given, else "finalized" off a devnet and 0 on one."""
        if self.origin.confirmations is not None:
            return self.origin.confirmations
        return 0 if self.devnet else FINALIZED

    def out_path(self, plan_file: str | Path) -> Path:
        """The export directory; a relative `out_dir` is relative to the plan file's directory."""
        return Path(plan_file).parent / Path(self.out_dir).expanduser()

    def digest(self) -> str:
        """A fingerprint of the plan, so a journal can tell it is resumed with the plan it started with."""
        inputs = plan_data(self)
        for key in _NOT_DEPLOYED:  # waiting longer, or paying less, does not change what is deployed
            inputs["origin"].pop(key, None)
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    def problems(self) -> list[InputError]:
        """Every problem that can be found without a chain (a field that failed to parse is None)."""
        return static_problems(self)

    def validate_static(self) -> None:
        """Raise InputErrors listing every problem `problems` finds."""
        found = self.problems()
        if found:
            raise InputErrors(found)


def fill_default_identifier(plan: Plan) -> None:
    """A plan without core.identifier gets the default made of its two chain ids."""
    origin, auxiliary = plan.origin.chain_id, plan.auxiliary.chain_id
    if plan.core.identifier is None and None not in (origin, auxiliary):
        core = object.__new__(CorePlan)
        object.__setattr__(core, "minimum_weight", plan.core.minimum_weight)
        object.__setattr__(core, "identifier", units.default_core_identifier(origin, auxiliary))
        object.__setattr__(plan, "core", core)


_PLAN = TypeAdapter(Plan)
_FILE_ORDER = ("plan_version", "devnet", "out_dir", "core", "origin", "auxiliary", "validators")


def plan_data(plan: Plan) -> dict[str, Any]:
    """The plan as its TOML file holds it: amounts as exact text with a unit (nothing overflows a TOML integer);
    keys left unset are left out, so plans written before a key existed keep their digest."""
    data = _PLAN.dump_python(plan, mode="json", exclude_none=True)
    return {key: data[key] for key in _FILE_ORDER if key in data}


def plan_from_dict(data: Mapping[str, Any], *, validate: bool = True) -> Plan:
    """Build a plan from raw values (TOML tables or form fields); raise InputErrors with every problem."""
    raw = dict(data)
    for table in ("origin", "core", "auxiliary"):
        raw.setdefault(table, {})  # a missing table: each of its keys is reported missing
    try:
        plan = _PLAN.validate_python(raw)
    except ValidationError as error:
        found = input_errors(error, Plan)
        if validate:
            # The fields that did parse are still checked against each other, so every problem shows at once.
            partial = partial_plan(Plan, raw)
            fill_default_identifier(partial)
            found += [p for p in partial.problems() if p.field not in {e.field for e in found}]
        raise InputErrors(found) from None
    if validate:
        plan.validate_static()
    return plan


def load_plan(path: str | Path, *, validate: bool = True) -> Plan:
    """Read and check a plan file; every problem is reported at once, each naming its key and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "the plan file does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), f"the plan file cannot be read ({error.__class__.__name__}).") from None
    lines = key_lines(text)
    secrets: dict[str, InputError] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if PRIVATE_KEY_PATTERN.search(line):
            located = next((key for key, at in lines.items() if at == number), None)
            secrets[located or f"line {number}"] = InputError(
                located or f"line {number}",
                f"{'this line' if located is None else f'line {number}'} holds what looks like a private key; "
                f"{USE_A_REFERENCE}, then delete the key from the file.")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputErrors([*secrets.values(), InputError(str(path), f"the file is not valid TOML: {error}.")]) \
            from None
    errors = list(secrets.values())
    try:
        plan = plan_from_dict(data, validate=validate)
    except InputErrors as problems:
        # A field already reported as a pasted key needs no second, vaguer message.
        errors += [_at_line(error, _line_of(error, lines)) for error in problems.errors if error.field not in secrets]
    if errors:
        raise InputErrors(sorted(errors, key=lambda error: _line_of(error, lines) or 1 << 30))
    return plan


def _at_line(error: InputError, line: int | None) -> InputError:
    if line is None or error.field.startswith("line "):
        return error
    message = error.message
    message = f"{message[:-1]} (line {line})." if message.endswith(".") else f"{message} (line {line})"
    return InputError(error.field, message)


def _line_of(error: InputError, lines: dict[str, int]) -> int | None:
    """The line of the key, or of its table when the key is missing."""
    if error.field.startswith("line "):
        return int(error.field[5:])
    name = error.field
    while name not in lines and "." in name:
        name = name.rsplit(".", 1)[0]
    return lines.get(name)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write `plan` where `load_plan` reads it back equal."""
    header = ("mosaic-tui deployment plan. Keys are referenced, never written here:\n"
              "keyring:<name>, keystore:<path>, node, external (a validator who signs on its own machine),\n"
              "or dev:<index> on a devnet.")
    return write_toml(path, plan_data(plan), header=header)


__all__ = ["DEPLOY_OST", "FINALIZED", "PLAN_VERSION", "REPLACE_AFTER_BLOCKS", "AuxiliaryPlan", "CorePlan", "OriginPlan", "Plan",
           "ValidatorPlan", "format_deadline", "load_plan", "parse_deadline", "plan_data", "plan_from_dict",
           "save_plan"]
