"""Step 4, initializing the auxiliary chain: anchor the genesis, prove K0, mint, hand over, check the gas price.

The proofs are the ones step 2 kept from the set-up block (which OriginBlockStore trusts as its
initial checkpoint): the origin node may no longer have that block's state by now. The initial
proposer pays for every transaction at the kernel gas price, with the base coin the genesis gave it
(the deployer's gateway stake); that price is each node's minimum from block 0, so the last action
only checks it. The hand-over is done when the AuRa engine has finalized the new set in ProposerSet
(on the devnet, where anvil is no AuRa engine, the step makes the engine's SYSTEM call itself).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mosaic_tui.errors import StepFailed
from mosaic_tui.steps.common import (
    OPEN_KERNEL_HASH_SLOT,
    OPENING_BASE,
    OPENING_CALLDATA_PER_VALIDATOR,
    OPENING_PER_VALIDATOR,
    STAKED_MESSAGES_SLOT,
    opening_parts,
)
from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment
    from mosaic_tui.runner import Action, Step, Tx
    from mosaic_tui.setup_block import KeptProofs

# setup_block and the proof helpers (rlp, eth_utils) are imported where a step runs: the welcome page
# imports this module for INFO alone.

INFO = StepInfo(
    "4", "Initialize auxiliary", "prove K0, mint base coin, hand over from the proposer, check gas price",
    "Anchor the genesis, prove K0 against the origin set-up block, mint the base coin, hand over from the "
    "initial proposer, check the kernel gas price.",
    ("4.anchor_genesis", "4.prove_origin_core", "4.prove_gateway", "4.prove_kernel_opening",
     "4.activate_kernel_part.{i}", "4.prove_block_opening", "4.mint.{staker}.{nonce}", "4.hand_over",
     "4.proposer_set_finalized", "4.raise_gas_price"))


def _height(ctx: Deployment) -> int:
    return ctx.outputs.setup_block_number


def _kept(ctx: Deployment) -> KeptProofs:
    """The proofs kept in step 2 (fetched now, at the set-up block, for a journal from before they were
    kept), checked against the set-up block's state root."""
    from mosaic_tui import setup_block
    if "kept_proofs" not in ctx.cache:
        kept = setup_block.kept_proofs(ctx.journal.outputs())
        if kept is None:
            kept = _fetch_now(ctx)
        ctx.cache["kept_proofs"] = kept
    found: KeptProofs = ctx.cache["kept_proofs"]
    return found


def _fetch_now(ctx: Deployment) -> KeptProofs:
    from mosaic_tui.chain import proofs
    from mosaic_tui.chain.rpc import node_error_sentence
    from mosaic_tui.setup_block import KeptProofs

    origin, height = ctx.origin, _height(ctx)

    def fetch(address: str, keys: list[bytes]) -> dict[str, Any]:
        reply = origin.call("reading a proof", lambda: origin.w3.provider.make_request(
            "eth_getProof", [address, ["0x" + key.hex() for key in keys], hex(height)]))
        if "error" in reply:
            raise StepFailed("4", "4.prove_origin_core", "the origin node cannot give the proofs of the set-up block "
                                                         f"{height}: {node_error_sentence(reply['error'])}")
        return dict(reply["result"])

    keys = [proofs.storage_key_for_mapping(bytes.fromhex(s["message_hash"][2:]), STAKED_MESSAGES_SLOT)
            for s in ctx.outputs.gateway_stakes]
    kept = KeptProofs(height, ctx.outputs.setup_block_hash, ctx.outputs.setup_state_root,
                      fetch(ctx.outputs.origin_core, [proofs.slot_key(OPEN_KERNEL_HASH_SLOT)]),
                      fetch(ctx.outputs.ost_gateway, keys))
    kept.check()
    return kept


def _prove_origin_core(ctx: Deployment) -> Tx:
    from mosaic_tui.chain import proofs
    from mosaic_tui.runner import Tx
    proof = _kept(ctx).origin_core
    account_rlp, nodes = proofs.account_proof_args(proof)
    return Tx(ctx.outputs.kernel_gateway, ctx.call_data("KernelGateway", "proveOriginCore", account_rlp, nodes,
                                                       _height(ctx)))


ANCHOR_HEADERS = 256  # headers one anchorGenesis call carries at most when the genesis is no longer recent
# Gas of anchorGenesis with the genesis header alone (measured ~245k: decoding, BLOCKHASH, the initial
# checkpoint's slots), with room to spare; unused gas is not paid for.
ANCHOR_AT_GENESIS_GAS = 500_000
FINALIZE_WAIT = 600.0


def aura_header(block: Any) -> bytes:
    """The RLP header of an AuRa block (seal fields step and signature instead of mix hash and nonce)."""
    import rlp

    from mosaic_tui.chain import header

    fields = header.header_fields({**block, "mixHash": b"", "nonce": b""})[:13]
    return bytes(rlp.encode([*fields, header.as_quantity(block["step"]), header.as_bytes(block["signature"])]))


def _header(block: Any) -> bytes:
    from mosaic_tui.chain import header
    if block.get("step") is not None and block.get("signature") is not None:
        encoded = aura_header(block)
        from eth_utils import keccak

        if bytes(keccak(encoded)) != header.as_bytes(block["hash"]):
            raise StepFailed("4", "4.anchor_genesis", "the AuRa header of a block does not hash to its block hash")
        return encoded
    return header.verified_header(block)


def _anchor_genesis(ctx: Deployment) -> Tx:
    """AuxiliaryBlockStore.anchorGenesis with the genesis header, or with the chain of headers back to it
    from a block BLOCKHASH still knows (docs/auxiliary-genesis.md)."""
    from mosaic_tui.runner import Tx
    client = ctx.auxiliary
    latest = client.call("reading the block number", lambda: client.w3.eth.block_number)
    store = ctx.outputs.auxiliary_block_store
    search = bytes(ctx.read("AuxiliaryBlockStore", "auxiliary", store, "anchorSearch"))

    def block(number_or_hash: int | bytes) -> Any:
        # Raw JSON-RPC: the header exactly as the node hashes it (web3's PoA formatting renames fields).
        tag = "0x" + number_or_hash.hex() if isinstance(number_or_hash, bytes) else hex(number_or_hash)
        method = "eth_getBlockByHash" if isinstance(number_or_hash, bytes) else "eth_getBlockByNumber"
        reply = client.call("reading a block", lambda: client.w3.provider.make_request(method, [tag, False]))
        return reply["result"]

    if latest == 0:
        # Still at the genesis: BLOCKHASH(0) vouches for it only from block 1 on, so an estimate at block 0
        # reverts ("first header is not a recent block"). The transaction itself lands in block 1 or later,
        # where the same check holds: send it with its gas given instead of estimated. A node that seals
        # every step (AuRa with ForceSealing) and one that seals only for transactions both take it.
        return Tx(store, ctx.call_data("AuxiliaryBlockStore", "anchorGenesis", [_header(block(0))]),
                  gas=min(ANCHOR_AT_GENESIS_GAS, ctx.plan.auxiliary.gas_limit))
    if latest <= 255 and not any(search):
        blocks = [block(0)]
    else:
        start = block(search) if any(search) else block(max(latest - 1, 0))
        first = int(start["number"], 16)
        blocks = [start, *(block(n) for n in range(first - 1, max(first - ANCHOR_HEADERS, -1), -1))]
    headers = [_header(b) for b in blocks]
    return Tx(store, ctx.call_data("AuxiliaryBlockStore", "anchorGenesis", headers))


def _anchored(ctx: Deployment) -> dict[str, Any] | None:
    anchored = bytes(ctx.read("AuxiliaryBlockStore", "auxiliary", ctx.outputs.auxiliary_block_store, "initialBlockHash"))
    return {"auxiliary_genesis_anchor": "0x" + anchored.hex()} if any(anchored) else None


def _k0(ctx: Deployment) -> Any:
    plan = ctx.plan
    from mosaic_tui.metablock import genesis_kernel  # eth_account: not on the welcome page's way

    return genesis_kernel([v.auxiliary_address for v in plan.validators], [v.stake for v in plan.validators])


def _prove_opening(function: str) -> Any:
    """KernelGateway.proveBlockOpening (K0 in one transaction) or proveKernelOpening (the first of its parts)."""
    from mosaic_tui.chain import proofs
    from mosaic_tui.runner import Tx

    def build(ctx: Deployment) -> Tx:
        proof = _kept(ctx).origin_core
        kernel = _k0(ctx)
        data = ctx.call_data("KernelGateway", function, kernel.height, kernel.parent,
                             list(kernel.updated_validators), list(kernel.updated_weights),
                             proofs.storage_proof_nodes(proof), _height(ctx))
        return Tx(ctx.outputs.kernel_gateway, data)
    return build


def _activate_part(end: int, size: int) -> Any:
    """A part cannot be estimated before the proof (or the part before it) is mined, so it carries its gas
    from the measured constants (rounded up; unused gas is not paid for)."""
    from mosaic_tui.runner import Tx

    def build(ctx: Deployment) -> Tx:
        kernel = _k0(ctx)
        need = OPENING_BASE + len(kernel.updated_validators) * OPENING_CALLDATA_PER_VALIDATOR + \
            size * OPENING_PER_VALIDATOR
        gas = min(ctx.plan.auxiliary.gas_limit, int(need * 1.25) + 20_000)
        return Tx(ctx.outputs.kernel_gateway, ctx.call_data("KernelGateway", "activateKernelPart",
                                                           list(kernel.updated_validators),
                                                           list(kernel.updated_weights), end), gas=gas)
    return build


def _k0_pending_or_active(ctx: Deployment) -> dict[str, Any] | None:
    pending = ctx.read("KernelGateway", "auxiliary", ctx.outputs.kernel_gateway, "pendingKernel")
    return {} if bytes(pending[0]) == _k0(ctx).hash() else _kernel_active(ctx)


def _part_applied(end: int) -> Any:
    def check(ctx: Deployment) -> dict[str, Any] | None:
        if _kernel_active(ctx) is not None:
            return {}
        pending = ctx.read("KernelGateway", "auxiliary", ctx.outputs.kernel_gateway, "pendingKernel")
        return {} if bytes(pending[0]) == _k0(ctx).hash() and int(pending[5]) >= end else None
    return check


def _opening_actions(ctx: Deployment) -> list[Action]:
    """K0 activated in one transaction when it fits an auxiliary block, else proven once and applied in parts."""
    from mosaic_tui.runner import Action
    parts = opening_parts(len(ctx.plan.validators), ctx.plan.auxiliary.gas_limit)
    if not parts:  # None: one transaction; []: cannot fit, the estimate will say so
        return [Action(id="4.prove_block_opening", label="KernelGateway.proveBlockOpening: activate K0",
                       chain="auxiliary", sender="proposer", after=("4.prove_origin_core",),
                       build=_prove_opening("proveBlockOpening"), done_on_chain=_kernel_active)]
    actions = [Action(id="4.prove_kernel_opening", label="KernelGateway.proveKernelOpening: prove K0",
                      chain="auxiliary", sender="proposer", after=("4.prove_origin_core",),
                      build=_prove_opening("proveKernelOpening"), done_on_chain=_k0_pending_or_active)]
    previous, end = "4.prove_kernel_opening", 0
    for number, size in enumerate(parts):
        end += size
        last = number == len(parts) - 1
        action_id = "4.prove_block_opening" if last else f"4.activate_kernel_part.{number}"
        label = "KernelGateway.activateKernelPart: last part, activate K0" if last else \
            f"KernelGateway.activateKernelPart: validators {end - size + 1}-{end} of K0"
        actions.append(Action(id=action_id, label=label, chain="auxiliary", sender="proposer",
                              after_signed=(previous,), build=_activate_part(end, size),
                              done_on_chain=_kernel_active if last else _part_applied(end),
                              after=("4.prove_origin_core",)))
        previous = action_id
    return actions


def _kernel_active(ctx: Deployment) -> dict[str, Any] | None:
    active = ctx.read("KernelGateway", "auxiliary", ctx.outputs.kernel_gateway, "getActiveKernelHash")
    return {} if bytes(active) == _k0(ctx).hash() else None


def _prove_gateway(ctx: Deployment) -> Tx:
    from mosaic_tui.chain import proofs
    from mosaic_tui.runner import Tx
    account_rlp, nodes = proofs.account_proof_args(_kept(ctx).ost_gateway)
    return Tx(ctx.outputs.ost_prime, ctx.call_data("OSTPrime", "proveGateway", account_rlp, nodes, _height(ctx)))


def _mint(stake: dict[str, Any]) -> Any:
    from mosaic_tui.runner import Tx

    def build(ctx: Deployment) -> Tx:
        nodes = _kept(ctx).stake_nodes(stake["message_hash"])
        data = ctx.call_data("OSTPrime", "mint", stake["amount"], stake["beneficiary"],
                             stake["staker"], stake["nonce"], nodes, _height(ctx))
        return Tx(ctx.outputs.ost_prime, data)
    return build


def _minted(stake: dict[str, Any]) -> Any:
    def check(ctx: Deployment) -> dict[str, Any] | None:
        done = ctx.read("OSTPrime", "auxiliary", ctx.outputs.ost_prime, "minted",
                        bytes.fromhex(stake["message_hash"][2:]))
        return {} if done else None
    return check


def _proposer_set_finalized(ctx: Deployment) -> dict[str, Any]:
    """Wait until the engine's finalizeChange made the validators ProposerSet's set (the devnet makes it)."""
    from mosaic_tui.steps.auxiliary import devnet_engine_finalize

    if ctx.plan.devnet:
        devnet_engine_finalize(ctx.plan.auxiliary.rpc, ctx.plan)
    validators = [v.auxiliary_address.lower() for v in ctx.plan.validators]
    deadline = time.monotonic() + FINALIZE_WAIT
    told = False
    while True:
        listed = [a.lower() for a in ctx.read("ProposerSet", "auxiliary", ctx.outputs.proposer_set, "getValidators")]
        if sorted(listed) == sorted(validators):
            return {"detail": f"ProposerSet's finalized set is the {len(listed)} validators"}
        if time.monotonic() > deadline:
            raise StepFailed("4", "4.proposer_set_finalized", "the AuRa engine has not finalized the hand-over in "
                                                             f"ProposerSet within {FINALIZE_WAIT:.0f} s; is the initial "
                                                             "proposer's node sealing?")
        if not told and ctx.on_wait is not None:
            ctx.on_wait("waiting for the AuRa engine to finalize the hand-over (finalizeChange)")
            told = True
        time.sleep(1.0)


def _hand_over(ctx: Deployment) -> Tx:
    from mosaic_tui.runner import Tx
    validators, _ = ctx.read("PollingPlace", "auxiliary", ctx.outputs.polling_place, "getValidators")
    return Tx(ctx.outputs.proposer_set, ctx.call_data("ProposerSet", "handOver", list(validators)))


def _handed_over(ctx: Deployment) -> dict[str, Any] | None:
    return {} if ctx.read("ProposerSet", "auxiliary", ctx.outputs.proposer_set, "handedOver") else None


def _raise_gas_price(ctx: Deployment) -> dict[str, Any]:
    """The chain runs at the kernel gas price from block 0 (each node's minimum, set by step 3's node
    files or, on the devnet, at start): check that the node reports and enforces at least that."""
    client, price = ctx.auxiliary, ctx.plan.auxiliary.gas_price
    reported = client.call("reading the gas price", lambda: client.w3.eth.gas_price)
    if reported < price:
        raise StepFailed("4", "4.raise_gas_price", f"the auxiliary node reports a gas price of {reported} wei, below "
                                                   f"the kernel gas price {price} wei; its config must set "
                                                   f"Blocks.MinGasPrice = {price} ({ctx.out('node_config_path')})")
    return {"gas_price": price, "detail": f"auxiliary gas price {price} wei (the node's minimum since block 0)"}


def _minted_total(ctx: Deployment) -> dict[str, Any]:
    return {"base_coin_minted": sum(int(s["amount"]) for s in ctx.outputs.gateway_stakes)}


def _before(ctx: Deployment) -> None:
    from mosaic_tui import setup_block
    setup_block.check_before_initialize(ctx)
    ctx.sender.set_legacy_gas_price("auxiliary", ctx.plan.auxiliary.gas_price)


def step(ctx: Deployment) -> Step:
    from mosaic_tui.runner import Action, Step
    actions = [
        Action(id="4.anchor_genesis", label="AuxiliaryBlockStore.anchorGenesis: trust the genesis block",
               chain="auxiliary", sender="proposer", build=_anchor_genesis, done_on_chain=_anchored),
        Action(id="4.prove_origin_core", label="KernelGateway.proveOriginCore (account proof)", chain="auxiliary",
               sender="proposer", build=_prove_origin_core, done_on_chain=_kernel_active),
        *_opening_actions(ctx),
        Action(id="4.prove_gateway", label="OSTPrime.proveGateway (account proof)", chain="auxiliary",
               sender="proposer", build=_prove_gateway),
    ]
    mints = []
    stakes = ctx.outputs.gateway_stakes if ctx.has("gateway_stakes") else []
    paid = {s["message_hash"] for s in _paid_in_genesis(ctx)} if stakes else set()
    for stake in [s for s in stakes if s["message_hash"] not in paid]:
        action_id = f"4.mint.{stake['staker']}.{stake['nonce']}"
        mints.append(action_id)
        actions.append(Action(id=action_id, label=f"mint {stake['amount']} wei base coin for {stake['beneficiary']}",
                              chain="auxiliary", sender="proposer", after=("4.prove_gateway",), build=_mint(stake),
                              done_on_chain=_minted(stake)))
    actions.append(Action(id="4.hand_over", label="ProposerSet.handOver to the validators", chain="auxiliary",
                          sender="proposer", after=("4.prove_block_opening",), build=_hand_over,
                          done_on_chain=_handed_over))
    actions.append(Action(id="4.proposer_set_finalized", label="the AuRa engine finalizes the validators in ProposerSet",
                          after=("4.hand_over",), run=_proposer_set_finalized))
    actions.append(Action(id="4.raise_gas_price", label="check the auxiliary gas price is the kernel's",
                          after=(*mints, "4.proposer_set_finalized"), run=_raise_gas_price))
    return Step(INFO.key, INFO.title, actions, before=_before, finish=_minted_total)


def _paid_in_genesis(ctx: Deployment) -> tuple[dict[str, Any], ...]:
    from mosaic_tui.steps.auxiliary import paid_in_genesis

    return paid_in_genesis(ctx)
