"""A devnet deployment whose genesis set does not fit one block (issue 17), through the real CLI on
real anvil nodes: small block gas limits on both chains force Stake's genesis into chunks and K0's
activation on the auxiliary chain into parts, and the deployment still completes and verifies.

The 256-validator run with the default gas limits is a benchmark (benchmarks/scale_deploy.py
--sizes 256); this one keeps the chunked paths in the default suite at 40 validators.
Before the change the same run stops in the preflight: "40 validators need about 7,750,000 gas in
Stake.initialize, more than the origin block gas limit of 4,000,000".
"""

from __future__ import annotations

from mosaic_tui import deploy, devnet
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import plan_from_dict, save_plan
from mosaic_tui.steps.common import genesis_chunks, largest_validator_count, opening_parts
from tests.engine.conftest import DevnetRun
from tests.engine.test_deploy_devnet import assert_verified, journalled_transactions, nonces

VALIDATORS = 40
ORIGIN_GAS_LIMIT = 4_000_000  # the largest deployment (OriginCore) still fits
AUXILIARY_GAS_LIMIT = 3_200_000


def test_a_genesis_set_too_large_for_a_block_is_deployed_in_chunks_and_parts(devnet_run: DevnetRun) -> None:
    chunks = genesis_chunks(VALIDATORS, ORIGIN_GAS_LIMIT)
    parts = opening_parts(VALIDATORS, AUXILIARY_GAS_LIMIT)
    assert len(chunks) >= 2 and parts is not None and len(parts) >= 2

    # The origin node with a small block gas limit, recorded so `deploy --devnet` adopts it and
    # the fixture stops it; and the devnet plan with a small auxiliary gas limit.
    devnet_run.directory.mkdir(parents=True)
    # One block a second: anvil's mine-per-transaction mode leaves transactions that did not fit a
    # small block waiting for a next transaction that may never come.
    origin = devnet.start_anvil(name="origin", port=devnet_run.origin_port, chain_id=devnet.ORIGIN_CHAIN_ID,
                                block_time=1, state_path=devnet_run.directory / "origin-state.json", detached=True,
                                extra_args=["--gas-limit", str(ORIGIN_GAS_LIMIT)])
    devnet.add_node(devnet_run.directory, origin)
    data = deploy.devnet_plan_dict(VALIDATORS, origin_url=origin.rpc_url, origin_chain_id=origin.chain_id,
                                   auxiliary_url=f"http://127.0.0.1:{devnet_run.auxiliary_port}",
                                   out_dir=str(devnet_run.out))
    data["auxiliary"]["gas_limit"] = AUXILIARY_GAS_LIMIT
    devnet_run.out.mkdir(parents=True)
    save_plan(plan_from_dict(data), devnet_run.plan)

    result = devnet_run.deploy_devnet(VALIDATORS, "--block-time", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert result.stdout.count("Stake.registerValidators: validators") >= len(chunks) - 1
    assert "KernelGateway.proveKernelOpening: prove K0" in result.stdout
    assert_verified(devnet_run)  # Stake, PollingPlace and ProposerSet hold the planned set, K0 active

    journal = Journal.load(journal_path(devnet_run.plan))
    genesis = [e for e in journal.entries() if e.action_id.startswith(("2.register_validators.", "2.initialize_stake"))]
    assert [e.action_id for e in genesis] == [f"2.register_validators.{n}" for n in range(len(chunks) - 1)] + \
        ["2.initialize_stake"]
    assert all(e.receipt is not None and e.receipt.gas_used < ORIGIN_GAS_LIMIT for e in genesis)
    opening = [e for e in journal.entries() if e.action_id.startswith(("4.prove_kernel_opening",
                                                                        "4.activate_kernel_part.",
                                                                        "4.prove_block_opening"))]
    assert len(opening) == 1 + len(parts)
    assert all(e.receipt is not None and e.receipt.gas_used < AUXILIARY_GAS_LIMIT for e in opening)
    assert nonces(devnet_run) == journalled_transactions(devnet_run)


def test_the_preflight_names_the_largest_count_the_gas_limits_allow(devnet_run: DevnetRun) -> None:
    devnet_run.directory.mkdir(parents=True)
    origin = devnet.start_anvil(name="origin", port=devnet_run.origin_port, chain_id=devnet.ORIGIN_CHAIN_ID,
                                detached=True, extra_args=["--gas-limit", str(ORIGIN_GAS_LIMIT)])
    devnet.add_node(devnet_run.directory, origin)
    data = deploy.devnet_plan_dict(100, origin_url=origin.rpc_url, origin_chain_id=origin.chain_id,
                                   auxiliary_url=f"http://127.0.0.1:{devnet_run.auxiliary_port}",
                                   out_dir=str(devnet_run.out))
    data["auxiliary"]["gas_limit"] = AUXILIARY_GAS_LIMIT
    devnet_run.out.mkdir(parents=True)
    save_plan(plan_from_dict(data), devnet_run.plan)
    block = origin.w3.eth.block_number
    result = devnet_run.cli("deploy", str(devnet_run.plan), "--dry-run")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "auxiliary.gas_limit" in result.stderr
    most = largest_validator_count(ORIGIN_GAS_LIMIT, AUXILIARY_GAS_LIMIT)
    assert 40 < most < 100
    assert f"at most {most} validators fit these gas limits" in result.stderr
    assert "Traceback" not in result.stderr
    assert origin.w3.eth.block_number == block
