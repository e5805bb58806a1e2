"""Asks, on quit, whether the local devnet should keep running."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class QuitScreen(ModalScreen[str]):
    """Dismisses with "keep", "stop" or "cancel"."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def compose(self) -> ComposeResult:
        with Grid(id="quit-dialog"):
            yield Label("The local devnet is running. Keep it running after you quit?", id="quit-question")
            yield Button("Keep it running", id="keep", variant="primary")
            yield Button("Stop it", id="stop", variant="warning")
            yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")
