"""Two real anvil chains with a whole meta-blockchain on them, for the auxiliary contract tests.

Origin (node A): dev OST, `OriginCore`/`Stake`, `OSTGateway` (built by `origin_world`), the four
validators staked so K0 is open, and a gateway stake by the deployer and by each validator. The
block holding the last of those is the *set-up block*, the trusted checkpoint of `OriginBlockStore`.

Auxiliary (node B): Berlin rules, zero gas price, no funded accounts, as step 3 starts it. The
initial proposer deploys the six auxiliary contracts in `AUXILIARY_ORDER`, every address that a
constructor needs precomputed from proposer + nonce, and `OSTPrime`'s address already holds the
base-coin supply when it is deployed (`anvil_setBalance` stands in for the genesis allocation).

This module is kept apart from the tests so the engine's steps 3 and 4 can read, call by call, how
the arguments are built: precomputed addresses, `eth_getProof` output as proof arguments, block
headers as RLP for `reportBlock`, and validators' signed votes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import rlp
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_bytes

from mosaic_tui import devnet, metablock
from mosaic_tui.chain import proofs
from mosaic_tui.chain.header import encode_header, header_fields
from mosaic_tui.runner import create_address
from mosaic_tui.steps.common import AUXILIARY_ORDER, OPEN_KERNEL_HASH_SLOT, STAKED_MESSAGES_SLOT, origin_core_identifier
from tests.contracts import origin_world
from tests.contracts.origin_world import OST, OriginWorld, Validator, keys
from tests.helpers import Reverted, deploy, transact

ORIGIN_CHAIN_ID = 1337
AUXILIARY_CHAIN_ID = origin_world.AUXILIARY_CHAIN_ID
ORIGIN_EPOCH = 4
AUXILIARY_EPOCH = 4
BASE_COIN_SUPPLY = origin_world.TOKEN_SUPPLY  # every OST could come over, 1:1
DEPLOYER_GATEWAY_STAKE = 7 * OST
VALIDATOR_GATEWAY_STAKES = (3 * OST, 5 * OST, 11 * OST, 13 * OST)
# Transition hashes are signed and tallied, not checked, on the auxiliary chain; any fixed value will do.
TRANSITION_HASH = keccak(text="transition under vote")


@dataclass(frozen=True)
class GatewayStake:
    staker: str
    beneficiary: str
    amount: int
    nonce: int
    message_hash: bytes


@dataclass
class TwoChains:
    origin: OriginWorld
    aux_w3: Any
    proposer: LocalAccount
    setup_block: Any
    stakes: list[GatewayStake]
    contracts: dict[str, Any]

    # --- shortcuts --------------------------------------------------------------------------

    @property
    def origin_block_store(self) -> Any:
        return self.contracts["OriginBlockStore"]

    @property
    def auxiliary_block_store(self) -> Any:
        return self.contracts["AuxiliaryBlockStore"]

    @property
    def polling_place(self) -> Any:
        return self.contracts["PollingPlace"]

    @property
    def kernel_gateway(self) -> Any:
        return self.contracts["KernelGateway"]

    @property
    def ost_prime(self) -> Any:
        return self.contracts["OSTPrime"]

    @property
    def proposer_set(self) -> Any:
        return self.contracts["ProposerSet"]

    @property
    def setup_height(self) -> int:
        return int(self.setup_block["number"])

    @property
    def auxiliary_identifier(self) -> bytes:
        return self.origin.core_identifier

    @property
    def origin_identifier(self) -> bytes:
        return origin_core_identifier(self.origin.chain_id)

    def send(self, fn: Any, sender: Any = None) -> Any:
        """An auxiliary-chain transaction at zero gas price (by default from the initial proposer)."""
        return transact(self.aux_w3, fn, sender or self.proposer, gasPrice=0)

    def reason(self, fn: Any, sender: Any = None) -> str:
        """The revert reason of an auxiliary-chain call; fails the test if it would succeed."""
        try:
            self.send(fn, sender)
        except Reverted as reverted:
            return reverted.reason
        raise AssertionError("the call did not revert")

    # --- origin proofs (step 4.1 and 4.2) ----------------------------------------------------

    def account_args(self, address: str, height: int, slots: tuple[bytes, ...] = ()) -> tuple[bytes, list[bytes], Any]:
        """(account RLP, account proof, the raw proof) for `address` at origin block `height`."""
        proof = self.origin.w3.eth.get_proof(address, [to_bytes(s) for s in slots], height)
        account_rlp, nodes = proofs.account_proof_args(proof)
        return account_rlp, nodes, proof

    def prove_origin_core(self, height: int | None = None) -> list[bytes]:
        """`KernelGateway.proveOriginCore` at `height`; returns the storage proof of slot 0 there."""
        height = self.setup_height if height is None else height
        account_rlp, nodes, proof = self.account_args(
            self.origin.core.address, height, (proofs.slot_key(OPEN_KERNEL_HASH_SLOT),))
        self.send(self.kernel_gateway.functions.proveOriginCore(account_rlp, nodes, height))
        return proofs.storage_proof_nodes(proof)

    def open_call(self, kernel: metablock.Kernel, storage_proof: list[bytes], height: int | None = None) -> Any:
        height = self.setup_height if height is None else height
        return self.kernel_gateway.functions.proveBlockOpening(
            kernel.height, kernel.parent, list(kernel.updated_validators), list(kernel.updated_weights),
            storage_proof, height)

    def prove_k0(self) -> None:
        self.send(self.open_call(self.origin.k0(), self.prove_origin_core()))

    def prove_gateway(self, height: int | None = None) -> None:
        height = self.setup_height if height is None else height
        account_rlp, nodes, _ = self.account_args(self.origin.gateway.address, height)
        self.send(self.ost_prime.functions.proveGateway(account_rlp, nodes, height))

    def stake_proof(self, stake: GatewayStake, height: int | None = None) -> list[bytes]:
        height = self.setup_height if height is None else height
        key = proofs.storage_key_for_mapping(stake.message_hash, STAKED_MESSAGES_SLOT)
        return proofs.storage_proof_nodes(self.origin.w3.eth.get_proof(self.origin.gateway.address, [key], height))

    def mint_call(self, stake: GatewayStake, proof: list[bytes], height: int | None = None, **changes: Any) -> Any:
        height = self.setup_height if height is None else height
        values = {"amount": stake.amount, "beneficiary": stake.beneficiary, "staker": stake.staker,
                  "nonce": stake.nonce} | changes
        return self.ost_prime.functions.mint(values["amount"], values["beneficiary"], values["staker"],
                                             values["nonce"], proof, height)

    # --- blocks and votes --------------------------------------------------------------------

    def report(self, store: Any, w3: Any, first: int, last: int) -> None:
        """Report blocks `first..last` of the chain behind `w3` to `store`, as RLP headers."""
        for number in range(first, last + 1):
            self.send(store.functions.reportBlock(encode_header(w3.eth.get_block(number))))

    def vote_call(self, validator: Validator | LocalAccount, identifier: bytes, source: bytes, target: bytes,
                  store: Any, **heights: int) -> Any:
        """A signed vote for the link `source -> target`; heights are read from `store` unless given
        (`source_height=`, `target_height=`)."""
        source_height = heights.get("source_height")
        target_height = heights.get("target_height")
        if source_height is None:
            source_height = store.functions.heightOf(source).call()
        if target_height is None:
            target_height = store.functions.heightOf(target).call()
        vote = metablock.Vote(identifier, TRANSITION_HASH, source, target, source_height, target_height)
        account = validator.auxiliary if isinstance(validator, Validator) else validator
        signature = metablock.sign_vote(account.key, vote, self.aux_w3.eth.chain_id, self.polling_place.address)
        return self.polling_place.functions.vote(*vote.values(), signature.v, signature.r, signature.s)

    def link(self, validators: list[Validator], identifier: bytes, store: Any, source: bytes, target: bytes) -> None:
        for validator in validators:
            self.send(self.vote_call(validator, identifier, source, target, store))

    # --- anvil snapshots, so each test starts from the same deployment -----------------------

    def snapshot(self) -> tuple[str, str]:
        return (self.origin.w3.provider.make_request("evm_snapshot", [])["result"],
                self.aux_w3.provider.make_request("evm_snapshot", [])["result"])

    def revert(self, ids: tuple[str, str]) -> None:
        for w3, snapshot_id in zip((self.origin.w3, self.aux_w3), ids, strict=True):
            assert w3.provider.make_request("evm_revert", [snapshot_id])["result"] is True


def forged_header(block: Any, parent: bytes | None = None, number: int | None = None) -> bytes:
    """A header that never existed: `block`'s fields with other extra data (so another hash), and
    optionally another parent or number. Block stores accept such a header under a known parent;
    only votes can make it count."""
    fields = header_fields(block)
    fields[12] = b"forged " + bytes(fields[12])  # extraData
    if parent is not None:
        fields[0] = parent
    if number is not None:
        fields[8] = number
    return bytes(rlp.encode(fields))


def stake_on_origin(origin: OriginWorld, beneficiaries: list[str]) -> list[GatewayStake]:
    """Step 2's gateway stakes: the deployer's, then each validator's for its auxiliary address."""
    stakers: list[tuple[Any, str, int]] = [(origin.deployer, beneficiaries[0], DEPLOYER_GATEWAY_STAKE)]
    stakers += [(v.origin, v.auxiliary.address, amount)
                for v, amount in zip(origin.validators, VALIDATOR_GATEWAY_STAKES, strict=True)]
    return [gateway_stake(origin, staker, beneficiary, amount) for staker, beneficiary, amount in stakers]


def gateway_stake(origin: OriginWorld, staker: Any, beneficiary: str, amount: int) -> GatewayStake:
    address = staker if isinstance(staker, str) else staker.address
    nonce = origin.gateway.functions.nonces(address).call()
    transact(origin.w3, origin.token.functions.approve(origin.gateway.address, amount), staker)
    transact(origin.w3, origin.gateway.functions.stake(amount, beneficiary, nonce), staker)
    message_hash = bytes(origin.gateway.functions.messageHash(address, amount, beneficiary, nonce).call())
    return GatewayStake(address, beneficiary, amount, nonce, message_hash)


def deploy_auxiliary(w3: Any, proposer: LocalAccount, origin: OriginWorld, setup_block: Any) -> dict[str, Any]:
    """Step 3's deployments from the initial proposer at zero gas price, in `AUXILIARY_ORDER`."""
    nonce = w3.eth.get_transaction_count(proposer.address)
    at = {name: create_address(proposer.address, nonce + i) for i, name in enumerate(AUXILIARY_ORDER)}
    genesis = w3.eth.get_block(0)
    # The genesis allocation: the whole supply sits at OSTPrime's address before its code does.
    w3.provider.make_request("anvil_setBalance", [at["OSTPrime"], hex(BASE_COIN_SUPPLY)])
    arguments: dict[str, tuple[Any, ...]] = {
        "OriginBlockStore": (setup_block["hash"], setup_block["stateRoot"], setup_block["number"], ORIGIN_EPOCH,
                             at["PollingPlace"]),
        "AuxiliaryBlockStore": (genesis["hash"], genesis["stateRoot"], 0, 0, AUXILIARY_EPOCH, at["PollingPlace"]),
        "PollingPlace": (origin_core_identifier(origin.chain_id), origin.core_identifier, at["OriginBlockStore"],
                         at["AuxiliaryBlockStore"], at["KernelGateway"]),
        "KernelGateway": (origin.core.address, at["OriginBlockStore"], at["PollingPlace"]),
        "OSTPrime": (origin.gateway.address, at["OriginBlockStore"], []),
        "ProposerSet": (proposer.address, at["PollingPlace"]),
    }
    deployed: dict[str, Any] = {}
    for name in AUXILIARY_ORDER:
        deployed[name] = deploy(w3, name, *arguments[name], sender=proposer, gasPrice=0)
        assert deployed[name].address == at[name], f"{name} landed at an address other than precomputed"
    enable_proposer_set(w3, at["ProposerSet"])
    return deployed


SYSTEM_ADDRESS = "0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE"


def enable_proposer_set(w3: Any, proposer_set: str) -> None:
    """The AuRa engine's first `finalizeChange` (at the contract's first block), as SYSTEM."""
    w3.provider.make_request("anvil_impersonateAccount", [SYSTEM_ADDRESS])
    try:
        tx_hash = w3.eth.send_transaction({"from": SYSTEM_ADDRESS, "to": proposer_set, "gasPrice": 0,
                                           "data": "0x" + bytes(keccak(text="finalizeChange()"))[:4].hex()})
        assert w3.eth.wait_for_transaction_receipt(tx_hash).status == 1
    finally:
        w3.provider.make_request("anvil_stopImpersonatingAccount", [SYSTEM_ADDRESS])


def build_two_chains(origin_w3: Any, aux_w3: Any) -> TwoChains:
    origin = origin_world.build_origin(origin_w3)
    origin.initialize()
    proposer = keys("initial-proposer")
    stakes = stake_on_origin(origin, [proposer.address])
    setup_block = origin_w3.eth.get_block("latest")
    contracts = deploy_auxiliary(aux_w3, proposer, origin, setup_block)
    return TwoChains(origin, aux_w3, proposer, setup_block, stakes, contracts)


@contextmanager
def running_two_chains() -> Iterator[TwoChains]:
    """Start both nodes, deploy everything, and stop both nodes afterwards whatever happens."""
    origin_node = devnet.start_anvil(name="origin", chain_id=ORIGIN_CHAIN_ID)
    aux_node = None
    try:
        aux_node = devnet.start_anvil(name="auxiliary", chain_id=AUXILIARY_CHAIN_ID, hardfork="berlin",
                                      accounts=0, extra_args=["--gas-price", "0"])
        yield build_two_chains(origin_node.w3, aux_node.w3)
    finally:
        if aux_node is not None:
            aux_node.stop()
        origin_node.stop()
