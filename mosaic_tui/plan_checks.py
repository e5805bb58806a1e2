"""The plan's checks across fields: what no single field's parser can see (chain ids, shared addresses, keys).

`Plan.problems()` runs them on a whole plan, and on a partly parsed one too (a field that failed to
parse is None), so a person sees every problem at once. The wizard checks a single field against the
same rules as it is typed (`devnet_only`), with the same sentences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mosaic_tui import units
from mosaic_tui.errors import InputError
from mosaic_tui.keyref import KeyRef
from mosaic_tui.plan_fields import DEPLOY_OST

if TYPE_CHECKING:
    from mosaic_tui.plan import Plan

DEV_KEY_OFF_DEVNET = "dev:<index> keys exist only on a devnet; use keyring:<name>, keystore:<path> or node."
DEPLOY_OFF_DEVNET = 'only a devnet plan may say "deploy"; give the address of the OST token on origin.'
# The same rules as the wizard's fields say them (where a key can be pasted, imported or chosen).
FORM_DEV_KEY_OFF_DEVNET = "dev:<index> keys exist only on a devnet; paste, import or choose another key."
FORM_DEPLOY_OFF_DEVNET = "only a devnet deploys its own OST; give the OST token's address."


def devnet_only(value: Any, devnet: bool, field: str) -> None:
    """The wizard's check of one field: "deploy" and dev:<index> keys only on a devnet."""
    if devnet:
        return
    if value == DEPLOY_OST:
        raise InputError(field, FORM_DEPLOY_OFF_DEVNET)
    if isinstance(value, KeyRef) and value.is_dev:
        raise InputError(field, FORM_DEV_KEY_OFF_DEVNET)


def static_problems(plan: Plan) -> list[InputError]:
    found: list[InputError] = []
    origin, aux, validators = plan.origin, plan.auxiliary, plan.validators

    def add(field_name: str, message: str) -> None:
        found.append(InputError(field_name, message))

    if origin.chain_id is not None and origin.chain_id == aux.chain_id:
        add("auxiliary.chain_id", f"the auxiliary chain needs its own chain id; {aux.chain_id} is the origin chain's.")
    if plan.core.identifier is not None and origin.chain_id is not None:
        try:
            units.parse_core_identifier(plan.core.identifier, origin.chain_id, "core.identifier")
        except InputError as error:
            found.append(error)
    if origin.ost == DEPLOY_OST and not plan.devnet:
        add("origin.ost", DEPLOY_OFF_DEVNET)
    if origin.max_fee_per_gas == 0:
        add("origin.max_fee_per_gas", "a fee ceiling of zero lets no transaction through; give e.g. \"50 gwei\".")
    tip_ceiling, fee_ceiling = origin.max_priority_fee_per_gas, origin.max_fee_per_gas
    if tip_ceiling is not None and fee_ceiling is not None and tip_ceiling > fee_ceiling:
        add("origin.max_priority_fee_per_gas", "the tip ceiling is above origin.max_fee_per_gas; a tip is part of "
                                               "the fee, so it can never be higher.")
    if aux.gas_price == 0:
        add("auxiliary.gas_price", "the gas price after bootstrap must be above zero; step 4 raises the chain to it.")
    if plan.core.minimum_weight is not None and plan.core.minimum_weight < 1:
        add("core.minimum_weight", "the minimum weight must be at least 1 wei of OST.")
    if not validators:
        add("validators", "the plan lists no validators; add at least one [[validators]] table.")
    _address_problems(plan, add)
    _key_problems(plan, add)
    for position, validator in enumerate(validators):
        where = f"validators[{position}]"
        if None not in (validator.stake, plan.core.minimum_weight) and validator.stake < plan.core.minimum_weight:
            add(f"{where}.stake", f"the stake {units.format_amount(validator.stake)} is below the minimum weight "
                                  f"{units.format_amount(plan.core.minimum_weight)}.")
        if validator.gateway_stake == 0:
            add(f"{where}.gateway_stake", "a validator needs a gateway stake: it buys the base coin that pays "
                                          "for its votes once the auxiliary chain charges gas.")
    proposer_needs = proposer_gas_coin(aux.gas_price, len(validators))
    if origin.deployer_gateway_stake is not None and proposer_needs is not None and \
            origin.deployer_gateway_stake < proposer_needs:
        add("origin.deployer_gateway_stake",
            f"{units.format_amount(origin.deployer_gateway_stake)} cannot pay the initial proposer's step-4 "
            f"transactions on the auxiliary chain (the genesis gives it this stake; at the kernel gas price they "
            f"need up to {units.format_amount(proposer_needs)}).")
    gateway_stakes = [origin.deployer_gateway_stake, *(v.gateway_stake for v in validators)]
    if aux.base_coin_supply is not None and None not in gateway_stakes:
        backed = sum(gateway_stakes)
        if aux.base_coin_supply < backed:
            add("auxiliary.base_coin_supply",
                f"the supply {units.format_amount(aux.base_coin_supply)} is less than the "
                f"{units.format_amount(backed)} of gateway stakes it must pay out 1:1.")
    return found


# Step 4's gas, paid by the initial proposer in base coin at the kernel gas price: anchor, proofs and
# hand-over, and per validator a mint, its share of the kernel opening and of the hand-over (measured
# on anvil, rounded up), twice over for the runner's margin.
PROPOSER_GAS_BASE = 1_500_000
PROPOSER_GAS_PER_VALIDATOR = 350_000


def proposer_gas_coin(gas_price: int | None, validators: int) -> int | None:
    """Base coin the initial proposer needs for step 4 (the deployer's gateway stake, paid in the genesis)."""
    if gas_price is None:
        return None
    return 2 * (PROPOSER_GAS_BASE + PROPOSER_GAS_PER_VALIDATOR * validators) * gas_price


def _address_problems(plan: Plan, add: Callable[[str, str], None]) -> None:
    # One address in two roles means two keys are one; staking and voting would both break.
    seen: dict[str, str] = {}
    if plan.origin.ost not in (None, DEPLOY_OST):
        seen[plan.origin.ost] = "origin.ost"
    for position, validator in enumerate(plan.validators):
        for role in ("origin_address", "auxiliary_address"):
            address = getattr(validator, role)
            where = f"validators[{position}].{role}"
            if address is None:
                continue
            if address in seen:
                add(where, f"{address} is already used as {seen[address]}; every address may appear only once.")
            else:
                seen[address] = where


def _external_problems(plan: Plan, add: Callable[[str, str], None]) -> None:
    for where, ref in (("origin.deployer", plan.origin.deployer),
                       ("auxiliary.initial_proposer", plan.auxiliary.initial_proposer)):
        if ref is not None and ref.is_external:
            add(where, "only a validator's origin_key and auxiliary_key may be external; this account signs "
                       "during the deployment, so give its keyring:, keystore: or node reference.")


def _key_problems(plan: Plan, add: Callable[[str, str], None]) -> None:
    _external_problems(plan, add)
    refs = [("origin.deployer", plan.origin.deployer), ("auxiliary.initial_proposer", plan.auxiliary.initial_proposer)]
    for position, validator in enumerate(plan.validators):
        refs += [(f"validators[{position}].origin_key", validator.origin_key),
                 (f"validators[{position}].auxiliary_key", validator.auxiliary_key)]
    validator_refs: dict[KeyRef, str] = {}
    for where, ref in refs:
        if ref is None:
            continue
        if ref.is_dev and not plan.devnet:
            add(where, DEV_KEY_OFF_DEVNET)
        # Validator addresses are all distinct, so no two of their keys can be the same key.
        if where.startswith("validators") and ref.kind not in ("node", "external"):
            if ref in validator_refs:
                add(where, f"this is the same key as {validator_refs[ref]}, yet the addresses differ; "
                           "each address needs its own key.")
            else:
                validator_refs[ref] = where


