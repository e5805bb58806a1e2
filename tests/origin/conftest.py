"""Fixtures of the origin suite: real geth `--dev` nodes, funded worlds on any origin node, the operator
who starts the auxiliary node from the generated genesis, and one deployment run through the engine."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from eth_account import Account

from mosaic_tui import deploy, devnet, events, genesis, keys, toolchain, verify
from mosaic_tui.journal import Journal, journal_path
from mosaic_tui.plan import load_plan
from tests.helpers import deploy as deploy_contract
from tests.helpers import transact
from tests.origin.geth import GethNode, start_geth
from tests.reliability.world import AUXILIARY_CHAIN_ID, OST, PASSPHRASE, core_identifier, write_keystore

GethFactory = Callable[..., GethNode]


@pytest.fixture
def geth_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GethFactory]:
    """Start real geth --dev nodes in temporary data folders; each is stopped (by PID) at the end."""
    started: list[GethNode] = []

    def start(**kwargs: Any) -> GethNode:
        node = start_geth(tmp_path_factory.mktemp("geth"), **kwargs)
        started.append(node)
        return node

    yield start
    for node in reversed(started):
        node.stop()


@dataclass
class GanacheNode:
    port: int
    process: subprocess.Popen[bytes] = field(repr=False)
    chain_id: int = 1337

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def w3(self) -> Any:
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def ganache(tmp_path: Path) -> Iterator[GanacheNode]:
    """ganache 7 (EthereumJS), the pinned test tool, sealing a block every second; stopped by PID."""
    port = devnet.free_port()
    log = (tmp_path / "ganache.log").open("wb")
    process = subprocess.Popen([str(toolchain.install_ganache()), "--server.host", "127.0.0.1", "--server.port",
                                str(port), "--chain.chainId", "1337", "--wallet.deterministic", "--miner.blockTime",
                                "1", "--logging.quiet"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    node = GanacheNode(port, process)
    try:
        deadline = time.monotonic() + 60
        while not devnet.answers(node.rpc_url):
            assert process.poll() is None, (tmp_path / "ganache.log").read_text()
            assert time.monotonic() < deadline, "ganache did not answer within 60 s"
            time.sleep(0.2)
        yield node
    finally:
        node.stop()
        log.close()


@dataclass
class OriginWorld:
    """What an operator has on an origin chain: an OST token, funded keystore accounts."""

    url: str
    chain_id: int
    token: str
    validators: list[Any]  # eth-account LocalAccounts, funded with ETH and OST
    refs: list[str]  # keystore:<path> of each validator
    proposer_ref: str
    deployer_ref: str  # "node" (the node's unlocked account) or a keystore reference


def make_origin_world(w3: Any, url: str, directory: Path, count: int, *, funder: str | None = None,
                      deployer_ref: str = "node") -> OriginWorld:
    """A token deployed by the node's first unlocked account (the deployer), validators funded from it."""
    funder = funder or w3.eth.accounts[0]
    token = deploy_contract(w3, "EIP20Token", "Simple Token", "OST", 18, 10**27, sender=funder)
    validators = [Account.create() for _ in range(count)]
    refs = []
    for index, account in enumerate(validators):
        refs.append(f"keystore:{write_keystore(directory / 'keys' / f'validator{index}.json', account)}")
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": funder, "to": account.address,
                                                                     "value": 10**18}))
        transact(w3, token.functions.transfer(account.address, 5000 * OST), sender=funder)
    proposer = Account.create()
    proposer_ref = f"keystore:{write_keystore(directory / 'keys' / 'proposer.json', proposer)}"
    return OriginWorld(url, int(w3.eth.chain_id), token.address, validators, refs, proposer_ref, deployer_ref)


def world_plan(world: OriginWorld, *, confirmations: int | str, **origin: Any) -> dict[str, Any]:
    members = [{"origin_address": v.address, "auxiliary_address": Account.create().address, "stake": "1000 OST",
                "gateway_stake": "10 OST", "origin_key": ref, "auxiliary_key": "node"}
               for v, ref in zip(world.validators, world.refs, strict=True)]
    return {
        "plan_version": 1, "devnet": False, "out_dir": "out",
        "core": {"identifier": core_identifier(world.chain_id), "minimum_weight": "1000 OST"},
        "origin": {"rpc": world.url, "chain_id": world.chain_id, "ost": world.token, "deployer": world.deployer_ref,
                   "deployer_gateway_stake": "100 OST", "confirmations": confirmations, **origin},
        "auxiliary": {"rpc": f"http://127.0.0.1:{devnet.free_port()}", "chain_id": AUXILIARY_CHAIN_ID,
                      "initial_proposer": world.proposer_ref, "block_time": 1, "gas_limit": 30_000_000,
                      "gas_price": "1 gwei", "epoch_length": 10},
        "validators": members,
    }


def write_plan(directory: Path, plan: dict[str, Any]) -> Path:
    path = directory / "plan.toml"
    path.write_text(tomli_w.dumps(plan))
    return path


@dataclass
class Operator:
    """Plays the operator: once step 3 wrote genesis.json (and `ready()` says so), starts the auxiliary
    node from it at the plan's URL, the way the printed instructions say."""

    anvil_factory: Any
    # True: a block every block_time seconds, as AuRa authorities seal them; False: blocks only for
    # transactions, so the chain is still at its genesis block when step 4 starts.
    seals_empty_blocks: bool = True
    started: list[devnet.AnvilNode] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def watch(self, plan_path: Path, ready: Callable[[], bool] = lambda: True) -> None:
        thread = threading.Thread(target=self._run, args=(plan_path, ready), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _run(self, plan_path: Path, ready: Callable[[], bool]) -> None:
        target = plan_path.parent / "out" / "genesis.json"
        while not self.stop.is_set():
            if target.is_file() and ready():
                plan = load_plan(plan_path)
                port = int(plan.auxiliary.rpc.rsplit(":", 1)[1])
                # A block every block_time seconds, as an AuRa authority seals them, empty or not.
                self.started.append(self.anvil_factory(
                    name="auxiliary", port=port, chain_id=plan.auxiliary.chain_id, hardfork=genesis.HARDFORK,
                    block_time=plan.auxiliary.block_time if self.seals_empty_blocks else None,
                    accounts=0, genesis=target, extra_args=genesis.anvil_flags(plan)))
                self._play_the_engine(plan)
                return
            time.sleep(0.05)

    def _play_the_engine(self, plan: Any) -> None:
        """anvil is no AuRa engine: make its SYSTEM call to ProposerSet.finalizeChange whenever one is due
        (first enablement, then after the hand-over signalled a change), as Nethermind would."""
        from mosaic_tui.steps.auxiliary import devnet_engine_finalize

        while not self.stop.wait(0.3):
            try:
                devnet_engine_finalize(plan.auxiliary.rpc, plan)
            except (OSError, devnet.DevnetError):
                if self.stop.is_set():
                    return


@pytest.fixture
def operator(anvil_factory: Any) -> Iterator[Operator]:
    watcher = Operator(anvil_factory)
    yield watcher
    watcher.stop.set()
    for thread in watcher.threads:
        thread.join(30)


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, PASSPHRASE)


@dataclass
class Deployed:
    plan_path: Path
    events: list[events.Event]

    @property
    def outputs(self) -> dict[str, Any]:
        return Journal.load(journal_path(self.plan_path)).outputs()

    def waits(self) -> list[str]:
        return [e.reason for e in self.events if isinstance(e, events.Waiting)]

    def failed_checks(self) -> list[str]:
        checks = verify.run_checks(load_plan(self.plan_path), self.outputs)
        return [f"{c.name}: {c.detail}" for c in checks if not c.ok]


def run_deployment(plan_path: Path, hook: Callable[[events.Event], None] = lambda event: None, *,
                   upto: str | None = None) -> Deployed:
    """The engine's own headless run (what `mosaic-tui deploy PLAN --yes` does), its events recorded;
    `upto` ends it after that step (as a run stopped there would)."""
    seen: list[events.Event] = []

    def emit(event: events.Event) -> None:
        seen.append(event)
        hook(event)

    prepared = deploy.prepare(plan_path, on_wait=lambda text: emit(events.Waiting("-", text)))
    steps = None
    if upto is not None:
        from mosaic_tui.steps import build_steps

        factories = build_steps(prepared.ctx)
        keys_ = [factory.__module__.rsplit(".", 1)[1] for factory in factories]
        steps = factories[:keys_.index(upto) + 1]
    deploy.execute(prepared, emit, steps=steps)
    return Deployed(plan_path, seen)
