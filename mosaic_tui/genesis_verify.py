"""`mosaic-tui genesis verify`: re-derive the auxiliary genesis from the plan and the origin chain.

A validator runs this before starting its node. Nothing the journal says is taken on trust: the
set-up block must be the origin chain's block at that height (hash, state root, time); the open
kernel in OriginCore and every gateway stake in OSTGateway are read from the proofs kept from the
set-up block (the journal's, or for a validator without it the coordinator's setup-proofs.json that
step 3 exports next to genesis.json; eth_getProof at that block only when neither exists, which a
full node answers for ~128 blocks), and each proof is checked here against the state root of the
canonical block's header; the open kernel must be the plan's K0 and each stake's message hash must be
the one its fields give. From those the genesis is built again (the constructors run on a throwaway
anvil, as in step 3) and genesis.json and spec.json are compared byte for byte. A validator without
the coordinator's journal gives the coordinator's deployment.toml instead (`outputs_from_deployment`).
spec.json's `nodes` (the authority nodes' enode URLs) are taken from the
file checked: they are peer hints, not part of the chain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mosaic_tui import genesis
from mosaic_tui.plan import Plan

STAKE_TYPEHASH_TEXT = "Stake(address gateway,uint256 amount,address beneficiary,address staker,uint256 nonce)"
OPEN_KERNEL_HASH_SLOT = 0
STAKED_MESSAGES_SLOT = 0


class GenesisMismatch(Exception):
    """The genesis under check is not the one the plan and the origin chain give (exit 1)."""


@dataclass(frozen=True)
class Verified:
    genesis_hash: str
    genesis_path: Path
    spec_path: Path
    proofs: str = ""  # where the set-up block's proofs came from


# --- Merkle-Patricia proofs, checked here rather than trusted from the node --------------------


def _nibbles(data: bytes) -> list[int]:
    return [n for byte in data for n in (byte >> 4, byte & 15)]


def _decode_path(encoded: bytes) -> tuple[list[int], bool]:
    nibbles = _nibbles(encoded)
    flag = nibbles[0]
    return (nibbles[1:] if flag & 1 else nibbles[2:]), bool(flag & 2)


def proven_value(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The value at keccak(key) in the trie with `root`, following `proof` (eth_getProof's nodes).

    None when the proof shows the key is absent; GenesisMismatch when the proof does not hold.
    """
    import rlp
    from eth_utils import keccak

    path = _nibbles(bytes(keccak(key)))
    by_hash = {bytes(keccak(node)): node for node in proof}
    wanted: Any = root
    while True:
        if isinstance(wanted, list):
            node = wanted
        else:
            encoded = by_hash.get(bytes(wanted))
            if encoded is None:
                raise GenesisMismatch("a proof of the set-up block's state does not hash to the set-up block's state root")
            node = rlp.decode(encoded)
        if len(node) == 17:
            if not path:
                return bytes(node[16]) or None
            child = node[path[0]]
            path = path[1:]
            if child == b"":
                return None
            wanted = child
        elif len(node) == 2:
            segment, leaf = _decode_path(bytes(node[0]))
            if path[:len(segment)] != segment:
                return None
            path = path[len(segment):]
            if leaf:
                return bytes(node[1]) if not path else None
            wanted = node[1]
        else:
            raise GenesisMismatch("a proof node from the origin node is malformed")


def _account_storage_root(state_root: bytes, address: str, proof: Mapping[str, Any]) -> bytes:
    import rlp

    value = proven_value(state_root, bytes.fromhex(address[2:]), [bytes(n) for n in proof["accountProof"]])
    if value is None:
        raise GenesisMismatch(f"the origin chain has no account {address} at the set-up block")
    return bytes(rlp.decode(value)[2])


def _storage_word(storage_root: bytes, slot: bytes, proof: Mapping[str, Any], index: int) -> int:
    import rlp

    value = proven_value(storage_root, slot, [bytes(n) for n in proof["storageProof"][index]["proof"]])
    return 0 if value is None else int.from_bytes(rlp.decode(value), "big")


def _stake_message_hash(gateway: str, stake: Mapping[str, Any]) -> str:
    from eth_abi import encode
    from eth_utils import keccak

    data = encode(["bytes32", "address", "uint256", "address", "address", "uint256"],
                  [keccak(text=STAKE_TYPEHASH_TEXT), gateway, int(stake["amount"]), stake["beneficiary"],
                   stake["staker"], int(stake["nonce"])])
    return "0x" + bytes(keccak(data)).hex()


PROOFS_FILE = "setup-proofs.json"  # the kept proofs, exported by step 3 next to genesis.json (not secret)


class CannotCheck(Exception):
    """The origin chain can no longer give what the check needs (exit 1, said as such, not as a difference)."""


def write_proofs_file(out_dir: str | Path, outputs: Mapping[str, Any]) -> Path | None:
    """Export the proofs kept from the set-up block (setup_block.kept_proofs) for validators without the
    journal. Nothing in it is taken on trust: `check_origin` checks every proof against the state root of
    the canonical set-up block's header, which an origin node keeps long after the state itself."""
    kept = outputs.get("setup_proofs")
    if not isinstance(kept, Mapping):
        return None
    from mosaic_tui.fsio import atomic_write

    document = {"setup_block_number": int(outputs["setup_block_number"]),
                "setup_block_hash": outputs["setup_block_hash"], "setup_state_root": outputs["setup_state_root"],
                "origin_core": kept["origin_core"], "ost_gateway": kept["ost_gateway"]}
    written: Path = atomic_write(Path(out_dir) / PROOFS_FILE, (json.dumps(document, indent=1) + "\n").encode())
    return written


def _kept_proofs(outputs: Mapping[str, Any], proofs_file: Path | None, number: int,
                 block_hash: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """(OriginCore proof, OSTGateway proof, where they come from): the journal's kept proofs, else the
    exported file; None when neither exists."""
    kept = outputs.get("setup_proofs")
    if isinstance(kept, Mapping):
        return dict(kept["origin_core"]), dict(kept["ost_gateway"]), "the journal's kept proofs"
    if proofs_file is None or not proofs_file.is_file():
        return None
    try:
        document = json.loads(proofs_file.read_text(encoding="utf-8"))
        found = int(document["setup_block_number"]), str(document["setup_block_hash"]).lower()
        core, gateway = dict(document["origin_core"]), dict(document["ost_gateway"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GenesisMismatch(f"{proofs_file} is not a file of kept set-up block proofs ({error})") from None
    if found != (number, block_hash.lower()):
        raise GenesisMismatch(f"{proofs_file} holds the proofs of origin block {found[0]} {found[1]}, not of the "
                              f"canonical set-up block {number} {block_hash}")
    return core, gateway, str(proofs_file)


def _fetch_proof(w3: Any, address: str, keys: list[bytes], number: int) -> dict[str, Any]:
    from mosaic_tui.chain.rpc import node_error_sentence

    reply = w3.provider.make_request("eth_getProof", [address, ["0x" + k.hex() for k in keys], hex(number)])
    if "error" in reply:
        raise CannotCheck(f"the origin node no longer has the state of the set-up block {number} "
                          f"({node_error_sentence(reply['error'])}), and there are no kept proofs: run genesis verify "
                          f"where the coordinator's journal is, or put the coordinator's {PROOFS_FILE} (step 3 writes "
                          "it next to genesis.json) beside genesis.json or deployment.toml")
    return dict(reply["result"])


def _storage_proof(proof: Mapping[str, Any], slot: bytes) -> Mapping[str, Any]:
    from mosaic_tui.chain.header import as_bytes

    for item in proof["storageProof"]:
        if as_bytes(item["key"]).rjust(32, b"\0") == slot:
            return dict(item)
    raise GenesisMismatch(f"the set-up block proofs hold no proof of storage slot 0x{slot.hex()}")


def check_origin(plan: Plan, outputs: Mapping[str, Any], w3: Any, proofs_file: Path | None = None) -> str:
    """The set-up block, K0 and every gateway stake, as the origin chain holds them (GenesisMismatch if not).

    The header of the set-up block is read from the node (headers stay available); the state proofs are
    the ones kept from the set-up block (journal, else `proofs_file`), each checked here against that
    header's state root, and only without either are they asked of the node (CannotCheck if it no longer
    has that state). Returns where the proofs came from."""
    from eth_utils import keccak

    from mosaic_tui.chain.header import as_bytes
    from mosaic_tui.metablock import genesis_kernel

    number = int(outputs["setup_block_number"])
    block = w3.eth.get_block(number)
    for field, key in (("hash", "setup_block_hash"), ("stateRoot", "setup_state_root")):
        if block[field].to_0x_hex() != outputs[key]:
            raise GenesisMismatch(f"origin block {number} has {field} {block[field].to_0x_hex()}, the journal's "
                                  f"set-up block {outputs[key]}: not the canonical set-up block")
    if int(block["timestamp"]) != int(outputs["setup_timestamp"]):
        raise GenesisMismatch(f"origin block {number}'s time is {block['timestamp']}, not {outputs['setup_timestamp']}")
    root = bytes(block["stateRoot"])
    slot0 = OPEN_KERNEL_HASH_SLOT.to_bytes(32, "big")
    stakes = list(outputs["gateway_stakes"])
    slots = [bytes(keccak(bytes.fromhex(s["message_hash"][2:]) + STAKED_MESSAGES_SLOT.to_bytes(32, "big")))
             for s in stakes]
    kept = _kept_proofs(outputs, proofs_file, number, block["hash"].to_0x_hex())
    if kept is not None:
        core, gateway, source = kept
    else:
        core = _fetch_proof(w3, outputs["origin_core"], [slot0], number)
        gateway = _fetch_proof(w3, outputs["ost_gateway"], slots, number)
        source = f"the origin node's proofs at block {number}"
    for proof in (core, gateway):
        proof["accountProof"] = [as_bytes(n) for n in proof["accountProof"]]
        proof["storageProof"] = [{**item, "proof": [as_bytes(n) for n in item["proof"]]}
                                 for item in proof["storageProof"]]
    opened = _storage_word(_account_storage_root(root, outputs["origin_core"], core), slot0,
                           {"storageProof": [_storage_proof(core, slot0)]}, 0)
    k0 = genesis_kernel([v.auxiliary_address for v in plan.validators], [v.stake for v in plan.validators]).hash()
    if opened.to_bytes(32, "big") != k0:
        raise GenesisMismatch(f"OriginCore's open kernel at the set-up block is 0x{opened:064x}, not the plan's K0 "
                              f"0x{k0.hex()}")
    storage_root = _account_storage_root(root, outputs["ost_gateway"], gateway)
    for stake, slot in zip(stakes, slots, strict=True):
        if _stake_message_hash(outputs["ost_gateway"], stake) != stake["message_hash"]:
            raise GenesisMismatch(f"gateway stake {stake['message_hash']} does not hash from its own fields")
        if _storage_word(storage_root, slot, {"storageProof": [_storage_proof(gateway, slot)]}, 0) != 1:
            raise GenesisMismatch(f"OSTGateway holds no stake {stake['message_hash']} at the set-up block")
    return source


LOG_WINDOW = 10_000  # blocks per eth_getLogs query (what public providers accept)


def outputs_from_deployment(path: Path, w3: Any) -> dict[str, Any]:
    """The genesis inputs for a validator without the coordinator's journal: the addresses and set-up
    block from the coordinator's deployment.toml, everything else from the origin chain (the block's
    state root and time; the gateway stakes paid in the genesis, found by their beneficiary, the
    initial proposer, in OSTGateway's StakeIntentDeclared events up to the set-up block)."""
    import tomllib

    from eth_utils import keccak

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        origin, auxiliary = document["origin"], document["auxiliary"]
        outputs: dict[str, Any] = {"initial_proposer": auxiliary["initial_proposer"],
                                   "origin_core": origin["origin_core"], "ost_gateway": origin["ost_gateway"],
                                   "setup_block_number": int(origin["setup_block_number"]),
                                   "setup_block_hash": origin["setup_block_hash"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GenesisMismatch(f"{path} is not a deployment.toml with the set-up block and addresses ({error})") from None
    number = outputs["setup_block_number"]
    block = w3.eth.get_block(number)
    outputs["setup_state_root"] = block["stateRoot"].to_0x_hex()
    outputs["setup_timestamp"] = int(block["timestamp"])
    topic = "0x" + keccak(text="StakeIntentDeclared(bytes32,address,address,uint256,uint256)").hex()
    beneficiary = "0x" + "00" * 12 + outputs["initial_proposer"][2:].lower()
    stakes: list[dict[str, Any]] = []
    high = number
    while not stakes and high >= 0:
        low = max(high - LOG_WINDOW + 1, 0)
        logs = w3.eth.get_logs({"address": outputs["ost_gateway"], "fromBlock": low, "toBlock": high,
                                "topics": [topic, None, None, beneficiary]})
        for log in logs:
            amount, nonce = int.from_bytes(bytes(log["data"])[:32], "big"), int.from_bytes(bytes(log["data"])[32:64], "big")
            stakes.append({"message_hash": log["topics"][1].to_0x_hex(),
                           "staker": "0x" + bytes(log["topics"][2])[12:].hex(), "beneficiary": outputs["initial_proposer"],
                           "amount": amount, "nonce": nonce})
        high = low - 1
    if not stakes:
        raise GenesisMismatch(f"OSTGateway holds no stake for the initial proposer {outputs['initial_proposer']} "
                              f"up to the set-up block {number}")
    outputs["gateway_stakes"] = stakes
    return outputs


def inputs_from(outputs: Mapping[str, Any]) -> genesis.GenesisInputs:
    proposer = str(outputs["initial_proposer"]).lower()
    deployer_stakes = tuple(dict(s) for s in outputs["gateway_stakes"] if str(s["beneficiary"]).lower() == proposer)
    return genesis.GenesisInputs(
        initial_proposer=outputs["initial_proposer"], origin_core=outputs["origin_core"],
        ost_gateway=outputs["ost_gateway"], setup_block_hash=outputs["setup_block_hash"],
        setup_state_root=outputs["setup_state_root"], setup_block_number=int(outputs["setup_block_number"]),
        setup_timestamp=int(outputs["setup_timestamp"]), paid_in_genesis=deployer_stakes)


def verify(plan: Plan, outputs: Mapping[str, Any], genesis_path: Path, w3: Any,
           proofs_file: Path | None = None) -> Verified:
    """Raise GenesisMismatch naming the first difference, or return the genesis hash. Without the
    journal's kept proofs, `proofs_file` (default: setup-proofs.json beside genesis.json) gives them."""
    spec_path = genesis_path.with_name("spec.json")
    try:
        found_genesis = json.loads(genesis_path.read_text(encoding="utf-8"))
        found_spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GenesisMismatch(f"cannot read {error.filename}: {error.strerror}") from None
    except ValueError as error:
        raise GenesisMismatch(f"{genesis_path} or {spec_path} is not JSON ({error})") from None
    source = check_origin(plan, outputs, w3, proofs_file or genesis_path.with_name(PROOFS_FILE))
    nodes = found_spec.get("nodes", []) if isinstance(found_spec, dict) else []
    built = genesis.build(plan, inputs_from(outputs), nodes=nodes if isinstance(nodes, list) else [])
    for path, found, expected in ((genesis_path, found_genesis, built.genesis), (spec_path, found_spec, built.spec)):
        differences = genesis.differences(found, json.loads(json.dumps(expected)))
        if differences:
            raise GenesisMismatch(f"{path} differs from the derived genesis at {differences[0]}"
                                  + (f" (and {len(differences) - 1} more)" if len(differences) > 1 else ""))
        if path.read_bytes() != genesis.dumps_json(expected):
            raise GenesisMismatch(f"{path} holds the derived data but not in the generated form (whitespace or "
                                  "key order); regenerate it")
    return Verified(built.hash, genesis_path, spec_path, source)


__all__ = ["PROOFS_FILE", "CannotCheck", "GenesisMismatch", "Verified", "check_origin", "write_proofs_file", "inputs_from", "outputs_from_deployment", "proven_value",
           "verify"]
