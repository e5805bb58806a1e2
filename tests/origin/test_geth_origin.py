"""geth --dev as the origin chain: what operators really point this tool at.

A whole deployment runs on it (the deployer is the node's unlocked developer account, `node` in the
plan; the validators are keystore accounts it funded) with the set-up block waiting for geth's own
"finalized" block, and `verify` passes. geth's headers decode in the contracts, its proofs check out,
and its 128-block state window is met for real: the kept proofs finish a deployment whose set-up
block state geth no longer has.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import keccak, to_checksum_address

from mosaic_tui import events
from mosaic_tui.chain import proofs
from mosaic_tui.chain.header import verified_header
from mosaic_tui.devnet import DevnetError
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.setup_block import kept_proofs
from tests.helpers import deploy as deploy_contract
from tests.origin.conftest import make_origin_world, run_deployment, world_plan, write_plan
from tests.origin.geth import STATE_WINDOW

pytestmark = pytest.mark.slow


def test_a_whole_deployment_on_geth_waits_for_finality_and_verifies(geth_factory: Any, operator: Any, passphrase: Any,
                                                                     tmp_path: Path) -> None:
    geth = geth_factory(period=1)
    world = make_origin_world(geth.w3, geth.rpc_url, tmp_path, 2)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations="finalized"))
    operator.watch(plan_path)

    deployed = run_deployment(plan_path)

    assert deployed.failed_checks() == []
    outputs = deployed.outputs
    setup = int(outputs["setup_block_number"])
    finalized = int(geth.rpc("eth_getBlockByNumber", "finalized", False)["number"], 16)
    assert finalized >= setup
    # The wait was shown in the words of the issue: "set-up block 1234 finalised in ~6 min, 31/64".
    waits = [w for w in deployed.waits() if w.startswith(f"set-up block {setup} finalised in ~")]
    assert waits and all(w.rsplit(", ", 1)[1].count("/") == 1 for w in waits)
    # The deployer was geth's own unlocked account: it signed step 1.
    senders = {e.sender for e in Journal.load(journal_path(plan_path)).entries() if e.action_id.startswith("1.")}
    assert senders == {to_checksum_address(geth.dev_account)}
    print("\n".join(waits))
