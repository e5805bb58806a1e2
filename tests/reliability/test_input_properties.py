"""Generated plans and field strings: the plan loader and the shared parsers raise nothing but our
validation errors (InputError / InputErrors), and what they accept is well-formed.

Where tests/engine covers random text and damaged example lines, these generate whole plans and
plan files (a valid plan with fields replaced by values of every type TOML or a form can produce)
and near-valid field strings (a valid value with a character changed, inserted or dropped, unicode
look-alike digits and spaces), the inputs an operator really types.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.keyref import parse_key_ref
from mosaic_tui.plan import Plan, load_plan, plan_from_dict
from tests.reliability.conftest import record_figure

ADDRESSES = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
             "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
             "0x52908400098527886E0F7030069857D2E4169EE7"]
SECRET = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"  # a well-known test key


TRIED: Counter[str] = Counter()  # examples per kind of input, accepted or refused


@pytest.fixture(autouse=True)
def report_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    # The module's totals so far, after each test: the summary keeps the last (the whole module's).
    yield
    refused = sum(count for kind, count in TRIED.items() if kind.endswith("refused"))
    record_figure("test_input_properties", f"{sum(TRIED.values())} generated inputs ({refused} refused), "
                  "no exception other than InputError/InputErrors: "
                  + ", ".join(f"{count} {kind}" for kind, count in sorted(TRIED.items())), request.node)


def base_plan() -> dict[str, Any]:
    return {
        "plan_version": 1, "devnet": False, "out_dir": "out",
        "core": {"identifier": units.default_core_identifier(1, 1405), "minimum_weight": "1000 OST"},
        "origin": {"rpc": "http://127.0.0.1:8545", "chain_id": 1, "ost": ADDRESSES[0], "deployer": "keyring:deployer",
                   "deployer_gateway_stake": "100 OST"},
        "auxiliary": {"rpc": "http://127.0.0.1:8546", "chain_id": 1405, "initial_proposer": "keystore:p.json",
                      "block_time": 5, "gas_limit": 10_000_000, "gas_price": "1 gwei",
                      "base_coin_supply": "800000000 OST", "epoch_length": 100},
        "validators": [{"origin_address": ADDRESSES[1 + 2 * i], "auxiliary_address": ADDRESSES[2 + 2 * i],
                        "stake": "1000 OST", "gateway_stake": "10 OST", "origin_key": f"keyring:v{i}",
                        "auxiliary_key": "node"} for i in range(2)],
    }


def test_the_base_plan_is_valid() -> None:
    assert isinstance(plan_from_dict(base_plan()), Plan)


PATHS = [("plan_version",), ("devnet",), ("out_dir",), ("core",), ("origin",), ("auxiliary",), ("validators",),
         *[("core", k) for k in ("identifier", "minimum_weight")],
         *[("origin", k) for k in ("rpc", "chain_id", "ost", "deployer", "deployer_gateway_stake")],
         *[("auxiliary", k) for k in ("rpc", "chain_id", "initial_proposer", "block_time", "gas_limit", "gas_price",
                                      "base_coin_supply", "epoch_length")],
         *[("validators", i, k) for i in (0, 1) for k in ("origin_address", "auxiliary_address", "stake",
                                                           "gateway_stake", "origin_key", "auxiliary_key")],
         ("origin", "unknown key"), ("validators", 0, "stak"), ("extra",)]


def near_valid(valid: str) -> st.SearchStrategy[str]:
    """`valid` with one or two characters changed, inserted or dropped, or its case or spacing changed."""
    odd = st.sampled_from(["", " ", "\u00a0", "\u2003", "\t", "٣", "１", "x", "X", "g", "_", ".", "-", "+", "e",
                           "0", "9", "f", "F", ":", "/", "\n", "\x00", "é", "OST", "gwei", SECRET])

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        text = valid
        for _ in range(draw(st.integers(1, 2))):
            at = draw(st.integers(0, len(text)))
            kind = draw(st.sampled_from(["insert", "replace", "drop", "case", "strip"]))
            if kind == "insert":
                text = text[:at] + draw(odd) + text[at:]
            elif kind == "replace":
                text = text[:at] + draw(odd) + text[at + 1:]
            elif kind == "drop":
                text = text[:at] + text[at + 1:]
            elif kind == "case":
                text = text.swapcase() if draw(st.booleans()) else text.upper()
            else:
                text = text.strip("0x") if draw(st.booleans()) else " " + text + " "
        return text
    return mutate()


VALID_STRINGS = [*ADDRESSES, "1000 OST", "2.5 gwei", "1 ETH", "123", "1_000 wei", "1e3 OST", "0x10", "8545",
                 units.default_core_identifier(1, 1405), "http://127.0.0.1:8545", "wss://node.example/ws",
                 "keyring:deployer", "keystore:keys/a.json", "dev:3", "node", "deploy"]
FIELD_STRINGS = st.one_of(st.sampled_from(VALID_STRINGS).flatmap(near_valid), st.text(max_size=60))
VALUES = st.one_of(
    FIELD_STRINGS, st.integers(), st.integers(min_value=2**63, max_value=2**300), st.booleans(), st.none(),
    st.floats(), st.sampled_from([math.nan, math.inf, -0.0]), st.binary(max_size=8),
    st.datetimes(), st.dates(), st.times(),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["origin_address", "stake", "x"]), st.text(max_size=5)), max_size=2))


def put(plan: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = plan
    for part in path[:-1]:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            return  # an earlier change replaced the container: nothing to put into
    key = path[-1]
    fits = isinstance(target, dict) and isinstance(key, str) or (
        isinstance(target, list) and isinstance(key, int) and key < len(target))
    if fits:
        target[key] = value


PLANS = st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=4)


def assert_only_input_errors(error: InputErrors | InputError, secret_given: bool) -> None:
    found = error.errors if isinstance(error, InputErrors) else [error]
    assert found, "an InputErrors without any error"
    for each in found:
        assert isinstance(each, InputError) and each.field and each.message
        if secret_given:
            assert SECRET not in str(each).lower(), "a pasted key was echoed in an error"


@settings(max_examples=400, deadline=None)
@given(PLANS)
def test_generated_plans_give_only_input_errors(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    plan = base_plan()
    for path, value in changes:
        put(plan, path, value)
    try:
        result = plan_from_dict(plan)
    except InputErrors as error:
        TRIED["plans refused"] += 1
        assert_only_input_errors(error, any(SECRET in str(v) for _, v in changes))
    else:
        TRIED["plans accepted"] += 1
        assert isinstance(result, Plan) and result.validators
        assert all(len(v.origin_address) == 42 for v in result.validators)


def toml_safe(value: Any) -> Any:
    """What a TOML file can hold: no None, no bytes, no NUL in text, integers within 64 bits."""
    if value is None or isinstance(value, bytes):
        return "none"
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)
    if isinstance(value, list):
        return [toml_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: toml_safe(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("\x00", "")
    return value


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PLANS)
def test_generated_plan_files_give_only_input_errors(tmp_path: Path, changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    plan = base_plan()
    for where, value in changes:
        put(plan, where, toml_safe(value))
    if isinstance(plan.get("validators"), list) and not all(isinstance(v, dict) for v in plan["validators"]):
        plan["validators"] = "mixed"  # TOML arrays cannot mix tables and values
    path = tmp_path / "generated.toml"
    path.write_text(tomli_w.dumps(plan))
    try:
        load_plan(path)
        TRIED["plan files accepted"] += 1
    except (InputErrors, InputError) as error:
        TRIED["plan files refused"] += 1
        assert_only_input_errors(error, any(SECRET in str(v) for _, v in changes))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                 st.sampled_from(VALID_STRINGS).flatmap(near_valid).map(lambda t: f"[origin]\nrpc = {t}\n".encode())))
def test_any_bytes_as_a_plan_file_give_only_input_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bytes.toml"
    path.write_bytes(content)
    try:
        load_plan(path)
        TRIED["byte files accepted"] += 1
    except (InputErrors, InputError) as error:
        TRIED["byte files refused"] += 1
        assert_only_input_errors(error, False)


PARSERS = {
    "address": lambda v: units.parse_address(v, "f"),
    "amount": lambda v: units.parse_amount(v, "f"),
    "amount in OST": lambda v: units.parse_amount(v, "f", default_unit="OST"),
    "int": lambda v: units.parse_int(v, "f"),
    "chain id": lambda v: units.parse_chain_id(v, "f"),
    "core identifier": lambda v: units.parse_core_identifier(v, 1, "f"),
    "url": lambda v: units.parse_url(v, "f"),
    "key reference": lambda v: parse_key_ref(v, "f"),
}


def well_formed(kind: str, result: Any) -> bool:
    if kind == "address":
        return result == units.checksum_address(result[2:]) and len(result) == 42
    if kind.startswith("amount") or kind == "int":
        return isinstance(result, int) and 0 <= result <= units.UINT256_MAX
    if kind == "chain id":
        return 1 <= result <= units.CHAIN_ID_MAX
    if kind == "core identifier":
        return len(result) == 42 and result == result.lower() and result.startswith(units.core_identifier_prefix(1))
    if kind == "url":
        return isinstance(result, str) and result == result.strip()
    return str(result) == str(parse_key_ref(str(result), "f"))  # a reference survives its own round trip


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), FIELD_STRINGS)
def test_near_valid_field_strings_give_only_input_errors(kind: str, text: str) -> None:
    try:
        result = PARSERS[kind](text)
    except InputError as error:
        TRIED["field strings refused"] += 1
        assert error.field == "f" and error.message
        assert SECRET not in error.message.lower()
    else:
        TRIED["field strings accepted"] += 1
        assert well_formed(kind, result), (kind, text, result)


def test_datetime_values_are_named_not_crashed() -> None:
    """TOML reads dates and times into Python objects; every field must refuse them in words."""
    plan = base_plan()
    plan["origin"]["chain_id"] = datetime.date(2024, 1, 1)
    plan["validators"][0]["stake"] = datetime.time(12, 0)
    try:
        plan_from_dict(plan)
    except InputErrors as error:
        assert {e.field for e in error.errors} == {"origin.chain_id", "validators[0].stake"}
    else:
        raise AssertionError("dates were accepted as a chain id and a stake")
