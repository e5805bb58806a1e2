"""The shared parser for addresses, amounts, chain ids, core identifiers, URLs and key references."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from decimal import Decimal, localcontext

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from mosaic_tui import units
from mosaic_tui.errors import InputError
from mosaic_tui.keyref import KeyRef, parse_key_ref

# Test vectors from EIP-55 itself.
EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
PRIVATE_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def error_of(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- addresses ---------------------------------------------------------------------------------

@pytest.mark.parametrize("address", EIP55)
def test_address_accepts_lower_upper_and_correct_checksum(address: str) -> None:
    assert units.parse_address(address, "a") == address
    assert units.parse_address(address.lower(), "a") == address
    assert units.parse_address("0x" + address[2:].upper(), "a") == address
    assert units.parse_address(f"  {address}\n", "a") == address


@pytest.mark.parametrize("address", EIP55)
def test_address_with_one_flipped_case_is_refused(address: str) -> None:
    position = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    flipped = address[:position] + address[position].swapcase() + address[position + 1:]
    error = error_of(units.parse_address, flipped, "origin.ost")
    assert error.field == "origin.ost"
    assert "is not checksummed correctly" in str(error)
    assert str(error).startswith("origin.ost")


@pytest.mark.parametrize(("text", "fragment"), [
    ("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "must start with 0x"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", "this has 38 digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", "this has 42 digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "only hold hex digits"),
    ("0x" + "0" * 40, "zero address"),
    ("", "nothing was entered"),
    ("   ", "nothing was entered"),
])
def test_address_refusals_name_the_field(text: str, fragment: str) -> None:
    error = error_of(units.parse_address, text, "validators[0].origin_address")
    assert fragment in str(error)
    assert error.field == "validators[0].origin_address"


def test_zero_address_only_where_the_caller_allows_it() -> None:
    assert units.parse_address("0x" + "0" * 40, "a", allow_zero=True) == "0x" + "0" * 40


def test_private_key_pasted_into_an_address_field_is_not_repeated() -> None:
    for pasted in (PRIVATE_KEY, "0x" + PRIVATE_KEY, "0x" + PRIVATE_KEY.upper()):
        message = str(error_of(units.parse_address, pasted, "origin.ost"))
        assert PRIVATE_KEY not in message.lower()


@given(st.binary(min_size=20, max_size=20))
def test_checksum_matches_eth_utils(raw: bytes) -> None:
    hex40 = raw.hex()
    if int(hex40, 16) == 0:
        return
    assert units.parse_address("0x" + hex40, "a") == to_checksum_address("0x" + hex40)


# -- amounts -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "wei"), [
    (0, 0),
    (123, 123),
    ("123", 123),
    ("1000 OST", 1000 * 10**18),
    ("0.5 OST", 5 * 10**17),
    ("1500.25 ost", 150025 * 10**16),
    ("2.5 gwei", 2_500_000_000),
    ("1 ether", 10**18),
    ("1 ETH", 10**18),
    ("1eth", 10**18),
    ("42 wei", 42),
    (".5 OST", 5 * 10**17),
    ("5. OST", 5 * 10**18),
    ("1_000 OST", 1000 * 10**18),
    ("1e18", 10**18),
    ("1.5e3 OST", 1500 * 10**18),
    ("1e-9 ether", 10**9),
    ("+7", 7),
    ("0.000000000000000001 OST", 1),
    (str(units.UINT256_MAX), units.UINT256_MAX),
])
def test_amount_accepts(value: object, wei: int) -> None:
    assert units.parse_amount(value, "stake") == wei


def test_amount_default_unit_applies_to_bare_numbers() -> None:
    assert units.parse_amount("3", "gas_price", default_unit="gwei") == 3 * 10**9
    assert units.parse_amount(3, "stake", default_unit="OST") == 3 * 10**18
    assert units.parse_amount("3 wei", "gas_price", default_unit="gwei") == 3


@pytest.mark.parametrize(("value", "fragment"), [
    ("-1", "must not be negative"),
    ("-1 OST", "must not be negative"),
    (-5, "must not be negative"),
    ("1.5", "in wei is a whole number"),
    ("0.1 wei", "in wei is a whole number"),
    ("0.0000000001 gwei", "fraction of a wei"),
    ("1 dollar", "unknown unit"),
    ("", "nothing was entered"),
    ("OST", "expected an amount"),
    ("1,000 OST", "expected an amount"),
    ("1 000", "expected an amount"),
    ("0x10", "expected an amount"),
    (str(units.UINT256_MAX + 1), "larger than the largest uint256"),
    ("1e100 OST", "larger than the largest uint256"),
    ("9" * 300, "far too long"),
    (1.5, "floats lose precision"),
    (True, "not true/false"),
    (None, "expected"),
])
def test_amount_refusals_name_the_field(value: object, fragment: str) -> None:
    error = error_of(units.parse_amount, value, "validators[1].stake")
    assert fragment in str(error)
    assert str(error).startswith("validators[1].stake: ")


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=18),
       st.sampled_from(["wei", "gwei", "ether", "ETH", "OST"]))
def test_amount_matches_exact_decimal_arithmetic(mantissa: int, places: int, unit: str) -> None:
    digits = str(mantissa).rjust(places + 1, "0")
    text = f"{digits[:len(digits) - places]}.{digits[len(digits) - places:]}" if places else digits
    with localcontext(prec=200):  # the default 28 digits would round
        exact = Decimal(text) * (Decimal(10) ** units.UNIT_DECIMALS[unit.lower()])
    if exact != exact.to_integral_value():
        with pytest.raises(InputError):
            units.parse_amount(f"{text} {unit}", "x")
    else:
        assert units.parse_amount(f"{text} {unit}", "x") == int(exact)


@given(st.integers(min_value=0, max_value=units.UINT256_MAX), st.sampled_from(["wei", "gwei", "ETH", "OST"]))
def test_format_amount_reads_back_exactly(wei: int, unit: str) -> None:
    assert units.parse_amount(units.format_amount(wei, unit), "x") == wei


def test_format_amount_is_plain() -> None:
    assert units.format_amount(1500 * 10**18, "ost") == "1500 OST"
    assert units.format_amount(15 * 10**17, "OST") == "1.5 OST"
    assert units.format_amount(10**9, "gwei") == "1 gwei"
    assert units.format_amount(1, "ETH") == "0.000000000000000001 ETH"
    with pytest.raises(ValueError):
        units.format_amount(-1, "wei")


# -- chain ids, core identifiers, URLs ---------------------------------------------------------

def test_chain_id() -> None:
    assert units.parse_chain_id(1, "c") == 1
    assert units.parse_chain_id("11155111", "c") == 11155111
    assert units.parse_chain_id("0x539", "c") == 1337
    assert units.parse_chain_id(2**64 - 1, "c") == 2**64 - 1
    assert "at least 1" in str(error_of(units.parse_chain_id, 0, "origin.chain_id"))
    assert "at most" in str(error_of(units.parse_chain_id, 2**64, "origin.chain_id"))
    assert "chain id" in str(error_of(units.parse_chain_id, "one", "origin.chain_id"))
    assert "true/false" in str(error_of(units.parse_chain_id, True, "origin.chain_id"))


def test_default_core_identifier_layout() -> None:
    identifier = units.default_core_identifier(1, 1405)
    assert identifier == "0x0000000000000001" + "00000000000000000000057d"
    assert len(bytes.fromhex(identifier[2:])) == 20
    assert units.default_core_identifier(2**64 - 1, 2**64 - 1) == "0x" + "ff" * 8 + "00" * 4 + "ff" * 8


def test_core_identifier_prefix_must_be_the_origin_chain() -> None:
    good = units.default_core_identifier(3, 200)
    assert units.parse_core_identifier(good.upper().replace("0X", "0x"), 3, "core.identifier") == good
    error = error_of(units.parse_core_identifier, good, 1, "core.identifier")
    assert error.field == "core.identifier"
    assert "must start with 0x0000000000000001" in str(error)
    assert "starts with 0x0000000000000003" in str(error)
    assert "20 bytes" in str(error_of(units.parse_core_identifier, good[:-2], 3, "core.identifier"))
    assert "0x followed by 40" in str(error_of(units.parse_core_identifier, good[2:], 3, "core.identifier"))
    # With no origin chain known yet, only the shape is checked.
    assert units.parse_core_identifier(good, None, "core.identifier") == good


@pytest.mark.parametrize("url", ["http://127.0.0.1:8545", "https://sepolia.example.org/v3/abc", "ws://node:8546",
                                 "wss://[::1]:8546"])
def test_url_accepts(url: str) -> None:
    assert units.parse_url(url, "origin.rpc") == url


@pytest.mark.parametrize(("url", "fragment"), [
    ("127.0.0.1:8545", "must start with http://"),
    ("ftp://example.org", "must start with http://"),
    ("http://", "no host name"),
    ("http://node:99999", "port"),
    ("http://node:0", "port 0"),
    ("http://a b", "spaces"),
    ("", "nothing was entered"),
])
def test_url_refusals(url: str, fragment: str) -> None:
    assert fragment in str(error_of(units.parse_url, url, "origin.rpc"))


# -- key references ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "ref"), [
    ("keyring:mosaic-deployer", KeyRef("keyring", name="mosaic-deployer")),
    ("keystore:keys/validator 1.json", KeyRef("keystore", name="keys/validator 1.json")),
    ("node", KeyRef("node")),
    ("dev:0", KeyRef("dev", index=0)),
    (" dev:12 ", KeyRef("dev", index=12)),
])
def test_key_ref_forms_and_text_round_trip(text: str, ref: KeyRef) -> None:
    assert parse_key_ref(text, "origin.deployer") == ref
    assert parse_key_ref(str(ref), "origin.deployer") == ref


@pytest.mark.parametrize("pasted", [
    PRIVATE_KEY, "0x" + PRIVATE_KEY, PRIVATE_KEY.upper(), "keyring:" + PRIVATE_KEY, "keystore:/tmp/0x" + PRIVATE_KEY,
])
def test_pasted_private_key_is_refused_without_being_repeated(pasted: str) -> None:
    error = error_of(parse_key_ref, pasted, "origin.deployer")
    assert "looks like a private key" in str(error)
    assert "keyring:<name>" in str(error)
    assert PRIVATE_KEY not in str(error).lower()


def test_mnemonic_is_refused() -> None:
    phrase = "test test test test test test test test test test test junk"
    error = error_of(parse_key_ref, phrase, "validators[0].origin_key")
    assert "mnemonic" in str(error) and "junk" not in str(error)


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "nothing was entered"), ("key", "one of keyring:<name>"), ("keyring:", "followed by a name"),
    ("keystore:", "followed by a file path"), ("dev:x", "account index"), ("dev:-1", "account index"),
    ("dev:1000", "account index"), ("vault:abc", "one of keyring:<name>"), ("keyring:a\x07b", "control"),
])
def test_key_ref_refusals(text: str, fragment: str) -> None:
    assert fragment in str(error_of(parse_key_ref, text, "origin.deployer"))


# -- nothing but InputError, whatever comes in -------------------------------------------------

ANYTHING = st.one_of(st.text(), st.text(alphabet="0123456789abcdefABCDEFxX. _-+eE"), st.integers(),
                     st.floats(), st.booleans(), st.none(), st.binary(), st.lists(st.integers(), max_size=3))
PARSERS = [
    lambda v: units.parse_address(v, "f"),
    lambda v: units.parse_amount(v, "f"),
    lambda v: units.parse_amount(v, "f", default_unit="OST"),
    lambda v: units.parse_chain_id(v, "f"),
    lambda v: units.parse_int(v, "f"),
    lambda v: units.parse_core_identifier(v, 1, "f"),
    lambda v: units.parse_url(v, "f"),
    lambda v: parse_key_ref(v, "f"),
]


@settings(max_examples=300)
@given(st.sampled_from(range(len(PARSERS))), ANYTHING)
def test_parsers_raise_only_input_error(which: int, value: object) -> None:
    try:
        PARSERS[which](value)
    except InputError as error:
        assert error.field == "f" and str(error).startswith("f: ")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80).map(lambda t: t + " OST"))
def test_amount_text_with_a_unit_raises_only_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        assert 0 <= units.parse_amount(text, "f") <= units.UINT256_MAX


def test_engine_modules_do_not_import_textual() -> None:
    code = ("import sys, mosaic_tui.units, mosaic_tui.keyref, mosaic_tui.plan, mosaic_tui.journal, "
            "mosaic_tui.tomlio, mosaic_tui.fsio; print('textual' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
