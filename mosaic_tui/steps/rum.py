"""Step 5, rum nodes: the validators' configuration files (rum.toml, one env file each, deployment.toml)."""

from __future__ import annotations

from typing import Any

from mosaic_tui.runner import Action, Step


def _export(ctx: Any) -> dict[str, Any]:
    from mosaic_tui import export

    paths = export.write_exports(ctx.out_dir, ctx.plan, ctx.journal.outputs())
    return {"detail": f"wrote {len(paths)} files into {ctx.out_dir}"}


def step(ctx: Any) -> Step:
    # Always rewritten: exports are derived from the journal and cost nothing to regenerate.
    return Step("5", "Rum nodes", [Action(id="5.export", label="write rum.toml, env files and deployment.toml",
                                          run=_export)])
