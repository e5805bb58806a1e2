"""`mosaic-tui verify`: what must be true on both chains after a finished deployment, one line a check.

It trusts nothing the journal says about success: it reads both chains and compares them with the
plan and with our compiled artifacts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mosaic_tui.chain.rpc import make_web3
from mosaic_tui.contracts import load_artifact
from mosaic_tui.metablock import genesis_kernel


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def code_matches(code: bytes, artifact: dict[str, Any]) -> bool:
    """Runtime code equals the artifact's, except where the constructor wrote immutables."""
    expected = bytearray(bytes.fromhex(artifact["deployedBytecode"][2:]))
    found = bytearray(code)
    if len(found) != len(expected):
        return False
    for start, length in artifact.get("immutableRanges", []):
        found[start:start + length] = expected[start:start + length] = bytes(length)
    return found == expected


CODE = [("origin", "OriginCore", "origin_core"), ("origin", "Stake", "stake"), ("origin", "OSTGateway", "ost_gateway"),
        ("auxiliary", "OriginBlockStore", "origin_block_store"),
        ("auxiliary", "AuxiliaryBlockStore", "auxiliary_block_store"), ("auxiliary", "PollingPlace", "polling_place"),
        ("auxiliary", "KernelGateway", "kernel_gateway"), ("auxiliary", "OSTPrime", "ost_prime"),
        ("auxiliary", "ProposerSet", "proposer_set")]


# Every address one of the deployment's contracts holds must be the deployment's own: a contract wired
# to a look-alike (another OriginCore, another gateway) is a split deployment, whatever its code.
# (chain, contract, its output key, getter, output key the getter must return)
CROSS_REFERENCES = [
    ("origin", "OriginCore", "origin_core", "stake", "stake"),
    ("origin", "Stake", "stake", "originCore", "origin_core"),
    ("origin", "Stake", "stake", "token", "ost"),
    ("origin", "OSTGateway", "ost_gateway", "core", "origin_core"),
    ("origin", "OSTGateway", "ost_gateway", "token", "ost"),
    ("auxiliary", "KernelGateway", "kernel_gateway", "originCore", "origin_core"),
    ("auxiliary", "KernelGateway", "kernel_gateway", "originBlockStore", "origin_block_store"),
    ("auxiliary", "KernelGateway", "kernel_gateway", "pollingPlace", "polling_place"),
    ("auxiliary", "OSTPrime", "ost_prime", "ostGateway", "ost_gateway"),
    ("auxiliary", "OSTPrime", "ost_prime", "originBlockStore", "origin_block_store"),
    ("auxiliary", "PollingPlace", "polling_place", "originBlockStore", "origin_block_store"),
    ("auxiliary", "PollingPlace", "polling_place", "auxiliaryBlockStore", "auxiliary_block_store"),
    ("auxiliary", "PollingPlace", "polling_place", "kernelGateway", "kernel_gateway"),
    ("auxiliary", "OriginBlockStore", "origin_block_store", "pollingPlace", "polling_place"),
    ("auxiliary", "AuxiliaryBlockStore", "auxiliary_block_store", "pollingPlace", "polling_place"),
    ("auxiliary", "ProposerSet", "proposer_set", "pollingPlace", "polling_place"),
    ("auxiliary", "ProposerSet", "proposer_set", "initialProposer", "initial_proposer"),
]


def _ost(plan: Any, outputs: dict[str, Any]) -> str:
    return str(outputs["ost"]) if plan.deploys_ost else str(plan.origin.ost)


def nonce_gaps(journalled: set[int], chain_nonce: int, *, strict: bool) -> list[int]:
    """The nonces of a sender that the journal does not account for: every nonce between its first
    journalled one and the chain's count (strict: the deployment's own keys), or up to its last
    journalled one (a validator's origin key, which its validator node goes on using)."""
    if not journalled:
        return []
    end = chain_nonce if strict else max(journalled) + 1
    return [n for n in range(min(journalled), max(end, max(journalled) + 1)) if n not in journalled or n >= chain_nonce]


def _nonce_checks(plan: Any, chains: dict[str, Any], journal: Any, outputs: dict[str, Any],
                  check: Callable[[str, Callable[[], tuple[bool, str]]], None]) -> None:
    """Each sender's nonces on each chain are the journal's: a transaction signed outside it (a second
    OriginCore by a run that lost its journal, a look-alike gateway) shows up as a nonce it lacks."""
    senders: dict[tuple[str, str], set[int]] = {}
    for entry in journal.entries():
        if entry.chain and entry.sender and entry.nonce is not None and entry.receipt is not None:
            senders.setdefault((entry.chain, entry.sender.lower()), set()).add(int(entry.nonce))
    validators = {v.origin_address.lower() for v in plan.validators}
    for (chain, sender), nonces in sorted(senders.items()):
        strict = sender not in validators  # the deployer, the initial proposer

        def accounted(chain: str = chain, sender: str = sender, nonces: set[int] = nonces,
                      strict: bool = strict) -> tuple[bool, str]:
            from web3 import Web3

            count = int(chains[chain].eth.get_transaction_count(Web3.to_checksum_address(sender), "latest"))
            gaps = nonce_gaps(nonces, count, strict=strict)
            if not gaps:
                return True, f"nonces {min(nonces)}..{max(nonces)} all journalled; the chain counts {count}"
            beyond = [n for n in gaps if n >= count]
            if beyond:
                return False, (f"the journal holds mined transactions at nonce {beyond[0]} and up, but the chain "
                               f"counts only {count}: the journal does not describe this chain")
            shown = ", ".join(str(n) for n in gaps[:5]) + (" …" if len(gaps) > 5 else "")
            return False, (f"the chain counts {count} transactions, the journal has none for nonce {shown}: "
                           "something this deployment did not journal was signed with this key")
        check(f"{chain} nonces of {sender} accounted for by the journal", accounted)


def run_checks(plan: Any, outputs: dict[str, Any], journal: Any = None) -> list[Check]:
    """Every check, one line each; with the journal, also that it accounts for every nonce its senders used."""
    chains = {"origin": make_web3(plan.origin.rpc), "auxiliary": make_web3(plan.auxiliary.rpc)}
    checks: list[Check] = []

    def check(name: str, test: Callable[[], tuple[bool, str]]) -> None:
        try:
            ok, detail = test()
        except KeyError as missing:
            ok, detail = False, f"the journal has no output {missing}; the deployment has not got that far"
        except Exception as error:  # a chain that does not answer, a contract that reverts
            ok, detail = False, f"could not be read ({type(error).__name__}: {str(error)[:120]})"
        checks.append(Check(name, ok, detail))

    def contract(chain: str, name: str, key: str) -> Any:
        return chains[chain].eth.contract(address=outputs[key], abi=load_artifact(name)["abi"])

    for chain, name, key in CODE:
        def code_check(chain: str = chain, name: str = name, key: str = key) -> tuple[bool, str]:
            code = bytes(chains[chain].eth.get_code(outputs[key]))
            return code_matches(code, load_artifact(name)), f"{outputs[key]} on {chain}"
        check(f"{name} code", code_check)

    auxiliaries = [v.auxiliary_address for v in plan.validators]
    stakes = [v.stake for v in plan.validators]

    # Validators join later (a deposit on origin opens them into the next kernel) and none can leave: the
    # plan's set is the start of Stake's list with the plan's weights at K0, and everyone after it joined later.
    @functools.cache
    def staked() -> tuple[str, ...]:
        """Stake's validators (auxiliary addresses), read once for the three checks that need them."""
        return tuple(contract("origin", "Stake", "stake").functions.getValidatorAddresses().call())

    def stake_weights() -> tuple[bool, str]:
        stake = contract("origin", "Stake", "stake")
        listed = list(staked())
        weights = [stake.functions.weight(0, a).call() for a in auxiliaries]
        joined = listed[len(auxiliaries):]
        later = all(stake.functions.weight(0, a).call() == 0 for a in joined)
        ok = listed[:len(auxiliaries)] == auxiliaries and weights == stakes and later
        return ok, (f"{len(listed)} validators, K0 weights {'match' if weights == stakes else 'differ'}"
                    + (f", {len(joined)} joined after K0" if joined else ""))

    def polling_place() -> tuple[bool, str]:
        """PollingPlace holds the active kernel's validators: Stake's weights at the active kernel's height."""
        validators, weights = contract("auxiliary", "PollingPlace", "polling_place").functions.getValidators().call()
        height = int(contract("auxiliary", "KernelGateway", "kernel_gateway").functions.activeKernelHeight().call())
        stake = contract("origin", "Stake", "stake").functions
        expected = {a: w for a in staked() if (w := stake.weight(height, a).call())}
        found = dict(zip(validators, weights, strict=True))
        ok = found == expected and all(found.get(a) == w for a, w in zip(auxiliaries, stakes, strict=True))
        return ok, (f"{len(validators)} validators with {'the' if ok else 'other than the'} weights Stake gives "
                    f"them at the active kernel K{height}")

    def kernel() -> tuple[bool, str]:
        """On a live meta-blockchain the validators open K1, K2, … in OriginCore and prove them on the
        auxiliary chain one by one: the active kernel is the one OriginCore opened at its height, at
        most the open one, and K0 is the plan's."""
        gateway = contract("auxiliary", "KernelGateway", "kernel_gateway").functions
        core = contract("origin", "OriginCore", "origin_core").functions
        active, height = bytes(gateway.getActiveKernelHash().call()), int(gateway.activeKernelHeight().call())
        open_height = int(core.openKernelHeight().call())
        k0 = genesis_kernel(auxiliaries, stakes).hash()
        if bytes(core.kernelHashes(0).call()) != k0:
            return False, f"OriginCore's K0 0x{bytes(core.kernelHashes(0).call()).hex()[:16]}… is not the plan's K0"
        if height > open_height:
            return False, f"active kernel 0x{active.hex()[:16]}… at height {height}, but OriginCore is open at {open_height}"
        opened = bytes(core.kernelHashes(height).call())
        if active != opened:
            return False, (f"active kernel 0x{active.hex()[:16]}… at height {height} is not one OriginCore opened "
                           f"(OriginCore's K{height} is 0x{opened.hex()[:16]}…)")
        behind = "" if height == open_height else f", {open_height - height} behind"
        return True, f"active K{height} 0x{active.hex()[:16]}…, OriginCore open at K{open_height}{behind}"

    def minted() -> tuple[bool, str]:
        prime = contract("auxiliary", "OSTPrime", "ost_prime")
        stakes_ = outputs["gateway_stakes"]
        done = [bool(prime.functions.minted(bytes.fromhex(s["message_hash"][2:])).call()) for s in stakes_]
        total = sum(int(s["amount"]) for s in stakes_)
        left = chains["auxiliary"].eth.get_balance(outputs["ost_prime"])
        ok = all(done) and left == plan.auxiliary.base_coin_supply - total
        return ok, f"{sum(done)} of {len(done)} gateway stakes minted, {total} wei released"

    def handed_over() -> tuple[bool, str]:
        """The initial proposer is gone and the proposers are staked validators, every planned one among them
        (ProposerSet follows PollingPlace's set once the engine finalises the change, so it may lag a join)."""
        proposers = contract("auxiliary", "ProposerSet", "proposer_set")
        listed = list(proposers.functions.getValidators().call())
        ok = (bool(proposers.functions.handedOver().call()) and set(auxiliaries) <= set(listed) <= set(staked())
              and len(set(listed)) == len(listed))
        return ok, f"ProposerSet lists {len(listed)} proposers; initial proposer {'gone' if outputs['initial_proposer'] not in listed else 'still there'}"

    def proposer_set_in_genesis() -> tuple[bool, str]:
        code = bytes(chains["auxiliary"].eth.get_code(outputs["proposer_set"], 0))
        return code_matches(code, load_artifact("ProposerSet")), f"{outputs['proposer_set']} at block 0"

    def spec_source() -> tuple[bool, str]:
        import json
        from pathlib import Path

        spec = json.loads(Path(outputs["spec_path"]).read_text(encoding="utf-8"))
        source = spec["engine"]["authorityRound"]["params"]["validators"]
        return source == {"safeContract": outputs["proposer_set"].lower()}, f"validators: {source}"

    def genesis_files() -> tuple[bool, str]:
        import hashlib
        from pathlib import Path

        same = [hashlib.sha256(Path(outputs[f"{key}_path"]).read_bytes()).hexdigest() == outputs[f"{key}_sha256"]
                for key in ("genesis", "spec")]
        return all(same), "genesis.json and spec.json as step 3 wrote them" if all(same) else "edited since step 3"

    def genesis_anchored() -> tuple[bool, str]:
        anchor = bytes(contract("auxiliary", "AuxiliaryBlockStore", "auxiliary_block_store")
                       .functions.initialBlockHash().call())
        block0 = bytes(chains["auxiliary"].eth.get_block(0)["hash"])
        return anchor == block0, f"AuxiliaryBlockStore's initial block 0x{anchor.hex()[:16]}…"

    def gas_price() -> tuple[bool, str]:
        price = chains["auxiliary"].eth.gas_price
        return price >= plan.auxiliary.gas_price, f"node reports {price} wei, kernel gas price {plan.auxiliary.gas_price} wei"

    for chain, name, key, getter, expected_key in CROSS_REFERENCES:
        def reference(chain: str = chain, name: str = name, key: str = key, getter: str = getter,
                      expected_key: str = expected_key) -> tuple[bool, str]:
            found = str(contract(chain, name, key).functions[getter]().call())
            expected = _ost(plan, outputs) if expected_key == "ost" else str(outputs[expected_key])
            ok = found.lower() == expected.lower()
            return ok, (f"{found}, the deployment's own" if ok else
                        f"{found}, but the deployment's {expected_key} is {expected}: a split deployment")
        check(f"{name}.{getter} is the deployment's {expected_key}", reference)

    def core_identifier() -> tuple[bool, str]:
        found = "0x" + bytes(contract("origin", "OriginCore", "origin_core").functions.coreIdentifier().call()).hex()
        aux = "0x" + bytes(contract("auxiliary", "PollingPlace", "polling_place").functions.auxiliaryCoreIdentifier()
                           .call()).hex()
        ok = found == aux == plan.core_identifier.lower()
        return ok, f"OriginCore {found}, PollingPlace {aux}, plan {plan.core_identifier}"

    check("core identifier on both chains is the plan's", core_identifier)
    if journal is not None:
        _nonce_checks(plan, chains, journal, outputs, check)
    check("Stake validators and weights", stake_weights)
    check("PollingPlace validators and weights", polling_place)
    check("active kernel is one OriginCore opened (K0 the plan's, at most the open one)", kernel)
    check("base coin minted", minted)
    check("ProposerSet handed over", handed_over)
    check("auxiliary gas price raised", gas_price)
    check("ProposerSet in the auxiliary genesis", proposer_set_in_genesis)
    check("spec.json's validator source is ProposerSet from block 0", spec_source)
    check("genesis files unchanged since step 3", genesis_files)
    check("AuxiliaryBlockStore anchored at the genesis block", genesis_anchored)
    return checks
