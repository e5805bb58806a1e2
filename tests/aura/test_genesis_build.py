"""The auxiliary genesis with its system contracts: built on a throwaway anvil, deterministic, loadable.

Before issue 11 the genesis held only OSTPrime's balance and spec.json switched validators with
`multi` at a guessed block: `test_spec_names_proposer_set_from_block_0`, `test_builtins_are_priced_per_block`
and `test_every_system_contract_is_in_the_genesis` failed on that code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak

from mosaic_tui import devnet, genesis
from mosaic_tui.contracts import load_artifact
from mosaic_tui.plan import Plan, load_plan
from mosaic_tui.verify import code_matches

from .client_fields import check_genesis_json, check_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "example-plan.toml"
PROPOSER = Account.from_key(keccak(text="mosaic-tui aura test initial proposer"))
PAID = {"message_hash": "0x" + keccak(text="deployer stake").hex(), "amount": 100 * 10**18,
        "beneficiary": PROPOSER.address, "staker": "0x" + "12" * 20, "nonce": 0}
INPUTS = genesis.GenesisInputs(
    initial_proposer=PROPOSER.address, origin_core="0x" + "0c" * 20, ost_gateway="0x" + "0a" * 20,
    setup_block_hash="0x" + keccak(text="set-up block").hex(), setup_state_root="0x" + keccak(text="root").hex(),
    setup_block_number=42, setup_timestamp=1_760_000_000, paid_in_genesis=(PAID,))


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(EXAMPLE)


@pytest.fixture(scope="module")
def built(plan: Plan) -> genesis.Genesis:
    return genesis.build(plan, INPUTS, nodes=["enode://" + "ab" * 64 + "@172.28.0.10:30303"])


def test_state_root_is_the_one_anvil_computes() -> None:
    """The trie behind the genesis hash, against anvil's own state root for a state with code and storage."""
    node = devnet.start_anvil(name="trie", chain_id=9, hardfork="berlin", accounts=0,
                              extra_args=["--disable-default-create2-deployer"])
    try:
        sender = "0x" + "77" * 20
        devnet.rpc_call(node.rpc_url, "anvil_impersonateAccount", [sender])
        devnet.rpc_call(node.rpc_url, "anvil_setBalance", [sender, hex(10**20)])
        hashes = []
        for index in range(20):  # slots 0..index and a value transfer: branches, extensions and leaves
            init = "".join(f"60{(v + 1) % 256:02x}60{v:02x}55" for v in range(index + 1)) + "60006000f3"
            hashes.append(devnet.rpc_call(node.rpc_url, "eth_sendTransaction", [{
                "from": sender, "data": "0x" + init, "gas": hex(2_000_000), "gasPrice": "0x0"}]))
            hashes.append(devnet.rpc_call(node.rpc_url, "eth_sendTransaction", [{
                "from": sender, "to": f"0x{index + 1:040x}", "value": hex(index + 1), "gasPrice": "0x0"}]))
        # The dump and the block must describe the same state: every transaction mined, no block in between
        # (on a busy machine the last one could still be on its way into a block).
        deadline = time.monotonic() + 30
        while not all(devnet.rpc_call(node.rpc_url, "eth_getTransactionReceipt", [h]) for h in hashes):
            assert time.monotonic() < deadline, "anvil never mined the test's transactions"
            time.sleep(0.1)
        latest = devnet.rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
        accounts = genesis._dumped_accounts(devnet.rpc_call(node.rpc_url, "anvil_dumpState", [], timeout=30))
        assert devnet.rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])["hash"] == latest["hash"]
    finally:
        node.stop()
    assert "0x" + genesis.state_root(accounts).hex() == latest["stateRoot"]


def test_every_system_contract_is_in_the_genesis(plan: Plan, built: genesis.Genesis) -> None:
    alloc = built.genesis["alloc"]
    for name, address in genesis.SYSTEM_ADDRESSES.items():
        account = alloc[address.lower()]
        assert code_matches(bytes.fromhex(account["code"][2:]), load_artifact(name)), name
        assert account["nonce"] == "0x1"
    assert [a.lower() for a in genesis.SYSTEM_ADDRESSES.values()] == [f"0x{0x4d01 + i:040x}" for i in range(6)]
    # All value is backed on origin: OSTPrime holds the supply less the stake paid in the genesis,
    # the proposer exactly that stake, nobody else anything.
    holders = {address: int(account["balance"], 16) for address, account in alloc.items() if int(account["balance"], 16)}
    assert holders == {genesis.SYSTEM_ADDRESSES["OSTPrime"].lower(): plan.auxiliary.base_coin_supply - PAID["amount"],
                       PROPOSER.address.lower(): PAID["amount"]}
    assert sum(holders.values()) == plan.auxiliary.base_coin_supply


def test_spec_names_proposer_set_from_block_0(built: genesis.Genesis) -> None:
    params = built.spec["engine"]["authorityRound"]["params"]
    assert params["validators"] == {"safeContract": genesis.SYSTEM_ADDRESSES["ProposerSet"].lower()}
    assert "multi" not in json.dumps(built.spec)
    assert built.spec["params"]["eip3607Transition"] == "0x0"
    # genesis.json and spec.json hold the same state.
    accounts = {a: v for a, v in built.spec["accounts"].items() if "builtin" not in v}
    assert accounts == built.genesis["alloc"]
    assert check_spec(built.spec) == [] and check_genesis_json(built.genesis) == []


def test_builtins_are_priced_per_block(built: genesis.Genesis) -> None:
    blake = built.spec["accounts"][f"0x{9:040x}"]["builtin"]
    assert blake["pricing"] == {"0": {"price": {"blake2_f": {"gas_per_round": 1}}}}
    broken = json.loads(json.dumps(built.spec))
    broken["accounts"][f"0x{9:040x}"]["builtin"]["pricing"] = {"blake2_f": {"gas_per_round": 1}}  # the old form
    assert any("blake2_f must be priced per block" in p for p in check_spec(broken))


def test_the_same_inputs_give_the_same_bytes(plan: Plan, built: genesis.Genesis, tmp_path: Path) -> None:
    again = genesis.build(plan, INPUTS, nodes=built.spec["nodes"])
    assert genesis.dumps_json(again.genesis) == genesis.dumps_json(built.genesis)
    assert genesis.dumps_json(again.spec) == genesis.dumps_json(built.spec)
    assert again.hash == built.hash and built.hash.startswith("0x") and len(built.hash) == 66
    # The chain id is not in the genesis hash (no client puts it there), but it is in both files.
    other_chain = genesis.build(dataclasses.replace(plan, auxiliary=dataclasses.replace(plan.auxiliary, chain_id=1406)),
                                INPUTS, nodes=built.spec["nodes"])
    other_supply = genesis.build(dataclasses.replace(plan, auxiliary=dataclasses.replace(
        plan.auxiliary, base_coin_supply=plan.auxiliary.base_coin_supply + 1)), INPUTS, nodes=built.spec["nodes"])
    assert other_supply.hash != built.hash
    paths = genesis.write_genesis_files(tmp_path, built)
    assert genesis.genesis_differences(paths["genesis_path"], built.genesis) == []
    assert genesis.genesis_differences(paths["genesis_path"], other_chain.genesis) == ["config.chainId"]
    ost_prime = genesis.SYSTEM_ADDRESSES["OSTPrime"].lower()
    assert genesis.genesis_differences(paths["genesis_path"], other_supply.genesis) == [f"alloc.{ost_prime}.balance"]


def test_anvil_runs_the_genesis_with_proposer_set_enabled_by_the_first_system_call(
        plan: Plan, built: genesis.Genesis, tmp_path: Path, anvil_factory: Any) -> None:
    paths = genesis.write_genesis_files(tmp_path, built)
    node = anvil_factory(name="auxiliary", genesis=paths["genesis_path"], chain_id=plan.auxiliary.chain_id,
                         hardfork="berlin", accounts=0, extra_args=genesis.anvil_flags(plan))
    w3 = node.w3
    proposer_set = w3.eth.contract(address=genesis.SYSTEM_ADDRESSES["ProposerSet"], abi=load_artifact("ProposerSet")["abi"])
    prime = w3.eth.contract(address=genesis.SYSTEM_ADDRESSES["OSTPrime"], abi=load_artifact("OSTPrime")["abi"])
    store = w3.eth.contract(address=genesis.SYSTEM_ADDRESSES["AuxiliaryBlockStore"],
                            abi=load_artifact("AuxiliaryBlockStore")["abi"])
    assert proposer_set.functions.getValidators().call(block_identifier=0) == [PROPOSER.address]
    assert proposer_set.functions.finalized().call(block_identifier=0) is False
    assert prime.functions.minted(bytes.fromhex(PAID["message_hash"][2:])).call(block_identifier=0) is True
    assert w3.eth.get_balance(PROPOSER.address, 0) == PAID["amount"]
    assert bytes(store.functions.initialBlockHash().call()) == bytes(32)  # anchored in step 4

    # Before the engine's first finalizeChange the proposer cannot hand over; SYSTEM's call enables it.
    with pytest.raises(Exception, match="not enabled by the engine yet"):
        proposer_set.functions.handOver([PROPOSER.address]).call({"from": PROPOSER.address})
    with pytest.raises(Exception, match="only system"):
        proposer_set.functions.finalizeChange().call({"from": PROPOSER.address})
    w3.provider.make_request("anvil_impersonateAccount", [genesis.SYSTEM])
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
        {"from": w3.to_checksum_address(genesis.SYSTEM), "to": proposer_set.address, "gasPrice": 0,
         "data": proposer_set.encode_abi("finalizeChange")}))
    assert receipt.status == 1 and proposer_set.functions.finalized().call() is True
    # Called again with nothing pending: a no-op, not a revert.
    proposer_set.functions.finalizeChange().call({"from": w3.to_checksum_address(genesis.SYSTEM)})
    assert proposer_set.functions.getValidators().call() == [PROPOSER.address]
    assert proposer_set.functions.kernelSetDiffers().call() is False
    with pytest.raises(Exception, match="nothing to follow"):
        proposer_set.functions.followKernel().call({"from": PROPOSER.address})


def test_anchor_genesis_walks_back_when_the_genesis_is_older_than_256_blocks(
        plan: Plan, built: genesis.Genesis, tmp_path: Path, anvil_factory: Any) -> None:
    from mosaic_tui.chain.header import verified_header

    paths = genesis.write_genesis_files(tmp_path, built)
    node = anvil_factory(name="auxiliary", genesis=paths["genesis_path"], chain_id=plan.auxiliary.chain_id,
                         hardfork="berlin", accounts=0, extra_args=genesis.anvil_flags(plan))
    w3 = node.w3
    store = w3.eth.contract(address=genesis.SYSTEM_ADDRESSES["AuxiliaryBlockStore"],
                            abi=load_artifact("AuxiliaryBlockStore")["abi"])
    w3.provider.make_request("anvil_mine", [hex(300)])

    def header(number: int) -> bytes:
        return verified_header(w3.provider.make_request("eth_getBlockByNumber", [hex(number), False])["result"])

    sender = {"from": w3.to_checksum_address(PROPOSER.address), "gasPrice": plan.auxiliary.gas_price}
    w3.provider.make_request("anvil_impersonateAccount", [PROPOSER.address])
    # The genesis alone is no longer vouched for by BLOCKHASH; a forged start is refused.
    with pytest.raises(Exception, match="not a recent block"):
        store.functions.anchorGenesis([header(0)]).call(sender)
    # Two calls: 299..150, then 149..0 from where the first stopped.
    w3.eth.wait_for_transaction_receipt(store.functions.anchorGenesis([header(n) for n in range(299, 149, -1)])
                                        .transact(sender))
    assert bytes(store.functions.anchorSearch().call()) == bytes.fromhex(
        w3.provider.make_request("eth_getBlockByNumber", [hex(149), False])["result"]["hash"][2:])
    with pytest.raises(Exception, match="do not link"):
        store.functions.anchorGenesis([header(149), header(147)]).call(sender)
    w3.eth.wait_for_transaction_receipt(store.functions.anchorGenesis([header(n) for n in range(149, -1, -1)])
                                        .transact(sender))
    assert store.functions.initialBlockHash().call() == w3.eth.get_block(0)["hash"]
    assert store.functions.isFinalised(w3.eth.get_block(0)["hash"]).call() is True
    with pytest.raises(Exception, match="already anchored"):
        store.functions.anchorGenesis([header(0)]).call(sender)


def test_step_3_prints_the_command_lines_that_start_a_node(plan: Plan, built: genesis.Genesis, tmp_path: Path) -> None:
    """The anvil line step 3 prints while it waits runs this genesis as printed (only the port is changed)."""
    import shlex
    import subprocess
    import time
    from types import SimpleNamespace

    from mosaic_tui import toolchain
    from mosaic_tui.steps.auxiliary import start_commands

    paths = genesis.write_genesis_files(tmp_path, built)
    ctx = SimpleNamespace(plan=plan, out_dir=tmp_path, outputs=SimpleNamespace(genesis_path=str(paths["genesis_path"])))
    text = start_commands(ctx)  # type: ignore[arg-type]  # the two fields it reads
    assert "docker compose -f" in text and "up -d initial-proposer" in text
    assert "nethermind --config" in text and "nethermind.cfg" in text
    (anvil_line,) = [line.strip() for line in text.splitlines() if line.strip().startswith("anvil ")]
    args = shlex.split(anvil_line)
    for flag in ("--init", "--chain-id", "--hardfork", "--accounts", "--gas-limit", "--gas-price",
                 "--disable-default-create2-deployer"):
        assert flag in args, flag
    port = devnet.free_port()
    args[0], args[args.index("--port") + 1] = str(toolchain.anvil_path(lambda _: None)), str(port)
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while not devnet.answers(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert int(devnet.rpc_call(url, "eth_chainId"), 16) == plan.auxiliary.chain_id
        code = devnet.rpc_call(url, "eth_getCode", [genesis.SYSTEM_ADDRESSES["ProposerSet"], "0x0"])
        assert code == built.genesis["alloc"][genesis.SYSTEM_ADDRESSES["ProposerSet"].lower()]["code"]
        min_price = [line for line in text.splitlines() if "anvil_setMinGasPrice" in line]
        assert min_price and hex(plan.auxiliary.gas_price) in min_price[0]
    finally:
        process.terminate()
        process.wait(timeout=10)
