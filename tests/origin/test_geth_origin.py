"""geth --dev as the origin chain: what operators really point this tool at.

A whole deployment runs on it (the deployer is the node's unlocked developer account, `node` in the
plan; the validators are keystore accounts it funded) with the set-up block waiting for geth's own
"finalized" block, and `verify` passes. geth's headers decode in the contracts, its proofs check out,
and its 128-block state window is met for real: the kept proofs finish a deployment whose set-up
block state geth no longer has.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import to_checksum_address

from mosaic_tui import events
from mosaic_tui.chain import proofs
from mosaic_tui.chain.header import verified_header
from mosaic_tui.chain.rpc import rpc_error_sentence
from mosaic_tui.devnet import DevnetError
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.setup_block import kept_proofs
from tests.helpers import deploy as deploy_contract
from tests.helpers import transact
from tests.origin.conftest import make_origin_world, run_deployment, world_plan, write_plan
from tests.origin.geth import STATE_WINDOW

pytestmark = pytest.mark.slow


def test_a_whole_deployment_on_geth_waits_for_finality_and_verifies(geth_factory: Any, operator: Any, passphrase: Any,
                                                                     tmp_path: Path) -> None:
    geth = geth_factory(period=1)
    world = make_origin_world(geth.w3, geth.rpc_url, tmp_path, 2)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations="finalized"))
    operator.watch(plan_path)

    deployed = run_deployment(plan_path)

    assert deployed.failed_checks() == []
    outputs = deployed.outputs
    setup = int(outputs["setup_block_number"])
    finalized = int(geth.rpc("eth_getBlockByNumber", "finalized", False)["number"], 16)
    assert finalized >= setup
    # The wait was shown in the words of the issue: "set-up block 1234 finalised in ~6 min, 31/64".
    waits = [w for w in deployed.waits() if w.startswith(f"set-up block {setup} finalised in ~")]
    assert waits and all(w.rsplit(", ", 1)[1].count("/") == 1 for w in waits)
    # The deployer was geth's own unlocked account: it signed step 1.
    senders = {e.sender for e in Journal.load(journal_path(plan_path)).entries() if e.action_id.startswith("1.")}
    assert senders == {to_checksum_address(geth.dev_account)}
    print("\n".join(waits))


def test_geth_headers_of_its_current_fork_decode_in_the_contracts(geth_factory: Any) -> None:
    geth = geth_factory(period=0)
    harness = deploy_contract(geth.w3, "ProofHarness")  # on geth itself: its EVM runs our bytecode too
    for _ in range(3):
        geth.w3.eth.wait_for_transaction_receipt(geth.send("0x000000000000000000000000000000000000dEaD", 1))
    for number in range(1, geth.block_number() + 1):
        block = geth.rpc("eth_getBlockByNumber", hex(number), False)
        encoded = verified_header(block)  # rebuilt in Python, hashing to geth's block hash
        assert "requestsHash" in block and len(rlp.decode(encoded)) >= 21  # Prague or later
        decoded = harness.functions.decodeHeader(encoded).call()
        assert decoded == (bytes.fromhex(block["hash"][2:]), bytes.fromhex(block["parentHash"][2:]),
                           bytes.fromhex(block["stateRoot"][2:]), bytes.fromhex(block["transactionsRoot"][2:]),
                           number, int(block["gasUsed"], 16))


def test_geth_proofs_check_against_its_state_root_here_and_in_the_contracts(geth_factory: Any) -> None:
    geth = geth_factory(period=0)
    w3 = geth.w3
    fixture = deploy_contract(w3, "StorageFixture")
    transact(w3, fixture.functions.setPlain(b"\x07" * 32))
    block = geth.rpc("eth_getBlockByNumber", "latest", False)
    proof = geth.rpc("eth_getProof", fixture.address, ["0x" + proofs.slot_key(0).hex()], block["number"])
    root = bytes.fromhex(block["stateRoot"][2:])
    proofs.check_account_proof(root, proof)  # raises ProofError when a node or value does not match
    account, nodes = proofs.account_proof_args(proof)
    harness = deploy_contract(w3, "ProofHarness")
    assert harness.functions.mptVerify(account, proofs.account_path(fixture.address), nodes, root).call()
    assert proofs.storage_slot_value(proof) == int.from_bytes(b"\x07" * 32, "big")
    forged = dict(proof, balance=hex(int(proof["balance"], 16) + 1))
    with pytest.raises(proofs.ProofError, match="does not match the state root"):
        proofs.check_account_proof(root, forged)


def test_state_older_than_128_blocks_is_gone_on_geth_and_the_kept_proofs_still_finish(
        geth_factory: Any, operator: Any, passphrase: Any, tmp_path: Path) -> None:
    geth = geth_factory(period=0)  # a block per transaction: 130 blocks take seconds, not minutes
    world = make_origin_world(geth.w3, geth.rpc_url, tmp_path, 2)
    plan_path = write_plan(tmp_path, world_plan(world, confirmations=2))
    seen: dict[str, Any] = {}

    def pump_blocks(setup: int) -> None:
        while geth.block_number() < setup + STATE_WINDOW + 4 and not operator.stop.is_set():
            geth.w3.eth.wait_for_transaction_receipt(geth.send("0x000000000000000000000000000000000000dEaD", 1))

    def hook(event: events.Event) -> None:
        # The confirmations come from these blocks (unless the set-up block is deep enough already), and
        # then the state window passes.
        waiting = isinstance(event, events.Waiting) and event.reason.startswith("set-up block")
        if (waiting or isinstance(event, events.StepDone) and event.step == "2") and "pump" not in seen:
            seen["pump"] = threading.Thread(target=pump_blocks, args=(geth.block_number(),), daemon=True)
            seen["pump"].start()

    def ready() -> bool:
        """The operator is slow: the auxiliary node starts only once geth has dropped the set-up state."""
        outputs = Journal.load(journal_path(plan_path)).outputs()
        if "setup_block_number" not in outputs:
            return False
        try:
            geth.rpc("eth_getProof", outputs["origin_core"], [], hex(outputs["setup_block_number"]))
        except DevnetError as error:
            seen["error"] = str(error)
            return True
        return False

    operator.watch(plan_path, ready)
    deployed = run_deployment(plan_path, hook)

    assert "historical state" in seen["error"] and "is not available" in seen["error"]
    assert deployed.failed_checks() == []
    kept = kept_proofs(deployed.outputs)
    assert kept is not None and kept.block_number == deployed.outputs["setup_block_number"]
    assert geth.block_number() - kept.block_number > STATE_WINDOW
    # What web3 raises for geth's answer is the raw JSON-RPC dict; the program says it in words.
    with pytest.raises(Exception) as raised:
        geth.w3.eth.get_proof(deployed.outputs["origin_core"], [], kept.block_number)
    assert str(raised.value).startswith("{'code': -32000")
    sentence = rpc_error_sentence(raised.value)
    assert sentence is not None and sentence.startswith(
        "the node no longer has the state of that block (a full node keeps only the latest ~128 blocks' state) "
        "(historical state ")
