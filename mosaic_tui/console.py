"""Headless progress: one line per transaction and a progress bar per step (rich, on a terminal).

The CLI's face on the runner's events; the TUI has its own in the app's event adapter.
"""

from __future__ import annotations

import sys
from typing import Any

from mosaic_tui import events as ev
from mosaic_tui.preflight import PreflightReport
from mosaic_tui.units import format_amount


class ConsolePrinter:
    def __init__(self, stream: Any = None) -> None:
        from rich.console import Console

        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self._progress: Any = None
        self._task: Any = None
        self.sent = 0
        self.labels: dict[str, str] = {}

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.StepStarted):
            self.console.print(f"[bold]Step {event.step} — {event.title}[/bold] ({event.actions} actions)")
            self._start_bar(event.actions)
        elif isinstance(event, ev.ActionSkipped):
            self._line(f"  skip  {event.label}: {event.reason}")
            self._advance()
        elif isinstance(event, ev.TxSigned):
            self.labels[event.action] = event.label
            self.sent += 1
        elif isinstance(event, ev.TxSent) and event.replaced:
            self._line(f"  replace {event.action} {event.tx_hash} (same nonce, fees raised; replaced ({event.replaced}))")
        elif isinstance(event, ev.TxSent) and event.rebroadcast:
            self._line(f"  resend {event.action} {event.tx_hash} (same signed bytes as before)")
        elif isinstance(event, ev.TxConfirmed):
            self._line(f"  ok    {event.label}  {event.tx_hash}  block {event.block}  gas {event.gas_used:,}")
            self._advance()
        elif isinstance(event, ev.TxFailed):
            self._line(f"  FAIL  {event.label}  {event.tx_hash or '(not sent)'}: {event.reason}")
        elif isinstance(event, ev.ActionDone):
            self._line(f"  done  {event.label}: {event.detail}")
            self._advance()
        elif isinstance(event, ev.Waiting):
            self._line(f"  wait  {event.reason}")
        elif isinstance(event, ev.ValidatorsAwaited):
            for line in validator_rows(event):
                self._line(line)
        elif isinstance(event, ev.StepDone):
            self._stop_bar()

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(text, markup=False, highlight=False)

    def _start_bar(self, total: int) -> None:
        if not self.console.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(TextColumn("  "), BarColumn(), MofNCompleteColumn(), console=self.console,
                                  transient=True)
        self._progress.start()
        self._task = self._progress.add_task("step", total=total)

    def _advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def _stop_bar(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


STATE_TEXT = {"waiting": "waiting", "approved": "approved", "staked": "staked"}


def validator_rows(event: ev.ValidatorsAwaited) -> list[str]:
    """The validators as step 2 sees them on chain, one line each (the wizard shows the same rows)."""
    lines = ["  validators" + (f" (deadline {event.deadline})" if event.deadline else "") + ":"]
    for row in event.validators:
        who = "signs for itself" if row.external else "coordinator signs"
        line = f"    {row.number:>3}  {row.origin_address}  {STATE_TEXT.get(row.state, row.state):<8}  {who}"
        if row.note:
            line += f"  ({row.note})"
        if row.external and row.state != "staked":
            line += f"\n         send them: {row.command}"
        lines.append(line)
    return lines


def print_preflight(report: PreflightReport, stream: Any = None) -> None:
    out = stream or sys.stdout
    for change in report.changes:
        print(f"plan changed since the deployment started, accepted: {change}", file=out)
    source = f" ({report.fee_source})" if report.fee_source else ""
    print(f"origin chain {report.chain_id} at block {report.block}; priced at "
          f"{format_amount(report.fee_per_gas, 'gwei')} per gas{source}", file=out)
    print(f"{'step':<5} {'what':<52} {'gas':>12} {'cost':>22}", file=out)
    for cost in report.costs:
        print(f"{cost.step:<5} {cost.title:<52} {cost.gas:>12,} {format_amount(cost.wei, 'ETH'):>22}", file=out)
    print(f"{'':<5} {'total':<52} {'':>12} {format_amount(report.total_wei, 'ETH'):>22}", file=out)
    for line in getattr(report, "external", []):
        print(line, file=out)
