"""The first screen: what the wizard will do, and where to do it (local devnet or the operator's chains)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from mosaic_tui.messages import ModeChosen

STEPS = (
    ("0", "Prerequisites", "origin RPC, deployment key, OST, validators, core identifier; preflight checks"),
    ("1", "Origin contracts", "deploy OriginCore (with Stake) and OSTGateway on origin"),
    ("2", "Staking", "validators stake OST, Stake opens kernel K0, gateway stakes for base coin"),
    ("3", "Auxiliary chain", "genesis and Aura spec, start the node, deploy the auxiliary contracts"),
    ("4", "Initialize auxiliary", "prove K0, mint base coin, raise gas price, hand over from the proposer"),
    ("5", "Rum nodes", "export the validators' TOML and env files, start rum"),
)


class WelcomeScreen(Screen[None]):
    """Names the six steps and offers the two ways to start."""

    BINDINGS = [
        Binding("d", "choose('devnet')", "Local devnet"),
        Binding("o", "choose('own')", "My own chains"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Vertical(id="welcome"):
            yield Static("Deploy a Mosaic meta-blockchain", id="welcome-title")
            yield Static(
                "An origin chain holds the value and the staked validators; a new auxiliary PoA chain "
                "forms the blocks, and the validators finalise its checkpoints. Six steps:",
                id="welcome-intro",
            )
            for number, title, text in STEPS:
                yield Static(f"[b]{number}[/b]  [b]{title}[/b] — {text}", classes="welcome-step")
            with Horizontal(id="welcome-choices"):
                yield Button("Local devnet", id="devnet", variant="primary")
                yield Button("My own chains", id="own")
            yield Static("", id="welcome-status")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id in ("devnet", "own"):
            self.post_message(ModeChosen(event.button.id))

    def action_choose(self, mode: str) -> None:
        self.post_message(ModeChosen(mode))

    def show_status(self, text: str) -> None:
        self.query_one("#welcome-status", Static).update(text)
