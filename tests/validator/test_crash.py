"""A validator node killed with SIGKILL at random points (and right after each kind of ledger write)
resumes from its ledger without a second signature for any vote: on the real devnet, every vote
transaction it ever sent, mined or reverted, carries one signature per target height.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import devnet, export
from mosaic_tui.plan import load_plan
from mosaic_tui.validator.ledger import CRASH_ENV, Ledger
from tests.validator.world import ValidatorWorld, deploy_world, wait_for

VICTIM = 1  # not the first validator, which reports headers: the crash must not stall the others
ROUNDS = 10


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValidatorWorld]:
    tmp = tmp_path_factory.mktemp("crash")
    try:
        # The nodes give up on vanished chains after 15 s instead of 60 (the last test waits for that).
        yield deploy_world(tmp, MOSAIC_TUI_DEVNET_GONE_SECONDS="15")
    finally:
        devnet.down(tmp / "devnet")


def start_node(world: ValidatorWorld, env_file: Path, log: Path, crash_after: str | None) -> subprocess.Popen[bytes]:
    env = dict(world.env)
    if crash_after is not None:
        env[CRASH_ENV] = crash_after
    with open(log, "ab") as stream:
        return subprocess.Popen([sys.executable, "-m", "mosaic_tui.cli", "validator", "run", str(env_file)],
                                stdout=stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)


def sent_votes(world: ValidatorWorld, sender: str, contract: Any, function: str) -> list[dict[str, Any]]:
    """Every transaction `sender` sent to `contract`'s `function` on its chain, decoded, mined or reverted."""
    w3 = contract.w3
    found = []
    for number in range(1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True).transactions:
            if tx["from"] != sender or tx["to"] != contract.address:
                continue
            called, args = contract.decode_function_input(tx["input"])
            if called.fn_name == function:
                found.append(dict(args))
    return found


def test_sigkill_at_random_points_never_signs_a_vote_twice(world: ValidatorWorld, tmp_path: Path) -> None:
    plan = load_plan(world.plan_path)
    env_file = world.out / export.env_file_name(plan, VICTIM)
    victim = plan.validators[VICTIM]
    world.stop(VICTIM)
    seed = random.randrange(1 << 30)
    print(f"crash test seed {seed}")
    chooser = random.Random(seed)
    log = tmp_path / "victim.log"
    place = world.polling_place
    core = bytes.fromhex(plan.core_identifier[2:])
    kills = 0
    for round_ in range(ROUNDS):
        before = place.functions.lastTargetHeight(core, victim.auxiliary_address).call()
        if round_ % 2 == 0:
            # Killed by itself right after its k-th ledger write: between a signature on disk and its broadcast.
            # Twice right after journalling a transaction, before its broadcast (with random write counts only,
            # some runs never hit that point); otherwise after a random k-th write.
            crash_after = "pending" if round_ in (0, 6) else str(chooser.randint(1, 4))
            process = start_node(world, env_file, log, crash_after=crash_after)
            process.wait(timeout=120)
            assert process.returncode == -signal.SIGKILL
        else:
            process = start_node(world, env_file, log, crash_after=None)
            time.sleep(chooser.uniform(0.5, 6.0))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        kills += 1
        assert place.functions.lastTargetHeight(core, victim.auxiliary_address).call() >= before
    # Back for good: it catches up and votes with the others again.
    process = start_node(world, env_file, log, crash_after=None)
    try:
        stuck = place.functions.lastTargetHeight(core, victim.auxiliary_address).call()
        wait_for(lambda: place.functions.lastTargetHeight(core, victim.auxiliary_address).call() > stuck + 10,
                 180, "the restarted validator to vote again")
        committed = world.committed() or 0
        wait_for(lambda: (world.committed() or 0) > committed, 180, "another committed meta-block")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    text = log.read_text()
    assert "stopped cleanly" in text and "Traceback" not in text
    # Some crash came between a journalled transaction and its broadcast, and the restart sent those bytes.
    assert "resume: " in text, text
    assert kills == ROUNDS

    # One signature per (chain, target height) among every vote transaction ever sent ...
    by_height: dict[tuple[bytes, int], set[tuple[Any, ...]]] = defaultdict(set)
    votes = sent_votes(world, victim.auxiliary_address, place, "vote")
    for args in votes:
        by_height[(args["coreIdentifier"], args["targetHeight"])].add(
            (args["source"], args["target"], args["transitionHash"], args["v"], args["r"], args["s"]))
    assert votes and all(len(signed) == 1 for signed in by_height.values()), \
        by_hight_items(by_height)
    # ... and one per meta-block on origin.
    origin_votes = sent_votes(world, victim.origin_address, world.core, "verifyVote")
    per_target: dict[int, set[tuple[Any, ...]]] = defaultdict(set)
    for args in origin_votes:
        per_target[args["targetHeight"]].add((args["transitionHash"], args["v"], args["r"], args["s"]))
    assert all(len(signed) == 1 for signed in per_target.values())
    # The ledger knows every vote that reached the chain (it was written before each one left).
    ledger = Ledger(world.out / env_file.name.replace(".env", ".validator.json"))
    for (identifier, height), signed in by_height.items():
        entry = ledger.vote(identifier.hex(), height)
        if entry is not None:
            (only,) = signed
            assert entry["r"] == "0x" + bytes(only[4]).hex()


def by_hight_items(mapping: dict[Any, Any]) -> list[tuple[Any, Any]]:
    return [(key, value) for key, value in mapping.items() if len(value) > 1]


def test_a_node_rides_out_ten_seconds_without_its_auxiliary_rpc(world: ValidatorWorld, tmp_path: Path) -> None:
    """The node's auxiliary RPC goes through a TCP proxy of ours that resets every connection for 10 s (a node
    restarting, a load balancer dropping it): the node says it retries, stays up, and votes again once the
    RPC is back; nothing is signed twice (the test above checks the ledger's rule on every vote sent)."""
    from urllib.parse import urlparse

    from tests.reliability.proxy import FaultyProxy

    plan = load_plan(world.plan_path)
    victim = plan.validators[VICTIM]
    world.stop(VICTIM)
    proxy = FaultyProxy(urlparse(world.deployed["auxiliary"]["rpc"]).port or 0).start()
    env_file = tmp_path / "through-proxy.env"
    env_file.write_text("".join(
        f"MOSAIC_AUXILIARY_ENDPOINT={proxy.url}\n" if line.startswith("MOSAIC_AUXILIARY_ENDPOINT=") else line + "\n"
        for line in (world.out / export.env_file_name(plan, VICTIM)).read_text().splitlines()))
    env_file.chmod(0o600)
    log = tmp_path / "outage.log"
    place = world.polling_place
    core = bytes.fromhex(plan.core_identifier[2:])

    def last_vote() -> int:
        return int(place.functions.lastTargetHeight(core, victim.auxiliary_address).call())

    process = start_node(world, env_file, log, crash_after=None)
    try:
        before = last_vote()
        wait_for(lambda: last_vote() > before, 120, "the node to vote through the proxy")
        proxy.cut()
        time.sleep(10)
        assert process.poll() is None, log.read_text()  # still running
        assert proxy.refused > 0
        proxy.restore()
        during = last_vote()
        wait_for(lambda: last_vote() > during, 120, "the node to vote again once its RPC is back")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        proxy.stop()
    text = log.read_text()
    assert f"the auxiliary RPC {proxy.url} is not answering" in text and "retrying" in text, text
    assert "stopped cleanly" in text and "Traceback" not in text


def test_a_devnet_node_stops_itself_once_its_chains_are_gone(world: ValidatorWorld) -> None:
    """Nodes outlive chains stopped without `devnet down` (a test fixture that stops only the anvil
    nodes): a devnet's node notices and exits instead of retrying for ever."""
    running = [entry for entry in devnet.load_validators(world.directory).values() if entry.is_ours()]
    assert running
    for node in devnet.load_record(world.directory).values():
        node.stop()
    wait_for(lambda: not any(entry.is_ours() for entry in running), 180, "the validator nodes to stop by themselves")
    assert "have not answered for 15 s" in world.logs()
