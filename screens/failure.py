"""A failed step: the action, the revert reason, and what to do (retry, edit the plan, quit and resume)."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from mosaic_tui.steps import step_title


class FailureScreen(ModalScreen[str]):
    """Dismisses with "retry", "edit" or "quit"."""

    BINDINGS = [
        Binding("r", "choose('retry')", "Retry the step"),
        Binding("e", "choose('edit')", "Edit the plan"),
        Binding("q", "choose('quit')", "Quit, resume later"),
    ]

    def __init__(self, step: str, action: str, label: str, reason: str) -> None:
        super().__init__()
        self.step, self.action, self.label, self.reason = step, action, label, reason

    def compose(self) -> ComposeResult:
        title = step_title(self.step)
        with Vertical(id="failure-dialog", classes="dialog"):
            yield Label(f"[b red]Step {self.step} {title} failed[/]")
            yield Static(f"[b]{escape(self.label or self.action)}[/b] ({escape(self.action)})", id="failure-action")
            yield Static(escape(self.reason), id="failure-reason")
            yield Static("What is done stays done: the journal holds every confirmed action, and a retry or a "
                         "later resume continues from here without signing anything twice. Fix the cause (fund the "
                         "account, start the node), then retry.", classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Retry the step (r)", id="retry", variant="primary")
                yield Button("Edit the plan (e)", id="edit")
                yield Button("Quit, resume later (q)", id="quit", variant="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "quit")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
