"""Step 4, initializing the auxiliary chain: prove K0, mint base coin, raise the gas price, hand over.

The proofs come from the origin node's eth_getProof at the set-up block of step 2, which
OriginBlockStore trusts as its initial checkpoint. Everything here still runs at zero gas price from
the initial proposer; raising the price is the last action, after the proposer handed over.
"""

from __future__ import annotations

from typing import Any

from mosaic_tui.chain import proofs
from mosaic_tui.metablock import genesis_kernel
from mosaic_tui.runner import Action, Step, Tx
from mosaic_tui.steps.common import (
    OPEN_KERNEL_HASH_SLOT,
    OPENING_BASE,
    OPENING_CALLDATA_PER_VALIDATOR,
    OPENING_PER_VALIDATOR,
    STAKED_MESSAGES_SLOT,
    opening_parts,
)


def _height(ctx: Any) -> int:
    return int(ctx.out("setup_block_number"))


def _get_proof(ctx: Any, address: str, keys: list[bytes]) -> Any:
    origin = ctx.origin
    return origin.call("reading a proof", lambda: origin.w3.eth.get_proof(address, keys, _height(ctx)))


def _prove_origin_core(ctx: Any) -> Tx:
    proof = _get_proof(ctx, ctx.out("origin_core"), [proofs.slot_key(OPEN_KERNEL_HASH_SLOT)])
    account_rlp, nodes = proofs.account_proof_args(proof)
    return Tx(ctx.out("kernel_gateway"), ctx.call_data("KernelGateway", "proveOriginCore", account_rlp, nodes,
                                                       _height(ctx)))


def _k0(ctx: Any) -> Any:
    plan = ctx.plan
    return genesis_kernel([v.auxiliary_address for v in plan.validators], [v.stake for v in plan.validators])


def _prove_opening(function: str) -> Any:
    """KernelGateway.proveBlockOpening (K0 in one transaction) or proveKernelOpening (the first of its parts)."""
    def build(ctx: Any) -> Tx:
        proof = _get_proof(ctx, ctx.out("origin_core"), [proofs.slot_key(OPEN_KERNEL_HASH_SLOT)])
        kernel = _k0(ctx)
        data = ctx.call_data("KernelGateway", function, kernel.height, kernel.parent,
                             list(kernel.updated_validators), list(kernel.updated_weights),
                             proofs.storage_proof_nodes(proof), _height(ctx))
        return Tx(ctx.out("kernel_gateway"), data)
    return build


def _activate_part(end: int, size: int) -> Any:
    """A part cannot be estimated before the proof (or the part before it) is mined, so it carries its gas
    from the measured constants; the bootstrap runs at zero gas price, so a generous figure costs nothing."""
    def build(ctx: Any) -> Tx:
        kernel = _k0(ctx)
        need = OPENING_BASE + len(kernel.updated_validators) * OPENING_CALLDATA_PER_VALIDATOR + \
            size * OPENING_PER_VALIDATOR
        gas = min(ctx.plan.auxiliary.gas_limit, int(need * 1.25) + 20_000)
        return Tx(ctx.out("kernel_gateway"), ctx.call_data("KernelGateway", "activateKernelPart",
                                                           list(kernel.updated_validators),
                                                           list(kernel.updated_weights), end), gas=gas)
    return build


def _k0_pending_or_active(ctx: Any) -> dict[str, Any] | None:
    pending = ctx.read("KernelGateway", "auxiliary", ctx.out("kernel_gateway"), "pendingKernel")
    return {} if bytes(pending[0]) == _k0(ctx).hash() else _kernel_active(ctx)


def _part_applied(end: int) -> Any:
    def check(ctx: Any) -> dict[str, Any] | None:
        if _kernel_active(ctx) is not None:
            return {}
        pending = ctx.read("KernelGateway", "auxiliary", ctx.out("kernel_gateway"), "pendingKernel")
        return {} if bytes(pending[0]) == _k0(ctx).hash() and int(pending[5]) >= end else None
    return check


def _opening_actions(ctx: Any) -> list[Action]:
    """K0 activated in one transaction when it fits an auxiliary block, else proven once and applied in parts."""
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


def _kernel_active(ctx: Any) -> dict[str, Any] | None:
    active = ctx.read("KernelGateway", "auxiliary", ctx.out("kernel_gateway"), "getActiveKernelHash")
    return {} if bytes(active) == _k0(ctx).hash() else None


def _prove_gateway(ctx: Any) -> Tx:
    account_rlp, nodes = proofs.account_proof_args(_get_proof(ctx, ctx.out("ost_gateway"), []))
    return Tx(ctx.out("ost_prime"), ctx.call_data("OSTPrime", "proveGateway", account_rlp, nodes, _height(ctx)))


def _stake_proofs(ctx: Any) -> dict[str, list[bytes]]:
    """Storage proofs of every gateway stake, from one eth_getProof call (a round of mints shares it)."""
    if "stake_proofs" not in ctx.cache:
        stakes = ctx.out("gateway_stakes")
        keys = [proofs.storage_key_for_mapping(bytes.fromhex(s["message_hash"][2:]), STAKED_MESSAGES_SLOT)
                for s in stakes]
        proof = _get_proof(ctx, ctx.out("ost_gateway"), keys)
        ctx.cache["stake_proofs"] = {s["message_hash"]: proofs.storage_proof_nodes(proof, index)
                                     for index, s in enumerate(stakes)}
    proofs_by_hash: dict[str, list[bytes]] = ctx.cache["stake_proofs"]
    return proofs_by_hash


def _mint(stake: dict[str, Any]) -> Any:
    def build(ctx: Any) -> Tx:
        nodes = _stake_proofs(ctx)[stake["message_hash"]]
        data = ctx.call_data("OSTPrime", "mint", stake["amount"], stake["beneficiary"],
                             stake["staker"], stake["nonce"], nodes, _height(ctx))
        return Tx(ctx.out("ost_prime"), data)
    return build


def _minted(stake: dict[str, Any]) -> Any:
    def check(ctx: Any) -> dict[str, Any] | None:
        done = ctx.read("OSTPrime", "auxiliary", ctx.out("ost_prime"), "minted",
                        bytes.fromhex(stake["message_hash"][2:]))
        return {} if done else None
    return check


def _hand_over(ctx: Any) -> Tx:
    validators, _ = ctx.read("PollingPlace", "auxiliary", ctx.out("polling_place"), "getValidators")
    return Tx(ctx.out("proposer_set"), ctx.call_data("ProposerSet", "handOver", list(validators)))


def _handed_over(ctx: Any) -> dict[str, Any] | None:
    return {} if ctx.read("ProposerSet", "auxiliary", ctx.out("proposer_set"), "handedOver") else None


def _raise_gas_price(ctx: Any) -> dict[str, Any]:
    """Apply the kernel gas price on the node where it has a call for it (anvil); otherwise it is the
    min_gas_price of the node config written in step 3, and we check that the node reports it."""
    client, price = ctx.auxiliary, ctx.plan.auxiliary.gas_price
    reply = client.call("raising the gas price",
                        lambda: client.w3.provider.make_request("anvil_setMinGasPrice", [hex(price)]))
    applied = "error" not in reply
    reported = client.call("reading the gas price", lambda: client.w3.eth.gas_price)
    if reported < price:
        from mosaic_tui.errors import StepFailed

        raise StepFailed("4", "4.raise_gas_price", f"the auxiliary node reports a gas price of {reported} wei, below "
                                                   f"the kernel gas price {price} wei; set min_gas_price = {price} "
                                                   f"in its config ({ctx.out('node_config_path')}) and run again")
    ctx.sender.set_legacy_gas_price("auxiliary", None)
    how = "set on the node" if applied else "reported by the node"
    return {"gas_price": price, "detail": f"auxiliary gas price {price} wei ({how})"}


def _minted_total(ctx: Any) -> dict[str, Any]:
    return {"base_coin_minted": sum(int(s["amount"]) for s in ctx.out("gateway_stakes"))}


def _bootstrap_gas_price(ctx: Any) -> None:
    ctx.sender.set_legacy_gas_price("auxiliary", None if ctx.has("gas_price") else 0)


def step(ctx: Any) -> Step:
    actions = [
        Action(id="4.prove_origin_core", label="KernelGateway.proveOriginCore (account proof)", chain="auxiliary",
               sender="proposer", build=_prove_origin_core, done_on_chain=_kernel_active),
        *_opening_actions(ctx),
        Action(id="4.prove_gateway", label="OSTPrime.proveGateway (account proof)", chain="auxiliary",
               sender="proposer", build=_prove_gateway),
    ]
    mints = []
    stakes = ctx.out("gateway_stakes") if ctx.has("gateway_stakes") else []
    for stake in stakes:
        action_id = f"4.mint.{stake['staker']}.{stake['nonce']}"
        mints.append(action_id)
        actions.append(Action(id=action_id, label=f"mint {stake['amount']} wei base coin for {stake['beneficiary']}",
                              chain="auxiliary", sender="proposer", after=("4.prove_gateway",), build=_mint(stake),
                              done_on_chain=_minted(stake)))
    actions.append(Action(id="4.hand_over", label="ProposerSet.handOver to the validators", chain="auxiliary",
                          sender="proposer", after=("4.prove_block_opening",), build=_hand_over,
                          done_on_chain=_handed_over))
    actions.append(Action(id="4.raise_gas_price", label="raise the auxiliary gas price to the kernel's",
                          after=(*mints, "4.hand_over"), run=_raise_gas_price))
    return Step("4", "Initialize auxiliary", actions, before=_bootstrap_gas_price, finish=_minted_total)
