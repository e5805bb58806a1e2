"""The errors the program reports to a person, each one plain sentence.

The CLI turns InputError/InputErrors into exit code 2, StepFailed into exit code 1 and
ToolchainError/DevnetError into the exit code they carry, never a traceback.
"""

from __future__ import annotations

from mosaic_tui.redact import redact


class MosaicError(Exception):
    """Base of every error meant for the operator's eyes; `exit_code` is what the CLI returns."""

    exit_code = 1

    def __str__(self) -> str:  # every error sentence passes through the one redaction (redact.py)
        return redact(super().__str__())


class InputError(MosaicError):
    """One bad input: names the field and says what is wrong with it."""

    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = redact(message)
        super().__init__(f"{field}: {self.message}")


class InputErrors(MosaicError):
    """Several bad inputs reported at once, so the operator can fix them all in one go."""

    exit_code = 2

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class StepFailed(MosaicError):
    """A deployment step stopped: which step, which action, and why."""

    exit_code = 1

    def __init__(self, step: str, action: str, reason: str) -> None:
        self.step = step
        self.action = action
        self.reason = redact(reason)
        super().__init__(f"step {step}, action {action}: {self.reason}")


class ToolchainError(MosaicError):
    """A tool the program needs (node, npm, anvil, solc) is missing or could not be installed."""

    exit_code = 1


class DevnetError(MosaicError):
    """The local devnet could not be started, found or stopped."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        self.exit_code = exit_code
        super().__init__(message)


class JournalError(MosaicError):
    """The journal cannot be trusted or would be contradicted: damaged, in use, or for another plan.

    Exit code 2: the operator has to look at a file before anything else may happen.
    """

    exit_code = 2

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = redact(message)
        super().__init__(f"{path}: {self.message}")
