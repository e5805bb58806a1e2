"""What every wizard page shares: header, step indicator, the page body, Back / Next and the footer.

Back and Next are actions whose availability the page decides (`can_go_back` / `can_go_next`);
`check_action` greys them out in the footer, and neither works while a transaction is in flight.
A page reads the App's `WizardSession` and posts a request message (`PageRequested`, ...) when it
wants something done; it never imports the App.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Protocol, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Static

from mosaic_tui.messages import PageRequested
from mosaic_tui.session import WizardSession
from mosaic_tui.widgets.footer import PageFooter
from mosaic_tui.widgets.step_indicator import StepIndicator
from mosaic_tui.widgets.title_bar import TitleBar


class _HasSession(Protocol):
    session: WizardSession


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as the operator reads it: relative to the current folder when inside it (shorter, and still a
    path with a slash, so a shell never searches PATH for it), absolute otherwise."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    text = relative.as_posix()
    return text if "/" in text else f"./{text}"


class WizardScreen(Screen[None]):
    PAGE: ClassVar[str] = ""
    NEXT_LABEL: ClassVar[str] = "Next ›"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next", priority=True),
    ]

    @property
    def session(self) -> WizardSession:
        """The wizard's state, owned by the App (any App that has a `session`)."""
        return cast(_HasSession, self.app).session

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield StepIndicator(self.PAGE, pages=self.session.pages, id="step-indicator")
        yield from self.compose_body()
        with Horizontal(id="nav-bar"):
            yield Button("‹ Back", id="nav-back", compact=True)
            yield Static("", id="nav-note", markup=True)
            yield Button(self.NEXT_LABEL, id="nav-next", variant="primary", compact=True)
        yield PageFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        if not self.is_mounted:  # a page made from SCREENS is shown before its first compose has run
            self.call_after_refresh(self.on_screen_resume)
            return
        self.page_resumed()

    def page_resumed(self) -> None:
        """The page is shown again (or for the first time, composed): show the App's current state."""
        indicator = self.query_one(StepIndicator)
        indicator.set_pages(self.session.pages)
        indicator.done = self.session.done_pages()
        self.refresh_view()

    def refresh_view(self) -> None:
        """Show the App's current state (called on resume and when the state changes)."""
        self.refresh_nav()
        self.refresh_bindings()  # page actions (check again, pause, continue) depend on that state too

    # -- back / next ------------------------------------------------------------------------------

    def can_go_back(self) -> bool:
        return not self.session.deploying and self.session.neighbour(self.PAGE, -1) is not None

    def can_go_next(self) -> bool:
        return not self.session.deploying and self.session.neighbour(self.PAGE, +1) is not None

    def nav_note(self) -> str:
        return ""

    _nav_state: tuple[bool, bool, str] | None = None

    def refresh_nav(self) -> None:
        if not self.is_mounted:
            return
        state = (self.can_go_back(), self.can_go_next(), self.nav_note())
        if state == self._nav_state:
            return  # refreshing the footer and the note re-lays out the page; most keystrokes change neither
        self._nav_state = state
        self.query_one("#nav-back", Button).disabled = not state[0]
        self.query_one("#nav-next", Button).disabled = not state[1]
        self.query_one("#nav-note", Static).update(state[2])
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True if self.can_go_back() else None
        if action == "next":
            return True if self.can_go_next() else None
        return True

    def action_back(self) -> None:
        target = self.session.neighbour(self.PAGE, -1)
        if target and self.can_go_back():
            self.post_message(PageRequested(target))

    def action_next(self) -> None:
        if self.can_go_next():
            self.go_next()

    def go_next(self) -> None:
        target = self.session.neighbour(self.PAGE, +1)
        if target:
            self.post_message(PageRequested(target))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "nav-back":
            event.stop()
            self.action_back()
        elif event.button.id == "nav-next":
            event.stop()
            self.action_next()
