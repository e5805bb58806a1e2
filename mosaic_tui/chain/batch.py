"""Many reads of one chain in one HTTP request: JSON-RPC batches, and contract calls encoded by hand.

The validator monitor reads a few values per validator from each chain, thousands of values for a
large validator set. One HTTP round trip per value makes a refresh take seconds; a JSON-RPC batch
(a list of requests in one POST, answered by a list) takes milliseconds. web3's contract objects
cannot batch, so calls are encoded and decoded here with eth_abi from the artifacts' ABI.

This client does not retry, unlike `chain.rpc.ChainClient`: a status view should show at once that
a node does not answer, and its next refresh is the retry. A deployment never reads through here.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from mosaic_tui.errors import MosaicError

# Big enough that a thousand validators need a handful of requests, small enough that geth's default
# limit (1000 requests) and most providers' body-size limits are not hit; anvil answers 1000 calls in
# ~15 ms. MOSAIC_TUI_RPC_BATCH_SIZE sets another size; a node that says a batch is too large gets
# halves of it, and one that refuses batches altogether gets single requests.
DEFAULT_CHUNK = 500
BATCH_SIZE_ENV = "MOSAIC_TUI_RPC_BATCH_SIZE"
DEFAULT_TIMEOUT = 5.0
_TOO_LARGE = re.compile(r"too large|too big|limit|exceed|too many|maximum", re.I)


def batch_size() -> int:
    """The configured batch size (MOSAIC_TUI_RPC_BATCH_SIZE, checked in settings.py), else DEFAULT_CHUNK."""
    from mosaic_tui import settings

    return int(settings.get(BATCH_SIZE_ENV) or DEFAULT_CHUNK)


class RpcTransportError(MosaicError):
    """The node did not answer at all, or not with JSON-RPC."""


class _BatchRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = bool(_TOO_LARGE.search(message))


@dataclass(frozen=True)
class RpcFailure:
    """One request's error answer (a revert, an unknown method); the rest of a batch still counts."""

    message: str
    code: int | None = None


def _canonical_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(component) for component in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


@dataclass(frozen=True)
class AbiFunction:
    """One contract function: its selector and how to encode arguments and decode the answer."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def from_abi(cls, abi: Sequence[Mapping[str, Any]], name: str) -> AbiFunction:
        matches = [entry for entry in abi if entry.get("type") == "function" and entry.get("name") == name]
        if len(matches) != 1:
            raise ValueError(f"the ABI has {len(matches)} functions named {name}; expected exactly one")
        entry = matches[0]
        return cls(name, tuple(_canonical_type(p) for p in entry["inputs"]),
                   tuple(_canonical_type(p) for p in entry["outputs"]))

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    @functools.cached_property
    def _selector_hex(self) -> str:
        return "0x" + self.selector.hex()

    def encode(self, *args: Any) -> str:
        # Thousands of calls per refresh: plain words are encoded by hand, ~20x faster than eth_abi.
        if len(args) == len(self.inputs) and all(kind in _WORD_TYPES for kind in self.inputs):
            return self._selector_hex + "".join(_word(kind, arg) for kind, arg in zip(self.inputs, args, strict=True))
        from eth_abi import encode

        return "0x" + (self.selector + encode(list(self.inputs), list(args))).hex()

    def decode(self, data: str) -> tuple[Any, ...]:
        """The decoded return values; ValueError when the answer is not what the ABI promises
        (an address without code answers an empty "0x")."""
        from eth_abi import decode
        from eth_abi.exceptions import DecodingError

        raw = bytes.fromhex(data.removeprefix("0x"))
        if not raw and self.outputs:
            raise ValueError("empty answer (no contract code at that address?)")
        if self.outputs == ("uint256",) and len(raw) == 32:
            return (int.from_bytes(raw, "big"),)
        try:
            return tuple(decode(list(self.outputs), raw))
        except DecodingError as error:
            raise ValueError(f"answer does not decode as ({','.join(self.outputs)}): {error}") from None


_WORD_TYPES = frozenset({"address", "uint256", "bool"})


def _word(kind: str, value: Any) -> str:
    """One 32-byte ABI word as 64 hex digits, for the types in `_WORD_TYPES`."""
    if kind == "address":
        digits = value[2:] if isinstance(value, str) and value[:2] in ("0x", "0X") else ""
        if len(digits) != 40:
            raise ValueError(f"not an address: {value!r}")
        int(digits, 16)  # raises ValueError on a non-hex digit
        return digits.lower().rjust(64, "0")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"not a bool: {value!r}")
        return str(int(value)).rjust(64, "0")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise ValueError(f"not a uint256: {value!r}")
    return format(value, "064x")


def block_tag(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


def call_request(to: str, function: AbiFunction, args: Sequence[Any], block: int | str) -> tuple[str, list[Any]]:
    return "eth_call", [{"to": to, "data": function.encode(*args)}, block_tag(block)]


def balance_request(address: str, block: int | str) -> tuple[str, list[Any]]:
    return "eth_getBalance", [address, block_tag(block)]


class BatchClient:
    """JSON-RPC over HTTP with one kept-alive connection; `run` sends a list of requests either as
    batches of at most `chunk` requests or, for comparison, one request per HTTP call."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, chunk: int | None = None,
                 patience: float = 0.0) -> None:
        import requests

        chunk = batch_size() if chunk is None else chunk
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self.url = url
        self.timeout = timeout
        self.chunk = chunk
        self.patience = patience  # seconds an HTTP 429's Retry-After may make us wait (0: do not wait)
        self.batches_refused = False  # the node answers single requests only
        self.http_requests = 0  # how many POSTs were made, so tests can see what batching did
        self._session = requests.Session()
        self._lock = threading.Lock()  # a Session is not meant to be shared between threads mid-request

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> BatchClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, calls: Sequence[tuple[str, Sequence[Any]]], *, batched: bool = True) -> list[Any]:
        """The answers to `calls` in order: each the JSON `result`, or an RpcFailure.

        Raises RpcTransportError when the node cannot be reached or does not speak JSON-RPC.
        """
        answers: list[Any] = []
        start = 0
        while start < len(calls):
            part = calls[start:start + self.chunk]
            if not batched or self.batches_refused:
                answers += self._singles(part, start)
                start += len(part)
                continue
            try:
                answers += self._post_batch(part, start)
            except _BatchRefused as refusal:
                if refusal.too_large and len(part) > 1:
                    self.chunk = max(1, len(part) // 2)  # the node's limit is lower: halves until it fits
                    continue
                self.batches_refused = True
                continue
            start += len(part)
        return answers

    def _singles(self, calls: Sequence[tuple[str, Sequence[Any]]], first_id: int) -> list[Any]:
        answers = []
        for number, (method, params) in enumerate(calls):
            reply = self._post({"jsonrpc": "2.0", "id": first_id + number, "method": method, "params": list(params)})
            if not isinstance(reply, dict):
                raise RpcTransportError(f"{self.url} answered {method} with something other than JSON-RPC.")
            answers.append(_answer(reply))
        return answers

    def _post_batch(self, calls: Sequence[tuple[str, Sequence[Any]]], first_id: int) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": first_id + i, "method": method, "params": list(params)}
                for i, (method, params) in enumerate(calls)]
        reply = self._post(body)
        if isinstance(reply, dict) and "error" in reply:
            # A node without batch support answers the whole list with one error object.
            raise _BatchRefused(_raw_message(reply))
        if not isinstance(reply, list):
            raise RpcTransportError(f"{self.url} answered a batch with something other than a JSON-RPC list.")
        # Batch answers may come in any order; the ids say which is which.
        by_id = {item.get("id"): item for item in reply if isinstance(item, dict)}
        missing = [request["id"] for request in body if request["id"] not in by_id]
        if missing and len(reply) == 1 and isinstance(reply[0], dict) and "error" in reply[0]:
            # geth over its --rpc.batch-request-limit: one "batch too large" error for the whole list.
            raise _BatchRefused(_raw_message(reply[0]))
        if missing:
            raise RpcTransportError(f"{self.url} left {len(missing)} of {len(body)} batched requests unanswered.")
        return [_answer(by_id[request["id"]]) for request in body]

    def _post(self, body: Any) -> Any:
        import requests

        from mosaic_tui.chain.rpc import retry_after

        data = json.dumps(body).encode()
        deadline = time.monotonic() + self.patience
        while True:
            try:
                with self._lock:
                    self.http_requests += 1
                    response = self._session.post(self.url, data=data, timeout=self.timeout,
                                                  headers={"Content-Type": "application/json"})
            except requests.exceptions.Timeout:
                raise RpcTransportError(f"{self.url} did not answer within {self.timeout:g} s.") from None
            except requests.exceptions.RequestException as error:
                raise RpcTransportError(f"{self.url} cannot be reached ({_reason(error)}).") from None
            wait = retry_after(requests.exceptions.HTTPError(response=response))
            if wait is None or time.monotonic() + wait > deadline:
                break
            time.sleep(wait)
        if response.status_code == 429:
            asked = f"; it asks to wait {wait:.0f} s" if wait is not None else ""
            raise RpcTransportError(f"{self.url} is rate limiting this program (HTTP 429){asked}.")
        if response.status_code >= 400:
            raise RpcTransportError(f"{self.url} answered HTTP {response.status_code} {response.reason}.")
        try:
            return response.json()
        except ValueError:
            raise RpcTransportError(f"{self.url} did not answer with JSON; is it a JSON-RPC endpoint?") from None


def _raw_message(item: Mapping[str, Any]) -> str:
    error = item.get("error")
    return str(error.get("message", "")) if isinstance(error, Mapping) else str(error)


def _answer(item: Mapping[str, Any]) -> Any:
    error = item.get("error")
    if error is not None:
        from mosaic_tui.chain.rpc import node_error_sentence

        code = error.get("code") if isinstance(error, Mapping) else None
        return RpcFailure(node_error_sentence(error), code if isinstance(code, int) else None)
    return item.get("result")


def _reason(error: BaseException) -> str:
    """The innermost cause ("Connection refused"), not urllib3's pool message around it."""
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "Temporary failure in name resolution", "Connection reset by peer"):
        if marker in text:
            return marker.lower()
    return type(error).__name__
