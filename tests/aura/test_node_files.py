"""The authority node files: Nethermind configs, node keys, keystore layout and the compose file.

Before issue 11 step 3 wrote one OpenEthereum node.toml without peers, keys or sealing; every test
here failed on that code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from mosaic_tui import authority
from mosaic_tui.plan import Plan, load_plan

from .client_fields import ENODE, check_node_config

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "example-plan.toml"
PROPOSER = Account.from_key(keccak(text="mosaic-tui aura node files proposer"))


@pytest.fixture
def plan() -> Plan:
    return load_plan(EXAMPLE)


def write(out: Path, plan: Plan) -> list[authority.Node]:
    nodes = authority.load_or_create_nodes(out, plan, PROPOSER.address)
    spec = json.dumps({"nodes": [n.enode for n in nodes]}).encode()
    authority.write_node_files(out, plan, nodes, spec, signer_keys={PROPOSER.address: bytes(PROPOSER.key)})
    return nodes


def test_every_node_gets_a_config_a_key_and_every_other_node_as_static_peer(tmp_path: Path, plan: Plan) -> None:
    nodes = write(tmp_path, plan)
    assert [n.name for n in nodes] == ["initial-proposer", "validator-0", "validator-1", "validator-2"]
    assert len({n.enode for n in nodes}) == 4 and all(ENODE.match(n.enode) for n in nodes)
    for node in nodes:
        config = json.loads((tmp_path / "nodes" / node.name / "nethermind.cfg").read_text())
        assert check_node_config(config) == []
        assert config["KeyStore"]["BlockAuthorAccount"] == node.signer
        assert config["Aura"] == {"AllowAuRaPrivateChains": True, "ForceSealing": True}
        assert config["Blocks"]["MinGasPrice"] == plan.auxiliary.gas_price
        assert config["Mining"]["Enabled"] is True
        peers = set(config["Network"]["StaticPeers"].split(","))
        assert peers == {n.enode for n in nodes} - {node.enode}
        key = tmp_path / "nodes" / node.name / "keystore" / "node.key.plain"
        assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    signers = [PROPOSER.address, *(v.auxiliary_address for v in plan.validators)]
    assert [n.signer for n in nodes] == signers


def test_the_proposer_keystore_opens_with_its_password_file(tmp_path: Path, plan: Plan) -> None:
    write(tmp_path, plan)
    keystore = tmp_path / "nodes" / "initial-proposer" / "keystore"
    (file,) = keystore.glob("UTC--*")
    assert file.name.endswith(PROPOSER.address[2:].lower())
    password = (keystore / "signer.pwd").read_text()
    assert Account.decrypt(json.loads(file.read_text()), password) == PROPOSER.key
    for secret in (file, keystore / "signer.pwd"):
        assert secret.stat().st_mode & 0o777 == 0o600
    assert keystore.stat().st_mode & 0o777 == 0o700
    # Validators' keys are theirs: no keystore is written for them.
    assert not list((tmp_path / "nodes" / "validator-0" / "keystore").glob("UTC--*"))


def test_node_keys_are_kept_across_runs(tmp_path: Path, plan: Plan) -> None:
    first = [n.enode for n in write(tmp_path, plan)]
    keystore = next((tmp_path / "nodes" / "initial-proposer" / "keystore").glob("UTC--*")).read_bytes()
    second = [n.enode for n in write(tmp_path, plan)]
    assert first == second
    assert next((tmp_path / "nodes" / "initial-proposer" / "keystore").glob("UTC--*")).read_bytes() == keystore


def test_compose_runs_every_node_as_uid_1000_on_volumes_it_owns(tmp_path: Path, plan: Plan) -> None:
    nodes = write(tmp_path, plan)
    text = (tmp_path / "docker-compose.yml").read_text()
    services = re.findall(r"^  ([a-z0-9-]+):$", text, re.MULTILINE)
    assert services[:5] == ["prepare", *(n.name for n in nodes)]
    # `prepare` hands each node's volume to uid 1000 with its secrets 0600, whatever the host's uid is.
    assert text.count('user: "1000:1000"') == len(nodes)
    for node in nodes:
        assert f"chown -R 1000:1000 /volumes/{node.name}" in text
        assert f"ipv4_address: {node.host}" in text
    assert text.count("condition: service_completed_successfully") == len(nodes)
    assert re.findall(r'"127\.0\.0\.1:(\d+):8546"', text) == ["8546", "8547", "8548", "8549"]


def test_a_deployer_stake_too_small_for_the_proposers_gas_is_bad_input(tmp_path: Path, plan: Plan) -> None:
    """The genesis pays the proposer exactly the deployer's gateway stake; below step 4's gas at the kernel gas
    price the auxiliary chain could never be initialized, so the plan is refused before any transaction."""
    import tomllib

    from mosaic_tui.errors import InputErrors
    from mosaic_tui.plan import plan_from_dict

    data = tomllib.loads(EXAMPLE.read_text())
    data["origin"]["deployer_gateway_stake"] = "1 gwei"
    with pytest.raises(InputErrors) as raised:
        plan_from_dict(data)
    problems = [e for e in raised.value.errors if e.field == "origin.deployer_gateway_stake"]
    assert len(problems) == 1 and "step-4 transactions" in problems[0].message
    assert not [e for e in plan.problems() if e.field == "origin.deployer_gateway_stake"]
