"""Issue 13, item 3: `devnet = true` on a chain that is not our own local devnet sends nothing.

Dev keys are a public mnemonic, and step 0 hands out ETH and OST to them: on any chain but the
devnet that `mosaic-tui devnet up` / `deploy --devnet` started (and recorded in devnet.json) that is
the operator's money given away. Each case runs the real command line against real anvil nodes and
counts the blocks: exit code 2, a sentence naming `devnet`, no transaction.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mosaic_tui import cli, deploy, devnet, keys
from mosaic_tui.journal import journal_path
from tests.helpers import deploy as deploy_contract


def block_number(url: str) -> int:
    return int(devnet.rpc_call(url, "eth_blockNumber"), 16)


def write_plan(tmp_path: Path, url: str, chain_id: int, **origin: Any) -> Path:
    plan = deploy.devnet_plan_dict(2, origin_url=url, origin_chain_id=chain_id,
                                   auxiliary_url=f"http://127.0.0.1:{devnet.free_port()}")
    plan["origin"].update(origin)
    path = tmp_path / "mosaic-plan.toml"
    path.write_text(tomli_w.dumps(plan))
    return path


def refused(path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    before = block_number(url)
    code = cli.main(["deploy", str(path), "--yes"])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert block_number(url) == before, "a transaction was sent"
    assert not journal_path(path).exists(), "a journal was started"
    return err


@pytest.fixture
def recorded_devnet(isolated_home: Path) -> Any:
    """The operator's own devnet, as `mosaic-tui devnet up` starts and records it."""
    directory = devnet.default_dir()
    node = devnet.up(directory, port=devnet.free_port())
    yield node
    devnet.down(directory)


def test_a_devnet_plan_on_an_anvil_the_devnet_record_does_not_name_sends_nothing(
        anvil_factory: Any, recorded_devnet: devnet.AnvilNode, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    stranger = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID)  # same chain id, same dev accounts, not ours
    path = write_plan(tmp_path, stranger.rpc_url, stranger.chain_id)
    err = refused(path, stranger.rpc_url, capsys)
    assert f"error: devnet: the plan says devnet = true, but the anvil at origin.rpc {stranger.rpc_url} is not one " \
           f"the devnet record {devnet.default_dir() / devnet.RECORD} names" in err
    # The same plan on the recorded devnet is accepted.
    path = write_plan(tmp_path, recorded_devnet.rpc_url, recorded_devnet.chain_id)
    assert cli.main(["deploy", str(path), "--dry-run"]) == 0, capsys.readouterr().err


def test_the_audits_chain_id_1_with_a_real_token_and_dev_validators_sends_nothing(
        anvil_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], stop_devnet_nodes: Any) -> None:
    """The issue's scenario: devnet = true, chain id 1, a real OST token, dev: validators."""
    stop_devnet_nodes(devnet.default_dir())  # whatever a run that was not refused would start
    chain = anvil_factory(chain_id=1)
    token = deploy_contract(chain.w3, "EIP20Token", "Simple Token", "OST", 18, 10**27,
                            sender=keys.dev_signer(0)._account)
    path = write_plan(tmp_path, chain.rpc_url, 1, ost=token.address)
    holders = [keys.dev_signer(1 + i).address for i in range(2)]
    before = [token.functions.balanceOf(a).call() for a in holders]
    err = refused(path, chain.rpc_url, capsys)
    assert "error: devnet: the plan says devnet = true" in err
    assert [token.functions.balanceOf(a).call() for a in holders] == before == [0, 0]


class NoAnvilMethods(http.server.BaseHTTPRequestHandler):
    """A JSON-RPC front that forwards to a node but, like geth or a hosted endpoint, knows no anvil_* method."""

    target = ""

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        if str(request.get("method", "")).startswith("anvil_"):
            reply = json.dumps({"jsonrpc": "2.0", "id": request.get("id"),
                                "error": {"code": -32601, "message": "the method does not exist"}}).encode()
        else:
            forwarded = urllib.request.Request(self.target, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(forwarded, timeout=10) as response:
                reply = response.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_devnet_plan_whose_node_is_no_anvil_sends_nothing(anvil_factory: Any, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            stop_devnet_nodes: Any) -> None:
    """A loopback URL is not enough: here a node on this machine that answers no anvil method."""
    stop_devnet_nodes(devnet.default_dir())  # whatever a run that was not refused would start
    chain = anvil_factory(chain_id=devnet.ORIGIN_CHAIN_ID)
    handler = type("Front", (NoAnvilMethods,), {"target": chain.rpc_url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        path = write_plan(tmp_path, url, chain.chain_id)
        err = refused(path, chain.rpc_url, capsys)
    finally:
        server.shutdown()
    assert f"devnet: the plan says devnet = true, but the node at origin.rpc {url} is not an anvil devnet node" in err


def test_a_devnet_plan_on_a_chain_elsewhere_sends_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = deploy.devnet_plan_dict(2, origin_url="http://127.0.0.1:1", origin_chain_id=1,
                                   auxiliary_url="https://user:secret@aux.example.net:8546")
    path = tmp_path / "mosaic-plan.toml"
    path.write_text(tomli_w.dumps(plan))
    from mosaic_tui.plan import load_plan
    from mosaic_tui.preflight import devnet_refusal

    refusal = devnet_refusal(load_plan(path))
    assert refusal is not None and "auxiliary.rpc https://***@aux.example.net:8546 is not on this machine" in refusal
    assert "secret" not in refusal
