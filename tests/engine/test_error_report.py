"""One error path: any error becomes a title and a list of problems, the same words in the CLI and the TUI."""

from __future__ import annotations

from mosaic_tui.errors import (
    InputError,
    InputErrors,
    JournalError,
    MosaicError,
    PassphraseRejected,
    Problem,
    StepFailed,
    report,
)

SECRET = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_input_errors_are_listed_field_by_field_as_the_cli_always_printed_them() -> None:
    error = InputErrors([InputError("origin.rpc", "no node answers."), InputError("validators[1].stake", "too low.")])
    said = report(error)
    assert said.title == "The input needs fixing" and said.exit_code == 2
    assert said.problems == (Problem("origin.rpc", "no node answers."), Problem("validators[1].stake", "too low."))
    assert said.cli_text() == f"error: {error}" == "error: origin.rpc: no node answers.\nvalidators[1].stake: too low."


def test_run_level_failures_name_no_field() -> None:
    assert report(MosaicError("the devnet's auxiliary chain is gone.")).problems == (
        Problem(None, "the devnet's auxiliary chain is gone."),)
    failed = report(StepFailed("2", "2.initialize_stake", "EIP20Token: balance too low"))
    assert failed.title == "Step 2 failed" and failed.exit_code == 1
    assert failed.cli_text() == "error: step 2, action 2.initialize_stake: EIP20Token: balance too low"
    damaged = report(JournalError("plan.state.json", "the journal is damaged."))
    assert damaged.problems == (Problem("plan.state.json", "the journal is damaged."),) and damaged.exit_code == 2


def test_an_unexpected_exception_is_reported_as_one_not_as_a_traceback_and_is_redacted() -> None:
    said = report(ValueError(f"cannot use 0x{SECRET}"))
    assert said.title == "Unexpected error" and said.exit_code == 1
    assert said.text().startswith("ValueError: cannot use") and SECRET not in said.text()


def test_a_refused_passphrase_is_a_type_not_a_word_in_a_sentence() -> None:
    rejected = PassphraseRejected("origin.deployer", "the passphrase does not open the keystore keys/d.json.")
    assert isinstance(rejected, InputError) and rejected.exit_code == 2
    assert report(rejected).title == "The passphrase was refused"
    # A sentence that merely mentions a passphrase is not a refused passphrase.
    assert not isinstance(InputError("passphrase", "use at least 8 characters."), PassphraseRejected)
