"""What the wizard knows while it runs: where the plan lives, the form, the preflight and the deployment's state.

The App owns one `WizardSession` and hands it down: pages read it ("attributes down") and post request
messages when they want something changed ("messages up"; `messages.py`). Keeping it plain Python (no
Textual) lets the pages, the App and its deployment controller share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mosaic_tui.widgets.progress_model import DeploymentProgress

if TYPE_CHECKING:
    from mosaic_tui.errors import Problem
    from mosaic_tui.wizard_state import JournalSummary, WizardForm

OWN_PAGES = ("welcome", "prerequisites", "validators", "review", "step-1", "step-2", "step-3", "step-4", "export")
DEVNET_PAGES = ("welcome", "prerequisites", "validators", "review", "step-0", "step-1", "step-2", "step-3", "step-4",
                "export")
DEVNET_VALIDATORS = 3


@dataclass
class WizardSession:
    plan_path: Path
    devnet_url: str | None = None
    devnet_dir: Path | None = None
    devnet_port: int = 8545
    auxiliary_port: int = 8546
    devnet_chain_id: int | None = None
    devnet_left_running: bool = False
    mode: str | None = None  # "devnet" | "own", once chosen
    resuming: bool = False
    form: WizardForm | None = None
    connected: dict[str, Any] = field(default_factory=dict)  # URL field -> wizard_run.RpcCheck
    prepared: Any = None  # deploy.Prepared of the last good preflight, used once by the deployment
    preflight_report: Any = None  # preflight.PreflightReport
    preflight_problems: list[Problem] | None = None
    preflight_running: bool = False
    progress: DeploymentProgress = field(default_factory=DeploymentProgress)
    deploying: bool = False
    finished: bool = False
    failure: Any = None  # the messages.DeploymentFailed that opened the failure dialog

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

    def may_visit(self, name: str) -> bool:
        """Whether the command palette offers the page: step pages once their step ran, export once done."""
        if self.deploying or self.mode is None:
            return False
        if name.startswith("step-") or name == "export":
            return name == "export" and self.finished or name.split("-")[-1] in self.progress.steps
        return self.form is not None

    def resumable(self) -> JournalSummary | None:
        """The unfinished deployment a restart can pick up, if a journal shows one."""
        from mosaic_tui.plan_files import journal_path

        paths = [path for path in (self.plan_path, self.devnet_plan_path) if journal_path(path).is_file()]
        if not paths:
            return None  # the usual first start: no journal, and no plan model to import for the first paint
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.wizard_state import summarize_journal

        for path in paths:
            try:
                summary = summarize_journal(path)
            except MosaicError:
                continue
            if summary is not None and summary.started and not summary.finished and path.is_file():
                return summary
        return None

    def load_form(self, path: Path) -> tuple[WizardForm, str | None]:
        """The previous answers of an existing plan file; a fresh form (and why) when there is none or it is
        unreadable."""
        from mosaic_tui.errors import MosaicError, report
        from mosaic_tui.plan import load_plan
        from mosaic_tui.wizard_state import WizardForm, empty_form

        if path.is_file():
            try:
                return WizardForm.from_plan(load_plan(path)), None
            except MosaicError as error:
                return empty_form(), f"{path} could not be loaded, so the form starts empty: {report(error).text()}"
        return empty_form(), None

    def resume(self, summary: JournalSummary) -> str | None:
        """Take up the unfinished deployment: its plan becomes the form; None, or why it cannot be resumed."""
        from urllib.parse import urlsplit

        from mosaic_tui.errors import MosaicError, report
        from mosaic_tui.plan import load_plan
        from mosaic_tui.wizard_state import WizardForm

        try:
            plan = load_plan(summary.plan_path)
        except MosaicError as error:
            return report(error).text()
        self.form, self.resuming = WizardForm.from_plan(plan), True
        self.mode = "devnet" if summary.plan_path == self.devnet_plan_path else "own"
        if self.mode == "devnet" and self.devnet_url is None:
            self.devnet_port = urlsplit(plan.origin.rpc).port or self.devnet_port
        return None

    def devnet_form(self, kept: WizardForm | None) -> WizardForm:
        """The form kept from an earlier run on this devnet, else a fresh devnet plan's."""
        from mosaic_tui.deploy import devnet_plan_dict
        from mosaic_tui.wizard_state import WizardForm

        assert self.devnet_url is not None and self.devnet_chain_id is not None
        if kept is not None and kept.devnet and kept.values.get("origin.rpc") == self.devnet_url:
            return kept
        return WizardForm.from_plan_dict(devnet_plan_dict(
            DEVNET_VALIDATORS, origin_url=self.devnet_url, origin_chain_id=self.devnet_chain_id,
            auxiliary_url=f"http://127.0.0.1:{self.auxiliary_port}"))

    def start_run(self) -> None:
        self.deploying, self.finished, self.failure = True, False, None
