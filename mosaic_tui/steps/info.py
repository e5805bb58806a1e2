"""What a step says about itself: the one description the welcome page, the step pages, the preflight and
the CLI all read (`mosaic_tui.steps.described()` lists them in order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment


def _nothing(ctx: Deployment) -> int:
    return 0


@dataclass(frozen=True)
class StepInfo:
    key: str  # "0".."5", as the journal and the events name the step
    title: str
    purpose: str  # one line: what the step does (the welcome page)
    about: str  # what the step page says above its actions
    actions: tuple[str, ...]  # the ids of its actions; "{i}" stands for a validator's position
    # Gas the deployer pays for the step (the preflight's cost table); 0 when others pay or nothing is sent.
    gas: Callable[[Deployment], int] = _nothing
