"""Connections to the two chains, with the one retry policy every RPC call goes through.

An RPC node that restarts or drops a connection must not end a deployment that moves real money:
transient transport errors are retried with backoff for a bounded time (MOSAIC_TUI_RPC_PATIENCE
seconds, default 120), telling the operator that we are waiting; after that the run stops with one
clear sentence and can be resumed.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from mosaic_tui.errors import MosaicError

T = TypeVar("T")
PATIENCE_ENV = "MOSAIC_TUI_RPC_PATIENCE"


class RpcUnavailable(MosaicError):
    exit_code = 1


def patience() -> float:
    """Seconds a call keeps retrying (MOSAIC_TUI_RPC_PATIENCE, checked in settings.py)."""
    from mosaic_tui import settings

    return float(settings.get(PATIENCE_ENV))


def is_transient(error: BaseException) -> bool:
    """Transport trouble worth retrying; an answer from the node (a revert, a bad request) is not."""
    import requests

    if isinstance(error, requests.exceptions.HTTPError):
        response = error.response
        return response is None or response.status_code >= 500 or response.status_code == 429
    return isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout
                      | ConnectionError | TimeoutError)


def retry_after(error: BaseException) -> float | None:
    """Seconds an HTTP 429 or 503 answer asks us to wait (Retry-After: seconds or an HTTP date)."""
    response = getattr(error, "response", None)
    if response is None or getattr(response, "status_code", None) not in (429, 503):
        return None
    value = (response.headers or {}).get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# What nodes and providers answer, and what it means for the operator. Matched on the lowercased
# message; the node's own words follow in brackets so nothing is lost.
_KNOWN_ERRORS: tuple[tuple[str, str], ...] = (
    # geth (path scheme; hash scheme says "missing trie node"), Nethermind, Erigon, Besu
    (r"historical state .* is not available|missing trie node|state .* is not available|"
     r"state not available|no state available|pruned|state histor(y|ies) (is|are) not|"
     r"world state .*not available|requested epoch|block state not found",
     "the node no longer has the state of that block (a full node keeps only the latest ~128 blocks' state)"),
    (r"header not found|unknown block|block not found|resource not found",
     "the node does not know that block"),
    (r"method .*(not found|does not exist|is not available|not supported)|unsupported method|-32601",
     "the node does not offer this method"),
    (r"batch (too large|limit|size)|too many requests in batch|batch request limit|batch of more than|"
     r"batch is too large", "the node refuses batches of that size"),
    (r"batch.*not (supported|allowed|enabled)|does not support batch", "the node does not accept batches"),
    (r"exceeded .*(capacity|rate|limit|compute units)|rate limit|too many requests|daily request count|"
     r"limit exceeded|request limit",
     "the provider's rate limit was reached"),
    (r"invalid project id|invalid api key|unauthori[sz]ed|must be authenticated|forbidden|api key",
     "the provider refused the credentials in the RPC URL"),
    (r"timeout|timed out|deadline exceeded", "the node took too long to answer"),
    (r"response size|response is too big|too large response|exceeds max response",
     "the answer was larger than the node allows"),
)


def node_error_sentence(error: Any) -> str:
    """A JSON-RPC error answer (a dict, or its text) as words an operator can act on, never a raw dict."""
    if isinstance(error, Mapping):
        message = str(error.get("message") or "an error without a message")
        code = error.get("code")
        data = error.get("data")
        if isinstance(data, str) and data and data not in message and len(data) < 200:
            message = f"{message}: {data}"
    else:
        message, code = str(error), None
    message = message.strip().rstrip(".")
    lowered = f"{message} {code}".lower()
    for pattern, meaning in _KNOWN_ERRORS:
        if re.search(pattern, lowered):
            return f"{meaning} ({message})"
    return message if code is None else f"{message} (error {code})"


def rpc_error_sentence(error: BaseException) -> str | None:
    """The sentence for a node's error answer that web3 raised (its message is the raw JSON-RPC error
    dict), or None when `error` is not one."""
    response = getattr(error, "rpc_response", None)
    if isinstance(response, Mapping) and response.get("error") is not None:
        return node_error_sentence(response["error"])
    if error.args and isinstance(error.args[0], Mapping) and "message" in error.args[0]:
        return node_error_sentence(error.args[0])
    return None


@dataclass
class ChainClient:
    """One chain: its name ("origin"/"auxiliary"), URL, web3 handle and expected chain id."""

    name: str
    url: str
    w3: Any
    chain_id: int
    on_wait: Callable[[str], None] | None = None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run `fn` (one or a few RPC calls), retrying transport errors within the patience bound."""
        deadline = time.monotonic() + patience()
        delay, told = 0.2, False
        while True:
            try:
                return fn()
            except Exception as error:
                if not is_transient(error):
                    raise
                wait = retry_after(error)
                if wait is not None:
                    delay = max(delay, wait)
                if time.monotonic() + delay > deadline:
                    why = (f"it asked us to wait {wait:.0f} s (HTTP {error.response.status_code}, "  # type: ignore[attr-defined]
                           f"its rate limit), beyond the {patience():.0f} s this run waits"
                           if wait is not None else f"it did not answer for {patience():.0f} s ({type(error).__name__})")
                    raise RpcUnavailable(
                        f"the {self.name} RPC {self.url} could not be used while {what}: {why}; nothing more was "
                        f"sent. Re-run the same command when the node answers again (raise {PATIENCE_ENV} to wait "
                        "longer): the deployment resumes where it stopped.") from None
                if self.on_wait is not None and (not told or wait is not None):
                    self.on_wait(f"the {self.name} RPC {self.url} asks us to wait {wait:.0f} s (rate limit) "
                                 f"({what})" if wait is not None else
                                 f"the {self.name} RPC {self.url} is not answering ({what}); retrying")
                    told = True
                time.sleep(delay)
                delay = min(delay * 2, 3.0) if wait is None else 0.2


def make_web3(url: str, timeout: float = 30.0) -> Any:
    from web3 import Web3
    from web3.middleware import ExtraDataToPOAMiddleware

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout},
                                exception_retry_configuration=None))
    # Aura/clique chains put more than 32 bytes into extraData; this keeps web3 from rejecting their blocks.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def connect(name: str, url: str, chain_id: int, on_wait: Callable[[str], None] | None = None) -> ChainClient:
    return ChainClient(name=name, url=url, w3=make_web3(url), chain_id=chain_id, on_wait=on_wait)
