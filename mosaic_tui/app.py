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

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from mosaic_tui.messages import (
    DeploymentFailed,
    DeploymentFinished,
    DeploymentPaused,
    DeploymentProgressed,
    DeploymentStopped,
    DevnetFailed,
    DevnetStarted,
    EventBridge,
    ModeChosen,
    PreflightCompleted,
    PreflightFailed,
    RpcChecked,
    StepFinished,
    StepListed,
)
from mosaic_tui.widgets.progress_model import DeploymentProgress
from mosaic_tui.wizard_state import WizardForm

CSS_PATH = Path(__file__).resolve().parent / "assets" / "app.tcss"
AUXILIARY_PORT_ENV = "MOSAIC_TUI_AUXILIARY_PORT"
DEVNET_VALIDATORS = 3
OWN_PAGES = ("welcome", "prerequisites", "validators", "review", "step-1", "step-2", "step-3", "step-4", "export")
DEVNET_PAGES = ("welcome", "prerequisites", "validators", "review", "step-0", "step-1", "step-2", "step-3", "step-4",
                "export")


class MosaicApp(App[None]):
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
        self.mode: str | None = None  # "devnet" | "own", once chosen
        self.form: WizardForm | None = None
        self.connected: dict[str, Any] = {}  # URL field -> wizard_run.RpcCheck
        self.prepared: Any = None  # deploy.Prepared of the last good preflight, used once by the deployment
        self.preflight_report: Any = None
        self.preflight_problems: list[Any] | None = None
        self.preflight_running = False
        self.progress = DeploymentProgress()
        self.deploying = False
        self.finished = False
        self.failure: DeploymentFailed | None = None
        self._pause = False
        self._stop = False
        self._quit_when_stopped = False
        self._passphrases: dict[str, str] = {}
        self._resuming = False

    # -- pages ----------------------------------------------------------------------------------

    @property
    def devnet_plan_path(self) -> Path:
        """Where a devnet wizard keeps its plan: `out/` beside the plan, as `deploy --devnet` does."""
        return self.plan_path.parent / "out" / "mosaic-plan.toml"

    @property
    def active_plan_path(self) -> Path:
        return self.devnet_plan_path if self.mode == "devnet" else self.plan_path

    @property
    def pages(self) -> tuple[str, ...]:
        return DEVNET_PAGES if self.mode == "devnet" else OWN_PAGES

    def _make_page(self, name: str) -> Screen[Any]:
        from screens.export import RumExportScreen
        from screens.prerequisites import PrerequisitesScreen
        from screens.review import ReviewScreen
        from screens.step import StepScreen
        from screens.validators import ValidatorsScreen

        from screens.welcome import WelcomeScreen

        if name.startswith("step-"):
            return StepScreen(name.split("-")[1])
        return {"welcome": WelcomeScreen, "prerequisites": PrerequisitesScreen, "validators": ValidatorsScreen,
                "review": ReviewScreen, "export": RumExportScreen}[name]()

    def page(self, name: str) -> Screen[Any] | None:
        """The page's screen if it was created (installed screens keep their state while hidden)."""
        try:
            return self.get_screen(name) if self.is_screen_installed(name) else None
        except KeyError:
            return None

    def goto(self, name: str) -> None:
        if not self.is_screen_installed(name):
            self.install_screen(self._make_page(name), name)
        if self.page(name) is self.screen:
            return
        if len(self.screen_stack) <= 1:
            self.push_screen(name)
        else:
            self.switch_screen(name)

    def neighbour(self, name: str, offset: int) -> str | None:
        pages = self.pages
        if name not in pages:
            return None
        position = pages.index(name) + offset
        return pages[position] if 0 <= position < len(pages) else None

    def done_pages(self) -> frozenset[str]:
        done = set()
        for step, progress in self.progress.steps.items():
            if progress.state == "done":
                done.add("export" if step == "5" else f"step-{step}")
        if self.progress.steps:
            done.update({"welcome", "prerequisites", "validators", "review"})
        return frozenset(done)

    def refresh_page(self, name: str) -> None:
        screen = self.page(name)
        if screen is not None and screen.is_mounted and hasattr(screen, "refresh_view"):
            screen.refresh_view()

    def _on_wizard_page(self) -> bool:
        from screens.base import WizardScreen

        return isinstance(self.screen, WizardScreen)

    # -- start ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.start_with_status:
            self._open_status(exit_on_close=True)
            return
        self.goto("welcome")
        if self.devnet_url:
            self.call_after_refresh(self._welcome_status, f"Local devnet running at {self.devnet_url}.")

    def _welcome_status(self, text: str) -> None:
        welcome = self.page("welcome")
        if welcome is not None and welcome.is_mounted:
            welcome.show_status(text)  # type: ignore[attr-defined]

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

        try:
            node = devnet.up(self.devnet_dir or devnet.default_dir(), port=self.devnet_port)
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

    # -- preflight ------------------------------------------------------------------------------

    def start_preflight(self) -> None:
        """Save the form as the plan and check it against the chain (no transaction)."""
        from mosaic_tui.errors import InputError, InputErrors
        from mosaic_tui.journal import Journal, journal_path
        from mosaic_tui.plan import save_plan

        assert self.form is not None
        self.prepared, self.preflight_report, self.preflight_problems = None, None, None
        try:
            plan = self.form.to_plan()
        except InputErrors as errors:
            self.post_message(PreflightFailed(list(errors.errors)))
            return
        path = self.active_plan_path
        journal = Journal.load(journal_path(path)) if journal_path(path).is_file() else None
        if journal is not None and journal.plan_digest not in (None, plan.digest()):
            self.post_message(PreflightFailed([InputError(
                "plan", f"these inputs differ from the plan whose deployment the journal {journal.path.name} "
                        "records; go back and undo the change, or start over (the old journal is kept).")]))
            return
        save_plan(plan, path)
        self.preflight_running = True
        self.refresh_page("review")
        self.preflight()

    @work(thread=True, exclusive=True, exit_on_error=False, group="preflight")
    def preflight(self) -> None:
        from mosaic_tui import deploy
        from mosaic_tui.errors import InputError, InputErrors, MosaicError

        try:
            prepared = deploy.prepare(self.active_plan_path, passphrase=self._ask_passphrase,
                                      devnet_dir=self._devnet_dir())
        except InputErrors as errors:
            self.post_message(PreflightFailed(list(errors.errors)))
            return
        except InputError as error:
            self.post_message(PreflightFailed([error]))
            return
        except MosaicError as error:
            self.post_message(PreflightFailed([InputError("plan", str(error))]))
            return
        self.prepared = prepared
        self.post_message(PreflightCompleted(prepared.report))

    def _devnet_dir(self) -> Path:
        from mosaic_tui import devnet

        return self.devnet_dir or devnet.default_dir()

    def on_preflight_completed(self, message: PreflightCompleted) -> None:
        self.preflight_running = False
        self.preflight_report, self.preflight_problems = message.report, []
        self.refresh_page("review")

    def on_preflight_failed(self, message: PreflightFailed) -> None:
        self.preflight_running = False
        self.preflight_problems = message.problems
        if any("passphrase" in problem.message for problem in message.problems):
            self._passphrases.clear()  # a wrong passphrase must be asked again, not reused
        if self.deploying:  # the re-check before a retry found problems: show them where they can be fixed
            self.deploying = False
            self.goto("review")
        self.refresh_page("review")

    def _ask_passphrase(self, ref: Any) -> str:
        """Called by the engine in a worker thread: asks in a masked field on the UI thread and waits."""
        from mosaic_tui.errors import InputError

        key = str(ref)
        if key not in self._passphrases:
            answer = self.call_from_thread(self._prompt_passphrase, ref)
            if not answer:
                raise InputError("passphrase", f"no passphrase was given for {ref}.")
            self._passphrases[key] = answer
        return self._passphrases[key]

    async def _prompt_passphrase(self, ref: Any) -> str | None:
        from screens.keys import PassphraseScreen

        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.push_screen(PassphraseScreen(str(ref)), lambda value: answer.done() or answer.set_result(value))
        return await answer

    # -- the deployment -------------------------------------------------------------------------

    def start_deployment(self) -> None:
        """Send: the operator confirmed on the Review screen (or chose to retry or continue)."""
        if self.deploying:
            return
        self.deploying, self.finished, self.failure = True, False, None
        self._pause = self._stop = False
        self.refresh_bindings()
        self.deploy(self.prepared)
        self.prepared = None  # a Prepared drives one run; a retry checks the chain again

    @work(thread=True, exclusive=True, exit_on_error=False, group="deploy")
    def deploy(self, prepared: Any) -> None:
        from mosaic_tui import deploy
        from mosaic_tui.errors import InputError, InputErrors, MosaicError, StepFailed
        from mosaic_tui.events import Waiting
        from mosaic_tui.wizard_run import run_steps

        worker = get_current_worker()
        bridge = EventBridge(self.post_message)

        def on_wait(text: str) -> None:
            bridge(Waiting(self.progress.current or "-", text))

        try:
            if prepared is None:
                prepared = deploy.prepare(self.active_plan_path, passphrase=self._ask_passphrase,
                                          on_wait=on_wait, devnet_dir=self._devnet_dir())
            # A Prepared from the preflight was made without the UI's wait callback.
            prepared.ctx.on_wait = prepared.ctx.origin.on_wait = on_wait
            done = run_steps(prepared, bridge, should_stop=lambda: worker.is_cancelled or self._stop,
                             pause_requested=lambda: self._pause)
        except InputErrors as errors:
            self.post_message(PreflightFailed(list(errors.errors)))
        except InputError as error:
            self.post_message(PreflightFailed([error]))
        except StepFailed as failure:
            if self._stop:
                self.post_message(DeploymentStopped(failure.step))
            else:
                self.post_message(DeploymentFailed(failure.step, failure.action, failure.reason))
        except MosaicError as error:
            self.post_message(DeploymentFailed(self.progress.current or "-", "-", str(error)))
        else:
            self.post_message(DeploymentFinished() if done else DeploymentPaused(self.progress.current or "-"))

    @on(DeploymentProgressed)
    def _deployment_progressed(self, message: DeploymentProgressed) -> None:
        row = self.progress.apply(message.event)
        page = f"step-{message.step}"
        if isinstance(message, StepListed) and message.step != "5" and self._on_wizard_page():
            self.goto(page)
        screen = self.page(page)
        if screen is not None and screen.is_mounted:
            screen.show_progress(message, row)  # type: ignore[attr-defined]
        if isinstance(message, StepFinished):
            self._refresh_indicators()

    def _refresh_indicators(self) -> None:
        from mosaic_tui.widgets.step_indicator import StepIndicator

        for indicator in self.screen.query(StepIndicator):
            indicator.done = self.done_pages()

    def _run_ended(self) -> None:
        self.deploying = False
        self.refresh_bindings()
        for name in self.pages:
            self.refresh_page(name)
        if self._quit_when_stopped:
            self._quit_when_stopped = False
            self._ask_about_devnet()

    def on_deployment_finished(self, _: DeploymentFinished) -> None:
        self.finished = True
        self._run_ended()
        if self._on_wizard_page():
            self.goto("export")

    def on_deployment_paused(self, message: DeploymentPaused) -> None:
        self.notify(f"Paused after step {message.after_step}; press c to continue.", timeout=6)
        self._run_ended()

    def on_deployment_stopped(self, message: DeploymentStopped) -> None:
        self.progress.mark_stopped(message.step)
        self._run_ended()

    def on_deployment_failed(self, message: DeploymentFailed) -> None:
        from screens.failure import FailureScreen

        self.failure = message
        quitting = self._quit_when_stopped
        self._run_ended()
        if quitting:
            return
        label = ""
        step = self.progress.steps.get(message.step)
        if step is not None and message.action in step.rows:
            label = step.rows[message.action].label
        self.push_screen(FailureScreen(message.step, message.action, label, message.reason), self._failure_choice)

    def _failure_choice(self, choice: str | None) -> None:
        if choice == "retry":
            self.start_deployment()
        elif choice == "edit":
            self.goto("prerequisites")
        elif choice == "quit":
            self.action_quit_app()

    def request_pause(self) -> None:
        if self.deploying:
            self._pause = True
            self.notify("The deployment pauses once the running step is done.", timeout=5)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died of an unexpected error: say so in a modal instead of crashing the app."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        reason = f"{type(error).__name__}: {error}"
        if event.worker.group == "deploy":
            self.post_message(DeploymentFailed(self.progress.current or "-", "-", reason))
        elif event.worker.group == "preflight":
            from mosaic_tui.errors import InputError

            self.post_message(PreflightFailed([InputError("preflight", reason)]))
        else:
            self.notify(reason, title="Unexpected error", severity="error", timeout=15)

    def on_rpc_checked(self, message: RpcChecked) -> None:
        self.connected[message.field] = message.check

    # -- the rest: status panel, help, palette, quitting ------------------------------------------

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_status(self) -> None:
        self._open_status(exit_on_close=False)

    def _open_status(self, exit_on_close: bool) -> None:
        from screens.status import ValidatorStatusScreen

        from mosaic_tui.errors import MosaicError
        from mosaic_tui.plan import load_plan

        if isinstance(self.screen, ValidatorStatusScreen):
            return
        path = self.active_plan_path if self.mode else self.plan_path
        try:
            plan = self.form.to_plan() if self.form is not None else load_plan(path)
        except MosaicError as error:
            if exit_on_close:
                self.exit(message=f"error: {error}")
            else:
                self.notify(f"The status panel needs a valid plan first: {error}", severity="warning", timeout=8)
            return
        self.push_screen(ValidatorStatusScreen(plan, path, exit_on_close=exit_on_close))

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

