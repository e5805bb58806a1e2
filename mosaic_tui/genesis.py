"""The auxiliary chain's genesis: `genesis.json` for anvil/geth and the Aura `spec.json` for real nodes.

Step 3 writes both before the auxiliary node starts, from the plan and the addresses the caller
precomputed from the initial proposer's nonces. All value stays on origin: the only account with
coin is the one `OSTPrime` will be deployed at, holding the whole base-coin supply that gateway
stakes later release. There are no block rewards, no funded dev accounts and no coin for the
precompiles. The chain runs Berlin rules (no EIP-1559): it bootstraps at a zero gas price, then
runs at the kernel gas price.

The output is deterministic (same inputs, same bytes), so a resumed run can tell whether the
genesis it finds on disk is the one it would write (`genesis_differences`). The node config and
compose sketch for the authority nodes are in `authority.py`; `write_genesis_files` writes all four.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mosaic_tui import authority, units
from mosaic_tui.authority import compose_sketch, node_config
from mosaic_tui.fsio import atomic_write
from mosaic_tui.plan import Plan

HARDFORK = "berlin"
# Every geth fork flag up to Berlin, active from genesis. No londonBlock: no base fee, legacy gas price.
GETH_FORKS = ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
              "constantinopleBlock", "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock")
# The OpenEthereum/Nethermind spec names of the same rules (Frontier .. Berlin). EIP-2315 was
# dropped from Berlin and is left out; EIP-2565 (modexp pricing), EIP-1108 (cheaper bn128) and
# EIP-152 (blake2f) are set by the builtin pricing below, which is where those clients read them.
AURA_TRANSITIONS = ("eip150", "eip155", "eip160", "eip161abc", "eip161d",  # Tangerine, Spurious Dragon
                    "eip140", "eip211", "eip214", "eip658",  # Byzantium
                    "eip145", "eip1014", "eip1052", "eip1283", "eip1283Disable",  # Constantinople, Petersburg
                    "eip1283Reenable", "eip1344", "eip1706", "eip1884", "eip2028",  # Istanbul
                    "eip2929", "eip2930")  # Berlin
# The bootstrap deploys six contracts from the initial proposer, ProposerSet last. A node that has
# sealed one block per bootstrap transaction at most holds ProposerSet's code by block 6, so the
# contract can choose the sealers from block 7. See `aura_spec` for when to pass the real block.
BOOTSTRAP_DEPLOYMENTS = 6
AURA_GENESIS_DIFFICULTY = "0x20000"
MIN_GAS_LIMIT = 5000
EIP170_MAX_CODE_SIZE = 24576
ZERO_HASH = "0x" + "00" * 32


def _address(value: str, what: str) -> str:
    """Lowercase 0x form for JSON genesis files (what geth writes; every client reads it)."""
    return units.parse_address(value, what).lower()


def _extra_data(plan: Plan) -> str:
    # The 20-byte core identifier names the meta-blockchain this chain belongs to, and gives two
    # auxiliary chains with the same chain id and supply different genesis hashes.
    return units.parse_core_identifier(plan.core_identifier, None, "core.identifier")


def genesis_json(plan: Plan, initial_proposer: str, ost_prime: str, *, timestamp: int = 0) -> dict[str, Any]:
    """Geth-style genesis that anvil loads with `--init` (plus `anvil_flags(plan)`).

    `initial_proposer` seals and deploys during the bootstrap; it gets no coin (the bootstrap runs
    at a zero gas price). `ost_prime` is the address OSTPrime will be deployed at, computed by the
    caller from the initial proposer's address and nonce.
    """
    _address(initial_proposer, "initial proposer")  # a bad address is refused here, not in a node's log
    aux = plan.auxiliary
    if aux.base_coin_supply <= 0:
        raise ValueError("the base-coin supply must be above zero: OSTPrime pays every gateway stake from it")
    return {
        "config": {"chainId": aux.chain_id, **{fork: 0 for fork in GETH_FORKS}},
        "nonce": "0x0",
        # The deployment passes the origin set-up block's time: fixed by the journal, so a resumed run
        # regenerates the same genesis, and the new chain's clock starts near the present.
        "timestamp": hex(timestamp),
        "extraData": _extra_data(plan),
        "gasLimit": hex(aux.gas_limit),
        "difficulty": "0x1",
        "mixHash": ZERO_HASH,
        "coinbase": units.ZERO_ADDRESS,
        "alloc": {_address(ost_prime, "OSTPrime"): {"balance": hex(aux.base_coin_supply)}},
    }


def anvil_flags(plan: Plan) -> list[str]:
    """Flags anvil needs besides `--init`, `--chain-id`, `--hardfork` and `--accounts 0` to run this genesis.

    anvil takes the block gas limit from its command line, not from the genesis, and by default adds
    a CREATE2 deployer account that is not in the genesis; the bootstrap runs at a zero gas price.
    """
    return ["--gas-limit", str(plan.auxiliary.gas_limit), "--gas-price", "0", "--disable-default-create2-deployer"]


def _linear(base: int, word: int) -> dict[str, Any]:
    return {"linear": {"base": base, "word": word}}


def _priced(price: dict[str, Any]) -> dict[str, Any]:
    return {"0": {"price": price}}  # the price from genesis on (the per-block pricing form)


# The precompiles at their Berlin prices. No balance: with EIP-161 from genesis an empty precompile
# is never created or cleared, so they need none, and the supply stays the only coin on the chain.
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
    (9, {"name": "blake2_f", "activate_at": "0x0", "pricing": {"blake2_f": {"gas_per_round": 1}}}),
)


def aura_spec(plan: Plan, initial_proposer: str, ost_prime: str, proposer_set: str, *,
              proposer_set_block: int = BOOTSTRAP_DEPLOYMENTS, timestamp: int = 0) -> dict[str, Any]:
    """OpenEthereum/Nethermind Aura chain spec of the same chain.

    Sealers: the initial proposer alone from genesis, then whoever `ProposerSet` lists (a
    `safeContract`) from the block after `proposer_set_block`, the block whose state first holds
    ProposerSet's code. ProposerSet lists only the initial proposer until the handover, so the
    switch changes nothing until then; but a node that reaches the switch before the contract has
    code finds no sealer and stops. The default fits a node that sealed at most one block per
    bootstrap transaction; once the deployment is mined, pass its block number so every other
    authority node gets the exact switch point (xDai switched the same way, list then safeContract).
    """
    if proposer_set_block < 1:
        raise ValueError("ProposerSet is deployed by a transaction, so its code exists from block 1 at the earliest")
    aux = plan.auxiliary
    genesis = genesis_json(plan, initial_proposer, ost_prime, timestamp=timestamp)
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
            "validators": {"multi": {
                "0": {"list": [_address(initial_proposer, "initial proposer")]},
                str(proposer_set_block + 1): {"safeContract": _address(proposer_set, "ProposerSet")},
            }},
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
            "difficulty": AURA_GENESIS_DIFFICULTY,
            "author": units.ZERO_ADDRESS,
            "timestamp": genesis["timestamp"],
            "parentHash": ZERO_HASH,
            "extraData": genesis["extraData"],
            "gasLimit": genesis["gasLimit"],
        },
        "accounts": accounts,
    }


def dumps_json(data: Mapping[str, Any]) -> bytes:
    """The one JSON form of genesis files: fixed key order and indentation, so equal data is equal bytes."""
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def genesis_differences(path: str | os.PathLike[str], expected: Mapping[str, Any]) -> list[str]:
    """Dotted keys where the JSON file at `path` differs from `expected`; empty when it matches.

    A resumed run checks the genesis it finds before trusting a node started from it: a different
    allocation or chain id there would be a different chain. An unreadable file differs at "(file)".
    """
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["(file)"]
    return _differences(found, json.loads(json.dumps(expected)), "")


_MISSING = object()  # a key one side lacks differs from any value, even null


def _differences(found: Any, expected: Any, where: str) -> list[str]:
    if isinstance(found, dict) and isinstance(expected, dict):
        keys = sorted(set(found) | set(expected))
        return [d for key in keys for d in _differences(found.get(key, _MISSING), expected.get(key, _MISSING),
                                                        f"{where}.{key}" if where else str(key))]
    return [] if found == expected else [where or "(root)"]


def genesis_matches(path: str | os.PathLike[str], expected: Mapping[str, Any]) -> bool:
    return not genesis_differences(path, expected)


def write_genesis_files(out_dir: str | os.PathLike[str], plan: Plan, initial_proposer: str, ost_prime: str,
                        proposer_set: str, *, proposer_set_block: int = BOOTSTRAP_DEPLOYMENTS,
                        validator_signers: Sequence[str] | None = None, timestamp: int = 0) -> dict[str, Path]:
    """Write genesis.json, spec.json, node.toml and docker-compose.yml (all public, 0644) into `out_dir`.

    `validator_signers` are the auxiliary addresses of the authority nodes in the compose sketch
    (the plan's validators by default). Returns the paths under the step-3 output names.
    """
    out = Path(out_dir)
    signers = list(validator_signers) if validator_signers is not None else \
        [v.auxiliary_address for v in plan.validators]
    genesis = genesis_json(plan, initial_proposer, ost_prime, timestamp=timestamp)
    spec = aura_spec(plan, initial_proposer, ost_prime, proposer_set, proposer_set_block=proposer_set_block,
                     timestamp=timestamp)
    return {
        "genesis_path": atomic_write(out / "genesis.json", dumps_json(genesis)),
        "spec_path": atomic_write(out / "spec.json", dumps_json(spec)),
        "node_config_path": atomic_write(out / authority.NODE_CONFIG, node_config(
            plan, initial_proposer, switch_block=proposer_set_block + 1).encode("utf-8")),
        "compose_path": atomic_write(out / authority.COMPOSE_FILE,
                                     compose_sketch(plan, initial_proposer, signers).encode("utf-8")),
    }


__all__ = ["BOOTSTRAP_DEPLOYMENTS", "HARDFORK", "anvil_flags", "aura_spec", "compose_sketch", "dumps_json",
           "genesis_differences", "genesis_json", "genesis_matches", "node_config", "write_genesis_files"]
