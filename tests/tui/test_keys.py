"""Keys entered once in the wizard: the plan keeps only a reference, key fields are masked, the OS keyring
is used when it works without prompting, an encrypted keystore otherwise, and a keystore's passphrase is
asked in a masked field when the preflight opens it."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from textual.widgets import Input

from mosaic_tui import keys
from mosaic_tui import messages as m
from mosaic_tui.app import MosaicApp
from mosaic_tui.screens.keys import KeyEntryScreen, PassphraseScreen
from mosaic_tui.screens.prerequisites import PrerequisitesScreen
from mosaic_tui.screens.review import ReviewScreen
from tests.tui.conftest import Devnet, kinds, wait_for
from tests.tui.test_forms import own_plan, retype, row

SECRET = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = Account.from_key(SECRET).address


async def enter_deployer_key(app: MosaicApp, pilot: Any) -> None:
    await pilot.press("o")
    await wait_for(pilot, lambda: {"origin.rpc", "auxiliary.rpc"} <= set(app.session.connected), what="the RPC lines")
    await pilot.click("#key-origin-deployer")
    await wait_for(pilot, lambda: isinstance(app.screen, KeyEntryScreen) and app.screen.keyring_known,
                   what="the keyring check")
    key_input = row(app, "key").input
    assert key_input.password, "the private key field must be masked"
    await retype(pilot, key_input, SECRET)


async def test_a_pasted_key_goes_into_the_keyring_and_the_plan_keeps_the_reference(tmp_path: Path) -> None:
    messages: list[Any] = []
    plan_path = own_plan(tmp_path / "mosaic-plan.toml", "http://127.0.0.1:1")
    app = MosaicApp(plan_path=plan_path)
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await enter_deployer_key(app, pilot)
        assert not row(app, "passphrase").display  # a usable keyring needs no passphrase
        await pilot.click("#key-save")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen), what="the key stored")
        assert row(app, "origin.deployer").value == "keyring:deployer"
        assert [(s.ref, s.address) for s in kinds(messages, m.KeyStored)] == [("keyring:deployer", ADDRESS)]
        await pilot.press("ctrl+q")
    assert keys.usable_keyring().get_password(keys.KEYRING_SERVICE, "deployer") == SECRET
    assert SECRET[2:] not in plan_path.read_text()


async def test_without_a_usable_keyring_the_key_is_encrypted_into_a_keystore(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "usable_keyring", lambda: None)
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", "http://127.0.0.1:1"))
    async with app.run_test(size=(100, 32)) as pilot:
        await enter_deployer_key(app, pilot)
        assert row(app, "passphrase").display and row(app, "passphrase").input.password
        await retype(pilot, row(app, "passphrase").input, "correct horse")
        await retype(pilot, row(app, "repeat").input, "correct horsf")
        await pilot.click("#key-save")
        await pilot.pause()
        assert "The two passphrases differ." in str(app.screen.query_one("#key-error").render())
        await retype(pilot, row(app, "repeat").input, "correct horse")
        await pilot.click("#key-save")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen), timeout=60, what="the keystore")
        assert row(app, "origin.deployer").value == "keystore:keys/deployer.json"
        await pilot.press("ctrl+q")
    keystore = tmp_path / "keys" / "deployer.json"
    assert stat.S_IMODE(keystore.stat().st_mode) == 0o600
    assert SECRET[2:] not in keystore.read_text()
    assert Account.decrypt(json.loads(keystore.read_text()), "correct horse").hex() == SECRET[2:]


async def test_the_preflight_asks_a_keystore_passphrase_in_a_masked_field(wizard_devnet: Devnet) -> None:
    """A devnet plan whose deployer is a keystore: the preflight opens it with the passphrase typed in the UI."""
    messages: list[Any] = []
    store = wizard_devnet.devnet_plan.parent / "keys" / "deployer.json"
    store.parent.mkdir(parents=True)
    dev0 = Account.from_mnemonic(keys.DEV_MNEMONIC, account_path="m/44'/60'/0'/0/0")
    store.write_text(json.dumps(Account.encrypt(dev0.key, "open sesame")))
    app = wizard_devnet.app()
    async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen))
        await retype(pilot, row(app, "origin.deployer").input, "keystore:keys/deployer.json")
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, PassphraseScreen), what="the passphrase question")
        field = app.screen.query_one(Input)
        assert field.password
        await pilot.press(*"open sesame", "enter")
        await wait_for(pilot, lambda: app.session.preflight_report is not None or app.session.preflight_problems,
                       what="the preflight")
        assert isinstance(app.screen, ReviewScreen)
        assert app.session.preflight_problems == []
        assert "keystore:keys/deployer.json" in wizard_devnet.devnet_plan.read_text()
        await pilot.press("ctrl+q")
        await pilot.click("#keep")


async def test_an_imported_keystore_is_referenced_where_it_is(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "imported.json").write_text(json.dumps(Account.encrypt(SECRET, "a long passphrase")))
    app = MosaicApp(plan_path=own_plan(tmp_path / "mosaic-plan.toml", "http://127.0.0.1:1"))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: {"origin.rpc", "auxiliary.rpc"} <= set(app.session.connected), what="the RPC lines")
        await pilot.click("#key-origin-deployer")
        await wait_for(pilot, lambda: isinstance(app.screen, KeyEntryScreen))
        await pilot.click("#kind-keystore")
        await retype(pilot, row(app, "path").input, "keys/missing.json")
        await pilot.click("#key-save")
        await wait_for(pilot, lambda: "does not exist" in str(app.screen.query_one("#key-error").render()))
        await retype(pilot, row(app, "path").input, "keys/imported.json")
        await pilot.click("#key-save")
        await wait_for(pilot, lambda: isinstance(app.screen, PrerequisitesScreen), what="the keystore reference")
        assert row(app, "origin.deployer").value == "keystore:keys/imported.json"
        await pilot.press("ctrl+q")
