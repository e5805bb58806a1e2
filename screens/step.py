"""One screen per deployment step (devnet preparation, 1-4): a progress bar and the live action table.

The App owns the deployment and folds its events into `app.progress`; this screen only shows that
model and is told which row changed. Pause stops after the running step; Continue starts the rest.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, Static

from mosaic_tui.messages import DeploymentProgressed, DeploymentRequested, PauseRequested, StepListed
from mosaic_tui.screens.base import WizardScreen
from mosaic_tui.steps import step_info
from mosaic_tui.widgets.action_table import FIXED_WIDTH, ActionTable
from mosaic_tui.widgets.progress_model import StepProgress

STATE_WORDS = {"waiting": "[dim]not started[/]", "running": "[yellow]running[/]", "done": "[green]done[/]",
               "failed": "[b red]failed[/]", "stopped": "[yellow]stopped; resumes where it stopped[/]"}


class StepScreen(WizardScreen):
    BINDINGS = [
        Binding("p", "pause", "Pause after this step"),
        Binding("c", "continue", "Continue"),
    ]

    def __init__(self, step: str) -> None:
        self.step = step
        self.PAGE = f"step-{step}"  # type: ignore[misc]
        super().__init__(name=self.PAGE)

    def compose_body(self) -> ComposeResult:
        width = max(16, min(60, self.app.size.width - FIXED_WIDTH - 6))
        with Vertical(id="step", classes="page-body"):
            info = step_info(self.step)
            assert info is not None, self.step
            yield Static(f"[b]Step {self.step} — {info.title}[/b]  {info.about}", id="step-about")
            with Horizontal(id="step-progress"):
                yield ProgressBar(total=None, show_eta=False, id="step-bar")
                yield Static("", id="step-state")
            yield Static("", id="step-validators")
            yield ActionTable(label_width=width, id="step-actions")
            yield Static("", id="step-detail")

    @property
    def model(self) -> StepProgress | None:
        return self.session.progress.steps.get(self.step)

    def refresh_view(self) -> None:
        model = self.model
        table = self.query_one(ActionTable)
        if model is not None:
            table.show_step(model)
        self._show_counts()
        self._show_validators()
        self._show_detail()
        super().refresh_view()

    def show_progress(self, message: DeploymentProgressed, row: Any) -> None:
        """The App folded one event into the model; show what changed."""
        model = self.model
        if model is None:
            return
        if isinstance(message, StepListed):
            self.query_one(ActionTable).show_step(model)
        elif row is not None:
            self.query_one(ActionTable).show_row(row)
        self._show_counts()
        self._show_validators()
        self._show_detail()
        self.refresh_nav()

    def _show_counts(self) -> None:
        model = self.model
        bar = self.query_one(ProgressBar)
        state = self.query_one("#step-state", Static)
        if model is None:
            bar.update(total=None)
            state.update("[dim]not started[/]")
            return
        bar.update(total=max(model.total, 1), progress=model.completed)
        text = f"{model.completed}/{model.total} actions  {STATE_WORDS.get(model.state, model.state)}"
        if model.waiting:
            text += f"\n[yellow]waiting:[/] {escape(model.waiting)}"
        state.update(text)

    def _show_validators(self) -> None:
        """Step 2 with external validators: a row each, live from chain, with the command to send them."""
        model = self.model
        box = self.query_one("#step-validators", Static)
        if model is None or not model.validators:
            box.display = False
            return
        colours = {"waiting": "yellow", "approved": "cyan", "staked": "green"}
        lines = ["[b]Validators[/b]" + (f"  [dim]deadline {escape(model.deadline)}[/]" if model.deadline else "")]
        for row in model.validators:
            who = "signs for itself" if row.external else "coordinator signs"
            line = (f" {row.number:>2}  {row.origin_address[:10]}…  [{colours.get(row.state, 'white')}]"
                    f"{row.state:<8}[/]  [dim]{who}[/]")
            if row.note:
                line += f"  [red]{escape(row.note)}[/]"
            if row.external and row.state != "staked":
                line += f"\n     send them: {escape(row.command)}"
            lines.append(line)
        box.update("\n".join(lines))
        box.display = True

    def _show_detail(self) -> None:
        model = self.model
        detail = self.query_one("#step-detail", Static)
        table = self.query_one(ActionTable)
        if model is None or not model.rows or table.row_count == 0:
            detail.update("")
            return
        key = list(model.rows)[min(max(table.cursor_row, 0), len(model.rows) - 1)]
        row = model.rows[key]
        parts = [f"[b]{escape(row.label)}[/b] ({row.action})"]
        if row.sender:
            parts.append(f"sender {row.sender}")
        if row.tx_hash:
            parts.append(f"transaction {row.tx_hash}")
        if row.note:
            parts.append(("[red]" if row.status == "failed" else "[dim]") + escape(row.note) + "[/]")
        detail.update("\n".join(parts))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    # -- navigation -----------------------------------------------------------------------------

    def _visible(self, page: str | None) -> bool:
        if page is None:
            return False
        if page == "export":
            return self.session.finished
        if page.startswith("step-"):
            return page.split("-")[1] in self.session.progress.steps
        return True

    def can_go_back(self) -> bool:
        return not self.session.deploying and self.session.neighbour(self.PAGE, -1) is not None

    def can_go_next(self) -> bool:
        return not self.session.deploying and self._visible(self.session.neighbour(self.PAGE, +1))

    def nav_note(self) -> str:
        app = self.session
        if app.deploying:
            return "[yellow]transactions in flight[/] — p pauses after this step"
        if not app.finished and app.progress.steps:
            return "c continues the deployment"
        return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return True if self.session.deploying else None
        if action == "continue":
            app = self.session
            return True if not app.deploying and not app.finished and app.progress.steps else None
        return super().check_action(action, parameters)

    def action_pause(self) -> None:
        self.post_message(PauseRequested())

    def action_continue(self) -> None:
        self.post_message(DeploymentRequested())
