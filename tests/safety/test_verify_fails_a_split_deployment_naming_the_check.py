"""Issue 13, item 7: `verify` checks every cross-reference and every deployer nonce.

The audit's split deployment passed 15/15: the journal named an OSTGateway whose `core` was another
OriginCore (signed at a nonce the journal never held). Here a real devnet deployment is verified,
then split the same way on the real origin chain, and verified again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mosaic_tui import cli, devnet, keys
from mosaic_tui.journal import journal_path
from mosaic_tui.plan import load_plan
from mosaic_tui.steps.origin import _origin_core_args
from tests.helpers import deploy as deploy_contract


@pytest.fixture
def deployed(tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    out = tmp_path / "out"
    code = cli.main(["deploy", "--devnet", "--validators", "2", "--yes", "--out", str(out),
                     "--origin-port", str(devnet.free_port()), "--auxiliary-port", str(devnet.free_port())])
    printed = capsys.readouterr()
    try:
        assert code == 0, printed.out[-3000:] + printed.err
        yield out / "mosaic-plan.toml"
    finally:
        devnet.down(devnet.default_dir())


def verify(plan: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["verify", str(plan)])
    return code, capsys.readouterr().out


class _Ctx:
    """Just enough of a Deployment for the OriginCore constructor arguments the deployment used."""

    def __init__(self, plan: Any, outputs: dict[str, Any]) -> None:
        self.plan, self._outputs = plan, outputs

    def out(self, key: str) -> Any:
        return self._outputs[key]

    @property
    def outputs(self) -> Any:
        from mosaic_tui.steps.outputs import Outputs

        return Outputs(self.out)


def test_a_gateway_wired_to_another_origin_core_fails_verify_naming_the_check(
        deployed: Path, capsys: pytest.CaptureFixture[str], figure: Any) -> None:
    code, printed = verify(deployed, capsys)
    assert code == 0, printed
    passed = int(re.search(r"(\d+) passed, 0 failed", printed)[1])  # type: ignore[index]
    assert "pass  OSTGateway.core is the deployment's origin_core" in printed
    assert re.search(r"pass  origin nonces of 0x[0-9a-f]{40} accounted for by the journal", printed)

    # The split: a look-alike OriginCore and a gateway wired to it, signed by the deployer outside the
    # journal, and the journal pointing at that gateway.
    plan = load_plan(deployed)
    path = journal_path(deployed)
    data = json.loads(path.read_text())
    outputs = {k: v for step in data["steps"].values() for k, v in step["outputs"].items()}
    w3 = devnet.AnvilNode("origin", "127.0.0.1", int(plan.origin.rpc.rsplit(":", 1)[1]), 0, 0).w3
    deployer = keys.dev_signer(0)._account
    other_core = deploy_contract(w3, "OriginCore", *_origin_core_args(_Ctx(plan, outputs)), sender=deployer)
    other_gateway = deploy_contract(w3, "OSTGateway", outputs["ost"], other_core.address, sender=deployer)
    step = next(s for s in data["steps"].values() if "ost_gateway" in s["outputs"])
    step["outputs"]["ost_gateway"] = other_gateway.address
    path.write_text(json.dumps(data))

    code, printed = verify(deployed, capsys)
    assert code == 1, printed
    assert f"FAIL  OSTGateway.core is the deployment's origin_core: {other_core.address}, but the deployment's " \
           f"origin_core is {outputs['origin_core']}: a split deployment" in printed
    assert f"FAIL  OSTPrime.ostGateway is the deployment's ost_gateway: {outputs['ost_gateway']}" in printed
    nonces = re.search(rf"FAIL  origin nonces of {deployer.address.lower()} accounted for by the journal: "
                       r"the chain counts (\d+) transactions, the journal has none for nonce (\d+), (\d+)", printed)
    assert nonces, printed
    figure(f"split deployment: {passed} checks passed before the split; after it verify fails "
           f"{len(re.findall(r'^FAIL', printed, re.M))} checks, naming the gateway's core and the deployer's "
           f"unjournalled nonces {nonces[2]} and {nonces[3]}")
