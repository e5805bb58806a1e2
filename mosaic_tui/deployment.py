"""One deployment in progress: the plan, its journal, the chains, the signers and the contracts.

Steps read everything through this object, so a step module only says what to send and what must be
true afterwards. The same Deployment serves the headless CLI and the TUI's worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mosaic_tui import keys
from mosaic_tui.chain.rpc import ChainClient, connect
from mosaic_tui.contracts import load_artifact
from mosaic_tui.errors import InputError, StepFailed
from mosaic_tui.journal import Journal
from mosaic_tui.plan import Plan
from mosaic_tui.steps.outputs import Outputs


class Deployment:
    def __init__(self, plan: Plan, plan_path: Path, journal: Journal, *,
                 passphrase: keys.Passphrase | None = None, on_wait: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.plan_path = Path(plan_path)
        self.journal = journal
        self.passphrase = passphrase
        self.on_wait = on_wait
        self.origin = connect("origin", plan.origin.rpc, plan.origin.chain_id, on_wait)
        self._auxiliary: ChainClient | None = None
        self._signers: dict[str, keys.Signer] = {}
        self._contracts: dict[tuple[str, str, str], Any] = {}
        self.devnet_dir: Path | None = None  # set on a devnet: step 3 records its auxiliary node there
        self.cache: dict[str, Any] = {}  # values a step reads once for many actions (proofs)
        self.sender: Any = None  # the run's TxSender, set by deploy.execute (steps switch its fee mode)
        # The run's event callback and stop request, set by deploy.execute: a step that waits on people
        # (external validators) reports what it sees and stops when asked.
        self.emit: Callable[[Any], None] = lambda event: None
        self.should_stop: Callable[[], bool] = lambda: False
        # The plan the journal was bound to before this run, when it differs from `plan` (a change the
        # preflight found harmless): confirmed transactions were built from it, and are checked against it.
        self.sent_plan: Plan | None = None

    # -- chains ---------------------------------------------------------------------------------

    @property
    def auxiliary(self) -> ChainClient:
        if self._auxiliary is None:
            self._auxiliary = connect("auxiliary", self.plan.auxiliary.rpc, self.plan.auxiliary.chain_id, self.on_wait)
        return self._auxiliary

    def chain(self, name: str) -> ChainClient:
        return self.origin if name == "origin" else self.auxiliary

    @property
    def out_dir(self) -> Path:
        return self.plan.out_path(self.plan_path)

    # -- keys -----------------------------------------------------------------------------------

    def signer(self, role: str | None) -> keys.Signer:
        """The signer of a role: deployer, validator:<i> (its origin key) or proposer."""
        assert role is not None
        if role not in self._signers:
            self._signers[role] = self._open(role)
        return self._signers[role]

    def _open(self, role: str) -> keys.Signer:
        base = self.plan_path.parent
        if role == "deployer":
            ref, field, address = self.plan.origin.deployer, "origin.deployer", None
            if ref.kind == "node":
                accounts = self.origin.call("reading the node's accounts", lambda: self.origin.w3.eth.accounts)
                if not accounts:
                    raise InputError(field, "is 'node', but the origin node has no unlocked account.")
                address = accounts[0]
        elif role == "proposer":
            ref, field, address = self.plan.auxiliary.initial_proposer, "auxiliary.initial_proposer", None
            if ref.kind == "node":
                raise InputError(field, "the initial proposer must sign before its node exists; use a keystore or "
                                        "keyring key, not 'node'.")
        else:
            index = int(role.split(":")[1])
            validator = self.plan.validators[index]
            ref, field = validator.origin_key, f"validators[{index}].origin_key"
            address = validator.origin_address
        signer = keys.open_signer(ref, field, base=base, passphrase=self.passphrase, node_address=address)
        if role.startswith("validator:"):
            expected = self.plan.validators[int(role.split(":")[1])].origin_address
            if signer.address != expected:
                raise InputError(field, f"opens the key of {signer.address}, but origin_address is {expected}.")
        return signer

    # -- outputs --------------------------------------------------------------------------------

    def out(self, key: str) -> Any:
        outputs = self.journal.outputs()
        if key not in outputs:
            raise StepFailed("-", key, f"the output {key} of an earlier step is missing from the journal")
        return outputs[key]

    @property
    def outputs(self) -> Outputs:
        """The outputs of earlier steps by name and type (`steps/outputs.py`)."""
        return Outputs(self.out)

    def has(self, key: str) -> bool:
        return key in self.journal.outputs()

    # -- contracts ------------------------------------------------------------------------------

    def contract(self, name: str, chain: str, address: str | None = None) -> Any:
        key = (name, chain, address or "")
        if key not in self._contracts:
            artifact = load_artifact(name)
            w3 = self.chain(chain).w3
            if address is None:
                self._contracts[key] = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
            else:
                self._contracts[key] = w3.eth.contract(address=address, abi=artifact["abi"])
        return self._contracts[key]

    def deploy_data(self, name: str, *args: Any) -> str:
        artifact = load_artifact(name)
        from web3 import Web3

        factory = Web3().eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        return str(factory.constructor(*args).data_in_transaction)

    def call_data(self, name: str, function: str, *args: Any) -> str:
        artifact = load_artifact(name)
        from web3 import Web3

        return str(Web3().eth.contract(abi=artifact["abi"]).encode_abi(function, list(args)))

    def read(self, name: str, chain: str, address: str, function: str, *args: Any) -> Any:
        contract = self.contract(name, chain, address)
        client = self.chain(chain)
        return client.call(f"reading {name}.{function}", lambda: contract.functions[function](*args).call())
