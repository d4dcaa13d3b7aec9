"""``OutgoingMessage``: the header store, the head and the body framing of HTTP/1.1.

This is Node's ``lib/_http_outgoing.js`` ported to trio, shared by
``ServerResponse`` and ``ClientRequest``. h11 parses what comes in; what goes
out is serialised here, because Node's exact bytes (header order, when
``Content-Length`` or ``chunked`` is chosen, ``Connection`` / ``Keep-Alive``)
are part of the behaviour users see and tests pin byte for byte
(R1-013…R1-039). The decision table is Node's ``_storeHeader``:

* a body handed whole to ``end()`` before the head was stored gets
  ``Content-Length``; a head stored earlier (``write()``, ``write_head()``,
  ``flush_headers()``) gets ``Transfer-Encoding: chunked`` when the peer
  speaks HTTP/1.1, and a close-delimited body otherwise (R1-021, R1-022);
* HEAD responses, 1xx, 204 and 304 carry no body (R1-031);
* ``Date`` is added unless present or ``send_date`` is off (R1-035).

Writes are ``async``: ``await msg.write(chunk)`` returns once the bytes are
handed to the transport (DESIGN §3 "Writes wait"); ``cork()`` holds them
until ``uncork()`` or ``end()``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from email.utils import formatdate
from typing import Any

from .._encoding import to_bytes
from .._headers import (
    OutgoingHeaders,
    check_invalid_header_char,
    expand_header_value,
    validate_header_name,
    validate_header_value,
)
from ..errors import (
    BodyNotAllowedError,
    ContentLengthMismatchError,
    HeadersSentError,
    InvalidArgValueError,
    InvalidCharError,
    StreamCannotPipeError,
    StreamDestroyedError,
    StreamNullValuesError,
    StreamWriteAfterEndError,
    TrailerInvalidError,
)
from ..events import EventEmitter

__all__ = ["OutgoingMessage"]

_RE_CONN_CLOSE = re.compile(r"(?:^|\W)close(?:$|\W)", re.IGNORECASE)
_RE_TE_CHUNKED = re.compile(r"(?:^|\W)chunked(?:$|\W)", re.IGNORECASE)
_HIGH_WATER_MARK = 16384

HeadersArg = Mapping[str, Any] | list[Any] | tuple[Any, ...] | None


class _HeadState:
    __slots__ = ("connection", "cont_len", "date", "expect", "te", "trailer")

    def __init__(self) -> None:
        self.connection = False
        self.cont_len = False
        self.te = False
        self.date = False
        self.expect = False
        self.trailer = False


class OutgoingMessage(EventEmitter):
    """Node's ``http.OutgoingMessage`` (H1-159…H1-188).

    Subclasses provide ``_implicit_header()`` (store the head from the
    current state) and ``_transport_send(data)`` (hand bytes to the
    connection).
    """

    # Defaults live on the class: a message is made per request, and most of
    # these never change from their default (the hot path sets few of them).
    _out: OutgoingHeaders | None = None
    _header: bytes | None = None
    _header_sent = False
    _trailer = b""
    _pending_len = 0
    _corked = 0
    _bytes_written = 0
    _content_length: int | None = None
    _has_body = True
    _removed_connection = False
    _removed_cont_len = False
    _removed_te = False
    _default_keep_alive = True
    _keep_alive_timeout = 0.0
    _max_requests_per_socket = 0
    _unique_headers: frozenset[str] | None = None
    _reject_non_standard_body_writes = False
    _last = False
    chunked_encoding = False
    use_chunked_encoding_by_default = True
    should_keep_alive = True
    max_requests_on_connection_reached = False
    send_date = False
    strict_content_length = False
    finished = False
    writable_finished = False
    destroyed = False
    socket: Any = None

    def __init__(self) -> None:
        EventEmitter.__init__(self)
        self._pending: list[bytes] = []

    # -- header store (R1-009 … R1-020) ----------------------------------
    def set_header(self, name: str, value: Any) -> OutgoingMessage:
        """Set one header, replacing any value; lists send one line each (H1-177)."""
        if self._header is not None:
            raise HeadersSentError("set")
        out = self._out
        if out is None:
            out = self._out = OutgoingHeaders()
        out.set(name, value)
        return self

    def set_headers(
        self, headers: Mapping[str, Any] | Iterable[tuple[str, Any]]
    ) -> OutgoingMessage:
        """Set several headers at once, each replacing (H1-178, R1-020).

        ``set-cookie`` values are collected and set together, as Node does
        for a ``Headers`` object.
        """
        if self._header is not None:
            raise HeadersSentError("set")
        items = headers.items() if isinstance(headers, Mapping) else headers
        cookies: list[Any] = []
        for key, value in items:
            if key.lower() == "set-cookie":
                if isinstance(value, (list, tuple)):
                    cookies.extend(value)
                else:
                    cookies.append(value)
                continue
            self.set_header(key, value)
        if cookies:
            self.set_header("set-cookie", cookies)
        return self

    def append_header(self, name: str, value: Any) -> OutgoingMessage:
        """Append a value to a header (H1-164, R1-017)."""
        if self._header is not None:
            raise HeadersSentError("append")
        out = self._out
        if out is None:
            out = self._out = OutgoingHeaders()
        out.append(name, value)
        return self

    def get_header(self, name: str) -> Any:
        """The stored value, of the type it was set with, or ``None`` (H1-170)."""
        out = self._out
        return None if out is None else out.get(name)

    def get_header_names(self) -> list[str]:
        out = self._out
        return [] if out is None else out.names()

    def get_raw_header_names(self) -> list[str]:
        out = self._out
        return [] if out is None else out.raw_names()

    def get_headers(self) -> dict[str, Any]:
        """A shallow copy; list values are shared with the store (R1-016)."""
        out = self._out
        return {} if out is None else out.to_dict()

    def has_header(self, name: str) -> bool:
        out = self._out
        return out is not None and out.has(name)

    def remove_header(self, name: str) -> None:
        """Remove a header; removing a framing header keeps it removed (H1-176)."""
        if self._header is not None:
            raise HeadersSentError("remove")
        key = name.lower()
        if key == "connection":
            self._removed_connection = True
        elif key == "content-length":
            self._removed_cont_len = True
        elif key == "transfer-encoding":
            self._removed_te = True
        elif key == "date":
            self.send_date = False
        if self._out is not None:
            self._out.remove(name)

    @property
    def headers_sent(self) -> bool:
        """True once the head is stored (``write_head``/first write), as Node's ``headersSent``."""
        return self._header is not None

    # -- Node's properties ------------------------------------------------
    @property
    def writable_ended(self) -> bool:
        return self.finished

    @property
    def writable_corked(self) -> int:
        return self._corked

    @property
    def writable_length(self) -> int:
        return self._pending_len

    @property
    def writable_high_water_mark(self) -> int:
        return _HIGH_WATER_MARK

    @property
    def writable_object_mode(self) -> bool:
        return False

    @property
    def writable_need_drain(self) -> bool:
        return False

    @property
    def connection(self) -> Any:
        """Deprecated alias of ``socket`` (H1-165)."""
        return self.socket

    def pipe(self, *args: Any) -> None:
        """Outgoing messages are write-only (H1-175)."""
        raise StreamCannotPipeError()

    def add_trailers(self, headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Trailers, sent after a chunked body and dropped otherwise (H1-163, R1-028)."""
        parts: list[str] = []
        items = headers.items() if isinstance(headers, Mapping) else headers
        unique = self._unique_headers
        for field, value in items:
            validate_header_name(field, "Trailer name")
            if (
                isinstance(value, (list, tuple))
                and len(value) > 1
                and (unique is None or field.lower() not in unique)
            ):
                for v in value:
                    sv = v if isinstance(v, str) else str(v)
                    if check_invalid_header_char(sv):
                        raise InvalidCharError("trailer content", field)
                    parts.append(f"{field}: {sv}\r\n")
            else:
                if isinstance(value, (list, tuple)):
                    value = "; ".join(str(v) for v in value)
                sv = value if isinstance(value, str) else str(value)
                if check_invalid_header_char(sv):
                    raise InvalidCharError("trailer content", field)
                parts.append(f"{field}: {sv}\r\n")
        self._trailer = "".join(parts).encode("latin-1")

    def cork(self) -> None:
        """Hold writes in memory until ``uncork()`` or ``end()`` (H1-166)."""
        self._corked += 1

    def uncork(self) -> None:
        """Undo one ``cork()``; the held bytes go out with the next write or ``end()``."""
        if self._corked:
            self._corked -= 1

    def set_timeout(self, seconds: float, callback: Any = None) -> OutgoingMessage:
        if callback is not None:
            self.on("timeout", callback)
        sock = self.socket
        if sock is not None:
            sock.set_timeout(seconds)
        return self

    def destroy(self, error: BaseException | None = None) -> OutgoingMessage:
        """Destroy the message and its socket (H1-167)."""
        if self.destroyed:
            return self
        self.destroyed = True
        sock = self.socket
        if sock is not None:
            sock.destroy(error)
        return self

    # -- the head: Node's _storeHeader -----------------------------------
    def _store_header(self, first_line: str, headers: HeadersArg | OutgoingHeaders) -> None:
        state = _HeadState()
        lines: list[str] = [first_line]
        if headers is not None:
            if isinstance(headers, OutgoingHeaders):
                for raw_name, value in headers.items_raw():
                    self._process_header(state, lines, raw_name, value, False)
            elif isinstance(headers, (list, tuple)):
                if headers and isinstance(headers[0], (list, tuple)):
                    for entry in headers:
                        self._process_header(state, lines, entry[0], entry[1], True)
                else:
                    if len(headers) % 2:
                        raise InvalidArgValueError("headers", headers)
                    for n in range(0, len(headers), 2):
                        self._process_header(state, lines, headers[n], headers[n + 1], True)
            else:
                for key, value in headers.items():
                    self._process_header(state, lines, key, value, True)

        if self.send_date and not state.date:
            lines.append("Date: " + _utc_date() + "\r\n")

        status = getattr(self, "status_code", 0)
        if self.chunked_encoding and (status == 204 or status == 304):
            self.chunked_encoding = False
            self.should_keep_alive = False

        if self._removed_connection:
            self._last = not self.should_keep_alive
        elif not state.connection:
            should_send_keep_alive = self.should_keep_alive and (
                state.cont_len or self.use_chunked_encoding_by_default or self._has_agent()
            )
            if should_send_keep_alive and self.max_requests_on_connection_reached:
                lines.append("Connection: close\r\n")
            elif should_send_keep_alive:
                lines.append("Connection: keep-alive\r\n")
                if self._keep_alive_timeout and self._default_keep_alive:
                    seconds = int(self._keep_alive_timeout // 1)
                    extra = ""
                    if self._max_requests_per_socket > 0:
                        extra = f", max={self._max_requests_per_socket}"
                    lines.append(f"Keep-Alive: timeout={seconds}{extra}\r\n")
            else:
                self._last = True
                lines.append("Connection: close\r\n")

        if not state.cont_len and not state.te:
            if not self._has_body:
                self.chunked_encoding = False
            elif not self.use_chunked_encoding_by_default:
                self._last = True
            elif (
                not state.trailer
                and not self._removed_cont_len
                and self._content_length is not None
            ):
                lines.append(f"Content-Length: {self._content_length}\r\n")
            elif not self._removed_te:
                lines.append("Transfer-Encoding: chunked\r\n")
                self.chunked_encoding = True
            else:
                self._last = True

        if self.chunked_encoding is not True and state.trailer:
            raise TrailerInvalidError()

        lines.append("\r\n")
        self._header = "".join(lines).encode("latin-1")
        self._header_sent = False

    def _has_agent(self) -> bool:
        return False

    def _process_header(
        self, state: _HeadState, lines: list[str], key: str, value: Any, validate: bool
    ) -> None:
        if validate:
            validate_header_name(key)
        lower = key.lower()
        if isinstance(value, (list, tuple)):
            values = expand_header_value(lower, list(value), self._unique_headers)
        elif isinstance(value, str):
            values = [value]
        else:
            values = expand_header_value(lower, value, self._unique_headers)
        for v in values:
            if validate:
                validate_header_value(key, v)
            lines.append(f"{key}: {v}\r\n")
            if 4 <= len(lower) <= 17:
                self._match_header(state, lower, v)

    def _match_header(self, state: _HeadState, field: str, value: str) -> None:
        if field == "connection":
            state.connection = True
            self._removed_connection = False
            if _RE_CONN_CLOSE.search(value):
                self._last = True
            else:
                self.should_keep_alive = True
        elif field == "transfer-encoding":
            state.te = True
            self._removed_te = False
            if _RE_TE_CHUNKED.search(value):
                self.chunked_encoding = True
        elif field == "content-length":
            state.cont_len = True
            try:
                self._content_length = int(value)
            except ValueError:
                self._content_length = None
            self._removed_cont_len = False
        elif field == "date":
            state.date = True
        elif field == "expect":
            state.expect = True
        elif field == "trailer":
            state.trailer = True
        elif field == "keep-alive":
            self._default_keep_alive = False

    def _implicit_header(self) -> None:
        raise TypeError(f"{type(self).__name__} cannot compute an implicit head")

    async def _transport_send(self, data: bytes) -> None:
        raise TypeError(f"{type(self).__name__} has no transport")

    # -- the body: Node's write_ / end -----------------------------------
    def _queue(self, data: bytes) -> None:
        if not self._header_sent and self._header is not None:
            self._pending.append(self._header)
            self._pending_len += len(self._header)
            self._header_sent = True
        if data:
            self._pending.append(data)
            self._pending_len += len(data)

    async def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self._pending = []
        self._pending_len = 0
        await self._transport_send(data)

    def _strict_content_length(self) -> bool:
        return (
            self.strict_content_length
            and self._content_length is not None
            and self._has_body
            and not self._removed_cont_len
            and not self.chunked_encoding
            and not self.has_header("transfer-encoding")
        )

    def _write_(self, chunk: Any, encoding: str | None, from_end: bool) -> None:
        """The synchronous part of ``write()``: checks, implicit head, framing."""
        if chunk is None:
            raise StreamNullValuesError()
        data = chunk if type(chunk) is bytes else to_bytes(chunk, encoding)
        if self.finished:
            raise StreamWriteAfterEndError()
        if self.destroyed:
            raise StreamDestroyedError("write")
        n = len(data)
        if self.strict_content_length:
            if self._strict_content_length() and (
                self._bytes_written + n != self._content_length
                if from_end
                else self._bytes_written + n > (self._content_length or 0)
            ):
                raise ContentLengthMismatchError(n + self._bytes_written, self._content_length or 0)
            self._bytes_written += n
        if self._header is None:
            if from_end:
                self._content_length = n
            self._implicit_header()
        if not self._has_body:
            if self._reject_non_standard_body_writes:
                raise BodyNotAllowedError()
            return
        if self.chunked_encoding:
            if n:
                self._queue(b"%x\r\n%b\r\n" % (n, data))
        else:
            self._queue(data)

    async def write(self, chunk: Any, encoding: str | None = None) -> bool:
        """Send a body chunk; returns once it is handed to the transport (H1-188).

        An empty chunk sends nothing but the head, if that is still
        pending (R1-024). Returns ``True`` like Node when nothing stayed
        buffered.
        """
        self._write_(chunk, encoding, False)
        if self._corked:
            return self._pending_len < _HIGH_WATER_MARK
        await self._flush()
        return True

    async def end(self, chunk: Any = None, encoding: str | None = None) -> OutgoingMessage:
        """Finish the message: the last chunk, the terminator and trailers (H1-168).

        Fires ``'prefinish'`` and then ``'finish'`` once everything is
        handed to the transport (R1-039). Calling it again is a no-op.
        """
        if chunk:
            if self.finished:
                raise StreamWriteAfterEndError()
            self._write_(chunk, encoding, True)
        elif self.finished:
            return self
        elif self._header is None:
            self._content_length = 0
            self._implicit_header()

        if self._strict_content_length() and self._bytes_written != self._content_length:
            raise ContentLengthMismatchError(self._bytes_written, self._content_length or 0)

        self._queue_end()
        await self._flush()
        await self._finish()
        return self

    def _queue_end(self) -> None:
        """Queue the end of the message (the terminator and trailers when chunked, R1-023)
        and mark it finished; ``end()`` and the client's ``http.get`` path share it."""
        if self._has_body and self.chunked_encoding:
            self._queue(b"0\r\n" + self._trailer + b"\r\n")
        else:
            self._queue(b"")
        self._corked = 0
        self.finished = True

    async def _finish(self) -> None:
        if self._events:
            await self.emit_async("prefinish")
        self.writable_finished = True
        if self._events:
            await self.emit_async("finish")

    async def flush_headers(self) -> None:
        """Send the head now instead of with the first body chunk (H1-169, R1-019)."""
        if self._header is None:
            self._implicit_header()
        self._queue(b"")
        await self._flush()


_date_cache: list[Any] = [0, ""]


def _utc_date() -> str:
    """The ``Date`` value, computed once per second like Node's ``utcDate()``."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = formatdate(now, usegmt=True)
    return str(_date_cache[1])
