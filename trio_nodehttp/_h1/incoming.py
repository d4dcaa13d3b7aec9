"""``IncomingMessage``: a request on the server, a response on the client (H1-135…H1-158).

Headers arrive as Node's flat ``raw_headers`` list; ``headers`` and
``headers_distinct`` are built from it on first access by the one merge
table in ``_headers`` (R1-003…R1-008). The body is pulled off the
connection only as it is read: ``async for chunk in msg``, ``await
msg.read()``, ``receive_some()`` (it is a ``trio.abc.ReceiveStream``) or
``await msg.resume()`` to discard it. An unread body is backpressure, never
a buffer (DESIGN §3 "Bodies", §11 "Bodies nobody reads").
"""

from __future__ import annotations

import json as _json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from .._encoding import Decoder
from .._headers import build_headers, build_headers_distinct
from ..events import EventEmitter

__all__ = ["IncomingMessage"]


class _BodySource(Protocol):
    async def _next_body_chunk(self, msg: IncomingMessage) -> bytes | None: ...

    def _ready_body_chunk(self, msg: IncomingMessage) -> bytes | bool | None:
        """The next chunk (``None`` at the end) when it needs no I/O, else ``False``."""
        ...

    def _read_buffered(self, msg: IncomingMessage) -> bytes | None:
        """The whole rest of the body, the message ended, when that needs no I/O and
        no listener would see it; else ``None``."""
        ...


class IncomingMessage(EventEmitter, trio.abc.ReceiveStream):
    """Node's ``http.IncomingMessage``.

    ``'data'`` and ``'end'`` fire as the body is consumed; ``'close'`` once
    the message is done (R1-101). ``trailers`` are filled in when the body
    ends (R1-006).
    """

    # Defaults live on the class: one message per request, few fields change.
    http_version_major = 1
    http_version_minor = 1
    http_version = "1.1"
    method: str | None = None
    url: str | None = None
    status_code: int | None = None
    status_message: str | None = None
    complete = False
    aborted = False
    upgrade = False
    destroyed = False
    join_duplicate_headers = False
    max_headers_count = 0
    _headers: dict[str, str | list[str]] | None = None
    _headers_distinct: dict[str, list[str]] | None = None
    _trailers: dict[str, str | list[str]] | None = None
    _trailers_distinct: dict[str, list[str]] | None = None
    _source: _BodySource | None = None
    _end_emitted = False
    #: Called after 'end' (the client request fires its 'close' there, R1-076).
    _on_end: Callable[[], Awaitable[None]] | None = None
    _decoder: Decoder | None = None
    _ended = False
    _closed_reading = False
    _error: BaseException | None = None
    _rest = b""
    _tail_done = False
    # the last chunk as 'data' listeners got it (decoded once: the decoder keeps state)
    _decoded: Any = None
    #: Awaited when a read fails (the client closes its half-read connection).
    _on_fail: Callable[[], Awaitable[None]] | None = None

    def __init__(self, socket: Any) -> None:
        EventEmitter.__init__(self)
        self.socket = socket
        self.raw_headers: list[str] = []
        self.raw_trailers: list[str] = []

    # -- headers (R1-001 … R1-008) ---------------------------------------
    @property
    def headers(self) -> dict[str, str | list[str]]:
        """Lower-case names, duplicates merged by Node's table; built on first access."""
        h = self._headers
        if h is None:
            h = self._headers = build_headers(
                self.raw_headers, self.join_duplicate_headers, self.max_headers_count
            )
        return h

    @headers.setter
    def headers(self, value: dict[str, str | list[str]]) -> None:
        self._headers = value

    @property
    def headers_distinct(self) -> dict[str, list[str]]:
        """Every value as a list, nothing joined (R1-005)."""
        h = self._headers_distinct
        if h is None:
            h = self._headers_distinct = build_headers_distinct(
                self.raw_headers, self.max_headers_count
            )
        return h

    @property
    def trailers(self) -> dict[str, str | list[str]]:
        """Trailers, merged like headers; empty until the body has ended (R1-006)."""
        t = self._trailers
        if t is None:
            t = build_headers(self.raw_trailers, self.join_duplicate_headers, 0)
            if self._ended:
                self._trailers = t
        return t

    @property
    def trailers_distinct(self) -> dict[str, list[str]]:
        t = self._trailers_distinct
        if t is None:
            t = build_headers_distinct(self.raw_trailers)
            if self._ended:
                self._trailers_distinct = t
        return t

    @property
    def connection(self) -> Any:
        """Deprecated alias of ``socket`` (H1-140)."""
        return self.socket

    @property
    def readable_ended(self) -> bool:
        return self._ended

    @property
    def readable_high_water_mark(self) -> int:
        return 16384

    # -- reading ----------------------------------------------------------
    def set_encoding(self, encoding: str) -> IncomingMessage:
        """Make iteration and ``receive``-style reads yield ``str`` (Node's ``setEncoding``)."""
        self._decoder = Decoder(encoding)
        return self

    def set_timeout(
        self, seconds: float, callback: Callable[..., Any] | None = None
    ) -> IncomingMessage:
        """Calls ``socket.set_timeout`` (H1-150)."""
        if callback is not None:
            self.on("timeout", callback)
        if self.socket is not None:
            self.socket.set_timeout(seconds)
        return self

    def destroy(self, error: BaseException | None = None) -> IncomingMessage:
        """Destroy the socket the message came on (H1-141, R1-102)."""
        self.destroyed = True
        sock = self.socket
        if sock is not None:
            if error is not None and sock.listener_count("error"):
                sock.emit("error", error)
            sock.destroy(error)
        return self

    async def _pull(self) -> bytes | None:
        """The next raw body chunk, or ``None`` at the end; fires 'data' / 'end'."""
        if self._end_emitted:
            return None
        if self._error is not None:
            raise self._error
        source = self._source
        try:
            if source is None or self._ended:
                chunk = None
            else:
                ready = source._ready_body_chunk(self)
                if ready is False:
                    chunk = await source._next_body_chunk(self)
                else:
                    chunk = ready  # type: ignore[assignment]
            if chunk is None:
                self._set_ended()
                if self._events:
                    await self.emit_async("end")
                on_end = self._on_end
                if on_end is not None:
                    await on_end()
                return None
            if self._events and "data" in self._events:
                decoded = self._decoded = self._decode(chunk)
                await self.emit_async("data", decoded)
            elif self._decoded is not None:
                self._decoded = None
        except BaseException:
            on_fail = self._on_fail
            if on_fail is not None:
                await on_fail()
            raise
        return chunk

    def _set_ended(self) -> None:
        """The body is over: complete, ended, and 'end' is due (or fired) now."""
        self._ended = True
        self.complete = True
        self._end_emitted = True

    def _decode(self, chunk: bytes) -> Any:
        dec = self._decoder
        return chunk if dec is None else dec.decode(chunk)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """``trio.abc.ReceiveStream``: the next body bytes, ``b""`` at the end."""
        if self._closed_reading:
            raise trio.ClosedResourceError("the message was closed")
        buffered = self._rest
        if buffered:
            data = buffered
        else:
            chunk = await self._pull()
            if chunk is None:
                return b""
            data = chunk
        if max_bytes is not None and len(data) > max_bytes:
            self._rest = data[max_bytes:]
            return data[:max_bytes]
        self._rest = b""
        return data

    async def aclose(self) -> None:
        """Stop reading; what is left of the body is discarded by its owner."""
        self._closed_reading = True
        await trio.lowlevel.checkpoint()

    def __aiter__(self) -> IncomingMessage:
        return self

    async def __anext__(self) -> Any:
        """Iteration yields body chunks (``str`` after ``set_encoding``) and fires 'data'."""
        while True:
            chunk = await self._pull()
            dec = self._decoder
            if chunk is None:
                if dec is not None and not self._tail_done:
                    self._tail_done = True
                    tail = dec.decode(b"", True)
                    if tail:
                        return tail
                raise StopAsyncIteration
            if dec is None:
                return chunk
            text = self._decoded
            if text is None:
                text = dec.decode(chunk)
            self._decoded = None
            if text:  # a chunk holding only part of a character yields nothing yet
                return text

    async def read(self) -> bytes:
        """The whole (rest of the) body as bytes."""
        source = self._source
        if source is not None and not self._events and not self._ended and self._error is None:
            # Nobody listens for 'data' / 'end': when the rest is already buffered the
            # source ends the message at once (the same state as the _pull loop leaves).
            body = source._read_buffered(self)
            if body is not None:
                return body
        first = await self._pull()
        if first is None:
            return b""
        chunk = await self._pull()
        if chunk is None:  # the common case: one chunk
            return first
        parts = [first, chunk]
        while True:
            chunk = await self._pull()
            if chunk is None:
                break
            parts.append(chunk)
        return b"".join(parts)

    async def text(self, encoding: str = "utf-8") -> str:
        """The whole body decoded (UTF-8 unless told otherwise)."""
        return Decoder(encoding).decode(await self.read(), True)

    async def json(self) -> Any:
        """The whole body parsed as JSON."""
        return _json.loads(await self.read())

    async def resume(self) -> IncomingMessage:
        """Read and discard the rest of the body (Node's ``resume()``)."""
        while await self._pull() is not None:
            pass
        return self

    def __repr__(self) -> str:
        if self.method is not None:
            first = f"{self.method} {self.url} HTTP/{self.http_version}"
        else:
            first = f"HTTP/{self.http_version} {self.status_code} {self.status_message}"
        state = "complete" if self.complete else ("aborted" if self.aborted else "reading")
        return f"<IncomingMessage {first!r} {state}>"
