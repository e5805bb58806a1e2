"""Connections to the two chains, with the one retry policy every RPC call goes through.

An RPC node that restarts or drops a connection must not end a deployment that moves real money:
transient transport errors are retried with backoff for a bounded time (MOSAIC_TUI_RPC_PATIENCE
seconds, default 120), telling the operator that we are waiting; after that the run stops with one
clear sentence and can be resumed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mosaic_tui.errors import MosaicError

T = TypeVar("T")
PATIENCE_ENV = "MOSAIC_TUI_RPC_PATIENCE"


class RpcUnavailable(MosaicError):
    exit_code = 1


def patience() -> float:
    try:
        return max(1.0, float(os.environ.get(PATIENCE_ENV, "120")))
    except ValueError:
        return 120.0


def is_transient(error: BaseException) -> bool:
    """Transport trouble worth retrying; an answer from the node (a revert, a bad request) is not."""
    import requests

    if isinstance(error, requests.exceptions.HTTPError):
        response = error.response
        return response is None or response.status_code >= 500 or response.status_code == 429
    return isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout
                      | ConnectionError | TimeoutError)


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
                if time.monotonic() + delay > deadline:
                    raise RpcUnavailable(
                        f"the {self.name} RPC {self.url} did not answer for {patience():.0f} s while {what} "
                        f"({type(error).__name__}); nothing more was sent. Start the node again and re-run the "
                        "same command: the deployment resumes where it stopped.") from None
                if not told and self.on_wait is not None:
                    self.on_wait(f"the {self.name} RPC {self.url} is not answering ({what}); retrying")
                    told = True
                time.sleep(delay)
                delay = min(delay * 2, 3.0)


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
