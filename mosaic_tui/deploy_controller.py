"""The deployment as the App runs it: the preflight, the one deployment worker, and what their results do.

A plain object the App owns (not a widget, not a mixin). Both jobs run in thread workers started on the
App (groups "preflight" and "deploy"), so a page that is switched away never cancels them; the engine's
events become messages in one place (`messages.EventBridge`) and are folded into `session.progress`,
which the step pages show. The App routes the resulting messages here; a failure opens the failure
dialog, and a worker that dies of an unexpected error says so instead of crashing the app.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.worker import Worker, WorkerState, get_current_worker

from mosaic_tui.messages import (
    DeploymentFailed,
    DeploymentFinished,
    DeploymentPaused,
    DeploymentProgressed,
    DeploymentStopped,
    EventBridge,
    PreflightCompleted,
    PreflightFailed,
    StepFinished,
    StepListed,
)

if TYPE_CHECKING:
    from mosaic_tui.app import MosaicApp


class DeploymentController:
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
