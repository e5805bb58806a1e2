"""The plan's kinds of value, each declared once: how it is parsed, how the plan file writes it, how the form reads it.

A `Kind` wraps one of the engine's parsers (`units`, `keyref`) as the pydantic validator of every field
of that kind, so the plan file, the wizard's fields and the CSV import refuse the very same text with
the very same sentence. `Form` is a field's metadata for the wizard: label, hint and what a fresh form
holds. The wizard builds its forms by walking the plan model (`form_fields`), so no key is listed twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from mosaic_tui import units
from mosaic_tui.errors import InputError
from mosaic_tui.keyref import KeyRef, parse_key_ref

DEPLOY_OST = "deploy"  # origin.ost on a devnet: the wizard deploys a dev OST token
FINALIZED = "finalized"  # origin.confirmations: wait until the origin node reports the block finalized
PLAN_ERROR = "mosaic_input"  # the pydantic error type that carries one of our sentences


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Kind:
    """A kind of plan value: `parse(value, field)` is the parser (raises InputError), `write` the plan file's form.

    `unit` is the unit a form reads a bare number in (amounts); the plan file reads a bare number as wei.
    """

    name: str
    parse: Callable[[Any, str], Any]
    write: Callable[[Any], Any] = _same
    unit: str = ""
    placeholder: str = ""  # what an empty form field shows

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> Any:
            try:
                return self.parse(value, "")
            except InputError as error:
                raise PydanticCustomError(PLAN_ERROR, "{sentence}", {"sentence": error.message}) from None

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(self.write))

    def read_form(self, text: str, field: str) -> Any:
        """The typed value of what the operator typed into a form field."""
        if self.unit:
            return units.parse_amount(text, field, default_unit=self.unit)
        return self.parse(text, field)


@dataclass(frozen=True)
class Form:
    """How the wizard shows a field: its label and hint, and what a fresh form holds (`suggested`)."""

    label: str
    hint: str = ""
    suggested: str = ""
    optional: bool = False  # empty text leaves the key out of the plan (its default applies)
    csv_optional: bool = False  # a CSV import may leave the column out


# --- the parsers the kinds wrap: each accepts what the plan file holds and what code passes -------------

def _key(value: Any, field: str) -> KeyRef:
    return value if isinstance(value, KeyRef) else parse_key_ref(value, field)


def _ost(value: Any, field: str) -> str:
    if isinstance(value, str) and value.strip() == DEPLOY_OST:
        return DEPLOY_OST
    return units.parse_address(value, field)


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(field, "expected true or false.")
    return value


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "expected a non-empty text value.")
    return value.strip()


def _confirmations(value: Any, field: str) -> int | str:
    if isinstance(value, str) and value.strip().lower() in (FINALIZED, "finalised"):
        return FINALIZED
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise InputError(field, f'expected a number of blocks (0 or more) or "{FINALIZED}", not {value!r:.40}.')
    return value


def parse_deadline(value: Any, field: str) -> datetime:
    """A moment with its UTC offset: a TOML datetime or RFC 3339 text such as 2026-12-01T18:00:00Z."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(field, f"expected a date and time such as 2026-12-01T18:00:00Z, not {value[:40]!r}.") \
                from None
    if not isinstance(value, datetime):
        raise InputError(field, "expected a date and time such as 2026-12-01T18:00:00Z.")
    if value.tzinfo is None:
        raise InputError(field, "give the time zone too (Z for UTC, or an offset such as +02:00): every validator "
                                "must read the same moment.")
    return value.astimezone(UTC)


def format_deadline(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(unit: str) -> Kind:
    shown = "gwei" if unit == "gwei" else "OST"
    return Kind("amount", units.parse_amount, lambda wei: units.format_amount(wei, shown), unit=unit)


def whole(minimum: int, maximum: int = 2**63 - 1) -> Kind:
    """A whole number within limits (block time, gas limit, epoch length)."""
    return Kind("int", lambda value, field: units.parse_int(value, field, minimum=minimum, maximum=maximum))


URL = Kind("url", units.parse_url, placeholder="http://127.0.0.1:8545")
CHAIN_ID = Kind("chain_id", units.parse_chain_id)
ADDRESS = Kind("address", units.parse_address)
OST_TOKEN = Kind("ost", _ost, placeholder="0x… the OST token")
KEY = Kind("key", _key, str, placeholder="keyring:<name>, keystore:<path>, node")
OST = _amount("OST")
GWEI = _amount("gwei")
IDENTIFIER = Kind("identifier", lambda value, field: units.parse_core_identifier(value, None, field),
                  placeholder="empty: the default")
TEXT = Kind("text", _text)
BOOL = Kind("bool", _bool)
CONFIRMATIONS = Kind("confirmations", _confirmations)
DEADLINE = Kind("deadline", parse_deadline, format_deadline)


# --- the form, read off the model ---------------------------------------------------------------

@dataclass(frozen=True)
class FormField:
    key: str  # where the value goes in the plan: "origin.rpc", "out_dir", "stake" (of a validator row)
    label: str
    kind: Kind
    hint: str = ""
    suggested: str = ""
    optional: bool = False
    csv_optional: bool = False

    @property
    def unit(self) -> str:
        return self.kind.unit


def _metadata(model: type, name: str) -> tuple[Kind | None, Form | None]:
    info = model.__pydantic_fields__[name]  # type: ignore[attr-defined]
    kind = next((m for m in info.metadata if isinstance(m, Kind)), None)
    form = next((m for m in info.metadata if isinstance(m, Form)), None)
    return kind, form


def form_fields(model: type, prefix: str = "", *, nested: bool = True) -> Iterator[FormField]:
    """The fields of `model` that carry a `Form`, in declaration order; tables (nested models) are walked."""
    for field in dataclasses.fields(model):
        kind, form = _metadata(model, field.name)
        table = model.__pydantic_fields__[field.name].annotation  # type: ignore[attr-defined]
        if kind is None and nested and isinstance(table, type) and dataclasses.is_dataclass(table):
            yield from form_fields(table, f"{prefix}{field.name}.")
        elif kind is not None and form is not None:
            yield FormField(f"{prefix}{field.name}", form.label, kind, form.hint, form.suggested, form.optional,
                            form.csv_optional)


def field_kind(model: type, name: str) -> Kind | None:
    return _metadata(model, name)[0]
