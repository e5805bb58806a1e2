"""The deployment as the App runs it: the preflight, the one deployment worker, and what its events do.

The deployment runs in one thread worker owned by the App (group "deploy"); the engine's events become
messages in one place (`messages.EventBridge`) and are folded into `progress`, which the step pages
show. A failure opens the failure dialog; a worker that dies of an unexpected error says so instead of
crashing the app.

The App (`mosaic_tui/app.py`) is built on this mixin; it lives with the other Textual code in `screens`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import on, work
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
from screens.app_pages import WizardPages


class DeploymentRunner(WizardPages):
    devnet_dir: Path | None
    prepared: Any
    preflight_report: Any
    preflight_problems: list[Any] | None
    preflight_running: bool
    failure: DeploymentFailed | None
    _pause: bool
    _stop: bool
    _quit_when_stopped: bool
    _passphrases: dict[str, str]

    def _ask_about_devnet(self) -> None:
        raise NotImplementedError  # MosaicApp: the quit question

    def action_quit_app(self) -> None:
        raise NotImplementedError  # MosaicApp: stop the deployment, then the quit question

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
            answer: str | None = self.call_from_thread(self._prompt_passphrase, ref)  # type: ignore[arg-type]
            if not answer:
                raise InputError("passphrase", f"no passphrase was given for {ref}.")
            self._passphrases[key] = answer
        return self._passphrases[key]

    async def _prompt_passphrase(self, ref: Any) -> str | None:
        from screens.keys import PassphraseScreen

        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def given(value: str | None) -> None:
            if not answer.done():
                answer.set_result(value)

        self.push_screen(PassphraseScreen(str(ref)), given)
        return await answer

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
        if isinstance(message, StepListed) and message.step != "5":
            self._follow(page)
        screen = self.page(page)
        if screen is not None and screen.is_mounted:
            screen.show_progress(message, row)  # type: ignore[attr-defined]
        if isinstance(message, StepFinished):
            self._refresh_indicators()

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
        self._follow("export")

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
