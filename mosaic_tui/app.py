"""The Textual app: owns the wizard's pages, the form, and the workers; the engine does the work.

Blocking work (starting anvil, the preflight, the deployment, storing a key) runs in thread workers
owned by the App, never by a screen, and comes back as messages (messages.py). The deployment runs
in one worker (group "deploy"); its engine events become messages in one adapter
(`messages.EventBridge`). web3 is not imported on the way to the first screen: the engine is
imported inside the workers and handlers that need it.

Environment (for a wizard started by `mosaic-tui --devnet`, whose CLI has no port options for it):
MOSAIC_TUI_AUXILIARY_PORT chooses the devnet's auxiliary port (default 8546).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from mosaic_tui.messages import DevnetFailed, DevnetStarted, ModeChosen, RpcChecked
from mosaic_tui.widgets.progress_model import DeploymentProgress
from mosaic_tui.wizard_state import WizardForm
from screens.app_deployment import DeploymentRunner
from screens.app_pages import DEVNET_PAGES, OWN_PAGES

CSS_PATH = Path(__file__).resolve().parent / "assets" / "app.tcss"
AUXILIARY_PORT_ENV = "MOSAIC_TUI_AUXILIARY_PORT"
DEVNET_VALIDATORS = 3
__all__ = ["AUXILIARY_PORT_ENV", "DEVNET_PAGES", "OWN_PAGES", "MosaicApp"]


class MosaicApp(DeploymentRunner):
    TITLE = "mosaic-tui"
    SUB_TITLE = "Mosaic meta-blockchain deployment"
    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("q", "quit_app", "Quit"),
        Binding("ctrl+q", "quit_app", "Quit", show=False, priority=True),
        Binding("ctrl+c", "quit_app", "Quit", show=False),
        Binding("f1", "help", "Help"),
        Binding("f2", "status", "Status"),
    ]

    def __init__(self, plan_path: Path | None = None, devnet_url: str | None = None,
                 devnet_dir: Path | None = None, devnet_port: int = 8545, *, start_with_status: bool = False,
                 auxiliary_port: int | None = None) -> None:
        super().__init__()
        self.plan_path = Path(plan_path or "mosaic-plan.toml")
        self.devnet_url = devnet_url
        self.devnet_dir = devnet_dir
        self.devnet_port = devnet_port
        self.auxiliary_port = auxiliary_port or int(os.environ.get(AUXILIARY_PORT_ENV, "8546"))
        self.start_with_status = start_with_status
        self.devnet_left_running = False
        self.devnet_chain_id: int | None = None
        self.mode = None  # "devnet" | "own", once chosen
        self.form = None
        self.connected: dict[str, Any] = {}  # URL field -> wizard_run.RpcCheck
        self.prepared = None  # deploy.Prepared of the last good preflight, used once by the deployment
        self.preflight_report = None
        self.preflight_problems = None
        self.preflight_running = False
        self.progress = DeploymentProgress()
        self.deploying = False
        self.finished = False
        self.failure = None
        self._pause = False
        self._stop = False
        self._quit_when_stopped = False
        self._passphrases = {}
        self._resuming = False
        self._follow_target = None
        self._follow_timer = None

    def on_mount(self) -> None:
        if self.start_with_status:
            self._open_status(exit_on_close=True)
            return
        self.goto("welcome")
        if self.devnet_url:
            self.call_after_refresh(self._welcome_status, f"Local devnet running at {self.devnet_url}.")

    def on_mode_chosen(self, message: ModeChosen) -> None:
        if self.deploying:
            return
        if message.mode == "devnet":
            self.mode = "devnet"
            if self.devnet_url and self.devnet_chain_id is not None:
                self._enter_devnet()
            elif self.devnet_url:
                self._welcome_status(f"Local devnet running at {self.devnet_url}; connecting ...")
                self.check_devnet(self.devnet_url)
            else:
                self._welcome_status("Starting the local devnet ...")
                self.start_devnet()
        elif message.mode == "resume":
            self._resume()
        else:
            self.mode = "own"
            self.form = self._load_form(self.plan_path)
            self._welcome_status(f"Your own chains: the plan is read from and saved to {self.plan_path}.")
            self.goto("prerequisites")

    def _load_form(self, path: Path) -> WizardForm:
        """The previous answers of an existing plan file; a fresh form when there is none or it is unreadable."""
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.plan import load_plan
        from mosaic_tui.wizard_state import empty_form

        if path.is_file():
            try:
                return WizardForm.from_plan(load_plan(path))
            except MosaicError as error:
                self.notify(f"{path} could not be loaded, so the form starts empty: {error}", severity="warning",
                            timeout=10)
        return empty_form()

    def resumable(self) -> Any:
        """The unfinished deployment a restart can pick up: a JournalSummary, or None."""
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.wizard_state import summarize_journal

        for path in (self.plan_path, self.devnet_plan_path):
            try:
                summary = summarize_journal(path)
            except MosaicError:
                continue
            if summary is not None and summary.started and not summary.finished and path.is_file():
                return summary
        return None

    def _resume(self) -> None:
        from urllib.parse import urlsplit

        from mosaic_tui.errors import MosaicError
        from mosaic_tui.plan import load_plan

        summary = self.resumable()
        if summary is None:
            self._welcome_status("There is no unfinished deployment to resume.")
            return
        try:
            plan = load_plan(summary.plan_path)
        except MosaicError as error:
            self._welcome_status(f"[b red]{summary.plan_path} cannot be resumed:[/] {error}")
            return
        self.form = WizardForm.from_plan(plan)
        self._resuming = True
        if summary.plan_path == self.devnet_plan_path:
            self.mode = "devnet"
            if self.devnet_url is None:
                self.devnet_port = urlsplit(plan.origin.rpc).port or self.devnet_port
                self._welcome_status("Starting the local devnet ...")
                self.start_devnet()
                return
        else:
            self.mode = "own"
        self.goto("review")

    @work(thread=True, exclusive=True, exit_on_error=False, group="devnet")
    def start_devnet(self) -> None:
        from mosaic_tui import devnet
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.validator.launch import validators_wanted

        try:
            # The validator nodes started after the deployment need chains that make blocks on their own.
            node = devnet.up(self.devnet_dir or devnet.default_dir(), port=self.devnet_port,
                             block_time=1.0 if validators_wanted() else None)
        except MosaicError as error:
            self.post_message(DevnetFailed(str(error)))
            return
        self.post_message(DevnetStarted(node.rpc_url, node.chain_id, node.pid))

    @work(thread=True, exclusive=True, exit_on_error=False, group="devnet")
    def check_devnet(self, url: str) -> None:
        from mosaic_tui.wizard_run import check_rpc

        check = check_rpc(url)
        if check.ok:
            self.post_message(DevnetStarted(url, check.chain_id or 0, 0))
        else:
            self.post_message(DevnetFailed(check.error or "the devnet does not answer"))

    def on_devnet_started(self, message: DevnetStarted) -> None:
        self.devnet_url = message.rpc_url
        self.devnet_chain_id = message.chain_id
        pid = f", PID {message.pid}" if message.pid else ""
        self._welcome_status(f"Local devnet running at {message.rpc_url} (chain id {message.chain_id}{pid}).")
        if self.mode == "devnet":
            self._enter_devnet()

    def on_devnet_failed(self, message: DevnetFailed) -> None:
        self.mode = None
        self._welcome_status(f"[b red]The devnet did not start:[/] {message.reason}")

    def _enter_devnet(self) -> None:
        """The devnet form: the plan kept from an earlier run on this devnet, or a fresh devnet plan."""
        from mosaic_tui.deploy import devnet_plan_dict

        assert self.devnet_url is not None and self.devnet_chain_id is not None
        if self._resuming:
            self.goto("review")
            return
        form = self._load_form(self.devnet_plan_path) if self.devnet_plan_path.is_file() else None
        if form is None or not form.devnet or form.values.get("origin.rpc") != self.devnet_url:
            form = WizardForm.from_plan_dict(devnet_plan_dict(
                DEVNET_VALIDATORS, origin_url=self.devnet_url, origin_chain_id=self.devnet_chain_id,
                auxiliary_url=f"http://127.0.0.1:{self.auxiliary_port}"))
        self.form = form
        self.goto("prerequisites")

    def on_rpc_checked(self, message: RpcChecked) -> None:
        self.connected[message.field] = message.check

    def action_quit_app(self) -> None:
        from screens.quit import StopDeploymentScreen

        if self.deploying:
            def decided(choice: str | None) -> None:
                if choice == "stop":
                    self._stop = True
                    self._quit_when_stopped = True
                    self.notify("Stopping: the transactions in flight stay in the journal and are adopted when "
                                "you resume.", timeout=8)
            self.push_screen(StopDeploymentScreen(), decided)
            return
        self._ask_about_devnet()

    def _ask_about_devnet(self) -> None:
        from screens.quit import QuitScreen

        if not self.devnet_url:
            self.exit()
            return

        def decided(choice: str | None) -> None:
            if choice == "keep":
                self.devnet_left_running = True
                self.exit()
            elif choice == "stop":
                from mosaic_tui import devnet

                devnet.down(self._devnet_dir())
                self.exit()

        self.push_screen(QuitScreen(), decided)

    async def action_quit(self) -> None:
        self.action_quit_app()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Validator status", "Stakes, balances and membership of every validator (F2)",
                            self.action_status)
        yield SystemCommand("Help", "Keys and what each step does (F1)", self.action_help)
        if self.deploying:
            yield SystemCommand("Pause the deployment", "Stop after the running step", self.request_pause)
        for name in self.pages:
            if name != getattr(self.screen, "PAGE", None) and self._may_visit(name):
                yield SystemCommand(f"Go to: {name.replace('-', ' ')}", "Open this page of the wizard",
                                    lambda n=name: self.goto(n))  # type: ignore[misc]

    def _may_visit(self, name: str) -> bool:
        if self.deploying or self.mode is None:
            return False
        if name.startswith("step-") or name == "export":
            return name == "export" and self.finished or name.split("-")[-1] in self.progress.steps
        return self.form is not None
