"""A small TCP proxy between a deployment and its RPC node, to make the node unreachable on command.

It listens on 127.0.0.1 only, runs its own asyncio loop in a daemon thread and holds at most
MAX_CONNECTIONS connections. Faults it can inject:
- `cut()`: every open connection is reset and every new one is accepted and reset at once (what a
  client sees while a node restarts or a load balancer drops it), until `restore()`;
- `lose_answers(marker, count)`: the next `count` requests that contain `marker` reach the node,
  but the node's answer is thrown away and the connection reset (the request did its work, the
  client cannot know).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Any

MAX_CONNECTIONS = 64
CHUNK = 1 << 16


class FaultyProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self.refused = 0  # connections reset while cut
        self.lost = 0  # answers thrown away
        self._lose_marker = b""
        self._lose_count = 0
        self._open: set[Any] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faulty-proxy", daemon=True)
        self._server: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            for writer in list(self._open):
                _reset(writer)
            # Finish every connection's handler here, so none is left pending when the loop closes.
            handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    # -- faults ---------------------------------------------------------------------------------------

    def cut(self) -> None:
        self.down = True
        self._loop.call_soon_threadsafe(self._reset_all)

    def restore(self) -> None:
        self.down = False

    def lose_answers(self, marker: bytes, count: int) -> None:
        self._lose_marker, self._lose_count = marker, count

    def _reset_all(self) -> None:
        for writer in list(self._open):
            _reset(writer)

    # -- plumbing -------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down or len(self._open) >= MAX_CONNECTIONS:
            self.refused += 1
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            _reset(writer)
            return
        self._open.update((writer, up_writer))
        doomed = asyncio.Event()  # set once this connection carried a request whose answer must be lost

        async def to_node() -> None:
            while data := await reader.read(CHUNK):
                if self._lose_count and self._lose_marker in data:
                    self._lose_count -= 1
                    doomed.set()
                up_writer.write(data)
                await up_writer.drain()

        async def to_client() -> None:
            while data := await up_reader.read(CHUNK):
                if doomed.is_set():
                    self.lost += 1
                    return
                writer.write(data)
                await writer.drain()

        pipes = [asyncio.ensure_future(to_node()), asyncio.ensure_future(to_client())]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for end in (writer, up_writer):
                self._open.discard(end)
                _reset(end)
            for pipe in pipes:
                pipe.cancel()
            # Collect both pipes (a reset connection ends them with ConnectionError) so none is left pending.
            await asyncio.gather(*pipes, return_exceptions=True)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, as a dying node or a dropping balancer would."""
    transport = writer.transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
