"""The RLP library through ProofHarness on a real node: canonical encodings decode to what the
`rlp` package encoded, every non-canonical or truncated one is refused with its reason, and the
library agrees with the `rlp` package's strict decoder on which byte strings are valid at all.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import rlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from tests.helpers import deploy, revert_reason


@pytest.fixture
def harness(anvil: Any) -> Any:
    return deploy(anvil.w3, "ProofHarness")


def reverts(call: Any) -> str:
    with pytest.raises(ContractLogicError) as caught:
        call.call()
    return revert_reason(caught.value)


def strictly_valid(data: bytes) -> bool:
    try:
        rlp.decode(data, strict=True)
    except rlp.exceptions.DecodingError:
        return False
    return True


def test_integers_round_trip(harness: Any) -> None:
    for value in (0, 1, 0x7F, 0x80, 0xFF, 0x100, 2**55, 2**64 - 1, 2**255, 2**256 - 1):
        assert harness.functions.rlpToUint(rlp.encode(value)).call() == value


def test_strings_round_trip_across_the_short_and_long_forms(harness: Any) -> None:
    for length in (0, 1, 2, 55, 56, 57, 255, 256, 1000):
        data = bytes((i * 7 + 3) % 256 for i in range(length))
        encoded = rlp.encode(data)
        assert bytes(harness.functions.rlpToBytes(encoded).call()) == data
        assert harness.functions.rlpIsList(encoded).call() is False
    assert bytes(harness.functions.rlpToBytes(b"\x05").call()) == b"\x05"  # a byte is its own encoding


def test_addresses_and_bytes32(harness: Any, anvil: Any) -> None:
    address = anvil.w3.eth.accounts[3]
    assert harness.functions.rlpToAddress(rlp.encode(bytes.fromhex(address[2:]))).call() == address
    word = bytes(range(32))
    assert bytes(harness.functions.rlpToBytes32(rlp.encode(word)).call()) == word


def test_lists_split_into_their_encoded_items(harness: Any) -> None:
    nested = [b"", b"\x01", b"a" * 60, [b"x", [b"", 7]], 2**200, [], [b"y" * 56] * 3]
    encoded = rlp.encode(nested)
    assert len(encoded) > 56 + 2  # long-form list
    assert harness.functions.rlpIsList(encoded).call() is True
    items = [bytes(raw) for raw in harness.functions.rlpToList(encoded).call()]
    assert items == [rlp.encode(item) for item in nested]
    assert harness.functions.rlpTryToList(encoded).call() == [True, len(nested)]
    assert harness.functions.rlpToList(rlp.encode([])).call() == []


def test_rlp_hash_is_keccak_of_the_whole_encoding(harness: Any) -> None:
    from eth_utils import keccak

    encoded = rlp.encode([b"abc", 12345, [b""]])
    assert bytes(harness.functions.rlpHash(encoded).call()) == keccak(encoded)


REVERTS = {
    "RLP: empty input": ("rlpToBytes", b""),
    "RLP: length exceeds input": ("rlpToBytes", b"\x83\x01\x02"),
    "RLP: non-canonical length": ("rlpToBytes", b"\xb8\x05abcde"),
    "RLP: non-canonical single byte": ("rlpToBytes", b"\x81\x05"),
    "RLP: trailing bytes": ("rlpToBytes", b"\x01\x02"),
    "RLP: not a list": ("rlpToList", b"\x83abc"),
    "RLP: not a string": ("rlpToBytes", b"\xc0"),
    "RLP: uint longer than 32 bytes": ("rlpToUint", rlp.encode(b"\x01" * 33)),
    "RLP: uint with leading zero": ("rlpToUint", b"\x82\x00\x01"),
    "RLP: address is not 20 bytes": ("rlpToAddress", rlp.encode(b"\x01" * 19)),
    "RLP: bytes32 is not 32 bytes": ("rlpToBytes32", rlp.encode(b"\x01" * 31)),
}


@pytest.mark.parametrize("reason", sorted(REVERTS))
def test_malformed_input_reverts_with_its_reason(harness: Any, reason: str) -> None:
    function, data = REVERTS[reason]
    assert reverts(harness.functions[function](data)) == reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xb9\x00\x40" + b"a" * 64, "RLP: non-canonical length"),  # length with a leading zero byte
        (b"\xf8\x02\x01\x02", "RLP: non-canonical length"),  # long-form list of 2 bytes
        (b"\xb8", "RLP: length exceeds input"),  # length bytes missing
        (b"\xb9\x01\x00" + b"a" * 255, "RLP: length exceeds input"),
        (b"\xc3\x01\x02", "RLP: length exceeds input"),
        (b"\x00", "RLP: uint with leading zero"),  # zero is 0x80, not 0x00
        (rlp.encode([b"a" * 20]), "RLP: not a string"),
    ],
)
def test_more_malformed_headers(harness: Any, data: bytes, reason: str) -> None:
    function = "rlpToUint" if reason == "RLP: uint with leading zero" else (
        "rlpToAddress" if reason == "RLP: not a string" else "rlpToBytes")
    assert reverts(harness.functions[function](data)) == reason


def test_list_items_must_fit_the_list(harness: Any) -> None:
    # The outer header is fine; the inner string claims three bytes where the list has one.
    assert harness.functions.rlpTryToItem(b"\xc2\x83\x01").call() is True
    assert harness.functions.rlpTryToList(b"\xc2\x83\x01").call() == [False, 0]
    assert reverts(harness.functions.rlpToList(b"\xc2\x83\x01")) == "RLP: length exceeds input"
    assert reverts(harness.functions.rlpToList(b"\xc2\x81\x05")) == "RLP: non-canonical single byte"


def test_try_variants_report_instead_of_reverting(harness: Any) -> None:
    assert harness.functions.rlpTryToItem(b"\x81\x05").call() is False
    assert harness.functions.rlpTryToItem(b"").call() is False
    assert harness.functions.rlpTryToList(b"\x83abc").call() == [False, 0]
    assert harness.functions.rlpTryToItem(b"\x83abc").call() is True


def _mutations(data: bytes, rng: random.Random) -> list[bytes]:
    out = [data[:-1], data + b"\x00", data[1:]]
    for _ in range(4):
        position = rng.randrange(len(data))
        out.append(data[:position] + bytes([rng.randrange(256)]) + data[position + 1:])
    return [m for m in out if m]


rlp_values = st.recursive(
    st.binary(max_size=70) | st.integers(min_value=0, max_value=2**256 - 1),
    lambda children: st.lists(children, max_size=5),
    max_leaves=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=rlp_values, seed=st.integers(min_value=0, max_value=2**32))
def test_validity_matches_the_strict_python_decoder(harness: Any, value: Any, seed: int) -> None:
    encoded = rlp.encode(value)
    assert harness.functions.rlpIsValid(encoded).call() is True
    for mutated in _mutations(encoded, random.Random(seed)):
        assert harness.functions.rlpIsValid(mutated).call() is strictly_valid(mutated), mutated.hex()
