"""What the wizard's forms hold, turned into a plan by the engine's own parsers; plus CSV import and resume facts.

The TUI's input widgets show text, the plan holds typed values. This module is the bridge: every
field is parsed by `units` / `keyref` (the one parser the CLI and the plan loader use too), and the
whole form becomes a `Plan` through `plan_from_dict`, so the wizard can never accept a plan that
`deploy PLAN` would refuse. It imports no Textual, so all of it is tested without a terminal.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.keyref import parse_key_ref
from mosaic_tui.plan import DEPLOY_OST, Plan, plan_from_dict

Parse = Callable[[str, "FieldContext"], Any]


@dataclass(frozen=True)
class FieldContext:
    """What a field's check depends on besides its own text."""

    devnet: bool = False
    origin_chain_id: int | None = None  # the connected (or planned) origin chain, for the core identifier


@dataclass(frozen=True)
class FormField:
    key: str  # where the value goes in the plan: "origin.rpc", "out_dir", ...
    label: str
    kind: str  # url | chain_id | ost | key | amount | int | identifier | text
    unit: str = "wei"  # the unit a bare number means (amounts only)
    hint: str = ""
    optional: bool = False  # empty text leaves the key out of the plan (its default applies)


PREREQUISITES: tuple[FormField, ...] = (
    FormField("origin.rpc", "Origin RPC URL", "url", hint="the origin chain's JSON-RPC endpoint"),
    FormField("origin.chain_id", "Origin chain id", "chain_id", hint="filled in from the node once connected"),
    FormField("origin.ost", "OST token address", "ost", hint='the OST token on origin ("deploy" on a devnet)'),
    FormField("origin.deployer", "Deployment key", "key", hint="owns ETH for gas and OST for its gateway stake"),
    FormField("origin.deployer_gateway_stake", "Deployer gateway stake", "amount", "OST",
              hint="OST staked for the initial proposer's base coin"),
    FormField("core.identifier", "Core identifier", "identifier", optional=True,
              hint="20 bytes; empty = origin chain id + auxiliary chain id"),
    FormField("core.minimum_weight", "Minimum weight", "amount", "OST", hint="the smallest stake a validator may have"),
    FormField("auxiliary.rpc", "Auxiliary RPC URL", "url", hint="where the auxiliary node answers"),
    FormField("auxiliary.chain_id", "Auxiliary chain id", "chain_id", hint="must differ from the origin chain id"),
    FormField("auxiliary.initial_proposer", "Initial proposer key", "key",
              hint="seals and deploys during the zero-gas bootstrap"),
    FormField("auxiliary.block_time", "Block time (s)", "int", hint="seconds per block (Aura stepDuration)"),
    FormField("auxiliary.gas_limit", "Block gas limit", "int"),
    FormField("auxiliary.gas_price", "Gas price after bootstrap", "amount", "gwei", hint="the kernel gas price"),
    FormField("auxiliary.base_coin_supply", "Base coin supply", "amount", "OST",
              hint="allocated to OSTPrime in genesis"),
    FormField("auxiliary.epoch_length", "Epoch length (blocks)", "int", hint="blocks between checkpoints"),
    FormField("out_dir", "Export folder", "text", hint="relative to the plan file"),
)
FIELDS = {f.key: f for f in PREREQUISITES}

VALIDATOR_FIELDS: tuple[FormField, ...] = (
    FormField("origin_address", "Origin address", "address", hint="stakes OST on origin"),
    FormField("auxiliary_address", "Auxiliary address", "address", hint="votes and seals on the auxiliary chain"),
    FormField("stake", "Stake", "amount", "OST", hint="its weight; at least the minimum weight"),
    FormField("gateway_stake", "Gateway stake", "amount", "OST", hint="buys base coin for its votes"),
    FormField("origin_key", "Origin key", "key",
              hint='signs its approvals and gateway stake; "external" if the validator signs on its own machine'),
    FormField("auxiliary_key", "Auxiliary key", "key",
              hint='the rum node\'s key on the auxiliary chain; "external" if only the validator holds it'),
)
VALIDATOR_KEYS = tuple(f.key for f in VALIDATOR_FIELDS)
INT_LIMITS = {"auxiliary.block_time": (1, 3600), "auxiliary.gas_limit": (21_000, 2**63 - 1),
              "auxiliary.epoch_length": (1, 10**9)}


def parse_field(spec: FormField, text: str, context: FieldContext = FieldContext(), where: str | None = None) -> Any:
    """The value a form field contributes to the plan; raises InputError naming `where` (default the key)."""
    name = where or spec.key
    if spec.optional and not text.strip():
        return None
    kind = spec.kind
    if kind == "url":
        return units.parse_url(text, name)
    if kind == "chain_id":
        return units.parse_chain_id(text, name)
    if kind == "address":
        return units.parse_address(text, name)
    if kind == "ost":
        if text.strip() == DEPLOY_OST:
            if not context.devnet:
                raise InputError(name, 'only a devnet deploys its own OST; give the OST token\'s address.')
            return DEPLOY_OST
        return units.parse_address(text, name)
    if kind == "key":
        ref = parse_key_ref(text, name)
        if ref.is_dev and not context.devnet:
            raise InputError(name, "dev:<index> keys exist only on a devnet; paste, import or choose another key.")
        return str(ref)
    if kind == "amount":
        wei = units.parse_amount(text, name, default_unit=spec.unit)
        # The plan reads a bare number as wei, so the form always writes the unit out.
        return units.format_amount(wei, "gwei" if spec.unit == "gwei" else "OST")
    if kind == "int":
        low, high = INT_LIMITS.get(spec.key, (0, 2**63 - 1))
        return units.parse_int(text, name, minimum=low, maximum=high)
    if kind == "identifier":
        return units.parse_core_identifier(text, context.origin_chain_id, name)
    if not text.strip():
        raise InputError(name, "nothing was entered.")
    return text.strip()


def _nest(values: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        table, _, name = key.rpartition(".")
        (nested.setdefault(table, {}) if table else nested)[name or key] = value
    return nested


@dataclass
class WizardForm:
    """Everything the operator typed: the prerequisites fields and the validator rows, as text."""

    devnet: bool = False
    values: dict[str, str] = field(default_factory=dict)
    validators: list[dict[str, str]] = field(default_factory=list)

    def context(self, connected_chain_id: int | None = None) -> FieldContext:
        chain_id = connected_chain_id
        if chain_id is None:
            try:
                chain_id = units.parse_chain_id(self.values.get("origin.chain_id", ""), "origin.chain_id")
            except InputError:
                chain_id = None
        return FieldContext(self.devnet, chain_id)

    def field_errors(self, connected_chain_id: int | None = None) -> dict[str, str]:
        """Per prerequisites field, the sentence saying why its text is refused."""
        context = self.context(connected_chain_id)
        errors: dict[str, str] = {}
        for spec in PREREQUISITES:
            try:
                parse_field(spec, self.values.get(spec.key, ""), context)
            except InputError as error:
                errors[spec.key] = error.message
        return errors

    def validator_errors(self, index: int) -> dict[str, str]:
        row, errors = self.validators[index], {}
        context = self.context()
        for spec in VALIDATOR_FIELDS:
            try:
                parse_field(spec, row.get(spec.key, ""), context)
            except InputError as error:
                errors[spec.key] = error.message
        return errors

    def plan_dict(self) -> dict[str, Any]:
        """The plan as `plan_from_dict` reads it; fields that do not parse are left as typed."""
        context = self.context()
        parsed: dict[str, Any] = {}
        for spec in PREREQUISITES:
            text = self.values.get(spec.key, "")
            try:
                parsed[spec.key] = parse_field(spec, text, context)
            except InputError:
                parsed[spec.key] = text
        data = _nest(parsed)
        data.update(plan_version=1, devnet=self.devnet)
        rows = []
        for row in self.validators:
            clean = {}
            for spec in VALIDATOR_FIELDS:
                text = row.get(spec.key, "")
                try:
                    clean[spec.key] = parse_field(spec, text, context)
                except InputError:
                    clean[spec.key] = text
            rows.append(clean)
        data["validators"] = rows
        return data

    def to_plan(self) -> Plan:
        """The plan, or InputErrors with every problem (field names as in the plan file)."""
        return plan_from_dict(self.plan_dict())

    def problems(self) -> list[InputError]:
        try:
            self.to_plan()
        except InputErrors as errors:
            return list(errors.errors)
        return []

    @classmethod
    def from_plan(cls, plan: Plan) -> WizardForm:
        data = plan.to_dict()
        values: dict[str, str] = {}
        for spec in PREREQUISITES:
            table, _, name = spec.key.rpartition(".")
            value = (data.get(table, {}) if table else data).get(name)
            values[spec.key] = "" if value is None else str(value)
        rows = [{key: str(row[key]) for key in VALIDATOR_KEYS} for row in data["validators"]]
        return cls(devnet=plan.devnet, values=values, validators=rows)

    @classmethod
    def from_plan_dict(cls, data: Mapping[str, Any]) -> WizardForm:
        return cls.from_plan(plan_from_dict(data))


def empty_form() -> WizardForm:
    """The own-chains form with the plan defaults an operator rarely changes."""
    return WizardForm(devnet=False, values={
        "origin.rpc": "", "origin.chain_id": "", "origin.ost": "", "origin.deployer": "",
        "origin.deployer_gateway_stake": "100 OST", "core.identifier": "", "core.minimum_weight": "1000 OST",
        "auxiliary.rpc": "", "auxiliary.chain_id": "", "auxiliary.initial_proposer": "",
        "auxiliary.block_time": "5", "auxiliary.gas_limit": "10000000", "auxiliary.gas_price": "1 gwei",
        "auxiliary.base_coin_supply": "800000000 OST", "auxiliary.epoch_length": "100", "out_dir": "out",
    })


def default_validator(devnet: bool, existing: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """A new row: on a devnet the next dev accounts (as `deploy --devnet` numbers them), else empty."""
    if not devnet:
        return {"origin_address": "", "auxiliary_address": "", "stake": "1000 OST", "gateway_stake": "10 OST",
                "origin_key": "", "auxiliary_key": ""}
    from mosaic_tui import keys
    from mosaic_tui.deploy import DEV_AUXILIARY_BASE

    used = {row.get("origin_key") for row in existing}
    index = next(i for i in range(len(existing) + 1) if f"dev:{1 + i}" not in used)
    return {"origin_address": keys.dev_signer(1 + index).address,
            "auxiliary_address": keys.dev_signer(DEV_AUXILIARY_BASE + index).address,
            "stake": f"{1000 + index} OST", "gateway_stake": "10 OST",
            "origin_key": f"dev:{1 + index}", "auxiliary_key": f"dev:{DEV_AUXILIARY_BASE + index}"}


# --- CSV import ---------------------------------------------------------------------------------

CSV_REQUIRED = ("origin_address", "auxiliary_address", "stake")
CSV_DEFAULTS = {"gateway_stake": "10 OST", "origin_key": "", "auxiliary_key": ""}


def validators_from_csv(text: str, devnet: bool = False) -> list[dict[str, str]]:
    """Validator rows from CSV with a header naming the columns (any order); InputErrors name line and column.

    Required columns: origin_address, auxiliary_address, stake; optional: gateway_stake (default 10 OST),
    origin_key, auxiliary_key (key references; set later in the table when missing).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), skipinitialspace=True)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        raise InputErrors([InputError("line 1", f"the header must name the columns {', '.join(CSV_REQUIRED)} "
                                                f"(missing: {', '.join(missing)}).")])
    unknown = [name for name in header if name not in VALIDATOR_KEYS]
    if unknown:
        raise InputErrors([InputError("line 1", f"unknown column {unknown[0][:30]!r}; columns are "
                                                f"{', '.join(VALIDATOR_KEYS)}.")])
    rows: list[dict[str, str]] = []
    errors: list[InputError] = []
    context = FieldContext(devnet)
    for record in reader:
        line = reader.line_num
        values = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if not any(values.values()):
            continue
        row = {**CSV_DEFAULTS, **{k: v for k, v in values.items() if v}}
        for spec in VALIDATOR_FIELDS:
            if spec.kind == "key" and not row.get(spec.key):
                continue  # keys may be set in the table after the import
            try:
                value = parse_field(spec, row.get(spec.key, ""), context, where=f"line {line}: {spec.key}")
            except InputError as error:
                errors.append(error)
                continue
            row[spec.key] = str(value)
        rows.append(row)
    if errors:
        raise InputErrors(errors)
    if not rows:
        raise InputErrors([InputError("line 2", "the file lists no validators under its header.")])
    return rows


# --- what an existing journal says --------------------------------------------------------------


@dataclass(frozen=True)
class JournalSummary:
    """How far the deployment of a plan got, for the welcome screen's resume offer."""

    plan_path: Path
    started: bool
    steps_done: tuple[str, ...]
    confirmed: int
    in_flight: int
    failed: tuple[tuple[str, str], ...]  # (action, reason)

    @property
    def finished(self) -> bool:
        return "5" in self.steps_done

    def sentence(self) -> str:
        from mosaic_tui.steps import STEP_TITLES

        done = ", ".join(f"{step} {STEP_TITLES.get(step, '')}".strip() for step in self.steps_done) or "none"
        text = f"{self.confirmed} actions confirmed; steps done: {done}"
        if self.in_flight:
            text += f"; {self.in_flight} transactions in flight (adopted when you resume)"
        if self.failed:
            text += f"; last failure: {self.failed[-1][0]}"
        return text


def summarize_journal(plan_path: Path) -> JournalSummary | None:
    """None when the plan has no journal; a damaged journal raises JournalError like everywhere else."""
    from mosaic_tui.journal import Journal, journal_path

    path = journal_path(plan_path)
    if not path.is_file():
        return None
    journal = Journal.load(path)
    entries = journal.entries()
    steps = tuple(step for step in ("0", "1", "2", "3", "4", "5") if journal.is_step_done(step))
    return JournalSummary(
        plan_path=Path(plan_path), started=bool(entries) or bool(steps), steps_done=steps,
        confirmed=sum(1 for e in entries if e.status == "confirmed"),
        in_flight=sum(1 for e in entries if e.status in ("signed", "sent")),
        failed=tuple((e.action_id, e.error or "") for e in entries if e.status == "failed"))


def archive_journal(plan_path: Path) -> Path | None:
    """Move a plan's journal aside (`<plan>.state.<n>.json`) so a changed plan can start afresh.

    Nothing is deleted: what was deployed before stays on record.
    """
    from mosaic_tui.journal import journal_path

    path = journal_path(plan_path)
    if not path.exists():
        return None
    number = 1
    while (target := path.with_name(f"{path.stem}.{number}.json")).exists():
        number += 1
    path.rename(target)
    return target
