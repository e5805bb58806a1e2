"""Keys entered once: paste a private key (into the OS keyring, or an encrypted keystore when there is no
usable keyring), import a keystore file, use a node-unlocked account, or a dev key on a devnet.

The plan only ever receives the reference (keyring:<name>, keystore:<path>, node, dev:<index>). Key and
passphrase fields are masked, and the keyring is only used through `keys.usable_keyring()`, which
refuses backends that would prompt on stdin.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, ContentSwitcher, Input, Label, RadioButton, RadioSet, Static

from mosaic_tui.errors import InputError
from mosaic_tui.messages import KeyStored
from mosaic_tui.widgets.fields import FormRow

_PRIVATE_KEY = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}", re.ASCII)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
CHOICES = (("paste", "Paste a private key"), ("keystore", "Import a keystore file"),
           ("node", "Account unlocked on the node"), ("dev", "Dev key (devnet only)"))


@dataclass(frozen=True)
class KeyChoice:
    ref: str
    address: str | None


def _check_private_key(text: str) -> None:
    if not _PRIVATE_KEY.fullmatch(text.strip()):
        # never echo what was typed: it may be most of a real key
        raise InputError("key", "a private key is 64 hex digits, with or without 0x.")


def _check_name(text: str) -> None:
    if not _NAME.fullmatch(text.strip()):
        raise InputError("name", "use letters, digits, '-', '_' or '.', at most 64 characters.")


def _check_passphrase(text: str) -> None:
    if len(text) < 8:
        raise InputError("passphrase", "use at least 8 characters.")


def _check_dev_index(text: str) -> None:
    from mosaic_tui.keyref import parse_key_ref

    parse_key_ref(f"dev:{text.strip()}", "index")


def keystore_address(path: Path) -> str:
    """The address a keystore file states (readable without the passphrase)."""
    from mosaic_tui import units

    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("keystore", f"{path} does not exist.") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise InputError("keystore", f"{path} is not a JSON keystore file.") from None
    address = data.get("address") if isinstance(data, dict) else None
    if not isinstance(address, str) or "crypto" not in data and "Crypto" not in data:
        raise InputError("keystore", f"{path} is not an Ethereum keystore (no address or crypto section).")
    return units.parse_address(address if address.startswith("0x") else "0x" + address, "keystore")


class KeyEntryScreen(ModalScreen[KeyChoice | None]):
    """Dismisses with the reference the plan keeps (and the key's address when known), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, label: str, default_name: str, *, devnet: bool, plan_dir: Path) -> None:
        super().__init__()
        self.label = label
        self.default_name = default_name
        self.devnet = devnet
        self.plan_dir = plan_dir
        self.keyring: Any = None  # the usable backend, once known
        self.keyring_known = False

    def compose(self) -> ComposeResult:
        with Vertical(id="key-dialog", classes="dialog"):
            yield Label(f"[b]{self.label}[/b] — how is this key held?")
            with RadioSet(id="key-kind"):
                for value, text in CHOICES:
                    yield RadioButton(text, value=value == "paste", id=f"kind-{value}",
                                      disabled=value == "dev" and not self.devnet)
            with ContentSwitcher(initial="pane-paste", id="key-panes"):
                with Vertical(id="pane-paste"):
                    yield FormRow("key", "Private key", "", _check_private_key, password=True,
                                  hint="masked; it never goes into the plan")
                    yield FormRow("name", "Name", self.default_name, _check_name,
                                  hint="the keyring entry or keystore file name")
                    yield Static("[dim]checking the system keyring …[/]", id="keyring-note")
                    yield FormRow("passphrase", "Keystore passphrase", "", _check_passphrase, password=True)
                    yield FormRow("repeat", "Repeat passphrase", "", _check_passphrase, password=True)
                with Vertical(id="pane-keystore"):
                    yield FormRow("path", "Keystore file", "", self._check_keystore,
                                  hint="a path relative to the plan file, or absolute")
                    yield Static("", id="keystore-address")
                with Vertical(id="pane-node"):
                    yield Static("The node at the chain's RPC URL holds this account unlocked and signs for it "
                                 "(eth_signTransaction); no key is stored here.")
                with Vertical(id="pane-dev"):
                    yield FormRow("index", "Dev account index", "0", _check_dev_index,
                                  hint="an account of the devnet's well-known mnemonic")
            yield Static("", id="key-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use this key", id="key-save", variant="primary")
                yield Button("Cancel", id="key-cancel")

    def on_mount(self) -> None:
        self._show_passphrase(False)
        self.find_keyring()

    @work(thread=True, exclusive=True, exit_on_error=False, group="keyring")
    def find_keyring(self) -> None:
        from mosaic_tui import keys

        try:
            backend = keys.usable_keyring()
        except Exception:  # a broken keyring install is the same as none
            backend = None
        self.app.call_from_thread(self._keyring_found, backend)

    def _keyring_found(self, backend: Any) -> None:
        self.keyring, self.keyring_known = backend, True
        note = self.query_one("#keyring-note", Static)
        if backend is not None:
            note.update(f"The key goes into the system keyring ({type(backend).__name__}) as mosaic-tui/<name>.")
        else:
            note.update("No usable system keyring here: the key is encrypted into keys/<name>.json beside the "
                        "plan, with the passphrase below.")
        self._show_passphrase(backend is None)

    def _show_passphrase(self, shown: bool) -> None:
        for key in ("passphrase", "repeat"):
            self.query_one(f"#row-{key}", FormRow).display = shown

    def _check_keystore(self, text: str) -> None:
        if not text.strip():
            raise InputError("path", "enter the keystore file's path.")

    def _kind(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return (pressed.id or "kind-paste").removeprefix("kind-") if pressed else "paste"

    @on(RadioSet.Changed)
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self.query_one(ContentSwitcher).current = f"pane-{self._kind()}"
        self.query_one("#key-error", Static).update("")

    def _row(self, key: str) -> FormRow:
        return self.query_one(f"#row-{key}", FormRow)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "key-cancel":
            self.action_cancel()
        elif event.button.id == "key-save":
            self.save()

    def action_cancel(self) -> None:
        self._row("key").value = ""
        self.dismiss(None)

    def _say(self, text: str) -> None:
        self.query_one("#key-error", Static).update(f"[red]{text}[/]")

    def save(self) -> None:
        kind = self._kind()
        if kind == "node":
            self.dismiss(KeyChoice("node", None))
            return
        rows = {"paste": ["key", "name"], "keystore": ["path"], "dev": ["index"]}[kind]
        if kind == "paste" and self.keyring_known and self.keyring is None:
            rows += ["passphrase", "repeat"]
        bad = [self._row(key).label for key in rows if not self._row(key).recheck(post=False)]
        if bad:
            self._say(f"Fix: {', '.join(bad)}.")
            return
        if kind == "paste" and not self.keyring_known:
            self._say("Still checking for a system keyring; try again in a moment.")
            return
        if kind == "paste" and self.keyring is None and self._row("passphrase").value != self._row("repeat").value:
            self._say("The two passphrases differ.")
            return
        self.query_one("#key-save", Button).disabled = True
        self.store(kind, {key: self._row(key).value for key in rows})

    @work(thread=True, exclusive=True, exit_on_error=False, group="store-key")
    def store(self, kind: str, values: dict[str, str]) -> None:
        try:
            choice = self._store(kind, values)
        except InputError as error:
            self.app.call_from_thread(self._store_failed, error.message)
            return
        self.app.call_from_thread(self._stored, choice, kind == "paste")

    def _store(self, kind: str, values: dict[str, str]) -> KeyChoice:
        from mosaic_tui import keys

        if kind == "dev":
            index = int(values["index"].strip())
            return KeyChoice(f"dev:{index}", keys.dev_signer(index).address)
        if kind == "keystore":
            text = values["path"].strip()
            path = Path(text).expanduser()
            address = keystore_address(path if path.is_absolute() else self.plan_dir / path)
            return KeyChoice(f"keystore:{text}", address)
        from eth_account import Account

        secret, name = values["key"].strip(), values["name"].strip()
        address = Account.from_key(secret).address
        if self.keyring is not None:
            return KeyChoice(str(keys.store_in_keyring(name, secret)), address)
        relative = Path("keys") / f"{name}.json"
        target = self.plan_dir / relative
        if target.exists():
            raise InputError("name", f"{target} exists already; choose another name.")
        keys.store_in_keystore(target, secret, values["passphrase"])
        return KeyChoice(f"keystore:{relative.as_posix()}", address)

    def _store_failed(self, text: str) -> None:
        self.query_one("#key-save", Button).disabled = False
        self._say(text)

    def _stored(self, choice: KeyChoice, pasted: bool) -> None:
        for key in ("key", "passphrase", "repeat"):
            self._row(key).value = ""  # the secret leaves the widget tree with this modal
        if pasted:
            self.app.post_message(KeyStored(choice.ref, choice.address))
        self.dismiss(choice)


class PassphraseScreen(ModalScreen[str | None]):
    """Asks, in a masked field, for the passphrase of an encrypted keystore the deployment must open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-dialog", classes="dialog"):
            yield Label(f"Passphrase of [b]{self.ref}[/b]")
            yield Input(password=True, id="passphrase-input", placeholder="masked")
            yield Static("[dim]Asked once per run, kept in memory only.[/]")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Unlock", id="passphrase-ok", variant="primary")
                yield Button("Cancel", id="passphrase-cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "passphrase-ok":
            self.dismiss(self.query_one(Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
