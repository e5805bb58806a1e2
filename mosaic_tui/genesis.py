"""The auxiliary chain's genesis, with its system contracts in it: `genesis.json` and AuRa `spec.json`.

Step 3 sends no transaction to the auxiliary chain. Every auxiliary contract is already in the
genesis, at a fixed address (`SYSTEM_ADDRESSES`), with its runtime code and the storage its
constructor wrote. Those are computed, not written by hand: the constructors run on a throwaway
anvil (same chain id, Berlin rules) from the plan and the origin set-up block, and the result is
read back with `anvil_dumpState` (`build_system_state`). docs/auxiliary-genesis.md explains the
addresses, the one circular case (AuxiliaryBlockStore and the genesis hash) and the bootstrap.

Value: all base coin is backed by gateway stakes on origin. The genesis gives OSTPrime the supply
less the stakes it pays out in the genesis itself, and gives each of those stakes' beneficiaries
its amount (the deployer's stake, beneficiary the initial proposer, pays the proposer's step-4
gas). Those stakes are marked minted in OSTPrime's genesis storage. Nothing else holds coin: no
block reward, no precompile balances, no dev accounts. The chain runs Berlin rules (legacy gas
price) at the kernel gas price from block 0.

The validator source of spec.json is ProposerSet (`safeContract`) from block 0, and spec.json is
never rewritten. Output is deterministic: the same inputs give the same bytes, which is what
`mosaic-tui genesis verify` relies on.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosaic_tui import units
from mosaic_tui.fsio import atomic_write
from mosaic_tui.plan import Plan

HARDFORK = "berlin"
# Every geth fork flag up to Berlin, active from genesis. No londonBlock: no base fee, legacy gas price.
GETH_FORKS = ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
              "constantinopleBlock", "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock")
# The Nethermind/OpenEthereum spec names of the same rules (Frontier .. Berlin). EIP-2315 was
# dropped from Berlin and is left out; EIP-2565 (modexp pricing), EIP-1108 (cheaper bn128) and
# EIP-152 (blake2f) are set by the builtin pricing below, which is where those clients read them.
AURA_TRANSITIONS = ("eip150", "eip155", "eip160", "eip161abc", "eip161d",  # Tangerine, Spurious Dragon
                    "eip140", "eip211", "eip214", "eip658",  # Byzantium
                    "eip145", "eip1014", "eip1052", "eip1283", "eip1283Disable",  # Constantinople, Petersburg
                    "eip1283Reenable", "eip1344", "eip1706", "eip1884", "eip2028",  # Istanbul
                    "eip2200", "eip2929", "eip2930",  # Istanbul's SSTORE metering, Berlin
                    # The precompile repricings, also given by the builtin pricing below; stated here too
                    # because Nethermind reads a transition in params before it looks at the pricing.
                    "eip152", "eip1108", "eip2565",
                    # EIP-3607 (no transactions from accounts with code) is on in geth and anvil
                    # unconditionally; Nethermind needs the transition, or the clients differ.
                    "eip3607")
AURA_GENESIS_DIFFICULTY = 0x20000
MIN_GAS_LIMIT = 5000
EIP170_MAX_CODE_SIZE = 24576
ZERO_HASH = "0x" + "00" * 32
SYSTEM = "0xfffffffffffffffffffffffffffffffffffffffe"  # the AuRa engines' system-call sender

# The auxiliary contracts, in the order their constructors run, and their fixed genesis addresses
# (0x…4d01 to 0x…4d06, "M" = 0x4d). Their constructors never read their own address, so the code
# and storage built at another address on the throwaway chain are the same at these.
SYSTEM_CONTRACTS = ("OriginBlockStore", "AuxiliaryBlockStore", "PollingPlace", "KernelGateway", "OSTPrime",
                    "ProposerSet")
SYSTEM_OUTPUTS = {"OriginBlockStore": "origin_block_store", "AuxiliaryBlockStore": "auxiliary_block_store",
                  "PollingPlace": "polling_place", "KernelGateway": "kernel_gateway", "OSTPrime": "ost_prime",
                  "ProposerSet": "proposer_set"}
SYSTEM_ADDRESSES = {name: units.checksum_address(f"{0x4d01 + index:040x}")
                    for index, name in enumerate(SYSTEM_CONTRACTS)}
# Who runs the constructors on the throwaway chain (impersonated there; it exists nowhere else).
GENESIS_BUILDER = "0x000000000000000000000000000000000000b111"


class GenesisError(ValueError):
    """The genesis cannot be built from these inputs (the message says which and why)."""


@dataclass(frozen=True)
class GenesisInputs:
    """Everything besides the plan that the genesis is built from, all of it on the origin chain.

    `paid_in_genesis` are gateway stakes (dicts with message_hash, amount, beneficiary) whose base
    coin the genesis allocates directly: in a deployment, the deployer's stake for the proposer.
    """

    initial_proposer: str
    origin_core: str
    ost_gateway: str
    setup_block_hash: str
    setup_state_root: str
    setup_block_number: int
    setup_timestamp: int
    paid_in_genesis: tuple[Mapping[str, Any], ...] = field(default=())


def system_addresses() -> dict[str, str]:
    """The auxiliary contracts' genesis addresses under their step-output names."""
    return {SYSTEM_OUTPUTS[name]: address for name, address in SYSTEM_ADDRESSES.items()}


def origin_core_identifier(origin_chain_id: int) -> bytes:
    """The identifier votes on origin checkpoints carry: the origin chain id and no auxiliary part."""
    return origin_chain_id.to_bytes(8, "big") + bytes(12)


def constructor_args(plan: Plan, inputs: GenesisInputs, name: str) -> tuple[Any, ...]:
    """The constructor arguments of system contract `name` (see contracts/README.md)."""
    at = system_addresses()
    epoch = plan.auxiliary.epoch_length
    if name == "OriginBlockStore":
        return (bytes.fromhex(inputs.setup_block_hash[2:]), bytes.fromhex(inputs.setup_state_root[2:]),
                inputs.setup_block_number, epoch, at["polling_place"])
    if name == "AuxiliaryBlockStore":
        # Zero initial block: the genesis hash covers this very state; anchored by anchorGenesis.
        return (bytes(32), bytes(32), 0, 0, epoch, at["polling_place"])
    if name == "PollingPlace":
        return (origin_core_identifier(plan.origin.chain_id), bytes.fromhex(plan.core_identifier[2:]),
                at["origin_block_store"], at["auxiliary_block_store"], at["kernel_gateway"])
    if name == "KernelGateway":
        return (inputs.origin_core, at["origin_block_store"], at["polling_place"])
    if name == "OSTPrime":
        return (inputs.ost_gateway, at["origin_block_store"],
                [bytes.fromhex(str(s["message_hash"])[2:]) for s in inputs.paid_in_genesis])
    return (inputs.initial_proposer, at["polling_place"])


def _creation_code(name: str, args: tuple[Any, ...]) -> str:
    from eth_abi import encode

    from mosaic_tui.contracts import load_artifact

    artifact = load_artifact(name)
    constructor: dict[str, Any] = next((item for item in artifact["abi"] if item["type"] == "constructor"),
                                       {"inputs": []})
    types = [_abi_type(item) for item in constructor["inputs"]]
    return str(artifact["bytecode"]) + encode(types, list(args)).hex()


def _abi_type(item: Mapping[str, Any]) -> str:
    return str(item["type"])


# --- running the constructors ------------------------------------------------------------------


def build_system_state(plan: Plan, inputs: GenesisInputs) -> dict[str, dict[str, Any]]:
    """The genesis accounts: the six system contracts and the accounts paid in the genesis.

    Runs each constructor on a throwaway anvil and reads code and storage back with
    `anvil_dumpState`. The throwaway chain's own state root is checked against this module's trie
    (`state_root`) on the way, so the genesis hash computed from these accounts is the one a real
    client computes.
    """
    from mosaic_tui import devnet

    _check_inputs(plan, inputs)
    node = devnet.start_anvil(name="genesis-builder", chain_id=plan.auxiliary.chain_id, hardfork=HARDFORK,
                              accounts=0, extra_args=["--disable-default-create2-deployer", "--gas-limit",
                                                      str(max(plan.auxiliary.gas_limit, 30_000_000))])
    try:
        url = node.rpc_url
        devnet.rpc_call(url, "anvil_impersonateAccount", [GENESIS_BUILDER])
        devnet.rpc_call(url, "anvil_setBalance", [GENESIS_BUILDER, hex(10**24)])
        built: dict[str, str] = {}
        for name in SYSTEM_CONTRACTS:
            data = _creation_code(name, constructor_args(plan, inputs, name))
            tx_hash = devnet.rpc_call(url, "eth_sendTransaction", [{
                "from": GENESIS_BUILDER, "data": data, "gas": hex(25_000_000), "gasPrice": "0x0"}], timeout=30)
            receipt = _receipt(url, tx_hash)
            if int(receipt["status"], 16) != 1:
                raise GenesisError(f"the {name} constructor reverted with these inputs; the genesis cannot hold it")
            built[name] = receipt["contractAddress"]
        dump = devnet.rpc_call(url, "anvil_dumpState", [], timeout=30)
        latest = devnet.rpc_call(url, "eth_getBlockByNumber", ["latest", False])
    finally:
        node.stop()
    accounts = _dumped_accounts(dump)
    if state_root(accounts) != bytes.fromhex(latest["stateRoot"][2:]):
        raise GenesisError("the state root computed here differs from anvil's for the same state; "
                           "the genesis hash could not be trusted")
    state: dict[str, dict[str, Any]] = {}
    paid = sum(int(s["amount"]) for s in inputs.paid_in_genesis)
    for name in SYSTEM_CONTRACTS:
        account = accounts[built[name].lower()]
        balance = plan.auxiliary.base_coin_supply - paid if name == "OSTPrime" else 0
        state[SYSTEM_ADDRESSES[name].lower()] = {"balance": balance, "nonce": 1, "code": account["code"],
                                                 "storage": account["storage"]}
    for stake in inputs.paid_in_genesis:
        beneficiary = units.parse_address(stake["beneficiary"], "gateway stake beneficiary").lower()
        entry = state.setdefault(beneficiary, {"balance": 0, "nonce": 0, "code": b"", "storage": {}})
        entry["balance"] += int(stake["amount"])
    return state


def _receipt(url: str, tx_hash: str) -> dict[str, Any]:
    import time

    from mosaic_tui import devnet

    deadline = time.monotonic() + 30
    while (receipt := devnet.rpc_call(url, "eth_getTransactionReceipt", [tx_hash], timeout=30)) is None:
        if time.monotonic() > deadline:
            raise GenesisError("the throwaway chain did not mine a constructor within 30 s")
        time.sleep(0.02)
    return dict(receipt)


def _check_inputs(plan: Plan, inputs: GenesisInputs) -> None:
    aux = plan.auxiliary
    paid = sum(int(s["amount"]) for s in inputs.paid_in_genesis)
    if aux.base_coin_supply <= 0:
        raise GenesisError("the base-coin supply must be above zero: OSTPrime pays every gateway stake from it")
    if paid > aux.base_coin_supply:
        raise GenesisError(f"the stakes paid in the genesis ({paid} wei) exceed the base-coin supply "
                           f"({aux.base_coin_supply} wei)")
    units.parse_address(inputs.initial_proposer, "initial proposer")


def _dumped_accounts(dump: str) -> dict[str, dict[str, Any]]:
    """anvil_dumpState's answer (hex of gzipped JSON) as {lowercase address: account}."""
    raw = bytes.fromhex(dump[2:] if dump.startswith("0x") else dump)
    data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    accounts: dict[str, dict[str, Any]] = {}
    for address, account in data["accounts"].items():
        storage = {int(slot, 16): int(value, 16) for slot, value in (account.get("storage") or {}).items()}
        accounts[address.lower()] = {
            "nonce": _int(account.get("nonce", 0)), "balance": _int(account.get("balance", 0)),
            "code": bytes.fromhex(str(account.get("code") or "0x")[2:]),
            "storage": {slot: value for slot, value in storage.items() if value}}
    return accounts


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


# --- the state root and the genesis hash ---------------------------------------------------------

EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
EMPTY_UNCLES_HASH = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    """A path's compact encoding: flag nibble (leaf, odd length), then the nibbles in pairs."""
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        first, rest = (flag + 1) * 16 + nibbles[0], nibbles[1:]
    else:
        first, rest = flag * 16, nibbles
    return bytes([first, *(rest[i] * 16 + rest[i + 1] for i in range(0, len(rest), 2))])


def _node(items: Sequence[tuple[tuple[int, ...], bytes]], depth: int) -> Any:
    """The trie node (as an RLP structure) over `items` (sorted nibble paths), from `depth` on."""
    if len(items) == 1:
        path, value = items[0]
        return [_hex_prefix(path[depth:], True), value]
    common = depth
    while all(len(p) > common for p, _ in items) and len({p[common] for p, _ in items}) == 1:
        common += 1
    if common > depth:
        return [_hex_prefix(items[0][0][depth:common], False), _reference(_node(items, common))]
    branch: list[Any] = [b""] * 17
    for nibble in range(16):
        group = [item for item in items if len(item[0]) > depth and item[0][depth] == nibble]
        if group:
            branch[nibble] = _reference(_node(group, depth + 1))
    ended = [value for path, value in items if len(path) == depth]
    branch[16] = ended[0] if ended else b""
    return branch


def _reference(node: Any) -> Any:
    import rlp
    from eth_utils import keccak

    encoded = rlp.encode(node)
    return node if len(encoded) < 32 else keccak(encoded)


def trie_root(pairs: Mapping[bytes, bytes]) -> bytes:
    """The Merkle-Patricia root of `pairs` (keys already hashed where the trie is secure)."""
    import rlp
    from eth_utils import keccak

    if not pairs:
        return EMPTY_TRIE_ROOT
    items = sorted((tuple(n for byte in key for n in (byte >> 4, byte & 15)), value) for key, value in pairs.items())
    return bytes(keccak(rlp.encode(_node(items, 0))))


def state_root(accounts: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The state root of {address: {nonce, balance, code, storage}} as every client computes it."""
    import rlp
    from eth_utils import keccak

    leaves: dict[bytes, bytes] = {}
    for address, account in accounts.items():
        storage = {bytes(keccak(slot.to_bytes(32, "big"))): rlp.encode(value)
                   for slot, value in account["storage"].items() if value}
        leaves[bytes(keccak(bytes.fromhex(address[2:])))] = rlp.encode(
            [account["nonce"], account["balance"], trie_root(storage), keccak(account["code"])])
    return trie_root(leaves)


def aura_genesis_hash(spec: Mapping[str, Any], root: bytes) -> str:
    """The hash Nethermind gives the genesis of `spec` with state root `root`.

    An AuRa header ends in the seal fields step and signature where a PoW header has mix hash and
    nonce; the rest is the usual Berlin header of block 0.
    """
    import rlp
    from eth_utils import keccak

    genesis = spec["genesis"]
    seal = genesis["seal"]["authorityRound"]
    fields = [bytes(32), EMPTY_UNCLES_HASH, bytes.fromhex(genesis["author"][2:]), root, EMPTY_TRIE_ROOT,
              EMPTY_TRIE_ROOT, bytes(256), int(genesis["difficulty"], 16), 0, int(genesis["gasLimit"], 16), 0,
              int(genesis["timestamp"], 16), bytes.fromhex(genesis["extraData"][2:]), int(seal["step"], 16),
              bytes.fromhex(seal["signature"][2:])]
    return "0x" + bytes(keccak(rlp.encode(fields))).hex()


# --- the files --------------------------------------------------------------------------------


def _address(value: str, what: str) -> str:
    """Lowercase 0x form for JSON genesis files (what geth writes; every client reads it)."""
    return units.parse_address(value, what).lower()


def _extra_data(plan: Plan) -> str:
    # The 20-byte core identifier names the meta-blockchain this chain belongs to, and gives two
    # auxiliary chains with the same chain id and supply different genesis hashes.
    return units.parse_core_identifier(plan.core_identifier, None, "core.identifier")


def _alloc_entry(account: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"balance": hex(account["balance"])}
    if account["nonce"]:
        entry["nonce"] = hex(account["nonce"])
    if account["code"]:
        entry["code"] = "0x" + bytes(account["code"]).hex()
    if account["storage"]:
        entry["storage"] = {f"0x{slot:064x}": f"0x{value:064x}" for slot, value in sorted(account["storage"].items())}
    return entry


def genesis_json(plan: Plan, state: Mapping[str, Mapping[str, Any]], *, timestamp: int) -> dict[str, Any]:
    """Geth-style genesis of the chain (anvil loads it with `--init` plus `anvil_flags(plan)`)."""
    aux = plan.auxiliary
    return {
        "config": {"chainId": aux.chain_id, **{fork: 0 for fork in GETH_FORKS}},
        "nonce": "0x0",
        # The origin set-up block's time: fixed by the origin chain, so every validator derives the
        # same genesis, and the new chain's clock starts near the present.
        "timestamp": hex(timestamp),
        "extraData": _extra_data(plan),
        "gasLimit": hex(aux.gas_limit),
        "difficulty": "0x1",
        "mixHash": ZERO_HASH,
        "coinbase": units.ZERO_ADDRESS,
        "alloc": {address: _alloc_entry(account) for address, account in sorted(state.items())},
    }


def anvil_flags(plan: Plan) -> list[str]:
    """Flags anvil needs besides `--init`, `--chain-id`, `--hardfork` and `--accounts 0` to run this genesis.

    anvil takes the block gas limit from its command line, not from the genesis, and by default adds
    a CREATE2 deployer account that is not in the genesis. anvil does not enforce a minimum gas
    price from its command line: `anvil_setMinGasPrice` (sent by the devnet right after start)
    does, see `anvil_command`.
    """
    return ["--gas-limit", str(plan.auxiliary.gas_limit), "--gas-price", str(plan.auxiliary.gas_price),
            "--disable-default-create2-deployer"]


def anvil_command(plan: Plan, genesis_path: str | os.PathLike[str], *, anvil: str = "anvil") -> list[str]:
    """The full command line that runs this genesis on anvil, for a quick local try."""
    from urllib.parse import urlsplit

    port = urlsplit(plan.auxiliary.rpc).port or 8546
    return [anvil, "--init", str(genesis_path), "--chain-id", str(plan.auxiliary.chain_id), "--hardfork", HARDFORK,
            "--accounts", "0", "--port", str(port), "--block-time", str(plan.auxiliary.block_time),
            *anvil_flags(plan)]


def _linear(base: int, word: int) -> dict[str, Any]:
    return {"linear": {"base": base, "word": word}}


def _priced(price: dict[str, Any]) -> dict[str, Any]:
    return {"0": {"price": price}}  # the price from genesis on (the per-block pricing form)


# The precompiles at their Berlin prices, every one in the per-block pricing form from block 0 where
# it is not Frontier's. No balance: with EIP-161 from genesis an empty precompile is never created
# or cleared, so they need none, and the supply stays the only coin on the chain.
BUILTINS: tuple[tuple[int, dict[str, Any]], ...] = (
    (1, {"name": "ecrecover", "pricing": _linear(3000, 0)}),
    (2, {"name": "sha256", "pricing": _linear(60, 12)}),
    (3, {"name": "ripemd160", "pricing": _linear(600, 120)}),
    (4, {"name": "identity", "pricing": _linear(15, 3)}),
    (5, {"name": "modexp", "activate_at": "0x0", "pricing": _priced({"modexp2565": {}})}),
    (6, {"name": "alt_bn128_add", "activate_at": "0x0",
         "pricing": _priced({"alt_bn128_const_operations": {"price": 150}})}),
    (7, {"name": "alt_bn128_mul", "activate_at": "0x0",
         "pricing": _priced({"alt_bn128_const_operations": {"price": 6000}})}),
    (8, {"name": "alt_bn128_pairing", "activate_at": "0x0",
         "pricing": _priced({"alt_bn128_pairing": {"base": 45000, "pair": 34000}})}),
    (9, {"name": "blake2_f", "activate_at": "0x0", "pricing": _priced({"blake2_f": {"gas_per_round": 1}})}),
)


def aura_spec(plan: Plan, state: Mapping[str, Mapping[str, Any]], *, timestamp: int,
              nodes: Sequence[str] = ()) -> dict[str, Any]:
    """The Nethermind (OpenEthereum-format) AuRa chain spec of the same chain.

    Sealers: whoever ProposerSet lists (`safeContract`), from block 0; it lists the initial proposer
    alone until the hand-over. `nodes` are the authority nodes' enode URLs (peer hints: they do not
    change the chain, and `genesis verify` takes them from the file it checks).
    """
    aux = plan.auxiliary
    genesis = genesis_json(plan, state, timestamp=timestamp)
    accounts: dict[str, Any] = {f"0x{number:040x}": {"builtin": builtin} for number, builtin in BUILTINS}
    accounts.update(genesis["alloc"])
    chain_id = hex(aux.chain_id)
    return {
        "name": f"mosaic-auxiliary-{aux.chain_id}",
        "engine": {"authorityRound": {"params": {
            "stepDuration": aux.block_time,
            "blockReward": "0x0",  # no coin from thin air: base coin comes only from OSTPrime
            "maximumUncleCountTransition": 0,
            "maximumUncleCount": 0,
            "validateScoreTransition": 0,
            "validateStepTransition": 0,
            "validators": {"safeContract": SYSTEM_ADDRESSES["ProposerSet"].lower()},
        }}},
        "params": {
            "networkID": chain_id,
            "chainID": chain_id,
            "gasLimitBoundDivisor": "0x400",
            "maximumExtraDataSize": "0x20",
            "minGasLimit": hex(MIN_GAS_LIMIT),
            "accountStartNonce": "0x0",
            "maxCodeSize": EIP170_MAX_CODE_SIZE,
            "maxCodeSizeTransition": "0x0",
            **{f"{name}Transition": "0x0" for name in AURA_TRANSITIONS},
        },
        "genesis": {
            "seal": {"authorityRound": {"step": "0x0", "signature": "0x" + "00" * 65}},
            "difficulty": hex(AURA_GENESIS_DIFFICULTY),
            "author": units.ZERO_ADDRESS,
            "timestamp": genesis["timestamp"],
            "parentHash": ZERO_HASH,
            "extraData": genesis["extraData"],
            "gasLimit": genesis["gasLimit"],
        },
        "nodes": list(nodes),
        "accounts": accounts,
    }


@dataclass(frozen=True)
class Genesis:
    """A built genesis: its accounts, both files' contents and the hash a real AuRa client gives it."""

    state: dict[str, dict[str, Any]]
    genesis: dict[str, Any]
    spec: dict[str, Any]
    hash: str
    state_root: str


def build(plan: Plan, inputs: GenesisInputs, *, nodes: Sequence[str] = ()) -> Genesis:
    state = build_system_state(plan, inputs)
    genesis = genesis_json(plan, state, timestamp=inputs.setup_timestamp)
    spec = aura_spec(plan, state, timestamp=inputs.setup_timestamp, nodes=nodes)
    root = state_root(state)
    return Genesis(state, genesis, spec, aura_genesis_hash(spec, root), "0x" + root.hex())


def dumps_json(data: Mapping[str, Any]) -> bytes:
    """The one JSON form of genesis files: fixed key order and indentation, so equal data is equal bytes."""
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def genesis_differences(path: str | os.PathLike[str], expected: Mapping[str, Any]) -> list[str]:
    """Dotted keys where the JSON file at `path` differs from `expected`; empty when it matches.

    An unreadable file differs at "(file)".
    """
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["(file)"]
    return differences(found, json.loads(json.dumps(expected)))


_MISSING = object()  # a key one side lacks differs from any value, even null


def differences(found: Any, expected: Any, where: str = "") -> list[str]:
    if isinstance(found, dict) and isinstance(expected, dict):
        keys = sorted(set(found) | set(expected))
        return [d for key in keys for d in differences(found.get(key, _MISSING), expected.get(key, _MISSING),
                                                       f"{where}.{key}" if where else str(key))]
    return [] if found == expected else [where or "(root)"]


def genesis_matches(path: str | os.PathLike[str], expected: Mapping[str, Any]) -> bool:
    return not genesis_differences(path, expected)


def write_genesis_files(out_dir: str | os.PathLike[str], built: Genesis) -> dict[str, Path]:
    """Write genesis.json and spec.json (public, 0644) into `out_dir`."""
    out = Path(out_dir)
    return {"genesis_path": atomic_write(out / "genesis.json", dumps_json(built.genesis)),
            "spec_path": atomic_write(out / "spec.json", dumps_json(built.spec))}


__all__ = ["SYSTEM_ADDRESSES", "SYSTEM_CONTRACTS", "Genesis", "GenesisError", "GenesisInputs", "anvil_command",
           "anvil_flags", "aura_genesis_hash", "aura_spec", "build", "build_system_state", "differences",
           "dumps_json", "genesis_differences", "genesis_json", "genesis_matches", "state_root",
           "system_addresses", "trie_root", "write_genesis_files"]
