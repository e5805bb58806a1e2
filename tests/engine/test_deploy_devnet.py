"""Whole deployments through the real CLI on real anvil nodes: complete, verified, idempotent, resumable."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from mosaic_tui import devnet
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan

from .conftest import DevnetRun
from .test_export import SPEC_KEYS as DEPLOYMENT_KEYS


def nonces(run: DevnetRun) -> dict[tuple[str, str], int]:
    """Every sender's transaction count on each chain, as the nodes report it."""
    journal = Journal.load(journal_path(run.plan))
    plan = load_plan(run.plan)
    urls = {"origin": plan.origin.rpc, "auxiliary": plan.auxiliary.rpc}
    senders = {(e.chain, e.sender) for e in journal.entries() if e.sender}
    return {(chain, sender): int(devnet.rpc_call(urls[chain], "eth_getTransactionCount", [sender, "latest"]), 16)
            for chain, sender in senders}


def journalled_transactions(run: DevnetRun) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for entry in Journal.load(journal_path(run.plan)).entries():
        if entry.tx_hash:
            key = (entry.chain or "", entry.sender or "")
            counts[key] = counts.get(key, 0) + 1 + len(entry.earlier_tx_hashes)
    return counts


def assert_verified(run: DevnetRun) -> None:
    result = run.cli("verify", str(run.plan))
    assert result.returncode == 0, result.stdout + result.stderr
    verified = re.search(r"(\d+) passed, 0 failed", result.stdout)  # code, cross-references, nonces, state
    assert verified and int(verified[1]) >= 30 and "FAIL" not in result.stdout, result.stdout
    assert "pass  ProposerSet in the auxiliary genesis" in result.stdout


@pytest.mark.parametrize("validators", [1, 4, 16])
def test_devnet_deployment_completes_and_verifies(devnet_run: DevnetRun, validators: int) -> None:
    result = devnet_run.deploy_devnet(validators)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "deployment complete" in result.stdout and "mosaic-tui devnet down" in result.stdout
    assert_verified(devnet_run)

    document = tomllib.loads((devnet_run.out / "deployment.toml").read_text())
    for table, keys in DEPLOYMENT_KEYS.items():
        assert keys <= set(document[table]), f"[{table}] misses {keys - set(document[table])}"
    assert len(document["validators"]) == validators
    plan = load_plan(devnet_run.plan)
    assert [v["auxiliary_address"] for v in document["validators"]] == [v.auxiliary_address for v in plan.validators]
    env_files = sorted(devnet_run.out.glob("rum-*.env"))
    assert len(env_files) == validators
    assert "MOSAIC_ORIGIN_CORE_ADDRESS=" in env_files[0].read_text()

    # Every transaction the journal holds is one the chains counted: nothing sent twice, nothing unrecorded.
    assert nonces(devnet_run) == journalled_transactions(devnet_run)


def test_second_run_sends_nothing(devnet_run: DevnetRun) -> None:
    first = devnet_run.deploy_devnet(2)
    assert first.returncode == 0, first.stderr
    before = nonces(devnet_run)
    again = devnet_run.cli("deploy", str(devnet_run.plan), "--yes")
    assert again.returncode == 0, again.stderr
    assert "deployment complete: 0 transactions sent in this run" in again.stdout
    assert "done in an earlier run" in again.stdout
    assert nonces(devnet_run) == before


def test_killed_after_step_2_resumes_without_duplicates(devnet_run: DevnetRun) -> None:
    killed = devnet_run.deploy_devnet(4, env={"MOSAIC_TUI_CRASH_AFTER_STEP": "2"})
    assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr
    journal = Journal.load(journal_path(devnet_run.plan))
    assert journal.is_step_done("2") and not journal.is_step_done("3")

    resumed = devnet_run.deploy_devnet(4)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr
    assert f"resuming the devnet deployment of {devnet_run.plan}" in resumed.stdout
    assert_verified(devnet_run)
    counts = nonces(devnet_run)
    assert counts == journalled_transactions(devnet_run)
    # The deployer's origin nonce: token, 4 OST transfers, 2 contracts, 1 approval, initialize, 1 gateway stake.
    deployer = next(sender for (chain, sender) in counts if chain == "origin" and sender == load_deployer(devnet_run))
    assert counts[("origin", deployer)] == 10
    assert json.loads(journal_path(devnet_run.plan).read_text())["steps"]["5"]["done"] is True


def load_deployer(run: DevnetRun) -> str:
    from mosaic_tui.keys import dev_signer

    assert str(load_plan(run.plan).origin.deployer) == "dev:0"
    return dev_signer(0).address


def test_status_once_shows_the_deployed_validators(devnet_run: DevnetRun) -> None:
    assert devnet_run.deploy_devnet(3).returncode == 0
    result = devnet_run.cli("status", str(devnet_run.plan), "--once")
    assert result.returncode == 0, result.stderr
    plan = load_plan(devnet_run.plan)
    rows = [line for line in result.stdout.splitlines() if any(v.auxiliary_address in line for v in plan.validators)]
    assert len(rows) == 3
    for validator, row in zip(plan.validators, rows, strict=True):
        assert validator.origin_address in row and validator.auxiliary_address in row
        assert "1,00" in row  # the stake, 1000+ OST, as the table writes it
    assert result.stdout.count("yes") >= 6  # every validator in PollingPlace and in ProposerSet


def test_resuming_after_the_devnet_auxiliary_chain_is_gone_says_so(devnet_run: DevnetRun) -> None:
    assert devnet_run.deploy_devnet(1).returncode == 0
    auxiliary = devnet.load_record(devnet_run.directory)["auxiliary"]
    auxiliary.stop()
    result = devnet_run.cli("deploy", str(devnet_run.plan), "--yes")
    assert result.returncode == 1
    assert "the devnet's auxiliary chain" in result.stderr and "is gone" in result.stderr
    assert "Traceback" not in result.stderr
