"""Shared pieces for the Agent and cancellation tests: servers on 127.0.0.1.

* :func:`serve` runs this package's own server and yields it with its base URL;
* :class:`Gate` is a handler that records every request and can hold
  chosen paths until the test releases them (to prove queueing);
* :class:`RawServer` is an h11 server written for the tests, whose script
  decides per request whether to answer or to drop the connection (the
  keep-alive race), and which counts the connections it holds open;
* :func:`wait_until` polls a condition (always under a ``fail_after``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import h11
import trio

from trio_nodehttp import http


@asynccontextmanager
async def serve(handler: Callable[..., Any] | None = None, **options: Any) -> AsyncIterator[Any]:
    """This package's server listening on an ephemeral port of 127.0.0.1."""
    server = http.create_server(handler, **options)
    async with server:
        await server.listen(0, "127.0.0.1")
        yield server


def base_url(server: Any) -> str:
    return f"http://127.0.0.1:{server.address()['port']}"


def origin_name(server: Any) -> str:
    """The agent name (``get_name()``) of a request to ``server``."""
    return f"127.0.0.1:{server.address()['port']}:"


async def wait_until(predicate: Callable[[], bool], interval: float = 0.001) -> None:
    """Poll ``predicate`` until it holds (callers bound this with ``fail_after``)."""
    while not predicate():
        await trio.sleep(interval)


@dataclass
class Gate:
    """A request handler that records requests and can hold chosen paths.

    ``hold(path)`` makes requests for ``path`` wait until ``release(path)``;
    ``in_flight``/``max_in_flight`` count handlers running at once.
    """

    seen: list[tuple[str, str, dict[str, Any], bytes]] = field(default_factory=list)
    peers: list[int] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _held: dict[str, trio.Event] = field(default_factory=dict)

    def hold(self, path: str) -> None:
        self._held[path] = trio.Event()

    def release(self, path: str) -> None:
        self._held.pop(path).set()

    def arrived(self, path: str) -> int:
        return sum(1 for _, p, _, _ in self.seen if p == path)

    async def __call__(self, req: Any, res: Any) -> None:
        body = await req.read()
        self.seen.append((req.method, req.url, dict(req.headers), body))
        self.peers.append(req.socket.remote_port)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            event = self._held.get(req.url)
            if event is not None:
                await event.wait()
        finally:
            self.in_flight -= 1
        res.set_header("content-type", "text/plain")
        await res.end(b"ok " + req.url.encode() + b" " + body)


async def fetch(url: str, **options: Any) -> tuple[Any, bytes]:
    """A whole exchange: ``(request, body)``."""
    req = http.request(url, **options)
    await req.end()
    res = await req.response()
    body = await res.read()
    return req, body


# -- a scripted raw server ----------------------------------------------------

#: ``decide(connection_index, request_index_on_connection, request) -> action``:
#: ``"respond"`` (200, keep-alive), ``"respond-close"`` (the same, then close at
#: once), ``"drop"`` (close without answering),
#: ``"partial"`` (send half a status line, then close), or raw ``bytes`` to send
#: as the whole answer (the connection then stays open for the next request).
Decide = Callable[[int, int, h11.Request], Any]


class RawServer:
    """A small h11 server with a script, counting the connections it holds."""

    def __init__(self, decide: Decide) -> None:
        self.decide = decide
        self.open = 0
        self.connections = 0
        self.requests: list[tuple[int, int, str, bytes]] = []
        self.port = 0

    async def run(self, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self.port)
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        index = self.connections
        self.connections += 1
        self.open += 1
        try:
            await self._serve(index, stream)
        finally:
            self.open -= 1
            await trio.aclose_forcefully(stream)

    async def _serve(self, index: int, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        n = 0
        while True:
            request: h11.Request | None = None
            body = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    try:
                        data = await stream.receive_some(65536)
                    except trio.BrokenResourceError:
                        return
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    return
            assert request is not None
            self.requests.append((index, n, request.method.decode(), body))
            action = self.decide(index, n, request)
            n += 1
            if action == "drop":
                return
            if action == "partial":
                await stream.send_all(b"HTTP/1.1 2")
                return
            payload = b"raw " + request.target + b" " + body
            if isinstance(action, bytes):
                await stream.send_all(action)
            else:
                out = conn.send(
                    h11.Response(
                        status_code=200,
                        headers=[
                            ("Content-Length", str(len(payload))),
                            ("Connection", "keep-alive"),
                        ],
                    )
                )
                assert out is not None
                await stream.send_all(out + (conn.send(h11.Data(data=payload)) or b""))
                conn.send(h11.EndOfMessage())
            if action == "respond-close":
                return
            if isinstance(action, bytes) or conn.our_state is not h11.DONE:
                conn = h11.Connection(h11.SERVER)
            else:
                conn.start_next_cycle()


@asynccontextmanager
async def raw_server(decide: Decide) -> AsyncIterator[RawServer]:
    server = RawServer(decide)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        yield server
        nursery.cancel_scope.cancel()


def awaitable_listener() -> Callable[..., Awaitable[None]]:
    """An async listener that yields to the scheduler (a checkpoint inside an event)."""

    async def listener(*args: Any) -> None:
        await trio.lowlevel.checkpoint()

    return listener
