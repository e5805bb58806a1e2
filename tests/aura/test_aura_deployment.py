"""A whole devnet deployment with an AuRa engine's part played on the auxiliary anvil (issue 11's "done when").

`deploy --devnet --validators 4` runs in process against an auxiliary anvil started with
`--no-mining`; `engine_harness.AuraEngine` produces its blocks, making the SYSTEM calls where
Nethermind makes them and reading getValidators where Nethermind reads it. Before issue 11 step 3
sent six contract creations and rewrote spec.json after them: the first two assertions of
`test_devnet_deployment_under_an_aura_engine` failed on that code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import cli, devnet, genesis
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from mosaic_tui.steps import auxiliary

from .client_fields import check_out_dir
from .engine_harness import AuraEngine


@dataclass
class Deployed:
    out: Path
    directory: Path
    engine: AuraEngine
    spec_at_start: bytes
    exit_code: int
    printed: str

    @property
    def plan(self) -> Path:
        return self.out / "mosaic-plan.toml"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        import os

        env = {**os.environ, "MOSAIC_TUI_DEVNET_DIR": str(self.directory)}
        return subprocess.run([sys.executable, "-m", "mosaic_tui.cli", *args], capture_output=True, text=True,
                              env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    base = tmp_path_factory.mktemp("aura")
    out, directory = base / "out", base / "devnet"
    origin_port, auxiliary_port = devnet.free_port(), devnet.free_port()
    patch = pytest.MonkeyPatch()
    patch.setenv("MOSAIC_TUI_DEVNET_DIR", str(directory))
    flags = genesis.anvil_flags
    patch.setattr(genesis, "anvil_flags", lambda plan: [*flags(plan), "--no-mining"])
    patch.setattr(auxiliary, "devnet_engine_finalize", lambda url, plan: False)  # the harness is the engine
    start = devnet.start_anvil

    def start_auxiliary(**kwargs: Any) -> devnet.AnvilNode:
        if kwargs.get("name") == "auxiliary":
            kwargs["block_time"] = None  # the harness mines every block (--no-mining)
        return start(**kwargs)

    patch.setattr(devnet, "start_anvil", start_auxiliary)
    engine = AuraEngine(f"http://127.0.0.1:{auxiliary_port}", gas_price=10**9)
    seen: dict[str, bytes] = {}
    engine.first_answer = lambda: seen.setdefault("spec", (out / "spec.json").read_bytes())
    engine.start()
    printed: list[str] = []
    try:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            # No validator nodes: the chain stays as the deployment leaves it (K0 active), for the checks.
            code = cli.main(["deploy", "--devnet", "--validators", "4", "--yes", "--out", str(out),
                             "--origin-port", str(origin_port), "--auxiliary-port", str(auxiliary_port),
                             "--no-validators"])
        printed.append(buffer.getvalue())
        yield Deployed(out, directory, engine, seen.get("spec", b""), code, printed[0])
    finally:
        engine.stop()
        patch.undo()
        for node in devnet.load_record(directory).values():
            node.stop()


def _rpc(deployed: Deployed, method: str, params: list[Any]) -> Any:
    return devnet.rpc_call(load_plan(deployed.plan).auxiliary.rpc, method, params, timeout=10)


def test_devnet_deployment_under_an_aura_engine(deployed: Deployed) -> None:
    assert deployed.exit_code == 0, deployed.printed[-3000:]
    plan = load_plan(deployed.plan)
    # No contract creation on the auxiliary chain: every transaction has a recipient.
    latest = int(_rpc(deployed, "eth_blockNumber", []), 16)
    creations = [tx["hash"] for n in range(1, latest + 1)
                 for tx in _rpc(deployed, "eth_getBlockByNumber", [hex(n), True])["transactions"] if tx["to"] is None]
    assert creations == []
    # ProposerSet has its code at block 0 and is spec.json's validator source from block 0.
    code = _rpc(deployed, "eth_getCode", [genesis.SYSTEM_ADDRESSES["ProposerSet"], "0x0"])
    assert len(code) > 2
    spec = json.loads((deployed.out / "spec.json").read_text())
    assert spec["engine"]["authorityRound"]["params"]["validators"] == \
        {"safeContract": genesis.SYSTEM_ADDRESSES["ProposerSet"].lower()}
    # spec.json is byte-identical from the moment the node started to the end of the deployment.
    assert deployed.spec_at_start and (deployed.out / "spec.json").read_bytes() == deployed.spec_at_start

    # The conformance harness: what the engine saw, block by block, through the hand-over.
    engine = deployed.engine
    assert engine.errors == []
    proposer = str(Journal.load(journal_path(deployed.plan)).outputs()["initial_proposer"]).lower()
    validators = [v.auxiliary_address.lower() for v in plan.validators]
    blocks = {b.number: b for b in engine.blocks}
    assert blocks[1].system_call is not None and blocks[1].validators == [proposer]
    (hand_over,) = [b for b in engine.blocks if b.signalled is not None]
    assert hand_over.signalled == validators
    assert all(blocks[n].validators == [proposer] for n in range(1, hand_over.number + 2))
    assert blocks[hand_over.number + 1].system_call is not None
    after = [b for b in engine.blocks if b.number > hand_over.number + 1]
    assert all(b.validators == validators for b in after)
    calls = [b.number for b in engine.blocks if b.system_call]
    assert calls == [1, hand_over.number + 1]


def test_generated_files_pass_the_strict_checker(deployed: Deployed) -> None:
    assert check_out_dir(deployed.out) == []
    compose = (deployed.out / "docker-compose.yml").read_text()
    assert compose.count('user: "1000:1000"') == 5 and "service_completed_successfully" in compose


def test_genesis_verify_passes_and_names_the_difference(deployed: Deployed, tmp_path: Path) -> None:
    result = deployed.cli("genesis", "verify", str(deployed.plan))
    expected_hash = Journal.load(journal_path(deployed.plan)).outputs()["genesis_hash"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK") and expected_hash in result.stdout

    edited = tmp_path / "genesis.json"
    data = json.loads((deployed.out / "genesis.json").read_text())
    prime = genesis.SYSTEM_ADDRESSES["OSTPrime"].lower()
    data["alloc"][prime]["balance"] = hex(int(data["alloc"][prime]["balance"], 16) + 1)
    edited.write_bytes(genesis.dumps_json(data))
    (tmp_path / "spec.json").write_bytes((deployed.out / "spec.json").read_bytes())
    result = deployed.cli("genesis", "verify", str(deployed.plan), "--genesis", str(edited))
    assert result.returncode == 1
    assert f"differs from the derived genesis at alloc.{prime}.balance" in result.stderr


def test_verify_passes_with_the_new_checks(deployed: Deployed) -> None:
    result = deployed.cli("verify", str(deployed.plan))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout


def test_hand_over_to_64_validators_fits_a_system_call(tmp_path: Path) -> None:
    """finalizeChange costs the same for any set size: it runs within the 1.6 M gas Nethermind gives a
    system call (the devnet makes the call with exactly that). Failed with 64 validators when it
    copied the new set into place."""
    import os

    from mosaic_tui.steps.auxiliary import SYSTEM_CALL_GAS

    out, directory = tmp_path / "out", tmp_path / "devnet"
    env = {**os.environ, "MOSAIC_TUI_DEVNET_DIR": str(directory)}
    try:
        result = subprocess.run([sys.executable, "-m", "mosaic_tui.cli", "deploy", "--devnet", "--validators", "64",
                                 "--yes", "--out", str(out), "--origin-port", str(devnet.free_port()),
                                 "--auxiliary-port", str(devnet.free_port()), "--no-validators"],
                                capture_output=True, text=True, env=env, timeout=600, check=False)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        url = load_plan(out / "mosaic-plan.toml").auxiliary.rpc
        latest = int(devnet.rpc_call(url, "eth_blockNumber", []), 16)
        system_calls = [devnet.rpc_call(url, "eth_getTransactionReceipt", [tx["hash"]])
                        for n in range(1, latest + 1)
                        for tx in devnet.rpc_call(url, "eth_getBlockByNumber", [hex(n), True])["transactions"]
                        if tx["from"].lower() == genesis.SYSTEM]
        assert len(system_calls) == 2 and all(int(r["status"], 16) == 1 for r in system_calls)
        assert all(int(r["gasUsed"], 16) < SYSTEM_CALL_GAS // 10 for r in system_calls)
    finally:
        for node in devnet.load_record(directory).values():
            node.stop()


def test_a_validator_without_the_journal_verifies_from_deployment_toml(deployed: Deployed, tmp_path: Path) -> None:
    """An external validator has the plan, the genesis files and the coordinator's deployment.toml."""
    import shutil

    for name in ("mosaic-plan.toml", "genesis.json", "spec.json", "deployment.toml"):
        shutil.copy(deployed.out / name, tmp_path / name)
    expected_hash = Journal.load(journal_path(deployed.plan)).outputs()["genesis_hash"]
    result = deployed.cli("genesis", "verify", str(tmp_path / "mosaic-plan.toml"), "--genesis",
                          str(tmp_path / "genesis.json"))
    assert result.returncode == 0, result.stderr
    assert expected_hash in result.stdout

    (tmp_path / "deployment.toml").unlink()
    result = deployed.cli("genesis", "verify", str(tmp_path / "mosaic-plan.toml"), "--genesis",
                          str(tmp_path / "genesis.json"))
    assert result.returncode == 2 and "--deployment" in result.stderr and "Traceback" not in result.stderr
