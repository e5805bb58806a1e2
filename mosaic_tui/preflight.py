"""Step 0's preflight: everything checked before the first transaction, every problem named at once.

A first-time operator with real money on the line needs to hear "validators[2].origin_address holds
1,000 OST but needs 1,010 OST" before anything is signed, not a revert halfway through step 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, MosaicError
from mosaic_tui.steps.common import (
    VALIDATOR_ORIGIN_GAS,
    genesis_chunks,
    largest_validator_count,
    opening_parts,
    origin_gas_limit,
    ost_address,
)

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment


@dataclass
class StepCost:
    step: str
    title: str
    gas: int
    wei: int


@dataclass
class PreflightReport:
    chain_id: int
    block: int
    fee_per_gas: int
    costs: list[StepCost] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)  # what will be sent, one line per transaction
    changes: list[str] = field(default_factory=list)  # harmless plan changes since the deployment started
    external: list[str] = field(default_factory=list)  # which validators act for themselves, one line each
    fee_source: str = ""  # "the plan's ceiling ..." or "the node now (tip from ...)"

    @property
    def total_wei(self) -> int:
        return sum(cost.wei for cost in self.costs)


def _origin_reachable(ctx: Deployment) -> tuple[int, int]:
    """Chain id and block number, each failure a sentence about origin.rpc (short wait: no retry here)."""
    import requests

    w3 = ctx.origin.w3
    url = ctx.plan.origin.rpc
    try:
        chain_id = int(w3.eth.chain_id)
        block = int(w3.eth.block_number)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, OSError):
        raise InputError("origin.rpc", f"no node answers at {url}; check the URL and that the node runs.") from None
    except Exception:
        raise InputError("origin.rpc", f"{url} answers, but not as an Ethereum JSON-RPC node.") from None
    return chain_id, block


def _is_loopback(url: str) -> bool:
    import ipaddress
    import urllib.parse

    host = (urllib.parse.urlsplit(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _instance_id(url: str) -> str | None:
    """anvil's per-process instance id (anvil_metadata), or None where no anvil answers."""
    from mosaic_tui import devnet

    try:
        metadata = devnet.rpc_call(url, "anvil_metadata", timeout=3.0)
        return str(metadata["instanceId"])
    except Exception:
        return None


def devnet_refusal(plan: Any, directory: Any = None) -> str | None:
    """Why this `devnet = true` plan may not run its devnet behaviour here, or None when both chains
    prove to be our local devnet: a loopback URL, a node that answers anvil's own methods, and the
    devnet record (devnet.json) naming that very node (same anvil instance). Dev keys, the dev
    token and step 0's funding are public knowledge and free money on any other chain.

    The auxiliary chain may not answer yet (step 3 starts it and records it); if it answers, it must
    prove the same."""
    from pathlib import Path

    from mosaic_tui import devnet
    from mosaic_tui.redact import redact_url

    record = Path(directory) if directory is not None else devnet.default_dir()
    recorded = None
    urls = (("origin.rpc", plan.origin.rpc), ("auxiliary.rpc", plan.auxiliary.rpc))
    for where, url in urls:
        if not _is_loopback(url):
            return (f"the plan says devnet = true, but {where} {redact_url(url)} is not on this machine; devnet "
                    "keys, the dev token and devnet funding run only on the local devnet. Nothing was sent; set "
                    "devnet = false and use real keys for a real chain.")
    for where, url in urls:
        shown = redact_url(url)
        if where == "auxiliary.rpc" and not devnet.answers(url, timeout=2.0):
            continue  # step 3 starts the devnet's auxiliary node here and records it
        instance = _instance_id(url)
        if instance is None:
            return (f"the plan says devnet = true, but the node at {where} {shown} is not an anvil devnet node "
                    "(it does not answer anvil_metadata); devnet keys and funding run only on the local devnet. "
                    "Nothing was sent.")
        if recorded is None:
            try:
                nodes = devnet.load_record(record)
            except Exception:
                nodes = {}
            recorded = {_instance_id(node.rpc_url): name for name, node in nodes.items() if node.is_ours()}
        if instance not in recorded:
            return (f"the plan says devnet = true, but the anvil at {where} {shown} is not one the devnet record "
                    f"{record / devnet.RECORD} names (started by mosaic-tui devnet up or deploy --devnet); devnet "
                    "keys and funding run only on that devnet. Nothing was sent.")
    return None


def _credentials_problems(ctx: Deployment, add: Any) -> None:
    """An RPC URL with credentials in it makes the plan file a secret: readable by its owner only."""
    import stat

    from mosaic_tui.redact import url_has_credentials

    try:
        mode = stat.S_IMODE(ctx.plan_path.stat().st_mode)
    except OSError:
        return
    for where, url in (("origin.rpc", ctx.plan.origin.rpc), ("auxiliary.rpc", ctx.plan.auxiliary.rpc)):
        if url_has_credentials(url) and mode & 0o077:
            add(where, f"the URL carries credentials, and {ctx.plan_path} can be read by other users; run "
                       f"chmod 600 {ctx.plan_path} first.")


def _ost_problems(ctx: Deployment, add: Any) -> None:
    if ctx.plan.deploys_ost:
        return
    address = ost_address(ctx)
    if not ctx.origin.w3.eth.get_code(address):
        add("origin.ost", f"{address} has no contract code on the origin chain; is it the OST token's address?")
        return
    try:
        ctx.read("EIP20Token", "origin", address, "totalSupply")
        ctx.read("EIP20Token", "origin", address, "balanceOf", address)
    except MosaicError:
        raise
    except Exception:
        add("origin.ost", f"the contract at {address} does not answer ERC20 calls (totalSupply, balanceOf).")


def _fee_per_gas(ctx: Deployment) -> tuple[int, str]:
    """The fee per gas the deployment is priced at: the plan's ceiling when it has one (no transaction
    ever pays more), else what the node asks now; and where that figure comes from."""
    from mosaic_tui.chain.sender import FeePolicy, read_fees

    origin = ctx.plan.origin
    if origin.max_fee_per_gas is not None:
        return int(origin.max_fee_per_gas), "the plan's ceiling origin.max_fee_per_gas"
    fees, source = read_fees(ctx.origin, FeePolicy(None, origin.max_priority_fee_per_gas))
    return int(fees.get("maxFeePerGas", fees.get("gasPrice", 0))), f"the node now (tip from {source})"


def _costs(ctx: Deployment, fee: int) -> list[StepCost]:
    """What each step still to run costs the deployer (its own `INFO.gas`), and the validators' own part."""
    from mosaic_tui.steps import described

    plan = ctx.plan
    costs = []
    for info in described():
        if info.key in ("0", "1", "2") and (info.key != "0" or plan.devnet) and not ctx.journal.is_step_done(info.key):
            gas = info.gas(ctx)
            title = f"{info.title} (deployer)" if info.key == "2" else info.title
            if gas:
                costs.append(StepCost(info.key, title, gas, gas * fee))
    if not ctx.journal.is_step_done("2"):
        validators = len(plan.validators) * VALIDATOR_ORIGIN_GAS
        costs.append(StepCost("2", "Staking (validators, each pays its own)", validators, validators * fee))
    costs.append(StepCost("3-4", "Auxiliary chain (no ETH: base coin from the genesis)", 0, 0))
    return costs


def run_preflight(ctx: Deployment) -> PreflightReport:
    """All checks of step 0 (docs/design.md). Raises InputErrors only for an unreachable origin; else fills `problems`."""
    plan = ctx.plan
    problems: list[InputError] = list(plan.problems())

    def add(field_name: str | InputError, message: str = "") -> None:
        # an InputError is kept as it is: its type (PassphraseRejected) tells the wizard to ask again
        problems.append(field_name if isinstance(field_name, InputError) else InputError(field_name, message))

    chain_id, block = _origin_reachable(ctx)
    report = PreflightReport(chain_id=chain_id, block=block, fee_per_gas=0, problems=problems)
    if chain_id != plan.origin.chain_id:
        add("origin.chain_id", f"the plan says {plan.origin.chain_id}, but the node at {plan.origin.rpc} "
                               f"is chain {chain_id}; nothing will be signed for the wrong chain.")
        return report
    if plan.devnet:
        refusal = devnet_refusal(plan, getattr(ctx, "devnet_dir", None))
        if refusal is not None:
            add("devnet", refusal)
            return report  # nothing of a devnet (dev keys, funding, a dev token) may touch this chain
    _ost_problems(ctx, add)
    _credentials_problems(ctx, add)
    if not ctx.journal.is_step_done("2"):
        from mosaic_tui.setup_block import finality_problem

        problem = finality_problem(ctx)
        if problem is not None:
            add("origin.confirmations", problem)
    report.fee_per_gas, report.fee_source = _fee_per_gas(ctx)
    fee = report.fee_per_gas
    report.costs = _costs(ctx, fee)
    signers = _open_signers(ctx, add)
    deployer = signers.get("deployer")
    if deployer is not None:
        need = sum(c.wei for c in report.costs if "validators" not in c.title)
        if plan.devnet:
            from mosaic_tui.steps.common import validator_eth_needed

            need += len(plan.validators) * validator_eth_needed(plan)
        have = int(ctx.origin.w3.eth.get_balance(deployer.address))
        if have < need:
            add("origin.deployer", f"{deployer.address} holds {units.format_amount(have, 'ETH')} but the deployment "
                                   f"needs about {units.format_amount(need, 'ETH')} for gas.")
    if not plan.devnet and not ctx.journal.is_step_done("2"):
        _balance_problems(ctx, signers, fee, add)
    _gas_limit_problems(ctx, add)
    _auxiliary_problems(ctx, signers, add)
    if not problems:  # the trial starts a throwaway node: only for an otherwise sound plan
        _genesis_trial(ctx, signers.get("proposer"), add)
    report.external = _external_lines(ctx)
    return report


def _external_lines(ctx: Deployment) -> list[str]:
    """Validators who sign their own stake: who they are and what the chain shows of them so far."""
    plan = ctx.plan
    lines = []
    for index in plan.external_validators:
        validator = plan.validators[index]
        line = (f"validator {index + 1} ({validator.origin_address}) acts for itself: after step 1 it runs "
                f"mosaic-tui validator stake {ctx.plan_path.name} --validator {index + 1}")
        if ctx.has("stake") and not ctx.journal.is_step_done("2"):
            try:
                allowance = int(ctx.read("EIP20Token", "origin", ost_address(ctx), "allowance",
                                         validator.origin_address, ctx.out("stake")))
                line += f" (approved so far: {units.format_amount(allowance, 'OST')})"
            except MosaicError:
                raise
            except Exception:
                pass  # the OST problem is already reported by _ost_problems
        lines.append(line)
    if lines:
        deadline = plan.origin.staking_deadline
        lines.append("step 2 waits for them" + (f" until {deadline:%Y-%m-%d %H:%M:%S} UTC" if deadline else
                                                " with no deadline (origin.staking_deadline)"))
    return lines


def _open_signers(ctx: Deployment, add: Any) -> dict[str, Any]:
    roles = ["deployer", "proposer"] + [f"validator:{i}" for i, v in enumerate(ctx.plan.validators)
                                        if v.origin_key is None or not v.origin_key.is_external]
    opened: dict[str, Any] = {}
    for role in roles:
        try:
            opened[role] = ctx.signer(role)
        except InputError as error:
            add(error)
    _auxiliary_keys(ctx, add)
    proposer = opened.get("proposer")
    if proposer is not None:
        _proposer_matches_the_journal(ctx, proposer.address, add)
    deployer = opened.get("deployer")
    if deployer is not None:
        _deployer_matches_the_journal(ctx, deployer.address, add)
    return opened


def _auxiliary_keys(ctx: Deployment, add: Any) -> None:
    """Each validator's auxiliary key opens and is the key of its auxiliary_address: the validator votes
    with it once the chain runs, and a key that fails then has locked its stake for nothing."""
    from mosaic_tui import keys

    for index, validator in enumerate(ctx.plan.validators):
        ref, field_name = validator.auxiliary_key, f"validators[{index}].auxiliary_key"
        if ref is None or ref.kind not in ("dev", "keyring", "keystore"):
            continue  # node: unlocked on the validator's own node; external: opened on its own machine
        try:
            signer = keys.open_signer(ref, field_name, base=ctx.plan_path.parent, passphrase=ctx.passphrase)
        except InputError as error:
            add(error)
            continue
        if signer.address != validator.auxiliary_address:
            add(field_name, f"opens the key of {signer.address}, but auxiliary_address is "
                            f"{validator.auxiliary_address}.")


def _proposer_matches_the_journal(ctx: Deployment, address: str, add: Any) -> None:
    """Once step 2 named the initial proposer (the beneficiary of the deployer's gateway stake) or step 3
    wrote it into the genesis, its key may not change: the base coin and the bootstrap rights are its."""
    outputs = ctx.journal.outputs()
    known = outputs.get("initial_proposer")
    if known is None:
        entry = ctx.journal.entry("2.gateway_stake.deployer")
        stake = entry.outputs.get("_stake") if entry is not None else None
        known = stake.get("beneficiary") if isinstance(stake, dict) else None
    if known is not None and str(known).lower() != address.lower():
        add("auxiliary.initial_proposer", f"opens the key of {address}, but this deployment's initial proposer is "
                                          f"{known} (in the journal since step 2); use that key.")


def _signed_by(entry: Any, sender: str) -> bool:
    """Whether the entry's signed bytes were signed by `sender`: the journal's word alone is no proof (a
    forged entry is refused by the runner's checks, exit 1, and must not send the operator to its key)."""
    from mosaic_tui.chain.sender import decode_raw

    try:
        return bool(entry.raw_tx) and decode_raw(bytes.fromhex(entry.raw_tx[2:])).sender.lower() == sender.lower()
    except ValueError:
        return False


def _deployer_matches_the_journal(ctx: Deployment, address: str, add: Any) -> None:
    """A changed origin.deployer reference must still open the account that sent the deployer's transactions."""
    for entry in ctx.journal.entries():
        deployer_action = entry.action_id.startswith(("0.", "1.")) or entry.action_id in (
            "2.initialize_stake", "2.approve_gateway.deployer", "2.gateway_stake.deployer")
        if deployer_action and entry.sender and _signed_by(entry, entry.sender):
            if entry.sender.lower() != address.lower():
                add("origin.deployer", f"opens the key of {address}, but this deployment's deployer is {entry.sender} "
                                       f"(it sent {entry.action_id}); use that key.")
            return


def _balance_problems(ctx: Deployment, signers: dict[str, Any], fee: int, add: Any) -> None:
    """What each account still has to pay: a resumed run must not ask for OST a stake already took."""
    plan, token = ctx.plan, ost_address(ctx)

    def ost_of(address: str) -> int:
        return int(ctx.read("EIP20Token", "origin", token, "balanceOf", address))

    initialized = ctx.journal.confirmed("2.initialize_stake")
    staked = _registered_in_chunks(ctx)
    try:
        deployer = signers.get("deployer")
        deployer_needs = 0 if ctx.journal.confirmed("2.gateway_stake.deployer") else plan.deployer_gateway_stake
        if deployer is not None and ost_of(deployer.address) < deployer_needs:
            add("origin.deployer_gateway_stake", f"the deployer {deployer.address} holds "
                f"{units.format_amount(ost_of(deployer.address), 'OST')}, less than its gateway stake.")
        for index, validator in enumerate(plan.validators):
            if validator.origin_key.is_external and ctx.has("stake"):
                continue  # it already acts on its own; step 2's rows show what it still lacks
            need = (0 if initialized or index in staked else validator.stake) + \
                (0 if ctx.journal.confirmed(f"2.gateway_stake.{index}") else validator.gateway_stake)
            if need == 0:
                continue  # everything it pays for is on chain
            have = ost_of(validator.origin_address)
            if have < need:
                add(f"validators[{index}].origin_address", f"{validator.origin_address} holds "
                    f"{units.format_amount(have, 'OST')} but its remaining stakes need "
                    f"{units.format_amount(need, 'OST')}.")
            eth = int(ctx.origin.w3.eth.get_balance(validator.origin_address))
            if eth < VALIDATOR_ORIGIN_GAS * fee:
                add(f"validators[{index}].origin_address", f"{validator.origin_address} holds "
                    f"{units.format_amount(eth, 'ETH')}, less than the {units.format_amount(VALIDATOR_ORIGIN_GAS * fee, 'ETH')} "
                    "its own transactions cost.")
    except MosaicError:
        raise
    except Exception:
        return  # the OST problem is already reported by _ost_problems


def _registered_in_chunks(ctx: Deployment) -> set[int]:
    """Validators whose Stake.registerValidators chunk is confirmed: their stake is already pulled."""
    chunks = genesis_chunks(len(ctx.plan.validators), origin_gas_limit(ctx))
    done: set[int] = set()
    start = 0
    for number, size in enumerate(chunks[:-1]):
        if ctx.journal.confirmed(f"2.register_validators.{number}"):
            done.update(range(start, start + size))
        start += size
    return done


def _gas_limit_problems(ctx: Deployment, add: Any) -> None:
    """What does not fit is split over several blocks (Stake genesis chunks, K0 activated in parts); only a
    validator count past what even that allows is refused, naming the largest count these limits take."""
    plan, count = ctx.plan, len(ctx.plan.validators)
    origin_limit, auxiliary_limit = origin_gas_limit(ctx), plan.auxiliary.gas_limit
    most = largest_validator_count(origin_limit, auxiliary_limit)
    if count <= most:
        return
    if not genesis_chunks(count, origin_limit):
        add("validators", f"{count} validators do not fit the origin block gas limit of {origin_limit:,} even in "
                          f"chunks (Stake.initialize reads every one back to open K0); at most {most} validators fit "
                          f"these gas limits.")
    elif opening_parts(count, auxiliary_limit) == []:
        add("auxiliary.gas_limit", f"activating K0 for {count} validators does not fit the auxiliary block gas limit "
                                   f"of {auxiliary_limit:,} even in parts; at most {most} validators fit these gas "
                                   f"limits.")
    else:
        add("auxiliary.gas_limit", f"handing the auxiliary chain over to {count} validators (ProposerSet.handOver) "
                                   f"needs more than the auxiliary block gas limit of {auxiliary_limit:,}; at most "
                                   f"{most} validators fit these gas limits.")


# Chain ids of public networks: an auxiliary chain with one of them would make its signed
# transactions valid there too (EIP-155 replay protection works by chain id only).
PUBLIC_CHAIN_IDS = {1: "Ethereum mainnet", 5: "Goerli", 10: "OP Mainnet", 56: "BNB Smart Chain", 100: "Gnosis",
                    137: "Polygon", 8453: "Base", 17000: "Holesky", 42161: "Arbitrum One", 43114: "Avalanche C-Chain",
                    11155111: "Sepolia", 560048: "Hoodi"}
# Proofs from a real origin chain are deeper than a devnet's: room for that many trie nodes, each up
# to 532 bytes of calldata (16 gas a byte) plus its hashing and decoding.
ACCOUNT_PROOF_NODES, STORAGE_PROOF_NODES, PROOF_NODE_GAS = 10, 8, 20_000
# Gas of steps 4's calls apart from their proofs, measured on anvil (4 validators) with room to spare.
# (K0's validators and the hand-over are split over blocks as needed: see _gas_limit_problems.)
STEP4_GAS = {"prove_origin_core": 150_000, "prove_gateway": 150_000, "mint": 220_000, "prove_block_opening": 200_000}


def _auxiliary_problems(ctx: Deployment, signers: dict[str, Any], add: Any) -> None:
    """What steps 3-5 need from the plan, checked before the first origin transaction: the contracts'
    rules on the core identifier, the chain ids, and every auxiliary transaction of step 4 within a block
    (the auxiliary contracts themselves are built into the genesis, see _genesis_trial)."""
    plan = ctx.plan
    identifier = plan.core_identifier
    if identifier is not None and int(identifier[18:], 16) == 0:
        add("core.identifier", f"its last 12 bytes (the auxiliary part) are zero, so it equals the identifier of the "
                               "origin chain's own checkpoints and PollingPlace refuses it in step 3; end it with "
                               f"the auxiliary chain id: {units.default_core_identifier(plan.origin.chain_id, plan.auxiliary.chain_id)}.")
    if plan.auxiliary.chain_id in PUBLIC_CHAIN_IDS and not plan.devnet:
        add("auxiliary.chain_id", f"{plan.auxiliary.chain_id} is the chain id of {PUBLIC_CHAIN_IDS[plan.auxiliary.chain_id]}; "
                                  "transactions signed for the auxiliary chain would be valid there too. Choose an "
                                  "unused chain id.")
    limit = plan.auxiliary.gas_limit
    needs = {"KernelGateway.proveOriginCore": STEP4_GAS["prove_origin_core"] + ACCOUNT_PROOF_NODES * PROOF_NODE_GAS,
             "OSTPrime.proveGateway": STEP4_GAS["prove_gateway"] + ACCOUNT_PROOF_NODES * PROOF_NODE_GAS,
             "OSTPrime.mint": STEP4_GAS["mint"] + STORAGE_PROOF_NODES * PROOF_NODE_GAS,
             "KernelGateway.proveBlockOpening (its proof)": STEP4_GAS["prove_block_opening"]
             + STORAGE_PROOF_NODES * PROOF_NODE_GAS}
    over = {what: gas for what, gas in needs.items() if gas > limit}
    if over:
        listed = ", ".join(f"{what} about {gas:,}" for what, gas in over.items())
        add("auxiliary.gas_limit", f"the auxiliary block gas limit of {limit:,} is too small for steps 3-4: {listed} "
                                   f"gas; set it to at least {max(over.values()):,}.")


def _genesis_trial(ctx: Deployment, proposer: Any, add: Any) -> None:
    """Step 3 runs the six auxiliary constructors into the genesis; run them now, on a throwaway chain,
    with the plan's values and stand-ins for what steps 1-2 will produce, so that any rule of theirs the
    plan breaks is found before a stake is locked (genesis.build_system_state, exactly as step 3 runs it)."""
    from mosaic_tui import genesis

    if proposer is None or any(e.action_id.startswith("3.") for e in ctx.journal.entries()):
        return
    outputs = ctx.journal.outputs()
    stand_in = "0x" + "00" * 19 + "01"
    inputs = genesis.GenesisInputs(
        initial_proposer=proposer.address, origin_core=outputs.get("origin_core", stand_in),
        ost_gateway=outputs.get("ost_gateway", stand_in),
        setup_block_hash=outputs.get("setup_block_hash", "0x" + "11" * 32),
        setup_state_root=outputs.get("setup_state_root", "0x" + "22" * 32),
        setup_block_number=int(outputs.get("setup_block_number", 1)), setup_timestamp=1)
    try:
        genesis.build_system_state(ctx.plan, inputs)
    except genesis.GenesisError as error:
        add("auxiliary", f"step 3 could not build the auxiliary genesis from this plan: {error}; nothing was sent.")


# --- a plan changed since its deployment started --------------------------------------------------

# Where a plan value is first used: changing it is harmless until that step has started. None: never
# changeable; "always": read afresh by every run (endpoints, fee ceilings). Key references may change
# as long as they open the same accounts (checked above); validators' values are used from step 0 on a
# devnet (funding), else from step 2.
FIRST_USE: dict[str, str | None] = {
    "plan_version": "always", "devnet": None, "out_dir": "1",
    "core.identifier": "1", "core.minimum_weight": "1",
    "origin.rpc": "always", "origin.chain_id": None, "origin.ost": "0", "origin.deployer": "always",
    "origin.deployer_gateway_stake": "2", "origin.max_fee_per_gas": "always",
    "origin.max_priority_fee_per_gas": "always", "origin.replace_after_blocks": "always", "origin.confirmations": "always", "origin.staking_deadline": "always",
    "auxiliary.rpc": "always", "auxiliary.chain_id": "3", "auxiliary.initial_proposer": "always",
    "auxiliary.block_time": "3", "auxiliary.gas_limit": "3", "auxiliary.gas_price": "3",
    "auxiliary.base_coin_supply": "3", "auxiliary.epoch_length": "3",
    "validators.origin_key": "always", "validators.auxiliary_key": "always",
}
STEPS = ("0", "1", "2", "3", "4", "5")


def _flatten(value: Any, where: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{where}.{key}" if where else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{where}[{index}]"))
        return flat or {where: []}
    return {where: value}


def _first_started(journal: Any) -> str | None:
    """The latest step that has started (any journal entry or output of it), or None."""
    started = {entry.action_id.split(".", 1)[0] for entry in journal.entries()}
    started |= {step for step in STEPS if journal.is_step_done(step) or journal.step_outputs(step)}
    ordered = [step for step in STEPS if step in started]
    return ordered[-1] if ordered else None


def plan_changes(journal: Any, plan: Any, plan_path: Any) -> list[str]:
    """The plan's changes since its deployment started, each a line saying what changed, when every one
    is harmless for what is already on chain; otherwise InputErrors naming each harmful field."""
    import re

    from mosaic_tui.errors import InputErrors
    from mosaic_tui.plan import plan_data

    if journal.plan_digest is None or journal.plan_digest == plan.digest():
        return []
    applied = journal.applied_plan
    if applied is None:
        raise InputErrors([InputError("plan", f"{plan_path} changed since its deployment started (the journal "
                                              f"{journal.path} belongs to the earlier version); undo the change, "
                                              "or start a new deployment with a new plan file.")])
    before, after = _flatten(applied), _flatten(plan_data(plan))
    latest = _first_started(journal)
    notes: list[str] = []
    refused: list[InputError] = []
    for key in sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)):
        general = re.sub(r"\[\d+\]", "", key)
        first = FIRST_USE.get(general, "2" if general.startswith("validators") else None)
        if general.startswith("validators") and first == "2" and plan.devnet:
            first = "0"
        old, new = before.get(key, "(absent)"), after.get(key, "(absent)")
        if first == "always" or (first is not None and (latest is None or latest < first)):
            when = "read afresh by every run" if first == "always" else f"step {first}, which uses it, has not started"
            notes.append(f"{key}: {old} -> {new} ({when})")
            continue
        if first is None:
            why = "it can never change for a deployment once started"
        else:
            why = f"step {first} already used it (the journal has step {latest})"
        refused.append(InputError(key, f"changed from {old} to {new} since the deployment started, and {why}; undo "
                                       "the change, or start a new deployment with a new plan file."))
    if refused:
        raise InputErrors(refused)
    notes += _origin_core_limit_note(before, after, latest)
    return notes


def _origin_core_limit_note(before: dict[str, Any], after: dict[str, Any], latest: str | None) -> list[str]:
    """OriginCore (step 1) was built with gas_limit x epoch_length as its per-meta-block bound."""
    keys = ("auxiliary.gas_limit", "auxiliary.epoch_length")
    if latest is None or latest < "1" or all(before.get(k) == after.get(k) for k in keys):
        return []
    try:
        built = int(before[keys[0]]) * int(before[keys[1]])
        wanted = int(after[keys[0]]) * int(after[keys[1]])
    except (KeyError, TypeError, ValueError):
        return []
    if wanted <= built:
        return []
    return [f"OriginCore, deployed in step 1, keeps {built:,} gas as the most one meta-block may add; with the new "
            f"values an epoch of full blocks is {wanted:,} gas"]
