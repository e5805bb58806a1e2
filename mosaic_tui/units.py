"""The one parser for what people type: addresses, amounts, chain ids, core identifiers and URLs.

The CLI, the plan loader and the input widgets all call these functions, so a value that one of
them accepts every other accepts too, and every rejection is the same plain sentence naming the
field. Every function raises only `InputError`, whatever text it is given.

Error messages never repeat a long hex string the person typed: someone who pastes a private key
into the wrong field must not find it again in a log or a screenshot.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mosaic_tui.errors import InputError

UINT256_MAX = 2**256 - 1
# The core identifier holds the origin chain id in 8 bytes, so no chain id may be wider.
CHAIN_ID_MAX = 2**64 - 1
ZERO_ADDRESS = "0x" + "0" * 40

# Decimals of each unit people write; OST, like ether, has 18.
UNIT_DECIMALS = {"wei": 0, "gwei": 9, "ether": 18, "eth": 18, "ost": 18}
UNIT_NAMES = {"wei": "wei", "gwei": "gwei", "ether": "ETH", "eth": "ETH", "ost": "OST"}

_HEX = re.compile(r"[0-9a-fA-F]*", re.ASCII)
# digits[.digits][e[+-]digits] [unit]; "_" may separate digit groups as in TOML and Python.
_AMOUNT = re.compile(
    r"(?P<int>[0-9](?:_?[0-9])*)?(?:\.(?P<frac>[0-9](?:_?[0-9])*)?)?"
    r"(?:[eE](?P<exp>[+-]?[0-9]{1,4}))?\s*(?P<unit>[A-Za-z]+)?",
    re.ASCII,
)
# Longer input than this cannot be a uint256 and would only make int() slow or refuse.
_MAX_AMOUNT_CHARS = 200


def kind_of(value: object) -> str:
    """What a TOML value is, in words for an error message ("a number", not "a int")."""
    names = {bool: "true/false", int: "a number", float: "a decimal number", str: "text", list: "a list",
             dict: "a table"}
    return names.get(type(value), f"a {type(value).__name__}")


def _fail(field: str, message: str) -> InputError:
    return InputError(field, message)


def _strip_text(value: object, field: str, what: str) -> str:
    if not isinstance(value, str):
        raise _fail(field, f"expected {what} written as text, not {kind_of(value)}.")
    text = value.strip()
    if not text:
        raise _fail(field, f"nothing was entered; enter {what}.")
    return text


def checksum_address(hex40: str) -> str:
    """EIP-55 form of 40 hex digits (no 0x prefix, any case): eth_utils' checksum."""
    from eth_utils import to_checksum_address  # here, not at import: eth_hash's backend lookup is off the first paint

    return str(to_checksum_address("0x" + hex40))


def parse_address(text: object, field: str, *, allow_zero: bool = False) -> str:
    """A 20-byte address in its checksummed form.

    All-lowercase and all-uppercase hex carry no checksum and are accepted; mixed case must be a
    correct EIP-55 checksum, because a wrong one almost always means a mistyped digit. The zero
    address is refused unless `allow_zero`: no field of a deployment may hold it.
    """
    text = _strip_text(text, field, "an address such as 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    if not text.startswith(("0x", "0X")):
        raise _fail(field, "an address must start with 0x followed by 40 hex digits.")
    digits = text[2:]
    if not _HEX.fullmatch(digits):
        raise _fail(field, "an address may only hold hex digits (0-9, a-f) after 0x.")
    if len(digits) != 40:
        # Say how long it is, not what it is: 64 hex digits may well be a private key.
        raise _fail(field, f"an address is 20 bytes (40 hex digits after 0x), this has {len(digits)} digits.")
    checksummed = checksum_address(digits)
    if digits not in (digits.lower(), digits.upper()) and "0x" + digits != checksummed:
        raise _fail(field, f"{text} is not checksummed correctly (EIP-55); check it for a mistyped character.")
    if checksummed == ZERO_ADDRESS and not allow_zero:
        raise _fail(field, "the zero address is not allowed here.")
    return checksummed


def _unit_key(unit: str, field: str) -> str:
    key = unit.lower()
    if key not in UNIT_DECIMALS:
        raise _fail(field, f"unknown unit {unit[:20]!r}; use wei, gwei, ETH (ether) or OST.")
    return key


def parse_amount(value: object, field: str, default_unit: str = "wei") -> int:
    """An amount in wei from an integer or text such as "1000 OST", "2.5 gwei", "1 ether" or "123".

    Text without a unit is in `default_unit`. Decimals are exact (no floating point), so an
    amount that would end in a fraction of a wei is refused rather than rounded.
    """
    default_key = _unit_key(default_unit, "default_unit")
    if isinstance(value, bool):
        raise _fail(field, "expected an amount such as 1000 OST or an integer number of wei, not true/false.")
    if isinstance(value, int):
        return _check_range(value * 10 ** UNIT_DECIMALS[default_key], field)
    if isinstance(value, float):
        raise _fail(field, 'write a fractional amount as text with its unit, e.g. "2.5 OST"; floats lose precision.')
    text = _strip_text(value, field, "an amount such as 1000 OST")
    if len(text) > _MAX_AMOUNT_CHARS:
        raise _fail(field, "the amount is far too long to be a valid amount.")
    if text.startswith("-"):
        raise _fail(field, "an amount must not be negative.")
    match = _AMOUNT.fullmatch(text.removeprefix("+"))
    if match is None or (match["int"] is None and match["frac"] is None):
        raise _fail(field, "expected an amount such as 1000 OST, 2.5 gwei, 1 ETH or an integer number of wei.")
    unit_key = _unit_key(match["unit"], field) if match["unit"] else default_key
    whole = (match["int"] or "").replace("_", "")
    frac = (match["frac"] or "").replace("_", "")
    exponent = int(match["exp"] or 0)
    mantissa = int((whole + frac) or "0")
    shift = UNIT_DECIMALS[unit_key] + exponent - len(frac)
    if mantissa == 0:
        return 0
    if shift < 0:
        mantissa, remainder = divmod(mantissa, 10**-shift)
        if remainder and unit_key == "wei":
            raise _fail(field, "an amount in wei is a whole number; write a unit for fractions, e.g. 2.5 OST.")
        if remainder:
            raise _fail(field, f"the amount ends in a fraction of a wei; {UNIT_NAMES[unit_key]} has "
                               f"{UNIT_DECIMALS[unit_key]} decimals.")
        return _check_range(mantissa, field)
    if len(str(mantissa)) + shift > 78:  # 2**256 has 78 digits; avoid computing enormous powers
        raise _fail(field, "the amount is larger than the largest uint256 amount.")
    return _check_range(mantissa * 10**shift, field)


def _check_range(wei: int, field: str) -> int:
    if wei < 0:
        raise _fail(field, "an amount must not be negative.")
    if wei > UINT256_MAX:
        raise _fail(field, "the amount is larger than the largest uint256 amount.")
    return wei


def format_amount(wei: int, unit: str = "OST") -> str:
    """Exact text for `wei` in `unit` that `parse_amount` reads back to the same integer."""
    key = unit.lower()
    if key not in UNIT_DECIMALS:
        raise ValueError(f"unknown unit {unit!r}")
    if isinstance(wei, bool) or not isinstance(wei, int) or wei < 0:
        raise ValueError(f"an amount is a non-negative integer number of wei, not {wei!r}")
    decimals = UNIT_DECIMALS[key]
    whole, frac = divmod(wei, 10**decimals)
    text = str(whole)
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return f"{text} {UNIT_NAMES[key]}"


def parse_int(value: object, field: str, *, minimum: int = 0, maximum: int = UINT256_MAX, what: str = "a whole number") -> int:
    """A whole number in [minimum, maximum], from an int or decimal / 0x-hex text (underscores allowed)."""
    if isinstance(value, bool):
        raise _fail(field, f"expected {what}, not true/false.")
    if isinstance(value, int):
        number = value
    else:
        text = _strip_text(value, field, what)
        if len(text) > _MAX_AMOUNT_CHARS:
            raise _fail(field, f"expected {what}; this text is far too long.")
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", text, re.ASCII):
            number = int(text, 16)
        elif re.fullmatch(r"[+-]?[0-9](?:_?[0-9])*", text, re.ASCII):
            number = int(text.replace("_", ""))
        else:
            raise _fail(field, f"expected {what}, such as {max(minimum, 1)}.")
    if number < minimum:
        raise _fail(field, f"the value must be at least {minimum}, not {number}.")
    if number > maximum:
        raise _fail(field, f"the value must be at most {maximum}.")
    return number


def parse_chain_id(value: object, field: str) -> int:
    """A chain id: a positive integer that fits the 8 bytes the core identifier gives it."""
    return parse_int(value, field, minimum=1, maximum=CHAIN_ID_MAX, what="a chain id (a positive whole number)")


def default_core_identifier(origin_chain_id: int, auxiliary_chain_id: int) -> str:
    """The default (docs/design.md, step 0): origin chain id in 8 bytes, then the auxiliary chain id in 12, big-endian."""
    prefix = origin_chain_id.to_bytes(8, "big")
    suffix = auxiliary_chain_id.to_bytes(12, "big")
    return "0x" + (prefix + suffix).hex()


def core_identifier_prefix(origin_chain_id: int) -> str:
    return "0x" + origin_chain_id.to_bytes(8, "big").hex()


def parse_core_identifier(text: object, origin_chain_id: int | None, field: str) -> str:
    """A 20-byte core identifier as lowercase 0x-hex whose first 8 bytes are the origin chain id.

    With `origin_chain_id` None only the shape is checked (the origin chain is not known yet).
    """
    text = _strip_text(text, field, "a core identifier (20 bytes as 0x followed by 40 hex digits)")
    digits = text[2:] if text.startswith(("0x", "0X")) else None
    if digits is None or not _HEX.fullmatch(digits):
        raise _fail(field, "a core identifier is 0x followed by 40 hex digits.")
    if len(digits) != 40:
        raise _fail(field, f"a core identifier is 20 bytes (40 hex digits after 0x), this has {len(digits)} digits.")
    identifier = "0x" + digits.lower()
    if origin_chain_id is not None:
        expected = core_identifier_prefix(origin_chain_id)
        if not identifier.startswith(expected):
            raise _fail(
                field,
                f"the first 8 bytes must be the origin chain id {origin_chain_id} big-endian, so the identifier "
                f"must start with {expected}; it starts with {identifier[:18]}.",
            )
    return identifier


def parse_url(text: object, field: str, *, schemes: tuple[str, ...] = ("http", "https", "ws", "wss")) -> str:
    """An RPC endpoint URL with one of `schemes` and a host (and a valid port if one is given)."""
    text = _strip_text(text, field, "an RPC URL such as http://127.0.0.1:8545")
    if any(c.isspace() for c in text):
        raise _fail(field, "a URL must not contain spaces.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _fail(field, "the URL is malformed or its port is not a number between 0 and 65535.") from None
    if parts.scheme.lower() not in schemes:
        raise _fail(field, f"the URL must start with {' or '.join(s + '://' for s in schemes)}, e.g. http://127.0.0.1:8545.")
    if not parts.hostname:
        raise _fail(field, "the URL has no host name, e.g. http://127.0.0.1:8545.")
    if port == 0:
        raise _fail(field, "port 0 is not a port an RPC node can listen on.")
    return text
