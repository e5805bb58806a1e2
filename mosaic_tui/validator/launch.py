"""Starting the validator nodes of a devnet deployment: one `validator run` per validator, recorded
with the devnet so that `mosaic-tui devnet down` stops them with the chains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mosaic_tui import devnet, export


def validators_wanted() -> bool:
    from mosaic_tui import settings

    return not settings.get(devnet.VALIDATORS_OFF_ENV)


def node_name(index: int) -> str:
    return f"validator-{index}"


def start_devnet_validators(directory: Path, plan: Any, out_dir: Path) -> list[devnet.ValidatorProcess]:
    """Start (or keep) one node per validator whose env file exists; the running ones are left alone."""
    running = {name: entry for name, entry in devnet.load_validators(directory).items() if entry.is_ours()}
    started = []
    for index in range(len(plan.validators)):
        name = node_name(index)
        if name in running:
            started.append(running[name])
            continue
        env_file = Path(out_dir) / export.env_file_name(plan, index)
        if env_file.is_file():
            # anvil is no AuRa engine: the nodes play its finalizeChange when the sealer set changes.
            started.append(devnet.start_validator(directory, name, env_file, env={"MOSAIC_TUI_DEVNET_ENGINE": "1"}))
    return started
