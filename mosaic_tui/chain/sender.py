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
    """The node refused or would revert a transaction; `reason` is the node's or contract's words.
    `estimate`: it was the gas estimate that failed (reported as such, never as a refusal)."""

    def __init__(self, reason: str, *, estimate: bool = False) -> None:
        self.reason = reason
        self.estimate = estimate
        super().__init__(reason)


@dataclass(frozen=True)
class FeePolicy:
    """The plan's ceiling on one chain (`origin.max_fee_per_gas`, `origin.max_priority_fee_per_gas`) and when a
    stuck transaction is replaced (`origin.replace_after_blocks`)."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    replace_after_blocks: int = 3


def cap_fees(fees: dict[str, int], policy: FeePolicy | None) -> dict[str, int]:
    """`fees` never above the ceiling."""
    if policy is None:
        return dict(fees)
    out = dict(fees)
    top, top_tip = policy.max_fee_per_gas, policy.max_priority_fee_per_gas
    if "gasPrice" in out:
        if top is not None:
            out["gasPrice"] = min(out["gasPrice"], top)
        return out
    if top is not None:
        out["maxFeePerGas"] = min(out["maxFeePerGas"], top)
    if top_tip is not None:
        out["maxPriorityFeePerGas"] = min(out["maxPriorityFeePerGas"], top_tip)
    out["maxPriorityFeePerGas"] = min(out["maxPriorityFeePerGas"], out["maxFeePerGas"])
    return out


def is_replacement(fees: dict[str, int], previous: dict[str, int]) -> bool:
    """Both fees at least 10 % above the previous version's: what geth's pool asks of a replacement."""
    if "gasPrice" in fees:
        return fees["gasPrice"] >= _raised(previous.get("gasPrice", previous.get("maxFeePerGas", 0)))
    return (fees["maxFeePerGas"] >= _raised(previous.get("maxFeePerGas", previous.get("gasPrice", 0)))
            and fees["maxPriorityFeePerGas"] >= _raised(previous.get("maxPriorityFeePerGas",
                                                                      previous.get("gasPrice", 0))))


def read_fees(client: ChainClient, policy: FeePolicy | None = None) -> tuple[dict[str, int], str]:
    """Fee fields for a transaction now, under the ceiling, and where the tip came from. Nodes differ:
    eth_maxPriorityFeePerGas, else eth_feeHistory on "pending", else on "latest", else eth_gasPrice."""
    block = client.call("reading fees", lambda: client.w3.eth.get_block("latest"))
    base_fee = block.get("baseFeePerGas")
    if base_fee is None:
        price = int(client.call("reading the gas price", lambda: client.w3.eth.gas_price))
        return cap_fees({"gasPrice": price}, policy), "eth_gasPrice (no base fee)"
    tip, source = _tip(client, int(base_fee))
    return cap_fees({"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * int(base_fee) + tip, "type": 2},
                    policy), source


def _request(client: ChainClient, method: str, params: list[Any]) -> Any:
    """One JSON-RPC call whose error answer is a value (None), not an exception: a method a node lacks."""
    reply = client.call(f"asking {method}", lambda: client.w3.provider.make_request(method, params))
    if not isinstance(reply, dict) or reply.get("error") is not None:
        return None
    return reply.get("result")


def _tip(client: ChainClient, base_fee: int) -> tuple[int, str]:
    answer = _request(client, "eth_maxPriorityFeePerGas", [])
    if isinstance(answer, str):
        return int(answer, 16), "eth_maxPriorityFeePerGas"
    for tag in ("pending", "latest"):
        history = _request(client, "eth_feeHistory", [hex(5), tag, [50]])
        rewards = [int(row[0], 16) for row in (history or {}).get("reward") or [] if row]
        if rewards:
            return sorted(rewards)[len(rewards) // 2], f'eth_feeHistory on "{tag}"'
    price = int(client.call("reading the gas price", lambda: client.w3.eth.gas_price))
    return max(0, price - base_fee), "eth_gasPrice"


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


REPLACEMENT_BUMP = 1.10  # geth's pool takes a replacement only with both fees at least 10 % higher


def bump_fees(fees: dict[str, int], previous: dict[str, int]) -> dict[str, int]:
    """`fees`, raised where needed to replace a transaction that paid `previous` (of either kind)."""
    out = dict(fees)
    if "gasPrice" in out:
        old = previous.get("gasPrice", previous.get("maxFeePerGas", 0))
        out["gasPrice"] = max(out["gasPrice"], _raised(old))
        return out
    old_tip = previous.get("maxPriorityFeePerGas", previous.get("gasPrice", 0))
    old_max = previous.get("maxFeePerGas", previous.get("gasPrice", 0))
    out["maxPriorityFeePerGas"] = max(out["maxPriorityFeePerGas"], _raised(old_tip))
    out["maxFeePerGas"] = max(out["maxFeePerGas"], _raised(old_max), out["maxPriorityFeePerGas"])
    return out


def _raised(fee: int) -> int:
    return fee + max(1, -(-fee // 10)) if fee else 0


def revert_reason(error: BaseException) -> str:
    """The contract's revert string (or the node's message) from a web3 error, in plain words: never a
    raw JSON-RPC error object."""
    from web3.exceptions import ContractLogicError, Web3RPCError

    text = str(error.message or error) if isinstance(error, ContractLogicError | Web3RPCError) else str(error)
    response = getattr(error, "rpc_response", None)
    payload = response.get("error") if isinstance(response, dict) else (error.args[0] if error.args else None)
    if isinstance(payload, dict) and payload.get("message"):
        text = str(payload["message"])
    for prefix in ("execution reverted: ", "execution reverted"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.strip().strip("'\"") or "the transaction reverted without a reason"


class TxSender:
    """Sends transactions for the runner; one instance per run, over both chains."""

    def __init__(self, journal: Journal, chains: Callable[[str], ChainClient], *,
                 policy: dict[str, FeePolicy] | None = None, notify: Callable[[str], None] = lambda text: None) -> None:
        self.journal = journal
        self._chain = chains  # looked up on use: the auxiliary chain exists only from step 3 on
        self.policy = dict(policy or {})
        self.notify = notify
        self._told_source: dict[str, str] = {}
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
            # Every journalled nonce stays its action's: a refused transaction is replaced at its own nonce
            # (only one of the two can ever be mined), never given to another action.
            # An action found done on chain whose own transaction never got in gives its nonce back (the
            # node's pending count still covers it if the node holds that transaction).
            journalled = [e.nonce for e in self.journal.entries()
                          if e.chain == chain and e.sender == sender and e.nonce is not None
                          and not (e.status == "confirmed" and e.receipt is None)]
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
            raise TxRejected(revert_reason(error), estimate=True) from None
        return int(estimate * GAS_MARGIN) + GAS_EXTRA

    def fees(self, chain: str) -> dict[str, int]:
        """Fee fields from the node under the chain's ceiling, reused for FEE_TTL seconds: a round of
        transactions shares them."""
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
        fees, source = read_fees(client, self.policy.get(chain))
        if source not in ("eth_maxPriorityFeePerGas", "eth_gasPrice (no base fee)") \
                and self._told_source.get(chain) != source:
            self._told_source[chain] = source
            self.notify(f"fees on the {chain} chain: the node does not answer eth_maxPriorityFeePerGas; the tip "
                        f"comes from {source}")
        return fees

    def replacement(self, entry: ActionEntry, signer: Any) -> Signed | None:
        """The entry's transaction again at its nonce with both fees raised by at least 10 % and never
        above the ceiling; None when the ceiling leaves no room for a valid replacement."""
        assert entry.chain and entry.raw_tx and entry.nonce is not None
        previous = decode_raw(bytes.fromhex(entry.raw_tx[2:]))
        self._fees.pop(entry.chain, None)
        fees = bump_fees(self.fees(entry.chain), previous.fees)
        fees = cap_fees(fees, self.policy.get(entry.chain))
        if not is_replacement(fees, previous.fees):
            return None
        tx = {"to": previous.to, "data": previous.data, "value": previous.value}
        client = self._chain(entry.chain)
        full = {**tx, **fees, "gas": previous.gas, "nonce": entry.nonce, "chainId": client.chain_id}
        if full["to"] is None:
            full.pop("to")
        if "maxFeePerGas" in full:
            full["type"] = 2
        raw = client.call("signing", lambda: signer.sign(client.w3, full))
        from eth_utils import keccak

        return Signed(entry.action_id, entry.chain, signer.address, entry.nonce, "0x" + keccak(raw).hex(), raw)

    def set_legacy_gas_price(self, chain: str, price: int | None) -> None:
        self._legacy_gas_price[chain] = price
        self._fees.pop(chain, None)

    def sign(self, action_id: str, chain: str, signer: Any, tx: dict[str, Any], *, gas: int, nonce: int,
             replaces: str | None = None) -> Signed:
        """Fill fees and sign; nothing is recorded or sent yet (see `record` and `broadcast`). `replaces`:
        the signed bytes of an earlier version at this nonce, whose fees are raised by at least the 10 %
        a node's pool asks of a replacement."""
        client = self._chain(chain)
        fees = dict(self.fees(chain))
        if replaces:
            fees = bump_fees(fees, decode_raw(bytes.fromhex(replaces.removeprefix("0x"))).fees)
        full = {"to": None, "value": 0, "data": "0x", **tx, **fees, "gas": gas, "nonce": nonce,
                "chainId": client.chain_id}
        if full["to"] is None:
            full.pop("to")
        raw = client.call("signing", lambda: signer.sign(client.w3, full))
        from eth_utils import keccak

        return Signed(action_id, chain, signer.address, nonce, "0x" + keccak(raw).hex(), raw)

    def record(self, signed: list[Signed], released: frozenset[str] = frozenset()) -> None:
        """Journal signed transactions before any of them is broadcast (one write for the lot); `released`
        names actions whose earlier nonce the chain proved consumed by another transaction."""
        with self.journal.batch():
            for item in signed:
                self.journal.record_signed(item.action_id, item.chain, item.sender, item.nonce, item.tx_hash,
                                           "0x" + item.raw.hex(), nonce_released=item.action_id in released)

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
        """Send signed bytes. A node's error words prove nothing (EthereumJS says "this transaction is
        already in the TxPool", Hardhat "Known transaction", Nethermind "AlreadyKnown", geth "already
        known"): after any error the chain is asked instead. The node holds or mined this hash, or holds
        some transaction of this sender at this nonce (ours, an earlier version of ours) -> sent, and the
        receipt loop adopts whichever version is mined. Otherwise it was refused: TxRejected, and the
        action keeps its nonce (only a replacement at the same nonce may follow)."""
        try:
            client.call("broadcasting a transaction", lambda: client.w3.eth.send_raw_transaction(raw))
        except MosaicError:
            raise
        except Exception as error:
            reason = revert_reason(error)
            if client.call("looking up a transaction", lambda: _known(client, tx_hash)):
                return
            decoded = decode_raw(raw)
            pending = client.call("reading a nonce", lambda: client.w3.eth.get_transaction_count(
                decoded.sender, "pending"))
            if pending > decoded.nonce:
                return  # the node holds (or mined) a transaction at this nonce: never a reason to move on
            raise TxRejected(reason) from None

    # -- after a restart ----------------------------------------------------------------------------

    def mined_version(self, entry: ActionEntry) -> tuple[str, Any] | None:
        """(hash, receipt) of whichever signed version of the action is mined, if any."""
        assert entry.chain
        for tx_hash, _ in entry.versions:
            receipt = self.receipt(entry.chain, tx_hash)
            if receipt is not None:
                return tx_hash, receipt
        return None

    def nonce_consumed_by_other(self, entry: ActionEntry) -> bool:
        """The chain proves that the entry's nonce went to a transaction that is none of its versions:
        the sender's mined nonce is past it and no version has a receipt. Nothing else is proof."""
        assert entry.chain and entry.sender is not None and entry.nonce is not None
        client = self._chain(entry.chain)
        sender, nonce = entry.sender, entry.nonce
        mined = client.call("reading a nonce", lambda: client.w3.eth.get_transaction_count(sender, "latest"))
        return bool(mined > nonce and self.mined_version(entry) is None)

    def resume(self, entry: ActionEntry) -> tuple[Inflight, str]:
        """What became of a journalled transaction: "mined" (a version has a receipt; the Inflight names
        it), "pending" (the node holds it), "released" (its nonce went to another transaction: the action
        may be signed at a new nonce), or "rebroadcast" (sent again, byte for byte)."""
        assert entry.chain and entry.tx_hash and entry.raw_tx and entry.sender is not None and entry.nonce is not None
        client = self._chain(entry.chain)
        inflight = Inflight(entry.action_id, entry.chain, entry.tx_hash, entry.sender, entry.nonce)
        mined = self.mined_version(entry)
        if mined is not None:
            inflight.tx_hash = mined[0]
            return inflight, "mined"
        for tx_hash, _ in entry.versions:
            if client.call("looking up a transaction", lambda h=tx_hash: _known(client, h)):  # type: ignore[misc]
                inflight.tx_hash = tx_hash
                return inflight, "pending"
        if self.nonce_consumed_by_other(entry):
            return inflight, "released"
        self._broadcast(client, bytes.fromhex(entry.raw_tx[2:]), entry.tx_hash)
        if entry.status not in ("sent", "failed"):
            self.journal.record_sent(entry.action_id)
        return inflight, "rebroadcast"

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


@dataclass(frozen=True)
class Decoded:
    """What a signed transaction says: recovered from its bytes, not taken from anyone's word."""

    tx_hash: str
    sender: str
    nonce: int
    chain_id: int | None
    to: str | None
    data: str
    value: int
    gas: int
    fees: dict[str, int]


def decode_raw(raw: bytes) -> Decoded:
    """Decode legacy, EIP-2930 and EIP-1559 transactions; ValueError when the bytes are none of them."""
    import rlp
    from eth_account import Account
    from eth_utils import keccak, to_checksum_address

    try:
        sender = to_checksum_address(Account.recover_transaction(raw))
        if raw[0] >= 0xc0:
            nonce, gas_price, gas, to, value, data, v, _, _ = rlp.decode(raw)
            v_int = int.from_bytes(v, "big")
            chain_id = (v_int - 35) // 2 if v_int >= 35 else None
            fees = {"gasPrice": int.from_bytes(gas_price, "big")}
        elif raw[0] == 1:
            chain, nonce, gas_price, gas, to, value, data, *_ = rlp.decode(raw[1:])
            chain_id, fees = int.from_bytes(chain, "big"), {"gasPrice": int.from_bytes(gas_price, "big")}
        elif raw[0] == 2:
            chain, nonce, tip, max_fee, gas, to, value, data, *_ = rlp.decode(raw[1:])
            chain_id = int.from_bytes(chain, "big")
            fees = {"maxPriorityFeePerGas": int.from_bytes(tip, "big"), "maxFeePerGas": int.from_bytes(max_fee, "big")}
        else:
            raise ValueError(f"transaction type {raw[0]} is not one this program signs")
    except ValueError:
        raise
    except Exception as error:
        raise ValueError(f"the bytes are not a signed transaction ({type(error).__name__})") from None
    return Decoded("0x" + keccak(raw).hex(), sender, int.from_bytes(nonce, "big"), chain_id,
                   to_checksum_address(to) if to else None, "0x" + bytes(data).hex(), int.from_bytes(value, "big"),
                   int.from_bytes(gas, "big"), fees)


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
