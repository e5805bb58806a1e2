"""Step 0, the validators: a table to add, edit and remove them or import a CSV file, with a live check of
what each origin address holds (ETH, OST, approvals) against what the deployment will take from it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from mosaic_tui.messages import FundsChecked
from mosaic_tui.screens.base import WizardScreen
from mosaic_tui.widgets.action_table import short_hex

# Fits 80 columns; the gateway stake, keys and approvals of the highlighted row are in the line below.
COLUMNS = (("index", "#"), ("origin", "Origin address"), ("auxiliary", "Auxiliary address"), ("stake", "Stake"),
           ("eth", "ETH"), ("ost", "OST"), ("check", "Check"))
REFRESH_SECONDS = 5.0


def _amount(wei: int | None) -> Text:
    from mosaic_tui.monitor import short_amount

    return Text(short_amount(wei), justify="right")


class ValidatorsScreen(WizardScreen):
    PAGE = "validators"
    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "remove", "Remove"),
        Binding("i", "import_csv", "Import CSV"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.funds: dict[int, Any] = {}
        self.funds_error: str | None = None
        self._timer: Any = None
        self._problem_cache: dict[int, list[str]] | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="validators", classes="page-body"):
            yield Static("Each validator stakes OST on origin from its origin address and votes from its auxiliary "
                         "address. [b]a[/b] add, [b]e[/b] edit, [b]x[/b] remove, [b]i[/b] import a CSV file.",
                         id="validators-intro")
            yield DataTable(id="validators-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="validators-detail")
            yield Static("", id="validators-funds")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, title in COLUMNS:
            table.add_column(title, key=key)

    def refresh_view(self) -> None:
        self._problem_cache = None
        self._fill_table()
        super().refresh_view()
        self.check_funds()

    # -- the table ------------------------------------------------------------------------------

    @property
    def rows(self) -> list[dict[str, str]]:
        form = self.session.form
        assert form is not None
        return form.validators

    def _problems(self) -> dict[int, list[str]]:
        if self._problem_cache is None:
            self._problem_cache = self._find_problems()
        return self._problem_cache

    def _find_problems(self) -> dict[int, list[str]]:
        """Per row, what is wrong with it: its own fields, then what clashes across the plan."""
        form = self.session.form
        assert form is not None
        found: dict[int, list[str]] = {}
        for index in range(len(self.rows)):
            for key, message in form.validator_errors(index).items():
                found.setdefault(index, []).append(f"{key}: {message}")
        for problem in form.problems():
            if problem.field.startswith("validators["):
                index = int(problem.field.split("[")[1].split("]")[0])
                text = f"{problem.field.split('.', 1)[-1]}: {problem.message}"
                if text not in found.get(index, []):
                    found.setdefault(index, []).append(text)
        return found

    def _cells(self, index: int, row: dict[str, str], problems: list[str]) -> list[Any]:
        funds = self.funds.get(index)
        if problems:
            check = Text("invalid", style="bold red")
        elif funds is None:
            check = Text("…" if self.funds_error is None else "unknown", style="dim")
        else:
            verdict = funds.verdict
            check = Text(verdict.split(":")[0], style="green" if verdict.startswith("ok") else "red")
        return [Text(str(index + 1), justify="right"), short_hex(row.get("origin_address", "")) or "-",
                short_hex(row.get("auxiliary_address", "")) or "-", row.get("stake", ""),
                _amount(funds.eth if funds else None), _amount(funds.ost if funds else None), check]

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        problems = self._problems()
        wanted = [str(i) for i in range(len(self.rows))]
        with self.app.batch_update():
            for key in [k for k in table.rows if k.value not in wanted]:
                table.remove_row(key)
            for index, row in enumerate(self.rows):
                values = self._cells(index, row, problems.get(index, []))
                if str(index) in table.rows:
                    for (column, _), value in zip(COLUMNS, values, strict=True):
                        table.update_cell(str(index), column, value, update_width=True)
                else:
                    table.add_row(*values, key=str(index))
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one(DataTable)
        detail = self.query_one("#validators-detail", Static)
        if not self.rows:
            detail.update("[b red]No validators yet:[/] press [b]a[/b] to add one or [b]i[/b] to import a CSV file.")
            return
        index = min(max(table.cursor_row, 0), len(self.rows) - 1)
        row = self.rows[index]
        lines = [f"[b]Validator {index + 1}[/b]  origin {row.get('origin_address') or '-'}  "
                 f"auxiliary {row.get('auxiliary_address') or '-'}",
                 f"stake {row.get('stake') or '-'}, gateway stake {row.get('gateway_stake') or '-'}; keys: origin "
                 f"{row.get('origin_key') or '[red]not set[/]'}, auxiliary {row.get('auxiliary_key') or '[red]not set[/]'}"]
        problems = self._problems().get(index, [])
        if problems:
            lines += [f"[red]{text}[/]" for text in problems[:3]]
        elif index in self.funds:
            funds = self.funds[index]
            approved = ""
            if funds.stake_allowance is not None:
                approved = (f"; approved to Stake {_amount(funds.stake_allowance)}, to OSTGateway "
                            f"{_amount(funds.gateway_allowance)}")
            lines.append(f"check: {funds.verdict}{approved}")
        detail.update("\n".join(lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    # -- editing --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "edit", "remove", "import_csv") and self.session.deploying:
            return None
        if action in ("edit", "remove") and not self.rows:
            return None
        return super().check_action(action, parameters)

    def _edit(self, index: int | None) -> None:
        from mosaic_tui.screens.validator_edit import ValidatorEditScreen
        from mosaic_tui.wizard_state import default_validator

        form = self.session.form
        assert form is not None
        row = self.rows[index] if index is not None else default_validator(form.devnet, self.rows)
        number = (index if index is not None else len(self.rows)) + 1

        def saved(values: dict[str, str] | None) -> None:
            if values is None:
                return
            if index is None:
                self.rows.append(values)
            else:
                self.rows[index] = values
            self.refresh_view()
            self.query_one(DataTable).move_cursor(row=number - 1)

        self.app.push_screen(ValidatorEditScreen(row, number, devnet=form.devnet,
                                                 plan_dir=self.session.active_plan_path.parent), saved)

    def action_add(self) -> None:
        self._edit(None)

    def action_edit(self) -> None:
        if self.rows:
            self._edit(min(self.query_one(DataTable).cursor_row, len(self.rows) - 1))

    def action_remove(self) -> None:
        if not self.rows:
            return
        index = min(self.query_one(DataTable).cursor_row, len(self.rows) - 1)
        del self.rows[index]
        self.funds.clear()  # row numbers moved; the next check fills them again
        self.refresh_view()

    def action_import_csv(self) -> None:
        from mosaic_tui.screens.validator_edit import CsvImportScreen

        form = self.session.form
        assert form is not None

        def imported(rows: list[dict[str, str]] | None) -> None:
            if rows:
                self.rows.extend(rows)
                self.notify(f"Imported {len(rows)} validators.")
                self.refresh_view()

        self.app.push_screen(CsvImportScreen(devnet=form.devnet, base=self.session.active_plan_path.parent), imported)

    # -- the live check -------------------------------------------------------------------------

    def _check_targets(self) -> tuple[str, list[tuple[int, str, int, int]], dict[str, Any]] | None:
        from mosaic_tui import units
        from mosaic_tui.errors import InputError

        form = self.session.form
        assert form is not None
        try:
            url = units.parse_url(form.values.get("origin.rpc", ""), "origin.rpc")
        except InputError:
            return None
        outputs = self._outputs()
        ost_text = form.values.get("origin.ost", "").strip()
        ost = outputs.get("ost") if ost_text == "deploy" else ost_text
        targets = []
        for index, row in enumerate(self.rows):
            try:
                targets.append((index, units.parse_address(row.get("origin_address", ""), "address"),
                                units.parse_amount(row.get("stake", ""), "stake", "OST"),
                                units.parse_amount(row.get("gateway_stake", ""), "gateway", "OST")))
            except InputError:
                continue
        return url, targets, {"ost": ost or None, "stake": outputs.get("stake"), "gateway": outputs.get("ost_gateway"),
                              "devnet": form.devnet}

    def _outputs(self) -> dict[str, Any]:
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.journal import Journal, journal_path

        path = journal_path(self.session.active_plan_path)
        try:
            return Journal.load(path).outputs() if path.is_file() else {}
        except MosaicError:
            return {}

    def check_funds(self) -> None:
        targets = self._check_targets()
        if targets is None or not targets[1]:
            return
        self.read_funds(*targets)

    @work(thread=True, exclusive=True, exit_on_error=False, group="funds")
    def read_funds(self, url: str, targets: list[tuple[int, str, int, int]], options: dict[str, Any]) -> None:
        from mosaic_tui.wizard_run import check_funds

        self.post_message(FundsChecked(check_funds(url, targets, **options)))

    def on_funds_checked(self, message: FundsChecked) -> None:
        check = message.check
        self.funds = {row.index: row for row in check.rows}
        self.funds_error = check.error
        note = self.query_one("#validators-funds", Static)
        if check.error:
            note.update(f"[red]balances unknown:[/] {check.error}")
        else:
            note.update(f"[dim]balances read at origin block {check.block}; refreshed every "
                        f"{REFRESH_SECONDS:.0f} s[/]")
        self._fill_table()
        # The next read starts only after this one finished, and only while the page is shown.
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(REFRESH_SECONDS, lambda: self.check_funds() if self.is_current else None)

    # -- next -----------------------------------------------------------------------------------

    def can_go_next(self) -> bool:
        return super().can_go_next() and bool(self.rows) and not self._problems()

    def nav_note(self) -> str:
        problems = self._problems()
        if not self.rows:
            return "[red]add at least one validator[/]"
        if problems:
            numbers = ", ".join(str(i + 1) for i in sorted(problems))
            return f"[red]fix validator{'s' if len(problems) > 1 else ''} {numbers}[/]"
        return f"{len(self.rows)} validator{'s' if len(self.rows) > 1 else ''}"
