"""Names of the files that live beside a plan, without importing what reads or writes them (the welcome
page looks for an unfinished journal before its first paint)."""

from __future__ import annotations

import os
from pathlib import Path


def journal_path(plan_path: str | os.PathLike[str]) -> Path:
    """`mosaic-plan.toml` -> `mosaic-plan.state.json`, beside the plan."""
    plan = Path(plan_path)
    return plan.with_name(plan.stem + ".state.json")
