"""`mosaic-tui validator stake` on bad input: a sentence naming the flag, exit 2, nothing signed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import Ceremony, OwnValidator, clean_env
from .test_ceremony import SIGNER


@pytest.fixture
def stopped(ceremony: Ceremony) -> tuple[Ceremony, OwnValidator]:
    """Steps 0-1 done and ceremony.toml written; the deadline passed, so the coordinator stopped (exit 1)."""
    ceremony.write_plan(2, external=(2,), deadline_in=0)
    result = ceremony.cli("deploy", str(ceremony.plan), "--yes")
    assert result.returncode == 1 and "staking deadline" in result.stderr, result.stdout + result.stderr
    ceremony.hand_out_ceremony()
    return ceremony, ceremony.validators[2]


def sent(ceremony: Ceremony, validator: OwnValidator) -> int:
    return int(ceremony.origin.w3.eth.get_transaction_count(validator.origin_address))


def test_bad_input_is_named_and_nothing_is_signed(stopped: tuple[Ceremony, OwnValidator]) -> None:
    ceremony, validator = stopped
    plan = str(validator.plan)
    cases = {
        ("--validator", "2", "--yes"): "--key: give your origin key's reference with --key",
        ("--validator", "1", "--key", validator.key_ref, "--yes"): "the coordinator's run signs for it",
        ("--validator", "3", "--key", validator.key_ref, "--yes"): "the plan lists validators 1 to 2, not 3",
        ("--address", "0x" + "12" * 20, "--key", validator.key_ref, "--yes"): "is no validator's origin or auxiliary",
        ("--validator", "2", "--key", "external", "--yes"): "give your own key's reference here",
        ("--validator", "2", "--key", validator.key_ref): "pass --yes to sign and send",
        ("--validator", "2", "--key", validator.key_ref, "--ceremony", str(validator.home / "none.toml"), "--yes"):
            "ask the coordinator for it",
    }
    for args, expected in cases.items():
        result = validator.cli("validator", "stake", plan, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    wrong = validator.cli("validator", "stake", plan, "--validator", "2", "--key", validator.key_ref, "--yes",
                          env={**clean_env(), "MOSAIC_TUI_PASSPHRASE": "not the passphrase"})
    assert wrong.returncode == 2 and "the passphrase does not open the keystore" in wrong.stderr
    assert sent(ceremony, validator) == 0


def test_signed_transactions_that_differ_from_the_unsigned_ones_are_refused(
        stopped: tuple[Ceremony, OwnValidator]) -> None:
    ceremony, validator = stopped
    plan = str(validator.plan)
    unsigned, signed = validator.home / "unsigned.json", validator.home / "signed.json"
    early = validator.cli("validator", "stake", plan, "--validator", "2", "--signed", str(signed))
    assert early.returncode == 2 and "write them with --unsigned FILE first" in early.stderr
    written = validator.cli("validator", "stake", plan, "--validator", "2", "--unsigned", str(unsigned),
                            env=clean_env())
    assert written.returncode == 0, written.stderr
    document = json.loads(unsigned.read_text())
    assert [t["tx"]["type"] for t in document["transactions"]] == [2, 2, 2]
    assert {"maxFeePerGas", "maxPriorityFeePerGas", "chainId", "nonce", "gas"} <= set(document["transactions"][0]["tx"])

    # The other signer signs something else in the third transaction: a bigger gateway stake.
    tampered = json.loads(unsigned.read_text())
    tampered["transactions"][2]["tx"]["data"] = tampered["transactions"][2]["tx"]["data"][:-1] + "f"
    (validator.home / "tampered.json").write_text(json.dumps(tampered))

    def sign(source: str, keystore: str, passphrase: str) -> None:
        done = subprocess.run([sys.executable, str(SIGNER), str(validator.home / source), keystore, str(signed)],
                              env={**clean_env(), "SIGNER_PASSPHRASE": passphrase}, capture_output=True, text=True,
                              check=False, timeout=60)
        assert done.returncode == 0, done.stderr

    sign("tampered.json", str(validator.home / "origin-key.json"), validator.passphrase)
    refused = validator.cli("validator", "stake", plan, "--validator", "2", "--signed", str(signed), env=clean_env())
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "transaction 3 (nonce 2) differs from the unsigned one written for that nonce" in refused.stderr

    # The right transactions, signed by another account's key (its auxiliary key), are refused too.
    sign("unsigned.json", str(validator.home / "auxiliary-key.json"), validator.passphrase)
    other = validator.cli("validator", "stake", plan, "--validator", "2", "--signed", str(signed), env=clean_env())
    assert other.returncode == 2 and f"not by validator 2's origin address {validator.origin_address}" in other.stderr
    assert sent(ceremony, validator) == 0


def test_a_validator_run_killed_after_signing_resumes_and_signs_nothing_twice(
        stopped: tuple[Ceremony, OwnValidator]) -> None:
    from mosaic_tui.journal import Journal
    from mosaic_tui.validator_stake import journal_path_for

    ceremony, validator = stopped
    args = ("validator", "stake", str(validator.plan), "--validator", "2", "--key", validator.key_ref, "--yes")
    # Write 1 binds the journal to the plan, write 2 records the signed approvals: killed before broadcasting.
    killed = validator.cli(*args, env={**validator.env(), "MOSAIC_TUI_CRASH_AFTER_WRITE": "2"})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    journal = Journal.load(journal_path_for(validator.plan, 2))
    signed = {e.action_id: e.tx_hash for e in journal.entries() if e.tx_hash}
    assert set(signed) == {"2.approve_stake.1", "2.approve_gateway.1"} and sent(ceremony, validator) == 0

    again = validator.cli(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "validator 2 is done" in again.stdout
    journal = Journal.load(journal_path_for(validator.plan, 2))
    assert {e.action_id: e.tx_hash for e in journal.entries() if e.action_id in signed} == signed
    assert sent(ceremony, validator) == 3 and all(e.status == "confirmed" for e in journal.entries())

    third = validator.cli(*args)  # nothing left to do: nothing is sent
    assert third.returncode == 0 and "done in an earlier run" in third.stdout and sent(ceremony, validator) == 3


def test_a_validator_whose_journal_is_gone_finds_its_stake_on_chain_and_sends_nothing_again(
        stopped: tuple[Ceremony, OwnValidator]) -> None:
    from mosaic_tui.validator_stake import journal_path_for

    ceremony, validator = stopped
    args = ("validator", "stake", str(validator.plan), "--validator", "2", "--key", validator.key_ref, "--yes")
    first = validator.cli(*args)
    assert first.returncode == 0 and sent(ceremony, validator) == 3, first.stdout + first.stderr
    journal_path_for(validator.plan, 2).unlink()  # a new machine, or a lost disk: the chain still knows
    again = validator.cli(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already on chain") == 3 and sent(ceremony, validator) == 3
