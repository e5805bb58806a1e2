"""Provider limits: batches over a node's limit are split, a node that refuses batches gets single
requests, HTTP 429 is waited out as long as Retry-After asks (within the patience bound), and the
error answers of geth, Nethermind and hosted providers become sentences, never a raw JSON-RPC dict.

Each fails on the code before this change: a batch over the limit ended in "left 24 of 25 batched
requests unanswered", a refused batch in "refused a batch", a Retry-After of 600 s was ignored and the
run retried blindly for the whole patience bound, and a pruned node's answer was passed on as it came.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mosaic_tui.chain.batch import BATCH_SIZE_ENV, BatchClient, RpcFailure, RpcTransportError
from mosaic_tui.chain.rpc import PATIENCE_ENV, RpcUnavailable, connect, node_error_sentence, retry_after
from tests.origin.rpc_proxy import RpcProxy

ProxyFactory = Callable[..., RpcProxy]


@pytest.fixture
def proxy_factory() -> Iterator[ProxyFactory]:
    started: list[RpcProxy] = []

    def start(upstream: str, **limits: Any) -> RpcProxy:
        proxy = RpcProxy(upstream, **limits).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def balances(accounts: list[str]) -> list[tuple[str, list[Any]]]:
    return [("eth_getBalance", [account, "latest"]) for account in accounts]


def test_a_batch_over_geths_own_limit_is_split_until_it_fits(geth_factory: Any) -> None:
    geth = geth_factory(period=0, extra_args=("--rpc.batch-request-limit", "7"))
    calls = balances([geth.dev_account] * 25)
    with BatchClient(geth.rpc_url, chunk=20) as client:
        answers = client.run(calls)
        assert client.chunk <= 7
    assert len(answers) == 25 and all(isinstance(a, str) and int(a, 16) > 0 for a in answers)


def test_the_batch_size_is_configurable(anvil: Any, proxy_factory: ProxyFactory,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = proxy_factory(anvil.rpc_url)
    monkeypatch.setenv(BATCH_SIZE_ENV, "4")
    with BatchClient(proxy.url) as client:
        assert len(client.run(balances(anvil.w3.eth.accounts))) == 10
    assert proxy.batch_sizes == [4, 4, 2]


def test_a_node_that_refuses_batches_gets_single_requests(anvil: Any, proxy_factory: ProxyFactory) -> None:
    proxy = proxy_factory(anvil.rpc_url, refuse_batches=True)
    accounts = anvil.w3.eth.accounts
    with BatchClient(proxy.url) as client:
        first = client.run(balances(accounts))
        second = client.run(balances(accounts[:3]))
    assert [int(a, 16) for a in first] == [anvil.w3.eth.get_balance(a) for a in accounts]
    assert len(second) == 3
    assert proxy.batch_sizes == [10]  # asked once; single requests from then on


def test_http_429_waits_as_long_as_retry_after_asks(anvil: Any, proxy_factory: ProxyFactory) -> None:
    proxy = proxy_factory(anvil.rpc_url)
    told: list[str] = []
    client = connect("origin", proxy.url, anvil.chain_id, told.append)
    proxy.rate_limit(2, "1")
    started = time.monotonic()
    assert client.call("reading the block number", client.w3.eth.get_block_number) >= 0
    assert time.monotonic() - started >= 1.0  # it did wait what the provider asked, not less
    assert told and told[0] == (f"the origin RPC {proxy.url} asks us to wait 1 s (rate limit) "
                                "(reading the block number)")


def test_a_retry_after_beyond_the_patience_bound_stops_at_once_with_a_sentence(
        anvil: Any, proxy_factory: ProxyFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PATIENCE_ENV, "5")
    proxy = proxy_factory(anvil.rpc_url)
    client = connect("origin", proxy.url, anvil.chain_id)
    proxy.rate_limit(1, "600")
    with pytest.raises(RpcUnavailable) as stopped:
        client.call("reading the block number", client.w3.eth.get_block_number)
    assert str(stopped.value).startswith(f"the origin RPC {proxy.url} could not be used while reading the block "
                                         "number: it asked us to wait 600 s (HTTP 429, its rate limit), beyond the "
                                         "5 s this run waits")
    assert proxy.posts == 1


def test_a_batch_client_says_when_a_provider_rate_limits_it(anvil: Any, proxy_factory: ProxyFactory) -> None:
    proxy = proxy_factory(anvil.rpc_url)
    proxy.rate_limit(1, "30")
    with BatchClient(proxy.url) as client, pytest.raises(RpcTransportError) as refused:
        client.run(balances(anvil.w3.eth.accounts[:2]))
    assert str(refused.value) == f"{proxy.url} is rate limiting this program (HTTP 429); it asks to wait 30 s."
    proxy.rate_limit(1, "1")
    with BatchClient(proxy.url, patience=5) as client:
        assert len(client.run(balances(anvil.w3.eth.accounts[:2]))) == 2


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    import requests

    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = formatdate(time.time() + 30, usegmt=True)
    wait = retry_after(requests.exceptions.HTTPError(response=response))
    assert wait is not None and 25 <= wait <= 31


def test_a_pruned_state_answer_through_a_batch_is_a_sentence(anvil_factory: Any, proxy_factory: ProxyFactory) -> None:
    node = anvil_factory(block_time=0.1)
    proxy = proxy_factory(node.rpc_url, state_window=16)
    while node.w3.eth.block_number < 20:
        time.sleep(0.1)
    with BatchClient(proxy.url) as client:
        [answer] = client.run([("eth_getBalance", [node.w3.eth.accounts[0], "0x1"])])
    assert isinstance(answer, RpcFailure)
    assert answer.message.startswith("the node no longer has the state of that block (a full node keeps only the "
                                     "latest ~128 blocks' state) (historical state ")
    assert answer.message.endswith(" is not available)") and answer.code == -32000


@pytest.mark.parametrize(("answer", "sentence"), [
    ({"code": -32000, "message": "missing trie node 1f2e (path ) state 0x1f2e is not available, not found"},
     "the node no longer has the state of that block"),
    ({"code": -32002, "message": "No state available for block 0x7a1f (1234)"},  # Nethermind
     "the node no longer has the state of that block"),
    ({"code": -32000, "message": "header not found"}, "the node does not know that block"),
    ({"code": -32601, "message": "the method eth_feeHistory does not exist/is not available"},
     "the node does not offer this method"),
    ({"code": -32600, "message": "batch too large"}, "the node refuses batches of that size"),
    ({"code": 429, "message": "Your app has exceeded its compute units per second capacity"},  # Alchemy
     "the provider's rate limit was reached"),
    ({"code": -32005, "message": "daily request count exceeded, request rate limited"},  # Infura
     "the provider's rate limit was reached"),
    ({"code": -32002, "message": "request timed out"}, "the node took too long to answer"),
    ({"code": -32000, "message": "invalid project id"}, "the provider refused the credentials in the RPC URL"),
    ({"code": 3, "message": "execution reverted", "data": "0x08c379a0"}, "execution reverted: 0x08c379a0 (error 3)"),
])
def test_error_answers_of_nodes_and_providers_become_sentences(answer: dict[str, Any], sentence: str) -> None:
    text = node_error_sentence(answer)
    assert text.startswith(sentence)
    assert "{" not in text and "'code'" not in text
    assert answer["message"].rstrip(".") in text
