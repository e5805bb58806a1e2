"""Key references: how a plan names a signing key without ever holding it.

A plan, a journal or an export may be shared, committed or pasted into a bug report, so none of
them may contain a key. They hold a reference instead, checked here only for its form; opening
the keyring or keystore is `keys.py`'s business:

    keyring:<name>    an entry in the system keyring
    keystore:<path>   an encrypted JSON keystore file (relative paths are relative to the plan)
    node              an account unlocked on the RPC node itself
    dev:<index>       the index-th account of the devnet's well-known mnemonic (devnet only)
    external          a validator's key that only the validator holds: it signs its own stake on its
                      own machine (`mosaic-tui validator stake`); the plan then holds only its addresses

Anything that looks like a raw private key or a mnemonic is refused, and the refusal never
repeats it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mosaic_tui.errors import InputError

KeyKind = Literal["keyring", "keystore", "node", "dev", "external"]

# A private key is 32 bytes: 64 hex digits, with or without 0x, possibly inside other text.
PRIVATE_KEY_PATTERN = re.compile(r"(?<![0-9a-fA-F])(?:0[xX])?[0-9a-fA-F]{64}(?![0-9a-fA-F])", re.ASCII)
# BIP-39 mnemonics are 12 to 24 lowercase words.
_MNEMONIC = re.compile(r"[a-z]+(?:\s+[a-z]+){11,}", re.ASCII)
_DEV_INDEX_MAX = 1000

KEY_REF_FORMS = "keyring:<name>, keystore:<path>, node, external or dev:<index>"
USE_A_REFERENCE = (
    "keys never go into the plan: store the key in the system keyring or an encrypted keystore file "
    "and write keyring:<name> or keystore:<path> here instead"
)


def looks_like_secret(text: str) -> bool:
    """True when `text` holds something shaped like a private key or a mnemonic phrase."""
    return bool(PRIVATE_KEY_PATTERN.search(text)) or bool(_MNEMONIC.fullmatch(text.strip()))


@dataclass(frozen=True)
class KeyRef:
    """A reference to a signing key; `str()` gives back the text form the plan holds."""

    kind: KeyKind
    name: str = ""  # keyring entry name or keystore path; empty for node, external and dev
    index: int = 0  # dev account index; 0 otherwise

    def __str__(self) -> str:
        if self.kind in ("node", "external"):
            return self.kind
        if self.kind == "dev":
            return f"dev:{self.index}"
        return f"{self.kind}:{self.name}"

    @property
    def is_dev(self) -> bool:
        return self.kind == "dev"

    @property
    def is_external(self) -> bool:
        """Held by the validator alone: the coordinator never opens it."""
        return self.kind == "external"


def parse_key_ref(value: object, field: str) -> KeyRef:
    """Parse one key reference, refusing anything that looks like the key itself."""
    if not isinstance(value, str):
        raise InputError(field, f"expected a key reference ({KEY_REF_FORMS}) written as text.")
    text = value.strip()
    if looks_like_secret(text):
        raise InputError(field, f"this looks like a private key or mnemonic; {USE_A_REFERENCE}.")
    if not text:
        raise InputError(field, f"nothing was entered; enter a key reference ({KEY_REF_FORMS}).")
    if text in ("node", "external"):
        return KeyRef(text)  # type: ignore[arg-type]
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("keyring", "keystore", "dev"):
        raise InputError(field, f"a key reference is one of {KEY_REF_FORMS}.")
    rest = rest.strip()
    if kind == "dev":
        if not re.fullmatch(r"[0-9]{1,4}", rest, re.ASCII) or int(rest) >= _DEV_INDEX_MAX:
            raise InputError(field, f"dev:<index> takes an account index from 0 to {_DEV_INDEX_MAX - 1}.")
        return KeyRef("dev", index=int(rest))
    if not rest:
        raise InputError(field, f"{kind}: must be followed by a {'name' if kind == 'keyring' else 'file path'}.")
    if any(not c.isprintable() for c in rest):
        raise InputError(field, f"the {kind} {'name' if kind == 'keyring' else 'path'} holds control characters.")
    return KeyRef(kind, name=rest)  # type: ignore[arg-type]
