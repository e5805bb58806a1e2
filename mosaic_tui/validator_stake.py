"""`mosaic-tui validator stake`: an external validator's own part of step 2, on its own machine.

The validator runs this with its own key (`--key` or MOSAIC_TUI_VALIDATOR_KEY; never a key of the
coordinator's), its copy of the plan and the coordinator's `ceremony.toml`. Before anything is signed
it checks the ceremony against the plan and the contracts on chain (ceremony.py), and shows what it
will sign. Then the same engine as the coordinator's run sends its two approvals and its gateway
stake: its own journal beside the plan (`<plan>.validator-<N>.state.json`), resume, fees, receipts.

A key that never touches this machine (a hardware wallet, another signer): `--unsigned FILE` writes
the transactions unsigned (EIP-1559 fields, JSON) and records them in the journal; `--signed FILE`
takes what the signer produced, checks each one decodes to exactly a recorded transaction from this
validator's address, journals it and broadcasts it through the same engine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mosaic_tui import keys, units
from mosaic_tui.ceremony import Ceremony, ceremony_path, ceremony_problems, contract_problems, load_ceremony
from mosaic_tui.deployment import Deployment
from mosaic_tui.errors import InputError, InputErrors, StepFailed
from mosaic_tui.journal import Journal
from mosaic_tui.keyref import KeyRef, parse_key_ref
from mosaic_tui.plan import Plan, format_deadline, load_plan
from mosaic_tui.runner import Action, Runner, Step

KEY_ENV = "MOSAIC_TUI_VALIDATOR_KEY"
AUXILIARY_KEY_ENV = "MOSAIC_TUI_VALIDATOR_AUXILIARY_KEY"
UNSIGNED_OUTPUT = "unsigned_transactions"
UNSIGNED_STEP = "validator"
# OSTGateway.stake cannot be estimated before its approval is mined (benchmarks/gas_origin.py, with room).
GATEWAY_STAKE_GAS = 150_000


def journal_path_for(plan_path: str | Path, number: int) -> Path:
    plan = Path(plan_path)
    return plan.with_name(f"{plan.stem}.validator-{number}.state.json")


def pick_validator(plan: Plan, number: int | None, address: str | None) -> int:
    """The validator's position from --validator N (counting from 1) or --address."""
    if number is not None:
        if not 1 <= number <= len(plan.validators):
            raise InputError("--validator", f"the plan lists validators 1 to {len(plan.validators)}, not {number}.")
        return number - 1
    wanted = units.parse_address(address, "--address")
    for index, validator in enumerate(plan.validators):
        if wanted in (validator.origin_address, validator.auxiliary_address):
            return index
    raise InputError("--address", f"{wanted} is no validator's origin or auxiliary address in the plan.")


def own_key(text: str | None, field: str, env: str) -> KeyRef | None:
    """The validator's own key reference: the flag, else its environment variable, else None."""
    value = text if text is not None else os.environ.get(env)
    if value is None:
        return None
    ref = parse_key_ref(value, field)
    if ref.is_external:
        raise InputError(field, "give your own key's reference here (keyring:, keystore: or node), not external.")
    return ref


@dataclass
class _AddressOnly:
    """The validator's account when its key is elsewhere (--unsigned / --signed): nothing is signed here."""

    address: str

    def sign(self, w3: Any, tx: dict[str, Any]) -> bytes:
        raise InputError("--key", "this run holds no key (its transactions are signed elsewhere); to send new "
                                  "ones write them with --unsigned again, or give your key with --key.")


class ValidatorRun(Deployment):
    """A Deployment seen from one validator: step 1's outputs come from ceremony.toml, the only key is its own."""

    def __init__(self, plan: Plan, plan_path: Path, journal: Journal, ceremony: Ceremony, index: int,
                 key: KeyRef | None, passphrase: keys.Passphrase | None = None) -> None:
        super().__init__(plan, plan_path, journal, passphrase=passphrase)
        self.ceremony, self.index, self.key = ceremony, index, key

    def out(self, key: str) -> Any:
        outputs = self.ceremony.outputs()
        return outputs[key] if key in outputs else super().out(key)

    def has(self, key: str) -> bool:
        return key in self.ceremony.outputs() or super().has(key)

    def _open(self, role: str) -> keys.Signer:
        if role != f"validator:{self.index}":
            raise InputError("--validator", f"this run signs only for validator {self.index + 1}, not {role}.")
        expected = self.plan.validators[self.index].origin_address
        if self.key is None:
            return _AddressOnly(expected)
        signer = keys.open_signer(self.key, "--key", base=Path.cwd(), passphrase=self.passphrase,
                                  node_address=expected)
        if signer.address != expected:
            raise InputError("--key", f"opens the key of {signer.address}, but validator {self.index + 1}'s "
                                      f"origin_address is {expected}.")
        return signer


@dataclass
class StakeSession:
    ctx: ValidatorRun
    actions: list[Action]

    @property
    def number(self) -> int:
        return self.ctx.index + 1


def open_session(plan_path: Path, *, number: int | None, address: str | None, ceremony_file: Path | None,
                 key: KeyRef | None, passphrase: keys.Passphrase | None = None) -> StakeSession:
    """Load and check everything; any problem raises InputErrors (exit 2) before anything is signed."""
    from mosaic_tui.steps.staking import validator_actions

    plan = load_plan(plan_path)
    index = pick_validator(plan, number, address)
    validator = plan.validators[index]
    if not validator.origin_key.is_external:
        raise InputError("--validator", f"validator {index + 1}'s origin_key in the plan is {validator.origin_key}: "
                                        "the coordinator's run signs for it. This command is for external ones.")
    ceremony = load_ceremony(ceremony_file or ceremony_path(plan, plan_path))
    problems = ceremony_problems(plan, ceremony)
    if problems:
        raise InputErrors(problems)
    journal = Journal.load(journal_path_for(plan_path, index + 1))
    ctx = ValidatorRun(plan, plan_path, journal, ceremony, index, key, passphrase)
    origin = ctx.origin
    chain_id = origin.call("reading the chain id", lambda: origin.w3.eth.chain_id)
    if chain_id != plan.origin.chain_id:
        raise InputError("origin.rpc", f"the node at {plan.origin.rpc} is chain {chain_id}, the plan says "
                                       f"{plan.origin.chain_id}; nothing was signed.")

    def read(name: str, at: str, function: str, *args: Any) -> Any:
        return ctx.read(name, "origin", at, function, *args)

    def code(at: str) -> bytes:
        return bytes(origin.call("reading code", lambda: origin.w3.eth.get_code(at)))

    found = contract_problems(plan, ceremony, read, code)
    if found:
        raise InputErrors([InputError("--ceremony", f"{problem}; nothing was signed.") for problem in found])
    actions = validator_actions(index, validator)
    if not journal.is_step_done("2") and not journal.entries():
        # What it still has to pay: nothing for a stake Stake.initialize took or a gateway stake on chain.
        initialized = bool(read("Stake", ceremony.stake, "initialized"))
        staked = actions[2].done_on_chain is not None and actions[2].done_on_chain(ctx) is not None
        need = (0 if initialized else validator.stake) + (0 if staked else validator.gateway_stake)
        have = int(read("EIP20Token", ceremony.ost, "balanceOf", validator.origin_address))
        if have < need:
            raise InputError(f"validators[{index}].origin_address",
                             f"{validator.origin_address} holds {units.format_amount(have)} but what it still "
                             f"stakes needs {units.format_amount(need)}; nothing was signed.")
    return StakeSession(ctx, actions)


def describe(session: StakeSession) -> list[str]:
    """What the validator is about to sign, and what was checked, in plain lines."""
    ctx, ceremony = session.ctx, session.ctx.ceremony
    validator = ctx.plan.validators[ctx.index]
    ost = units.format_amount
    lines = [
        f"validator {session.number} signs from {validator.origin_address} on origin chain {ctx.plan.origin.chain_id}:",
        f"  1. OST {ceremony.ost}: approve Stake {ceremony.stake} to take {ost(validator.stake)}",
        f"  2. OST {ceremony.ost}: approve OSTGateway {ceremony.ost_gateway} to take {ost(validator.gateway_stake)}",
        f"  3. OSTGateway {ceremony.ost_gateway}: stake {ost(validator.gateway_stake)} for base coin of "
        f"{validator.auxiliary_address} (its auxiliary address)",
        f"checked on chain: OriginCore {ceremony.origin_core}, Stake {ceremony.stake} and OSTGateway "
        f"{ceremony.ost_gateway} hold this program's code, were created by the deployer {ceremony.deployer} "
        f"(nonces {ceremony.origin_core_nonce} and {ceremony.ost_gateway_nonce}); core identifier "
        f"{ctx.plan.core_identifier} and minimum weight {ost(ctx.plan.minimum_weight)} as planned; the amounts "
        "are the plan's row",
    ]
    lines.append(f"confirm with the coordinator, over a channel you trust, that its deployer is {ceremony.deployer}")
    if ceremony.deadline is not None:
        from datetime import UTC, datetime

        passed = datetime.now(UTC) >= ceremony.deadline
        lines.append(f"the coordinator {'waited' if passed else 'waits'} until {format_deadline(ceremony.deadline)}"
                     + ("; that has passed: ask the coordinator whether it still waits" if passed else ""))
    return lines


def _step(session: StakeSession) -> Step:
    return Step("2", f"Staking (validator {session.number})", session.actions)


def run(session: StakeSession, emit: Callable[[Any], None], *, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Send (or resume) the validator's approvals and gateway stake through the runner."""
    from mosaic_tui.chain.sender import TxSender

    ctx, journal = session.ctx, session.ctx.journal
    journal.lock()
    try:
        journal.bind_plan(ctx.plan.digest())
        sender = TxSender(journal, ctx.chain)
        ctx.sender, ctx.emit, ctx.should_stop = sender, emit, should_stop
        Runner(ctx, journal, sender, emit, should_stop=should_stop).run_steps([lambda _: _step(session)])
        _wait_confirmed(ctx, emit, should_stop)
    finally:
        journal.unlock()


def _wait_confirmed(ctx: ValidatorRun, emit: Callable[[Any], None], should_stop: Callable[[], bool]) -> None:
    """Done means as deep as the plan's origin.confirmations (N blocks, or finalized), still in the chain."""
    import time

    from mosaic_tui.events import Waiting
    from mosaic_tui.plan import FINALIZED

    needed, origin = ctx.plan.confirmations, ctx.origin
    entries = [e for e in ctx.journal.entries() if e.receipt is not None and e.tx_hash]
    if not entries:
        return
    last = max(e.receipt.block_number for e in entries if e.receipt is not None)
    told = False
    while True:
        if needed == FINALIZED:
            reply = origin.call("reading the finalized block", lambda: origin.w3.provider.make_request(
                "eth_getBlockByNumber", ["finalized", False]))
            result = reply.get("result") if isinstance(reply, dict) else None
            deep = result is not None and int(result["number"], 16) >= last
        else:
            deep = int(origin.call("reading the block number", lambda: origin.w3.eth.block_number)) - last >= int(needed)
        if deep:
            break
        if should_stop():
            raise StepFailed("2", "-", "stopped before the transactions were confirmed; run again to wait for them")
        if not told:
            emit(Waiting("2", f"waiting until block {last} is "
                              + ("finalized" if needed == FINALIZED else f"{needed} blocks deep")))
            told = True
        time.sleep(1.0)
    for entry in entries:
        if ctx.sender.receipt("origin", entry.tx_hash) is None:
            raise StepFailed("2", entry.action_id, f"{entry.tx_hash} is no longer in the origin chain (a reorg); "
                                                   "tell the coordinator, and check your account before sending again")


def write_unsigned(session: StakeSession, path: Path) -> list[dict[str, Any]]:
    """Build the transactions still to send, record them in the journal, write them unsigned to `path`."""
    from mosaic_tui.chain.sender import TxRejected, TxSender
    from mosaic_tui.fsio import atomic_write

    ctx, journal = session.ctx, session.ctx.journal
    journal.lock()
    try:
        journal.bind_plan(ctx.plan.digest())
        if any(entry.has_transaction for entry in journal.entries()):
            raise InputError("--unsigned", f"the journal {journal.path} already holds signed transactions of this "
                                           "validator; run without --unsigned to follow them up.")
        sender = TxSender(journal, ctx.chain)
        address = ctx.plan.validators[ctx.index].origin_address
        transactions: list[dict[str, Any]] = []
        for action in session.actions:
            if action.done_on_chain is not None and action.done_on_chain(ctx) is not None:
                continue  # already on chain (an earlier approval)
            assert action.build is not None
            request = action.build(ctx)
            tx = {"to": request.to, "data": request.data, "value": request.value}
            try:
                gas = sender.estimate("origin", address, tx)
            except TxRejected:
                gas = GATEWAY_STAKE_GAS  # the gateway stake needs its approval mined first
            fields: dict[str, Any] = {"type": 2, "chainId": ctx.plan.origin.chain_id, "nonce": sender.next_nonce("origin", address),
                      "to": request.to, "value": request.value, "data": request.data, "gas": gas,
                      **{k: v for k, v in sender.fees("origin").items() if k != "type"}, "accessList": []}
            if "gasPrice" in fields:
                raise InputError("origin.rpc", "this origin chain has no EIP-1559 base fee; --unsigned writes "
                                               "EIP-1559 transactions only.")
            transactions.append({"action": action.id, "label": action.label, "tx": fields})
        journal.set_step_output(UNSIGNED_STEP, UNSIGNED_OUTPUT, transactions)
    finally:
        journal.unlock()
    document = {"about": f"unsigned transactions of validator {session.number} ({address}); sign each 'tx' with "
                         "the key of 'from' and give the signed raw transactions to --signed",
                "from": address, "chain_id": ctx.plan.origin.chain_id, "transactions": transactions}
    atomic_write(path, (json.dumps(document, indent=1) + "\n").encode(), secret=False)
    return transactions


def _signed_raws(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("--signed", f"{path} does not exist.") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise InputError("--signed", f"{path} is not JSON.") from None
    items = data.get("transactions") if isinstance(data, dict) else data
    raws: list[str] = []
    for item in items if isinstance(items, list) else [None]:
        raw = item.get("raw") if isinstance(item, dict) else item
        if not isinstance(raw, str) or not raw.startswith("0x"):
            raise InputError("--signed", f"{path} must hold a list of signed raw transactions (0x-hex), or "
                                         '{"transactions": [...]} of them.')
        raws.append(raw.lower())
    return raws


def _decode(raw: str, position: int) -> tuple[dict[str, Any], str]:
    from eth_account import Account
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes

    try:
        data = HexBytes(raw)
        fields = TypedTransaction.from_bytes(data).as_dict()
        sender = Account.recover_transaction(data)
    except Exception:
        raise InputError("--signed", f"transaction {position + 1} is not a signed EIP-1559 transaction.") from None
    to = fields.get("to")
    return {"type": int(fields.get("type", 2)), "chainId": fields["chainId"], "nonce": fields["nonce"],
            "to": units.checksum_address(bytes(to).hex()) if to else None, "value": fields["value"],
            "data": "0x" + bytes(fields["data"]).hex(), "gas": fields["gas"],
            "maxFeePerGas": fields["maxFeePerGas"], "maxPriorityFeePerGas": fields["maxPriorityFeePerGas"],
            "accessList": list(fields.get("accessList") or [])}, sender


def accept_signed(session: StakeSession, path: Path) -> None:
    """Journal the signer's transactions after checking each is exactly one written by --unsigned."""
    from eth_utils import keccak

    ctx, journal = session.ctx, session.ctx.journal
    expected = journal.step_outputs(UNSIGNED_STEP).get(UNSIGNED_OUTPUT)
    if not expected:
        raise InputError("--signed", "this validator's journal holds no unsigned transactions; write them with "
                                     "--unsigned FILE first, have them signed, then give the result to --signed.")
    raws = _signed_raws(path)
    if len(raws) != len(expected):
        raise InputError("--signed", f"{path} holds {len(raws)} transactions, --unsigned wrote {len(expected)}.")
    address = ctx.plan.validators[ctx.index].origin_address
    pending = {entry["tx"]["nonce"]: entry for entry in expected}
    accepted: list[tuple[dict[str, Any], str]] = []
    for position, raw in enumerate(raws):
        fields, sender = _decode(raw, position)
        if sender != address:
            raise InputError("--signed", f"transaction {position + 1} is signed by {sender}, not by validator "
                                         f"{session.number}'s origin address {address}; nothing was sent.")
        wanted = pending.pop(fields["nonce"], None)
        normal = None if wanted is None else {**wanted["tx"], "data": str(wanted["tx"]["data"]).lower()}
        if normal is None or fields != normal:
            raise InputError("--signed", f"transaction {position + 1} (nonce {fields['nonce']}) differs from the "
                                         "unsigned one written for that nonce; nothing was sent.")
        accepted.append((wanted, raw))  # type: ignore[arg-type]
    journal.lock()
    try:
        with journal.batch():
            for wanted, raw in accepted:
                if journal.entry(wanted["action"]) is None or not journal.entry(wanted["action"]).has_transaction:  # type: ignore[union-attr]
                    journal.record_signed(wanted["action"], "origin", address, wanted["tx"]["nonce"],
                                          "0x" + keccak(bytes.fromhex(raw[2:])).hex(), raw)
    finally:
        journal.unlock()


__all__ = ["AUXILIARY_KEY_ENV", "KEY_ENV", "StakeSession", "ValidatorRun", "accept_signed", "describe",
           "journal_path_for", "open_session", "own_key", "pick_validator", "run", "write_unsigned"]
