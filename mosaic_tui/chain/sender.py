"""The one transaction sender: nonces, fees, gas, signing, journal-before-broadcast, receipts.

Order of a send (ape's prepare -> fill -> sign -> send -> await, with our journal in the middle):
simulate (a revert is reported before anything is signed), take the sender's next nonce from our own
book, fill fees from the node, sign, write the signed bytes to the journal, broadcast, record "sent".
The runner does this for a whole round at once: all signed, one journal write, all broadcast.
After a crash, a journalled transaction is adopted if it was mined, waited for if the node still has
it, and rebroadcast byte for byte otherwise: the same action is never signed twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mosaic_tui.chain.rpc import ChainClient
from mosaic_tui.errors import MosaicError
from mosaic_tui.journal import ActionEntry, Journal

GAS_MARGIN = 1.25
FEE_TTL = 1.0
GAS_EXTRA = 20_000


class TxRejected(MosaicError):
    """The node refused or would revert a transaction; `reason` is the node's or contract's words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Signed:
    action_id: str
    chain: str
    sender: str
    nonce: int
    tx_hash: str
    raw: bytes


@dataclass
class Inflight:
    action_id: str
    chain: str
    tx_hash: str
    sender: str
    nonce: int


def revert_reason(error: BaseException) -> str:
    """The contract's revert string (or the node's message) from a web3 error, in plain words."""
    from web3.exceptions import ContractLogicError, Web3RPCError

    text = str(error.message or error) if isinstance(error, ContractLogicError | Web3RPCError) else str(error)
    for prefix in ("execution reverted: ", "execution reverted"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.strip().strip("'\"") or "the transaction reverted without a reason"


class TxSender:
    """Sends transactions for the runner; one instance per run, over both chains."""

    def __init__(self, journal: Journal, chains: Callable[[str], ChainClient]) -> None:
        self.journal = journal
        self._chain = chains  # looked up on use: the auxiliary chain exists only from step 3 on
        self._next_nonce: dict[tuple[str, str], int] = {}
        self._legacy_gas_price: dict[str, int | None] = {}
        self._fees: dict[str, tuple[float, dict[str, int]]] = {}

    # -- nonces -----------------------------------------------------------------------------------

    def next_nonce(self, chain: str, sender: str) -> int:
        """Allocate the sender's next nonce locally: above the node's pending count and the journal's."""
        key = (chain, sender)
        if key not in self._next_nonce:
            client = self._chain(chain)
            on_chain = client.call(f"reading the nonce of {sender}",
                                   lambda: client.w3.eth.get_transaction_count(sender, "pending"))
            # A transaction the node refused (failed, no receipt) never used its nonce: leave no gap.
            journalled = [e.nonce for e in self.journal.entries()
                          if e.chain == chain and e.sender == sender and e.nonce is not None
                          and (e.status != "failed" or e.receipt is not None)]
            self._next_nonce[key] = max([on_chain, *[n + 1 for n in journalled]])
        nonce = self._next_nonce[key]
        self._next_nonce[key] = nonce + 1
        return nonce

    def estimate(self, chain: str, sender: str, tx: dict[str, Any]) -> int:
        """Gas for `tx` with our margin; a revert becomes TxRejected with the contract's reason."""
        client = self._chain(chain)
        call = {"from": sender, **{k: v for k, v in tx.items() if k in ("to", "data", "value")}}
        try:
            estimate = client.call("estimating gas", lambda: client.w3.eth.estimate_gas(call))
        except MosaicError:
            raise
        except Exception as error:
            raise TxRejected(revert_reason(error)) from None
        return int(estimate * GAS_MARGIN) + GAS_EXTRA

    def fees(self, chain: str) -> dict[str, int]:
        """Fee fields from the node, reused for FEE_TTL seconds: a round of transactions shares them."""
        cached = self._fees.get(chain)
        if cached is not None and time.monotonic() - cached[0] < FEE_TTL:
            return cached[1]
        fees = self._read_fees(chain)
        self._fees[chain] = (time.monotonic(), fees)
        return fees

    def _read_fees(self, chain: str) -> dict[str, int]:
        client = self._chain(chain)
        legacy = self._legacy_gas_price.get(chain)
        if legacy is not None:
            return {"gasPrice": legacy}
        block = client.call("reading fees", lambda: client.w3.eth.get_block("latest"))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": client.call("reading the gas price", lambda: client.w3.eth.gas_price)}
        tip = client.call("reading the priority fee", lambda: client.w3.eth.max_priority_fee)
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base_fee + tip, "type": 2}

    def set_legacy_gas_price(self, chain: str, price: int | None) -> None:
        self._legacy_gas_price[chain] = price
        self._fees.pop(chain, None)

    def sign(self, action_id: str, chain: str, signer: Any, tx: dict[str, Any], *, gas: int, nonce: int) -> Signed:
        """Fill fees and sign; nothing is recorded or sent yet (see `record` and `broadcast`)."""
        client = self._chain(chain)
        full = {"to": None, "value": 0, "data": "0x", **tx, **self.fees(chain), "gas": gas, "nonce": nonce,
                "chainId": client.chain_id}
        if full["to"] is None:
            full.pop("to")
        raw = client.call("signing", lambda: signer.sign(client.w3, full))
        from eth_utils import keccak

        return Signed(action_id, chain, signer.address, nonce, "0x" + keccak(raw).hex(), raw)

    def record(self, signed: list[Signed]) -> None:
        """Journal signed transactions before any of them is broadcast (one write for the lot)."""
        with self.journal.batch():
            for item in signed:
                self.journal.record_signed(item.action_id, item.chain, item.sender, item.nonce, item.tx_hash,
                                           "0x" + item.raw.hex())

    def broadcast(self, signed: Signed) -> Inflight:
        self._broadcast(self._chain(signed.chain), signed.raw, signed.tx_hash)
        return self.inflight(signed)

    def known(self, signed: Signed) -> bool:
        """Whether the node holds (or mined) this transaction."""
        client = self._chain(signed.chain)
        return bool(client.call("looking up a transaction", lambda: _known(client, signed.tx_hash)))

    @staticmethod
    def inflight(signed: Signed) -> Inflight:
        return Inflight(signed.action_id, signed.chain, signed.tx_hash, signed.sender, signed.nonce)

    def broadcast_many(self, signed: list[Signed]) -> set[str]:
        """Every raw transaction in one JSON-RPC batch per chain (a round then lands in one block);
        returns the hashes the node accepted. The rest, or all when the answer is lost, go through
        `broadcast` one by one, which retries and tells "already known" from a real refusal."""
        from mosaic_tui.chain.batch import BatchClient, RpcFailure, RpcTransportError

        accepted: set[str] = set()
        for chain in sorted({item.chain for item in signed}):
            items = [item for item in signed if item.chain == chain]
            try:
                with BatchClient(self._chain(chain).url, timeout=30) as rpc:
                    answers = rpc.run([("eth_sendRawTransaction", ["0x" + item.raw.hex()]) for item in items])
            except RpcTransportError:
                continue
            accepted |= {item.tx_hash for item, answer in zip(items, answers, strict=True)
                         if not isinstance(answer, RpcFailure)}
        return accepted

    def _broadcast(self, client: ChainClient, raw: bytes, tx_hash: str) -> None:
        try:
            client.call("broadcasting a transaction", lambda: client.w3.eth.send_raw_transaction(raw))
        except MosaicError:
            raise
        except Exception as error:
            reason = revert_reason(error)
            if "already known" in reason.lower() or "already imported" in reason.lower():
                return  # the node has it: that is what we wanted
            # A retry after a lost answer: the first attempt reached the node and was mined, so the retry
            # hears "nonce too low". Called refused, the action would be signed again on the next run.
            if client.call("looking up a transaction", lambda: _known(client, tx_hash)):
                return
            raise TxRejected(reason) from None

    # -- after a restart ----------------------------------------------------------------------------

    def resume(self, entry: ActionEntry) -> tuple[Inflight, bool]:
        """Adopt or rebroadcast a journalled transaction; returns it and whether it was rebroadcast."""
        assert entry.chain and entry.tx_hash and entry.raw_tx and entry.sender is not None and entry.nonce is not None
        client = self._chain(entry.chain)
        inflight = Inflight(entry.action_id, entry.chain, entry.tx_hash, entry.sender, entry.nonce)
        for tx_hash in (entry.tx_hash, *entry.earlier_tx_hashes):
            if self.receipt(entry.chain, tx_hash) is not None:
                inflight.tx_hash = tx_hash
                return inflight, False
        known = client.call("looking up a transaction", lambda: _known(client, entry.tx_hash or ""))
        if known:
            return inflight, False
        on_chain_nonce = client.call("reading a nonce",
                                     lambda: client.w3.eth.get_transaction_count(entry.sender, "latest"))
        if on_chain_nonce > entry.nonce:
            raise TxRejected(
                f"nonce {entry.nonce} of {entry.sender} on the {entry.chain} chain was used by a transaction "
                f"this deployment did not send, so {entry.tx_hash} can never be mined. Check the account's "
                "history; nothing was re-signed.")
        self._broadcast(client, bytes.fromhex(entry.raw_tx[2:]), entry.tx_hash)
        if entry.status != "sent":
            self.journal.record_sent(entry.action_id)
        return inflight, True

    def chain(self, name: str) -> ChainClient:
        return self._chain(name)

    def receipt(self, chain: str, tx_hash: str) -> Any | None:
        client = self._chain(chain)
        return client.call("waiting for a receipt", lambda: _receipt(client, tx_hash))

    def failure_reason(self, chain: str, tx_hash: str, block_number: int) -> str:
        """Replay a reverted transaction to read the contract's reason."""
        client = self._chain(chain)
        try:
            tx = client.w3.eth.get_transaction(tx_hash)
            call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "value": tx["value"],
                    "gas": tx["gas"]}
            client.w3.eth.call(call, block_number - 1)
        except Exception as error:
            return revert_reason(error)
        return f"the transaction reverted in block {block_number} (out of gas or a failed check without reason)"


def _receipt(client: ChainClient, tx_hash: str) -> Any | None:
    from web3.exceptions import TransactionNotFound

    try:
        return client.w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None


def _known(client: ChainClient, tx_hash: str) -> bool:
    from web3.exceptions import TransactionNotFound

    try:
        client.w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return False
    return True
