"""What every wizard page shares: header, step indicator, the page body, Back / Next and the footer.

Back and Next are actions whose availability the page decides (`can_go_back` / `can_go_next`);
`check_action` greys them out in the footer, and neither works while a transaction is in flight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from mosaic_tui.widgets.step_indicator import StepIndicator

if TYPE_CHECKING:
    from mosaic_tui.app import MosaicApp


class WizardScreen(Screen[None]):
    PAGE: ClassVar[str] = ""
    NEXT_LABEL: ClassVar[str] = "Next ›"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next", priority=True),
    ]

    @property
    def wizard(self) -> MosaicApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield StepIndicator(self.PAGE, pages=self.wizard.pages, id="step-indicator")
        yield from self.compose_body()
        with Horizontal(id="nav-bar"):
            yield Button("‹ Back", id="nav-back", compact=True)
            yield Static("", id="nav-note", markup=True)
            yield Button(self.NEXT_LABEL, id="nav-next", variant="primary", compact=True)
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        indicator = self.query_one(StepIndicator)
        indicator.set_pages(self.wizard.pages)
        indicator.done = self.wizard.done_pages()
        self.refresh_view()

    def refresh_view(self) -> None:
        """Show the App's current state (called on resume and when the state changes)."""
        self.refresh_nav()

    # -- back / next ------------------------------------------------------------------------------

    def can_go_back(self) -> bool:
        return not self.wizard.deploying and self.wizard.neighbour(self.PAGE, -1) is not None

    def can_go_next(self) -> bool:
        return not self.wizard.deploying and self.wizard.neighbour(self.PAGE, +1) is not None

    def nav_note(self) -> str:
        return ""

    def refresh_nav(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#nav-back", Button).disabled = not self.can_go_back()
        self.query_one("#nav-next", Button).disabled = not self.can_go_next()
        self.query_one("#nav-note", Static).update(self.nav_note())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True if self.can_go_back() else None
        if action == "next":
            return True if self.can_go_next() else None
        return True

    def action_back(self) -> None:
        target = self.wizard.neighbour(self.PAGE, -1)
        if target and self.can_go_back():
            self.wizard.goto(target)

    def action_next(self) -> None:
        if self.can_go_next():
            self.go_next()

    def go_next(self) -> None:
        target = self.wizard.neighbour(self.PAGE, +1)
        if target:
            self.wizard.goto(target)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "nav-back":
            event.stop()
            self.action_back()
        elif event.button.id == "nav-next":
            event.stop()
            self.action_next()
