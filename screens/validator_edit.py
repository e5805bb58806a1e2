"""The validator dialogs: add or edit one validator, and import many from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.widgets.fields import FormRow, slug
from mosaic_tui.wizard_state import VALIDATOR_FIELDS, FieldContext, FormField, parse_field, validators_from_csv


class ValidatorEditScreen(ModalScreen[dict[str, str] | None]):
    """Dismisses with the validator's fields in the plan's text form, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save", priority=True)]

    def __init__(self, row: dict[str, str], number: int, *, devnet: bool, plan_dir: Path) -> None:
        super().__init__()
        self.row = dict(row)
        self.number = number
        self.context = FieldContext(devnet)
        self.plan_dir = plan_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="validator-dialog", classes="dialog"):
            yield Label(f"[b]Validator {self.number}[/b]")
            for spec in VALIDATOR_FIELDS:
                yield FormRow(spec.key, spec.label, self.row.get(spec.key, ""), self._checker(spec), hint=spec.hint,
                              key_button=spec.kind.name == "key")
            yield Static("", id="validator-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="validator-save", variant="primary")
                yield Button("Cancel", id="validator-cancel")

    def _checker(self, spec: FormField) -> Any:
        return lambda text: parse_field(spec, text, self.context)

    def _rows(self) -> dict[str, FormRow]:
        return {row.key: row for row in self.query(FormRow)}

    def on_form_row_changed(self, event: FormRow.Changed) -> None:
        self.query_one("#validator-save", Button).disabled = not all(row.valid for row in self._rows().values())

    def on_mount(self) -> None:
        self.on_form_row_changed(None)  # type: ignore[arg-type]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id or ""
        if button == "validator-save":
            self.action_save()
        elif button == "validator-cancel":
            self.action_cancel()
        elif button.startswith("key-"):
            self._enter_key(button.removeprefix("key-"))

    def _enter_key(self, key_slug: str) -> None:
        from mosaic_tui.screens.keys import KeyEntryScreen

        spec = next(s for s in VALIDATOR_FIELDS if slug(s.key) == key_slug)
        rows = self._rows()
        address_field = "origin_address" if spec.key == "origin_key" else "auxiliary_address"

        def chosen(result: Any) -> None:
            if result is None:
                return
            rows[spec.key].value = result.ref
            if result.address:
                rows[address_field].value = result.address

        side = "origin" if spec.key == "origin_key" else "auxiliary"
        self.app.push_screen(KeyEntryScreen(f"Validator {self.number}: {spec.label.lower()}",
                                            f"validator-{self.number}-{side}", devnet=self.context.devnet,
                                            plan_dir=self.plan_dir), chosen)

    def action_save(self) -> None:
        rows = self._rows()
        values: dict[str, str] = {}
        for spec in VALIDATOR_FIELDS:
            try:
                values[spec.key] = str(parse_field(spec, rows[spec.key].value, self.context))
            except InputError as error:
                self.query_one("#validator-error", Static).update(f"[red]{spec.label}: {error.message}[/]")
                rows[spec.key].input.focus()
                return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CsvImportScreen(ModalScreen[list[dict[str, str]] | None]):
    """Reads validators from a CSV file; every refused value is named by line and column."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, *, devnet: bool, base: Path) -> None:
        super().__init__()
        self.devnet = devnet
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical(id="csv-dialog", classes="dialog"):
            yield Label("[b]Import validators from CSV[/b]")
            yield Static("Header row naming the columns: origin_address, auxiliary_address, stake, and optionally "
                         "gateway_stake, origin_key, auxiliary_key (key references). Imported rows are added "
                         "after the existing ones.", classes="dialog-text")
            yield FormRow("csv", "CSV file", "", self._check_path, hint="a path, relative to the plan file or absolute")
            yield Static("", id="csv-errors")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import", id="csv-import", variant="primary")
                yield Button("Cancel", id="csv-cancel")

    def _check_path(self, text: str) -> None:
        if not text.strip():
            raise InputError("csv", "enter the path of a CSV file.")

    def _path(self, text: str) -> Path:
        path = Path(text.strip()).expanduser()
        return path if path.is_absolute() else self.base / path

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "csv-cancel":
            self.action_cancel()
            return
        row = self.query_one(FormRow)
        if not row.recheck(post=False):
            return
        errors = self.query_one("#csv-errors", Static)
        try:
            text = self._path(row.value).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            errors.update(f"[red]{self._path(row.value)} cannot be read ({type(error).__name__}).[/]")
            return
        try:
            rows = validators_from_csv(text, devnet=self.devnet)
        except InputErrors as problems:
            lines = [f"{p.field}: {p.message}" for p in problems.errors]
            more = f"\n… and {len(lines) - 6} more" if len(lines) > 6 else ""
            errors.update("[red]" + "\n".join(lines[:6]).replace("[", "\\[") + more + "[/]")
            return
        self.dismiss(rows)

    def action_cancel(self) -> None:
        self.dismiss(None)
