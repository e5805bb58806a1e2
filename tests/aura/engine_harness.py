"""An AuRa engine's part, played on anvil: the conformance harness for ProposerSet.

Nethermind's `ContractBasedValidator` (src/Nethermind/Nethermind.Consensus.AuRa/Validators/
ContractBasedValidator.cs) does three things with the validator-set contract, and this harness does
the same on an auxiliary anvil started with `--no-mining`, producing every block itself:
- before block n it reads `getValidators()` against block n-1's state (the init block and any
  block after a gap; consecutive blocks use the set it keeps, which this harness checks is equal);
- at the init block (block 1 for a contract named from block 0: `AuRaValidatorBase.DefaultStartBlockNumber`)
  and at the block after a signalled change is final, it calls `finalizeChange()` as SYSTEM
  (0xff…fe) before the block's transactions;
- it takes `InitiateChange(parentHash, newSet)` from a block's receipts as the pending set, ignores
  a signal while one is pending, and enacts the set once the signalling block is final. With a
  single sealer (the initial proposer) a block is final as soon as it is sealed, so the set
  signalled in block N is finalized at the start of block N+1.
A system call pays no gas on a real client; on anvil it is sent first in its block by bidding above
every other transaction, from a balance set for the call and cleared after it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from mosaic_tui import devnet, genesis

FINALIZE = "0x" + keccak(text="finalizeChange()")[:4].hex()
GET_VALIDATORS = "0x" + keccak(text="getValidators()")[:4].hex()
INITIATE_CHANGE = "0x" + keccak(text="InitiateChange(bytes32,address[])").hex()
INIT_BLOCK = 1
# Nethermind runs a system call with this much gas (Nethermind.Consensus.AuRa Contract.DefaultContractGasLimit).
SYSTEM_CALL_GAS = 1_600_000


def _decode_addresses(data: str) -> list[str]:
    from eth_abi import decode

    return [a.lower() for a in decode(["address[]"], bytes.fromhex(data[2:]))[0]]


@dataclass
class Produced:
    number: int
    validators: list[str]  # getValidators() read against the parent state: who may seal this block
    system_call: str | None  # tx hash of the finalizeChange the engine made in this block
    signalled: list[str] | None  # the set an InitiateChange in this block signalled


@dataclass
class AuraEngine:
    url: str
    gas_price: int
    blocks: list[Produced] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: tuple[int, list[str]] | None = None
    first_answer: Any = None  # called once, when the node first answers
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        return devnet.rpc_call(self.url, method, params, timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set() and not devnet.answers(self.url, timeout=0.2):
            time.sleep(0.05)
        if self.first_answer is not None and not self._stop.is_set():
            self.first_answer()
        while not self._stop.is_set():
            try:
                latest = int(self._rpc("eth_blockNumber", []), 16)
                due = self._finalize_due(latest + 1)
                waiting = int(self._rpc("txpool_status", [])["pending"], 16)
                if waiting or due:
                    self._produce(latest + 1, due)
                else:
                    time.sleep(0.02)
            except Exception as error:  # noqa: BLE001 - reported by the test, never swallowed
                self.errors.append(f"{type(error).__name__}: {error}")
                return

    def _finalize_due(self, number: int) -> bool:
        return number == INIT_BLOCK or (self.pending is not None and number == self.pending[0] + 1)

    def _read_set(self, block: int) -> list[str]:
        proposer_set = genesis.SYSTEM_ADDRESSES["ProposerSet"]
        return _decode_addresses(self._rpc("eth_call", [{"to": proposer_set, "data": GET_VALIDATORS}, hex(block)]))

    def _produce(self, number: int, due: bool) -> None:
        validators = self._read_set(number - 1)
        if self.blocks and validators != self.blocks[-1].validators and not self.blocks[-1].system_call:
            # The set the engine keeps for consecutive blocks changes only where it called finalizeChange.
            self.errors.append(f"block {number}: ProposerSet's set changed without the engine's finalizeChange")
        system_call = self._system_call() if due else None
        self._rpc("evm_mine", [])
        block = self._rpc("eth_getBlockByNumber", [hex(number), True])
        if block is None:
            self.errors.append(f"block {number} was not mined")
            return
        if system_call is not None:
            self._rpc("anvil_setBalance", [genesis.SYSTEM, "0x0"])
            first = block["transactions"][0]["hash"] if block["transactions"] else None
            receipt = self._rpc("eth_getTransactionReceipt", [system_call])
            if first != system_call:
                self.errors.append(f"block {number}: finalizeChange was not the block's first transaction")
            if receipt is None or int(receipt["status"], 16) != 1:
                self.errors.append(f"block {number}: finalizeChange from SYSTEM reverted")
            if self.pending is not None and number == self.pending[0] + 1:
                self.pending = None
        signalled = None
        for tx in block["transactions"]:
            receipt = self._rpc("eth_getTransactionReceipt", [tx["hash"]])
            for log in receipt["logs"]:
                if log["address"].lower() == genesis.SYSTEM_ADDRESSES["ProposerSet"].lower() and \
                        log["topics"][0] == INITIATE_CHANGE:
                    signalled = _signalled(log["data"])
        if signalled is not None:
            if self.pending is not None:
                self.errors.append(f"block {number}: InitiateChange while block {self.pending[0]}'s set is pending")
            else:
                self.pending = (number, signalled)
        self.blocks.append(Produced(number, validators, system_call, signalled))

    def _system_call(self) -> str:
        price = 2 * self.gas_price  # above every deployment transaction: first in the block
        self._rpc("anvil_setBalance", [genesis.SYSTEM, hex(price * SYSTEM_CALL_GAS)])
        self._rpc("anvil_impersonateAccount", [genesis.SYSTEM])
        try:
            tx: str = self._rpc("eth_sendTransaction", [{"from": genesis.SYSTEM, "to": genesis.SYSTEM_ADDRESSES["ProposerSet"],
                                                         "data": FINALIZE, "gas": hex(SYSTEM_CALL_GAS),
                                                         "gasPrice": hex(price)}])
        finally:
            self._rpc("anvil_stopImpersonatingAccount", [genesis.SYSTEM])
        return tx


def _signalled(data: str) -> list[str]:
    """The `_newSet` of InitiateChange (its one non-indexed argument, an address[])."""
    from eth_abi import decode

    return [a.lower() for a in decode(["address[]"], bytes.fromhex(data[2:]))[0]]
