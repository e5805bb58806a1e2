"""The validator status table: one row per validator, cells updated by key on every refresh.

Rows are never cleared and refilled (that would flicker and lose the cursor): a refresh updates the
cells of rows it already has, inside one batch update, as dolphie does.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from mosaic_tui.widgets.action_table import short_hex

COLUMNS = (("index", "#"), ("origin", "Origin"), ("auxiliary", "Auxiliary"), ("stake", "Weight"),
           ("ost", "OST"), ("eth", "ETH"), ("base", "Base"), ("polling", "Polling"), ("proposer", "Proposer"),
           ("vote", "Vote"), ("missed", "Miss"), ("runway", "Runway"))


def _amount(wei: int | None) -> Text:
    from mosaic_tui.monitor import short_amount

    return Text(short_amount(wei), justify="right")


def _flag(value: bool | None) -> Text:
    if value is None:
        return Text("-", style="dim")
    return Text("yes", style="green") if value else Text("no", style="red")


def status_cells(row: Any) -> list[Text | str]:
    stake = _amount(row.stake_weight)
    if row.stake_weight is not None and row.stake_weight != row.planned_stake:
        stake.stylize("yellow")
    return [Text(str(row.index + 1), justify="right"), short_hex(row.origin_address), short_hex(row.auxiliary_address),
            stake, _amount(row.ost_balance), _amount(row.eth_balance), _amount(row.base_coin_balance),
            _flag(row.in_polling_place), _flag(row.in_proposer_set), _count(row.last_vote),
            _count(row.votes_missed, warn_at=2), _count(row.runway)]


def _count(value: int | None, warn_at: int | None = None) -> Text:
    if value is None:
        return Text("-", style="dim", justify="right")
    style = "yellow" if warn_at is not None and value >= warn_at else ""
    return Text(f"{value:,}", style=style, justify="right")


class ValidatorStatusTable(DataTable[Text | str]):
    DEFAULT_CSS = "ValidatorStatusTable { height: 1fr; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            self.add_column(title, key=key)

    def show(self, snapshot: Any) -> None:
        """Update every row from a monitor.Snapshot: cells by key, new rows added, gone rows removed."""
        wanted = {str(row.index) for row in snapshot.rows}
        with self.app.batch_update():
            for gone in [k for k in self.rows if k.value not in wanted]:
                self.remove_row(gone)
            for row in snapshot.rows:
                key = str(row.index)
                values = status_cells(row)
                if key in self.rows:
                    for (column, _), value in zip(COLUMNS, values, strict=True):
                        self.update_cell(key, column, value, update_width=True)
                else:
                    self.add_row(*values, key=key)
