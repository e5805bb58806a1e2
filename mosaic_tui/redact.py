"""The one redaction every sentence meant for a person passes through before it is shown or logged.

An error can quote what the operator typed, and what they typed can be a pasted private key, a
mnemonic, a passphrase or an RPC URL with an API key in it. `redact` removes anything of those
shapes from a text:

- 64 hex digits or more in a row (with or without 0x): a private key has that shape, alone or run
  into more hex digits. So does a transaction or block hash, which is public; an error names the
  action instead (the journal holds the hash), because a text cannot tell the two apart.
- 12 or more words in a row that are all BIP-39 words: a mnemonic.
- every passphrase this process has read (`remember`), wherever it turns up.
- in a URL: the user and password (`user:pass@`), every query value, and every path segment that
  looks like a token (16+ letters and digits: Infura's /v3/<key>, Alchemy's /v2/<key>).

It is applied where the CLI prints an error and where the wizard shows one, to every error sentence
when it is made (`errors.InputError`), to the CLI's progress lines and to the wizard's event texts.
"""

from __future__ import annotations

import re
import urllib.parse
from functools import cache

KEY_HIDDEN = "<hidden: 64 hex digits>"
MNEMONIC_HIDDEN = "<hidden: a mnemonic>"
PASSPHRASE_HIDDEN = "<hidden: a passphrase>"
HIDDEN = "***"

# 64 hex digits or more: a key pasted next to more hex (an address after it, a stray digit before) is still a key.
_HEX64 = re.compile(r"(?<![0-9a-fA-F])(?:0[xX])?[0-9a-fA-F]{64,}(?![0-9a-fA-F])", re.ASCII)
_WORDS = re.compile(r"[A-Za-z]+(?:[\s,]+[A-Za-z]+)*")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
_TOKEN_SEGMENT = re.compile(r"(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}", re.ASCII)
_MNEMONIC_MIN_WORDS = 12
_MIN_PASSPHRASE = 4  # shorter "secrets" would redact ordinary words

_passphrases: set[str] = set()


def remember(passphrase: str) -> None:
    """A passphrase this process read: from now on it is hidden wherever it appears in a text."""
    if len(passphrase) >= _MIN_PASSPHRASE:
        _passphrases.add(passphrase)


@cache
def _wordlist() -> frozenset[str]:
    try:
        from eth_account.hdaccount.mnemonic import get_wordlist
    except ImportError:  # pragma: no cover - eth-account is a dependency
        return frozenset()
    return frozenset(get_wordlist("english"))


def redact_url(url: str) -> str:
    """`url` without credentials: user:pass@, query values and token-like path segments become ***."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return HIDDEN
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    path = "/".join(HIDDEN if _TOKEN_SEGMENT.fullmatch(segment) else segment for segment in parts.path.split("/"))
    query = "&".join(f"{pair.split('=', 1)[0]}={HIDDEN}" if "=" in pair else HIDDEN
                     for pair in parts.query.split("&")) if parts.query else ""
    fragment = HIDDEN if parts.fragment else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, fragment))


def url_has_credentials(url: str) -> bool:
    """Whether `url` carries anything `redact_url` hides (a URL to keep in 0600 files only)."""
    return redact_url(url) != url


def _is_separator(token: str) -> bool:
    return not token.strip(" \t\n\r,")


def _mnemonics(text: str) -> str:
    """Every run of 12 or more BIP-39 words (separated by spaces or commas) becomes MNEMONIC_HIDDEN."""
    words = _wordlist()

    def hide(match: re.Match[str]) -> str:
        out: list[str] = []
        streak: list[str] = []  # the current run of wordlist words, with the separators between them

        def end_streak() -> None:
            trailing: list[str] = []
            while streak and _is_separator(streak[-1]):
                trailing.insert(0, streak.pop())
            if sum(1 for token in streak if not _is_separator(token)) >= _MNEMONIC_MIN_WORDS:
                out.append(MNEMONIC_HIDDEN)
            else:
                out.extend(streak)
            streak.clear()
            out.extend(trailing)

        for token in re.split(r"([\s,]+)", match.group(0)):
            if _is_separator(token):
                (streak if streak else out).append(token)
            elif token.lower() in words:
                streak.append(token)
            else:
                end_streak()
                out.append(token)
        end_streak()
        return "".join(out)

    return _WORDS.sub(hide, text)


def _url_in_text(match: re.Match[str]) -> str:
    url = match.group(0)
    tail = len(url) - len(url.rstrip(".,;:)!?"))  # sentence punctuation after a URL is not part of it
    return redact_url(url[:len(url) - tail]) + url[len(url) - tail:]


def redact(text: str) -> str:
    """`text` with every key-, mnemonic-, passphrase- or credential-shaped part replaced."""
    if not text:
        return text
    for passphrase in sorted(_passphrases, key=len, reverse=True):
        text = text.replace(passphrase, PASSPHRASE_HIDDEN)
    text = _URL.sub(_url_in_text, text)
    text = _HEX64.sub(KEY_HIDDEN, text)
    if len(text.split()) < _MNEMONIC_MIN_WORDS:
        return text  # too short to hold a mnemonic (and the wordlist stays unloaded)
    return _mnemonics(text)


__all__ = ["redact", "redact_url", "remember", "url_has_credentials"]
