"""Step 0's preflight: everything checked before the first transaction, every problem named at once.

A first-time operator with real money on the line needs to hear "validators[2].origin_address holds
1,000 OST but needs 1,010 OST" before anything is signed, not a revert halfway through step 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, MosaicError
from mosaic_tui.steps.common import VALIDATOR_ORIGIN_GAS, ost_address

# Gas of the actions that cannot be estimated before their dependencies exist, measured on anvil
# (benchmarks/gas_origin.py) with room to spare; deployments are estimated on the node itself.
GAS = {
    "approve": 60_000, "transfer": 60_000, "gateway_stake": 130_000, "initialize_base": 150_000,
    "initialize_per_validator": 190_000, "prove_block_opening_per_validator": 80_000,
    "deploy_origin_core": 3_200_000, "deploy_ost_gateway": 900_000, "deploy_token": 900_000,
}


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
    external: list[str] = field(default_factory=list)  # which validators act for themselves, one line each

    @property
    def total_wei(self) -> int:
        return sum(cost.wei for cost in self.costs)


def _origin_reachable(ctx: Any) -> tuple[int, int]:
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


def _ost_problems(ctx: Any, add: Any) -> None:
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


def _fee_per_gas(ctx: Any) -> int:
    block = ctx.origin.w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        return int(ctx.origin.w3.eth.gas_price)
    return 2 * int(base) + int(ctx.origin.w3.eth.max_priority_fee)


def _costs(ctx: Any, fee: int) -> list[StepCost]:
    plan = ctx.plan
    count = len(plan.validators)
    deployer = {
        "0": (GAS["deploy_token"] if plan.deploys_ost else 0) + count * (21_000 + GAS["transfer"]),
        "1": GAS["deploy_origin_core"] + GAS["deploy_ost_gateway"],
        "2": GAS["approve"] + GAS["gateway_stake"] + GAS["initialize_base"] + count * GAS["initialize_per_validator"],
    }
    titles = {"0": "Devnet preparation", "1": "Origin contracts", "2": "Staking (deployer)"}
    costs = [StepCost(step, titles[step], gas, gas * fee) for step, gas in deployer.items()
             if gas and (step != "0" or plan.devnet) and not ctx.journal.is_step_done(step)]
    if not ctx.journal.is_step_done("2"):
        validators = count * VALIDATOR_ORIGIN_GAS
        costs.append(StepCost("2", "Staking (validators, each pays its own)", validators, validators * fee))
    costs.append(StepCost("3-4", "Auxiliary chain (zero gas price during the bootstrap)", 0, 0))
    return costs


def run_preflight(ctx: Any) -> PreflightReport:
    """All checks of SPEC step 0. Raises InputErrors only for an unreachable origin; else fills `problems`."""
    plan = ctx.plan
    problems: list[InputError] = list(plan.problems())

    def add(field_name: str, message: str) -> None:
        problems.append(InputError(field_name, message))

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
    report.fee_per_gas = fee = _fee_per_gas(ctx)
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
    report.external = _external_lines(ctx)
    return report


def _external_lines(ctx: Any) -> list[str]:
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


def _open_signers(ctx: Any, add: Any) -> dict[str, Any]:
    roles = ["deployer", "proposer"] + [f"validator:{i}" for i, v in enumerate(ctx.plan.validators)
                                        if v.origin_key is None or not v.origin_key.is_external]
    opened: dict[str, Any] = {}
    for role in roles:
        try:
            opened[role] = ctx.signer(role)
        except InputError as error:
            add(error.field, error.message)
    return opened


def _balance_problems(ctx: Any, signers: dict[str, Any], fee: int, add: Any) -> None:
    """What each account still has to pay: a resumed run must not ask for OST a stake already took."""
    plan, token = ctx.plan, ost_address(ctx)

    def ost_of(address: str) -> int:
        return int(ctx.read("EIP20Token", "origin", token, "balanceOf", address))

    initialized = ctx.journal.confirmed("2.initialize_stake")
    try:
        deployer = signers.get("deployer")
        deployer_needs = 0 if ctx.journal.confirmed("2.gateway_stake.deployer") else plan.deployer_gateway_stake
        if deployer is not None and ost_of(deployer.address) < deployer_needs:
            add("origin.deployer_gateway_stake", f"the deployer {deployer.address} holds "
                f"{units.format_amount(ost_of(deployer.address), 'OST')}, less than its gateway stake.")
        for index, validator in enumerate(plan.validators):
            need = (0 if initialized else validator.stake) + \
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


def _gas_limit_problems(ctx: Any, add: Any) -> None:
    plan, count = ctx.plan, len(ctx.plan.validators)
    initialize = GAS["initialize_base"] + count * GAS["initialize_per_validator"]
    limit = int(ctx.origin.w3.eth.get_block("latest")["gasLimit"])
    if initialize > limit:
        most = (limit - GAS["initialize_base"]) // GAS["initialize_per_validator"]
        add("validators", f"{count} validators need about {initialize:,} gas in Stake.initialize, more than the "
                          f"origin block gas limit of {limit:,}; at most {most} fit.")
    opening = 200_000 + count * GAS["prove_block_opening_per_validator"]
    if opening > plan.auxiliary.gas_limit:
        add("auxiliary.gas_limit", f"proving K0 for {count} validators needs about {opening:,} gas, more than the "
                                   f"auxiliary block gas limit of {plan.auxiliary.gas_limit:,}.")
