"""A second origin client beside anvil and geth: ganache 7 (EthereumJS), pinned and installed from npm
like anvil, runs one whole deployment as the origin chain, with the deployer as its unlocked account
(`node`; ganache's eth_signTransaction answers the raw transaction only, like anvil's) and the set-up
block two blocks deep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.origin.conftest import make_origin_world, run_deployment, world_plan, write_plan

pytestmark = pytest.mark.slow


def test_a_whole_deployment_with_ganache_as_origin_verifies(ganache: Any, operator: Any, passphrase: Any,
                                                           tmp_path: Path) -> None:
    world = make_origin_world(ganache.w3, ganache.rpc_url, tmp_path, 2)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations=2))
    operator.watch(plan_path)

    deployed = run_deployment(plan_path)

    assert deployed.failed_checks() == []
    assert any(w.startswith(f"set-up block {deployed.outputs['setup_block_number']} confirmed in ~")
               for w in deployed.waits())
