"""Devnet only: the dev OST token, and ETH and OST for every validator, as a real operator would have.

On a real origin chain the operator's accounts already hold ETH and OST; preflight checks it. On a
fresh devnet the deployer (a funded dev account) deploys OST and hands out what each validator needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mosaic_tui.runner import Action, Step, Tx
from mosaic_tui.steps.common import ost_address, validator_eth_needed
from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

DEV_OST_SUPPLY = 10**9 * 10**18
TOKEN_GAS = 90_000  # a transfer sent before the token's deployment is mined cannot be estimated
# Gas measured on anvil (benchmarks/gas_origin.py) with room to spare, for the preflight's cost table.
DEPLOY_TOKEN_GAS, TRANSFER_GAS = 900_000, 60_000


def _gas(ctx: Deployment) -> int:
    plan = ctx.plan
    return (DEPLOY_TOKEN_GAS if plan.deploys_ost else 0) + len(plan.validators) * (21_000 + TRANSFER_GAS)


INFO = StepInfo(
    "0", "Devnet preparation", "a dev OST token, and ETH and OST for every validator",
    "The deployer deploys a dev OST token and gives every validator the ETH and OST a real operator's "
    "accounts would already hold.",
    ("0.deploy_ost", "0.fund_eth.{i}", "0.fund_ost.{i}"), _gas)


def step(ctx: Deployment) -> Step:
    plan = ctx.plan
    actions: list[Action] = []
    token_deps: tuple[str, ...] = ()
    if plan.deploys_ost:
        actions.append(Action(
            id="0.deploy_ost", label="deploy the dev OST token", chain="origin", sender="deployer",
            build=lambda c: Tx(None, c.deploy_data("EIP20Token", "Simple Token", "OST", 18, DEV_OST_SUPPLY)),
            deploy_output="ost"))
        token_deps = ("0.deploy_ost",)
    for index, validator in enumerate(plan.validators):
        actions += _funding(index, validator.origin_address, validator_eth_needed(plan),
                            validator.stake + validator.gateway_stake, token_deps)
    return Step(INFO.key, INFO.title, actions)


def _funding(index: int, address: str, eth: int, ost: int, token_deps: tuple[str, ...]) -> list[Action]:
    """ETH for a validator's own transactions and OST for its stakes, unless it already holds them."""
    def send_eth(ctx: Deployment) -> Tx:
        return Tx(address, "0x", value=eth, gas=21_000)

    def has_eth(ctx: Deployment) -> dict[str, Any] | None:
        return {} if ctx.origin.w3.eth.get_balance(address) >= eth else None

    def send_ost(ctx: Deployment) -> Tx:
        return Tx(ost_address(ctx), ctx.call_data("EIP20Token", "transfer", address, ost), gas=TOKEN_GAS)

    def has_ost(ctx: Deployment) -> dict[str, Any] | None:
        return {} if _ost_balance(ctx, address) >= ost else None

    return [
        Action(id=f"0.fund_eth.{index}", label=f"send ETH to validator {index + 1}", chain="origin",
               sender="deployer", build=send_eth, done_on_chain=has_eth),
        Action(id=f"0.fund_ost.{index}", label=f"send OST to validator {index + 1}", chain="origin",
               sender="deployer", after_signed=token_deps, build=send_ost, done_on_chain=has_ost),
    ]


def _ost_balance(ctx: Deployment, address: str) -> int:
    """The OST balance, or 0 while the token's deployment is not mined yet."""
    token = ost_address(ctx)
    if not ctx.origin.call("reading code", lambda: ctx.origin.w3.eth.get_code(token)):
        return 0
    return int(ctx.read("EIP20Token", "origin", token, "balanceOf", address))
