"""What the wizard's forms hold, turned into a plan by the engine's own parsers; plus CSV import and resume facts.

The TUI's input widgets show text, the plan holds typed values. This module is the bridge: every
field is parsed by `units` / `keyref` (the one parser the CLI and the plan loader use too), and the
whole form becomes a `Plan` through `plan_from_dict`, so the wizard can never accept a plan that
`deploy PLAN` would refuse. It imports no Textual, so all of it is tested without a terminal.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.plan import AuxiliaryPlan, CorePlan, OriginPlan, Plan, ValidatorPlan, plan_data, plan_from_dict
from mosaic_tui.plan_checks import devnet_only
from mosaic_tui.plan_fields import FormField, form_fields


@dataclass(frozen=True)
class FieldContext:
    """What a field's check depends on besides its own text."""

    devnet: bool = False
    origin_chain_id: int | None = None  # the connected (or planned) origin chain, for the core identifier


# The prerequisites page: the plan's tables in the order the operator thinks of them, then the export folder.
PREREQUISITES: tuple[FormField, ...] = (
    *form_fields(OriginPlan, "origin."), *form_fields(CorePlan, "core."), *form_fields(AuxiliaryPlan, "auxiliary."),
    *form_fields(Plan, nested=False))
FIELDS = {f.key: f for f in PREREQUISITES}
VALIDATOR_FIELDS: tuple[FormField, ...] = tuple(form_fields(ValidatorPlan))
VALIDATOR_KEYS = tuple(f.key for f in VALIDATOR_FIELDS)


def parse_field(spec: FormField, text: str, context: FieldContext = FieldContext(), where: str | None = None) -> Any:
    """The value a form field contributes to the plan, as the plan file writes it; raises InputError naming
    `where` (default the key). A bare number in an amount field means the field's unit."""
    name = where or spec.key
    if spec.optional and not text.strip():
        return None
    value = spec.kind.read_form(text, name)
    devnet_only(value, context.devnet, name)
    if spec.kind.name == "identifier":
        units.parse_core_identifier(value, context.origin_chain_id, name)
    return spec.kind.write(value)


def _nest(values: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        table, _, name = key.rpartition(".")
        (nested.setdefault(table, {}) if table else nested)[name or key] = value
    return nested


def _cells(data: Mapping[str, Any], specs: Sequence[FormField]) -> dict[str, str]:
    """Form text for each field from the plan file's values (a missing key shows as empty)."""
    cells = {}
    for spec in specs:
        table, _, name = spec.key.rpartition(".")
        value = (data.get(table, {}) if table else data).get(name)
        cells[spec.key] = "" if value is None else str(value)
    return cells


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

    def _errors(self, specs: Sequence[FormField], values: Mapping[str, str], context: FieldContext) -> dict[str, str]:
        errors: dict[str, str] = {}
        for spec in specs:
            try:
                parse_field(spec, values.get(spec.key, ""), context)
            except InputError as error:
                errors[spec.key] = error.message
        return errors

    def field_errors(self, connected_chain_id: int | None = None) -> dict[str, str]:
        """Per prerequisites field, the sentence saying why its text is refused."""
        return self._errors(PREREQUISITES, self.values, self.context(connected_chain_id))

    def validator_errors(self, index: int) -> dict[str, str]:
        return self._errors(VALIDATOR_FIELDS, self.validators[index], self.context())

    def plan_dict(self) -> dict[str, Any]:
        """The plan as `plan_from_dict` reads it; fields that do not parse are left as typed."""
        context = self.context()

        def parsed(specs: Sequence[FormField], values: Mapping[str, str]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for spec in specs:
                text = values.get(spec.key, "")
                try:
                    out[spec.key] = parse_field(spec, text, context)
                except InputError:
                    out[spec.key] = text
            return out

        data = _nest(parsed(PREREQUISITES, self.values))
        data.update(devnet=self.devnet, validators=[parsed(VALIDATOR_FIELDS, row) for row in self.validators])
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
        data = plan_data(plan)
        return cls(devnet=plan.devnet, values=_cells(data, PREREQUISITES),
                   validators=[_cells(row, VALIDATOR_FIELDS) for row in data["validators"]])

    @classmethod
    def from_plan_dict(cls, data: Mapping[str, Any]) -> WizardForm:
        return cls.from_plan(plan_from_dict(data))


def _fresh(specs: Sequence[FormField], model_defaults: Mapping[str, Any]) -> dict[str, str]:
    """What a fresh form holds: the field's suggestion, else the plan's default, else nothing."""
    return {spec.key: spec.suggested or model_defaults.get(spec.key, "") for spec in specs}


def _defaults() -> dict[str, Any]:
    """The plan's defaults as form text, keyed like the prerequisites fields."""
    found: dict[str, Any] = {}
    for prefix, model in (("origin.", OriginPlan), ("core.", CorePlan), ("auxiliary.", AuxiliaryPlan), ("", Plan)):
        for name, info in model.__pydantic_fields__.items():  # type: ignore[attr-defined,union-attr]
            spec = FIELDS.get(prefix + name)
            if spec is not None and not info.is_required() and info.get_default() is not None:
                found[spec.key] = str(spec.kind.write(info.get_default()))
    return found


def empty_form() -> WizardForm:
    """The own-chains form with the plan defaults an operator rarely changes."""
    return WizardForm(devnet=False, values=_fresh(PREREQUISITES, _defaults()))


def default_validator(devnet: bool, existing: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """A new row: on a devnet the next dev accounts (as `deploy --devnet` numbers them), else the suggestions."""
    if not devnet:
        return _fresh(VALIDATOR_FIELDS, {})
    from mosaic_tui.deploy import dev_validator

    used = {row.get("origin_key") for row in existing}
    index = next(i for i in range(len(existing) + 1) if f"dev:{1 + i}" not in used)
    return dev_validator(index)


# --- CSV import ---------------------------------------------------------------------------------

CSV_REQUIRED = tuple(spec.key for spec in VALIDATOR_FIELDS if not spec.csv_optional)


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
    defaults = {spec.key: spec.suggested for spec in VALIDATOR_FIELDS if spec.csv_optional}
    for record in reader:
        line = reader.line_num
        values = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if not any(values.values()):
            continue
        row = {**defaults, **{k: v for k, v in values.items() if v}}
        for spec in VALIDATOR_FIELDS:
            if spec.kind.name == "key" and not row.get(spec.key):
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
        from mosaic_tui.steps import step_title

        done = ", ".join(f"{step} {step_title(step)}".strip() for step in self.steps_done) or "none"
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
