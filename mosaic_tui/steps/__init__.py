"""The deployment steps of OIP-3, one module each; `build_steps` lists them in order for a plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mosaic_tui.runner import Step


def build_steps(ctx: Any) -> list[Callable[[Any], Step]]:
    """The step factories for this plan, in order (the devnet preparation only on a devnet)."""
    from mosaic_tui.steps import auxiliary, devnet_prep, initialize, origin, rum, staking

    steps: list[Callable[[Any], Step]] = [devnet_prep.step] if ctx.plan.devnet else []
    return steps + [origin.step, staking.step, auxiliary.step, initialize.step, rum.step]


STEP_TITLES = {
    "0": "Devnet preparation",
    "1": "Origin contracts",
    "2": "Staking",
    "3": "Auxiliary chain",
    "4": "Initialize auxiliary",
    "5": "Rum nodes",
}
