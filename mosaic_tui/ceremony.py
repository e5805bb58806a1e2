"""`ceremony.toml`: what an external validator needs to stake on its own machine, and the checks it makes.

Validators run by other organisations never hand their keys to the coordinator. After step 1 the
coordinator's run writes this file into the plan's out_dir: the addresses step 1 produced, who
deployed them and at which nonces, the chain ids, the amounts and the deadline. It holds no secret
(no key, no RPC URL: the validator uses the RPC of its own plan copy).

The validator's command trusts none of it blindly: `contract_problems` checks on chain that each
address holds our artifact's code (immutables masked), sits where CREATE from the named deployer
and nonce puts it, and points at the others and at the plan's core identifier, minimum weight and
OST token. `ceremony_problems` checks the file against the validator's own copy of the plan.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mosaic_tui import units
from mosaic_tui.errors import InputError, InputErrors
from mosaic_tui.plan import Plan, format_deadline, parse_deadline
from mosaic_tui.tomlio import write_toml

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

CEREMONY_FILE = "ceremony.toml"
CEREMONY_VERSION = 1


@dataclass(frozen=True)
class CeremonyValidator:
    number: int  # counts from 1, as the wizard shows
    origin_address: str
    auxiliary_address: str
    stake: int
    gateway_stake: int
    external: bool


@dataclass(frozen=True)
class Ceremony:
    plan_digest: str
    origin_chain_id: int
    auxiliary_chain_id: int
    core_identifier: str
    minimum_weight: int
    ost: str
    deployer: str
    origin_core: str
    origin_core_nonce: int
    stake: str
    ost_gateway: str
    ost_gateway_nonce: int
    validators: tuple[CeremonyValidator, ...]
    deadline: datetime | None = None

    def outputs(self) -> dict[str, str]:
        """The step outputs a validator's own run reads (what the coordinator's journal holds)."""
        return {"ost": self.ost, "origin_core": self.origin_core, "stake": self.stake, "ost_gateway": self.ost_gateway}


def ceremony_path(plan: Plan, plan_path: str | Path) -> Path:
    return plan.out_path(plan_path) / CEREMONY_FILE


def ceremony_document(plan: Plan, outputs: Mapping[str, Any], deployer: str, nonces: Mapping[str, int]) -> dict[str, Any]:
    ost = units.format_amount
    document: dict[str, Any] = {
        "ceremony_version": CEREMONY_VERSION,
        "plan_digest": plan.digest(),
        "core": {"identifier": plan.core_identifier, "minimum_weight": ost(plan.minimum_weight)},
        "origin": {"chain_id": plan.origin.chain_id, "ost": str(outputs["ost"]) if plan.deploys_ost else plan.origin.ost,
                   "deployer": deployer, "origin_core": outputs["origin_core"],
                   "origin_core_nonce": nonces["origin_core"], "stake": outputs["stake"],
                   "ost_gateway": outputs["ost_gateway"], "ost_gateway_nonce": nonces["ost_gateway"]},
        "auxiliary": {"chain_id": plan.auxiliary.chain_id},
        "validators": [{"number": index + 1, "origin_address": v.origin_address,
                        "auxiliary_address": v.auxiliary_address, "stake": ost(v.stake),
                        "gateway_stake": ost(v.gateway_stake), "external": v.origin_key.is_external}
                       for index, v in enumerate(plan.validators)],
    }
    if plan.origin.staking_deadline is not None:
        document["deadline"] = format_deadline(plan.origin.staking_deadline)
    return document


def write_ceremony(ctx: Deployment) -> Path:
    """Written at the start of step 2 by the coordinator's run (again on every run: the deadline may move)."""
    nonces, senders = {}, {}
    for key, action in (("origin_core", "1.deploy_origin_core"), ("ost_gateway", "1.deploy_ost_gateway")):
        entry = ctx.journal.entry(action)
        if entry is None or entry.nonce is None or entry.sender is None:
            raise InputError(CEREMONY_FILE, f"the journal has no transaction for {action}; finish step 1 first.")
        nonces[key], senders[key] = entry.nonce, entry.sender
    deployer = senders["origin_core"]
    outputs = ctx.journal.outputs()
    path = ceremony_path(ctx.plan, ctx.plan_path)
    return write_toml(path, ceremony_document(ctx.plan, outputs, deployer, nonces), header=(
        "What an external validator needs to stake on its own machine (mosaic-tui validator stake).\n"
        "Written by the coordinator's run after step 1; no secrets. Amounts are exact, with their unit."))


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[InputError] = []

    def get(self, table: Mapping[str, Any], key: str, where: str, parse: Callable[[Any, str], Any]) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in table:
            self.errors.append(InputError(f"{self.path.name}: {name}", "this key is missing."))
            return None
        try:
            return parse(table[key], f"{self.path.name}: {name}")
        except InputError as error:
            self.errors.append(error)
            return None


def _nonce(value: Any, name: str) -> int:
    return units.parse_int(value, name, minimum=0, maximum=2**64 - 1)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(name, "expected true or false.")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(name, "expected text.")
    return value


def load_ceremony(path: str | Path) -> Ceremony:
    """Read ceremony.toml; every problem names its key (exit 2), nothing is signed on a bad file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("--ceremony", f"{path} does not exist; the coordinator's run writes it into the plan's "
                                       "out_dir after step 1: ask the coordinator for it.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError("--ceremony", f"{path} cannot be read as TOML ({error}).") from None
    read = _Reader(path)
    empty: dict[str, Any] = {}
    core, origin, aux = (data.get(name, empty) if isinstance(data.get(name), dict) else empty
                         for name in ("core", "origin", "auxiliary"))
    address = units.parse_address
    validators = []
    raw_validators = data.get("validators", [])
    for position, raw in enumerate(raw_validators if isinstance(raw_validators, list) else []):
        where = f"validators[{position}]"
        raw = raw if isinstance(raw, dict) else {}
        validators.append(CeremonyValidator(
            number=read.get(raw, "number", where, lambda v, n: units.parse_int(v, n, minimum=1, maximum=10**6)),
            origin_address=read.get(raw, "origin_address", where, address),
            auxiliary_address=read.get(raw, "auxiliary_address", where, address),
            stake=read.get(raw, "stake", where, units.parse_amount),
            gateway_stake=read.get(raw, "gateway_stake", where, units.parse_amount),
            external=read.get(raw, "external", where, _flag)))
    ceremony = Ceremony(
        plan_digest=read.get(data, "plan_digest", "", _text),
        origin_chain_id=read.get(origin, "chain_id", "origin", units.parse_chain_id),
        auxiliary_chain_id=read.get(aux, "chain_id", "auxiliary", units.parse_chain_id),
        core_identifier=read.get(core, "identifier", "core", lambda v, n: units.parse_core_identifier(v, None, n)),
        minimum_weight=read.get(core, "minimum_weight", "core", units.parse_amount),
        ost=read.get(origin, "ost", "origin", address),
        deployer=read.get(origin, "deployer", "origin", address),
        origin_core=read.get(origin, "origin_core", "origin", address),
        origin_core_nonce=read.get(origin, "origin_core_nonce", "origin", _nonce),
        stake=read.get(origin, "stake", "origin", address),
        ost_gateway=read.get(origin, "ost_gateway", "origin", address),
        ost_gateway_nonce=read.get(origin, "ost_gateway_nonce", "origin", _nonce),
        validators=tuple(validators),
        deadline=read.get(data, "deadline", "", parse_deadline) if "deadline" in data else None,
    )
    if read.errors:
        raise InputErrors(read.errors)
    return ceremony


def ceremony_problems(plan: Plan, ceremony: Ceremony) -> list[InputError]:
    """Does the file belong to this plan? Chain ids, identifier, weight, OST and every validator's row."""
    found: list[InputError] = []

    def add(name: str, message: str) -> None:
        found.append(InputError(f"{CEREMONY_FILE}: {name}", message))

    if ceremony.plan_digest != plan.digest():
        add("plan_digest", "the ceremony was written for another plan (or another version of it); get the plan "
                           "and ceremony.toml of the same deployment from the coordinator.")
    pairs = (("origin.chain_id", ceremony.origin_chain_id, plan.origin.chain_id),
             ("auxiliary.chain_id", ceremony.auxiliary_chain_id, plan.auxiliary.chain_id),
             ("core.identifier", ceremony.core_identifier, plan.core_identifier),
             ("core.minimum_weight", ceremony.minimum_weight, plan.minimum_weight))
    for name, theirs, ours in pairs:
        if theirs != ours:
            add(name, f"says {theirs}, the plan says {ours}.")
    if not plan.deploys_ost and ceremony.ost != plan.origin.ost:
        add("origin.ost", f"says {ceremony.ost}, the plan's OST token is {plan.origin.ost}.")
    rows = [(v.origin_address, v.auxiliary_address, v.stake, v.gateway_stake) for v in ceremony.validators]
    planned = [(v.origin_address, v.auxiliary_address, v.stake, v.gateway_stake) for v in plan.validators]
    if rows != planned:
        add("validators", "the validators' addresses or amounts differ from the plan's rows.")
    return found


@dataclass
class _Checks:
    problems: list[str] = field(default_factory=list)

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def contract_problems(plan: Plan, ceremony: Ceremony, read: Callable[..., Any], get_code: Callable[[str], bytes]
                      ) -> list[str]:
    """On-chain checks of the contracts the ceremony names, before anything is signed.

    `read(contract_name, address, function, *args)` calls a view; `get_code(address)` reads runtime code.
    A look-alike (other code, another deployer, another core identifier) fails here.
    """
    from mosaic_tui.contracts import load_artifact
    from mosaic_tui.runner import create_address
    from mosaic_tui.verify import code_matches

    checks = _Checks()
    names = (("OriginCore", ceremony.origin_core), ("Stake", ceremony.stake), ("OSTGateway", ceremony.ost_gateway))
    for name, address in names:
        code = get_code(address)
        checks.expect(bool(code), f"{name} at {address}: there is no contract at this address")
        if code:
            checks.expect(code_matches(bytes(code), load_artifact(name)),
                          f"{name} at {address}: its code is not the {name} this program deploys")
    checks.expect(create_address(ceremony.deployer, ceremony.origin_core_nonce) == ceremony.origin_core,
                  f"OriginCore at {ceremony.origin_core} was not created by the deployer {ceremony.deployer} "
                  f"with nonce {ceremony.origin_core_nonce}")
    checks.expect(create_address(ceremony.origin_core, 1) == ceremony.stake,
                  f"Stake at {ceremony.stake} is not the one OriginCore {ceremony.origin_core} created")
    checks.expect(create_address(ceremony.deployer, ceremony.ost_gateway_nonce) == ceremony.ost_gateway,
                  f"OSTGateway at {ceremony.ost_gateway} was not created by the deployer {ceremony.deployer} "
                  f"with nonce {ceremony.ost_gateway_nonce}")
    if checks.problems:
        return checks.problems  # reading views of foreign code would only add noise
    identifier = "0x" + bytes(read("OriginCore", ceremony.origin_core, "coreIdentifier")).hex()
    checks.expect(identifier == plan.core_identifier.lower(),
                  f"OriginCore's core identifier is {identifier}, the plan's is {plan.core_identifier}")
    checks.expect(read("OriginCore", ceremony.origin_core, "stake") == ceremony.stake,
                  "OriginCore points at another Stake contract")
    weight = int(read("Stake", ceremony.stake, "minimumWeight"))
    checks.expect(weight == plan.minimum_weight,
                  f"Stake's minimum weight is {units.format_amount(weight)}, the plan's is "
                  f"{units.format_amount(plan.minimum_weight)}")
    checks.expect(read("Stake", ceremony.stake, "originCore") == ceremony.origin_core,
                  "Stake belongs to another OriginCore")
    checks.expect(read("Stake", ceremony.stake, "initializer") == ceremony.deployer,
                  f"Stake's initializer is not the deployer {ceremony.deployer}")
    checks.expect(read("Stake", ceremony.stake, "token") == ceremony.ost, f"Stake takes another token than OST {ceremony.ost}")
    checks.expect(read("OSTGateway", ceremony.ost_gateway, "token") == ceremony.ost,
                  f"OSTGateway takes another token than OST {ceremony.ost}")
    checks.expect(read("OSTGateway", ceremony.ost_gateway, "core") == ceremony.origin_core,
                  "OSTGateway serves another OriginCore")
    checks.expect(bool(get_code(ceremony.ost)), f"the OST token {ceremony.ost} has no code")
    return checks.problems


__all__ = ["CEREMONY_FILE", "Ceremony", "CeremonyValidator", "ceremony_document", "ceremony_path",
           "ceremony_problems", "contract_problems", "load_ceremony", "write_ceremony"]
