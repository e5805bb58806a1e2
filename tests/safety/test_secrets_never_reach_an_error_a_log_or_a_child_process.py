"""Issue 13, item 5: keys, mnemonics, passphrases and RPC credentials never reach an error, a log
line, an event, a child process or a world-readable file.

Real command line, real anvil, real keystores (tests/reliability/world.py).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import keyring.core
import pytest
import tomli_w

from mosaic_tui import cli, devnet, events, keys
from mosaic_tui.errors import InputErrors, StepFailed
from mosaic_tui.plan import load_plan, plan_from_dict, save_plan
from tests.reliability.test_input_properties import SECRET, base_plan
from tests.reliability.world import PASSPHRASE, World, make_world, plan_dict, write_keystore

MNEMONIC = "abandon ability able about above absent absorb abstract absurd abuse access accident"
URL_SECRETS = ("hunter22", "s3cr3t-api-key", "0123456789abcdef0123456789abcdef")


def test_the_hypothesis_failure_a_pasted_key_as_plan_version_is_not_echoed() -> None:
    """The example Hypothesis found on a fresh clone: `plan_version: ... the plan says '4c0883...'`."""
    plan = base_plan()
    plan["plan_version"] = SECRET
    with pytest.raises(InputErrors) as refused:
        plan_from_dict(plan)
    text = str(refused.value)
    assert "plan_version: this program reads plan_version 1; the plan says '<hidden: 64 hex digits>'." in text
    assert SECRET not in text.lower()


@pytest.mark.parametrize("pasted", [SECRET + "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "ab" + SECRET,
                                    SECRET + SECRET, "0x" + SECRET.upper() + "00"],
                         ids=["key then an address", "hex then key", "two keys", "key then more hex"])
def test_a_pasted_key_run_into_more_hex_digits_is_not_echoed(pasted: str) -> None:
    """Hypothesis found this one too (seed 197971395808882493923741445057953097233): a key followed by an
    address ('...3623180x5aAe...') is a run of 65 hex digits, which the 64-digit rule let through."""
    plan = base_plan()
    plan["plan_version"] = pasted
    with pytest.raises(InputErrors) as refused:
        plan_from_dict(plan)
    text = str(refused.value)
    assert "<hidden: 64 hex digits>" in text and SECRET not in text.lower(), text


def test_one_redaction_hides_keys_mnemonics_passphrases_and_url_credentials_in_every_error_and_event() -> None:
    from mosaic_tui import redact as redaction
    from mosaic_tui.redact import redact

    redaction.remember("my keystore passphrase")
    text = (f"key 0x{SECRET} words {MNEMONIC} pass my keystore passphrase at "
            "https://user:hunter22@mainnet.example/v3/0123456789abcdef0123456789abcdef?apikey=s3cr3t-api-key.")
    for shown in (redact(text), str(StepFailed("1", "1.deploy_origin_core", text)),
                  events.Waiting("1", text).reason, events.TxFailed("1", "a", "label", None, text).reason,
                  events.ActionDone("3", "a", "label", text).detail):
        assert SECRET not in shown and MNEMONIC not in shown and "my keystore passphrase" not in shown
        assert not any(secret in shown for secret in URL_SECRETS), shown
        assert "https://***@mainnet.example/v3/***?apikey=***." in shown
    assert redact("the stake 1,000 OST of 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed is below the minimum") == \
        "the stake 1,000 OST of 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed is below the minimum"


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path) -> World:
    return make_world(anvil_factory(), tmp_path)


def test_an_rpc_url_with_credentials_is_redacted_in_errors_and_kept_in_0600_files(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    port = devnet.free_port()  # nothing answers here
    secret_url = f"http://operator:hunter22@127.0.0.1:{port}/v3/0123456789abcdef0123456789abcdef?apikey=s3cr3t-api-key"
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world, **{"origin.rpc": secret_url})))
    assert cli.main(["deploy", str(path), "--yes"]) == 2
    out, err = capsys.readouterr()
    assert f"error: origin.rpc: no node answers at http://***@127.0.0.1:{port}/v3/***?apikey=***; check" in err
    assert not any(secret in out + err for secret in URL_SECRETS)
    # Through a node that answers, the plan file itself must be private.
    answering = f"http://operator:hunter22@127.0.0.1:{world.node.port}/?apikey=s3cr3t-api-key"  # anvil serves /
    path.write_text(tomli_w.dumps(plan_dict(world, **{"origin.rpc": answering})))
    path.chmod(0o644)
    assert cli.main(["deploy", str(path), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert f"origin.rpc: the URL carries credentials, and {path} can be read by other users; run chmod 600" in err
    assert not any(secret in out + err for secret in URL_SECRETS)
    path.chmod(0o600)
    assert cli.main(["deploy", str(path), "--dry-run"]) == 0, capsys.readouterr().err
    # A plan this program writes with such a URL is readable by its owner only.
    saved = save_plan(load_plan(path), tmp_path / "saved.toml")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    public = tmp_path / "public.toml"
    public.write_text(tomli_w.dumps(plan_dict(world)))
    assert stat.S_IMODE(save_plan(load_plan(public), public).stat().st_mode) == 0o644  # no credentials


def test_passphrases_are_taken_out_of_the_environment_before_any_child_process_starts(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setenv(f"{keys.PASSPHRASE_ENV}_KEY0", PASSPHRASE)
    port = devnet.free_port()
    assert cli.main(["devnet", "up", "--port", str(port)]) == 0
    try:
        node = devnet.load_record(devnet.default_dir())["origin"]
        environ = Path(f"/proc/{node.pid}/environ").read_bytes()
        assert b"MOSAIC_TUI_PASSPHRASE" not in environ and PASSPHRASE.encode() not in environ
    finally:
        devnet.down(devnet.default_dir())
    assert keys.PASSPHRASE_ENV not in __import__("os").environ
    # Read once, still known: the keystores open.
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world)))
    assert cli.main(["deploy", str(path), "--dry-run"]) == 0, capsys.readouterr().err


def test_each_keystore_may_have_its_own_passphrase(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The deployer's keystore by its own variable, a validator's by a 0600 file beside it, the rest by the
    shared variable; a passphrase file others can read is refused."""
    deployer, validator = world.accounts[0], world.accounts[1]
    write_keystore(world.directory / "keys" / "key0.json", deployer, "the deployer's own passphrase")
    validator_keystore = write_keystore(world.directory / "keys" / "key1.json", validator, "validator one's passphrase")
    beside = validator_keystore.with_name("key1.json.passphrase")
    beside.write_text("validator one's passphrase\n")
    beside.chmod(0o644)
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setenv(f"{keys.PASSPHRASE_ENV}_KEY0", "the deployer's own passphrase")
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world)))
    assert cli.main(["deploy", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"passphrase: the passphrase file {beside} can be read by other users; run chmod 600 {beside} first." \
        in err
    assert "validator one's passphrase" not in err
    beside.chmod(0o600)
    assert cli.main(["deploy", str(path), "--dry-run"]) == 0, capsys.readouterr().err


def test_a_plaintext_keyring_backend_is_refused_with_a_sentence(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # chosen afresh from the variable
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(plan_dict(world, **{"validators.0.origin_key": "keyring:validator-0"})))
    assert cli.main(["deploy", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "validators[0].origin_key: keyring:validator-0 is in the keyring backend " \
           "keyrings.alt.file.PlaintextKeyring, which keeps keys unencrypted in a file; mosaic-tui refuses it." in err
    with pytest.raises(Exception, match="keeps keys unencrypted in a file"):
        keys.store_in_keyring("deployer", "0x" + SECRET)
    assert keys.usable_keyring() is None
