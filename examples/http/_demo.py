"""Plumbing shared by the examples in this folder (not an example itself).

Every example is a server that runs until Ctrl-C, like the Node code it
ports, or, with ``--self-test``, a program that starts the server on a free
port, sends it a request or two with a plain trio socket (so what goes over
the wire is visible), prints what came back and exits. A client example
starts its server (``listening``) and runs its client against it, like the
Node code that has both halves in one program; ``--self-test`` only moves
the server to a free port. The smoke test ``tests/test_examples.py`` runs
them all with ``--self-test``.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

__all__ = ["Raw", "connect", "examples_cli", "listening", "raw_exchange", "run", "show"]


def examples_cli(
    doc: str | None,
    default_port: int,
    configure: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """``--port``, ``--host`` and ``--self-test`` (which forces port 0).

    ``configure`` may add the example's own options to the parser.
    """
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    if configure is not None:
        configure(parser)
    parser.add_argument("--port", type=int, default=default_port, help="default: %(default)s")
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="listen on a free port, send one request to itself, print the answer, exit",
    )
    args = parser.parse_args()
    if args.self_test:
        args.port = 0
    return args


def run(main: Callable[[], Awaitable[None]]) -> None:
    """``trio.run(main)``; Ctrl-C ends the example quietly."""
    try:
        trio.run(main)
    except* KeyboardInterrupt:
        print()


class Raw:
    """A client connection that sends raw bytes and reads raw bytes."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read_until(self, marker: bytes) -> bytes:
        """Everything up to and including ``marker`` (the rest stays buffered)."""
        while marker not in self.buffer:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise EOFError(f"connection closed before {marker!r}; got {self.buffer!r}")
            self.buffer += chunk
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise EOFError(f"connection closed after {len(self.buffer)} of {n} bytes")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    async def read_to_eof(self) -> bytes:
        while chunk := await self.stream.receive_some(65536):
            self.buffer += chunk
        data, self.buffer = self.buffer, b""
        return data

    async def read_response(self) -> tuple[bytes, bytes]:
        """One response: (head, body as sent: ``Content-Length`` bytes, or the raw chunks)."""
        head = await self.read_until(b"\r\n\r\n")
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return head, await self.read_exactly(length)
        body = b""
        while True:
            size_line = await self.read_until(b"\r\n")
            body += size_line
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while (line := await self.read_until(b"\r\n")) != b"\r\n":
                    body += line  # trailers
                return head, body + line
            body += await self.read_exactly(size + 2)

    async def aclose(self) -> None:
        await self.stream.aclose()


async def connect(port: int, host: str = "127.0.0.1") -> Raw:
    return Raw(await trio.open_tcp_stream(host, port))


async def raw_exchange(port: int, request: bytes, host: str = "127.0.0.1") -> bytes:
    """Send ``request`` (which should say ``Connection: close``) and read until EOF."""
    conn = await connect(port, host)
    try:
        await conn.send(request)
        return await conn.read_to_eof()
    finally:
        await conn.aclose()


def show(raw: bytes, *, prefix: str = "< ") -> None:
    """Print a raw answer line by line, ``Date`` masked (it changes every second)."""
    text = raw.decode("latin-1")
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.lower().startswith("date:"):
            line = "Date: <masked>"
        print(prefix + line)


@asynccontextmanager
async def listening(server: Any, args: argparse.Namespace) -> AsyncIterator[int]:
    """Run ``server`` on ``args.host``/``args.port`` for the block; yields the bound port.

    The client examples start their server this way, then run the client
    against it, as the Node code they port does in one program.
    """
    async with server:
        await server.listen(args.port, args.host)
        yield server.address()["port"]
