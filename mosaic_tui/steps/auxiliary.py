"""Step 3, the auxiliary chain: genesis files, the node, and the auxiliary contracts at zero gas price.

The initial proposer deploys six contracts with nonces 0..5 of a brand-new chain, so every address is
known before the chain exists: OSTPrime's goes into the genesis allocation (the whole base-coin supply,
the only value on the chain), ProposerSet's into the Aura chain spec.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mosaic_tui import devnet, genesis
from mosaic_tui.errors import StepFailed
from mosaic_tui.runner import Action, Step, Tx
from mosaic_tui.steps.common import AUXILIARY_ORDER, AUXILIARY_OUTPUTS, auxiliary_addresses, origin_core_identifier

NODE_WAIT = 600.0  # how long to wait for an operator's own auxiliary node to come up


def _addresses(ctx: Any) -> dict[str, str]:
    return auxiliary_addresses(ctx.signer("proposer").address)


def _write_genesis(ctx: Any, proposer_set_block: int | None = None) -> dict[str, Any]:
    proposer = ctx.signer("proposer").address
    at = _addresses(ctx)
    paths = genesis.write_genesis_files(
        ctx.out_dir, ctx.plan, proposer, at["ost_prime"], at["proposer_set"],
        proposer_set_block=genesis.BOOTSTRAP_DEPLOYMENTS if proposer_set_block is None else proposer_set_block,
        timestamp=int(ctx.out("setup_timestamp")))
    outputs: dict[str, Any] = {"initial_proposer": proposer, "genesis_path": str(paths["genesis_path"]),
                               "spec_path": str(paths["spec_path"]), "node_config_path": str(paths["node_config_path"]),
                               "compose_path": str(paths["compose_path"])}
    outputs["detail"] = f"wrote {paths['genesis_path']} and {paths['spec_path']}"
    return outputs


def _check_genesis_file(ctx: Any) -> None:
    """Refuse to go on with a genesis that is not what this plan generates (edited, or another plan's)."""
    path = Path(ctx.out("genesis_path"))
    expected = genesis.genesis_json(ctx.plan, ctx.out("initial_proposer"), _addresses(ctx)["ost_prime"],
                                    timestamp=int(ctx.out("setup_timestamp")))
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        raise StepFailed("3", "3.start_node", f"the genesis file {path} is missing or unreadable; it was written "
                                              "by an earlier run of this plan and must not be removed") from None
    if found != expected:
        raise StepFailed("3", "3.start_node", f"the genesis file {path} differs from the one this plan generates; "
                                              "nothing was sent to the auxiliary chain")


def _check_node(ctx: Any) -> None:
    """The node at the plan's URL runs the chain step 3 generated: chain id and genesis allocation."""
    client = ctx.auxiliary
    chain_id = client.call("reading the chain id", lambda: client.w3.eth.chain_id)
    if chain_id != ctx.plan.auxiliary.chain_id:
        raise StepFailed("3", "3.start_node", f"the auxiliary node at {client.url} reports chain id {chain_id}, "
                                              f"the plan says {ctx.plan.auxiliary.chain_id}")
    ost_prime = _addresses(ctx)["ost_prime"]
    allocated = client.call("reading the genesis allocation", lambda: client.w3.eth.get_balance(ost_prime, 0))
    if allocated != ctx.plan.auxiliary.base_coin_supply:
        raise StepFailed("3", "3.start_node", f"the auxiliary node at {client.url} did not start from the generated "
                                              f"genesis: OSTPrime's address {ost_prime} holds {allocated} wei at "
                                              f"block 0, expected {ctx.plan.auxiliary.base_coin_supply}")


def _start_node(ctx: Any) -> dict[str, Any]:
    _check_genesis_file(ctx)
    url = ctx.plan.auxiliary.rpc
    if ctx.plan.devnet and not devnet.answers(url):
        parsed = urllib.parse.urlparse(url)
        directory = ctx.devnet_dir or devnet.default_dir()
        directory.mkdir(parents=True, exist_ok=True)
        # Mine like the origin devnet does: a block per transaction, or every block_time seconds.
        origin_interval = devnet.rpc_call(ctx.plan.origin.rpc, "anvil_getIntervalMining") or 0
        block_time = ctx.plan.auxiliary.block_time if origin_interval else None
        node = devnet.start_anvil(
            name="auxiliary", block_time=block_time, host=parsed.hostname or devnet.DEFAULT_HOST, port=parsed.port or devnet.AUXILIARY_PORT,
            chain_id=ctx.plan.auxiliary.chain_id, hardfork="berlin", accounts=0, genesis=Path(ctx.out("genesis_path")),
            log_path=directory / "auxiliary.log",  # anvil cannot dump the state of a chain started with --init
            extra_args=genesis.anvil_flags(ctx.plan), detached=True)
        devnet.add_node(directory, node)
    elif not ctx.plan.devnet:
        deadline = time.monotonic() + NODE_WAIT
        told = False
        while not devnet.answers(url):
            if time.monotonic() > deadline:
                raise StepFailed("3", "3.start_node", f"no auxiliary node answered at {url} within "
                                                      f"{NODE_WAIT:.0f} s; start it from {ctx.out('spec_path')} "
                                                      "and run again")
            if not told and ctx.on_wait is not None:
                ctx.on_wait(f"start your auxiliary node from {ctx.out('spec_path')}; waiting for it at {url}")
                told = True
            time.sleep(2.0)
    _check_node(ctx)
    return {"auxiliary_rpc": url, "detail": f"auxiliary node answering at {url}"}


def _constructor_args(ctx: Any, name: str) -> tuple[Any, ...]:
    plan, at = ctx.plan, _addresses(ctx)
    epoch = plan.auxiliary.epoch_length
    if name == "OriginBlockStore":
        return (bytes.fromhex(ctx.out("setup_block_hash")[2:]), bytes.fromhex(ctx.out("setup_state_root")[2:]),
                int(ctx.out("setup_block_number")), epoch, at["polling_place"])
    if name == "AuxiliaryBlockStore":
        block = ctx.auxiliary.call("reading the genesis block", lambda: ctx.auxiliary.w3.eth.get_block(0))
        return (bytes(block["hash"]), bytes(block["stateRoot"]), 0, 0, epoch, at["polling_place"])
    if name == "PollingPlace":
        return (origin_core_identifier(plan.origin.chain_id), bytes.fromhex(plan.core_identifier[2:]),
                at["origin_block_store"], at["auxiliary_block_store"], at["kernel_gateway"])
    if name == "KernelGateway":
        return (ctx.out("origin_core"), at["origin_block_store"], at["polling_place"])
    if name == "OSTPrime":
        return (ctx.out("ost_gateway"), at["origin_block_store"])
    return (ctx.signer("proposer").address, at["polling_place"])


def _deployment(name: str) -> Callable[[Any], Tx]:
    def build(ctx: Any) -> Tx:
        return Tx(None, ctx.deploy_data(name, *_constructor_args(ctx, name)))
    return build


def _before(ctx: Any) -> None:
    from mosaic_tui import setup_block

    setup_block.check_before_auxiliary(ctx)  # the anchor must still be canonical, on every resume too
    ctx.sender.set_legacy_gas_price("auxiliary", 0)


def step(ctx: Any) -> Step:
    actions = [
        Action(id="3.genesis", label="write genesis.json, spec.json and the node config", run=_write_genesis),
        Action(id="3.start_node", label="start the auxiliary node", after=("3.genesis",), run=_start_node),
    ]
    previous: tuple[str, ...] = ()
    for nonce, name in enumerate(AUXILIARY_ORDER):
        action_id = f"3.deploy.{AUXILIARY_OUTPUTS[name]}"
        actions.append(Action(
            id=action_id, label=f"deploy {name}", chain="auxiliary", sender="proposer", after=("3.start_node",),
            after_signed=previous, expected_nonce=nonce,
            build=_deployment(name),
            deploy_output=AUXILIARY_OUTPUTS[name]))
        previous = (action_id,)
    actions.append(Action(id="3.spec_switch_block", label="write the ProposerSet switch block into spec.json",
                          after=(previous[0],), run=_finish_spec))
    return Step("3", "Auxiliary chain", actions, before=_before)


def _finish_spec(ctx: Any) -> dict[str, Any]:
    """Authority nodes that join later must switch to ProposerSet exactly where its code exists."""
    entry = ctx.journal.entry("3.deploy.proposer_set")
    block = entry.receipt.block_number if entry is not None and entry.receipt is not None else None
    if block is None:  # found on chain by an earlier run: the spec written then stays
        return {"detail": "spec.json unchanged"}
    _write_genesis(ctx, proposer_set_block=block)
    return {"detail": f"spec.json switches to ProposerSet after block {block}"}
