"""Small web3 helpers for contract tests: deploy an artifact, send a call, read a revert reason."""

from __future__ import annotations

from typing import Any

from mosaic_tui.contracts import load_artifact


class Reverted(AssertionError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"reverted: {reason}")


def _send(w3: Any, tx: dict[str, Any], sender: Any) -> Any:
    """Send from a dev account (address string, unlocked on anvil) or an eth-account LocalAccount."""
    if isinstance(sender, str):
        tx_hash = w3.eth.send_transaction({**tx, "from": sender})
    else:
        tx = {**tx, "from": sender.address}
        tx.setdefault("nonce", w3.eth.get_transaction_count(sender.address, "pending"))
        tx.setdefault("chainId", w3.eth.chain_id)
        tx.setdefault("gas", int(w3.eth.estimate_gas(tx) * 1.3))
        if "gasPrice" not in tx:
            tx.setdefault("maxFeePerGas", w3.eth.gas_price * 2 + 1)
            tx.setdefault("maxPriorityFeePerGas", 0)
        tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def revert_reason(error: Exception) -> str:
    text = str(error.args[0] if error.args else error)
    if isinstance(error.args[0] if error.args else None, dict):
        text = str(error.args[0].get("message", text))
    return text.replace("execution reverted: ", "").strip()


def deploy(w3: Any, name: str, *args: Any, sender: Any = None, **tx: Any) -> Any:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    sender = sender or w3.eth.accounts[0]
    built = factory.constructor(*args).build_transaction(
        {"from": sender if isinstance(sender, str) else sender.address, **tx})
    built.pop("to", None)
    receipt = _send(w3, {k: v for k, v in built.items() if k in ("data", "value", "gasPrice")} | tx, sender)
    assert receipt.status == 1, f"deploying {name} failed"
    return w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"])


def transact(w3: Any, fn: Any, sender: Any = None, **tx: Any) -> Any:
    """Call a contract function in a transaction; raises Reverted with the reason if it would revert."""
    from web3.exceptions import ContractLogicError

    sender = sender or w3.eth.accounts[0]
    address = sender if isinstance(sender, str) else sender.address
    try:
        fn.call({"from": address, **tx})
    except ContractLogicError as error:
        raise Reverted(revert_reason(error)) from None
    built = fn.build_transaction({"from": address, **tx})
    receipt = _send(w3, {k: v for k, v in built.items() if k in ("to", "data", "value", "gasPrice")} | tx, sender)
    assert receipt.status == 1, "transaction failed on chain"
    return receipt
