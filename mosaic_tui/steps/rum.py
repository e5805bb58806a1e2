"""Step 5, rum nodes: the validators' configuration files (rum.toml, one env file each, deployment.toml)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mosaic_tui.runner import Action, Step
from mosaic_tui.steps.info import StepInfo

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

INFO = StepInfo("5", "Rum nodes", "export the validators' TOML and env files, start rum",
                "Write rum.toml, an env file per validator and deployment.toml from the journal.", ("5.export",))


def _export(ctx: Deployment) -> dict[str, Any]:
    from mosaic_tui import export

    paths = export.write_exports(ctx.out_dir, ctx.plan, ctx.journal.outputs())
    return {"detail": f"wrote {len(paths)} files into {ctx.out_dir}"}


def step(ctx: Deployment) -> Step:
    # Always rewritten: exports are derived from the journal and cost nothing to regenerate.
    return Step(INFO.key, INFO.title, [Action(id="5.export", label="write rum.toml, env files and deployment.toml",
                                          run=_export)])
