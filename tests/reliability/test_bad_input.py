"""A corpus of bad plans and field values: each refused with exit code 2, naming its field, no traceback,
and nothing sent (the origin chain's block number does not move).

The cases run the real command line in this process (`mosaic_tui.cli.main`, the same function the
installed `mosaic-tui` calls) against a real origin chain with a real OST token and funded keystore
accounts; a few run through a real subprocess too, to see exactly what an operator's terminal gets.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from mosaic_tui import cli, devnet, keys
from mosaic_tui.contracts import load_artifact
from mosaic_tui.steps.common import largest_validator_count
from tests.helpers import deploy
from tests.reliability.world import (
    DELETE,
    PASSPHRASE,
    World,
    core_identifier,
    fund,
    make_world,
    plan_dict,
    write_keystore,
)

BadPlan = Callable[["Corpus", Path], "dict[str, Any] | str"]


@dataclass
class Corpus:
    world: World
    html_url: str  # answers HTTP, but with a web page, not JSON-RPC
    poor: Any  # holds ETH, no OST
    broke: Any  # holds OST, no ETH
    not_erc20: str  # a contract without totalSupply / balanceOf
    extra_refs: dict[str, str] = field(default_factory=dict)

    def plan(self, **changes: Any) -> dict[str, Any]:
        return plan_dict(self.world, auxiliary_rpc=f"http://127.0.0.1:{devnet.free_port()}", **changes)


class _HtmlPage(http.server.BaseHTTPRequestHandler):
    def _page(self) -> None:
        body = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    directory = tmp_path_factory.mktemp("corpus")
    node = devnet.start_anvil(chain_id=31337)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        world = make_world(node, directory)
        w3 = node.w3
        token = w3.eth.contract(address=world.token, abi=load_artifact("EIP20Token")["abi"])
        poor, broke = Account.create(), Account.create()
        fund(w3, token, poor.address, ost=0)
        fund(w3, token, broke.address, eth=0)
        refs = {"poor": f"keystore:{write_keystore(directory / 'keys' / 'poor.json', poor)}",
                "broke": f"keystore:{write_keystore(directory / 'keys' / 'broke.json', broke)}"}
        stranger = Account.create()
        not_erc20 = deploy(w3, "ProposerSet", stranger.address, stranger.address).address
        yield Corpus(world, f"http://127.0.0.1:{server.server_address[1]}", poor, broke, not_erc20, refs)
    finally:
        server.shutdown()
        node.stop()


def _key_hex(account: Any) -> str:
    return bytes(account.key).hex()


def _flip_case(address: str) -> str:
    """The address with one letter's case changed: a broken EIP-55 checksum."""
    index = next(i for i, c in enumerate(address[2:], start=2) if c.isalpha())
    return address[:index] + address[index].swapcase() + address[index + 1:]


def _keystore_file(c: Corpus, tmp: Path, name: str, content: str | None) -> str:
    path = tmp / name
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    return f"keystore:{path}"


def _many_validators(c: Corpus, count: int) -> list[dict[str, Any]]:
    def address(side: str, index: int) -> str:  # distinct, well-formed addresses without making thousands of keys
        return to_checksum_address(keccak(f"{side} {index}".encode())[12:])
    return [{"origin_address": address("origin", i), "auxiliary_address": address("auxiliary", i),
             "stake": "1000 OST", "gateway_stake": "10 OST", "origin_key": "node", "auxiliary_key": "node"}
            for i in range(count)]


# An auxiliary gas limit so high that only the origin block bounds the validator count: Stake genesis is split
# into chunks, but its last `initialize` reads every validator back, so past some count nothing fits the origin
# block. The case asks for one validator more than the largest count the preflight names for these limits.
_ROOMY_AUXILIARY_GAS_LIMIT = 1_000_000_000


def _past_the_origin_block(c: Corpus) -> dict[str, Any]:
    origin_limit = int(c.world.node.w3.eth.get_block("latest")["gasLimit"])
    most = largest_validator_count(origin_limit, _ROOMY_AUXILIARY_GAS_LIMIT)
    assert most == largest_validator_count(origin_limit, 10 * _ROOMY_AUXILIARY_GAS_LIMIT), "the origin block bounds it"
    return c.plan(validators=_many_validators(c, most + 1), **{"auxiliary.gas_limit": _ROOMY_AUXILIARY_GAS_LIMIT})


def _duplicated(plan: dict[str, Any], index: int) -> dict[str, Any]:
    plan["validators"].append(dict(plan["validators"][index]))
    return plan


def _shared_auxiliary(plan: dict[str, Any]) -> dict[str, Any]:
    plan["validators"][1]["auxiliary_address"] = plan["validators"][0]["auxiliary_address"]
    return plan


def _changed(**changes: Any) -> BadPlan:
    return lambda c, tmp: c.plan(**{path.replace("__", "."): value for path, value in changes.items()})


def _with(build: Callable[[Corpus, Path], dict[str, Any]]) -> BadPlan:
    return build


def _valid_text(c: Corpus) -> str:
    return tomli_w.dumps(c.plan())


# (name, the plan, the field the message must name, a fragment of the message)
CASES: list[tuple[str, BadPlan, str, str]] = [
    # addresses
    ("ost too short", _changed(origin__ost="0x1234"), "origin.ost", "40 hex digits"),
    ("ost not hex", _changed(origin__ost="0x" + "g" * 40), "origin.ost", "hex digits"),
    ("origin address bad checksum", _with(lambda c, t: c.plan(**{
        "validators.0.origin_address": _flip_case(c.world.accounts[1].address)})),
     "validators[0].origin_address", "checksummed"),
    ("auxiliary address without 0x", _with(lambda c, t: c.plan(**{
        "validators.1.auxiliary_address": Account.create().address[2:]})),
     "validators[1].auxiliary_address", "start with 0x"),
    ("zero address", _changed(validators__0__auxiliary_address="0x" + "0" * 40),
     "validators[0].auxiliary_address", "zero address"),
    ("address as a number", _changed(validators__0__auxiliary_address=12345),
     "validators[0].auxiliary_address", "written as text"),
    ("address 41 digits", _changed(validators__2__auxiliary_address="0x" + "a" * 41),
     "validators[2].auxiliary_address", "41 digits"),
    # amounts
    ("negative stake", _changed(validators__0__stake="-5 OST"), "validators[0].stake", "negative"),
    ("fractional wei", _changed(validators__0__stake="1.5 wei"), "validators[0].stake", "whole number"),
    ("below one wei", _changed(validators__0__gateway_stake="0.0000000000000000001 OST"),
     "validators[0].gateway_stake", "fraction of a wei"),
    ("overflowing amount", _changed(validators__1__stake="1e80 OST"), "validators[1].stake", "uint256"),
    ("overflowing digits", _changed(auxiliary__base_coin_supply=str(2**256)), "auxiliary.base_coin_supply",
     "uint256"),
    ("unknown unit", _changed(validators__0__stake="1000 BTC"), "validators[0].stake", "unknown unit"),
    ("float amount", _changed(origin__deployer_gateway_stake=100.5), "origin.deployer_gateway_stake", "floats"),
    ("boolean amount", _changed(validators__2__gateway_stake=True), "validators[2].gateway_stake", "true/false"),
    ("words for an amount", _changed(validators__0__gateway_stake="lots"), "validators[0].gateway_stake",
     "expected an amount"),
    ("empty amount", _changed(origin__deployer_gateway_stake=" "), "origin.deployer_gateway_stake",
     "nothing was entered"),
    ("zero gas price", _changed(auxiliary__gas_price="0 gwei"), "auxiliary.gas_price", "above zero"),
    ("supply below gateway stakes", _changed(auxiliary__base_coin_supply="5 OST"), "auxiliary.base_coin_supply",
     "less than"),
    ("stake below minimum weight", _changed(validators__1__stake="999 OST"), "validators[1].stake",
     "below the minimum weight"),
    ("zero gateway stake", _changed(validators__0__gateway_stake="0"), "validators[0].gateway_stake",
     "needs a gateway stake"),
    ("zero minimum weight", _changed(core__minimum_weight="0 OST"), "core.minimum_weight", "at least 1 wei"),
    # chain ids
    ("chain id zero", _changed(origin__chain_id=0), "origin.chain_id", "at least 1"),
    ("chain id negative", _changed(auxiliary__chain_id=-1), "auxiliary.chain_id", "at least 1"),
    ("chain id above 8 bytes", _changed(auxiliary__chain_id=str(2**64)), "auxiliary.chain_id", "at most"),
    ("chain id words", _changed(origin__chain_id="mainnet"), "origin.chain_id", "chain id"),
    ("auxiliary chain id is origin's", _with(lambda c, t: c.plan(**{"auxiliary.chain_id": c.world.node.chain_id})),
     "auxiliary.chain_id", "own chain id"),
    ("origin chain id not the node's", _changed(origin__chain_id=5, core__identifier=core_identifier(5)),
     "origin.chain_id", "is chain 31337"),
    # validators
    ("duplicate validator", _with(lambda c, t: _duplicated(c.plan(), 0)), "validators[3].origin_address",
     "already used"),
    ("shared auxiliary address", _with(lambda c, t: _shared_auxiliary(c.plan())), "validators[1].auxiliary_address",
     "already used"),
    ("no validators", _changed(validators=[]), "validators", "no validators"),
    ("validators not tables", _changed(validators="all of them"), "validators", "[[validators]]"),
    ("too many validators for the origin block", _with(lambda c, t: _past_the_origin_block(c)),
     "validators", "do not fit the origin block gas limit"),
    ("too many validators for the auxiliary block", _changed(auxiliary__gas_limit=300_000), "auxiliary.gas_limit",
     "auxiliary block gas limit"),
    # core identifier
    ("core identifier too short", _changed(core__identifier="0x1234"), "core.identifier", "20 bytes"),
    ("core identifier other chain", _changed(core__identifier=core_identifier(1)), "core.identifier",
     "first 8 bytes"),
    ("core identifier not hex", _changed(core__identifier="0x" + "z" * 40), "core.identifier", "40 hex digits"),
    # keys
    ("keystore is a folder", _with(lambda c, t: c.plan(**{
        "validators.0.origin_key": _keystore_file(c, t, "folder.json", None)})),
     "validators[0].origin_key", "cannot be read"),
    ("keystore missing", _changed(origin__deployer="keystore:/nonexistent/key.json"), "origin.deployer",
     "does not exist"),
    ("keystore not JSON", _with(lambda c, t: c.plan(**{
        "origin.deployer": _keystore_file(c, t, "garbage.json", "\x00\x01 not json")})),
     "origin.deployer", "cannot be read as a JSON keystore"),
    ("keystore JSON but no keystore", _with(lambda c, t: c.plan(**{
        "auxiliary.initial_proposer": _keystore_file(c, t, "other.json", json.dumps({"version": 3}))})),
     "auxiliary.initial_proposer", "not a valid Ethereum keystore"),
    ("keystore of another account", _with(lambda c, t: c.plan(**{
        "validators.0.origin_key": c.world.refs[2], "validators.1.origin_key": c.world.refs[1]})),
     "validators[0].origin_key", "opens the key of"),
    ("keyring entry missing", _changed(validators__2__origin_key="keyring:nobody-stored-this"),
     "validators[2].origin_key", "no entry named"),
    ("dev key outside a devnet", _changed(origin__deployer="dev:0"), "origin.deployer", "only on a devnet"),
    ("private key pasted as a reference", _with(lambda c, t: c.plan(**{
        "origin.deployer": "0x" + _key_hex(c.world.accounts[0])})), "origin.deployer", "looks like a private key"),
    ("unknown key reference", _changed(origin__deployer="vault:deployer"), "origin.deployer",
     "a key reference is one of"),
    ("proposer on the node", _changed(auxiliary__initial_proposer="node"), "auxiliary.initial_proposer",
     "before its node exists"),
    # endpoints
    ("unreachable RPC", _with(lambda c, t: c.plan(**{"origin.rpc": f"http://127.0.0.1:{devnet.free_port()}"})),
     "origin.rpc", "no node answers"),
    ("RPC that is a web page", _with(lambda c, t: c.plan(**{"origin.rpc": c.html_url})), "origin.rpc",
     "not as an Ethereum JSON-RPC node"),
    ("RPC with a wrong scheme", _changed(origin__rpc="ftp://127.0.0.1:8545"), "origin.rpc", "must start with"),
    ("RPC without host", _changed(auxiliary__rpc="http://:8546"), "auxiliary.rpc", "no host"),
    ("RPC port out of range", _changed(origin__rpc="http://127.0.0.1:99999"), "origin.rpc", "port"),
    # the OST token and balances
    ("OST without code", _with(lambda c, t: c.plan(**{"origin.ost": Account.create().address})), "origin.ost",
     "no contract code"),
    ("OST that is no ERC20", _with(lambda c, t: c.plan(**{"origin.ost": c.not_erc20})), "origin.ost",
     "does not answer ERC20"),
    ("OST deployed outside a devnet", _changed(origin__ost="deploy"), "origin.ost", "only a devnet plan"),
    ("validator without OST", _with(lambda c, t: c.plan(**{
        "validators.2.origin_address": c.poor.address, "validators.2.origin_key": c.extra_refs["poor"]})),
     "validators[2].origin_address", "holds 0 OST"),
    ("deployer without ETH", _with(lambda c, t: c.plan(**{"origin.deployer": c.extra_refs["broke"]})),
     "origin.deployer", "for gas"),
    # the file itself
    ("TOML syntax error", lambda c, t: _valid_text(c).replace("[origin]", "[origin", 1), "plan.toml",
     "not valid TOML"),
    ("unknown top-level key", _changed(colour="blue"), "colour", "no such key"),
    ("misspelt origin key", _with(lambda c, t: c.plan(**{"origin.rcp": "x"})), "origin.rcp", "did you mean rpc"),
    ("misspelt validator key", _with(lambda c, t: c.plan(**{"validators.0.stak": "1 OST"})),
     "validators[0].stak", "did you mean stake"),
    ("missing key", _changed(origin__rpc=DELETE), "origin.rpc", "missing"),
    ("other plan version", _changed(plan_version=2), "plan_version", "plan_version 1"),
    ("devnet not a boolean", _changed(devnet="yes"), "devnet", "true or false"),
    ("epoch length zero", _changed(auxiliary__epoch_length=0), "auxiliary.epoch_length", "at least 1"),
    ("block time too long", _changed(auxiliary__block_time=4000), "auxiliary.block_time", "at most 3600"),
    ("origin not a table", _changed(origin="http://127.0.0.1:8545"), "origin", "expected a table"),
    ("not UTF-8", lambda c, t: "\udcff", "plan.toml", "cannot be read"),
]


def write_plan(corpus: Corpus, tmp: Path, build: BadPlan) -> Path:
    plan = build(corpus, tmp)
    path = tmp / "plan.toml"
    if isinstance(plan, str):
        path.write_bytes(plan.encode("utf-8", "surrogateescape"))
    else:
        path.write_text(tomli_w.dumps(plan))
    return path


def block_number(corpus: Corpus) -> int:
    return int(devnet.rpc_call(corpus.world.node.rpc_url, "eth_blockNumber"), 16)


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)


def test_the_corpus_is_large_and_its_base_plan_is_good(corpus: Corpus, tmp_path: Path, passphrase: None,
                                                       capsys: pytest.CaptureFixture[str], figure: Any) -> None:
    """Without this the refusals below could come from a plan that is bad anyway."""
    assert len(CASES) >= 40 and len({name for name, *_ in CASES}) == len(CASES)
    path = write_plan(corpus, tmp_path, lambda c, t: c.plan())
    assert cli.main(["deploy", str(path), "--dry-run"]) == 0, capsys.readouterr().err
    assert "dry run: nothing was sent" in capsys.readouterr().out
    figure(f"bad input corpus: {len(CASES)} bad plans and field values")


@pytest.mark.parametrize(("name", "build", "field_name", "fragment"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_refused_before_anything_is_sent(corpus: Corpus, tmp_path: Path, passphrase: None,
                                                      capsys: pytest.CaptureFixture[str], name: str, build: BadPlan,
                                                      field_name: str, fragment: str) -> None:
    path = write_plan(corpus, tmp_path, build)
    before = block_number(corpus)
    code = cli.main(["deploy", str(path), "--yes"])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Traceback" not in out + err
    named = str(path) if field_name == "plan.toml" else field_name
    assert any(line.startswith((f"{named}:", f"error: {named}:")) for line in err.splitlines()), err
    assert fragment in err, err
    assert block_number(corpus) == before, "a transaction was sent"
    for account in corpus.world.accounts:
        assert _key_hex(account) not in (out + err).lower(), "a private key was echoed"


def test_wrong_passphrase(corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "not the passphrase")
    path = write_plan(corpus, tmp_path, lambda c, t: c.plan())
    before = block_number(corpus)
    assert cli.main(["deploy", str(path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "origin.deployer: the passphrase does not open the keystore" in err
    assert "not the passphrase" not in err and block_number(corpus) == before


def test_changed_plan_and_damaged_journal(corpus: Corpus, tmp_path: Path, passphrase: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A journal that belongs to another version of the plan, or that is damaged, stops everything."""
    path = write_plan(corpus, tmp_path, lambda c, t: c.plan())
    journal = tmp_path / "plan.state.json"
    journal.write_text(json.dumps({"version": 1, "sequence": 3, "plan_digest": "0" * 64, "actions": {},
                                   "steps": {}}))
    before = block_number(corpus)
    assert cli.main(["deploy", str(path), "--yes"]) == 2
    assert f"plan: {path} changed since its deployment started" in capsys.readouterr().err
    journal.write_text('{"version": 1, "sequ')
    assert cli.main(["deploy", str(path), "--yes"]) == 2
    assert "the journal is damaged: not valid JSON" in capsys.readouterr().err
    assert block_number(corpus) == before


SUBPROCESS_CASES = ["TOML syntax error", "RPC that is a web page", "keystore of another account",
                    "private key pasted as a reference"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_through_a_real_process(corpus: Corpus, tmp_path: Path, name: str) -> None:
    """What an operator's terminal shows: one sentence per problem on stderr, exit code 2."""
    _, build, field_name, fragment = next(case for case in CASES if case[0] == name)
    path = write_plan(corpus, tmp_path, build)
    before = block_number(corpus)
    env = {**os.environ, keys.PASSPHRASE_ENV: PASSPHRASE}
    result = subprocess.run([sys.executable, "-m", "mosaic_tui.cli", "deploy", str(path), "--yes"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and fragment in result.stderr
    assert (str(path) if field_name == "plan.toml" else field_name) in result.stderr
    assert block_number(corpus) == before
    assert _key_hex(corpus.world.accounts[0]) not in result.stdout + result.stderr

