"""Config for the auxiliary chain's authority nodes: an OpenEthereum node.toml and a compose sketch.

Written beside spec.json in step 3 for operators who run real Aura nodes (the devnet runs anvil
and needs neither). Like parity-deploy's output, these name every file a node needs, but keys and
passwords stay where the operator keeps them: the config only holds the signer's address and the
path of a password file, never the password.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlsplit

from mosaic_tui import units
from mosaic_tui.plan import Plan
from mosaic_tui.tomlio import dumps_toml

NODE_CONFIG = "node.toml"
COMPOSE_FILE = "docker-compose.yml"
SPEC_FILE = "spec.json"
NODE_IMAGE = "openethereum/openethereum:v3.3.5"  # the last OpenEthereum release; Nethermind reads spec.json too
CONTAINER_DIR = "/mosaic"
P2P_PORT = 30303
DEFAULT_RPC_PORT = 8546  # the auxiliary port rum expects
INITIAL_PROPOSER_NODE = "initial-proposer"


def password_file(node: str) -> str:
    """Where the node named `node` reads the password of its signer's keystore (relative to out/).

    The operator creates this file (mode 0600) next to the keystore; nothing here ever writes it.
    """
    return f"keys/{node}.pwd"


def validator_node(index: int) -> str:
    """The name of validator `index`'s authority node (its position in the plan, from 0)."""
    return f"validator-{index}"


def rpc_port(plan: Plan) -> int:
    return urlsplit(plan.auxiliary.rpc).port or DEFAULT_RPC_PORT


_NODE_HEADER = """\
OpenEthereum config of an authority node of auxiliary chain {chain_id} (mosaic-tui, step 3).
Start: openethereum --config {config}    (paths are relative to the directory you start it in)
Written for the initial proposer {signer}.
For a validator's node change engine_signer, unlock and password (or pass --engine-signer,
--unlock and --password, which override this file, as docker-compose.yml does).

[mining]: the bootstrap runs at a zero gas price first. The initial proposer sends its bootstrap
transactions through its own node, and a node accepts its own (local) transactions below
min_gas_price; every other transaction needs min_gas_price = {gas_price} wei, the kernel gas
price the chain runs at once step 4 has raised it.
force_sealing = false: the node seals once it has a transaction and then every step. Started just
before the bootstrap, it mines ProposerSet within the first blocks, and spec.json lets ProposerSet
choose the sealers from block {switch}. The signer's key lives in keys_path, unlocked with the
password file named below.
"""


def node_config(plan: Plan, signer: str, *, password: str | None = None, spec_file: str = SPEC_FILE,
                switch_block: int | None = None) -> str:
    """node.toml text for the authority node that seals as `signer` (an auxiliary address).

    `password` is the path of the signer's password file (default: the initial proposer node's
    `password_file`); `switch_block`, the first block ProposerSet governs in spec.json, only
    feeds the explanation in the header.
    """
    address = units.parse_address(signer, "engine_signer")
    aux = plan.auxiliary
    config = {
        "parity": {"chain": spec_file, "base_path": "data", "keys_path": "keys"},
        "network": {"port": P2P_PORT},
        "rpc": {"port": rpc_port(plan), "interface": "local", "apis": ["web3", "eth", "net", "parity"],
                "hosts": ["none"], "cors": ["none"]},
        "websockets": {"disable": True},
        "account": {"unlock": [address], "password": [password or password_file(INITIAL_PROPOSER_NODE)]},
        "mining": {
            "engine_signer": address,
            "reseal_on_txs": "all",
            "reseal_min_period": 0,
            "force_sealing": False,
            "min_gas_price": aux.gas_price,
            "gas_floor_target": str(aux.gas_limit),
            "gas_cap": str(aux.gas_limit),  # floor = cap: the block gas limit stays the planned one
        },
    }
    switch = f"{switch_block} on" if switch_block is not None else "that spec.json names on"
    header = _NODE_HEADER.format(chain_id=aux.chain_id, config=NODE_CONFIG, signer=address, gas_price=aux.gas_price,
                                 switch=switch)
    return dumps_toml(config, header=header)


def _yaml_list(key: str, items: Sequence[str]) -> str:
    # Every item double-quoted JSON-style, which YAML reads back verbatim.
    return f"    {key}:\n" + "".join(f"      - {json.dumps(item)}\n" for item in items)


def _service(plan: Plan, name: str, signer: str, host_port: int, p2p_port: int) -> str:
    inside = CONTAINER_DIR
    # Flags override node.toml, so one config file serves every node.
    command = ["--config", f"{inside}/{NODE_CONFIG}", "--engine-signer", signer, "--unlock", signer,
               "--password", f"{inside}/{password_file(name)}", "--base-path", f"{inside}/data",
               "--jsonrpc-interface", "all", "--jsonrpc-hosts", "all"]
    volumes = [f"./{SPEC_FILE}:{inside}/{SPEC_FILE}:ro", f"./{NODE_CONFIG}:{inside}/{NODE_CONFIG}:ro",
               f"./keys:{inside}/keys:ro", f"{name}-data:{inside}/data"]
    # RPC only on the host's loopback: the node unlocks its signer, so its RPC must not face the network.
    ports = [f"127.0.0.1:{host_port}:{rpc_port(plan)}", f"{p2p_port}:{P2P_PORT}"]
    return (f"  {name}:\n    image: {NODE_IMAGE}\n    working_dir: {inside}\n"
            + _yaml_list("command", command) + _yaml_list("volumes", volumes) + _yaml_list("ports", ports))


def compose_sketch(plan: Plan, initial_proposer: str, validator_signers: Sequence[str]) -> str:
    """docker-compose.yml text: the initial proposer's node and one authority node per validator.

    A sketch to start from (we never run docker): the nodes still need each other as peers, and
    each node's keystore and password file must be put under keys/ by the operator.
    """
    proposer = units.parse_address(initial_proposer, "initial proposer")
    signers = [units.parse_address(s, f"validators[{i}].auxiliary_address") for i, s in enumerate(validator_signers)]
    port = rpc_port(plan)
    lines = [
        f"# Authority nodes of Mosaic auxiliary chain {plan.auxiliary.chain_id} (mosaic-tui, step 3). A sketch:",
        "# mosaic-tui does not run docker. Before `docker compose up`, put each signer's keystore and",
        "# its password file (mode 0600, named in the service's --password) under ./keys, and list the",
        "# nodes as each other's reserved peers. Start initial-proposer first: it seals the bootstrap;",
        "# the validator nodes seal once ProposerSet has handed over to them (step 4).",
        f"name: mosaic-auxiliary-{plan.auxiliary.chain_id}",
        "services:",
    ]
    text = "\n".join(lines) + "\n" + _service(plan, INITIAL_PROPOSER_NODE, proposer, port, P2P_PORT)
    for index, signer in enumerate(signers):
        text += _service(plan, validator_node(index), signer, port + 1 + index, P2P_PORT + 1 + index)
    names = [INITIAL_PROPOSER_NODE, *(validator_node(i) for i in range(len(signers)))]
    return text + "volumes:\n" + "".join(f"  {name}-data: {{}}\n" for name in names)


__all__ = ["COMPOSE_FILE", "NODE_CONFIG", "compose_sketch", "node_config", "password_file", "rpc_port",
           "validator_node"]
