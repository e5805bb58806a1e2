"""Form fields that check what is typed with the engine's one parser and say what is wrong under the field.

A `FormRow` is a label, an input and a note line. The note shows the hint, or the parser's sentence
in red while the text is refused; the screen keeps Next disabled while any row is invalid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from mosaic_tui.errors import InputError

Check = Callable[[str], object]


def slug(key: str) -> str:
    """A widget id from a plan key ("origin.rpc" -> "origin-rpc")."""
    return key.replace(".", "-").replace("_", "-")


class ParsedValidator(Validator):
    """Valid when `check` parses the text; its InputError's sentence is the failure description."""

    def __init__(self, check: Check) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(value)
        except InputError as error:
            return self.failure(error.message)
        return self.success()


class FormRow(Widget):
    """Label, input (masked when `password`), an optional "Key…" button and the note line below."""

    DEFAULT_CSS = """
    FormRow { height: auto; }
    FormRow > Horizontal { height: 1; }
    FormRow .form-label { width: 26; color: $text-muted; }
    FormRow Input { width: 1fr; }
    FormRow Button { min-width: 8; width: 8; margin-left: 1; }
    FormRow .form-note { padding-left: 26; color: $text-muted; height: auto; }
    FormRow.-invalid .form-note { color: $error; }
    FormRow.-extra-error .form-note { color: $error; }
    """

    @dataclass
    class Changed(Message):
        row: FormRow
        key: str
        value: str
        valid: bool

        @property
        def control(self) -> FormRow:
            return self.row

    def __init__(self, key: str, label: str, value: str, check: Check, *, hint: str = "", password: bool = False,
                 key_button: bool = False, placeholder: str = "", disabled: bool = False) -> None:
        super().__init__(id=f"row-{slug(key)}", disabled=disabled)
        self.key = key
        self.label = label
        self.hint = hint
        self._initial = value
        self._check = check
        self._password = password
        self._key_button = key_button
        self._placeholder = placeholder
        self._extra_error: str | None = None
        self._note = hint
        # An empty field nobody has typed into yet is refused quietly (hint, not a red error) until the
        # operator types into it or tries to go on.
        self._touched = bool(value.strip())
        self.valid = True

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.label, classes="form-label")
            yield Input(self._initial, placeholder=self._placeholder, password=self._password, compact=True,
                        validators=[ParsedValidator(self._check)], validate_on=["changed"], valid_empty=True,
                        id=f"input-{slug(self.key)}")
            if self._key_button:
                yield Button("Key…", id=f"key-{slug(self.key)}", classes="key-button", compact=True)
        yield Static(self.hint, classes="form-note", markup=False)

    def on_mount(self) -> None:
        self.recheck(post=False, reveal=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text  # Input.Changed follows and re-validates

    def recheck(self, post: bool = True, reveal: bool = True) -> bool:
        """Validate again (the check may depend on other fields, e.g. the connected chain id)."""
        self._touched = self._touched or reveal
        self.input.validate(self.input.value)  # the input's own red / normal look
        self._show()
        if post:
            self.post_message(self.Changed(self, self.key, self.value, self.valid))
        return self.valid

    def set_extra_error(self, message: str | None) -> None:
        """A problem found across fields (a duplicate address, a stake below the minimum weight)."""
        self._extra_error = message
        self._show()

    def problem(self) -> str | None:
        """Why the text is refused (empty text too: the input shows it plain, the row still counts it)."""
        try:
            self._check(self.value)
        except InputError as error:
            return error.message
        return None

    def _show(self) -> None:
        problem = self.problem()
        self.valid = problem is None
        if problem is not None and not self._touched and not self.value.strip():
            problem = None  # quiet: still invalid, shown as the hint
        for name, wanted in (("-invalid", problem is not None),
                             ("-extra-error", self.valid and self._extra_error is not None)):
            if self.has_class(name) != wanted:
                self.set_class(wanted, name)
        note = problem or self._extra_error or self.hint
        if note != self._note:  # an update re-lays out the page: only when the text changes, not per keystroke
            self._note = note
            self.query_one(".form-note", Static).update(note)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._touched = self._touched or bool(event.value.strip())
        self._extra_error = None
        self._show()
        self.post_message(self.Changed(self, self.key, event.value, self.valid))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()
