"""Step 2, staking: validators approve and Stake.initialize opens K0; everyone stakes in OSTGateway.

Every approval goes out in one round, then initialize and all gateway stakes in the next, so the
step takes two block rounds whatever the number of validators -- unless the genesis set is too
large for one origin block: then `Stake.registerValidators` chunks go out in that second round and
`initialize` (the last chunk, opening K0) in a third. The block that holds the last of them is the
origin set-up block that the auxiliary chain later trusts and proves against; the step ends once it
is confirmed and its proofs are kept (see setup_block.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mosaic_tui.errors import StepFailed
from mosaic_tui.steps.common import (
    INITIALIZE_BASE,
    INITIALIZE_FINAL_PER_VALIDATOR,
    INITIALIZE_PER_VALIDATOR,
    genesis_chunks,
    origin_gas_limit,
    ost_address,
)
from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment
    from mosaic_tui.runner import Action, Step, Tx

# Gas of the deployer's actions that cannot be estimated before their dependencies exist, measured on
# anvil (benchmarks/gas_origin.py) with room to spare: the preflight's cost table.
APPROVE_GAS, GATEWAY_STAKE_GAS = 60_000, 130_000


def genesis_transactions(ctx: Deployment) -> int:
    """How many Stake transactions register the genesis set (one initialize, or chunks and an initialize)."""
    return max(1, len(genesis_chunks(len(ctx.plan.validators), origin_gas_limit(ctx))))


def _gas(ctx: Deployment) -> int:
    count = len(ctx.plan.validators)
    return APPROVE_GAS + GATEWAY_STAKE_GAS + INITIALIZE_BASE * genesis_transactions(ctx) + \
        count * (INITIALIZE_PER_VALIDATOR + INITIALIZE_FINAL_PER_VALIDATOR)


INFO = StepInfo(
    "2", "Staking", "validators stake OST, Stake opens kernel K0, gateway stakes for base coin",
    "Validators approve their stakes; Stake.initialize pulls them and opens kernel K0; everyone stakes "
    "OST in OSTGateway for base coin.",
    ("2.approve_stake.{i}", "2.approve_gateway.{i}", "2.gateway_stake.{i}", "2.register_validators.{i}",
     "2.initialize_stake", "2.approve_gateway.deployer", "2.gateway_stake.deployer",
     "2.await_external_approvals", "2.await_external_gateway_stakes"), _gas)


def _allowance(ctx: Deployment, owner: str, spender: str) -> int:
    return int(ctx.read("EIP20Token", "origin", ost_address(ctx), "allowance", owner, spender))


def _initialized(ctx: Deployment) -> bool:
    return bool(ctx.read("Stake", "origin", ctx.outputs.stake, "initialized"))


def _once_initialized(check: Any) -> Any:
    """After Stake.initialize pulled the stakes the allowance is spent: the approval is done then too."""
    def done(ctx: Deployment) -> dict[str, Any] | None:
        return {} if _initialized(ctx) else check(ctx)
    return done


def _registered(ctx: Deployment, auxiliary_address: str) -> bool:
    entry = ctx.read("Stake", "origin", ctx.outputs.stake, "validators", auxiliary_address)
    return int(entry[1]) > 0


def _origin_gas_limit(ctx: Deployment) -> int:
    origin = ctx.origin
    return int(origin.call("reading the block gas limit", lambda: origin.w3.eth.get_block("latest")["gasLimit"]))


def _genesis_actions(ctx: Deployment, approvals: list[str]) -> list[Action]:
    """Stake.initialize in one transaction when the genesis set fits a block; else registerValidators
    in chunks (each chunk signed after the previous one, so they register in plan order, which is
    K0's order), then initialize with the last chunk once the others are mined."""
    from mosaic_tui.runner import Action, Tx
    plan = ctx.plan
    count = len(plan.validators)
    chunks = genesis_chunks(count, _origin_gas_limit(ctx)) if count else [0]
    if not chunks:
        raise StepFailed("2", "2.initialize_stake", "not even one validator fits the origin block gas limit in "
                                                    "Stake.initialize")
    actions: list[Action] = []
    start = 0
    previous: str | None = None
    for number, size in enumerate(chunks):
        members = range(start, start + size)
        last = number == len(chunks) - 1
        action_id = "2.initialize_stake" if last else f"2.register_validators.{number}"
        function = "initialize" if last else "registerValidators"

        def build(c: Any, members: range = members, function: str = function) -> Tx:
            chosen = [plan.validators[i] for i in members]
            return Tx(c.outputs.stake, c.call_data("Stake", function, [v.origin_address for v in chosen],
                                                  [v.auxiliary_address for v in chosen], [v.stake for v in chosen]))

        def registered(c: Any, members: range = members) -> dict[str, Any] | None:
            # A chunk registers all or nothing, so its last validator tells.
            return {} if _initialized(c) or _registered(c, plan.validators[members[-1]].auxiliary_address) else None

        # Its members' approvals (and the wait for the external validators' approvals, if any).
        needed = tuple(a for a in approvals if not a.startswith("2.approve_stake.")
                       or int(a.rsplit(".", 1)[1]) in members)
        if last:
            label = "Stake.initialize: pull the stakes and open kernel K0"
            if len(chunks) > 1:
                label = (f"Stake.initialize: validators {start + 1}-{start + size} and open kernel K0" if size else
                         f"Stake.initialize: open kernel K0 with all {count} validators")
            actions.append(Action(id=action_id, label=label, chain="origin", sender="deployer",
                                  after=needed + ((previous,) if previous else ()), build=build,
                                  done_on_chain=lambda c: {} if _initialized(c) else None))
        else:
            actions.append(Action(id=action_id, label=f"Stake.registerValidators: validators {start + 1}-"
                                                      f"{start + size} (of {count})",
                                  chain="origin", sender="deployer", after=needed,
                                  after_signed=(previous,) if previous else (), build=build,
                                  done_on_chain=registered))
        previous = action_id
        start += size
    return actions


def _stake_event(ctx: Deployment, receipt: Any) -> dict[str, Any]:
    gateway = ctx.contract("OSTGateway", "origin", ctx.outputs.ost_gateway)
    from web3.logs import DISCARD

    events = gateway.events.StakeIntentDeclared().process_receipt(receipt, errors=DISCARD)  # token logs too
    if len(events) != 1:
        raise ValueError("a gateway stake receipt must hold exactly one StakeIntentDeclared event")
    args = events[0]["args"]
    return {"_stake": {"staker": args["staker"], "beneficiary": args["beneficiary"], "amount": int(args["amount"]),
                       "nonce": int(args["nonce"]), "message_hash": "0x" + bytes(args["messageHash"]).hex()}}


def approve(action_id: str, label: str, role: str, owner: str, spender_key: str, amount: int) -> Action:
    from mosaic_tui.runner import Action, Tx
    return Action(
        id=action_id, label=label, chain="origin", sender=role,
        build=lambda c: Tx(ost_address(c), c.call_data("EIP20Token", "approve", c.out(spender_key), amount)),
        done_on_chain=lambda c: {} if _allowance(c, owner, c.out(spender_key)) >= amount else None)


def gateway_stake(action_id: str, label: str, role: str, approval: str, amount: int, beneficiary: str) -> Action:
    from mosaic_tui.runner import Action, Tx

    def build(c: Any) -> Tx:
        staker = c.signer(role).address
        nonce = int(c.read("OSTGateway", "origin", c.outputs.ost_gateway, "nonces", staker))
        return Tx(c.outputs.ost_gateway, c.call_data("OSTGateway", "stake", amount, beneficiary, nonce))
    return Action(id=action_id, label=label, chain="origin", sender=role, after=(approval,), build=build,
                  outputs=_stake_event, matches=_same_stake)


def validator_actions(index: int, validator: Any) -> list[Action]:
    """What a validator signs in step 2: its two approvals and its gateway stake (the coordinator's run
    sends these for validators whose keys it holds; `mosaic-tui validator stake` for an external one)."""
    role = f"validator:{index}"
    stake_approval = approve(f"2.approve_stake.{index}", f"validator {index + 1} approves its stake", role,
                             validator.origin_address, "stake", validator.stake)
    gateway_approval = approve(f"2.approve_gateway.{index}", f"validator {index + 1} approves its gateway stake",
                               role, validator.origin_address, "ost_gateway", validator.gateway_stake)
    staked = _staked(validator.origin_address, validator.gateway_stake, validator.auxiliary_address)
    stake = gateway_stake(f"2.gateway_stake.{index}", f"validator {index + 1} stakes for base coin", role,
                          f"2.approve_gateway.{index}", validator.gateway_stake, validator.auxiliary_address)
    return [replace(stake_approval, done_on_chain=_once_initialized(stake_approval.done_on_chain)),
            replace(gateway_approval, done_on_chain=_first(staked, gateway_approval.done_on_chain)),
            replace(stake, done_on_chain=staked)]


def _staked(staker: str, amount: int, beneficiary: str) -> Any:
    """This very gateway stake is on chain already (sent by an earlier run whose journal is gone, or by
    the validator itself): found by its message hash, for each nonce the staker has used."""
    def check(c: Any) -> dict[str, Any] | None:
        gateway = c.out("ost_gateway")
        for nonce in range(int(c.read("OSTGateway", "origin", gateway, "nonces", staker))):
            digest = bytes(c.read("OSTGateway", "origin", gateway, "messageHash", staker, amount, beneficiary, nonce))
            if c.read("OSTGateway", "origin", gateway, "stakedMessages", digest):
                return {"_stake": {"staker": staker, "beneficiary": beneficiary, "amount": amount, "nonce": nonce,
                                   "message_hash": "0x" + digest.hex()}}
        return None
    return check


def _first(*checks: Any) -> Any:
    """Done when any of the checks finds the effect on chain (an approval a later stake spent counts)."""
    def done(c: Any) -> dict[str, Any] | None:
        for check in checks:
            found = check(c)
            if found is not None:
                return {key: value for key, value in found.items() if not key.startswith("_")}
        return None
    return done


def step(ctx: Deployment) -> Step:
    from mosaic_tui.runner import Step
    from mosaic_tui.steps import external

    plan = ctx.plan
    actions: list[Action] = []
    approvals: list[str] = []
    held = [(index, v) for index, v in enumerate(plan.validators) if not v.origin_key.is_external]
    own = {index: validator_actions(index, validator) for index, validator in held}
    for index, _ in held:
        approvals.append(f"2.approve_stake.{index}")
        actions += own[index][:2]
    actions.append(approve("2.approve_gateway.deployer", "deployer approves its gateway stake", "deployer",
                           ctx.signer("deployer").address, "ost_gateway", plan.deployer_gateway_stake))
    # The waits start once nothing of the coordinator's own is in flight: they block the runner for as
    # long as people take, and a transaction waiting unwatched that long would miss its replacement.
    own_ids = [action.id for index, _ in held for action in own[index]]
    waits = external.actions(ctx, quiet_after=(*own_ids, "2.approve_gateway.deployer", "2.gateway_stake.deployer"))
    actions += waits
    approvals += [action.id for action in waits[:1]]

    actions += _genesis_actions(ctx, approvals)

    for index, _ in held:
        actions.append(own[index][2])
    proposer = ctx.signer("proposer").address
    actions.append(gateway_stake("2.gateway_stake.deployer", "deployer stakes for the proposer's base coin",
                                 "deployer", "2.approve_gateway.deployer", plan.deployer_gateway_stake, proposer))
    return Step(INFO.key, INFO.title, actions, before=_write_ceremony, finish=external.reported(_setup_block),
                check=_check_setup_block, reorged=_setup_block_reorged)


def _write_ceremony(ctx: Deployment) -> None:
    """ceremony.toml for the external validators (docs/design.md, "Files"), written on every run of step 2."""
    from mosaic_tui.ceremony import write_ceremony

    write_ceremony(ctx)


def _same_stake(ctx: Deployment, expected: Tx, found: Any) -> bool:
    """A journalled gateway stake is the one this action builds but for the gateway's nonce, which the
    stake itself moved on (the gateway takes only the right one)."""
    return bool(found.to == expected.to and found.value == expected.value
                and found.data.lower()[:-64] == expected.data.lower()[:-64])


def _check_setup_block(ctx: Deployment) -> list[str]:
    """On resume: the set-up block the journal holds is the origin node's block at that height, and the
    gateway stakes are those of the step's receipts (the journal is a cache, never an authority)."""
    outputs = ctx.journal.step_outputs("2")
    if "setup_block_number" not in outputs:
        return []
    number = int(outputs["setup_block_number"])
    block = ctx.origin.call("reading the set-up block", lambda: ctx.origin.w3.eth.get_block(number))
    problems = []
    for key, found in (("setup_block_hash", block["hash"].to_0x_hex()), ("setup_state_root", block["stateRoot"].to_0x_hex())):
        if str(outputs.get(key, "")).lower() != found.lower():
            problems.append(f"{key} is {outputs.get(key)}, but block {number} of the origin node has {found}")
    entries = [e for e in ctx.journal.entries() if e.action_id.startswith("2.") and "_stake" in e.outputs]
    stakes = [dict(e.outputs["_stake"]) for e in sorted(entries, key=lambda e: e.action_id)]
    if "gateway_stakes" in outputs and outputs["gateway_stakes"] != stakes:
        problems.append("gateway_stakes are not the stakes of the step's receipts")
    return problems


def _setup_block_reorged(ctx: Deployment, removed: int) -> None:
    """Step 2's transactions left the chain: the set-up block is derived again, unless the auxiliary
    chain was already anchored on it (then the run stops)."""
    from mosaic_tui import setup_block

    setup_block.step_2_reorged(ctx, removed)


def _setup_block(ctx: Deployment) -> dict[str, Any]:
    """The origin block by which all of step 2 is on chain, once confirmed, with its proofs kept."""
    from mosaic_tui import setup_block

    return setup_block.settle(ctx)
