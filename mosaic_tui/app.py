"""The Textual app: its pages, where to deploy, quitting; the engine does the work.

The pages are named screens (`SCREENS`), each created when first shown and kept while the operator
looks at another one, so a half-filled form or a step's table stays as it was. The App owns the
`WizardSession` the pages read, and decides on the requests they post (`messages.py`): pages never
import the App. Blocking work (starting anvil, the preflight, the deployment) runs in thread workers
owned by the App; the deployment's part lives in its `DeploymentController` (below). web3 is not imported on
the way to the first screen: the engine is imported inside the workers and handlers that need it.

Environment (for a wizard started by `mosaic-tui --devnet`, whose CLI has no port options for it):
MOSAIC_TUI_AUXILIARY_PORT chooses the devnet's auxiliary port (default 8546).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from mosaic_tui import settings
from mosaic_tui.messages import (
    DeploymentFailed,
    DeploymentFinished,
    DeploymentPaused,
    DeploymentProgressed,
    DeploymentRequested,
    DeploymentStopped,
    DevnetFailed,
    DevnetStarted,
    EventBridge,
    ModeChosen,
    PageRequested,
    PauseRequested,
    PreflightCompleted,
    PreflightFailed,
    PreflightRequested,
    RpcChecked,
    StartOverRequested,
    StepFinished,
    StepListed,
)
from mosaic_tui.session import DEVNET_PAGES, OWN_PAGES, WizardSession

if TYPE_CHECKING:
    from mosaic_tui.wizard_state import WizardForm

CSS_PATH = Path(__file__).resolve().parent / "assets" / "app.tcss"
AUXILIARY_PORT_ENV = "MOSAIC_TUI_AUXILIARY_PORT"
__all__ = ["AUXILIARY_PORT_ENV", "DEVNET_PAGES", "OWN_PAGES", "MosaicApp"]


def _page(module: str, name: str, *args: str) -> Callable[[], Screen[Any]]:
    """A page made when first shown: the first paint imports only the Welcome page."""
    def make() -> Screen[Any]:
        page: Screen[Any] = getattr(importlib.import_module(f"mosaic_tui.screens.{module}"), name)(*args)
        return page
    return make


class DeploymentController:
    """The deployment as the App runs it: the preflight, the one deployment worker, and what their results do.

    A plain object the App owns (not a widget, not a mixin). Both jobs run in thread workers started on the
    App (groups "preflight" and "deploy"), so a page that is switched away never cancels them; the engine's
    events become messages in one place (`messages.EventBridge`) and are folded into `session.progress`,
    which the step pages show. The App routes the resulting messages here; a failure opens the failure
    dialog, and a worker that dies of an unexpected error says so instead of crashing the app.
    """

    def __init__(self, app: MosaicApp) -> None:
        self.app = app
        self.session = app.session
        self.pause_requested = False
        self.stop_requested = False
        self.quit_when_stopped = False
        self._passphrases: dict[str, str] = {}

    def devnet_dir(self) -> Path:
        from mosaic_tui import devnet

        return self.session.devnet_dir or devnet.default_dir()

    # -- the preflight -----------------------------------------------------------------------------

    def start_preflight(self) -> None:
        """Check the form as a plan, then (in a worker) save it and check it against the journal and the chain."""
        from mosaic_tui.errors import InputErrors

        session = self.session
        assert session.form is not None
        session.prepared, session.preflight_report, session.preflight_problems = None, None, None
        try:
            plan = session.form.to_plan()
        except InputErrors as errors:
            self._failed_preflight(errors)
            return
        session.preflight_running = True
        self.app.refresh_page("review")
        self.app.run_worker(lambda: self._preflight(plan), thread=True, exclusive=True, exit_on_error=False,
                            group="preflight")

    def _preflight(self, plan: Any) -> None:
        from mosaic_tui import deploy
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.journal import Journal, journal_path
        from mosaic_tui.plan import save_plan
        from mosaic_tui.preflight import plan_changes

        path = self.session.active_plan_path
        try:
            if journal_path(path).is_file():
                # A change the journal's deployment cannot take is refused naming the field, before the file is
                # overwritten; one it can take is accepted and shown by the preflight.
                plan_changes(Journal.load(journal_path(path)), plan, path)
            save_plan(plan, path)
            prepared = deploy.prepare(path, passphrase=self._ask_passphrase, devnet_dir=self.devnet_dir())
        except MosaicError as error:
            self._failed_preflight(error)
            return
        self.session.prepared = prepared
        self.app.post_message(PreflightCompleted(prepared.report))

    def _failed_preflight(self, error: BaseException) -> None:
        """Any error of the preflight, as the problems the Review page lists (thread-safe)."""
        from mosaic_tui.errors import InputErrors, PassphraseRejected, report

        errors = error.errors if isinstance(error, InputErrors) else [error]
        rejected = any(isinstance(e, PassphraseRejected) for e in errors)
        self.app.post_message(PreflightFailed(list(report(error).problems), passphrase_rejected=rejected))

    def preflight_completed(self, message: PreflightCompleted) -> None:
        self.session.preflight_running = False
        self.session.preflight_report, self.session.preflight_problems = message.report, []
        self.app.refresh_page("review")

    def preflight_failed(self, message: PreflightFailed) -> None:
        session = self.session
        session.preflight_running = False
        session.preflight_problems = message.problems
        if message.passphrase_rejected:
            self._passphrases.clear()  # a wrong passphrase must be asked again, not reused
        if session.deploying:  # the re-check before a retry found problems: show them where they can be fixed
            session.deploying = False
            self.app.goto("review")
        self.app.refresh_page("review")

    def _ask_passphrase(self, ref: Any) -> str:
        """Called by the engine in a worker thread: asks in a masked field on the UI thread and waits."""
        from mosaic_tui.errors import PassphraseRejected

        key = str(ref)
        if key not in self._passphrases:
            answer: str | None = self.app.call_from_thread(self._prompt_passphrase, ref)  # type: ignore[arg-type]
            if not answer:
                raise PassphraseRejected("passphrase", f"no passphrase was given for {ref}.")
            self._passphrases[key] = answer
        return self._passphrases[key]

    async def _prompt_passphrase(self, ref: Any) -> str | None:
        from mosaic_tui.screens.keys import PassphraseScreen

        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def given(value: str | None) -> None:
            if not answer.done():
                answer.set_result(value)

        self.app.push_screen(PassphraseScreen(str(ref)), given)
        return await answer

    # -- the deployment ----------------------------------------------------------------------------

    def start_deployment(self) -> None:
        """Send: the operator confirmed on the Review page (or chose to retry or continue)."""
        session = self.session
        if session.deploying:
            return
        session.start_run()
        self.pause_requested = self.stop_requested = False
        self.app.refresh_bindings()
        prepared, session.prepared = session.prepared, None  # a Prepared drives one run; a retry checks again
        self.app.run_worker(lambda: self._deploy(prepared), thread=True, exclusive=True, exit_on_error=False,
                            group="deploy")

    def _deploy(self, prepared: Any) -> None:
        from mosaic_tui import deploy
        from mosaic_tui.errors import InputError, InputErrors, MosaicError, StepFailed, report
        from mosaic_tui.events import Waiting
        from mosaic_tui.wizard_run import run_steps

        worker = get_current_worker()
        bridge = EventBridge(self.app.post_message)
        progress = self.session.progress

        def on_wait(text: str) -> None:
            bridge(Waiting(progress.current or "-", text))

        try:
            if prepared is None:
                prepared = deploy.prepare(self.session.active_plan_path, passphrase=self._ask_passphrase,
                                          on_wait=on_wait, devnet_dir=self.devnet_dir())
            # A Prepared from the preflight was made without the UI's wait callback.
            prepared.ctx.on_wait = prepared.ctx.origin.on_wait = on_wait
            done = run_steps(prepared, bridge, should_stop=lambda: worker.is_cancelled or self.stop_requested,
                             pause_requested=lambda: self.pause_requested)
        except (InputError, InputErrors) as error:  # the re-check before a retry or a resume found problems
            self._failed_preflight(error)
        except StepFailed as failure:
            if self.stop_requested:
                self.app.post_message(DeploymentStopped(failure.step))
            else:
                self.app.post_message(DeploymentFailed(failure.step, failure.action, failure.reason))
        except MosaicError as error:
            self.app.post_message(DeploymentFailed(progress.current or "-", "-", report(error).text()))
        else:
            self.app.post_message(DeploymentFinished() if done else DeploymentPaused(progress.current or "-"))

    def progressed(self, message: DeploymentProgressed) -> None:
        row = self.session.progress.apply(message.event)
        page = f"step-{message.step}"
        if isinstance(message, StepListed) and message.step != "5":
            self.app.follow(page)
        self.app.show_progress(page, message, row)
        if isinstance(message, StepFinished):
            self.app.refresh_indicators()

    def request_pause(self) -> None:
        if self.session.deploying:
            self.pause_requested = True
            self.app.notify("The deployment pauses once the running step is done.", timeout=5)

    def request_stop(self, then_quit: bool) -> None:
        self.stop_requested = True
        self.quit_when_stopped = then_quit

    def _run_ended(self) -> None:
        self.session.deploying = False
        self.app.refresh_bindings()
        self.app.refresh_pages()
        if self.quit_when_stopped:
            self.quit_when_stopped = False
            self.app.ask_about_devnet()

    def finished(self) -> None:
        self.session.finished = True
        self._run_ended()
        self.app.follow("export")

    def paused(self, message: DeploymentPaused) -> None:
        self.app.notify(f"Paused after step {message.after_step}; press c to continue.", timeout=6)
        self._run_ended()

    def stopped(self, message: DeploymentStopped) -> None:
        self.session.progress.mark_stopped(message.step)
        self._run_ended()

    def failed(self, message: DeploymentFailed) -> None:
        from mosaic_tui.screens.failure import FailureScreen

        self.session.failure = message
        quitting = self.quit_when_stopped
        self._run_ended()
        if quitting:
            return
        label = ""
        step = self.session.progress.steps.get(message.step)
        if step is not None and message.action in step.rows:
            label = step.rows[message.action].label
        self.app.push_screen(FailureScreen(message.step, message.action, label, message.reason), self._failure_choice)

    def _failure_choice(self, choice: str | None) -> None:
        if choice == "retry":
            self.start_deployment()
        elif choice == "edit":
            self.app.goto("prerequisites")
        elif choice == "quit":
            self.app.action_quit_app()

    def worker_failed(self, worker: Worker[Any]) -> bool:
        """A preflight or deployment worker died of an unexpected error: report it like any failure."""
        from mosaic_tui.errors import report

        if worker.state != WorkerState.ERROR or worker.group not in ("deploy", "preflight") or worker.error is None:
            return False
        if worker.group == "deploy":
            said = report(worker.error)
            self.app.post_message(DeploymentFailed(self.session.progress.current or "-", "-", said.text()))
        else:
            self._failed_preflight(worker.error)
        return True


class MosaicApp(App[None]):
    TITLE = "mosaic-tui"
    SUB_TITLE = "Mosaic meta-blockchain deployment"
    CSS_PATH = CSS_PATH
    SCREENS: ClassVar[dict[str, Callable[[], Screen[Any]]]] = {
        "welcome": _page("welcome", "WelcomeScreen"),
        "prerequisites": _page("prerequisites", "PrerequisitesScreen"),
        "validators": _page("validators", "ValidatorsScreen"),
        "review": _page("review", "ReviewScreen"),
        **{f"step-{step}": _page("step", "StepScreen", step) for step in "01234"},
        "export": _page("export", "RumExportScreen"),
    }
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
        self.session = WizardSession(
            Path(plan_path or "mosaic-plan.toml"), devnet_url=devnet_url, devnet_dir=devnet_dir,
            devnet_port=devnet_port, auxiliary_port=auxiliary_port or settings.get(AUXILIARY_PORT_ENV))
        self.deployment = DeploymentController(self)
        self.start_with_status = start_with_status
        self._follow_target: str | None = None
        self._follow_timer: Any = None
        self._shown: set[str] = set()  # pages made so far (SCREENS makes each when first shown)

    def on_mount(self) -> None:
        if self.start_with_status:
            self._open_status(exit_on_close=True)
            return
        self.goto("welcome")
        if self.session.devnet_url:
            self.call_after_refresh(self._welcome_status, f"Local devnet running at {self.session.devnet_url}.")

    # -- pages -------------------------------------------------------------------------------------

    def page(self, name: str) -> Screen[Any] | None:
        """The page once it has been shown and composed (a page keeps its state while hidden)."""
        page = self.get_screen(name) if name in self._shown else None
        return page if page is not None and page.is_mounted else None

    def goto(self, name: str) -> None:
        self._shown.add(name)
        if self.get_screen(name) is self.screen:
            return
        if len(self.screen_stack) <= 1:
            self.push_screen(name)
        else:
            self.switch_screen(name)

    def on_page_requested(self, message: PageRequested) -> None:
        if not self.session.deploying and message.page in self.session.pages:
            self.goto(message.page)

    def refresh_page(self, name: str) -> None:
        screen = self.page(name)
        if screen is not None and screen.is_mounted and hasattr(screen, "refresh_view"):
            screen.refresh_view()

    def refresh_pages(self) -> None:
        for name in self.session.pages:
            self.refresh_page(name)

    def show_progress(self, name: str, message: DeploymentProgressed, row: Any) -> None:
        screen = self.page(name)
        if screen is not None and screen.is_mounted:
            screen.show_progress(message, row)  # type: ignore[attr-defined]

    def follow(self, page: str) -> None:
        """Show the page of the step that runs now; steps skipped on a resume pass in a blink, so the
        switch waits a moment and only the last page asked for is shown."""
        self._follow_target = page
        if self._follow_timer is None:
            self._follow_timer = self.set_timer(0.15, self._follow_now)

    def _follow_now(self) -> None:
        from mosaic_tui.screens.base import WizardScreen

        self._follow_timer = None
        if self._follow_target and isinstance(self._current_screen(), WizardScreen):
            self.goto(self._follow_target)

    def _current_screen(self) -> Any:
        """The screen on top, or None while the app starts or shuts down (a timer can fire then)."""
        return self.screen if self.screen_stack else None

    def refresh_indicators(self) -> None:
        from mosaic_tui.widgets.step_indicator import StepIndicator

        screen = self._current_screen()
        if screen is None:
            return
        for indicator in screen.query(StepIndicator):
            indicator.done = self.session.done_pages()

    def _welcome_status(self, text: str) -> None:
        welcome = self.page("welcome")
        if welcome is not None and welcome.is_mounted:
            welcome.show_status(text)  # type: ignore[attr-defined]

    # -- where to deploy ---------------------------------------------------------------------------

    def on_mode_chosen(self, message: ModeChosen) -> None:
        session = self.session
        if session.deploying:
            return
        if message.mode == "devnet":
            session.mode = "devnet"
            if session.devnet_url and session.devnet_chain_id is not None:
                self._enter_devnet()
            elif session.devnet_url:
                self._welcome_status(f"Local devnet running at {session.devnet_url}; connecting ...")
                self.check_devnet(session.devnet_url)
            else:
                self._welcome_status("Starting the local devnet ...")
                self.start_devnet()
        elif message.mode == "resume":
            self._resume()
        else:
            session.mode = "own"
            session.form = self._load_form(session.plan_path)
            self._welcome_status(f"Your own chains: the plan is read from and saved to {session.plan_path}.")
            self.goto("prerequisites")

    def _load_form(self, path: Path) -> WizardForm:
        form, warning = self.session.load_form(path)
        if warning:
            self.notify(escape(warning), severity="warning", timeout=10)
        return form

    def _resume(self) -> None:
        session = self.session
        summary = session.resumable()
        if summary is None:
            self._welcome_status("There is no unfinished deployment to resume.")
            return
        refusal = session.resume(summary)
        if refusal is not None:
            self._welcome_status(f"[b red]{escape(str(summary.plan_path))} cannot be resumed:[/] {escape(refusal)}")
        elif session.mode == "devnet" and session.devnet_url is None:
            self._welcome_status("Starting the local devnet ...")
            self.start_devnet()
        else:
            self.goto("review")

    @work(thread=True, exclusive=True, exit_on_error=False, group="devnet")
    def start_devnet(self) -> None:
        from mosaic_tui import devnet
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.validator.launch import validators_wanted

        try:
            # The validator nodes started after the deployment need chains that make blocks on their own.
            node = devnet.up(self.deployment.devnet_dir(), port=self.session.devnet_port,
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
        self.session.devnet_url = message.rpc_url
        self.session.devnet_chain_id = message.chain_id
        pid = f", PID {message.pid}" if message.pid else ""
        self._welcome_status(f"Local devnet running at {message.rpc_url} (chain id {message.chain_id}{pid}).")
        if self.session.mode == "devnet":
            self._enter_devnet()

    def on_devnet_failed(self, message: DevnetFailed) -> None:
        self.session.mode = None
        self._welcome_status(f"[b red]The devnet did not start:[/] {message.reason}")

    def _enter_devnet(self) -> None:
        """The devnet form: the plan kept from an earlier run on this devnet, or a fresh devnet plan."""
        session = self.session
        if not session.resuming:
            form = self._load_form(session.devnet_plan_path) if session.devnet_plan_path.is_file() else None
            session.form = session.devnet_form(form)
        self.goto("review" if session.resuming else "prerequisites")

    def on_rpc_checked(self, message: RpcChecked) -> None:
        self.session.connected[message.field] = message.check

    # -- the deployment: requests from the pages, results from the workers ---------------------------

    def on_preflight_requested(self, _: PreflightRequested) -> None:
        if not self.session.deploying and self.session.form is not None:
            self.deployment.start_preflight()

    def on_deployment_requested(self, _: DeploymentRequested) -> None:
        self.deployment.start_deployment()

    def on_pause_requested(self, _: PauseRequested) -> None:
        self.deployment.request_pause()

    def on_start_over_requested(self, _: StartOverRequested) -> None:
        """Keep the old journal aside and deploy these inputs afresh (new contracts)."""
        from mosaic_tui.wizard_state import archive_journal

        if self.session.deploying:
            return
        kept = archive_journal(self.session.active_plan_path)
        self.session.progress.steps.clear()
        if kept is not None:
            self.notify(f"The earlier journal is kept as {kept.name}; this plan deploys afresh.", timeout=8)
        self.deployment.start_preflight()

    def on_preflight_completed(self, message: PreflightCompleted) -> None:
        self.deployment.preflight_completed(message)

    def on_preflight_failed(self, message: PreflightFailed) -> None:
        self.deployment.preflight_failed(message)

    @on(DeploymentProgressed)
    def _deployment_progressed(self, message: DeploymentProgressed) -> None:
        self.deployment.progressed(message)

    def on_deployment_finished(self, _: DeploymentFinished) -> None:
        self.deployment.finished()

    def on_deployment_paused(self, message: DeploymentPaused) -> None:
        self.deployment.paused(message)

    def on_deployment_stopped(self, message: DeploymentStopped) -> None:
        self.deployment.stopped(message)

    def on_deployment_failed(self, message: DeploymentFailed) -> None:
        self.deployment.failed(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died of an unexpected error: say so instead of crashing the app."""
        from mosaic_tui.errors import report

        if event.state.name != "ERROR" or event.worker.error is None or self.deployment.worker_failed(event.worker):
            return
        said = report(event.worker.error)
        self.notify(escape(said.text()), title=said.title, severity="error", timeout=15)

    # -- quitting, panels, the command palette ----------------------------------------------------

    def action_quit_app(self) -> None:
        from mosaic_tui.screens.quit import StopDeploymentScreen

        if self.session.deploying:
            def decided(choice: str | None) -> None:
                if choice == "stop":
                    self.deployment.request_stop(then_quit=True)
                    self.notify("Stopping: the transactions in flight stay in the journal and are adopted when "
                                "you resume.", timeout=8)
            self.push_screen(StopDeploymentScreen(), decided)
            return
        self.ask_about_devnet()

    def ask_about_devnet(self) -> None:
        from mosaic_tui.screens.quit import QuitScreen

        if not self.session.devnet_url:
            self.exit()
            return

        def decided(choice: str | None) -> None:
            if choice == "keep":
                self.session.devnet_left_running = True
                self.exit()
            elif choice == "stop":
                from mosaic_tui import devnet

                devnet.down(self.deployment.devnet_dir())
                self.exit()

        self.push_screen(QuitScreen(), decided)

    async def action_quit(self) -> None:
        self.action_quit_app()

    def action_help(self) -> None:
        from mosaic_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_status(self) -> None:
        self._open_status(exit_on_close=False)

    def _open_status(self, exit_on_close: bool) -> None:
        from mosaic_tui.errors import MosaicError, report
        from mosaic_tui.plan import load_plan
        from mosaic_tui.screens.status import ValidatorStatusScreen

        if isinstance(self.screen, ValidatorStatusScreen):
            return
        session = self.session
        path = session.active_plan_path if session.mode else session.plan_path
        try:
            plan = session.form.to_plan() if session.form is not None else load_plan(path)
        except MosaicError as error:
            said = report(error)
            if exit_on_close:
                self.exit(message=said.cli_text())
            else:
                self.notify(escape(f"The status panel needs a valid plan first: {said.text()}"), severity="warning",
                            timeout=8)
            return
        self.push_screen(ValidatorStatusScreen(plan, path, exit_on_close=exit_on_close))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Validator status", "Stakes, balances and membership of every validator (F2)",
                            self.action_status)
        yield SystemCommand("Help", "Keys and what each step does (F1)", self.action_help)
        if self.session.deploying:
            yield SystemCommand("Pause the deployment", "Stop after the running step", self.deployment.request_pause)
        for name in self.session.pages:
            if name != getattr(self.screen, "PAGE", None) and self.session.may_visit(name):
                yield SystemCommand(f"Go to: {name.replace('-', ' ')}", "Open this page of the wizard",
                                    lambda n=name: self.goto(n))  # type: ignore[misc]
