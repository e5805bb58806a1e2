"""A strict checker of the auxiliary node files against what Nethermind's loaders read.

The field sets below are written from Nethermind's source (NethermindEth/nethermind, master), file by
file; a key outside them is one the client ignores or rejects, so the checker refuses it. Keys are
matched case-insensitively, as Nethermind's JSON loader and config binder do.

- Chain spec: `src/Nethermind/Nethermind.Specs/ChainSpecStyle/Json/ChainSpecJson.cs` (top level,
  `EngineJson`, `AuraEngineParamsJson`, `AuRaValidatorJson`), `ChainSpecParamsJson.cs`,
  `ChainSpecGenesisJson.cs`, `ChainSpecSealJson.cs` + `ChainSpecAuRaSealJson.cs`,
  `AllocationJson.cs`, `BuiltInJson.cs` (pricing keyed by activation block, which is why every
  repriced precompile uses the `{"0": {"price": ...}}` form).
- Node config (`*.cfg`, one section per config interface): `Nethermind.Api/IInitConfig.cs`,
  `Nethermind.JsonRpc/IJsonRpcConfig.cs`, `Nethermind.Consensus/IMiningConfig.cs`,
  `Nethermind.KeyStore/Config/IKeystoreConfig.cs`, `Nethermind.Consensus.AuRa/Config/IAuraConfig.cs`,
  `Nethermind.Config/IBlocksConfig.cs`, `Nethermind.Network/Config/NetworkConfig.cs`.
- geth-style genesis.json: `GethGenesisJson.cs` / `GethGenesisConfigJson.cs` / `GethGenesisAllocJson.cs`
  (the same fields go-ethereum's `core.Genesis` reads).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SPEC_TOP = {"name", "datadir", "engine", "params", "genesis", "nodes", "accounts"}
ENGINE = {"ethash", "clique", "authorityround", "nethdev"}
AURA_PARAMS = {"stepduration", "blockreward", "maximumunclecounttransition", "maximumunclecount",
               "blockrewardcontractaddress", "blockrewardcontracttransition", "validatescoretransition",
               "validatesteptransition", "validators"}
AURA_VALIDATORS = {"list", "contract", "safecontract", "multi"}
PARAMS = {"chainid", "networkid", "registrar", "gaslimitbounddivisor", "accountstartnonce", "maximumextradatasize",
          "mingaslimit", "forkblock", "forkcanonhash", "maxcodesize", "maxcodesizetransition",
          "transactionpermissioncontract", "transactionpermissioncontracttransition", "validatechainidtransition",
          "validatereceiptstransition", "eip1559basefeeinitialvalue", "eip1559basefeemaxchangedenominator",
          "eip1559elasticitymultiplier", "terminaltotaldifficulty", "terminalpowblocknumber",
          *(f"eip{n}transition" for n in (7, 150, 152, 155, 160, 140, 211, 214, 658, 145, 1014, 1052, 1108, 1283,
                                           1344, 1706, 1884, 2028, 2200, 1559, 2315, 2537, 2565, 2929, 2930, 3198,
                                           3529, 3541, 3607)),
          "eip161abctransition", "eip161dtransition", "eip1283disabletransition", "eip1283reenabletransition"}
GENESIS = {"name", "datadir", "seal", "difficulty", "author", "timestamp", "parenthash", "extradata", "gaslimit",
           "basefeepergas", "stateroot", "blobgasused", "excessblobgas", "parentbeaconblockroot"}
SEAL = {"ethereum", "authorityround"}
AURA_SEAL = {"step", "signature"}
ALLOCATION = {"builtin", "balance", "nonce", "code", "constructor", "storage"}
BUILTIN = {"name", "pricing"}
# Pricing kinds Nethermind reads inside {"<block>": {"price": {...}}} (ChainSpecLoader's builtin checks).
PRICED_BUILTINS = {"modexp": "modexp2565", "alt_bn128_add": "alt_bn128_const_operations",
                   "alt_bn128_mul": "alt_bn128_const_operations", "alt_bn128_pairing": "alt_bn128_pairing",
                   "blake2_f": "blake2_f"}

CONFIG = {
    "init": {"enableunsecureddevwallet", "keepdevwalletinmemory", "websocketsenabled", "discoveryenabled",
             "processingenabled", "peermanagerenabled", "ismining", "chainspecpath", "hivechainspecpath",
             "pluginsdirectory", "basedbpath", "genesishash", "staticnodespath", "logfilename", "logdirectory",
             "storereceipts", "receiptsmigration", "diagnosticmode", "rpcdburl", "memoryhint"},
    "jsonrpc": {"enabled", "host", "port", "websocketsport", "enabledmodules", "timeout", "requestqueuelimit",
                "enginehost", "engineport", "enginesecretfile", "additionalrpcurls", "maxbatchsize", "gascap"},
    "mining": {"enabled"},
    "keystore": {"keystoredirectory", "keystoreencoding", "kdf", "cipher", "kdfparamsdklen", "kdfparamsn",
                 "kdfparamsp", "kdfparamsr", "kdfparamssaltlen", "symmetricencrypterblocksize",
                 "symmetricencrypterkeysize", "ivsize", "testnodekey", "blockauthoraccount", "enodeaccount",
                 "enodekeyfile", "passwords", "passwordfiles", "unlockaccounts"},
    "aura": {"forcesealing", "allowauraprivatechains", "minimum2mlngasperblockwhenusingblockgaslimitcontract",
             "txprioritycontractaddress", "txpriorityconfigfilepath"},
    "blocks": {"targetblockgaslimit", "mingasprice", "randomizedblocks", "extradata", "secondsperslot",
               "blockproductiontimeoutms", "genesistimeoutms"},
    "network": {"externalip", "localip", "staticpeers", "onlystaticpeers", "trustedpeers", "ispeerspersistenceon",
                "activepeersmaxcount", "discoveryport", "p2pport"},
}
# What an authority node's config must set (issue 11): the rest may take Nethermind's defaults.
REQUIRED_CONFIG = {"init": {"chainspecpath"}, "jsonrpc": {"enabled", "host", "port"}, "mining": {"enabled"},
                   "keystore": {"blockauthoraccount", "unlockaccounts", "passwordfiles", "keystoredirectory",
                                "enodekeyfile"},
                   "aura": {"allowauraprivatechains", "forcesealing"}, "blocks": {"mingasprice"},
                   "network": {"staticpeers"}}

GETH_TOP = {"config", "nonce", "timestamp", "extradata", "gaslimit", "difficulty", "mixhash", "coinbase", "alloc",
            "number", "gasused", "parenthash", "basefeepergas"}
GETH_CONFIG = {"chainid", "homesteadblock", "daoforkblock", "daoforksupport", "eip150block", "eip155block",
               "eip158block", "byzantiumblock", "constantinopleblock", "petersburgblock", "istanbulblock",
               "muirglacierblock", "berlinblock", "londonblock", "clique", "ethash"}
GETH_ALLOC = {"balance", "nonce", "code", "storage"}

HEX = re.compile(r"^0x[0-9a-f]*$")
ENODE = re.compile(r"^enode://[0-9a-f]{128}@\d{1,3}(\.\d{1,3}){3}:\d+$")


def _keys(where: str, data: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    return [f"{where}.{key}: Nethermind does not read this key" for key in data if key.lower() not in allowed]


def _hex_word(where: str, value: Any) -> list[str]:
    return [] if isinstance(value, str) and HEX.match(value) and len(value) == 66 else [f"{where}: not a 32-byte hex word"]


def check_spec(spec: Mapping[str, Any]) -> list[str]:
    problems = _keys("spec", spec, SPEC_TOP)
    engine = spec.get("engine", {})
    problems += _keys("engine", engine, ENGINE)
    aura = engine.get("authorityRound", {})
    if set(aura) != {"params"}:
        problems.append("engine.authorityRound: must hold exactly 'params'")
    params = aura.get("params", {})
    problems += _keys("engine.authorityRound.params", params, AURA_PARAMS)
    validators = params.get("validators", {})
    problems += _keys("validators", validators, AURA_VALIDATORS)
    if len(validators) != 1:
        problems.append("validators: exactly one validator source")
    problems += _keys("params", spec.get("params", {}), PARAMS)
    genesis = spec.get("genesis", {})
    problems += _keys("genesis", genesis, GENESIS)
    seal = genesis.get("seal", {})
    problems += _keys("genesis.seal", seal, SEAL)
    problems += _keys("genesis.seal.authorityRound", seal.get("authorityRound", {}), AURA_SEAL)
    for node in spec.get("nodes", []):
        if not ENODE.match(node):
            problems.append(f"nodes: {node!r} is not an enode URL with an IP address")
    for address, account in spec.get("accounts", {}).items():
        problems += _keys(f"accounts.{address}", account, ALLOCATION)
        builtin = account.get("builtin")
        if builtin is not None:
            problems += _keys(f"accounts.{address}.builtin", builtin, BUILTIN | {"activate_at"})
            kind = PRICED_BUILTINS.get(builtin["name"])
            if kind is not None:
                pricing = builtin["pricing"]
                if not all(re.fullmatch(r"\d+", key) for key in pricing):
                    problems.append(f"accounts.{address}.builtin.pricing: {builtin['name']} must be priced per "
                                    "block ({\"0\": {\"price\": ...}}), or Nethermind does not enable it")
                elif kind not in pricing.get("0", {}).get("price", {}):
                    problems.append(f"accounts.{address}.builtin.pricing: no {kind} price from block 0")
        for slot, value in (account.get("storage") or {}).items():
            problems += _hex_word(f"accounts.{address}.storage key", slot) + _hex_word(f"accounts.{address}.storage", value)
    return problems


def check_genesis_json(genesis: Mapping[str, Any]) -> list[str]:
    problems = _keys("genesis.json", genesis, GETH_TOP)
    problems += _keys("genesis.json config", genesis.get("config", {}), GETH_CONFIG)
    for address, account in genesis.get("alloc", {}).items():
        problems += _keys(f"alloc.{address}", account, GETH_ALLOC)
    return problems


def check_node_config(config: Mapping[str, Any]) -> list[str]:
    problems = _keys("config", config, CONFIG)
    for section, keys in config.items():
        problems += _keys(section, keys, CONFIG.get(section.lower(), set()))
    for section, needed in REQUIRED_CONFIG.items():
        present = {k.lower() for s, keys in config.items() if s.lower() == section for k in keys}
        problems += [f"{section}.{key}: must be set" for key in sorted(needed - present)]
    peers = next((v for s, keys in config.items() if s.lower() == "network" for k, v in keys.items()
                  if k.lower() == "staticpeers"), "")
    for enode in filter(None, str(peers).split(",")):
        if not ENODE.match(enode):
            problems.append(f"Network.StaticPeers: {enode!r} is not an enode URL")
    return problems


def check_out_dir(out: Path) -> list[str]:
    """Every generated file under `out`, each against the loader that reads it."""
    problems = check_genesis_json(json.loads((out / "genesis.json").read_text()))
    spec = json.loads((out / "spec.json").read_text())
    problems += check_spec(spec)
    configs = sorted(out.glob("nodes/*/nethermind.cfg"))
    if not configs:
        problems.append("no node configs under nodes/")
    enodes = set(spec.get("nodes", []))
    for path in configs:
        config = json.loads(path.read_text())
        problems += [f"{path.parent.name}: {p}" for p in check_node_config(config)]
        copy = path.parent / "spec.json"
        if copy.read_bytes() != (out / "spec.json").read_bytes():
            problems.append(f"{path.parent.name}: its spec.json is not out/spec.json")
        peers = set(filter(None, config["Network"]["StaticPeers"].split(",")))
        if not peers < enodes or len(peers) != len(enodes) - 1:
            problems.append(f"{path.parent.name}: its static peers are not every other node of spec.json")
        key = path.parent / "keystore" / "node.key.plain"
        if not key.is_file() or key.stat().st_size != 32 or key.stat().st_mode & 0o077:
            problems.append(f"{path.parent.name}: keystore/node.key.plain must be 32 bytes, mode 0600")
        for secret in path.parent.glob("keystore/*"):
            if secret.stat().st_mode & 0o077:
                problems.append(f"{secret}: a secret file readable by others")
    return problems
