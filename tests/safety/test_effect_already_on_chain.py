"""Issue 13 item 2: an action whose effect is already on chain is done, whoever caused it.

`OSTPrime.mint` is open to anyone. A third party mints one stake's base coin in the very block where
ours is mined first in line, so our journalled mint reverts ("already minted"). Before the fix every
later run re-signed it, the estimate reverted, and hand-over and the gas price rise never happened.
Now the action is done (the base coin is minted once), and the deployment finishes and verifies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from mosaic_tui import deploy, devnet, events, verify
from mosaic_tui.errors import StepFailed
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan


def test_a_mint_a_third_party_made_first_completes_the_action_and_the_deployment(anvil_factory: Any,
                                                                                 tmp_path: Path) -> None:
    node = anvil_factory()
    plan_path = tmp_path / "mosaic-plan.toml"
    devnet_dir = tmp_path / "devnet"
    aux_url = f"http://127.0.0.1:{devnet.free_port()}"
    deploy.write_devnet_plan(plan_path, 1, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                             auxiliary_url=aux_url)
    devnet.add_node(devnet_dir, node)  # a devnet plan runs only on a node the devnet record names
    front_run: dict[str, Any] = {}

    def third_party_mints_first(event: events.Event) -> None:
        if isinstance(event, events.TxConfirmed) and event.action == "4.prove_gateway":
            devnet.rpc_call(aux_url, "evm_setAutomine", [False])  # our mints wait in the pool
        if isinstance(event, events.TxSigned) and event.action.startswith("4.mint.") and not front_run:
            ours = devnet.rpc_call(aux_url, "eth_getTransactionByHash", [event.tx_hash])  # in the pool
            someone = Account.create()
            devnet.rpc_call(aux_url, "anvil_setBalance", [someone.address, hex(10**18)])
            signed = someone.sign_transaction({"to": to_checksum_address(ours["to"]), "data": ours["input"],
                                               "gas": 3_000_000, "gasPrice": 50 * 10**9,
                                               "nonce": 0, "chainId": load_plan(plan_path).auxiliary.chain_id})
            front_run["hash"] = devnet.rpc_call(aux_url, "eth_sendRawTransaction",
                                                ["0x" + bytes(signed.raw_transaction).hex()])
            front_run["action"] = event.action
            devnet.rpc_call(aux_url, "evm_mine")  # the higher-paying third party goes first in the block
            devnet.rpc_call(aux_url, "evm_setAutomine", [True])

    def run(hook: Any) -> str:
        try:
            deploy.execute(deploy.prepare(plan_path, devnet_dir=devnet_dir), hook)
        except StepFailed as failure:
            return f"failed: {failure}"
        return "done"

    try:
        outcomes = [run(third_party_mints_first)]
        if outcomes[0] != "done":
            outcomes.append(run(lambda event: None))  # the operator runs the same command again
        assert outcomes[-1] == "done", outcomes
        receipt = devnet.rpc_call(aux_url, "eth_getTransactionReceipt", [front_run["hash"]])
        assert int(receipt["status"], 16) == 1  # the third party's mint is the one that counted
        journal = Journal.load(journal_path(plan_path))
        entry = journal.entry(front_run["action"])
        assert entry is not None and entry.status == "confirmed"
        assert entry.receipt is not None and entry.receipt.status == 0  # ours reverted, and is kept
        plan = load_plan(plan_path)
        outputs = journal.outputs()
        checks = verify.run_checks(plan, outputs)
        assert [c for c in checks if not c.ok] == []
        # The base coin was released once: the beneficiary holds exactly its stake's amount.
        stake = next(s for s in outputs["gateway_stakes"] if front_run["action"].endswith(f"{s['staker']}.{s['nonce']}"))
        balance = int(devnet.rpc_call(aux_url, "eth_getBalance", [stake["beneficiary"], "latest"]), 16)
        assert balance == int(stake["amount"])
    finally:
        for started in devnet.load_record(devnet_dir).values():
            if started.pid != node.pid:  # the origin node is the fixture's to stop
                started.stop()
