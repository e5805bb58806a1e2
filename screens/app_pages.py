"""The wizard's pages: which exist, how the App moves between them, and the panels any page can open.

Pages are installed screens, so a page keeps what it shows (a half-filled form, a step's table) while
the operator looks at another one. The step pages follow the running deployment on their own.

The App (`mosaic_tui/app.py`) is built on this mixin; it lives with the other Textual code in `screens`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from mosaic_tui.widgets.progress_model import DeploymentProgress
from mosaic_tui.wizard_state import WizardForm

OWN_PAGES = ("welcome", "prerequisites", "validators", "review", "step-1", "step-2", "step-3", "step-4", "export")
DEVNET_PAGES = ("welcome", "prerequisites", "validators", "review", "step-0", "step-1", "step-2", "step-3", "step-4",
                "export")


PAGE_CLASSES = {"welcome": ("screens.welcome", "WelcomeScreen"),
                "prerequisites": ("screens.prerequisites", "PrerequisitesScreen"),
                "validators": ("screens.validators", "ValidatorsScreen"),
                "review": ("screens.review", "ReviewScreen"), "export": ("screens.export", "RumExportScreen")}


class WizardPages(App[None]):
    """Page navigation and the help, status panel and command palette; state lives in MosaicApp."""

    plan_path: Path
    mode: str | None
    form: WizardForm | None
    progress: DeploymentProgress
    deploying: bool
    finished: bool
    _follow_target: str | None
    _follow_timer: Any

    @property
    def devnet_plan_path(self) -> Path:
        """Where a devnet wizard keeps its plan: `out/` beside the plan, as `deploy --devnet` does."""
        return self.plan_path.parent / "out" / "mosaic-plan.toml"

    @property
    def active_plan_path(self) -> Path:
        return self.devnet_plan_path if self.mode == "devnet" else self.plan_path

    @property
    def pages(self) -> tuple[str, ...]:
        return DEVNET_PAGES if self.mode == "devnet" else OWN_PAGES

    def _make_page(self, name: str) -> Screen[Any]:
        # Each page's module is imported when the page is first shown: the first paint needs only Welcome.
        if name.startswith("step-"):
            from screens.step import StepScreen

            return StepScreen(name.split("-")[1])
        module, cls = PAGE_CLASSES[name]
        page: Screen[Any] = getattr(importlib.import_module(module), cls)()
        return page

    def page(self, name: str) -> Screen[Any] | None:
        """The page's screen if it was created (installed screens keep their state while hidden)."""
        try:
            return self.get_screen(name) if self.is_screen_installed(name) else None
        except KeyError:
            return None

    def goto(self, name: str) -> None:
        if not self.is_screen_installed(name):
            self.install_screen(self._make_page(name), name)
        if self.page(name) is self.screen:
            return
        if len(self.screen_stack) <= 1:
            self.push_screen(name)
        else:
            self.switch_screen(name)

    def neighbour(self, name: str, offset: int) -> str | None:
        pages = self.pages
        if name not in pages:
            return None
        position = pages.index(name) + offset
        return pages[position] if 0 <= position < len(pages) else None

    def done_pages(self) -> frozenset[str]:
        done = set()
        for step, progress in self.progress.steps.items():
            if progress.state == "done":
                done.add("export" if step == "5" else f"step-{step}")
        if self.progress.steps:
            done.update({"welcome", "prerequisites", "validators", "review"})
        return frozenset(done)

    def refresh_page(self, name: str) -> None:
        screen = self.page(name)
        if screen is not None and screen.is_mounted and hasattr(screen, "refresh_view"):
            screen.refresh_view()

    def _on_wizard_page(self) -> bool:
        from screens.base import WizardScreen

        return isinstance(self.screen, WizardScreen)

    def _follow(self, page: str) -> None:
        """Show the page of the step that runs now; steps skipped on a resume pass in a blink, so the
        switch waits a moment and only the last page asked for is shown."""
        self._follow_target = page
        if self._follow_timer is None:
            self._follow_timer = self.set_timer(0.15, self._follow_now)

    def _follow_now(self) -> None:
        self._follow_timer = None
        if self._follow_target and self._on_wizard_page():
            self.goto(self._follow_target)

    def _refresh_indicators(self) -> None:
        from mosaic_tui.widgets.step_indicator import StepIndicator

        for indicator in self.screen.query(StepIndicator):
            indicator.done = self.done_pages()

    def _welcome_status(self, text: str) -> None:
        welcome = self.page("welcome")
        if welcome is not None and welcome.is_mounted:
            welcome.show_status(text)  # type: ignore[attr-defined]

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_status(self) -> None:
        self._open_status(exit_on_close=False)

    def _open_status(self, exit_on_close: bool) -> None:
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.plan import load_plan
        from screens.status import ValidatorStatusScreen

        if isinstance(self.screen, ValidatorStatusScreen):
            return
        path = self.active_plan_path if self.mode else self.plan_path
        try:
            plan = self.form.to_plan() if self.form is not None else load_plan(path)
        except MosaicError as error:
            if exit_on_close:
                self.exit(message=f"error: {error}")
            else:
                self.notify(f"The status panel needs a valid plan first: {error}", severity="warning", timeout=8)
            return
        self.push_screen(ValidatorStatusScreen(plan, path, exit_on_close=exit_on_close))
