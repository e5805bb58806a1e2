"""Every MOSAIC_TUI_* variable is checked in one place: a bad value is a sentence naming it, exit code 2."""

from __future__ import annotations

import pytest

from mosaic_tui import cli, settings
from mosaic_tui.chain import batch, rpc
from mosaic_tui.errors import InputError, InputErrors


def test_a_bad_rpc_patience_is_named_not_silently_replaced_by_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # Failed before: patience() fell back to 120 s without a word.
    monkeypatch.setenv("MOSAIC_TUI_RPC_PATIENCE", "two minutes")
    with pytest.raises(InputError) as refused:
        rpc.patience()
    assert refused.value.field == "MOSAIC_TUI_RPC_PATIENCE" and "number of seconds" in refused.value.message


def test_settings_read_their_defaults_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOSAIC_TUI_RPC_BATCH_SIZE", raising=False)
    assert batch.batch_size() == batch.DEFAULT_CHUNK
    monkeypatch.setenv("MOSAIC_TUI_RPC_BATCH_SIZE", "64")
    assert batch.batch_size() == 64
    monkeypatch.setenv("MOSAIC_TUI_AUXILIARY_PORT", "8600")
    assert settings.get("MOSAIC_TUI_AUXILIARY_PORT") == 8600


def test_the_cli_refuses_a_bad_value_before_doing_anything(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOSAIC_TUI_RPC_BATCH_SIZE", "0")
    monkeypatch.setenv("MOSAIC_TUI_AUXILIARY_PORT", "99999")
    assert cli.main(["devnet", "status"]) == 2
    err = capsys.readouterr().err
    assert "MOSAIC_TUI_RPC_BATCH_SIZE: the value must be at least 1" in err
    assert "MOSAIC_TUI_AUXILIARY_PORT:" in err and "Traceback" not in err


def test_an_unknown_name_is_pointed_out_with_the_closest_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TUI_RPC_PATIENT", "30")
    notes = settings.check_environment()
    assert any("MOSAIC_TUI_RPC_PATIENT is not a mosaic-tui setting" in note and "MOSAIC_TUI_RPC_PATIENCE" in note
               for note in notes)


def test_every_variable_the_code_reads_is_declared() -> None:
    import re
    from pathlib import Path

    package = Path(settings.__file__).parent
    named = {m for path in package.rglob("*.py") for m in re.findall(r"MOSAIC_TUI_[A-Z_]+[A-Z]", path.read_text())}
    assert named - set(settings.SETTINGS) - {"MOSAIC_TUI_PASSPHRASE_DEPLOYER"} == set()


def test_several_bad_values_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TUI_RPC_PATIENCE", "x")
    monkeypatch.setenv("MOSAIC_TUI_RPC_BATCH_SIZE", "y")
    with pytest.raises(InputErrors) as caught:
        settings.check_environment()
    assert {e.field for e in caught.value.errors} == {"MOSAIC_TUI_RPC_PATIENCE", "MOSAIC_TUI_RPC_BATCH_SIZE"}
