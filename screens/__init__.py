"""Textual screens of the wizard: one per step, plus the status panel and the modals.

The folder sits at the top of the checkout but is installed inside the package, as `mosaic_tui.screens`
(pyproject's hatch sources; in a checkout `mosaic_tui/screens` links here). Imported under any other
name, each screen class would exist twice, so that is refused.
"""

if __name__ != "mosaic_tui.screens":
    raise ImportError(f"the screens are installed as mosaic_tui.screens; import them from there, not as {__name__!r}",
                      name=__name__)
