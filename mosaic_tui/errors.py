"""The errors the program reports to a person: a title and a list of problems, each one plain sentence.

Every operator-facing error is a `MosaicError`. `report(error)` is the one place an error becomes what
the operator reads: the CLI prints its `cli_text()` and exits with its exit code (2 bad input, 1 a step
failed, or what a tool or devnet error carries), the TUI shows its title and problems; any other
exception becomes an "Unexpected error" report instead of a traceback. Every sentence passes through
the one redaction (redact.py) on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from mosaic_tui.redact import redact


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the field it is about (None when it is about the run as a whole) and why."""

    field: str | None
    message: str

    def line(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class MosaicError(Exception):
    """Base of every error meant for the operator's eyes; `exit_code` is what the CLI returns."""

    exit_code = 1
    title = "mosaic-tui could not go on"

    def __str__(self) -> str:  # every error sentence passes through the one redaction (redact.py)
        return redact(super().__str__())

    @property
    def problems(self) -> list[Problem]:
        return [Problem(None, str(self))]


class InputError(MosaicError):
    """One bad input: names the field and says what is wrong with it."""

    exit_code = 2
    title = "The input needs fixing"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = redact(message)
        super().__init__(f"{field}: {self.message}")

    @property
    def problems(self) -> list[Problem]:
        return [Problem(self.field, self.message)]


class PassphraseRejected(InputError):
    """A keystore passphrase that was wrong or not given: the wizard forgets what it was told and asks again."""

    title = "The passphrase was refused"


class InputErrors(MosaicError):
    """Several bad inputs reported at once, so the operator can fix them all in one go."""

    exit_code = 2
    title = "The input needs fixing"

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))

    @property
    def problems(self) -> list[Problem]:
        return [problem for error in self.errors for problem in error.problems]


class StepFailed(MosaicError):
    """A deployment step stopped: which step, which action, and why."""

    exit_code = 1

    def __init__(self, step: str, action: str, reason: str) -> None:
        self.step = step
        self.action = action
        self.reason = redact(reason)
        super().__init__(f"step {step}, action {action}: {self.reason}")

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"Step {self.step} failed"


class ToolchainError(MosaicError):
    """A tool the program needs (node, npm, anvil, solc) is missing or could not be installed."""

    exit_code = 1
    title = "A tool is missing"


class DevnetError(MosaicError):
    """The local devnet could not be started, found or stopped."""

    title = "The local devnet"

    def __init__(self, message: str, exit_code: int = 1) -> None:
        self.exit_code = exit_code
        super().__init__(message)


class JournalError(MosaicError):
    """The journal cannot be trusted or would be contradicted: damaged, in use, or for another plan.

    Exit code 2: the operator has to look at a file before anything else may happen.
    """

    exit_code = 2
    title = "The journal cannot be used"

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = redact(message)
        super().__init__(f"{path}: {self.message}")

    @property
    def problems(self) -> list[Problem]:
        return [Problem(self.path, self.message)]


@dataclass(frozen=True)
class Report:
    """What the operator reads about an error, in the CLI and in the TUI alike."""

    title: str
    problems: tuple[Problem, ...]
    exit_code: int

    def cli_text(self) -> str:
        return "error: " + "\n".join(problem.line() for problem in self.problems)

    def text(self) -> str:
        return "\n".join(problem.line() for problem in self.problems)


def report(error: BaseException) -> Report:
    """Any error as the operator reads it; an error that is not a MosaicError is a bug and says so."""
    if isinstance(error, MosaicError):
        problems = tuple(Problem(p.field, redact(p.message)) for p in error.problems)
        return Report(error.title, problems, error.exit_code)
    return Report("Unexpected error", (Problem(None, redact(f"{type(error).__name__}: {error}")),), 1)
