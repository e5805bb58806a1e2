"""Validators from other organisations stake on their own machines; the coordinator waits and finishes.

Real anvil, real processes: the coordinator's `deploy` never holds a validator's key, each external
validator runs `mosaic-tui validator stake` in its own process with only its own keystore, and one
of them signs through `--unsigned`, a separate signer process and `--signed`.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

from mosaic_tui.contracts import load_artifact
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from tests.helpers import deploy

from .conftest import Ceremony, clean_env

SIGNER = Path(__file__).with_name("signer.py")


def test_three_external_validators_stake_on_their_own_and_the_coordinator_finishes(ceremony: Ceremony) -> None:
    ceremony.write_plan(4, external=(2, 3, 4), deadline_in=600)
    coordinator = ceremony.start_coordinator()
    try:
        ceremony.wait_for_ceremony(coordinator)
        v2, v3, v4 = (ceremony.validators[n] for n in (2, 3, 4))

        # Validator 2 gives its key by flag, validator 3 by its environment; each its own process and folder.
        stake2 = subprocess.Popen([sys.executable, "-m", "mosaic_tui.cli", "validator", "stake", str(v2.plan),
                                   "--validator", "2", "--key", v2.key_ref, "--yes"], cwd=v2.home, env=v2.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        third = v3.cli("validator", "stake", str(v3.plan), "--address", v3.origin_address,
                       "--ceremony", str(v3.home / "out" / "ceremony.toml"), "--yes",
                       env={**v3.env(), "MOSAIC_TUI_VALIDATOR_KEY": v3.key_ref})
        assert third.returncode == 0, third.stdout + third.stderr
        assert "approve Stake" in third.stdout and "hold this program's code" in third.stdout
        assert "validator 3 is done" in third.stdout

        # Validator 4's key never meets mosaic-tui: unsigned out, a separate signer, signed in.
        unsigned = v4.home / "unsigned.json"
        written = v4.cli("validator", "stake", str(v4.plan), "--validator", "4", "--unsigned", str(unsigned),
                         env=clean_env())
        assert written.returncode == 0, written.stdout + written.stderr
        assert "wrote 3 unsigned transactions" in written.stdout
        signed = v4.home / "signed.json"
        signer = subprocess.run([sys.executable, str(SIGNER), str(unsigned), str(v4.home / "origin-key.json"),
                                 str(signed)], env={**clean_env(), "SIGNER_PASSPHRASE": v4.passphrase},
                                capture_output=True, text=True, check=False, timeout=60)
        assert signer.returncode == 0, signer.stderr
        sent = v4.cli("validator", "stake", str(v4.plan), "--validator", "4", "--signed", str(signed),
                      env=clean_env())
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "exactly the ones written with --unsigned" in sent.stdout and "validator 4 is done" in sent.stdout

        out2, err2 = stake2.communicate(timeout=300)
        assert stake2.returncode == 0, out2 + err2
        output, errors = coordinator.communicate(timeout=600)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 0, output[-4000:] + errors
    assert "acts for itself" in output and "send them: mosaic-tui validator stake mosaic-plan.toml --validator" in output
    assert "deployment complete" in output

    verified = ceremony.cli("verify", str(ceremony.plan))
    assert verified.returncode == 0 and " 0 failed" in verified.stdout, verified.stdout + verified.stderr

    # The mints of step 4 used the gateway stakes read from chain: one per staker, the externals' included.
    stakes = Journal.load(journal_path(ceremony.plan)).outputs()["gateway_stakes"]
    assert {s["beneficiary"] for s in stakes} >= {v.auxiliary_address for v in (v2, v3, v4)}

    # No process held another's key: the coordinator's plan and journal name none of the validators' keystores.
    plan = load_plan(ceremony.plan)
    assert [str(v.origin_key) for v in plan.validators][1:] == ["external"] * 3
    for path in (ceremony.plan, journal_path(ceremony.plan)):
        assert "origin-key.json" not in path.read_text()

    # Each validator writes its own rum files on its machine, with its own key references.
    exported = v2.cli("export", str(v2.plan), "--validator", "2", "--key", v2.key_ref, "--auxiliary-key",
                      v2.auxiliary_ref, "--deployment", str(ceremony.out / "deployment.toml"), env=clean_env())
    assert exported.returncode == 0, exported.stdout + exported.stderr
    env_file = next((v2.home / "out").glob("rum-1-*.env"))
    text = env_file.read_text()
    assert f"MOSAIC_ORIGIN_VALIDATOR_KEY_REF={v2.key_ref}" in text
    assert f"MOSAIC_AUXILIARY_VALIDATOR_ADDRESS={v2.auxiliary_address}" in text
    assert "_KEY_REF=external" not in text and env_file.stat().st_mode & 0o777 == 0o600
    rum = tomllib.loads(next((v2.home / "out").glob("rum-1-*.toml")).read_text())
    assert [v["auxiliary_key"] for v in rum["validators"]] == [v2.auxiliary_ref]


def test_a_validator_who_never_acts_ends_the_wait_at_the_deadline_naming_it(ceremony: Ceremony) -> None:
    ceremony.write_plan(2, external=(2,), deadline_in=25)
    deadline = load_plan(ceremony.plan).origin.staking_deadline
    assert deadline is not None
    result = ceremony.cli("deploy", str(ceremony.plan), "--yes")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    absent = ceremony.validators[2].origin_address
    assert f"validator 2 ({absent}) has not approved its stake" in result.stderr
    assert "the staking deadline" in result.stderr and "Traceback" not in result.stderr
    assert time.time() >= deadline.timestamp()
    journal = Journal.load(journal_path(ceremony.plan))
    assert not journal.confirmed("2.initialize_stake") and journal.entry("2.initialize_stake") is None


def test_a_ceremony_pointing_at_a_look_alike_origin_core_is_refused_before_signing(ceremony: Ceremony) -> None:
    ceremony.write_plan(2, external=(2,), deadline_in=0)
    result = ceremony.cli("deploy", str(ceremony.plan), "--yes")  # steps 0-1, ceremony.toml, then the deadline
    assert result.returncode == 1 and (ceremony.out / "ceremony.toml").exists(), result.stdout + result.stderr
    validator = ceremony.validators[2]
    ceremony.hand_out_ceremony()
    document = (validator.home / "out" / "ceremony.toml").read_text()
    real = tomllib.loads(document)["origin"]["origin_core"]

    # Someone else deploys an OriginCore with exactly the plan's constructor arguments: same code, same identifier.
    w3 = ceremony.origin.w3
    plan = load_plan(ceremony.plan)
    outputs = Journal.load(journal_path(ceremony.plan)).outputs()
    look_alike = deploy(w3, "OriginCore", bytes.fromhex(plan.core_identifier[2:]), outputs["ost"], 0, b"\0" * 32,
                        plan.minimum_weight, plan.auxiliary.gas_limit * plan.auxiliary.epoch_length,
                        sender=w3.eth.accounts[7])
    assert w3.eth.get_code(look_alike.address) and look_alike.address != real
    (validator.home / "out" / "ceremony.toml").write_text(document.replace(real, look_alike.address))

    refused = validator.cli("validator", "stake", str(validator.plan), "--validator", "2", "--key",
                            validator.key_ref, "--yes")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"OriginCore at {look_alike.address} was not created by the deployer" in refused.stderr
    assert "nothing was signed" in refused.stderr and "Traceback" not in refused.stderr
    assert w3.eth.get_transaction_count(validator.origin_address) == 0

    # Code that is not OriginCore at all (the real Stake's address given as OriginCore) is refused too.
    stake = tomllib.loads(document)["origin"]["stake"]
    (validator.home / "out" / "ceremony.toml").write_text(document.replace(f'origin_core = "{real}"',
                                                                           f'origin_core = "{stake}"'))
    other = validator.cli("validator", "stake", str(validator.plan), "--validator", "2", "--key",
                          validator.key_ref, "--yes")
    assert other.returncode == 2, other.stdout + other.stderr
    assert f"OriginCore at {stake}: its code is not the OriginCore this program deploys" in other.stderr
    assert w3.eth.get_transaction_count(validator.origin_address) == 0
    assert load_artifact("OriginCore")  # the artifact the check compared with


def test_too_little_approved_too_little_held_and_a_stake_for_the_wrong_beneficiary_are_named(
        ceremony: Ceremony) -> None:
    import json

    from eth_account import Account

    from tests.helpers import transact

    ceremony.write_plan(3, external=(2, 3), deadline_in=40)
    coordinator = ceremony.start_coordinator()
    try:
        ceremony.wait_for_ceremony(coordinator)
        # The validators act by hand, and get it wrong.
        v2, v3 = ceremony.validators[2], ceremony.validators[3]
        key2, key3 = (Account.from_key(Account.decrypt(json.loads((v.home / "origin-key.json").read_text()),
                                                       v.passphrase)) for v in (v2, v3))
        document = tomllib.loads((ceremony.out / "ceremony.toml").read_text())["origin"]
        w3 = ceremony.origin.w3
        token = w3.eth.contract(address=document["ost"], abi=load_artifact("EIP20Token")["abi"])
        gateway = w3.eth.contract(address=document["ost_gateway"], abi=load_artifact("OSTGateway")["abi"])
        stranger = w3.eth.accounts[8]
        # Validator 2: too small an approval, and a gateway stake for someone else.
        transact(w3, token.functions.approve(document["stake"], 5 * 10**18), sender=key2)
        transact(w3, token.functions.approve(document["ost_gateway"], 10 * 10**18), sender=key2)
        transact(w3, gateway.functions.stake(10 * 10**18, stranger, 0), sender=key2)
        # Validator 3: the full approval, but it gave its OST away (Stake.initialize would revert for all).
        transact(w3, token.functions.approve(document["stake"], 1002 * 10**18), sender=key3)
        transact(w3, token.functions.transfer(stranger, token.functions.balanceOf(v3.origin_address).call()),
                 sender=key3)
        output, errors = coordinator.communicate(timeout=300)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 1, output[-3000:] + errors
    assert f"validator 2 ({v2.origin_address}) has not approved its stake (approved too little: 5 OST of " \
           f"1001 OST; staked 10 OST in the gateway for the wrong beneficiary {stranger} (the plan says " \
           f"{v2.auxiliary_address}))" in errors
    assert f"validator 3 ({v3.origin_address}) has not approved its stake (holds 0 OST, less than its stake " \
           "1002 OST)" in errors
    assert "approved too little: 5 OST of 1001 OST" in output  # the live rows said so while it waited
    journal = Journal.load(journal_path(ceremony.plan))
    assert journal.entry("2.initialize_stake") is None  # nothing was sent that would revert
