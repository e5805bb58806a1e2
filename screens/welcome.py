"""The first screen: what the wizard will do, where to do it (local devnet or the operator's chains), and
the offer to resume a deployment that a journal shows unfinished."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from mosaic_tui.messages import ModeChosen
from mosaic_tui.screens.base import WizardScreen, shown_path

# Step 0 of OIP-3 is this wizard's own pages; the steps after it describe themselves (mosaic_tui.steps).
PREREQUISITES = ("0", "Prerequisites", "origin RPC, deployment key, OST, validators, core identifier; preflight checks")


def step_lines() -> list[tuple[str, str, str]]:
    from mosaic_tui.steps import DEVNET_ONLY, MODULES, described

    shown = [info for name, info in zip(MODULES, described(), strict=True) if name not in DEVNET_ONLY]
    return [PREREQUISITES, *((info.key, info.title, info.purpose) for info in shown)]


class WelcomeScreen(WizardScreen):
    """Names the six steps and offers the ways to start."""

    PAGE = "welcome"
    BINDINGS = [
        Binding("d", "choose('devnet')", "Local devnet"),
        Binding("o", "choose('own')", "My own chains"),
        Binding("r", "choose('resume')", "Resume"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="welcome", classes="page-body"):
            yield Static("Deploy a Mosaic meta-blockchain", id="welcome-title")
            yield Static(
                "An origin chain holds the value and the staked validators; a new auxiliary PoA chain "
                "forms the blocks, and the validators finalise its checkpoints. Six steps:",
                id="welcome-intro",
            )
            # One widget for the six lines: fewer widgets to style and lay out before the first paint.
            yield Static("\n".join(f"[b]{number}[/b]  [b]{title}[/b] — {text}" for number, title, text in step_lines()),
                         id="welcome-steps", classes="welcome-step")
            with Horizontal(id="welcome-choices"):
                yield Button("Local devnet (d)", id="devnet", variant="primary")
                yield Button("My own chains (o)", id="own")
                yield Button("Resume (r)", id="resume", variant="warning")
            yield Static("", id="welcome-resume")
            yield Static("", id="welcome-status")

    _summary = None

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        self._summary = summary = self.session.resumable()
        resume = self.query_one("#resume", Button)
        resume.display = summary is not None
        note = self.query_one("#welcome-resume", Static)
        if summary is None:
            note.update("")
        else:
            note.update(f"[b]An unfinished deployment[/b] of {shown_path(summary.plan_path)}: {summary.sentence()}. "
                        "Press [b]r[/b] to resume it where it stopped.")
        super().refresh_view()

    def can_go_back(self) -> bool:
        return False

    def can_go_next(self) -> bool:
        return not self.session.deploying and self.session.form is not None and self.session.mode is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters == ("resume",):
            return self._summary is not None  # hidden when there is nothing to resume
        return super().check_action(action, parameters)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("devnet", "own", "resume"):
            event.stop()
            self.post_message(ModeChosen(event.button.id))
            return
        super().on_button_pressed(event)

    def action_choose(self, mode: str) -> None:
        self.post_message(ModeChosen(mode))

    def show_status(self, text: str) -> None:
        self.query_one("#welcome-status", Static).update(text)
