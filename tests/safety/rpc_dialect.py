"""A JSON-RPC proxy that speaks another client's dialect in front of anvil.

It forwards every request (single or batched) to the node, except where a dialect says otherwise:
- `rebroadcast_error`: a raw transaction sent a second time is answered with this client's error
  words instead of being forwarded (EthereumJS, Hardhat, Nethermind and geth each word it their own way);
- `hide_pending`: eth_getTransactionByHash answers null for a transaction that has no receipt yet, as
  a node that does not look into its pool for it does;
- `missing`: methods answered "method not found" (EthereumJS has no eth_maxPriorityFeePerGas), and
  `no_pending_fee_history`: eth_feeHistory refuses the "pending" block tag.
Listens on 127.0.0.1 only; `stop()` ends its thread.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

# How each client answers a transaction it already holds (the words the issue reproduced).
REBROADCAST_WORDS = {
    "ethereumjs": "this transaction is already in the TxPool",
    "hardhat": "Known transaction: 0x",
    "nethermind": "AlreadyKnown",
    "geth": "already known",
}


class DialectProxy:
    def __init__(self, target_url: str) -> None:
        self.target_url = target_url
        self.rebroadcast_error: str | None = None
        self.hide_pending = False
        self.missing: set[str] = set()
        self.no_pending_fee_history = False
        self.answered_in_dialect = 0
        self.seen_raw: set[str] = set()
        self._session = requests.Session()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                answer = [proxy._one(item) for item in body] if isinstance(body, list) else proxy._one(body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="dialect-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> DialectProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _forward(self, item: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            reply: dict[str, Any] = self._session.post(self.target_url, json=item, timeout=30).json()
        return reply

    def _one(self, item: dict[str, Any]) -> dict[str, Any]:
        method, params = item.get("method"), item.get("params") or []
        if method in self.missing:
            return {"jsonrpc": "2.0", "id": item.get("id"),
                    "error": {"code": -32601, "message": f"the method {method} does not exist/is not available"}}
        if method == "eth_feeHistory" and self.no_pending_fee_history and "pending" in params:
            return {"jsonrpc": "2.0", "id": item.get("id"), "error": {"code": -32602, "message": "invalid block tag"}}
        if method == "eth_sendRawTransaction":
            raw = str(params[0]).lower()
            if raw in self.seen_raw and self.rebroadcast_error is not None:
                self.answered_in_dialect += 1
                return {"jsonrpc": "2.0", "id": item.get("id"),
                        "error": {"code": -32000, "message": self.rebroadcast_error}}
            self.seen_raw.add(raw)
        if method == "eth_getTransactionByHash" and self.hide_pending:
            receipt = self._forward({"jsonrpc": "2.0", "id": 0, "method": "eth_getTransactionReceipt",
                                     "params": params})
            if receipt.get("result") is None:
                return {"jsonrpc": "2.0", "id": item.get("id"), "result": None}
        return self._forward(item)
