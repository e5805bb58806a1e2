"""The node's two chains: contract calls, and transactions sent through the ledger.

Reads and broadcasts go through `ChainClient.call`, the engine's retry policy, so an RPC outage is
waited out. A transaction is simulated first (a revert is a skipped duty, never a signed
transaction), signed, written to the ledger, then broadcast; `settle` takes the receipts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from mosaic_tui import keys
from mosaic_tui.chain.rpc import ChainClient, make_web3
from mosaic_tui.chain.sender import revert_reason
from mosaic_tui.contracts import load_artifact
from mosaic_tui.errors import InputError, MosaicError
from mosaic_tui.keyref import KeyRef
from mosaic_tui.metablock import Vote, vote_typed_data
from mosaic_tui.validator.ledger import Ledger

GAS_MARGIN = 1.3
GAS_EXTRA = 20_000
RECEIPT_TIMEOUT = 60.0


class Skipped(Exception):
    """A duty's transaction would revert (someone else did it first, or it is not due yet)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Sent:
    tx_hash: str
    purpose: str
    receipt: Any = None


@dataclass
class Chain:
    name: str
    client: ChainClient
    signer: Any
    ledger: Ledger
    legacy: bool
    contracts: dict[str, Any] = field(default_factory=dict)
    gas_paid: int = 0

    @property
    def w3(self) -> Any:
        return self.client.w3

    def contract(self, artifact: str, address: str) -> Any:
        key = f"{artifact}@{address}"
        if key not in self.contracts:
            self.contracts[key] = self.w3.eth.contract(address=address, abi=load_artifact(artifact)["abi"])
        return self.contracts[key]

    def read(self, what: str, fn: Callable[[], Any]) -> Any:
        return self.client.call(what, fn)

    def call(self, function: Any, block: int | str = "latest") -> Any:
        return self.client.call(f"reading {function.fn_name}", lambda: function.call(block_identifier=block))

    def head(self) -> Any:
        return self.read("reading the latest block", lambda: self.w3.eth.get_block("latest"))

    def block(self, number_or_hash: int | bytes) -> Any:
        block = dict(self.read("reading a block", lambda: self.w3.eth.get_block(number_or_hash)))
        # make_web3's PoA middleware renames extraData; the header needs it under its own name.
        if "extraData" not in block and "proofOfAuthorityData" in block:
            block["extraData"] = block["proofOfAuthorityData"]
        return block

    # -- transactions ---------------------------------------------------------------------------------

    def _fees(self) -> dict[str, int]:
        if self.legacy:
            return {"gasPrice": self.read("reading the gas price", lambda: self.w3.eth.gas_price)}
        block = self.head()
        base = block.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": self.read("reading the gas price", lambda: self.w3.eth.gas_price)}
        tip = self.read("reading the priority fee", lambda: self.w3.eth.max_priority_fee)
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip, "type": 2}

    def estimate(self, function: Any) -> int:
        sender = self.signer.address
        data = function._encode_transaction_data()
        call = {"from": sender, "to": function.address, "data": data}
        try:
            gas = self.client.call("estimating gas", lambda: self.w3.eth.estimate_gas(call))
        except MosaicError:
            raise
        except Exception as error:
            raise Skipped(revert_reason(error)) from None
        return int(gas * GAS_MARGIN) + GAS_EXTRA

    def send(self, purposes: list[tuple[str, Any]], *, gas: int | None = None, headroom: int = 0) -> list[Sent]:
        """Sign the calls with consecutive nonces, record them in one ledger write, broadcast them.

        Only the first call is simulated (the later ones may depend on it); its gas estimate, with a
        margin and `headroom` (for a call that may do more work on chain than it did when simulated:
        the vote that justifies, the verifyVote that commits), is used for all unless `gas` is given.
        Unused gas is not paid for."""
        if not purposes:
            return []
        if gas is None:
            gas = self.estimate(purposes[0][1]) + headroom
        sender = self.signer.address
        on_chain = self.read("reading a nonce", lambda: self.w3.eth.get_transaction_count(sender, "pending"))
        nonce = max(on_chain, self.ledger.next_nonce(self.name, sender))
        fees = self._fees()
        signed: list[tuple[str, str, bytes]] = []
        for offset, (purpose, function) in enumerate(purposes):
            tx = {"to": function.address, "data": function._encode_transaction_data(), "value": 0, "gas": gas,
                  "nonce": nonce + offset, "chainId": self.client.chain_id, **fees}
            raw: bytes = self.read("signing", functools.partial(self.signer.sign, self.w3, tx))
            tx_hash = "0x" + keccak(raw).hex()
            signed.append((purpose, tx_hash, raw))
            self.ledger.add_pending(self.name, sender, nonce + offset, tx_hash, "0x" + raw.hex(), purpose)
        self.ledger.save()
        for _, tx_hash, raw in signed:
            self._broadcast(raw, tx_hash)
        return [Sent(tx_hash, purpose) for purpose, tx_hash, _ in signed]

    def _broadcast(self, raw: bytes, tx_hash: str) -> None:
        try:
            self.read("broadcasting a transaction", lambda: self.w3.eth.send_raw_transaction(raw))
        except MosaicError:
            raise
        except Exception as error:
            reason = revert_reason(error).lower()
            if "already known" in reason or "already imported" in reason or self._known(tx_hash):
                return
            # The ledger keeps it; `settle` drops it once its nonce is used by another transaction.
            raise Skipped(f"the node refused the transaction ({revert_reason(error)})") from None

    def _known(self, tx_hash: str) -> bool:
        from web3.exceptions import TransactionNotFound

        try:
            self.read("looking up a transaction", lambda: self.w3.eth.get_transaction(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def _receipt(self, tx_hash: str) -> Any | None:
        from web3.exceptions import TransactionNotFound

        try:
            return self.read("reading a receipt", lambda: self.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    def wait(self, sent: list[Sent], timeout: float = RECEIPT_TIMEOUT) -> list[Sent]:
        """Receipts of `sent` (each settled in the ledger); stops early when the chain stalls."""
        deadline = time.monotonic() + timeout
        waiting = [item for item in sent if item.receipt is None]
        while waiting and time.monotonic() < deadline:
            for item in list(waiting):
                receipt = self._receipt(item.tx_hash)
                if receipt is not None:
                    item.receipt = receipt
                    waiting.remove(item)
            if waiting:
                time.sleep(0.2)
        done = [item for item in sent if item.receipt is not None]
        if done:
            for item in done:
                self.gas_paid += int(item.receipt["gasUsed"]) * int(item.receipt.get("effectiveGasPrice", 0))
                self.ledger.drop_pending(item.tx_hash)
            self.ledger.save()
        return sent

    def settle(self) -> list[str]:
        """After a restart (and now and then): adopt, wait for, drop or rebroadcast recorded transactions."""
        notes: list[str] = []
        changed = False
        sender = self.signer.address
        for entry in self.ledger.pending(self.name):
            if self._receipt(entry["hash"]) is not None:
                self.ledger.drop_pending(entry["hash"])
                changed = True
                continue
            if self._known(entry["hash"]):
                continue
            used = self.read("reading a nonce", lambda: self.w3.eth.get_transaction_count(sender, "latest"))
            if used > entry["nonce"]:
                notes.append(f"{entry['purpose']}: nonce {entry['nonce']} was used by another transaction; dropped")
                self.ledger.drop_pending(entry["hash"])
                changed = True
                continue
            try:
                self._broadcast(bytes.fromhex(entry["raw"][2:]), entry["hash"])
                notes.append(f"{entry['purpose']}: rebroadcast {entry['hash']}")
            except Skipped as skipped:
                notes.append(f"{entry['purpose']}: {skipped.reason}")
        if changed:
            self.ledger.save()
        return notes


def sign_vote(signer: Any, w3: Any, vote: Vote, chain_id: int, verifying_contract: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a vote signed with the validator's auxiliary key (EIP-712)."""
    typed = vote_typed_data(vote, chain_id, verifying_contract)
    if hasattr(signer, "sign_typed"):
        signed = signer.sign_typed(typed)
        return int(signed.v), int(signed.r).to_bytes(32, "big"), int(signed.s).to_bytes(32, "big")
    # An account unlocked on the node: the node signs the typed data.
    import json

    typed_json = json.loads(json.dumps(typed, default=lambda b: "0x" + b.hex()))
    answer = w3.provider.make_request("eth_signTypedData_v4", [signer.address, typed_json])
    if "error" in answer:
        raise MosaicError(f"the auxiliary node would not sign the vote: {answer['error'].get('message')}")
    raw = bytes.fromhex(str(answer["result"])[2:])
    v = raw[64] if raw[64] >= 27 else raw[64] + 27
    return v, raw[:32], raw[32:64]


def open_key(ref: KeyRef, variable: str, address: str, password_file: Path | None, base: Path) -> Any:
    """The signer behind a key reference of the env file; its address must be the one the file names."""

    def passphrase(_: KeyRef) -> str:
        if password_file is None:
            return keys.env_passphrase(ref)
        try:
            return password_file.read_text().rstrip("\r\n")
        except OSError:
            raise InputError(variable, f"the password file {password_file} cannot be read.") from None

    signer = None
    for candidate in (base, base.parent, Path.cwd()):  # keystore paths are relative to the plan
        if ref.kind != "keystore" or Path(ref.name).is_absolute() or (candidate / ref.name).exists():
            signer = keys.open_signer(ref, variable, base=candidate, passphrase=passphrase, node_address=address)
            break
    if signer is None:
        signer = keys.open_signer(ref, variable, base=base, passphrase=passphrase, node_address=address)
    if signer.address.lower() != address.lower():
        raise InputError(variable, f"the key opens account {signer.address}, not the validator's {address}.")
    return signer


def connect(name: str, url: str, chain_id: int, on_wait: Callable[[str], None]) -> ChainClient:
    client = ChainClient(name=name, url=url, w3=make_web3(url), chain_id=chain_id, on_wait=on_wait)
    found = client.call("reading the chain id", lambda: client.w3.eth.chain_id)
    if found != chain_id:
        raise InputError(f"MOSAIC_{name.upper()}_CHAIN_ID",
                         f"the node at {url} runs chain {found}, the env file says {chain_id}; nothing was sent.")
    return client
