"""The validator nodes on a real devnet (two anvil chains, 1 s blocks, 4 equal-ish validators), as
`mosaic-tui deploy --devnet` leaves it: meta-blocks commit on origin, the auxiliary chain's active
kernel follows the open kernel, the status panel's data says so; stopping one validator keeps
finality going, stopping two halts it and the status says why, restarting them catches up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet
from tests.validator.world import ValidatorWorld, deploy_world, wait_for

EPOCH = 3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValidatorWorld]:
    tmp = tmp_path_factory.mktemp("validators")
    built: ValidatorWorld | None = None
    try:
        built = deploy_world(tmp)
        yield built
    finally:
        devnet.down(tmp / "devnet")


def test_meta_blocks_commit_and_the_active_kernel_follows_the_open_kernel(world: ValidatorWorld) -> None:
    wait_for(lambda: (world.committed() or 0) >= 1, 150, "two committed meta-blocks")
    # Kernel 2 opened by the second commit is proven on the auxiliary chain.
    wait_for(lambda: world.kernels()[0] >= 2 and world.kernels()[1] == world.kernels()[3], 120,
             "the auxiliary chain's active kernel to equal the open kernel")
    open_height, _, active_height, _ = world.kernels()
    assert active_height == open_height
    # Both chains finalise; the status panel's data (status --once --json) shows the same chain state.
    status = world.status_json()
    meta = status["meta"]
    assert meta["committed_height"] >= 1 and meta["active_kernel"] >= 2
    assert meta["auxiliary"]["finalised"] >= EPOCH and meta["origin"]["finalised"] > 0
    assert meta["auxiliary"]["finalised"] % EPOCH == 0
    assert all(row["in_polling_place"] and row["last_vote"] > 0 for row in status["rows"])
    assert all(row["runway"] > 1000 for row in status["rows"])
    assert not [w for w in status["warnings"] if "stalled" in w or "silent" in w]
    assert "Traceback" not in world.logs()


def test_one_down_keeps_finality_two_down_halt_it_restart_catches_up(world: ValidatorWorld) -> None:
    world.stop(3)
    before = world.finalised()
    wait_for(lambda: world.finalised() >= before + 3 * EPOCH, 120, "finality with 3 of 4 validators")

    world.stop(2)
    halted = wait_for(lambda: [w for w in world.status_json()["warnings"] if "auxiliary finality stalled" in w
                               and "below the 2/3 needed" in w], 120, "the stall warning with two validators down")
    assert "(50 %)" in halted[0]
    stalled_at = world.finalised()
    status = world.status_json()
    silent = [w for w in status["warnings"] if "is silent" in w]
    assert len(silent) == 2, status["warnings"]
    assert world.finalised() <= stalled_at + EPOCH  # at most one in-flight link lands

    world.start_all()
    wait_for(lambda: world.finalised() >= stalled_at + 3 * EPOCH, 150, "finality to resume after the restart")
    wait_for(lambda: not [w for w in world.status_json()["warnings"] if "stalled" in w], 120,
             "the stall warning to clear")
    committed = world.committed() or 0
    wait_for(lambda: (world.committed() or 0) > committed, 150, "a meta-block committed after the restart")


def test_a_validator_who_joins_on_origin_is_proven_and_seals(world: ValidatorWorld) -> None:
    """A deposit on origin joins with the next kernel; the nodes prove it, PollingPlace lists it, and
    ProposerSet follows (followKernel, enacted by the devnet's stand-in for the AuRa engine)."""
    from mosaic_tui import keys
    from mosaic_tui.contracts import load_artifact
    from tests.helpers import transact

    newcomer = keys.dev_signer(777).address
    deployer = keys.dev_signer(0).address  # anvil unlocks its own dev accounts
    origin = world.origin_w3
    stake = origin.eth.contract(address=world.core.functions.stake().call(), abi=load_artifact("Stake")["abi"])
    token = origin.eth.contract(address=world.deployed["origin"]["ost"], abi=load_artifact("EIP20Token")["abi"])
    amount = stake.functions.minimumDeposit().call()
    transact(origin, token.functions.approve(stake.address, amount), deployer)
    transact(origin, stake.functions.deposit(newcomer, amount), deployer)
    proposer_set = world.aux_w3.eth.contract(address=world.deployed["auxiliary"]["proposer_set"],
                                             abi=load_artifact("ProposerSet")["abi"])
    wait_for(lambda: newcomer in world.polling_place.functions.getValidators().call()[0], 240,
             "the newcomer's kernel to be proven into PollingPlace")
    wait_for(lambda: newcomer in proposer_set.functions.getValidators().call(), 120,
             "ProposerSet to list the newcomer")
    assert len(proposer_set.functions.getValidators().call()) == 5
    # Four of five still hold over 2/3 of the weight: finality goes on without the newcomer's votes.
    before = world.finalised()
    wait_for(lambda: world.finalised() >= before + 2 * EPOCH, 120, "finality with the newcomer silent")
    # verify holds the chains to the plan and to what joined since: before, all three set checks failed here.
    lines = world.cli("verify", str(world.plan_path)).stdout.splitlines()
    for name in ("Stake validators and weights", "PollingPlace validators and weights", "ProposerSet handed over"):
        line = next(line for line in lines if f"  {name}: " in line)
        assert line.startswith("pass"), line
    assert "5 validators, K0 weights match, 1 joined after K0" in "\n".join(lines)


def test_devnet_down_stops_every_validator_node(tmp_path: Path, world: ValidatorWorld) -> None:
    running = [entry for entry in devnet.load_validators(world.directory).values() if entry.is_ours()]
    assert len(running) == 4
    rows = [row for row in devnet.status(world.directory) if row["name"].startswith("validator-")]
    assert [row["running"] for row in rows] == [True] * 4
    devnet.stop_validators(world.directory)
    assert all(not entry.is_ours() for entry in running)
    assert "stopped cleanly" in world.logs()  # SIGTERM ends each node after its duty
    world.start_all()  # leave it as the fixture found it


def test_a_validator_short_of_base_coin_for_a_day_of_votes_is_named(world: ValidatorWorld) -> None:
    """The status panel's runway warning, on real chain state: validator 1's base coin cut to a few hundred
    votes' worth at the auxiliary chain's gas price (anvil_setBalance), far less than a day at 3-block epochs."""
    from mosaic_tui.monitor import VOTE_GAS

    status = world.status_json()
    row = status["rows"][0]
    assert not [w for w in status["warnings"] if "under a day" in w]
    price = int(world.aux_w3.eth.gas_price)
    address = row["auxiliary_address"]
    kept = world.aux_w3.eth.get_balance(address)
    devnet.rpc_call(world.deployed["auxiliary"]["rpc"], "anvil_setBalance", [address, hex(500 * VOTE_GAS * price)])
    try:
        warnings = world.status_json()["warnings"]
        named = [w for w in warnings if w.startswith(f"validator 1 ({address}) has base coin for ")]
        assert named and "more votes, under a day (57600 a day)" in named[0], warnings
        assert int(named[0].split("base coin for ")[1].split()[0]) <= 500
    finally:
        devnet.rpc_call(world.deployed["auxiliary"]["rpc"], "anvil_setBalance", [address, hex(kept)])


def test_meta_blocks_go_on_after_a_burst_of_gas_over_origin_cores_limit(world: ValidatorWorld) -> None:
    """OriginCore refuses a meta-block whose auxiliary gas since the last one is over maxAccumulateGasLimit (one
    epoch of full blocks). Four 29M-gas transactions (init code 0xfe burns all its gas) in a row put the newest
    finalised checkpoint over it while the last meta-block is older; the nodes then propose the newest earlier
    checkpoint that fits and catch up epoch by epoch. Before, they proposed only the newest, every proposal
    reverted and no meta-block was ever committed again."""
    aux_rpc = world.deployed["auxiliary"]["rpc"]
    limit = world.core.functions.maxAccumulateGasLimit().call()
    burner = "0x" + "b0" * 20  # no key: the auxiliary anvil sends for it (anvil_impersonateAccount)
    price = int(world.aux_w3.eth.gas_price)
    devnet.rpc_call(aux_rpc, "anvil_setBalance", [burner, hex(10**24)])
    devnet.rpc_call(aux_rpc, "anvil_impersonateAccount", [burner])
    committed_before = world.committed() or 0
    base_gas = world.core.functions.head().call()[4]
    hashes = [devnet.rpc_call(aux_rpc, "eth_sendTransaction", [{"from": burner, "data": "0xfe", "gas": hex(29_000_000),
                                                                "gasPrice": hex(price)}]) for _ in range(4)]

    def mined() -> list[dict[str, Any]] | None:
        receipts = [devnet.rpc_call(aux_rpc, "eth_getTransactionReceipt", [h]) for h in hashes]
        return receipts if all(receipts) else None

    receipts = wait_for(mined, 60, "the gas burners to be mined")
    burnt = sum(int(r["gasUsed"], 16) for r in receipts)
    last_burn_block = max(int(r["blockNumber"], 16) for r in receipts)
    assert burnt > limit  # more than any single meta-block may carry
    epoch = world.aux_store.functions.epochLength().call()
    # Meta-blocks keep committing until one commits an auxiliary checkpoint after the last burner's block.
    wait_for(lambda: world.core.functions.head().call()[3] * epoch > last_burn_block, 400,
             "a meta-block past the gas burst")
    head = world.core.functions.head().call()
    assert (world.committed() or 0) >= committed_before + 2
    assert head[4] - base_gas >= burnt  # the burst is in the meta-blocks, split between at least two of them
    assert "over OriginCore's limit" in world.logs() and "proposing checkpoint" in world.logs()
