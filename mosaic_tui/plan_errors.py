"""Pydantic's findings about a plan, said the way the plan loader always said them: one sentence per key.

The kinds' parsers already speak in sentences (`plan_fields.PLAN_ERROR`); what pydantic finds on its
own (a missing key, an unknown key, a value where a table belongs) is put into words here, naming the
key as the file does: `origin.rpc`, `validators[1].stake`. `partial_plan` builds a plan from what did
parse, so the checks across fields can run beside the parse errors.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from mosaic_tui import units
from mosaic_tui.errors import InputError
from mosaic_tui.keyref import PRIVATE_KEY_PATTERN
from mosaic_tui.plan_fields import PLAN_ERROR, field_kind

MISSING_KEY = "this key is missing from the plan."
VALIDATOR_TABLES = "expected [[validators]] tables, one per validator."


def key_name(loc: tuple[int | str, ...]) -> str:
    """('validators', 1, 'stake') -> validators[1].stake"""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _table_at(model: type, loc: tuple[int | str, ...]) -> type | None:
    """The model class of the table `loc` points into (the plan, a table, a validator row)."""
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "__pydantic_fields__", {})
        if part not in fields:
            return None
        annotation = fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]  # tuple[ValidatorPlan, ...] -> ValidatorPlan
        model = inner if isinstance(inner, type) and dataclasses.is_dataclass(inner) else annotation
    return model


def _unknown_key(model: type, loc: tuple[int | str, ...]) -> InputError:
    *where, key = loc
    known = tuple(field.name for field in dataclasses.fields(_table_at(model, tuple(where))))  # type: ignore[arg-type]
    text = str(key)
    shown = text[:60] if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text[:60])
    shown = "(a key that looks like a secret)" if PRIVATE_KEY_PATTERN.search(text) else shown
    hint = difflib.get_close_matches(text, known, n=1)
    tail = f" did you mean {hint[0]}?" if hint else f" known keys are: {', '.join(known)}."
    return InputError(key_name((*where, shown)), f"the plan has no such key;{tail}")


def input_errors(error: ValidationError, model: type) -> list[InputError]:
    """Every problem pydantic found, each as the InputError naming its key."""
    found: dict[str, InputError] = {}
    for problem in error.errors():
        loc, kind = tuple(problem["loc"]), problem["type"]
        if kind == PLAN_ERROR:
            found.setdefault(key_name(loc), InputError(key_name(loc), problem["ctx"]["sentence"]))
        elif kind in ("missing", "missing_argument"):
            found.setdefault(key_name(loc), InputError(key_name(loc), MISSING_KEY))
        elif kind in ("unexpected_keyword_argument", "extra_forbidden"):
            unknown = _unknown_key(model, loc)
            found.setdefault(unknown.field, unknown)
        elif loc and loc[0] == "validators":
            found.setdefault("validators", InputError("validators", VALIDATOR_TABLES))
        else:
            name = key_name(loc)
            found.setdefault(name, InputError(name, f"expected a table [{name}], not {units.kind_of(problem['input'])}."))
    return list(found.values())


def partial_plan(model: type, raw: Any) -> Any:
    """An unchecked `model` from raw tables: each value parsed alone, None where it does not parse."""
    raw = raw if isinstance(raw, Mapping) else {}
    instance: Any = object.__new__(model)
    for field in dataclasses.fields(model):
        kind = field_kind(model, field.name)
        info = model.__pydantic_fields__[field.name]  # type: ignore[attr-defined]
        annotation = info.annotation
        value: Any = raw.get(field.name, dataclasses.MISSING)
        if kind is not None:
            if value is dataclasses.MISSING:
                value = None if info.is_required() else info.get_default()
            else:
                try:
                    value = kind.parse(value, field.name)
                except InputError:
                    value = None
        elif isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            value = partial_plan(annotation, value)
        else:  # the validators: a row per table
            row = _table_at(model, (field.name,))
            rows = value if isinstance(value, list) else []
            value = tuple(partial_plan(row, item) for item in rows if isinstance(item, Mapping))  # type: ignore[arg-type]
        object.__setattr__(instance, field.name, value)
    return instance
