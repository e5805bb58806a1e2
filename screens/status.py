"""The validator status panel: the meta-blockchain (checkpoints reported, justified and finalised on both
chains and the finality lag, with a small plot of the lag over time; committed meta-block, open and active
kernel), then per validator its weight, balances, last vote, votes missed, runway and its membership in
PollingPlace and ProposerSet, and the warnings in colour; refreshed on a timer.

The next read is scheduled only when the last one has finished (a slow node never piles up reads), and
the table's rows are updated by key (see ValidatorStatusTable). Usable during and after a deployment,
and on its own with `mosaic-tui status PLAN --watch`.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from mosaic_tui.messages import SnapshotTaken
from mosaic_tui.screens.base import shown_path
from mosaic_tui.widgets.status_table import ValidatorStatusTable
from mosaic_tui.widgets.title_bar import TitleBar

REFRESH_SECONDS = 3.0
LAG_HISTORY = 120  # snapshots of finality lag kept for the plot


def warning_markup(text: str) -> str:
    """Stalls in red, everything else (silent validators, short runways) in yellow."""
    colour = "red" if "stalled" in text else "yellow"
    return f"[{colour}]! {escape(text)}[/]"


def chain_line(chain: Any) -> str:
    if not chain.url:
        return f"[b]{chain.name}[/b]  no RPC URL known yet"
    if not chain.reachable:
        return f"[b]{chain.name}[/b]  {escape(chain.url)}  [red]not answering[/]"
    return f"[b]{chain.name}[/b]  {escape(chain.url)}  chain id {chain.chain_id}  block {chain.block_number}"


class ValidatorStatusScreen(Screen[None]):
    DEFAULT_CSS = "#status-lag-plot { height: 2; max-width: 60; }"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("r", "refresh_now", "Refresh now"),
    ]

    def __init__(self, plan: Any, plan_path: Path, *, exit_on_close: bool = False,
                 interval: float = REFRESH_SECONDS) -> None:
        super().__init__()
        self.plan = plan
        self.plan_path = plan_path
        self.exit_on_close = exit_on_close
        self.interval = interval
        self.monitor: Any = None
        self.lag_history: deque[float] = deque(maxlen=LAG_HISTORY)
        self.reading = False
        self._timer: Any = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="status", classes="page-body"):
            yield Static(f"[b]Validator status[/b] of {escape(shown_path(self.plan_path))}", id="status-title")
            yield Static("[dim]reading both chains …[/]", id="status-origin")
            yield Static("", id="status-auxiliary")
            yield Static("", id="status-meta")
            yield Sparkline([], id="status-lag-plot")
            yield ValidatorStatusTable(id="status-table")
            yield Static("", id="status-warnings")
            yield Static("", id="status-note")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh_now()

    def action_refresh_now(self) -> None:
        if self.reading:
            return
        self.reading = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.read_snapshot()

    def _outputs(self) -> dict[str, Any]:
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.journal import Journal, journal_path

        path = journal_path(self.plan_path)
        try:
            return Journal.load(path).outputs() if path.is_file() else {}
        except MosaicError:
            return {}

    @work(thread=True, exclusive=True, exit_on_error=False, group="snapshot")
    def read_snapshot(self) -> None:
        from mosaic_tui import monitor

        outputs = self._outputs()
        if self.monitor is None:
            self.monitor = monitor.plan_monitor(self.plan, outputs)
        else:  # a deployment in progress adds addresses between reads
            self.monitor.addresses = monitor.monitor_addresses(self.plan, outputs)
        self.post_message(SnapshotTaken(self.monitor.snapshot()))

    def on_snapshot_taken(self, message: SnapshotTaken) -> None:
        self.show(message.snapshot)
        self.reading = False
        if self.is_attached:
            self._timer = self.set_timer(self.interval, self.action_refresh_now)

    def show(self, snapshot: Any) -> None:
        self.query_one("#status-origin", Static).update(
            chain_line(snapshot.origin) + (f"  kernel height {snapshot.kernel_height}"
                                           if snapshot.kernel_height is not None else ""))
        auxiliary = chain_line(snapshot.auxiliary)
        if snapshot.proposers is not None:
            auxiliary += f"  proposers {len(snapshot.proposers)}"
        self.query_one("#status-auxiliary", Static).update(auxiliary)
        self.show_meta(snapshot.meta)
        self.query_one(ValidatorStatusTable).show(snapshot)
        self.query_one("#status-warnings", Static).update("\n".join(warning_markup(w) for w in snapshot.warnings))
        note = [f"[dim]stake, OST and base coin in whole units; read in {snapshot.seconds * 1000:.0f} ms with "
                f"{snapshot.http_requests} requests; refreshed every {self.interval:g} s after the last read[/]"]
        note += [f"[red]{escape(error)}[/]" for error in snapshot.errors[:3]]
        self.query_one("#status-note", Static).update("\n".join(note))

    def show_meta(self, meta: Any) -> None:
        from mosaic_tui.monitor import finality_line

        plot = self.query_one("#status-lag-plot", Sparkline)
        if meta is None:
            self.query_one("#status-meta", Static).update("")
            plot.display = False
            return
        committed = "none yet" if meta.committed_height is None else str(meta.committed_height)
        active = "none" if meta.active_kernel is None else str(meta.active_kernel)
        lines = [f"meta-blocks: committed height [b]{committed}[/b], open kernel {meta.open_kernel} on origin, "
                 f"active kernel {active} on auxiliary",
                 escape(finality_line(meta.auxiliary)), escape(finality_line(meta.origin))]
        lag = meta.auxiliary.lag_seconds if meta.auxiliary.lag_seconds is not None else meta.auxiliary.lag_blocks
        if lag is not None:
            self.lag_history.append(float(lag))
            lines.append(f"[dim]auxiliary finality lag over the last {len(self.lag_history)} reads "
                         f"(max {max(self.lag_history):.0f}):[/]")
        self.query_one("#status-meta", Static).update("\n".join(lines))
        plot.display = bool(self.lag_history)
        plot.data = list(self.lag_history)

    def on_unmount(self) -> None:
        if self.monitor is not None:
            self.monitor.close()

    def action_close(self) -> None:
        if self.exit_on_close:
            self.app.exit()
        else:
            self.dismiss()
