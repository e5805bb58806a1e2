"""A JSON-RPC proxy that answers like the origin nodes and providers operators really use.

It sits between the program and a real node (anvil or geth) on 127.0.0.1 and forwards every request,
except where a limit of a real node is switched on:
- `state_window=N`: state and proof calls (eth_getProof, eth_getBalance, eth_call, eth_getStorageAt,
  eth_getCode, eth_getTransactionCount, eth_estimateGas) at a block older than the latest N are
  answered with geth's own error, "historical state <root> is not available" (geth 1.17's path
  scheme, core/state/database_history.go; the hash scheme says "missing trie node");
- `batch_limit=N`: a batch of more than N requests gets geth's one "batch too large" error;
- `refuse_batches`: every batch is answered with one error object, as some hosted providers do;
- `rate_limit(count, retry_after)`: the next `count` HTTP requests get HTTP 429 with Retry-After;
- `no_finality`: the "finalized" block tag is answered with geth's pre-merge "finalized block not found".
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# method -> index of its block parameter
STATE_METHODS = {"eth_getProof": 2, "eth_getBalance": 1, "eth_call": 1, "eth_getStorageAt": 2, "eth_getCode": 1,
                 "eth_getTransactionCount": 1, "eth_estimateGas": 1}
RECENT_TAGS = ("latest", "pending", "safe", "finalized")


class RpcProxy:
    def __init__(self, upstream: str, *, state_window: int | None = None, batch_limit: int | None = None,
                 refuse_batches: bool = False, no_finality: bool = False) -> None:
        self.upstream = upstream
        self.state_window = state_window
        self.batch_limit = batch_limit
        self.refuse_batches = refuse_batches
        self.no_finality = no_finality
        self.limited = 0  # HTTP requests left to answer with 429
        self.retry_after = "1"
        self.posts = 0
        self.batch_sizes: list[int] = []
        self.too_old: list[str] = []  # methods refused for an old block
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server interface)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers, answer = proxy.handle(body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="rpc-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> RpcProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def rate_limit(self, count: int, retry_after: str) -> None:
        self.limited, self.retry_after = count, retry_after

    # -- answering -----------------------------------------------------------------------------------

    def handle(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.posts += 1
            if self.limited > 0:
                self.limited -= 1
                error = {"jsonrpc": "2.0", "id": None,
                         "error": {"code": 429, "message": "Your app has exceeded its compute units per second "
                                                           "capacity"}}
                return 429, {"Retry-After": self.retry_after}, json.dumps(error).encode()
        request = json.loads(body)
        if isinstance(request, list):
            self.batch_sizes.append(len(request))
            if self.refuse_batches:
                error = {"jsonrpc": "2.0", "id": None,
                         "error": {"code": -32600, "message": "batch requests are not supported"}}
                return 200, {}, json.dumps(error).encode()
            if self.batch_limit is not None and len(request) > self.batch_limit:
                first = next((item.get("id") for item in request if "id" in item), None)
                error = [{"jsonrpc": "2.0", "id": first, "error": {"code": -32600, "message": "batch too large"}}]
                return 200, {}, json.dumps(error).encode()
            return 200, {}, json.dumps([self._one(item) for item in request]).encode()
        return 200, {}, json.dumps(self._one(request)).encode()

    def _one(self, request: dict[str, Any]) -> dict[str, Any]:
        method, params = request.get("method"), request.get("params") or []
        if self.no_finality and method == "eth_getBlockByNumber" and params and params[0] == "finalized":
            return {"jsonrpc": "2.0", "id": request.get("id"),
                    "error": {"code": -32000, "message": "finalized block not found"}}
        if self.state_window is not None and method in STATE_METHODS:
            position = STATE_METHODS[method]
            tag = params[position] if len(params) > position else "latest"
            number = self._number(tag)
            if number is not None and number < self._head() - self.state_window:
                self.too_old.append(str(method))
                root = self._call("eth_getBlockByNumber", [hex(number), False])["result"]["stateRoot"]
                return {"jsonrpc": "2.0", "id": request.get("id"),
                        "error": {"code": -32000, "message": f"historical state {root[2:]} is not available"}}
        return self._forward(request)

    def _number(self, tag: Any) -> int | None:
        if isinstance(tag, dict):
            if "blockNumber" in tag:
                return int(tag["blockNumber"], 16)
            block = self._call("eth_getBlockByHash", [tag.get("blockHash"), False])["result"]
            return None if block is None else int(block["number"], 16)
        if tag in RECENT_TAGS:
            return None
        if tag == "earliest":
            return 0
        return int(tag, 16)

    def _head(self) -> int:
        return int(self._call("eth_blockNumber", [])["result"], 16)

    def _call(self, method: str, params: list[Any]) -> dict[str, Any]:
        return self._forward({"jsonrpc": "2.0", "id": 0, "method": method, "params": params})

    def _forward(self, request: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(request).encode()
        upstream = urllib.request.Request(self.upstream, data, {"Content-Type": "application/json"})
        with urllib.request.urlopen(upstream, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer
