"""The journal: atomic, strict about damage, never signs an action twice, and survives SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mosaic_tui.errors import JournalError
from mosaic_tui.journal import CRASH_ENV, Journal, Receipt, journal_path

SENDER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
HASH_A, HASH_B, HASH_C = "0x" + "a1" * 32, "0x" + "b2" * 32, "0x" + "c3" * 32
RAW = "0x02f86c0180843b9aca00"


def on_disk(path: Path) -> dict:
    return json.loads(path.read_text())


def test_journal_lives_beside_the_plan() -> None:
    assert journal_path("/x/mosaic-plan.toml") == Path("/x/mosaic-plan.state.json")


def test_missing_file_is_a_fresh_journal_and_nothing_is_written(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "p.state.json")
    assert journal.entry("deploy_origin_core") is None and journal.outputs() == {} and journal.sequence == 0
    assert not (tmp_path / "p.state.json").exists()


def test_transaction_life_is_on_disk_after_every_call(tmp_path: Path) -> None:
    path = tmp_path / "p.state.json"
    journal = Journal.load(path)
    journal.record_signed("deploy_origin_core", "origin", SENDER, 7, HASH_A.upper().replace("0X", "0x"), RAW)
    entry = Journal.load(path).entry("deploy_origin_core")
    assert entry is not None and entry.status == "signed" and entry.tx_hash == HASH_A and entry.nonce == 7
    assert entry.raw_tx == RAW and entry.sender == SENDER and entry.chain == "origin" and entry.has_transaction

    journal.record_sent("deploy_origin_core")
    assert Journal.load(path).entry("deploy_origin_core").status == "sent"

    journal.record_receipt("deploy_origin_core", 12, 1_234_567, 1, {"origin_core": SENDER, "code": b"\x01\xff"})
    entry = Journal.load(path).entry("deploy_origin_core")
    assert entry.status == "confirmed" and entry.receipt == Receipt(12, 1_234_567, 1)
    assert entry.outputs == {"origin_core": SENDER, "code": "0x01ff"}
    assert on_disk(path)["sequence"] == journal.sequence == 3
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.state.json"]  # no temp files left


def test_reverted_receipt_marks_the_action_failed(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_signed("stake_initialize", "origin", SENDER, 0, HASH_A, RAW)
    journal.record_receipt("stake_initialize", 40, 30_000, 0, {"ignored": 1})
    entry = Journal.load(tmp_path / "j.json").entry("stake_initialize")
    assert entry.status == "failed" and "reverted in block 40" in entry.error and entry.outputs == {}


def test_a_confirmed_action_is_never_signed_again(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_signed("a", "auxiliary", SENDER, 0, HASH_A, RAW)
    journal.record_receipt("a", 1, 21_000, 1)
    with pytest.raises(JournalError, match="never be signed again"):
        journal.record_signed("a", "auxiliary", SENDER, 1, HASH_B, RAW)
    with pytest.raises(JournalError, match="cannot fail afterwards"):
        journal.record_failed("a", "late")
    assert Journal.load(tmp_path / "j.json").entry("a").tx_hash == HASH_A


def test_a_pending_action_may_only_be_replaced_at_the_same_nonce(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_signed("a", "origin", SENDER, 4, HASH_A, RAW)
    journal.record_sent("a")
    with pytest.raises(JournalError, match="adopt or replace it"):
        journal.record_signed("a", "origin", SENDER, 5, HASH_B, RAW)
    journal.record_signed("a", "origin", SENDER, 4, HASH_B, RAW + "00")  # a fee bump replaces it
    entry = Journal.load(tmp_path / "j.json").entry("a")
    assert (entry.status, entry.tx_hash, entry.earlier_tx_hashes) == ("signed", HASH_B, (HASH_A,))


def test_a_failed_action_gets_a_new_nonce_only_once_the_old_one_is_proven_used(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_signed("a", "origin", SENDER, 4, HASH_A, RAW)
    journal.record_failed("a", "not mined in 300 s")
    assert journal.entry("a").error == "not mined in 300 s"
    with pytest.raises(JournalError, match="not proven dropped"):  # a node's refusal proves nothing
        journal.record_signed("a", "origin", SENDER, 9, HASH_C, RAW)
    journal.record_signed("a", "origin", SENDER, 9, HASH_C, RAW, nonce_released=True)
    entry = journal.entry("a")
    assert (entry.status, entry.nonce, entry.earlier_tx_hashes, entry.error) == ("signed", 9, (HASH_A,), None)
    assert entry.versions == [(HASH_C, RAW), (HASH_A, RAW)]


def test_a_reverted_action_may_be_signed_at_a_new_nonce(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_signed("a", "origin", SENDER, 4, HASH_A, RAW)
    journal.record_receipt("a", 7, 30_000, 0, block_hash=HASH_B)
    journal.record_signed("a", "origin", SENDER, 5, HASH_C, RAW)  # its own revert used nonce 4
    assert journal.entry("a").nonce == 5


def test_the_mined_version_of_a_replaced_transaction_is_the_one_kept(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_signed("a", "origin", SENDER, 4, HASH_A, RAW)
    journal.record_signed("a", "origin", SENDER, 4, HASH_B, RAW + "01")
    journal.record_receipt("a", 9, 21_000, 1, {"x": 1}, tx_hash=HASH_A, block_hash=HASH_C)
    entry = Journal.load(tmp_path / "j.json").entry("a")
    assert (entry.tx_hash, entry.raw_tx, entry.earlier_tx_hashes) == (HASH_A, RAW, (HASH_B,))
    assert entry.receipt == Receipt(9, 21_000, 1, HASH_C)


def test_misuse_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    with pytest.raises(ValueError):
        journal.record_sent("never_signed")
    with pytest.raises(ValueError):
        journal.record_signed("a", "mainnet", SENDER, 0, HASH_A, RAW)
    with pytest.raises(ValueError):
        journal.record_signed("a", "origin", SENDER, -1, HASH_A, RAW)
    with pytest.raises(ValueError):
        journal.record_signed("a", "origin", SENDER, 0, "0x1234", RAW)
    with pytest.raises(TypeError):
        journal.record_done("a", {"bad": object()})
    assert journal.sequence == 0 and not (tmp_path / "j.json").exists()


def test_actions_without_a_transaction_and_failures_before_signing(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.record_planned("start_auxiliary_node", None)
    assert journal.entry("start_auxiliary_node").status == "planned"
    journal.record_done("start_auxiliary_node", {"rpc": "http://127.0.0.1:8546"})
    journal.record_failed("deploy_gateway", "gas estimation reverted: wrong token")
    reloaded = Journal.load(tmp_path / "j.json")
    assert reloaded.entry("start_auxiliary_node").outputs == {"rpc": "http://127.0.0.1:8546"}
    assert reloaded.entry("deploy_gateway").status == "failed" and reloaded.entry("deploy_gateway").tx_hash is None
    assert [e.action_id for e in reloaded.entries()] == ["start_auxiliary_node", "deploy_gateway"]


def test_step_outputs_and_done_flags(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.set_step_output(1, "origin_core", SENDER)
    journal.set_step_output("2", "setup_block_number", 17)
    journal.set_step_output(2, "setup_block_hash", bytes.fromhex("ab" * 32))
    journal.mark_step_done(1)
    writes = journal.sequence
    journal.mark_step_done(1)
    journal.set_step_output(1, "origin_core", SENDER)
    assert journal.sequence == writes  # nothing changed, nothing written
    with pytest.raises(ValueError, match="already an output of step 1"):
        journal.set_step_output(3, "origin_core", HASH_A)
    reloaded = Journal.load(tmp_path / "j.json")
    assert reloaded.is_step_done("1") and not reloaded.is_step_done(2)
    assert reloaded.step_outputs(2) == {"setup_block_number": 17, "setup_block_hash": "0x" + "ab" * 32}
    assert reloaded.outputs() == {"origin_core": SENDER, "setup_block_number": 17,
                                  "setup_block_hash": "0x" + "ab" * 32}
    assert reloaded.outputs_by_step()["1"] == {"origin_core": SENDER}
    reloaded.step_outputs(2)["setup_block_number"] = 0  # a copy: the journal is only changed through its API
    assert reloaded.step_outputs(2)["setup_block_number"] == 17


def test_a_journal_belongs_to_one_plan(tmp_path: Path) -> None:
    journal = Journal.load(tmp_path / "j.json")
    journal.bind_plan("d1")
    journal.bind_plan("d1")
    assert Journal.load(tmp_path / "j.json").plan_digest == "d1"
    with pytest.raises(JournalError, match="different version of the plan"):
        Journal.load(tmp_path / "j.json").bind_plan("d2")


def test_only_one_process_may_hold_the_journal(tmp_path: Path) -> None:
    first, second = Journal(tmp_path / "j.json"), Journal(tmp_path / "j.json")
    first.lock()
    with pytest.raises(JournalError, match="another mosaic-tui process"):
        second.lock()
    first.unlock()
    second.lock()
    second.unlock()


@pytest.mark.parametrize(("content", "fragment"), [
    ("", "not valid JSON at line 1"),
    ('{"version": 1, "sequence": 2, "actions": {', "not valid JSON"),
    ("[]", "top level is not an object"),
    ('{"version": 99, "sequence": 0, "plan_digest": null, "actions": {}, "steps": {}}', "version 99"),
    ('{"version": 1, "sequence": 0, "plan_digest": null, "actions": {"a": {"status": "lost", "outputs": {}}},'
     ' "steps": {}}', "action 'a' has no valid status"),
    ('{"version": 1, "sequence": 0, "plan_digest": null, "actions": {"a": {"status": "sent", "outputs": {}}},'
     ' "steps": {}}', "its transaction is missing"),
    ('{"version": 1, "sequence": 0, "plan_digest": null, "actions": {}, "steps": {"1": {"done": 1}}}',
     "step '1'"),
])
def test_a_damaged_journal_is_refused_naming_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "mosaic-plan.state.json"
    path.write_text(content)
    with pytest.raises(JournalError) as caught:
        Journal.load(path)
    assert str(path) in str(caught.value) and fragment in str(caught.value)
    assert caught.value.exit_code == 2


# -- crashes -----------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from mosaic_tui.journal import Journal
    journal = Journal.load(sys.argv[1])
    for n in range(int(sys.argv[2])):
        journal.set_step_output(1, f"output_{n}", n)
    print("finished", flush=True)
""")


def run_writer(path: Path, writes: int, crash_after: int | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_after is not None:
        env[CRASH_ENV] = str(crash_after)
    return subprocess.run([sys.executable, "-c", WRITER, str(path), str(writes)], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_crash_hook_kills_after_the_kth_write(tmp_path: Path, k: int) -> None:
    path = tmp_path / "j.json"
    result = run_writer(path, 6, k)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "finished" not in result.stdout
    journal = Journal.load(path)
    assert journal.sequence == k
    assert journal.step_outputs(1) == {f"output_{n}": n for n in range(k)}


def test_without_the_hook_the_writer_finishes(tmp_path: Path) -> None:
    result = run_writer(tmp_path / "j.json", 6, None)
    assert result.returncode == 0 and "finished" in result.stdout
    assert Journal.load(tmp_path / "j.json").sequence == 6


def test_a_killed_writer_always_leaves_a_whole_journal(tmp_path: Path) -> None:
    # Kill a busy writer at arbitrary moments: whatever was on disk must load, and hold a prefix.
    path = tmp_path / "j.json"
    for delay in (0.25, 0.4, 0.55):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "100000"],
                                   stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        process.kill()
        process.wait(timeout=30)
        journal = Journal.load(path)
        outputs = journal.step_outputs(1)
        assert outputs == {f"output_{n}": n for n in range(len(outputs))}
        assert journal.sequence == len(outputs) > 0
        path.unlink()
