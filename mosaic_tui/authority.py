"""Files for the auxiliary chain's authority nodes: Nethermind configs, node keys, keystores, compose.

Written beside spec.json in step 3 for operators who run real AuRa nodes (the devnet runs anvil and
needs none of them). Nethermind is the client: it is the maintained AuRa implementation (Gnosis
Chain runs on it). OpenEthereum configs are no longer written: OpenEthereum 3.3.5 was its last
release (2022), it gets no security fixes, and it treats transactions sent over its own RPC as local
ones that bypass `min_gas_price`, so the kernel gas price would be one node's policy only. spec.json
stays in the format both read.

Layout under out/nodes/<node>/ (what the container sees at /data):
  nethermind.cfg          the node's config (JSON; every key one Nethermind reads)
  spec.json               a copy of out/spec.json (Nethermind wants a path it can open)
  keystore/node.key.plain the node's p2p key, 32 raw bytes, 0600 (Nethermind's EnodeKeyFile)
  keystore/UTC--…--<addr> the signer's encrypted keystore, where we hold the signer's key (0600)
  keystore/signer.pwd     its password file (0600); a validator writes both of its own
The enode URLs of all nodes are in every config's Network.StaticPeers and in spec.json `nodes`.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mosaic_tui import units
from mosaic_tui.fsio import atomic_write
from mosaic_tui.plan import Plan

NODES_DIR = "nodes"
NODE_CONFIG = "nethermind.cfg"
COMPOSE_FILE = "docker-compose.yml"
SPEC_FILE = "spec.json"
NODE_IMAGE = "nethermind/nethermind:1.31.11"
NODE_UID = 1000  # the user the Nethermind image runs as
CONTAINER_DIR = "/data"
KEYSTORE_DIR = "keystore"
NODE_KEY_FILE = "node.key.plain"
PASSWORD_FILE = "signer.pwd"
P2P_PORT = 30303
DEFAULT_RPC_PORT = 8546  # the auxiliary port rum expects
INITIAL_PROPOSER_NODE = "initial-proposer"
SUBNET = "172.28.0"  # the compose network; node i gets .10+i, which its enode URL names
FIRST_HOST = 10


def validator_node(index: int) -> str:
    """The name of validator `index`'s authority node (its position in the plan, from 0)."""
    return f"validator-{index}"


def rpc_port(plan: Plan) -> int:
    return urlsplit(plan.auxiliary.rpc).port or DEFAULT_RPC_PORT


@dataclass(frozen=True)
class Node:
    name: str
    signer: str  # the auxiliary address it seals with
    host: str  # its IP on the compose network
    node_key: bytes  # p2p key (secret)

    @property
    def enode(self) -> str:
        from eth_keys import keys

        public = keys.PrivateKey(self.node_key).public_key.to_bytes().hex()
        return f"enode://{public}@{self.host}:{P2P_PORT}"


def node_names(plan: Plan) -> list[str]:
    return [INITIAL_PROPOSER_NODE, *(validator_node(i) for i in range(len(plan.validators)))]


def load_or_create_nodes(out_dir: str | os.PathLike[str], plan: Plan, initial_proposer: str) -> list[Node]:
    """The authority nodes, with the p2p keys found under out/nodes or new ones (written 0600).

    Keys once written are kept, so a re-run writes the same enode URLs and the same spec.json.
    """
    signers = [units.parse_address(initial_proposer, "auxiliary.initial_proposer"),
               *(units.parse_address(v.auxiliary_address, f"validators[{i}].auxiliary_address")
                 for i, v in enumerate(plan.validators))]
    nodes = []
    for index, (name, signer) in enumerate(zip(node_names(plan), signers, strict=True)):
        path = Path(out_dir) / NODES_DIR / name / KEYSTORE_DIR / NODE_KEY_FILE
        if path.is_file() and len(key := path.read_bytes()) == 32:
            node_key = key
        else:
            node_key = secrets.token_bytes(32)
            atomic_write(path, node_key, secret=True)
        nodes.append(Node(name, signer, f"{SUBNET}.{FIRST_HOST + index}", node_key))
    return nodes


def node_config(plan: Plan, node: Node, peers: Sequence[Node]) -> dict[str, object]:
    """The Nethermind config of one authority node (paths as the container sees them)."""
    aux = plan.auxiliary
    keystore = f"{CONTAINER_DIR}/{KEYSTORE_DIR}"
    return {
        "Init": {"ChainSpecPath": f"{CONTAINER_DIR}/{SPEC_FILE}", "BaseDbPath": f"{CONTAINER_DIR}/db",
                 "LogFileName": f"{node.name}.log", "WebSocketsEnabled": False},
        "JsonRpc": {"Enabled": True, "Host": "0.0.0.0", "Port": rpc_port(plan),  # published on 127.0.0.1 only
                    "EnabledModules": ["Eth", "Net", "Web3", "Parity"]},
        "Mining": {"Enabled": True},
        "KeyStore": {"KeyStoreDirectory": keystore, "EnodeKeyFile": NODE_KEY_FILE,
                     "BlockAuthorAccount": node.signer, "UnlockAccounts": [node.signer],
                     "PasswordFiles": [f"{keystore}/{PASSWORD_FILE}"]},
        # AllowAuRaPrivateChains: Nethermind refuses AuRa on a chain it does not know without it.
        # ForceSealing: seal every step, empty or not, as AuRa validators do (blocks are the clock).
        "Aura": {"AllowAuRaPrivateChains": True, "ForceSealing": True},
        "Blocks": {"MinGasPrice": aux.gas_price, "TargetBlockGasLimit": aux.gas_limit},
        "Network": {"P2PPort": P2P_PORT, "DiscoveryPort": P2P_PORT, "ExternalIp": node.host, "LocalIp": node.host,
                    "StaticPeers": ",".join(p.enode for p in peers if p.name != node.name), "OnlyStaticPeers": True},
    }


def write_node_files(out_dir: str | os.PathLike[str], plan: Plan, nodes: Sequence[Node], spec_bytes: bytes,
                     *, signer_keys: dict[str, bytes] | None = None) -> dict[str, Path]:
    """Write every node's config, spec copy and (where `signer_keys` holds its key) keystore.

    `signer_keys` maps a signer address to its private key; its keystore is encrypted with a new
    random password written beside it (both 0600). An existing keystore is kept.
    """
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for node in nodes:
        base = out / NODES_DIR / node.name
        (base / KEYSTORE_DIR).mkdir(parents=True, exist_ok=True)
        (base / KEYSTORE_DIR).chmod(0o700)
        paths[node.name] = atomic_write(base / NODE_CONFIG, (json.dumps(node_config(plan, node, nodes), indent=2)
                                                             + "\n").encode())
        atomic_write(base / SPEC_FILE, spec_bytes)
        key = (signer_keys or {}).get(node.signer)
        keystore = base / KEYSTORE_DIR
        if key is not None and not any(keystore.glob(f"UTC--*--{node.signer[2:].lower()}")):
            from eth_account import Account

            password = secrets.token_urlsafe(24)
            encrypted = Account.encrypt(key, password)
            atomic_write(keystore / PASSWORD_FILE, password.encode(), secret=True)
            atomic_write(keystore / f"UTC--2000-01-01T00-00-00.000000000Z--{node.signer[2:].lower()}",
                         json.dumps(encrypted).encode(), secret=True)
    paths["compose"] = atomic_write(out / COMPOSE_FILE, compose_file(plan, nodes).encode())
    return paths


def compose_file(plan: Plan, nodes: Sequence[Node]) -> str:
    """docker-compose.yml: a one-shot `prepare` service, then one Nethermind service per node.

    The image runs as uid 1000. `prepare` (root) copies each node's files from the read-only bind
    mount into the node's named volume, owned by 1000 and with the secrets 0600, so neither the
    host user's uid nor the files' modes on the host matter.
    """
    port = rpc_port(plan)
    names = [n.name for n in nodes]
    copy = " && ".join(
        f"mkdir -p /volumes/{n} && cp -R /nodes/{n}/. /volumes/{n}/ && chown -R {NODE_UID}:{NODE_UID} /volumes/{n}"
        f" && chmod 700 /volumes/{n}/{KEYSTORE_DIR} && chmod 600 /volumes/{n}/{KEYSTORE_DIR}/*" for n in names)
    lines = [
        f"# Authority nodes of Mosaic auxiliary chain {plan.auxiliary.chain_id} (mosaic-tui, step 3).",
        "# Start the initial proposer first (`docker compose up -d initial-proposer`); each validator",
        "# puts its keystore and signer.pwd under nodes/<its node>/keystore/ before starting its node.",
        "# RPC is published on the host's loopback only: a node unlocks its signer.",
        f"name: mosaic-auxiliary-{plan.auxiliary.chain_id}",
        "services:",
        "  prepare:",
        "    image: busybox:1.36",
        "    user: \"0:0\"",
        f"    command: [\"sh\", \"-c\", {json.dumps(copy)}]",
        "    volumes:",
        "      - \"./nodes:/nodes:ro\"",
        *(f"      - \"{n}:/volumes/{n}\"" for n in names),
    ]
    for index, node in enumerate(nodes):
        lines += [
            f"  {node.name}:",
            f"    image: {NODE_IMAGE}",
            f"    user: \"{NODE_UID}:{NODE_UID}\"",
            "    restart: unless-stopped",
            "    depends_on:",
            "      prepare:",
            "        condition: service_completed_successfully",
            f"    command: [\"--config\", \"{CONTAINER_DIR}/{NODE_CONFIG}\", \"--datadir\", \"{CONTAINER_DIR}\"]",
            "    volumes:",
            f"      - \"{node.name}:{CONTAINER_DIR}\"",
            "    ports:",
            f"      - \"127.0.0.1:{port + index}:{port}\"",
            f"      - \"{P2P_PORT + index}:{P2P_PORT}\"",
            "    networks:",
            "      authority:",
            f"        ipv4_address: {node.host}",
        ]
    lines += ["networks:", "  authority:", "    ipam:", "      config:", f"        - subnet: {SUBNET}.0/24",
              "volumes:", *(f"  {n}: {{}}" for n in names)]
    return "\n".join(lines) + "\n"


def nethermind_command(out_dir: str | os.PathLike[str], node: str = INITIAL_PROPOSER_NODE) -> list[str]:
    """How to start one node's Nethermind with its generated config, by compose."""
    return ["docker", "compose", "-f", str(Path(out_dir) / COMPOSE_FILE), "up", "-d", node]


def nethermind_bare_command(out_dir: str | os.PathLike[str], node: str = INITIAL_PROPOSER_NODE) -> list[str]:
    """The same node started from a Nethermind binary on the host (paths overridden to the host's)."""
    base = (Path(out_dir) / NODES_DIR / node).resolve()
    return ["nethermind", "--config", str(base / NODE_CONFIG), "--datadir", str(base),
            "--Init.ChainSpecPath", str(base / SPEC_FILE), "--Init.BaseDbPath", str(base / "db"),
            "--KeyStore.KeyStoreDirectory", str(base / KEYSTORE_DIR),
            "--KeyStore.PasswordFiles", str(base / KEYSTORE_DIR / PASSWORD_FILE),
            "--JsonRpc.Host", "127.0.0.1"]


__all__ = ["COMPOSE_FILE", "NODE_CONFIG", "NODES_DIR", "Node", "password_file", "compose_file", "load_or_create_nodes",
           "nethermind_bare_command", "nethermind_command", "node_config", "node_names", "rpc_port",
           "validator_node", "write_node_files"]


def password_file(node: str) -> str:
    """Where a rum node's keystore password file is expected (relative to out/), for the export."""
    return f"keys/{node}.pwd"
