"""The origin side of a meta-blockchain, deployed on a real anvil node for the contract tests.

Dev OST, `OriginCore` (which deploys `Stake`), `OSTGateway`, and four validators whose origin and
auxiliary keys are eth-account keys created here and funded from anvil's dev accounts. Tests drive
it through the same calls the engine makes and assert on what the chain then holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from mosaic_tui import metablock
from mosaic_tui.contracts import load_artifact
from tests.helpers import Reverted, deploy, revert_reason, transact

OST = 10**18
# 2/3 of 300 OST is 200 OST: 100 + 99 falls one OST short, 100 + 100 reaches it exactly.
WEIGHTS = (100 * OST, 100 * OST, 99 * OST, 1 * OST)
MINIMUM_WEIGHT = 1 * OST
INITIAL_AUXILIARY_GAS = 21_000
INITIAL_TRANSACTION_ROOT = keccak(text="initial transaction root")
MAX_ACCUMULATE_GAS = 10_000_000
AUXILIARY_CHAIN_ID = 1000
TOKEN_SUPPLY = 10**9 * OST
GATEWAY_BUDGET = 50 * OST  # extra OST each validator holds for its gateway stake


def core_identifier(origin_chain_id: int, auxiliary_chain_id: int = AUXILIARY_CHAIN_ID) -> bytes:
    """Step 0 (docs/design.md): 8 bytes of origin chain id then 12 bytes of auxiliary chain id, big-endian."""
    return origin_chain_id.to_bytes(8, "big") + auxiliary_chain_id.to_bytes(12, "big")


def keys(label: str) -> LocalAccount:
    """Deterministic test keys, so a failing run can be replayed with the same addresses."""
    return Account.from_key(keccak(text=f"mosaic-tui test key {label}"))


@dataclass
class Validator:
    origin: LocalAccount
    auxiliary: LocalAccount
    stake: int


def make_validators(weights: tuple[int, ...] = WEIGHTS, prefix: str = "validator") -> list[Validator]:
    return [Validator(keys(f"{prefix}-{i}-origin"), keys(f"{prefix}-{i}-auxiliary"), w) for i, w in enumerate(weights)]


def reason_of(w3: Any, fn: Any, sender: Any = None) -> str:
    """The revert reason of calling `fn`; fails the test if the call would succeed."""
    try:
        transact(w3, fn, sender)
    except Reverted as reverted:
        return reverted.reason
    raise AssertionError("the call did not revert")


def deploy_reason(w3: Any, name: str, *args: Any) -> str:
    """The revert reason of deploying `name` with `args` (a constructor guard)."""
    artifact = load_artifact(name)
    data = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"]).constructor(*args).data_in_transaction
    try:
        w3.eth.call({"from": w3.eth.accounts[0], "data": data})
    except ContractLogicError as error:
        return revert_reason(error)
    raise AssertionError(f"deploying {name} did not revert")


@dataclass
class OriginWorld:
    w3: Any
    deployer: str
    token: Any
    core: Any
    stake: Any
    gateway: Any
    validators: list[Validator]
    core_identifier: bytes
    chain_id: int
    proposals: int = field(default=0)

    # --- staking -----------------------------------------------------------------------------

    def approve(self, validator: Validator, amount: int | None = None, spender: Any = None) -> None:
        spender = spender or self.stake
        amount = validator.stake if amount is None else amount
        transact(self.w3, self.token.functions.approve(spender.address, amount), validator.origin)

    def initialize_call(self, validators: list[Validator] | None = None) -> Any:
        validators = self.validators if validators is None else validators
        return self.stake.functions.initialize(
            [v.origin.address for v in validators],
            [v.auxiliary.address for v in validators],
            [v.stake for v in validators],
        )

    def initialize(self) -> Any:
        for validator in self.validators:
            self.approve(validator)
        return transact(self.w3, self.initialize_call(), self.deployer)

    def k0(self) -> metablock.Kernel:
        return metablock.genesis_kernel([v.auxiliary.address for v in self.validators],
                                        [v.stake for v in self.validators])

    def fund(self, account: LocalAccount, ost: int) -> None:
        self.w3.eth.send_transaction({"from": self.w3.eth.accounts[1], "to": account.address, "value": 10**18})
        transact(self.w3, self.token.functions.transfer(account.address, ost), self.deployer)

    # --- meta-blocks -------------------------------------------------------------------------

    def next_transition(self, **overrides: Any) -> tuple[int, metablock.Transition]:
        """The open height and a transition that builds validly on the head, with overrides."""
        head = self.core.functions.head().call()
        self.proposals += 1
        values: dict[str, Any] = {
            "core_identifier": self.core_identifier,
            "kernel_hash": self.core.functions.openKernelHash().call(),
            "auxiliary_dynasty": head[3] + 1,
            "auxiliary_block_hash": keccak(text=f"auxiliary checkpoint {self.proposals}"),
            "accumulated_gas": head[4] + 500_000,
            "origin_dynasty": head[5] + 1,
            "origin_block_hash": self.w3.eth.get_block("latest")["hash"],
            "transaction_root": keccak(text=f"transactions {self.proposals}"),
        }
        values.update(overrides)
        return self.core.functions.openKernelHeight().call(), metablock.Transition(**values)

    def propose_call(self, height: int, transition: metablock.Transition) -> Any:
        t = transition
        return self.core.functions.proposeBlock(
            height, t.auxiliary_dynasty, t.auxiliary_block_hash, t.accumulated_gas,
            t.origin_dynasty, t.origin_block_hash, t.transaction_root,
        )

    def propose(self, **overrides: Any) -> metablock.Transition:
        height, transition = self.next_transition(**overrides)
        receipt = transact(self.w3, self.propose_call(height, transition), self.deployer)
        (event,) = self.core.events.BlockProposed().process_receipt(receipt, errors=DISCARD)
        assert event.args.transitionHash == transition.hash()
        return transition

    def vote_for(self, transition: metablock.Transition, **overrides: Any) -> metablock.Vote:
        values: dict[str, Any] = {
            "core_identifier": self.core_identifier,
            "transition_hash": transition.hash(),
            "source": keccak(text="auxiliary genesis checkpoint"),
            "target": transition.auxiliary_block_hash,
            "source_height": 0,
            "target_height": 10 * transition.auxiliary_dynasty,
        }
        values.update(overrides)
        return metablock.Vote(**values)

    def sign(self, validator: Validator | LocalAccount, vote: metablock.Vote) -> metablock.VoteSignature:
        account = validator.auxiliary if isinstance(validator, Validator) else validator
        return metablock.sign_vote(account.key, vote, self.chain_id, self.core.address)

    def verify_call(self, vote: metablock.Vote, signature: metablock.VoteSignature, with_core: bool = False) -> Any:
        args = [vote.transition_hash, vote.source, vote.target, vote.source_height, vote.target_height,
                signature.v, signature.r, signature.s]
        if with_core:
            return self.core.get_function_by_signature(
                "verifyVote(bytes20,bytes32,bytes32,bytes32,uint256,uint256,uint8,bytes32,bytes32)"
            )(vote.core_identifier, *args)
        return self.core.get_function_by_signature(
            "verifyVote(bytes32,bytes32,bytes32,uint256,uint256,uint8,bytes32,bytes32)"
        )(*args)

    def cast(self, validator: Validator, transition: metablock.Transition) -> Any:
        vote = self.vote_for(transition)
        return transact(self.w3, self.verify_call(vote, self.sign(validator, vote)), self.deployer)

    def open_kernel_hash(self) -> bytes:
        return bytes(self.core.functions.openKernelHash().call())


def build_origin(w3: Any, validators: list[Validator] | None = None, token: Any = None,
                 minimum_weight: int = MINIMUM_WEIGHT) -> OriginWorld:
    """Deploy token, core and gateway, and fund each validator's origin key with ETH and OST."""
    deployer = w3.eth.accounts[0]
    chain_id = w3.eth.chain_id
    identifier = core_identifier(chain_id)
    token = token or deploy(w3, "EIP20Token", "Open Simple Token", "OST", 18, TOKEN_SUPPLY, sender=deployer)
    core = deploy(w3, "OriginCore", identifier, token.address, INITIAL_AUXILIARY_GAS, INITIAL_TRANSACTION_ROOT,
                  minimum_weight, MAX_ACCUMULATE_GAS, sender=deployer)
    stake = w3.eth.contract(address=core.functions.stake().call(), abi=load_artifact("Stake")["abi"])
    gateway = deploy(w3, "OSTGateway", token.address, core.address, sender=deployer)
    world = OriginWorld(w3, deployer, token, core, stake, gateway,
                        make_validators() if validators is None else validators, identifier, chain_id)
    for validator in world.validators:
        world.fund(validator.origin, validator.stake + GATEWAY_BUDGET)
    return world
