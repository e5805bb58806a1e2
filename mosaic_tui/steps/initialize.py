"""Step 4, initializing the auxiliary chain: prove K0, mint base coin, raise the gas price, hand over.

The proofs are the ones step 2 kept from the set-up block (which OriginBlockStore trusts as its
initial checkpoint): the origin node may no longer have that block's state by now. Everything here still runs at zero gas price from
the initial proposer; raising the price is the last action, after the proposer handed over.
"""

from __future__ import annotations

from typing import Any

from mosaic_tui import setup_block
from mosaic_tui.chain import proofs
from mosaic_tui.chain.rpc import node_error_sentence
from mosaic_tui.errors import StepFailed
from mosaic_tui.metablock import genesis_kernel
from mosaic_tui.runner import Action, Step, Tx
from mosaic_tui.setup_block import KeptProofs
from mosaic_tui.steps.common import OPEN_KERNEL_HASH_SLOT, STAKED_MESSAGES_SLOT


def _height(ctx: Any) -> int:
    return int(ctx.out("setup_block_number"))


def _kept(ctx: Any) -> KeptProofs:
    """The proofs kept in step 2 (fetched now, at the set-up block, for a journal from before they were
    kept), checked against the set-up block's state root."""
    if "kept_proofs" not in ctx.cache:
        kept = setup_block.kept_proofs(ctx.journal.outputs())
        if kept is None:
            kept = _fetch_now(ctx)
        ctx.cache["kept_proofs"] = kept
    found: KeptProofs = ctx.cache["kept_proofs"]
    return found


def _fetch_now(ctx: Any) -> KeptProofs:
    origin, height = ctx.origin, _height(ctx)

    def fetch(address: str, keys: list[bytes]) -> dict[str, Any]:
        reply = origin.call("reading a proof", lambda: origin.w3.provider.make_request(
            "eth_getProof", [address, ["0x" + key.hex() for key in keys], hex(height)]))
        if "error" in reply:
            raise StepFailed("4", "4.prove_origin_core", "the origin node cannot give the proofs of the set-up block "
                                                         f"{height}: {node_error_sentence(reply['error'])}")
        return dict(reply["result"])

    keys = [proofs.storage_key_for_mapping(bytes.fromhex(s["message_hash"][2:]), STAKED_MESSAGES_SLOT)
            for s in ctx.out("gateway_stakes")]
    kept = KeptProofs(height, ctx.out("setup_block_hash"), ctx.out("setup_state_root"),
                      fetch(ctx.out("origin_core"), [proofs.slot_key(OPEN_KERNEL_HASH_SLOT)]),
                      fetch(ctx.out("ost_gateway"), keys))
    kept.check()
    return kept


def _prove_origin_core(ctx: Any) -> Tx:
    proof = _kept(ctx).origin_core
    account_rlp, nodes = proofs.account_proof_args(proof)
    return Tx(ctx.out("kernel_gateway"), ctx.call_data("KernelGateway", "proveOriginCore", account_rlp, nodes,
                                                       _height(ctx)))


def _k0(ctx: Any) -> Any:
    plan = ctx.plan
    return genesis_kernel([v.auxiliary_address for v in plan.validators], [v.stake for v in plan.validators])


def _prove_block_opening(ctx: Any) -> Tx:
    proof = _kept(ctx).origin_core
    kernel = _k0(ctx)
    data = ctx.call_data("KernelGateway", "proveBlockOpening", kernel.height, kernel.parent,
                         list(kernel.updated_validators), list(kernel.updated_weights),
                         proofs.storage_proof_nodes(proof), _height(ctx))
    return Tx(ctx.out("kernel_gateway"), data)


def _kernel_active(ctx: Any) -> dict[str, Any] | None:
    active = ctx.read("KernelGateway", "auxiliary", ctx.out("kernel_gateway"), "getActiveKernelHash")
    return {} if bytes(active) == _k0(ctx).hash() else None


def _prove_gateway(ctx: Any) -> Tx:
    account_rlp, nodes = proofs.account_proof_args(_kept(ctx).ost_gateway)
    return Tx(ctx.out("ost_prime"), ctx.call_data("OSTPrime", "proveGateway", account_rlp, nodes, _height(ctx)))


def _mint(stake: dict[str, Any]) -> Any:
    def build(ctx: Any) -> Tx:
        nodes = _kept(ctx).stake_nodes(stake["message_hash"])
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


def _before(ctx: Any) -> None:
    setup_block.check_before_initialize(ctx)
    ctx.sender.set_legacy_gas_price("auxiliary", None if ctx.has("gas_price") else 0)


def step(ctx: Any) -> Step:
    actions = [
        Action(id="4.prove_origin_core", label="KernelGateway.proveOriginCore (account proof)", chain="auxiliary",
               sender="proposer", build=_prove_origin_core, done_on_chain=_kernel_active),
        Action(id="4.prove_block_opening", label="KernelGateway.proveBlockOpening: activate K0", chain="auxiliary",
               sender="proposer", after=("4.prove_origin_core",), build=_prove_block_opening,
               done_on_chain=_kernel_active),
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
    return Step("4", "Initialize auxiliary", actions, before=_before, finish=_minted_total)
