"""Exports: deployment.toml holds every key docs/design.md lists; rum gets its addresses, and never a key or password."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import export, keys, units
from mosaic_tui.plan import Plan, load_plan, plan_from_dict

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "example-plan.toml"
# Made up for this test; it must never reach a written file.
PRIVATE_KEY = "0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f"
PASSPHRASE = "correct horse battery staple 42"
SPEC_KEYS = {
    "core": {"identifier"},
    "origin": {"rpc", "chain_id", "ost", "origin_core", "stake", "ost_gateway", "setup_block_hash",
               "setup_block_number"},
    "auxiliary": {"rpc", "chain_id", "origin_block_store", "auxiliary_block_store", "polling_place", "kernel_gateway",
                  "ost_prime", "proposer_set", "initial_proposer", "gas_price", "base_coin_supply"},
}
RUM_VARIABLES = ("MOSAIC_ORIGIN_ENDPOINT", "MOSAIC_AUXILIARY_ENDPOINT", "MOSAIC_ORIGIN_CORE_ADDRESS",
                 "MOSAIC_ORIGIN_VALIDATOR_ADDRESS", "MOSAIC_AUXILIARY_VALIDATOR_ADDRESS",
                 "MOSAIC_ORIGIN_BLOCK_STORE_ADDRESS", "MOSAIC_AUXILIARY_BLOCK_STORE_ADDRESS",
                 "MOSAIC_ORIGIN_POLLING_INTERVAL", "MOSAIC_AUXILIARY_POLLING_INTERVAL")


def lower_address(n: int) -> str:
    return f"0x{n:040x}" if n < 16 else "0x" + (f"{n:02x}" * 20)[:40]


NAMES = ("origin_core", "stake", "ost_gateway", "origin_block_store", "auxiliary_block_store", "polling_place",
         "kernel_gateway", "ost_prime", "proposer_set", "initial_proposer")


def sample_outputs() -> dict[str, Any]:
    """Outputs as the journal merges them; addresses deliberately lowercase, so the export must checksum."""
    outputs: dict[str, Any] = {name: lower_address(0xA1 + i) for i, name in enumerate(NAMES)}
    outputs.update(setup_block_hash="0x" + "ab" * 32, setup_block_number=4242, setup_state_root="0x" + "cd" * 32,
                   auxiliary_rpc="http://127.0.0.1:18546", gas_price=2 * 10**9, base_coin_minted=130 * 10**18,
                   genesis_path="out/genesis.json", spec_path="out/spec.json", node_config_path="out/node.toml")
    return outputs


def checksummed(name: str) -> str:
    return units.checksum_address(sample_outputs()[name][2:])


@pytest.fixture
def plan() -> Plan:
    return load_plan(EXAMPLE)


def test_deployment_document_has_every_spec_key_with_its_value(plan: Plan) -> None:
    document = export.deployment_document(plan, sample_outputs())
    assert set(document) == {"core", "origin", "auxiliary", "validators"}
    for table, names in SPEC_KEYS.items():
        assert names <= set(document[table]), names - set(document[table])
    assert document["core"]["identifier"] == plan.core_identifier
    origin, aux = document["origin"], document["auxiliary"]
    assert (origin["rpc"], origin["chain_id"], origin["ost"]) == (plan.origin.rpc, 11155111, plan.origin.ost)
    for name in ("origin_core", "stake", "ost_gateway"):
        assert origin[name] == checksummed(name) != sample_outputs()[name]
    assert (origin["setup_block_hash"], origin["setup_block_number"]) == ("0x" + "ab" * 32, 4242)
    for name in NAMES[3:]:
        assert aux[name] == checksummed(name)
    assert (aux["rpc"], aux["chain_id"]) == ("http://127.0.0.1:18546", 1405)
    assert (aux["gas_price"], aux["base_coin_supply"]) == (2 * 10**9, 800_000_000 * 10**18)
    assert [(v["origin_address"], v["auxiliary_address"], v["stake"]) for v in document["validators"]] == \
        [(v.origin_address, v.auxiliary_address, v.stake) for v in plan.validators]
    assert document["validators"][2]["stake"] == 1500_500_000_000_000_000_000  # "1500.5 OST" in integer wei


def test_a_devnet_plan_takes_ost_from_the_outputs(tmp_path: Path) -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    data["devnet"], data["origin"]["ost"] = True, "deploy"
    devnet_plan = plan_from_dict(data)
    outputs = sample_outputs() | {"ost": lower_address(0x0E)}
    assert export.deployment_document(devnet_plan, outputs)["origin"]["ost"] == units.checksum_address(f"{0x0E:040x}")
    with pytest.raises(export.MissingOutput, match=r"ost \(recorded by devnet preparation"):
        export.deployment_document(devnet_plan, sample_outputs())


def test_missing_outputs_are_all_named_with_the_step_that_records_them(plan: Plan, tmp_path: Path) -> None:
    outputs = sample_outputs()
    del outputs["kernel_gateway"], outputs["gas_price"]
    with pytest.raises(export.MissingOutput) as raised:
        export.write_exports(tmp_path, plan, outputs)
    assert raised.value.names == ["kernel_gateway", "gas_price"]
    assert raised.value.exit_code == 1
    message = str(raised.value)
    assert "kernel_gateway (recorded by step 3" in message and "gas_price (recorded by step 4" in message
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    with pytest.raises(export.MissingOutput, match="setup_block_hash"):
        export.rum_env(plan, {k: v for k, v in sample_outputs().items() if k != "setup_block_hash"}, 0)


def test_an_output_that_is_not_what_its_step_records_is_refused(plan: Plan) -> None:
    with pytest.raises(export.ExportError, match="origin_core is not an address"):
        export.deployment_document(plan, sample_outputs() | {"origin_core": "0x1234"})
    with pytest.raises(export.ExportError, match="setup_block_hash should be a 32-byte hash"):
        export.deployment_document(plan, sample_outputs() | {"setup_block_hash": "0x12"})
    with pytest.raises(export.ExportError, match="setup_block_number should be a whole number"):
        export.deployment_document(plan, sample_outputs() | {"setup_block_number": "4242"})


def test_rum_document_lists_the_step_5_addresses_and_keys_by_reference(plan: Plan) -> None:
    rum = export.rum_document(plan, sample_outputs())
    assert rum["origin"]["origin_core"] == checksummed("origin_core")
    assert rum["origin"]["initial_block_hash"] == "0x" + "ab" * 32 and rum["origin"]["initial_block_number"] == 4242
    for name in ("kernel_gateway", "polling_place", "origin_block_store", "auxiliary_block_store"):
        assert rum["auxiliary"][name] == checksummed(name)
    assert (rum["origin"]["polling_interval"], rum["auxiliary"]["polling_interval"]) == (12, 5)
    first, second, third = rum["validators"]
    assert (first["origin_key"], first["auxiliary_key"]) == ("keyring:validator-1-origin", "keyring:validator-1-auxiliary")
    assert "origin_password_file" not in first and "auxiliary_password_file" not in first  # a keyring unlocks itself
    assert second["auxiliary_key"] == "keystore:keys/validator-2-auxiliary.json"
    assert second["auxiliary_password_file"] == "keys/validator-1.pwd" and "origin_password_file" not in second
    assert (third["origin_password_file"], third["auxiliary_password_file"]) == \
        ("keys/validator-2-origin.pwd", "keys/validator-2.pwd")  # "node": the password the node unlocks with
    assert [v["env_file"] for v in rum["validators"]] == ["rum-0-8bbe7eea.env", "rum-1-6fa3fdfa.env",
                                                          "rum-2-5d37f399.env"]


def read_env(path: Path) -> dict[str, str]:
    """What a POSIX shell exports from the env file: the real test of its quoting."""
    script = 'set -a; . "$1"; env -0'
    output = subprocess.run(["sh", "-c", script, "sh", str(path)], capture_output=True, check=True,
                            env={"PATH": os.environ["PATH"]}).stdout.decode()
    pairs = (item.split("=", 1) for item in output.split("\0") if item.startswith("MOSAIC_"))
    return dict(pairs)


def test_env_files_give_rum_its_variables(plan: Plan, tmp_path: Path) -> None:
    written = export.write_exports(tmp_path, plan, sample_outputs())
    env_files = sorted(path for path in written if path.suffix == ".env")
    assert [path.name for path in env_files] == ["rum-0-8bbe7eea.env", "rum-1-6fa3fdfa.env", "rum-2-5d37f399.env"]
    for index, path in enumerate(env_files):
        assert re.fullmatch(r"rum-[0-9]+-[0-9a-f]{8}\.env", path.name)
        variables = read_env(path)
        assert set(RUM_VARIABLES) <= set(variables)
        validator = plan.validators[index]
        assert variables["MOSAIC_ORIGIN_ENDPOINT"] == plan.origin.rpc
        assert variables["MOSAIC_AUXILIARY_ENDPOINT"] == "http://127.0.0.1:18546"
        assert variables["MOSAIC_ORIGIN_CORE_ADDRESS"] == checksummed("origin_core")
        assert variables["MOSAIC_ORIGIN_VALIDATOR_ADDRESS"] == validator.origin_address
        assert variables["MOSAIC_AUXILIARY_VALIDATOR_ADDRESS"] == validator.auxiliary_address
        assert variables["MOSAIC_ORIGIN_BLOCK_STORE_ADDRESS"] == checksummed("origin_block_store")
        assert variables["MOSAIC_AUXILIARY_BLOCK_STORE_ADDRESS"] == checksummed("auxiliary_block_store")
        assert variables["MOSAIC_KERNEL_GATEWAY_ADDRESS"] == checksummed("kernel_gateway")
        assert variables["MOSAIC_POLLING_PLACE_ADDRESS"] == checksummed("polling_place")
        assert (variables["MOSAIC_ORIGIN_POLLING_INTERVAL"], variables["MOSAIC_AUXILIARY_POLLING_INTERVAL"]) == \
            ("12", "5")
        assert variables["MOSAIC_ORIGIN_VALIDATOR_KEY_REF"] == str(validator.origin_key)
        assert variables["MOSAIC_AUXILIARY_VALIDATOR_KEY_REF"] == str(validator.auxiliary_key)
    node_passwords = read_env(env_files[2])
    assert node_passwords["MOSAIC_AUXILIARY_VALIDATOR_PASSWORD_FILE"] == str(tmp_path.resolve() / "keys/validator-2.pwd")


def test_odd_values_survive_the_quoting(tmp_path: Path) -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    odd = "keystore:keys/my validator's $HOME `key`.json"
    data["validators"][0]["origin_key"] = odd
    path = tmp_path / "rum.env"
    path.write_text(export.rum_env(plan_from_dict(data), sample_outputs(), 0))
    assert read_env(path)["MOSAIC_ORIGIN_VALIDATOR_KEY_REF"] == odd


def test_file_modes_and_deployment_toml_reads_back(plan: Plan, tmp_path: Path) -> None:
    written = export.write_exports(tmp_path / "out", plan, sample_outputs())
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in written}
    assert modes.pop("deployment.toml") == 0o644
    assert modes == {"rum.toml": 0o600, "rum-0-8bbe7eea.env": 0o600, "rum-1-6fa3fdfa.env": 0o600,
                     "rum-2-5d37f399.env": 0o600}
    assert tomllib.loads((tmp_path / "out" / "deployment.toml").read_text()) == \
        export.deployment_document(plan, sample_outputs())
    rum = tomllib.loads((tmp_path / "out" / "rum.toml").read_text())
    assert rum["auxiliary"]["kernel_gateway"] == checksummed("kernel_gateway")
    assert rum["validators"][1]["auxiliary_password_file"] == str((tmp_path / "out").resolve() / "keys/validator-1.pwd")


def test_no_key_or_password_reaches_any_written_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keystore = tmp_path / "keys" / "validator-0-origin.json"
    ref = keys.store_in_keystore(keystore, PRIVATE_KEY, PASSPHRASE)  # a real encrypted keystore of the key
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)  # and the passphrase where a headless run finds it
    data = tomllib.loads(EXAMPLE.read_text())
    data["validators"][0]["origin_key"] = str(ref)
    data["validators"][1]["origin_key"] = "keyring:validator-2-origin"
    data["validators"][2]["auxiliary_key"] = "keystore:keys/validator-3-auxiliary.json"
    secret_plan = plan_from_dict(data)
    # A stray secret in the journal's outputs must not be carried into the export either.
    outputs = sample_outputs() | {"deployer_private_key": PRIVATE_KEY, "passphrase": PASSPHRASE}
    out = tmp_path / "out"
    written = export.write_exports(out, secret_plan, outputs)
    assert len(written) == 5
    texts = {path.name: path.read_text().lower() for path in out.iterdir()}
    for name, text in texts.items():
        assert PRIVATE_KEY[2:] not in text, name
        assert PASSPHRASE.lower() not in text, name
    assert str(ref).lower() in texts["rum.toml"]  # the reference, and only that, is there


def test_rum_command_starts_rum_with_the_env_file(plan: Plan, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_rum = bin_dir / "rum"  # stands in for rum: records the environment it was started with
    fake_rum.write_text('#!/bin/sh\nenv > "$RUM_SEEN"\n')
    fake_rum.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    export.write_exports(out, plan, sample_outputs())
    command = export.rum_command(plan, sample_outputs(), 1, out_dir=out)
    assert command[-1] == str(fake_rum) and command[-2] == str((out / "rum-1-6fa3fdfa.env").resolve())
    seen = tmp_path / "seen.txt"
    subprocess.run(command, check=True, env={"PATH": os.environ["PATH"], "RUM_SEEN": str(seen)})
    started_with = dict(line.split("=", 1) for line in seen.read_text().splitlines() if line.startswith("MOSAIC_"))
    assert started_with["MOSAIC_AUXILIARY_VALIDATOR_ADDRESS"] == plan.validators[1].auxiliary_address
    assert set(RUM_VARIABLES) <= set(started_with)
    with pytest.raises(export.MissingOutput):
        export.rum_command(plan, {}, 1, out_dir=out)
