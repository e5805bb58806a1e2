"""Opening the keys a plan refers to, and storing new ones, without a key ever touching a file in clear.

A plan names keys by reference (keyref.py). Here a reference becomes a Signer: an eth-account key
from the OS keyring, an encrypted keystore file or the devnet mnemonic, or an account unlocked on the
node (signed by the node with eth_signTransaction, so the journal still records the signed bytes
before anything is broadcast).

The keyring backend is chosen in code: a headless machine has no Secret Service over D-Bus, and the
keyrings.alt backends would prompt on stdin, which must never happen under a TUI. Where there is no
usable keyring the operator is told to use an encrypted keystore instead. A backend that keeps keys
in plain text in a file is refused, even when chosen explicitly (PYTHON_KEYRING_BACKEND).

Keystore passphrases, headless (the wizard asks in a masked field instead), first match wins:

    MOSAIC_TUI_PASSPHRASE_<NAME>   for keystore:<dir>/<name>.json (NAME: the file name without
                                   .json, upper case, other characters as _), one per keystore
    <keystore file>.passphrase     a file beside the keystore, mode 0600 (refused otherwise)
    MOSAIC_TUI_PASSPHRASE          the one passphrase of every other keystore

Every MOSAIC_TUI_PASSPHRASE* variable is read once and removed from the environment
(`take_env_passphrases`, the first thing the CLI does), so no child process (anvil, a node, rum)
inherits it; every passphrase read is handed to the redaction (redact.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mosaic_tui import redact
from mosaic_tui.errors import InputError, PassphraseRejected
from mosaic_tui.fsio import atomic_write
from mosaic_tui.keyref import KeyRef

KEYRING_SERVICE = "mosaic-tui"
PASSPHRASE_ENV = "MOSAIC_TUI_PASSPHRASE"
PASSPHRASE_FILE_SUFFIX = ".passphrase"

_env_passphrases: dict[str, str] = {}  # MOSAIC_TUI_PASSPHRASE* values, taken out of the environment


def take_env_passphrases() -> None:
    """Move every MOSAIC_TUI_PASSPHRASE* variable out of os.environ into this process's memory.

    Called before any child process starts (the CLI calls it first); safe to call again, it takes
    whatever has been set since."""
    for name in [n for n in os.environ if n == PASSPHRASE_ENV or n.startswith(PASSPHRASE_ENV + "_")]:
        value = os.environ.pop(name)
        _env_passphrases[name] = value
        redact.remember(value)


def passphrase_env_name(ref: KeyRef) -> str:
    """The variable that holds this keystore's own passphrase: keystore:keys/deployer.json ->
    MOSAIC_TUI_PASSPHRASE_DEPLOYER."""
    import re

    stem = Path(ref.name).name
    stem = stem[:-5] if stem.lower().endswith(".json") else stem
    return f"{PASSPHRASE_ENV}_{re.sub(r'[^A-Z0-9]', '_', stem.upper())}"
DEV_MNEMONIC = "test test test test test test test test test test test junk"  # anvil's well-known devnet mnemonic

Passphrase = Callable[[KeyRef], str]


class Signer(Protocol):
    address: str

    def sign(self, w3: Any, tx: dict[str, Any]) -> bytes: ...


@dataclass
class LocalSigner:
    """A key held in memory for this run only."""

    address: str
    _account: Any

    def sign(self, w3: Any, tx: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_transaction(tx).raw_transaction)

    def sign_typed(self, full_message: dict[str, Any]) -> Any:
        return self._account.sign_typed_data(full_message=full_message)

    def __repr__(self) -> str:  # never show the key, not even in a traceback
        return f"LocalSigner({self.address})"


@dataclass
class NodeSigner:
    """An account unlocked on the RPC node: the node signs, we record and broadcast."""

    address: str

    def sign(self, w3: Any, tx: dict[str, Any]) -> bytes:
        # Raw JSON-RPC: geth answers {"raw": ..., "tx": ...}, anvil only the raw hex, which web3's own
        # sign_transaction cannot read.
        fields = {key: hex(value) if isinstance(value, int) and not isinstance(value, bool) else value
                  for key, value in {**tx, "from": self.address}.items()}
        reply = w3.provider.make_request("eth_signTransaction", [fields])
        if "error" in reply:
            from mosaic_tui.chain.rpc import node_error_sentence

            raise InputError("node", f"the node did not sign for its account {self.address}: "
                                     f"{node_error_sentence(reply['error'])}")
        result = reply["result"]
        raw = result["raw"] if isinstance(result, dict) else result
        return bytes.fromhex(str(raw).removeprefix("0x"))


_dev_cache: dict[int, LocalSigner] = {}


def dev_signer(index: int) -> LocalSigner:
    """The index-th account of the devnet mnemonic (anvil funds the first ones)."""
    if index not in _dev_cache:
        from eth_account import Account

        Account.enable_unaudited_hdwallet_features()
        account = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        _dev_cache[index] = LocalSigner(account.address, account)
    return _dev_cache[index]


def _from_private_key(key: str | bytes) -> LocalSigner:
    from eth_account import Account

    account = Account.from_key(key)
    return LocalSigner(account.address, account)


def _plaintext(backend: Any) -> bool:
    """A backend that writes secrets unencrypted into a file (keyrings.alt's PlaintextKeyring and kin)."""
    from keyring.backends import chainer

    backends = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
    return any("plaintext" in type(b).__name__.lower() for b in backends)


def plaintext_keyring_refusal(ref: object = "the key") -> str | None:
    """The sentence refusing the configured keyring when it keeps keys in plain text, else None."""
    import keyring

    backend = keyring.get_keyring()
    if not _plaintext(backend):
        return None
    return (f"{ref} is in the keyring backend {type(backend).__module__}.{type(backend).__name__}, which keeps "
            "keys unencrypted in a file; mosaic-tui refuses it. Use your desktop's keyring or an encrypted "
            "keystore (keystore:<path>) instead.")


def usable_keyring() -> Any:
    """The OS keyring, or None where there is none (headless, no D-Bus) or it keeps keys in plain text."""
    import keyring
    from keyring.backends import chainer, fail

    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        backend = keyring.get_keyring()  # chosen explicitly (tests, or an operator who knows their setup)
        return None if _plaintext(backend) else backend
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend):
        real = [b for b in backend.backends if not type(b).__module__.startswith("keyrings.alt")]
        if not real:
            return None
    if type(backend).__module__.startswith("keyrings.alt"):
        return None  # these prompt on stdin for their own password
    return backend


def _keyring_signer(ref: KeyRef, field: str) -> LocalSigner:
    refusal = plaintext_keyring_refusal(ref)
    if refusal is not None:
        raise InputError(field, refusal)
    backend = usable_keyring()
    if backend is None:
        raise InputError(field, f"{ref} needs the system keyring, and this machine has none that works "
                                "without a desktop session; import the key into an encrypted keystore and use "
                                "keystore:<path> instead.")
    try:
        secret = backend.get_password(KEYRING_SERVICE, ref.name)
    except Exception as error:  # backends raise their own types
        raise InputError(field, f"the system keyring could not be read for {ref} ({type(error).__name__}).") from None
    if not secret:
        raise InputError(field, f"the system keyring has no entry named '{ref.name}' for mosaic-tui.")
    try:
        return _from_private_key(secret)
    except Exception:
        raise InputError(field, f"the keyring entry '{ref.name}' does not hold a valid private key.") from None


def _keystore_signer(ref: KeyRef, field: str, base: Path, passphrase: Passphrase | None) -> LocalSigner:
    from eth_account import Account

    path = Path(ref.name).expanduser()
    if not path.is_absolute():
        path = base / path
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(field, f"the keystore file {path} does not exist.") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise InputError(field, f"the keystore file {path} cannot be read as a JSON keystore.") from None
    secret = env_passphrase(ref, base) if passphrase is None else passphrase(ref)
    redact.remember(secret)
    try:
        key = Account.decrypt(keystore, secret)
    except ValueError:
        raise PassphraseRejected(field, f"the passphrase does not open the keystore {path}.") from None
    except Exception:
        raise InputError(field, f"the keystore file {path} is not a valid Ethereum keystore.") from None
    return _from_private_key(key)


def env_passphrase(ref: KeyRef, base: Path = Path(".")) -> str:
    """The headless way (the TUI asks in a masked field instead): the keystore's own variable, its
    .passphrase file (0600), or MOSAIC_TUI_PASSPHRASE."""
    take_env_passphrases()
    own = passphrase_env_name(ref)
    if own in _env_passphrases:
        return _env_passphrases[own]
    path = Path(ref.name).expanduser()
    beside = (path if path.is_absolute() else base / path).with_name(path.name + PASSPHRASE_FILE_SUFFIX)
    if beside.is_file():
        import stat

        if stat.S_IMODE(beside.stat().st_mode) & 0o077:
            raise InputError("passphrase", f"the passphrase file {beside} can be read by other users; "
                                           f"run chmod 600 {beside} first.")
        secret = beside.read_text(encoding="utf-8").rstrip("\r\n")
        redact.remember(secret)
        return secret
    if PASSPHRASE_ENV in _env_passphrases:
        return _env_passphrases[PASSPHRASE_ENV]
    raise PassphraseRejected("passphrase", f"{ref} is an encrypted keystore; set {own} (or {PASSPHRASE_ENV} for every "
                                   f"keystore) to its passphrase, put it in {beside.name} beside it (mode 0600), "
                                   "or run the wizard, which asks for it.")


def open_signer(ref: KeyRef, field: str, *, base: Path = Path("."), passphrase: Passphrase | None = None,
                node_address: str | None = None) -> Signer:
    """The Signer behind a reference; every failure is an InputError naming `field`."""
    if ref.kind == "dev":
        return dev_signer(ref.index)
    if ref.kind == "keyring":
        return _keyring_signer(ref, field)
    if ref.kind == "keystore":
        return _keystore_signer(ref, field, base, passphrase)
    if ref.kind == "external":
        raise InputError(field, "is external: only the validator holds this key, on its own machine, where it "
                                "names it itself (mosaic-tui validator stake --key, mosaic-tui export PLAN "
                                "--validator N --key ... --auxiliary-key ...); this run cannot open it.")
    if node_address is None:
        raise InputError(field, "'node' needs the account's address: the node must hold it unlocked.")
    return NodeSigner(node_address)


def store_in_keyring(name: str, private_key: str) -> KeyRef:
    """Put a pasted key into the OS keyring; returns the reference the plan keeps."""
    refusal = plaintext_keyring_refusal("a key")
    if refusal is not None:
        raise InputError("key", refusal)
    backend = usable_keyring()
    if backend is None:
        raise InputError("key", "this machine has no usable system keyring; save the key as an encrypted keystore.")
    address = _from_private_key(private_key).address  # validates before storing
    backend.set_password(KEYRING_SERVICE, name, private_key)
    del address
    return KeyRef("keyring", name=name)


def store_in_keystore(path: Path, private_key: str, passphrase: str) -> KeyRef:
    """Encrypt a key with a passphrase into a keystore file (0600); returns its reference."""
    from eth_account import Account
    from eth_typing import HexStr

    if len(passphrase) < 8:
        raise InputError("passphrase", "use at least 8 characters for the keystore passphrase.")
    try:
        encrypted = Account.encrypt(HexStr(private_key), passphrase)
    except Exception:
        raise InputError("key", "this is not a valid private key (64 hex digits).") from None
    atomic_write(path, json.dumps(encrypted).encode(), secret=True)
    return KeyRef("keystore", name=str(path))
