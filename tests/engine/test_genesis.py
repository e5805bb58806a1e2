"""Genesis files of the auxiliary chain: anvil runs genesis.json as planned; spec.json is a whole Aura spec."""

from __future__ import annotations

import gzip
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from mosaic_tui import genesis
from mosaic_tui.errors import InputError
from mosaic_tui.plan import Plan, load_plan
from mosaic_tui.runner import create_address

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "example-plan.toml"
# A made-up key for the initial proposer: it only signs on a throwaway anvil node.
PROPOSER = Account.from_key(keccak(text="mosaic-tui genesis test initial proposer"))
OST_PRIME_NONCE, PROPOSER_SET_NONCE = 4, 5  # their places in the bootstrap (tests/contracts/aux_setup.py)


OST_PRIME = create_address(PROPOSER.address, OST_PRIME_NONCE)
PROPOSER_SET = create_address(PROPOSER.address, PROPOSER_SET_NONCE)


@pytest.fixture
def plan() -> Plan:
    return load_plan(EXAMPLE)


def write(out: Path, plan: Plan, **kw: Any) -> dict[str, Path]:
    return genesis.write_genesis_files(out, plan, PROPOSER.address, OST_PRIME, PROPOSER_SET, **kw)


def dumped_balances(w3: Any) -> dict[str, int]:
    """Every account anvil holds, with its balance (anvil_dumpState is gzipped JSON of the whole state)."""
    raw = w3.provider.make_request("anvil_dumpState", [])["result"]
    state = json.loads(gzip.decompress(bytes.fromhex(raw[2:])))
    return {to_checksum_address(address): int(account["balance"], 16) for address, account in state["accounts"].items()}


def send(w3: Any, tx: dict[str, Any]) -> Any:
    signed = PROPOSER.sign_transaction({"chainId": w3.eth.chain_id, "gas": 100_000, **tx})
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30)


def test_anvil_runs_the_genesis_with_the_supply_as_the_only_coin(tmp_path: Path, plan: Plan, anvil_factory) -> None:
    paths = write(tmp_path, plan)
    node = anvil_factory(name="auxiliary", genesis=paths["genesis_path"], chain_id=plan.auxiliary.chain_id,
                         hardfork="berlin", accounts=0, extra_args=genesis.anvil_flags(plan))
    w3 = node.w3
    assert w3.eth.chain_id == plan.auxiliary.chain_id == 1405
    assert w3.eth.accounts == []
    assert w3.eth.get_balance(OST_PRIME) == plan.auxiliary.base_coin_supply
    holders = {address: balance for address, balance in dumped_balances(w3).items() if balance}
    assert holders == {OST_PRIME: plan.auxiliary.base_coin_supply}
    block = w3.eth.get_block(0)
    assert block.gasLimit == plan.auxiliary.gas_limit
    assert "baseFeePerGas" not in block  # Berlin: no base fee

    # The unfunded initial proposer bootstraps at a zero gas price, with legacy transactions only.
    assert w3.eth.get_balance(PROPOSER.address) == 0
    receipts = [send(w3, {"nonce": nonce, "gasPrice": 0, "data": "0x00"}) for nonce in range(OST_PRIME_NONCE + 1)]
    assert [r.status for r in receipts] == [1] * (OST_PRIME_NONCE + 1)
    assert receipts[0].effectiveGasPrice == 0 and receipts[0].type == 0
    # CREATE at the proposer's nonce 4 lands on the funded address, which keeps the whole supply.
    assert receipts[OST_PRIME_NONCE].contractAddress == OST_PRIME
    assert w3.eth.get_balance(OST_PRIME) == plan.auxiliary.base_coin_supply
    assert w3.eth.get_balance(PROPOSER.address) == 0
    with pytest.raises(Exception, match="EIP-1559"):
        w3.eth.send_raw_transaction(PROPOSER.sign_transaction(
            {"chainId": 1405, "nonce": OST_PRIME_NONCE + 1, "gas": 21_000, "to": OST_PRIME, "value": 0,
             "maxFeePerGas": 0, "maxPriorityFeePerGas": 0}).raw_transaction)


def test_genesis_json_runs_berlin_with_one_allocation(plan: Plan) -> None:
    data = genesis.genesis_json(plan, PROPOSER.address, OST_PRIME)
    config = data["config"]
    assert config["chainId"] == 1405
    assert config["berlinBlock"] == 0 and config["istanbulBlock"] == 0 and config["homesteadBlock"] == 0
    assert not any(key.startswith(("london", "shanghai", "cancun", "arrowGlacier", "grayGlacier")) for key in config)
    assert "baseFeePerGas" not in data
    assert int(data["gasLimit"], 16) == plan.auxiliary.gas_limit
    assert data["extraData"] == plan.core_identifier
    assert data["alloc"] == {OST_PRIME.lower(): {"balance": hex(plan.auxiliary.base_coin_supply)}}


def test_spec_json_is_an_aura_spec_of_the_same_chain(tmp_path: Path, plan: Plan) -> None:
    spec = json.loads(write(tmp_path, plan)["spec_path"].read_text())
    params = spec["engine"]["authorityRound"]["params"]
    assert params["stepDuration"] == plan.auxiliary.block_time == 5
    assert params["blockReward"] == "0x0"
    # The initial proposer seals alone; from the block after ProposerSet's deployment the contract decides.
    assert params["validators"] == {"multi": {
        "0": {"list": [PROPOSER.address.lower()]},
        str(genesis.BOOTSTRAP_DEPLOYMENTS + 1): {"safeContract": PROPOSER_SET.lower()},
    }}
    chain = spec["params"]
    assert int(chain["networkID"], 16) == int(chain["chainID"], 16) == 1405
    assert chain["gasLimitBoundDivisor"] == "0x400" and chain["maximumExtraDataSize"] == "0x20"
    assert int(chain["minGasLimit"], 16) <= plan.auxiliary.gas_limit
    for eip in ("150", "155", "160", "161abc", "161d", "140", "211", "214", "658", "145", "1014", "1052", "1344",
                "1884", "2028", "2929", "2930"):
        assert chain[f"eip{eip}Transition"] == "0x0", eip
    assert not any(key.startswith(("eip1559", "eip3198", "eip3529", "eip3541", "eip2315")) for key in chain)
    seal = spec["genesis"]["seal"]["authorityRound"]
    assert seal == {"step": "0x0", "signature": "0x" + "00" * 65}
    assert int(spec["genesis"]["gasLimit"], 16) == plan.auxiliary.gas_limit
    assert spec["genesis"]["extraData"] == plan.core_identifier
    accounts = spec["accounts"]
    builtins = {int(address, 16): account["builtin"]["name"] for address, account in accounts.items()
                if "builtin" in account}
    assert builtins == {1: "ecrecover", 2: "sha256", 3: "ripemd160", 4: "identity", 5: "modexp",
                        6: "alt_bn128_add", 7: "alt_bn128_mul", 8: "alt_bn128_pairing", 9: "blake2_f"}
    assert accounts["0x0000000000000000000000000000000000000005"]["builtin"]["pricing"] == \
        {"0": {"price": {"modexp2565": {}}}}  # EIP-2565, Berlin's modexp price
    funded = {address: account["balance"] for address, account in accounts.items() if "balance" in account}
    assert funded == {OST_PRIME.lower(): hex(plan.auxiliary.base_coin_supply)}


def test_the_contract_switch_follows_the_block_given(plan: Plan) -> None:
    spec = genesis.aura_spec(plan, PROPOSER.address, OST_PRIME, PROPOSER_SET, proposer_set_block=41)
    assert list(spec["engine"]["authorityRound"]["params"]["validators"]["multi"]) == ["0", "42"]
    with pytest.raises(ValueError, match="block 1 at the earliest"):
        genesis.aura_spec(plan, PROPOSER.address, OST_PRIME, PROPOSER_SET, proposer_set_block=0)


def test_bad_addresses_are_refused_before_anything_is_written(tmp_path: Path, plan: Plan) -> None:
    with pytest.raises(InputError) as raised:
        genesis.write_genesis_files(tmp_path, plan, PROPOSER.address, "0x1234", PROPOSER_SET)
    assert raised.value.field == "OSTPrime"
    with pytest.raises(InputError):
        genesis.aura_spec(plan, PROPOSER.address, OST_PRIME, "0x" + "00" * 20)
    assert list(tmp_path.iterdir()) == []


def test_output_is_deterministic_and_a_resumed_run_can_check_it(tmp_path: Path, plan: Plan) -> None:
    first, second = write(tmp_path / "a", plan), write(tmp_path / "b", plan)
    assert set(first) == {"genesis_path", "spec_path", "node_config_path", "compose_path"}
    for key in first:
        assert first[key].read_bytes() == second[key].read_bytes(), key
        assert first[key].stat().st_mode & 0o777 == 0o644
    expected = genesis.genesis_json(plan, PROPOSER.address, OST_PRIME)
    assert genesis.genesis_matches(first["genesis_path"], expected)

    other_chain = genesis.genesis_json(plan_with(plan, chain_id=1406), PROPOSER.address, OST_PRIME)
    assert genesis.genesis_differences(first["genesis_path"], other_chain) == ["config.chainId"]
    other_prime = genesis.genesis_json(plan, PROPOSER.address, PROPOSER_SET)
    assert set(genesis.genesis_differences(first["genesis_path"], other_prime)) == \
        {f"alloc.{OST_PRIME.lower()}", f"alloc.{PROPOSER_SET.lower()}"}
    assert genesis.genesis_differences(tmp_path / "missing.json", expected) == ["(file)"]
    assert not genesis.genesis_matches(tmp_path / "missing.json", expected)


def plan_with(plan: Plan, **aux: Any) -> Plan:
    import dataclasses

    return dataclasses.replace(plan, auxiliary=dataclasses.replace(plan.auxiliary, **aux))


def test_node_config_seals_as_the_proposer_at_the_kernel_gas_price(tmp_path: Path, plan: Plan) -> None:
    text = write(tmp_path, plan)["node_config_path"].read_text()
    config = tomllib.loads(text)
    assert config["parity"]["chain"] == "spec.json"
    assert config["rpc"]["port"] == 8546
    mining = config["mining"]
    assert mining["engine_signer"] == PROPOSER.address
    assert mining["min_gas_price"] == plan.auxiliary.gas_price == 10**9
    assert mining["reseal_on_txs"] == "all"
    assert mining["gas_floor_target"] == str(plan.auxiliary.gas_limit)
    assert config["account"] == {"unlock": [PROPOSER.address], "password": ["keys/initial-proposer.pwd"]}
    assert "zero gas price" in text and f"block {genesis.BOOTSTRAP_DEPLOYMENTS + 1}" in text

    validator = genesis.node_config(plan, plan.validators[1].auxiliary_address, password="keys/validator-1.pwd")
    assert tomllib.loads(validator)["mining"]["engine_signer"] == plan.validators[1].auxiliary_address


def test_compose_sketch_has_the_proposer_and_every_validator(tmp_path: Path, plan: Plan) -> None:
    text = write(tmp_path, plan)["compose_path"].read_text()
    services = re.findall(r"^  ([a-z0-9-]+):$", text, re.MULTILINE)
    assert services == ["initial-proposer", "validator-0", "validator-1", "validator-2"]
    signers = re.findall(r'- "--engine-signer"\n\s+- "(0x[0-9a-fA-F]{40})"', text)
    assert signers == [PROPOSER.address, *(v.auxiliary_address for v in plan.validators)]
    passwords = re.findall(r'- "--password"\n\s+- "([^"]+)"', text)
    assert passwords == [f"/mosaic/keys/{name}.pwd" for name in services]
    assert '"./spec.json:/mosaic/spec.json:ro"' in text and '"./node.toml:/mosaic/node.toml:ro"' in text
    assert re.findall(r'"127\.0\.0\.1:(\d+):8546"', text) == ["8546", "8547", "8548", "8549"]
