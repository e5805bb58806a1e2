"""`mosaic-tui validator run ENV_FILE` refuses a bad env file with a sentence naming the variable,
exit code 2, no traceback and nothing sent (no chain is even contacted: the URLs point nowhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mosaic_tui import cli
from mosaic_tui.validator.config import load_config

GOOD = {
    "MOSAIC_ORIGIN_ENDPOINT": "http://127.0.0.1:9",
    "MOSAIC_AUXILIARY_ENDPOINT": "http://127.0.0.1:9",
    "MOSAIC_ORIGIN_CORE_ADDRESS": "0x" + "11" * 20,
    "MOSAIC_ORIGIN_VALIDATOR_ADDRESS": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "MOSAIC_AUXILIARY_VALIDATOR_ADDRESS": "0x42cBC74D159f243FAa636759DED727AE3b1D9471",
    "MOSAIC_ORIGIN_BLOCK_STORE_ADDRESS": "0x" + "22" * 20,
    "MOSAIC_AUXILIARY_BLOCK_STORE_ADDRESS": "0x" + "33" * 20,
    "MOSAIC_ORIGIN_POLLING_INTERVAL": "1",
    "MOSAIC_AUXILIARY_POLLING_INTERVAL": "1",
    "MOSAIC_KERNEL_GATEWAY_ADDRESS": "0x" + "44" * 20,
    "MOSAIC_POLLING_PLACE_ADDRESS": "0x" + "55" * 20,
    "MOSAIC_CORE_IDENTIFIER": "0x" + "00" * 6 + "0539" + "00" * 10 + "057d",
    "MOSAIC_ORIGIN_CHAIN_ID": "1337",
    "MOSAIC_AUXILIARY_CHAIN_ID": "1405",
    "MOSAIC_ORIGIN_EPOCH_LENGTH": "5",
    "MOSAIC_AUXILIARY_EPOCH_LENGTH": "5",
    "MOSAIC_ORIGIN_VALIDATOR_KEY_REF": "dev:1",
    "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF": "dev:500",
}


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("# test\n" + "".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def test_a_complete_env_file_is_read(tmp_path: Path) -> None:
    config = load_config(write_env(tmp_path / "rum-0.env", GOOD))
    assert config.origin_chain_id == 1337 and config.auxiliary_epoch_length == 5
    assert str(config.auxiliary_key) == "dev:500"
    assert config.ledger_path == (tmp_path / "rum-0.validator.json").resolve()


@pytest.mark.parametrize(("change", "named"), [
    ({"MOSAIC_POLLING_PLACE_ADDRESS": ""}, "MOSAIC_POLLING_PLACE_ADDRESS"),
    ({"MOSAIC_ORIGIN_CORE_ADDRESS": "0x1234"}, "MOSAIC_ORIGIN_CORE_ADDRESS"),
    ({"MOSAIC_AUXILIARY_EPOCH_LENGTH": "0"}, "MOSAIC_AUXILIARY_EPOCH_LENGTH"),
    ({"MOSAIC_ORIGIN_ENDPOINT": "localhost:8545"}, "MOSAIC_ORIGIN_ENDPOINT"),
    ({"MOSAIC_CORE_IDENTIFIER": "0x12"}, "MOSAIC_CORE_IDENTIFIER"),
    ({"MOSAIC_AUXILIARY_VALIDATOR_KEY_REF": "0x" + "ab" * 32}, "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF"),
])
def test_a_bad_variable_is_named_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   change: dict[str, str], named: str) -> None:
    env = write_env(tmp_path / "rum-0.env", {**GOOD, **change})
    assert cli.main(["validator", "run", str(env)]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert "ab" * 32 not in err  # a key pasted into the file is never repeated
    assert not (tmp_path / "rum-0.validator.json").exists()


def test_a_missing_env_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validator", "run", str(tmp_path / "nope.env")]) == 2
    assert "ENV_FILE" in capsys.readouterr().err


def test_a_key_for_another_account_is_refused_before_anything_is_sent(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    env = write_env(tmp_path / "rum-0.env", {**GOOD, "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF": "dev:501"})
    assert cli.main(["validator", "run", str(env)]) == 2
    err = capsys.readouterr().err
    assert "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF" in err and "not the validator's" in err
    # The node's short RPC patience is its own: a run in this process leaves the environment as it was
    # (it leaked into the next tests in the same process, and an engine run gave up after 10 s).
    assert "MOSAIC_TUI_RPC_PATIENCE" not in os.environ
