"""`genesis verify` long after the set-up block, against an origin node that has dropped that block's state.

The origin node sits behind the proxy of tests/origin that answers state and proof calls only for the
latest 16 blocks, with geth's own error. Before this change `genesis verify` called eth_getProof at
the set-up block and failed there (`test_genesis_verify_passes_after_the_set_up_state_left_the_window`
failed on that code); now it checks the kept proofs (the journal's, or the coordinator's exported
setup-proofs.json) against the state root of the set-up block's header.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import cli, devnet
from mosaic_tui.journal import Journal, journal_path
from tests.origin.conftest import Operator, make_origin_world, passphrase, run_deployment, world_plan, write_plan
from tests.origin.rpc_proxy import RpcProxy
from tests.validator.world import wait_for

pytestmark = pytest.mark.slow
__all__ = ["passphrase"]  # the fixture, shared with the origin suite
WINDOW = 16




@pytest.fixture
def pruned_origin(anvil_factory: Any) -> Iterator[tuple[devnet.AnvilNode, RpcProxy]]:
    node = anvil_factory(block_time=0.2)
    proxy = RpcProxy(node.rpc_url, state_window=WINDOW).start()
    yield node, proxy
    proxy.stop()


def _genesis_verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["genesis", "verify", *args])
    printed, err = capsys.readouterr()
    return code, printed, err


def test_genesis_verify_passes_after_the_set_up_state_left_the_window(
        pruned_origin: tuple[devnet.AnvilNode, RpcProxy], anvil_factory: Any, passphrase: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    node, proxy = pruned_origin
    operator = Operator(anvil_factory)
    world = make_origin_world(node.w3, proxy.url, tmp_path, 1)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations=0))
    try:
        operator.watch(plan_path)
        deployed = run_deployment(plan_path)
    finally:
        operator.stop.set()
        for thread in operator.threads:
            thread.join(30)
    capsys.readouterr()
    outputs = Journal.load(journal_path(plan_path)).outputs()
    number, genesis_hash = int(outputs["setup_block_number"]), outputs["genesis_hash"]
    assert deployed.failed_checks() == []
    wait_for(lambda: node.w3.eth.block_number > number + WINDOW, 60, "the set-up block to leave the state window")

    # The coordinator, with the journal.
    code, printed, err = _genesis_verify(capsys, str(plan_path))
    assert code == 0, err
    assert printed.startswith("OK") and genesis_hash in printed and "the journal's kept proofs" in printed

    # A validator without the journal: the plan, the genesis files, deployment.toml and setup-proofs.json.
    validator = tmp_path / "validator"
    validator.mkdir()
    out = tmp_path / "out"
    for name in ("genesis.json", "spec.json", "deployment.toml", "setup-proofs.json"):
        shutil.copy(out / name, validator / name)
    shutil.copy(plan_path, validator / "mosaic-plan.toml")
    code, printed, err = _genesis_verify(capsys, str(validator / "mosaic-plan.toml"), "--genesis",
                                         str(validator / "genesis.json"))
    assert code == 0, err
    assert genesis_hash in printed and "setup-proofs.json" in printed
    assert proxy.too_old == []  # nobody asked the node for the set-up block's state

    # The exported proofs are checked, not trusted: one edited byte in a proof node is refused.
    document = json.loads((validator / "setup-proofs.json").read_text())
    nodes = document["origin_core"]["accountProof"]
    nodes[0] = nodes[0][:-2] + ("00" if nodes[0][-2:] != "00" else "01")
    (validator / "setup-proofs.json").write_text(json.dumps(document))
    code, printed, err = _genesis_verify(capsys, str(validator / "mosaic-plan.toml"), "--genesis",
                                         str(validator / "genesis.json"))
    assert code == 1 and "DIFFERS" in err and "does not hash to the set-up block's state root" in err

    # Without kept proofs the node is asked, and it no longer has that state: said so, with what to do.
    (validator / "setup-proofs.json").unlink()
    code, printed, err = _genesis_verify(capsys, str(validator / "mosaic-plan.toml"), "--genesis",
                                         str(validator / "genesis.json"))
    assert code == 1 and "Traceback" not in err
    assert f"CANNOT CHECK  the origin node no longer has the state of the set-up block {number}" in err
    assert "historical state" in err and "setup-proofs.json" in err
    assert proxy.too_old == ["eth_getProof"]
