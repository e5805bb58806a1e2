"""The quit questions: stop a running deployment (it resumes later), and keep or stop the local devnet."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class QuitScreen(ModalScreen[str]):
    """Dismisses with "keep", "stop" or "cancel"."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel"), Binding("k", "dismiss('keep')", "Keep it"),
                Binding("s", "dismiss('stop')", "Stop it")]

    def compose(self) -> ComposeResult:
        with Grid(id="quit-dialog"):
            yield Label("The local devnet is running. Keep it running after you quit?", id="quit-question")
            yield Button("Keep it running (k)", id="keep", variant="primary")
            yield Button("Stop it (s)", id="stop", variant="warning")
            yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")


class StopDeploymentScreen(ModalScreen[str]):
    """Dismisses with "stop" or "cancel"."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel"), Binding("s", "dismiss('stop')", "Stop")]

    def compose(self) -> ComposeResult:
        with Grid(id="stop-dialog"):
            yield Label("A deployment is running. Stop it and quit? Transactions already sent stay in the "
                        "journal; the next run adopts them and goes on from there.", id="stop-question")
            yield Button("Stop and quit (s)", id="stop", variant="warning")
            yield Button("Keep deploying", id="cancel", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")
