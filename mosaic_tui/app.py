"""The Textual app: owns the screens and the workers; the engine does the work.

Blocking work (starting anvil, RPC) runs in thread workers owned by the App, never in a screen, and
comes back as messages (see messages.py). web3 is not imported on the way to the first screen.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from mosaic_tui.messages import DevnetFailed, DevnetStarted, ModeChosen
from screens.quit import QuitScreen
from screens.welcome import WelcomeScreen

CSS_PATH = Path(__file__).resolve().parent / "assets" / "app.tcss"


class MosaicApp(App[None]):
    TITLE = "mosaic-tui"
    SUB_TITLE = "Mosaic meta-blockchain deployment"
    CSS_PATH = CSS_PATH
    BINDINGS = [Binding("q", "quit_app", "Quit"), Binding("ctrl+c", "quit_app", "Quit", show=False)]

    def __init__(self, plan_path: Path | None = None, devnet_url: str | None = None,
                 devnet_dir: Path | None = None, devnet_port: int = 8545) -> None:
        super().__init__()
        self.devnet_port = devnet_port
        self.plan_path = plan_path or Path("mosaic-plan.toml")
        self.devnet_url = devnet_url
        self.devnet_dir = devnet_dir
        self.devnet_left_running = False

    def on_mount(self) -> None:
        self.push_screen(WelcomeScreen())
        if self.devnet_url:
            self.call_after_refresh(self._welcome_status, f"Local devnet running at {self.devnet_url}.")

    def _welcome_status(self, text: str) -> None:
        if isinstance(self.screen, WelcomeScreen):
            self.screen.show_status(text)

    def on_mode_chosen(self, message: ModeChosen) -> None:
        if message.mode == "devnet":
            if self.devnet_url:
                self._welcome_status(f"Local devnet running at {self.devnet_url}.")
            else:
                self._welcome_status("Starting the local devnet ...")
                self.start_devnet()
        else:
            self._welcome_status(f"Your own chains: the plan is read from and saved to {self.plan_path}.")

    @work(thread=True, exclusive=True, exit_on_error=False, group="devnet")
    def start_devnet(self) -> None:
        from mosaic_tui import devnet
        from mosaic_tui.errors import MosaicError

        try:
            node = devnet.up(self.devnet_dir or devnet.default_dir(), port=self.devnet_port)
        except MosaicError as error:
            self.post_message(DevnetFailed(str(error)))
            return
        self.post_message(DevnetStarted(node.rpc_url, node.chain_id, node.pid))

    def on_devnet_started(self, message: DevnetStarted) -> None:
        self.devnet_url = message.rpc_url
        self._welcome_status(f"Local devnet running at {message.rpc_url} (chain id {message.chain_id}, PID {message.pid}).")

    def on_devnet_failed(self, message: DevnetFailed) -> None:
        self._welcome_status(f"[b red]The devnet did not start:[/] {message.reason}")

    def action_quit_app(self) -> None:
        if not self.devnet_url:
            self.exit()
            return

        def decided(choice: str | None) -> None:
            if choice == "keep":
                self.devnet_left_running = True
                self.exit()
            elif choice == "stop":
                from mosaic_tui import devnet

                devnet.down(self.devnet_dir or devnet.default_dir())
                self.exit()

        self.push_screen(QuitScreen(), decided)
