"""Gas used by the origin contracts, measured on a throwaway anvil node.

Deploys dev OST, OriginCore (with Stake) and OSTGateway, initializes four validators, stakes in
the gateway and commits one meta-block, then prints the gas of every deployment and call. The
numbers feed the preflight's gas estimate; nothing here is asserted.

    /tmp/venv0/bin/python benchmarks/gas_origin.py [--validators N]
"""

from __future__ import annotations

import argparse
from typing import Any

from eth_account import Account
from eth_utils import keccak

from mosaic_tui import devnet, metablock
from mosaic_tui.contracts import load_artifact

OST = 10**18


class Ledger:
    """Sends transactions from anvil's unlocked dev account and keeps the gas of each."""

    def __init__(self, w3: Any) -> None:
        self.w3 = w3
        self.sender = w3.eth.accounts[0]
        self.rows: list[tuple[str, int]] = []

    def _wait(self, label: str, tx_hash: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        if receipt.status != 1:
            raise SystemExit(f"{label} failed on chain")
        self.rows.append((label, receipt.gasUsed))
        return receipt

    def deploy(self, name: str, *args: Any) -> Any:
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = self._wait(f"deploy {name}", factory.constructor(*args).transact({"from": self.sender}))
        return self.w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"])

    def call(self, label: str, fn: Any, account: Any = None) -> Any:
        if account is None:
            return self._wait(label, fn.transact({"from": self.sender}))
        tx = fn.build_transaction({"from": account.address, "nonce": self.w3.eth.get_transaction_count(account.address)})
        return self._wait(label, self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))


def run(validator_count: int) -> list[tuple[str, int]]:
    node = devnet.start_anvil(chain_id=31337)
    try:
        w3 = node.w3
        ledger = Ledger(w3)
        identifier = node.chain_id.to_bytes(8, "big") + (1000).to_bytes(12, "big")
        token = ledger.deploy("EIP20Token", "Open Simple Token", "OST", 18, 10**9 * OST)
        core = ledger.deploy("OriginCore", identifier, token.address, 0, bytes(32), OST, 10**9)
        stake = w3.eth.contract(address=core.functions.stake().call(), abi=load_artifact("Stake")["abi"])
        gateway = ledger.deploy("OSTGateway", token.address, core.address)

        origins = [Account.from_key(keccak(text=f"bench origin {i}")) for i in range(validator_count)]
        auxiliaries = [Account.from_key(keccak(text=f"bench auxiliary {i}")) for i in range(validator_count)]
        stakes = [(100 + i) * OST for i in range(validator_count)]
        for origin, amount in zip(origins, stakes, strict=True):
            w3.eth.send_transaction({"from": ledger.sender, "to": origin.address, "value": 10**18})
            token.functions.transfer(origin.address, amount + 10 * OST).transact({"from": ledger.sender})
        for origin, amount in zip(origins, stakes, strict=True):
            ledger.call("validator approve Stake", token.functions.approve(stake.address, amount), origin)
        ledger.call(f"Stake.initialize ({validator_count} validators, opens K0)", stake.functions.initialize(
            [o.address for o in origins], [a.address for a in auxiliaries], stakes))

        ledger.call("approve OSTGateway", token.functions.approve(gateway.address, 10 * OST), origins[0])
        ledger.call("OSTGateway.stake", gateway.functions.stake(10 * OST, auxiliaries[0].address, 0), origins[0])

        kernel_hash = core.functions.openKernelHash().call()
        checkpoint = keccak(text="bench checkpoint")
        transition = metablock.Transition(identifier, kernel_hash, 1, checkpoint, 1_000_000, 1,
                                          w3.eth.get_block("latest")["hash"], keccak(text="bench transactions"))
        ledger.call("OriginCore.proposeBlock", core.functions.proposeBlock(
            0, 1, checkpoint, 1_000_000, 1, transition.origin_block_hash, transition.transaction_root))
        vote = metablock.Vote(identifier, transition.hash(), keccak(text="bench genesis"), checkpoint, 0, 10)
        verify = core.get_function_by_signature("verifyVote(bytes32,bytes32,bytes32,uint256,uint256,uint8,bytes32,bytes32)")
        counted, total = 0, sum(stakes)
        for auxiliary, weight in zip(auxiliaries, stakes, strict=True):
            signature = metablock.sign_vote(auxiliary.key, vote, node.chain_id, core.address)
            counted += weight
            label = "verifyVote (commits, opens K1)" if metablock.has_supermajority(counted, total) else "verifyVote"
            ledger.call(label, verify(vote.transition_hash, vote.source, vote.target, vote.source_height,
                                      vote.target_height, signature.v, signature.r, signature.s))
            if metablock.has_supermajority(counted, total):
                break
        return ledger.rows
    finally:
        node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validators", type=int, default=4)
    args = parser.parse_args()
    rows = run(args.validators)
    width = max(len(label) for label, _ in rows)
    for label, gas in rows:
        print(f"{label:<{width}}  {gas:>10,}")


if __name__ == "__main__":
    main()
