"""Step 1, origin contracts: OriginCore (whose constructor deploys Stake), then OSTGateway."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mosaic_tui.runner import Action, Step, Tx
from mosaic_tui.steps.common import ost_address
from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

# Gas measured on anvil (benchmarks/gas_origin.py) with room to spare, for the preflight's cost table.
DEPLOY_ORIGIN_CORE_GAS, DEPLOY_OST_GATEWAY_GAS = 3_200_000, 900_000
INFO = StepInfo(
    "1", "Origin contracts", "deploy OriginCore (with Stake) and OSTGateway on origin",
    "Deploy OriginCore (its constructor deploys Stake), then OSTGateway, on the origin chain.",
    ("1.deploy_origin_core", "1.deploy_ost_gateway"), lambda ctx: DEPLOY_ORIGIN_CORE_GAS + DEPLOY_OST_GATEWAY_GAS)


def _origin_core_args(ctx: Deployment) -> tuple[Any, ...]:
    plan = ctx.plan
    # One meta-block may add at most an epoch of full auxiliary blocks.
    max_accumulate = plan.auxiliary.gas_limit * plan.auxiliary.epoch_length
    identifier = bytes.fromhex(plan.core_identifier[2:])
    return (identifier, ost_address(ctx), 0, b"\0" * 32, plan.minimum_weight, max_accumulate)


def step(ctx: Deployment) -> Step:
    return Step(INFO.key, INFO.title, [
        Action(id="1.deploy_origin_core", label="deploy OriginCore (deploys Stake)", chain="origin",
               sender="deployer", build=lambda c: Tx(None, c.deploy_data("OriginCore", *_origin_core_args(c))),
               deploy_output="origin_core",
               outputs=lambda c, receipt: {"stake": c.read("OriginCore", "origin", receipt["contractAddress"],
                                                           "stake")}),
        Action(id="1.deploy_ost_gateway", label="deploy OSTGateway", chain="origin", sender="deployer",
               after_signed=("1.deploy_origin_core",),
               build=lambda c: Tx(None, c.deploy_data("OSTGateway", ost_address(c), c.outputs.origin_core)),
               deploy_output="ost_gateway"),
    ])
