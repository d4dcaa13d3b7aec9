"""Shared helpers of the server specification tests (tests/http/test_*.py).

They reach the tests as fixtures (``inject``, ``tcp``, ``strip_date``):

* :class:`RawClient` speaks raw bytes to a server and cuts what comes back
  into whole responses with h11 (as a client would), so that a test can pin
  each response byte for byte.
* :func:`injected` serves one connection over an in-memory stream through
  ``server.serve_connection`` (DESIGN §11 "Injected connections"): with the
  ``autojump_clock`` fixture that is how every timeout is tested on virtual
  time.
* :func:`tcp_client` connects a trio socket to a listening server.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import h11
import pytest
import trio
import trio.testing

from trio_nodehttp.http import Server

_DATE = re.compile(rb"Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n")


def without_date(data: bytes) -> bytes:
    """``data`` with every ``Date`` header line removed (its value is the wall clock)."""
    return _DATE.sub(b"", data)


class RawClient:
    """A client that sends raw bytes and reads whole responses, exactly as sent."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.buf = b""
        self.eof = False

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = await self.stream.receive_some(65536)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def response(self, method: str = "GET") -> bytes:
        """The next whole message (a 1xx counts as one), its bytes exactly as received."""
        parser = h11.Connection(h11.CLIENT)
        parser.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        parser.send(h11.EndOfMessage())
        fed = 0
        while True:
            event = parser.next_event()
            if event is h11.NEED_DATA:
                if fed < len(self.buf):
                    parser.receive_data(self.buf[fed:])
                    fed = len(self.buf)
                    continue
                if not await self._fill():
                    parser.receive_data(b"")
                continue
            if isinstance(event, (h11.InformationalResponse, h11.EndOfMessage)):
                used = fed - len(parser.trailing_data[0])
                message, self.buf = self.buf[:used], self.buf[used:]
                return message
            if isinstance(event, h11.ConnectionClosed):
                raise AssertionError(f"connection closed mid-response: {self.buf!r}")

    async def until(self, suffix: bytes) -> bytes:
        """Everything received until it ends with ``suffix`` (or the connection closes)."""
        while not self.buf.endswith(suffix) and await self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    async def rest(self) -> bytes:
        """Everything until the server closes the connection."""
        while await self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    async def aclose(self) -> None:
        await self.stream.aclose()


@asynccontextmanager
async def injected(
    server: Server, *, lockstep: bool = False, wrap: Callable[[Any], Any] | None = None
) -> AsyncIterator[tuple[RawClient, trio.Nursery]]:
    """One in-memory connection served by ``server.serve_connection``.

    ``wrap`` may replace the server's side of the stream (to watch it).
    Leaving the block closes the client side and waits for the server's
    connection task to end.
    """
    pair = trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
    client_stream, server_stream = pair()
    client = RawClient(client_stream)
    async with trio.open_nursery() as nursery:
        served = server_stream if wrap is None else wrap(server_stream)
        nursery.start_soon(server.serve_connection, served)
        try:
            yield client, nursery
        finally:
            await client.aclose()


@asynccontextmanager
async def tcp_client(server: Server) -> AsyncIterator[RawClient]:
    """A raw trio TCP client connected to a listening ``server``."""
    address: Any = server.address()
    stream = await trio.open_tcp_stream(address["address"], address["port"])
    client = RawClient(stream)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def inject() -> Any:
    """``async with inject(server) as (client, nursery):`` — see :func:`injected`."""
    return injected


@pytest.fixture
def tcp() -> Any:
    """``async with tcp(server) as client:`` — see :func:`tcp_client`."""
    return tcp_client


@pytest.fixture
def strip_date() -> Any:
    """:func:`without_date`."""
    return without_date
