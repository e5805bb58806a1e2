"""The wizard's live checks against a real anvil: the RPC line and the validators' balances and approvals."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from mosaic_tui import devnet
from mosaic_tui.wizard_run import check_funds, check_rpc
from tests.helpers import deploy, transact

OST = 10**18


def test_check_rpc_reports_chain_and_block_or_why_not(anvil: devnet.AnvilNode) -> None:
    anvil.w3.provider.make_request("anvil_mine", [5])
    check = check_rpc(anvil.rpc_url)
    assert (check.ok, check.chain_id, check.block) == (True, 31337, 5)
    closed = f"http://127.0.0.1:{devnet.free_port()}"
    assert check_rpc(closed).error == f"{closed} cannot be reached (connection refused)."


@pytest.fixture
def web_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_check_rpc_names_a_server_that_is_not_json_rpc(web_server: str) -> None:
    error = check_rpc(web_server).error
    assert error is not None and error.startswith(f"{web_server} answered HTTP 501")


def test_check_funds_reads_balances_and_approvals_at_one_block(anvil: devnet.AnvilNode) -> None:
    w3 = anvil.w3
    deployer, rich, poor, spender = w3.eth.accounts[0], w3.eth.accounts[1], w3.eth.accounts[2], w3.eth.accounts[3]
    token = deploy(w3, "EIP20Token", "Simple Token", "OST", 18, 10**6 * OST, sender=deployer)
    transact(w3, token.functions.transfer(rich, 2000 * OST), sender=deployer)
    transact(w3, token.functions.transfer(poor, 50 * OST), sender=deployer)
    transact(w3, token.functions.approve(spender, 1000 * OST), sender=rich)
    check = check_funds(anvil.rpc_url, [(0, rich, 1000 * OST, 10 * OST), (1, poor, 1000 * OST, 10 * OST)],
                        ost=token.address, stake=spender)
    assert check.error is None and check.block == w3.eth.block_number
    first, second = check.rows
    assert (first.ost, first.stake_allowance, first.verdict) == (2000 * OST, 1000 * OST, "ok")
    assert first.eth == w3.eth.get_balance(rich)
    assert second.verdict == "short: holds 50 OST, needs 1010 OST"
    closed = f"http://127.0.0.1:{devnet.free_port()}"
    assert check_funds(closed, [(0, rich, 1, 1)], ost=token.address).error == \
        f"{closed} cannot be reached (connection refused)."
