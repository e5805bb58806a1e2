"""The deployment steps of OIP-3, one module each; each describes itself once (its `INFO`).

`build_steps` lists a plan's step factories in order; `described()` lists every step's `StepInfo`, which
the welcome page, the step pages, the preflight's cost table and the CLI read. Step modules are imported
when first asked for (they are light: no web3 until a step runs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment
    from mosaic_tui.runner import Step

# In the order they run; the devnet preparation only on a devnet.
MODULES = ("devnet_prep", "origin", "staking", "auxiliary", "initialize", "rum")
DEVNET_ONLY = ("devnet_prep",)


def _module(name: str) -> Any:
    return importlib.import_module(f"mosaic_tui.steps.{name}")


def build_steps(ctx: Deployment) -> list[Callable[[Deployment], Step]]:
    """The step factories for this plan, in order (the devnet preparation only on a devnet)."""
    return [_module(name).step for name in MODULES if ctx.plan.devnet or name not in DEVNET_ONLY]


@cache
def described() -> tuple[StepInfo, ...]:
    """Every step's description, in order."""
    return tuple(_module(name).INFO for name in MODULES)


def step_info(key: str) -> StepInfo | None:
    return next((info for info in described() if info.key == key), None)


def step_title(key: str) -> str:
    info = step_info(key)
    return info.title if info is not None else ""


__all__ = ["MODULES", "StepInfo", "build_steps", "described", "step_info", "step_title"]
