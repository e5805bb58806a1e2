"""The live table of a step's actions: one row per action, updated in place by key as events arrive."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from mosaic_tui.widgets.progress_model import ActionRow, StepProgress

STATUS_STYLE = {"pending": "dim", "signed": "yellow", "sent": "yellow", "confirmed": "green", "done": "green",
                "skipped": "cyan", "failed": "bold red", "replaced": "yellow"}
COLUMNS = (("action", "Action"), ("sender", "Sender"), ("hash", "Transaction"), ("status", "Status"),
           ("gas", "Gas used"), ("block", "Block"))
FIXED_WIDTH = 11 + 11 + 9 + 9 + 5 + 6 * 2  # every column but the label, with cell padding


def short_hex(value: str | None) -> str:
    """0x1234…abcd: enough to recognise a hash or address; the detail line shows it whole."""
    if not value:
        return "-"
    if not value.startswith("0x") or len(value) <= 14:
        return value
    return f"{value[:6]}…{value[-4:]}"


def cells(row: ActionRow, label_width: int) -> list[Text | str]:
    label = row.label if len(row.label) <= label_width else row.label[: label_width - 1] + "…"
    return [label, short_hex(row.sender) if row.sender.startswith("0x") else row.sender, short_hex(row.tx_hash),
            Text(row.status, style=STATUS_STYLE.get(row.status.split(" ")[0], "")),
            Text(f"{row.gas_used:,}" if row.gas_used is not None else "-", justify="right"),
            Text(str(row.block) if row.block is not None else "-", justify="right")]


class ActionTable(DataTable[Text | str]):
    """Rows keyed by action id; `show_row` updates one row's cells without rebuilding the table."""

    DEFAULT_CSS = "ActionTable { height: 1fr; }"

    def __init__(self, label_width: int = 40, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.label_width = label_width

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            self.add_column(title, key=key, width=self.label_width if key == "action" else None)

    def show_step(self, progress: StepProgress) -> None:
        """List every action of the step (replaces whatever was listed before)."""
        with self.app.batch_update():
            self.clear()
            for row in progress.rows.values():
                self.add_row(*cells(row, self.label_width), key=row.action)

    def show_row(self, row: ActionRow) -> None:
        if row.action not in self.rows:
            self.add_row(*cells(row, self.label_width), key=row.action)
            return
        with self.app.batch_update():
            for (key, _), value in zip(COLUMNS, cells(row, self.label_width), strict=True):
                self.update_cell(row.action, key, value, update_width=True)
