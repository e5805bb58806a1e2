"""`verify` on a live meta-blockchain: the devnet's validator nodes commit meta-blocks and open K1, K2, …
in OriginCore and prove them on the auxiliary chain.

Before this change verify demanded that the auxiliary active kernel equal OriginCore's open kernel and
the plan's K0, so verify on a running devnet failed as soon as the validators opened K1
(`test_verify_passes_once_the_validators_opened_and_proved_k1` failed on that code).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mosaic_tui import devnet
from tests.validator.world import ValidatorWorld, deploy_world, wait_for

pytestmark = pytest.mark.slow
CHECK = "active kernel is one OriginCore opened (K0 the plan's, at most the open one)"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValidatorWorld]:
    tmp = tmp_path_factory.mktemp("live-kernels")
    try:
        yield deploy_world(tmp)
    finally:
        devnet.down(tmp / "devnet")


def _line(printed: str) -> str:
    return next(line for line in printed.splitlines() if CHECK in line)


def test_verify_passes_once_the_validators_opened_and_proved_k1(world: ValidatorWorld) -> None:
    wait_for(lambda: world.kernels()[2] >= 1, 240, "the auxiliary chain to prove K1")
    result = world.cli("verify", str(world.plan_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    line = _line(result.stdout)
    assert line.startswith("pass") and "OriginCore open at K" in line
    active = int(line.split("active K", 1)[1].split(" ", 1)[0])
    assert active >= 1


def test_verify_names_an_active_kernel_origin_core_never_opened(world: ValidatorWorld, tmp_path: Path) -> None:
    world.stop(0, 1, 2, 3)  # the chains stand still while the kernel is forged
    active = bytes(world.gateway.functions.getActiveKernelHash().call())
    height = int(world.gateway.functions.activeKernelHeight().call())
    gateway = world.gateway.address
    slot = next(n for n in range(32) if bytes(world.aux_w3.eth.get_storage_at(gateway, n)) == active)
    forged = "0x" + "ab" * 32
    devnet.rpc_call(world.deployed["auxiliary"]["rpc"], "anvil_setStorageAt", [gateway, hex(slot), forged])

    result = world.cli("verify", str(world.plan_path))

    assert result.returncode == 1
    line = _line(result.stdout)
    assert line.startswith("FAIL")
    assert f"active kernel 0xabababababababab… at height {height} is not one OriginCore opened" in line
    opened = bytes(world.core.functions.kernelHashes(height).call())
    assert f"(OriginCore's K{height} is 0x{opened.hex()[:16]}…)" in line
