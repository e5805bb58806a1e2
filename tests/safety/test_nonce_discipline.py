"""Issue 13 item 6: nonce discipline that does not depend on a node's wording.

A rebroadcast after a restart is answered in each client's own words ("this transaction is already in
the TxPool", "Known transaction", "AlreadyKnown", "already known"), by a node that does not show pool
transactions through eth_getTransactionByHash. No wording may let an action be signed at a new nonce:
the resumed deployment ends with one OriginCore, one approval per approval action, and every sender's
nonce on chain equal to the transactions the journal holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import deploy, devnet, events, keys
from mosaic_tui.contracts import load_artifact
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.runner import create_address
from mosaic_tui.steps import origin, staking
from mosaic_tui.verify import code_matches
from tests.reliability import world as world_module
from tests.reliability.world import PASSPHRASE, World, chain_nonce, ledger, plan_dict, resent_actions
from tests.safety.rpc_dialect import REBROADCAST_WORDS, DialectProxy

ATTEMPT_LIMIT = 60.0


class Stopped(Exception):
    """Stands for the process dying right after a broadcast."""


@pytest.fixture
def world(anvil_factory: Any, tmp_path: Path) -> World:
    return world_module.make_world(anvil_factory(), tmp_path)


@pytest.fixture
def dialect_proxy(world: World) -> Iterator[DialectProxy]:
    proxy = DialectProxy(world.node.rpc_url).start()
    yield proxy
    proxy.stop()


def attempt(plan_path: Path, hook: Callable[[events.Event], None]) -> str:
    deadline = time.monotonic() + ATTEMPT_LIMIT  # a run that never ends is a failed attempt, not a hung test
    try:
        deploy.execute(deploy.prepare(plan_path), hook, steps=[origin.step, staking.step],
                       should_stop=lambda: time.monotonic() > deadline)
    except Stopped:
        return "stopped"
    except StepFailed as failure:
        return f"failed: {failure}"
    return "done"


def origin_cores_of(world: World, deployer: str) -> int:
    artifact = load_artifact("OriginCore")
    w3 = world.node.w3
    return sum(code_matches(bytes(w3.eth.get_code(create_address(deployer, n))), artifact)
               for n in range(chain_nonce(world.node.rpc_url, deployer)))


@pytest.mark.parametrize("client", sorted(REBROADCAST_WORDS))
def test_a_rebroadcast_answered_in_any_clients_words_never_leads_to_a_second_signature(
        world: World, dialect_proxy: DialectProxy, monkeypatch: pytest.MonkeyPatch, client: str) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)
    url = world.node.rpc_url
    plan_path = world.directory / "mosaic-plan.toml"
    plan_path.write_text(tomli_w.dumps(plan_dict(world, 2, **{"origin.rpc": dialect_proxy.url})))

    def mine() -> None:
        devnet.rpc_call(url, "evm_mine")

    # 1. OriginCore and OSTGateway are broadcast; the node holds them unmined; the process dies.
    devnet.rpc_call(url, "evm_setAutomine", [False])

    def die_after_origin_core(event: events.Event) -> None:
        if isinstance(event, events.TxSent) and event.action == "1.deploy_origin_core":
            raise Stopped

    assert attempt(plan_path, die_after_origin_core) == "stopped"

    # 2. From now on the node answers a rebroadcast in this client's words and hides pool transactions.
    dialect_proxy.rebroadcast_error = REBROADCAST_WORDS[client]
    dialect_proxy.hide_pending = True

    def mine_then_die_after_approvals(event: events.Event) -> None:
        if isinstance(event, events.TxSent) and event.rebroadcast and event.action.startswith("1."):
            mine()
        if isinstance(event, events.TxSent) and event.action == "2.approve_stake.0" and not event.rebroadcast:
            raise Stopped

    outcomes = [attempt(plan_path, mine_then_die_after_approvals)]
    # 3. Whatever happened, the operator runs the same command again (the node mines again) until it ends.
    devnet.rpc_call(url, "evm_setAutomine", [True])
    mine()
    while outcomes[-1] != "done" and len(outcomes) < 4:
        outcomes.append(attempt(plan_path, lambda event: None))
    deployer = world.accounts[0].address
    assert origin_cores_of(world, deployer) == 1, outcomes
    assert outcomes[-1] == "done", outcomes
    assert dialect_proxy.answered_in_dialect > 0, "the rebroadcasts were never answered in the client's words"
    nonces, journalled = ledger(plan_path)
    assert nonces == journalled  # every transaction on chain is one the journal holds: no second approval
    assert resent_actions(plan_path) == []
    journal = Journal.load(journal_path(plan_path))
    assert journal.is_step_done("2")
    for index in range(2):
        assert chain_nonce(url, world.accounts[1 + index].address) == 3  # two approvals, one gateway stake
