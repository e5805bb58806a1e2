"""Step 0, review: the preflight result and the cost of each step. Nothing is sent before Deploy here."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Static

from mosaic_tui.messages import DeploymentRequested, PreflightRequested, StartOverRequested
from mosaic_tui.screens.base import WizardScreen, shown_path


class ReviewScreen(WizardScreen):
    PAGE = "review"
    NEXT_LABEL = "Deploy ›"
    BINDINGS = [
        Binding("c", "check", "Check again"),
        Binding("n", "start_over", "Start over"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="review", classes="page-body"):
            yield Static("", id="review-intro")
            yield Static("", id="review-status")
            yield DataTable(id="review-costs", cursor_type="none", zebra_stripes=True, show_cursor=False)
            yield Static("", id="review-problems")
            with Horizontal(id="review-actions"):
                yield Button("Check again (c)", id="review-check", compact=True)
                yield Button("Start over (n)", id="review-start-over", compact=True, variant="warning")

    def on_mount(self) -> None:
        table = self.query_one("#review-costs", DataTable)
        table.add_column("Step", key="step")
        # Step, gas and cost take about 34 columns; the description gets the rest, even at 80 columns.
        table.add_column("What", key="what", width=max(20, min(56, self.app.size.width - 40)))
        table.add_column("Gas", key="gas")
        table.add_column("Cost", key="cost")

    def page_resumed(self) -> None:
        super().page_resumed()
        if not self.session.deploying:
            self.post_message(PreflightRequested())

    def _summary(self) -> str:
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.wizard_state import summarize_journal

        app = self.session
        form = app.form
        count = len(form.validators) if form else 0
        lines = [f"Plan [b]{shown_path(app.active_plan_path)}[/b] with {count} validator{'s' if count != 1 else ''}. "
                 "The preflight reads the origin chain; [b]nothing is sent before you press Deploy[/b]."]
        try:
            summary = summarize_journal(app.active_plan_path)
        except MosaicError as error:
            summary = None
            lines.append(f"[red]{error}[/]")
        if summary is not None and summary.started:
            lines.append(f"Its journal: {summary.sentence()}. Deploy resumes from there; nothing is signed twice.")
        return "\n".join(lines)

    def refresh_view(self) -> None:
        from mosaic_tui.units import format_amount

        app = self.session
        self.query_one("#review-intro", Static).update(self._summary())
        status = self.query_one("#review-status", Static)
        table = self.query_one("#review-costs", DataTable)
        problems = self.query_one("#review-problems", Static)
        report = app.preflight_report
        table.clear()
        table.display = report is not None
        if app.preflight_running:
            status.update("[yellow]Running the preflight …[/]")
        elif report is not None:
            status.update(f"[green]Preflight passed.[/] Origin chain {report.chain_id} at block {report.block}; "
                          f"fee estimate {format_amount(report.fee_per_gas, 'gwei')} per gas."
                          + "".join(f"\n[cyan]•[/] {escape(line)}" for line in getattr(report, "external", []))
                          + "".join(f"\n[yellow]•[/] plan changed since the deployment started, accepted: "
                                    f"{escape(line)}" for line in report.changes))
            for cost in report.costs:
                table.add_row(cost.step, cost.title, Text(f"{cost.gas:,}", justify="right"),
                              Text(format_amount(cost.wei, "ETH"), justify="right"))
            table.add_row("", Text("total", style="bold"), "",
                          Text(format_amount(report.total_wei, "ETH"), style="bold", justify="right"))
        elif app.preflight_problems:
            status.update(f"[b red]The preflight found {len(app.preflight_problems)} problem"
                          f"{'s' if len(app.preflight_problems) > 1 else ''}:[/]")
        else:
            status.update("")
        if app.preflight_problems:
            problems.update("\n".join(f"[red]•[/] [b]{escape(p.field)}[/b]: {escape(p.message)}" if p.field
                                      else f"[red]•[/] {escape(p.message)}" for p in app.preflight_problems))
        else:
            problems.update("")
        self.query_one("#review-start-over", Button).display = self._has_journal()
        super().refresh_view()

    def _has_journal(self) -> bool:
        from mosaic_tui.journal import journal_path

        return journal_path(self.session.active_plan_path).is_file()

    def can_go_next(self) -> bool:
        app = self.session
        return (not app.deploying and not app.preflight_running and app.preflight_report is not None
                and not app.preflight_problems)

    def nav_note(self) -> str:
        report = self.session.preflight_report
        if report is not None and self.can_go_next():
            from mosaic_tui.units import format_amount

            return f"about {format_amount(report.total_wei, 'ETH')} in fees"
        return ""

    def go_next(self) -> None:
        self.post_message(DeploymentRequested())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("check", "start_over") and (self.session.deploying or self.session.preflight_running):
            return None
        if action == "start_over" and not self._has_journal():
            return None
        return super().check_action(action, parameters)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "review-check":
            event.stop()
            self.action_check()
        elif event.button.id == "review-start-over":
            event.stop()
            self.action_start_over()
        else:
            super().on_button_pressed(event)

    def action_check(self) -> None:
        self.post_message(PreflightRequested())

    def action_start_over(self) -> None:
        """Keep the old journal aside and deploy these inputs afresh (new contracts)."""
        self.post_message(StartOverRequested())
