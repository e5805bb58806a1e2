"""Step 3, the auxiliary chain: its genesis with the system contracts in it, node files, the node.

No transaction goes to the auxiliary chain here. The six auxiliary contracts are in the genesis at
fixed addresses (genesis.py, docs/auxiliary-genesis.md), built from the plan and the origin set-up
block of step 2; ProposerSet is spec.json's validator source from block 0, and spec.json is never
rewritten. The deployer's gateway stake is paid to the initial proposer in the genesis itself, so
the chain runs at the kernel gas price from block 0.
"""

from __future__ import annotations

import hashlib
import shlex
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mosaic_tui.errors import StepFailed
from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui import genesis
    from mosaic_tui.deployment import Deployment
    from mosaic_tui.runner import Step

# authority, devnet and genesis (eth_utils, pycryptodome, the plan model) are imported where a step runs:
# the welcome page imports this module for INFO alone.

INFO = StepInfo(
    "3", "Auxiliary chain", "genesis with the auxiliary contracts, AuRa spec, node files, start the node",
    "Build the auxiliary genesis with the six auxiliary contracts in it, write genesis.json, the AuRa spec "
    "and the node files, start the auxiliary node; nothing is deployed there.", ("3.genesis", "3.start_node"))
NODE_WAIT = 600.0  # how long to wait for an operator's own auxiliary node to come up
SYSTEM_CALL_GAS = 1_600_000  # the gas Nethermind gives a system call (Contract.DefaultContractGasLimit)


def paid_in_genesis(ctx: Deployment) -> tuple[dict[str, Any], ...]:
    """The gateway stakes the genesis pays out directly: the deployer's, to the initial proposer."""
    deployer = ctx.signer("deployer").address.lower()
    proposer = ctx.signer("proposer").address.lower()
    return tuple(dict(s) for s in ctx.outputs.gateway_stakes
                 if str(s["staker"]).lower() == deployer and str(s["beneficiary"]).lower() == proposer)


def genesis_inputs(ctx: Deployment) -> genesis.GenesisInputs:
    from mosaic_tui import genesis
    return genesis.GenesisInputs(
        initial_proposer=ctx.signer("proposer").address, origin_core=ctx.outputs.origin_core,
        ost_gateway=ctx.outputs.ost_gateway, setup_block_hash=ctx.outputs.setup_block_hash,
        setup_state_root=ctx.outputs.setup_state_root, setup_block_number=ctx.outputs.setup_block_number,
        setup_timestamp=ctx.outputs.setup_timestamp, paid_in_genesis=paid_in_genesis(ctx))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_genesis(ctx: Deployment) -> dict[str, Any]:
    from mosaic_tui import authority, genesis
    proposer = ctx.signer("proposer")
    nodes = authority.load_or_create_nodes(ctx.out_dir, ctx.plan, proposer.address)
    try:
        built = genesis.build(ctx.plan, genesis_inputs(ctx), nodes=[n.enode for n in nodes])
    except genesis.GenesisError as error:
        raise StepFailed("3", "3.genesis", str(error)) from None
    paths = genesis.write_genesis_files(ctx.out_dir, built)
    from mosaic_tui.genesis_verify import write_proofs_file

    write_proofs_file(ctx.out_dir, ctx.journal.outputs())  # for validators' `genesis verify` without the journal
    account = getattr(proposer, "_account", None)
    signer_keys = {proposer.address: bytes(account.key)} if account is not None else {}
    node_paths = authority.write_node_files(ctx.out_dir, ctx.plan, nodes, paths["spec_path"].read_bytes(),
                                            signer_keys=signer_keys)
    return {**genesis.system_addresses(), "initial_proposer": proposer.address,
            "genesis_path": str(paths["genesis_path"]), "spec_path": str(paths["spec_path"]),
            "genesis_sha256": _sha256(paths["genesis_path"]), "spec_sha256": _sha256(paths["spec_path"]),
            "genesis_hash": built.hash, "genesis_state_root": built.state_root,
            "node_config_path": str(node_paths[authority.INITIAL_PROPOSER_NODE]),
            "compose_path": str(node_paths["compose"]),
            "detail": f"wrote {paths['genesis_path']} and {paths['spec_path']} (genesis {built.hash[:18]}…) "
                      f"and node files for {len(nodes)} authority nodes"}


def _check_genesis_files(ctx: Deployment) -> None:
    """Refuse to go on with genesis files that are not the ones step 3 wrote (edited, or another plan's)."""
    for key in ("genesis", "spec"):
        path = Path(ctx.out(f"{key}_path"))
        try:
            same = _sha256(path) == ctx.out(f"{key}_sha256")
        except OSError:
            raise StepFailed("3", "3.start_node", f"the file {path} is missing or unreadable; it was written by an "
                                                  "earlier run of this plan and must not be removed") from None
        if not same:
            raise StepFailed("3", "3.start_node", f"{path} differs from the one step 3 wrote; nothing was sent to "
                                                  "the auxiliary chain (`mosaic-tui genesis verify` names the difference)")


def start_commands(ctx: Deployment) -> str:
    """The exact command lines that start an auxiliary node for this genesis (shown while step 3 waits)."""
    from mosaic_tui import authority, genesis
    anvil = shlex.join(genesis.anvil_command(ctx.plan, Path(ctx.outputs.genesis_path).resolve()))
    min_price = (f"curl -s -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":1,"
                 f"\"method\":\"anvil_setMinGasPrice\",\"params\":[\"{hex(ctx.plan.auxiliary.gas_price)}\"]}}' "
                 f"{ctx.plan.auxiliary.rpc}")
    return ("start the initial proposer's Nethermind node with the generated config:\n"
            f"  {shlex.join(authority.nethermind_command(ctx.out_dir))}\n"
            f"  or, with a Nethermind binary: {shlex.join(authority.nethermind_bare_command(ctx.out_dir))}\n"
            "for a quick local try instead (anvil is no AuRa client: no ProposerSet sealing), run\n"
            f"  {anvil}\n  then {min_price}")


def _check_node(ctx: Deployment) -> None:
    """The node at the plan's URL runs this genesis: chain id, ProposerSet's code and OSTPrime's balance at
    block 0, and on a real AuRa client the genesis hash itself."""
    from mosaic_tui import genesis
    client = ctx.auxiliary
    chain_id = client.call("reading the chain id", lambda: client.w3.eth.chain_id)
    if chain_id != ctx.plan.auxiliary.chain_id:
        raise StepFailed("3", "3.start_node", f"the auxiliary node at {client.url} reports chain id {chain_id}, "
                                              f"the plan says {ctx.plan.auxiliary.chain_id}")
    import json

    alloc = json.loads(Path(ctx.outputs.genesis_path).read_text())["alloc"]
    at = genesis.system_addresses()
    code = client.call("reading ProposerSet's code", lambda: client.w3.eth.get_code(at["proposer_set"], 0))
    balance = client.call("reading the genesis allocation", lambda: client.w3.eth.get_balance(at["ost_prime"], 0))
    expected_code = alloc[at["proposer_set"].lower()]["code"]
    expected_balance = int(alloc[at["ost_prime"].lower()]["balance"], 16)
    if "0x" + bytes(code).hex() != expected_code or balance != expected_balance:
        raise StepFailed("3", "3.start_node", f"the auxiliary node at {client.url} did not start from the generated "
                                              f"genesis: ProposerSet's code or OSTPrime's balance at block 0 differ "
                                              f"from {ctx.out('genesis_path')}")
    block = client.call("reading the genesis block", lambda: client.w3.eth.get_block(0))
    if "step" in block and block["hash"].to_0x_hex() != ctx.outputs.genesis_hash:  # an AuRa client
        raise StepFailed("3", "3.start_node", f"the auxiliary node's genesis hash is {block['hash'].to_0x_hex()}, "
                                              f"the generated spec.json gives {ctx.out('genesis_hash')}")


def devnet_engine_finalize(url: str, plan: Any) -> bool:
    """On anvil, do what an AuRa engine does with ProposerSet: call finalizeChange as SYSTEM when a
    change is pending (first enablement, then after a signalled change). True if it called.

    anvil enforces the minimum gas price it was given; a system call pays nothing, so the minimum is
    lifted for the one call and put back.
    """
    from eth_utils import keccak

    from mosaic_tui import devnet, genesis

    proposer_set = genesis.SYSTEM_ADDRESSES["ProposerSet"]
    finalized = devnet.rpc_call(url, "eth_call", [{"to": proposer_set, "data": "0x" + keccak(text="finalized()")[:4].hex()},
                                                  "latest"])
    if int(finalized, 16):
        return False
    devnet.rpc_call(url, "anvil_setMinGasPrice", ["0x0"])
    devnet.rpc_call(url, "anvil_impersonateAccount", [genesis.SYSTEM])
    try:
        tx = devnet.rpc_call(url, "eth_sendTransaction", [{
            "from": genesis.SYSTEM, "to": proposer_set, "data": "0x" + keccak(text="finalizeChange()")[:4].hex(),
            "gas": hex(SYSTEM_CALL_GAS), "gasPrice": "0x0"}], timeout=30)
    finally:
        devnet.rpc_call(url, "anvil_stopImpersonatingAccount", [genesis.SYSTEM])
        devnet.rpc_call(url, "anvil_setMinGasPrice", [hex(plan.auxiliary.gas_price)])
    deadline = time.monotonic() + 60
    while (receipt := devnet.rpc_call(url, "eth_getTransactionReceipt", [tx])) is None:
        if time.monotonic() > deadline:
            raise StepFailed("4", "-", "the devnet's finalizeChange system call was not mined within 60 s")
        time.sleep(0.1)
    if int(receipt["status"], 16) != 1:
        raise StepFailed("4", "-", "ProposerSet.finalizeChange reverted for SYSTEM on the devnet")
    return True


def _start_node(ctx: Deployment) -> dict[str, Any]:
    from mosaic_tui import devnet, genesis
    _check_genesis_files(ctx)
    url = ctx.plan.auxiliary.rpc
    if ctx.plan.devnet and not devnet.answers(url):
        parsed = urllib.parse.urlparse(url)
        directory = ctx.devnet_dir or devnet.default_dir()
        directory.mkdir(parents=True, exist_ok=True)
        # Mine like the origin devnet does: a block per transaction, or every block_time seconds.
        origin_interval = devnet.rpc_call(ctx.plan.origin.rpc, "anvil_getIntervalMining") or 0
        block_time = ctx.plan.auxiliary.block_time if origin_interval else None
        node = devnet.start_anvil(
            name="auxiliary", block_time=block_time, host=parsed.hostname or devnet.DEFAULT_HOST,
            port=parsed.port or devnet.AUXILIARY_PORT, chain_id=ctx.plan.auxiliary.chain_id,
            hardfork=genesis.HARDFORK, accounts=0, genesis=Path(ctx.outputs.genesis_path),
            log_path=directory / "auxiliary.log",  # anvil cannot dump the state of a chain started with --init
            extra_args=genesis.anvil_flags(ctx.plan), detached=True)
        devnet.add_node(directory, node)
        # The kernel gas price from block 0 (anvil's --gas-price is only what it suggests).
        devnet.rpc_call(url, "anvil_setMinGasPrice", [hex(ctx.plan.auxiliary.gas_price)])
    elif not ctx.plan.devnet:
        deadline = time.monotonic() + NODE_WAIT
        told = False
        while not devnet.answers(url):
            if time.monotonic() > deadline:
                raise StepFailed("3", "3.start_node", f"no auxiliary node answered at {url} within "
                                                      f"{NODE_WAIT:.0f} s; {start_commands(ctx)}\nand run again")
            if not told and ctx.on_wait is not None:
                ctx.on_wait(f"waiting for the auxiliary node at {url}; {start_commands(ctx)}")
                told = True
            time.sleep(2.0)
    _check_node(ctx)
    if ctx.plan.devnet:
        devnet_engine_finalize(url, ctx.plan)  # the engine's call at ProposerSet's first enablement
    return {"auxiliary_rpc": url, "detail": f"auxiliary node answering at {url}, genesis as generated"}


def _before(ctx: Deployment) -> None:
    from mosaic_tui import setup_block

    setup_block.check_before_auxiliary(ctx)  # the anchor must still be canonical, on every resume too
    ctx.sender.set_legacy_gas_price("auxiliary", ctx.plan.auxiliary.gas_price)


def step(ctx: Deployment) -> Step:
    from mosaic_tui.runner import Action, Step
    actions = [
        Action(id="3.genesis", label="build the genesis with the auxiliary contracts, write it and the node files",
               run=_write_genesis),
        Action(id="3.start_node", label="start the auxiliary node", after=("3.genesis",), run=_start_node),
    ]
    return Step(INFO.key, INFO.title, actions, before=_before)
