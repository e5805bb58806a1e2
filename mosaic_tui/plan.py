"""The plan: every input of step 0, validated, loaded from and saved to TOML.

A plan is what the operator decided; the journal is what happened. The wizard fills a plan from
its forms (`plan_from_dict`), the headless CLI reads one from a file (`load_plan`), and both get
the same checks with every problem reported at once, so one edit fixes them all. Keys are never
part of a plan, only references to them (see `keyref`).

Layout of the file (see assets/example-plan.toml):

    plan_version, devnet, out_dir
    [core]          identifier, minimum_weight
    [origin]        rpc, chain_id, ost, deployer, deployer_gateway_stake, confirmations, staking_deadline
    [auxiliary]     rpc, chain_id, initial_proposer, block_time, gas_limit, gas_price,
                    base_coin_supply, epoch_length
    [[validators]]  origin_address, auxiliary_address, stake, gateway_stake, origin_key, auxiliary_key
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.keyref import PRIVATE_KEY_PATTERN, USE_A_REFERENCE, KeyRef, parse_key_ref
from mosaic_tui.tomlio import key_lines, write_toml

PLAN_VERSION = 1
DEPLOY_OST = "deploy"  # origin.ost on a devnet: the wizard deploys a dev OST token
FINALIZED = "finalized"  # origin.confirmations: wait until the origin node reports the block finalized
_REQUIRED = object()


@dataclass(frozen=True)
class OriginPlan:
    rpc: str
    chain_id: int
    ost: str  # checksummed address, or DEPLOY_OST on a devnet
    deployer: KeyRef
    deployer_gateway_stake: int  # wei of OST the deployer stakes in OSTGateway for base coin
    # Blocks on top of the set-up block before it is a trust anchor, or FINALIZED; None: the default
    # (FINALIZED off a devnet, 0 on one), see `Plan.confirmations`.
    confirmations: int | str | None = None
    # When step 2 stops waiting for external validators (UTC); None waits until they all acted.
    staking_deadline: datetime | None = None


@dataclass(frozen=True)
class AuxiliaryPlan:
    rpc: str
    chain_id: int
    initial_proposer: KeyRef  # seals and deploys during the zero-gas-price bootstrap
    block_time: int = 5  # seconds; the Aura stepDuration
    gas_limit: int = 10_000_000
    gas_price: int = 10**9  # wei; the kernel gas price the chain runs at after bootstrap
    base_coin_supply: int = 800_000_000 * 10**18  # all OST could be bridged: 800M, like OST's supply
    epoch_length: int = 100  # blocks between checkpoints


@dataclass(frozen=True)
class ValidatorPlan:
    origin_address: str
    auxiliary_address: str
    stake: int  # wei of OST staked in Stake; becomes the validator's weight
    gateway_stake: int  # wei of OST staked in OSTGateway for base coin to pay for votes
    origin_key: KeyRef
    auxiliary_key: KeyRef


@dataclass(frozen=True)
class Plan:
    origin: OriginPlan
    auxiliary: AuxiliaryPlan
    validators: tuple[ValidatorPlan, ...]
    core_identifier: str
    minimum_weight: int
    out_dir: str = "out"
    devnet: bool = False

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

    def to_dict(self) -> dict[str, Any]:
        """The TOML form: amounts as exact text with a unit, so nothing overflows a TOML integer."""
        aux = self.auxiliary
        ost, gwei = partial(units.format_amount, unit="OST"), partial(units.format_amount, unit="gwei")

        return {
            "plan_version": PLAN_VERSION,
            "devnet": self.devnet,
            "out_dir": self.out_dir,
            "core": {"identifier": self.core_identifier, "minimum_weight": ost(self.minimum_weight)},
            "origin": {"rpc": self.origin.rpc, "chain_id": self.origin.chain_id, "ost": self.origin.ost,
                       "deployer": str(self.origin.deployer),
                       "deployer_gateway_stake": ost(self.origin.deployer_gateway_stake),
                       # Left out when not given, so plans written before these keys keep their digest.
                       **({} if self.origin.confirmations is None
                          else {"confirmations": self.origin.confirmations}),
                       **({"staking_deadline": format_deadline(self.origin.staking_deadline)}
                          if self.origin.staking_deadline is not None else {})},
            "auxiliary": {"rpc": aux.rpc, "chain_id": aux.chain_id, "initial_proposer": str(aux.initial_proposer),
                          "block_time": aux.block_time, "gas_limit": aux.gas_limit, "gas_price": gwei(aux.gas_price),
                          "base_coin_supply": ost(aux.base_coin_supply), "epoch_length": aux.epoch_length},
            "validators": [{"origin_address": v.origin_address, "auxiliary_address": v.auxiliary_address,
                            "stake": ost(v.stake), "gateway_stake": ost(v.gateway_stake),
                            "origin_key": str(v.origin_key), "auxiliary_key": str(v.auxiliary_key)}
                           for v in self.validators],
        }

    def digest(self) -> str:
        """A fingerprint of the plan, so a journal can tell it is resumed with the plan it started with."""
        inputs = self.to_dict()
        inputs["origin"].pop("staking_deadline", None)  # moving the deadline does not change what is deployed
        inputs["origin"].pop("confirmations", None)  # nor does waiting longer (or less) for the set-up block
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    def problems(self) -> list[InputError]:
        """Every problem that can be found without a chain (a field that failed to parse is None)."""
        return _static_problems(self)

    def validate_static(self) -> None:
        """Raise InputErrors listing every problem `problems` finds."""
        found = self.problems()
        if found:
            raise InputErrors(found)


def _static_problems(plan: Plan) -> list[InputError]:
    found: list[InputError] = []
    origin, aux, validators = plan.origin, plan.auxiliary, plan.validators

    def add(field_name: str, message: str) -> None:
        found.append(InputError(field_name, message))

    if origin.chain_id is not None and origin.chain_id == aux.chain_id:
        add("auxiliary.chain_id", f"the auxiliary chain needs its own chain id; {aux.chain_id} is the origin chain's.")
    if plan.core_identifier is not None and origin.chain_id is not None:
        try:
            units.parse_core_identifier(plan.core_identifier, origin.chain_id, "core.identifier")
        except InputError as error:
            found.append(error)
    if origin.ost == DEPLOY_OST and not plan.devnet:
        add("origin.ost", 'only a devnet plan may say "deploy"; give the address of the OST token on origin.')
    if aux.gas_price == 0:
        add("auxiliary.gas_price", "the gas price after bootstrap must be above zero; step 4 raises the chain to it.")
    if plan.minimum_weight is not None and plan.minimum_weight < 1:
        add("core.minimum_weight", "the minimum weight must be at least 1 wei of OST.")
    if not validators:
        add("validators", "the plan lists no validators; add at least one [[validators]] table.")
    _address_problems(plan, add)
    _key_problems(plan, add)
    for position, validator in enumerate(validators):
        where = f"validators[{position}]"
        if None not in (validator.stake, plan.minimum_weight) and validator.stake < plan.minimum_weight:
            add(f"{where}.stake", f"the stake {units.format_amount(validator.stake)} is below the minimum weight "
                                  f"{units.format_amount(plan.minimum_weight)}.")
        if validator.gateway_stake == 0:
            add(f"{where}.gateway_stake", "a validator needs a gateway stake: it buys the base coin that pays "
                                          "for its votes once the auxiliary chain charges gas.")
    gateway_stakes = [origin.deployer_gateway_stake, *(v.gateway_stake for v in validators)]
    if aux.base_coin_supply is not None and None not in gateway_stakes:
        backed = sum(gateway_stakes)
        if aux.base_coin_supply < backed:
            add("auxiliary.base_coin_supply",
                f"the supply {units.format_amount(aux.base_coin_supply)} is less than the "
                f"{units.format_amount(backed)} of gateway stakes it must pay out 1:1.")
    return found


def _address_problems(plan: Plan, add: Callable[[str, str], None]) -> None:
    # One address in two roles means two keys are one; staking and voting would both break.
    seen: dict[str, str] = {}
    if plan.origin.ost not in (None, DEPLOY_OST):
        seen[plan.origin.ost] = "origin.ost"
    for position, validator in enumerate(plan.validators):
        for role in ("origin_address", "auxiliary_address"):
            address = getattr(validator, role)
            where = f"validators[{position}].{role}"
            if address is None:
                continue
            if address in seen:
                add(where, f"{address} is already used as {seen[address]}; every address may appear only once.")
            else:
                seen[address] = where


def _external_problems(plan: Plan, add: Callable[[str, str], None]) -> None:
    for where, ref in (("origin.deployer", plan.origin.deployer),
                       ("auxiliary.initial_proposer", plan.auxiliary.initial_proposer)):
        if ref is not None and ref.is_external:
            add(where, "only a validator's origin_key and auxiliary_key may be external; this account signs "
                       "during the deployment, so give its keyring:, keystore: or node reference.")


def _key_problems(plan: Plan, add: Callable[[str, str], None]) -> None:
    _external_problems(plan, add)
    refs = [("origin.deployer", plan.origin.deployer), ("auxiliary.initial_proposer", plan.auxiliary.initial_proposer)]
    for position, validator in enumerate(plan.validators):
        refs += [(f"validators[{position}].origin_key", validator.origin_key),
                 (f"validators[{position}].auxiliary_key", validator.auxiliary_key)]
    validator_refs: dict[KeyRef, str] = {}
    for where, ref in refs:
        if ref is None:
            continue
        if ref.is_dev and not plan.devnet:
            add(where, "dev:<index> keys exist only on a devnet; use keyring:<name>, keystore:<path> or node.")
        # Validator addresses are all distinct, so no two of their keys can be the same key.
        if where.startswith("validators") and ref.kind not in ("node", "external"):
            if ref in validator_refs:
                add(where, f"this is the same key as {validator_refs[ref]}, yet the addresses differ; "
                           "each address needs its own key.")
            else:
                validator_refs[ref] = where


class _Reader:
    """Pulls typed values out of raw tables, collecting every error instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[InputError] = []

    def table(self, data: Mapping[str, Any], key: str, known: tuple[str, ...]) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            self.errors.append(InputError(key, f"expected a table [{key}], not {units.kind_of(value)}."))
            return {}
        self.unknown(value, key, known)
        return dict(value)

    def unknown(self, table: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
        for key in table:
            if key in known:
                continue
            shown = key[:60] if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key[:60])
            shown = "(a key that looks like a secret)" if PRIVATE_KEY_PATTERN.search(key) else shown
            hint = difflib.get_close_matches(key, known, n=1)
            tail = f" did you mean {hint[0]}?" if hint else f" known keys are: {', '.join(known)}."
            name = f"{where}.{shown}" if where else shown
            self.errors.append(InputError(name, f"the plan has no such key;{tail}"))

    def value(self, table: Mapping[str, Any], key: str, where: str,
              parse: Callable[[Any, str], Any], default: Any = _REQUIRED) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in table:
            if default is _REQUIRED:
                self.errors.append(InputError(name, "this key is missing from the plan."))
                return None
            return default
        try:
            return parse(table[key], name)
        except InputError as error:
            self.errors.append(error)
            return None


def _parse_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(name, "expected true or false.")
    return value


def _parse_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "expected a non-empty text value.")
    return value.strip()


def _parse_version(value: Any, name: str) -> int:
    if value != PLAN_VERSION or isinstance(value, bool):
        raise InputError(name, f"this program reads plan_version {PLAN_VERSION}; the plan says {value!r}.")
    return PLAN_VERSION


def _parse_ost(value: Any, name: str) -> str:
    if isinstance(value, str) and value.strip() == DEPLOY_OST:
        return DEPLOY_OST
    return units.parse_address(value, name)


def _parse_confirmations(value: Any, name: str) -> int | str:
    if isinstance(value, str) and value.strip().lower() in (FINALIZED, "finalised"):
        return FINALIZED
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise InputError(name, f'expected a number of blocks (0 or more) or "{FINALIZED}", not {value!r:.40}.')
    return value
def parse_deadline(value: Any, name: str) -> datetime:
    """A moment with its UTC offset: a TOML datetime or RFC 3339 text such as 2026-12-01T18:00:00Z."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(name, f"expected a date and time such as 2026-12-01T18:00:00Z, not {value[:40]!r}.") \
                from None
    if not isinstance(value, datetime):
        raise InputError(name, "expected a date and time such as 2026-12-01T18:00:00Z.")
    if value.tzinfo is None:
        raise InputError(name, "give the time zone too (Z for UTC, or an offset such as +02:00): every validator "
                               "must read the same moment.")
    return value.astimezone(UTC)


def format_deadline(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(minimum: int, maximum: int = 2**63 - 1) -> Callable[[Any, str], int]:
    return lambda value, name: units.parse_int(value, name, minimum=minimum, maximum=maximum)


_TOP = ("plan_version", "devnet", "out_dir", "core", "origin", "auxiliary", "validators")
_CORE = ("identifier", "minimum_weight")
_ORIGIN = ("rpc", "chain_id", "ost", "deployer", "deployer_gateway_stake", "confirmations",
           "staking_deadline")
_AUX = ("rpc", "chain_id", "initial_proposer", "block_time", "gas_limit", "gas_price", "base_coin_supply",
        "epoch_length")
_VALIDATOR = ("origin_address", "auxiliary_address", "stake", "gateway_stake", "origin_key", "auxiliary_key")


def plan_from_dict(data: Mapping[str, Any], *, validate: bool = True) -> Plan:
    """Build a plan from raw values (TOML tables or form fields); raise InputErrors with every problem."""
    read = _Reader()
    read.unknown(data, "", _TOP)
    read.value(data, "plan_version", "", _parse_version, PLAN_VERSION)
    devnet = read.value(data, "devnet", "", _parse_bool, False)
    out_dir = read.value(data, "out_dir", "", _parse_text, "out")
    core, origin_t, aux_t = read.table(data, "core", _CORE), read.table(data, "origin", _ORIGIN), \
        read.table(data, "auxiliary", _AUX)
    defaults = AuxiliaryPlan("", 0, KeyRef("node"))
    origin = OriginPlan(
        rpc=read.value(origin_t, "rpc", "origin", units.parse_url),
        chain_id=read.value(origin_t, "chain_id", "origin", units.parse_chain_id),
        ost=read.value(origin_t, "ost", "origin", _parse_ost),
        deployer=read.value(origin_t, "deployer", "origin", parse_key_ref),
        deployer_gateway_stake=read.value(origin_t, "deployer_gateway_stake", "origin", units.parse_amount),
        confirmations=read.value(origin_t, "confirmations", "origin", _parse_confirmations, None),
        staking_deadline=read.value(origin_t, "staking_deadline", "origin", parse_deadline, None),
    )
    auxiliary = AuxiliaryPlan(
        rpc=read.value(aux_t, "rpc", "auxiliary", units.parse_url),
        chain_id=read.value(aux_t, "chain_id", "auxiliary", units.parse_chain_id),
        initial_proposer=read.value(aux_t, "initial_proposer", "auxiliary", parse_key_ref),
        block_time=read.value(aux_t, "block_time", "auxiliary", _int(1, 3600), defaults.block_time),
        gas_limit=read.value(aux_t, "gas_limit", "auxiliary", _int(21_000), defaults.gas_limit),
        gas_price=read.value(aux_t, "gas_price", "auxiliary", units.parse_amount, defaults.gas_price),
        base_coin_supply=read.value(aux_t, "base_coin_supply", "auxiliary", units.parse_amount,
                                    defaults.base_coin_supply),
        epoch_length=read.value(aux_t, "epoch_length", "auxiliary", _int(1, 10**9), defaults.epoch_length),
    )
    validators: list[ValidatorPlan] = []
    raw_validators = data.get("validators", [])
    if not isinstance(raw_validators, list) or not all(isinstance(v, Mapping) for v in raw_validators):
        read.errors.append(InputError("validators", "expected [[validators]] tables, one per validator."))
        raw_validators = []
    for position, raw in enumerate(raw_validators):
        where = f"validators[{position}]"
        read.unknown(raw, where, _VALIDATOR)
        validators.append(ValidatorPlan(
            origin_address=read.value(raw, "origin_address", where, units.parse_address),
            auxiliary_address=read.value(raw, "auxiliary_address", where, units.parse_address),
            stake=read.value(raw, "stake", where, units.parse_amount),
            gateway_stake=read.value(raw, "gateway_stake", where, units.parse_amount),
            origin_key=read.value(raw, "origin_key", where, parse_key_ref),
            auxiliary_key=read.value(raw, "auxiliary_key", where, parse_key_ref),
        ))
    identifier = read.value(core, "identifier", "core", lambda v, n: units.parse_core_identifier(v, None, n), None)
    if identifier is None and "identifier" not in core and None not in (origin.chain_id, auxiliary.chain_id):
        identifier = units.default_core_identifier(origin.chain_id, auxiliary.chain_id)
    plan = Plan(origin=origin, auxiliary=auxiliary, validators=tuple(validators), core_identifier=identifier,
                minimum_weight=read.value(core, "minimum_weight", "core", units.parse_amount),
                out_dir=out_dir, devnet=devnet)
    errors = read.errors + (plan.problems() if validate else [])
    if errors:
        raise InputErrors(errors)
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
    return write_toml(path, plan.to_dict(), header=header)


__all__ = ["DEPLOY_OST", "FINALIZED", "PLAN_VERSION", "AuxiliaryPlan", "OriginPlan", "Plan", "ValidatorPlan", "load_plan",
           "plan_from_dict", "save_plan"]
