"""``http.Server``: connections, requests, timeouts and bad input (H1-078…H1-103, R1-046…R1-075).

Structure (DESIGN §4, §5):

* The server owns a nursery; every connection is one task in it.
  ``'request'`` listeners run in their connection's task, one request at a
  time; pipelined requests wait their turn.
* Each connection has ONE cancel scope whose deadline is moved as the
  connection advances (PEERS lesson 1): ``headers_timeout`` and
  ``request_timeout`` while a request is being received, nothing while a
  complete request is handled, ``keep_alive_timeout`` + 1 s between
  requests. The same scope is how ``close_idle_connections`` /
  ``close_all_connections`` / ``socket.destroy()`` end a connection.
* The inactivity ``timeout`` (``server.timeout``, ``socket.set_timeout``)
  is a sleeper task of the connection that emits ``'timeout'`` and, when
  nobody listens, destroys the socket (R1-050…R1-052).
* h11 parses every request (one ``h11.Connection`` per request, seeded with
  the bytes left over from the previous one: h11 is used as the parser
  only, the bytes we send come from ``outgoing``). Where Node's parser
  (llhttp) is stricter than h11 — obs-fold, bare CR/LF, duplicate
  ``Content-Length``, ``Content-Length`` with ``Transfer-Encoding``,
  unknown methods, HTTP versions other than 0.9/1.0/1.1/2.0 — the head is
  checked here after h11 accepted it, unless ``insecure_http_parser``.
"""

from __future__ import annotations

import errno
import logging
import math
import socket as _stdlib_socket
from collections.abc import Callable
from typing import Any, NoReturn

import h11
import trio

from .._constants import METHODS
from .._headers import comma_tokens, keeps_alive, parse_unique_headers_option, raw_list
from .._net import Socket
from ..errors import (
    ConnResetError,
    EPipeError,
    HttpParserError,
    RequestTimeoutError,
    ServerAlreadyListenError,
    ServerNotRunningError,
)
from ..events import EventEmitter
from .incoming import IncomingMessage
from .response import ServerResponse

__all__ = ["Server"]

log = logging.getLogger("trio_nodehttp")

_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"
_HEADERS_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
_EXTENSIONS_TOO_LARGE = b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n"
_CLIENT_ERROR_RESPONSES = {
    "HPE_HEADER_OVERFLOW": _HEADERS_TOO_LARGE,
    "HPE_CHUNK_EXTENSIONS_OVERFLOW": _EXTENSIONS_TOO_LARGE,
    "ERR_HTTP_REQUEST_TIMEOUT": _REQUEST_TIMEOUT,
}

_METHODS = frozenset(METHODS)
_VERSIONS = {b"1.1": (1, 1), b"1.0": (1, 0), b"0.9": (0, 9), b"2.0": (2, 0)}
_READ_SIZE = 65536
#: Node v24's keepAliveTimeoutBuffer: an idle connection is closed this long
#: after the advertised ``Keep-Alive: timeout``, so that a client acting on
#: the hint never races the close (DESIGN §5, PEERS lesson 3).
KEEP_ALIVE_TIMEOUT_BUFFER = 1.0
#: How long a closing write (408, 400, 500 ...) may take before the socket is dropped.
_CLOSING_WRITE_TIMEOUT = 1.0

# connection phases: what the connection's deadline currently bounds
_RECEIVING = 0  # a request is arriving: headers_timeout / request_timeout
_HANDLING = 1  # a complete request is being answered: no deadline
_IDLE = 2  # between requests: keep_alive_timeout (+ buffer)


#: Node v20's (llhttp's) code and reason for each kind of bad input: the one
#: place where h11's refusals and ``_check_head``'s findings become Node's errors.
#: ``_find_bad_head`` / ``_body_parse_error`` pick the kind and its offset.
_LLHTTP_ERRORS: dict[str, tuple[str, str]] = {
    "method": ("HPE_INVALID_METHOD", "Invalid method encountered"),
    "protocol": ("HPE_INVALID_CONSTANT", "Expected HTTP/, RTSP/ or ICE/"),
    "version": ("HPE_INVALID_VERSION", "Invalid HTTP version"),
    "after-version": ("HPE_INVALID_VERSION", "Expected CRLF after version"),
    "after-version-cr": ("HPE_STRICT", "Expected CRLF after version"),
    "space-after-start-line": ("HPE_UNEXPECTED_SPACE", "Unexpected space after start line"),
    "obs-fold": ("HPE_INVALID_HEADER_TOKEN", "Unexpected whitespace after header value"),
    "header-name": ("HPE_INVALID_HEADER_TOKEN", "Invalid header token"),
    "header-value": ("HPE_INVALID_HEADER_TOKEN", "Invalid header value char"),
    "cr-without-lf": ("HPE_LF_EXPECTED", "Missing expected LF after header value"),
    "lf-without-cr": ("HPE_CR_EXPECTED", "Missing expected CR after header value"),
    "content-length-char": ("HPE_INVALID_CONTENT_LENGTH", "Invalid character in Content-Length"),
    "content-length-twice": ("HPE_UNEXPECTED_CONTENT_LENGTH", "Duplicate Content-Length"),
    "content-length-after-te": (
        "HPE_INVALID_CONTENT_LENGTH",
        "Content-Length can't be present with Transfer-Encoding",
    ),
    "te-after-content-length": (
        "HPE_INVALID_TRANSFER_ENCODING",
        "Transfer-Encoding can't be present with Content-Length",
    ),
    "te-not-chunked": ("HPE_INVALID_TRANSFER_ENCODING", "Request has invalid `Transfer-Encoding`"),
    "header-overflow": ("HPE_HEADER_OVERFLOW", "Header overflow"),
    "chunk-size-char": ("HPE_INVALID_CHUNK_SIZE", "Invalid character in chunk size"),
    "chunk-size-overflow": ("HPE_INVALID_CHUNK_SIZE", "Chunk size overflow"),
    "chunk-data-end": ("HPE_STRICT", "Expected LF after chunk data"),
    "chunk-extensions-overflow": ("HPE_CHUNK_EXTENSIONS_OVERFLOW", "Chunk extensions overflow"),
}
#: the methods llhttp's request parser knows (Node's METHODS and RTSP's)
_LLHTTP_METHODS = (
    *(m.encode() for m in METHODS),
    *b"DESCRIBE ANNOUNCE SETUP PLAY PAUSE TEARDOWN GET_PARAMETER SET_PARAMETER "
    b"REDIRECT RECORD FLUSH".split(),
)
_PROTOCOLS = (b"HTTP/", b"RTSP/", b"ICE/")
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _common_prefix(data: bytes, words: tuple[bytes, ...]) -> int:
    """How many leading bytes of ``data`` some word of ``words`` starts with."""
    best = 0
    for word in words:
        n = 0
        for a, b in zip(data, word, strict=False):
            if a != b:
                break
            n += 1
        best = max(best, n)
    return best


def _find_bad_head(head: bytes, limit: int) -> tuple[str, int] | None:
    """The first thing llhttp refuses in ``head``, and Node's ``bytesParsed`` for it.

    Only called once h11 or ``_check_head`` refused the head (errors only). It
    walks the request line and the header lines with plain searches, in
    llhttp's order, and reports the kind (a key of ``_LLHTTP_ERRORS``) with
    the offset llhttp stops at, from the start of this request's bytes
    (checked against Node v20 in tests/interop/test_client_error_parity.py):
    the offending byte for a bad method / protocol (the length of the longest
    known prefix), a byte after the version, a header-name byte (the colon of
    an empty name), a control byte in a value, a non-digit in
    ``Content-Length``, a bare LF and the first byte of an obs-fold line; one
    past it for a bare CR, a space starting the first header line and a LF
    right after the version; the end of the version for an unknown one; the
    first value byte of a second ``Content-Length``; one past the colon for
    ``Content-Length`` with ``Transfer-Encoding``; the end of the head for a
    non-chunked ``Transfer-Encoding``; for ``limit`` (target + names + values,
    as counted in ``_on_request``) the space after the target, one past the
    colon of a name or one past the CR ending a value. ``None`` when llhttp
    would accept the head (HTTP/0.9, duplicate ``Host``, ...).
    """
    eol = head.find(b"\n")
    line_end = eol if eol >= 0 else len(head)
    sp = head.find(b" ", 0, line_end)
    method = head[:sp] if sp >= 0 else head[:line_end]
    if method not in _LLHTTP_METHODS:
        return "method", _common_prefix(method, _LLHTTP_METHODS)
    start = sp + 1
    while head[start : start + 1] == b" ":
        start += 1
    end = head.find(b" ", start, line_end)
    if end < 0:
        return None  # HTTP/0.9
    nread = end - start
    if nread >= limit:
        return "header-overflow", end
    pos = end + 1
    if not head.startswith(_PROTOCOLS, pos):
        return "protocol", pos + _common_prefix(head[pos : pos + 5], _PROTOCOLS)
    pos = head.index(b"/", pos) + 1
    version = head[pos : pos + 3]
    if len(version) < 3 or not (
        version[0:1].isdigit() and version[1:2] == b"." and version[2:3].isdigit()
    ):
        return None
    pos += 3
    if version not in _VERSIONS:
        return "version", pos
    c = head[pos : pos + 1]
    if c == b"\n":
        return "after-version", pos + 1
    if c != b"\r":
        return "after-version", pos
    if head[pos + 1 : pos + 2] != b"\n":
        return "after-version-cr", pos + 1
    pos += 2
    if head[pos : pos + 1] in (b" ", b"\t"):
        return "space-after-start-line", pos + 1
    content_length = transfer_encoding = chunked = False
    size = len(head)
    while pos < size:
        if head.startswith(b"\r\n", pos):
            if transfer_encoding and not chunked:
                return "te-not-chunked", pos + 2
            return None
        if head[pos : pos + 1] in (b" ", b"\t"):
            return "obs-fold", pos
        colon = pos
        while colon < size and head[colon] in _TOKEN:
            colon += 1
        if colon == size:
            return None
        if head[colon] != 58 or colon == pos:  # ':'
            return "header-name", colon
        name = head[pos:colon].lower()
        nread += colon - pos
        if nread >= limit:
            return "header-overflow", colon + 1
        if name == b"content-length" and transfer_encoding:
            return "content-length-after-te", colon + 1
        if name == b"transfer-encoding" and content_length:
            return "te-after-content-length", colon + 1
        value = colon + 1
        while head[value : value + 1] in (b" ", b"\t"):
            value += 1
        stop = value
        while stop < size and (head[stop] >= 32 or head[stop] == 9):
            stop += 1
        if stop == size:
            return None
        if head[stop] == 10:
            return "lf-without-cr", stop
        if head[stop] != 13:
            return "header-value", stop
        if head[stop + 1 : stop + 2] != b"\n":
            return "cr-without-lf", stop + 1
        text = head[value:stop].rstrip(b" \t")
        nread += len(text)
        if nread >= limit:
            return "header-overflow", stop + 1
        if name == b"content-length":
            if content_length:
                return "content-length-twice", value
            content_length = True
            for i, byte in enumerate(text):
                if not 48 <= byte <= 57:
                    return "content-length-char", value + i
        elif name == b"transfer-encoding":
            transfer_encoding = True
            chunked = text.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
        pos = stop + 2
    return None


def _head_error(
    head: bytes, packet: bytes, limit: int, fallback: tuple[str, str]
) -> HttpParserError:
    """Node's error for a refused head; ``fallback`` (code, reason) when llhttp would accept it.

    ``bytes_parsed`` counts from the start of this request: Node counts from
    the start of the packet, which differs when the request came behind
    another one in the same packet (and then ``raw_packet`` is this request's
    bytes, where Node's is the whole packet). A fallback has ``bytes_parsed`` 0.
    """
    found = _find_bad_head(head, limit)
    if found is None:
        return HttpParserError(*fallback, raw_packet=packet)
    kind, offset = found
    code, reason = _LLHTTP_ERRORS[kind]
    return HttpParserError(code, reason, bytes_parsed=offset, raw_packet=packet)


def _body_parse_error(
    exc: h11.RemoteProtocolError, packet: bytes | None, unconsumed: bytes
) -> HttpParserError:
    """The llhttp error for what h11 refused in a body (chunk sizes, extensions, EOF).

    ``packet`` is the bytes received last, in which h11 found the error, and
    ``unconsumed`` what h11 has not consumed of them: the bad chunk line (or
    the two bytes after chunk data) ends right before it, which gives Node's
    ``bytesParsed``. ``packet`` is ``None`` when the bad bytes came with an
    earlier packet that is no longer at hand: then ``bytes_parsed`` is 0,
    ``raw_packet`` empty, and a bad chunk size is "Invalid character".
    """
    msg = str(exc)
    if "peer closed" in msg or "peer unexpectedly closed" in msg:
        return HttpParserError("ECONNRESET", "aborted")
    if exc.error_status_hint == 431:
        kind = "chunk-extensions-overflow"
        offset = len(packet) if packet is not None else 0
    elif packet is None:
        kind = "chunk-data-end" if "footer" in msg else "chunk-size-char"
        offset = 0
    else:
        end = len(packet) - len(unconsumed)
        if "footer" in msg:
            kind = "chunk-data-end"
            offset = max(0, end - 2)
            offset += packet[offset : offset + 1] == b"\r"
        else:
            start = offset = packet.rfind(b"\n", 0, max(0, end - 1)) + 1
            while offset < end and packet[offset] in _HEX:
                offset += 1
            kind = "chunk-size-char"
            if offset - start > 16:  # llhttp stops one past the 17th digit
                kind, offset = "chunk-size-overflow", start + 17
    code, reason = _LLHTTP_ERRORS[kind]
    return HttpParserError(code, reason, bytes_parsed=offset, raw_packet=packet or b"")


class _HandOff(Exception):
    """Raised inside the connection loop to leave it for an 'upgrade' or 'connect' listener."""

    def __init__(self, event: str, req: IncomingMessage, head: bytes) -> None:
        super().__init__(event)
        self.event = event
        self.req = req
        self.head = head


class _Connection:
    """One accepted (or injected) connection, served in its own task."""

    #: The packet the body parser's buffered bytes came from (Node's offsets count from it).
    last_packet: bytes | None = None

    def __init__(
        self,
        server: Server,
        stream: trio.abc.Stream,
        socket: Socket | None = None,
        *,
        emit_connection: bool = True,
    ) -> None:
        self.server = server
        self.stream = stream
        #: Whether the task emits the server's 'connection' (https emits it before
        #: its handshake, with the TCP socket).
        self.emit_connection = emit_connection
        self.socket = Socket(stream, server=server) if socket is None else socket
        self.socket.timeout = server.timeout
        self.socket._on_destroy = self._kill
        self.socket._on_timeout_change = self._timeout_changed
        self.scope = trio.CancelScope()
        self.phase = _RECEIVING
        self.killed = False
        self.requests = 0
        self.parser = self._new_parser()
        self.head_buf = b""
        self.request_deadline = math.inf
        self.current_req: IncomingMessage | None = None
        self.current_res: ServerResponse | None = None
        self.body_error: HttpParserError | None = None
        self.last_activity = 0.0
        self.watching = False
        # The bytes being parsed arrived while the previous response was in
        # flight: a parse error in them closes without an answer, as Node's
        # socketOnError does when the socket's ServerResponse has sent its head.
        self.pipelined = False
        self._watcher_wakeup: trio.Event | None = None
        self._nursery: trio.Nursery | None = None

    # -- small helpers ------------------------------------------------------
    def _new_parser(self) -> h11.Connection:
        server = self.server
        # h11 caps an incomplete head; Node's own count (target + names +
        # values) is checked once the head is parsed (DESIGN §11 "Limits").
        return h11.Connection(h11.SERVER, max_incomplete_event_size=server.max_header_size + 8192)

    def _kill(self) -> None:
        self.killed = True
        self.scope.cancel()

    @property
    def idle(self) -> bool:
        return self.phase == _IDLE

    def _arm_receiving(self, start: float) -> None:
        server = self.server
        self.phase = _RECEIVING
        headers_deadline = (
            start + server.headers_timeout if server.headers_timeout > 0 else math.inf
        )
        self.request_deadline = (
            start + server.request_timeout if server.request_timeout > 0 else math.inf
        )
        self.scope.deadline = min(headers_deadline, self.request_deadline)

    def _arm_idle(self) -> None:
        self.phase = _IDLE
        kat = self.server.keep_alive_timeout
        self.scope.deadline = (
            trio.current_time() + kat + KEEP_ALIVE_TIMEOUT_BUFFER if kat > 0 else math.inf
        )

    async def _receive(self) -> bytes:
        try:
            data = await self.stream.receive_some(_READ_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            if self.socket.destroyed or self.killed:
                # socket.destroy() from another task (a 'timeout' listener, say)
                # closed the fd under this read and cancelled the connection's
                # scope: end by that cancellation, not by the read's error.
                await trio.lowlevel.checkpoint()
                raise
            data = b""
        self.socket.bytes_read += len(data)
        if self.watching:
            self.last_activity = trio.current_time()
        return bytes(data)

    async def _send(self, data: bytes) -> None:
        if self.socket.destroyed:
            raise EPipeError("This socket has been ended by the other party")
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise EPipeError("This socket has been ended by the other party") from exc
        self.socket.bytes_written += len(data)
        if self.watching:
            self.last_activity = trio.current_time()

    # -- the task -------------------------------------------------------------
    async def run(self) -> None:
        server = self.server
        server._connections.add(self)
        handoff: _HandOff | None = None
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self.socket.timeout > 0:
                    self._start_watcher()
                try:
                    with self.scope:
                        self._arm_receiving(trio.current_time())
                        if (
                            self.emit_connection
                            and server._events
                            and "connection" in server._events
                        ):
                            await server.emit_async("connection", self.socket)
                        await self._serve_requests()
                except _HandOff as h:
                    handoff = h
                if self.scope.cancelled_caught and not self.killed and self.phase == _RECEIVING:
                    await self._client_error(RequestTimeoutError())
                nursery.cancel_scope.cancel()
                self._nursery = None
            if handoff is not None:
                server._connections.discard(self)
                self._wake_closer()
                await self._run_handoff(handoff)
        finally:
            server._connections.discard(self)
            self._wake_closer()
            with trio.move_on_after(_CLOSING_WRITE_TIMEOUT) as cleanup:
                cleanup.shield = True
                await trio.aclose_forcefully(self.stream) if self.killed else await self._aclose()
            self.socket.destroyed = True
            if self.current_req is not None and not self.current_req.complete:
                self.current_req.aborted = True

    async def _aclose(self) -> None:
        try:
            await self.stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass

    def _wake_closer(self) -> None:
        server = self.server
        if server._drained is not None and not server._connections:
            server._drained.set()

    async def _run_handoff(self, h: _HandOff) -> None:
        """'upgrade' / 'connect': the listener owns the socket until it returns (R1-071, R1-072)."""
        try:
            await self.server.emit_async(h.event, h.req, self.socket, h.head)
        except Exception:
            log.exception("%r listener failed", h.event)

    async def _client_error(self, err: BaseException) -> None:
        """Node's socketOnError: 'clientError' or the fixed answer, then close (R1-067…R1-069)."""
        server = self.server
        self.killed = True
        sock = self.socket
        with trio.move_on_after(_CLOSING_WRITE_TIMEOUT) as scope:
            scope.shield = True
            if server._events and "clientError" in server._events:
                try:
                    await server.emit_async("clientError", err, sock)
                except Exception:
                    log.exception("'clientError' listener failed")
                return
            res = self.current_res
            if sock.destroyed or (res is not None and res._header_sent):
                return
            if self.pipelined and not isinstance(err, RequestTimeoutError):
                return
            code = getattr(err, "code", "")
            try:
                await self._send(_CLIENT_ERROR_RESPONSES.get(code, _BAD_REQUEST))
            except EPipeError:
                pass

    # -- inactivity timeout ----------------------------------------------------
    def _start_watcher(self) -> None:
        nursery = self._nursery
        if not self.watching and nursery is not None:
            self.watching = True
            self.last_activity = trio.current_time()
            nursery.start_soon(self._watch_inactivity)

    def _timeout_changed(self) -> None:
        """``socket.set_timeout()``: a fresh timer from now, as Node's ``setTimeout``."""
        self.last_activity = trio.current_time()
        if self.socket.timeout > 0 and not self.watching:
            self._start_watcher()
        elif self._watcher_wakeup is not None:
            self._watcher_wakeup.set()

    async def _watch_inactivity(self) -> None:
        """Emit 'timeout' once per period of inactivity (Node's socket timer is not periodic)."""
        sock = self.socket
        fired: float | None = None  # the activity stamp whose idle period already timed out
        while True:
            wakeup = self._watcher_wakeup = trio.Event()
            t = sock.timeout
            if t <= 0:
                await wakeup.wait()
                continue
            now = trio.current_time()
            deadline = self.last_activity + t
            if now >= deadline:
                if fired != self.last_activity and not (
                    self.phase == _IDLE and self.server.keep_alive_timeout > 0
                ):
                    fired = self.last_activity
                    await self._on_inactive()
                    continue
                # already fired, or keep_alive_timeout owns the idle socket:
                # look again once new activity could have timed out
                deadline = now + t
            with trio.move_on_at(deadline):
                await wakeup.wait()

    async def _on_inactive(self) -> None:
        """Node's socketOnTimeout: 'timeout' on request, response, server; else destroy."""
        sock = self.socket
        handled = False
        if sock._events and "timeout" in sock._events:
            await sock.emit_async("timeout")
            handled = True
        req = self.current_req
        if req is not None and not req.complete and req.listener_count("timeout"):
            await req.emit_async("timeout", sock)
            handled = True
        res = self.current_res
        if res is not None and not res.finished and res.listener_count("timeout"):
            await res.emit_async("timeout", sock)
            handled = True
        if self.server.listener_count("timeout"):
            await self.server.emit_async("timeout", sock)
            handled = True
        if not handled:
            sock.destroy()

    # -- requests ---------------------------------------------------------------
    async def _serve_requests(self) -> None:
        server = self.server
        while True:
            parser = self.parser
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as exc:
                await self._on_parse_error(exc)
                return
            if event is h11.NEED_DATA:
                data = await self._receive()
                self.pipelined = False
                if self.phase == _IDLE:
                    if not data:
                        return
                    self._arm_receiving(trio.current_time())
                if self.phase == _RECEIVING:
                    self.head_buf = self.head_buf + data if self.head_buf else data
                parser.receive_data(data)
                continue
            if type(event) is h11.Request:
                keep_going = await self._on_request(parser, event)
                if not keep_going or server._closing:
                    return
                continue
            return

    async def _on_parse_error(self, exc: h11.RemoteProtocolError) -> None:
        msg = str(exc)
        if "Missing mandatory Host" in msg:
            if self.server.require_host_header:
                await self._reject_without_host()
                return
            retry = self._with_empty_host()
            if retry is not None:
                self.parser = retry
                await self._serve_requests()
                return
        buf = self.head_buf
        if exc.error_status_hint == 431:
            err = HttpParserError(
                *_LLHTTP_ERRORS["header-overflow"], bytes_parsed=len(buf), raw_packet=buf
            )
        elif "peer unexpectedly closed" in msg and not buf:
            return
        else:
            limit = self.server.max_header_size
            err = _head_error(buf, buf, limit, ("HPE_INVALID_REQUEST", msg))
        await self._client_error(err)

    def _with_empty_host(self) -> h11.Connection | None:
        """``require_host_header=False``: let h11 parse a host-less HTTP/1.1 request.

        h11 refuses it (RFC 9112 §3.2), so the head is re-fed with an empty
        ``Host`` line that ``_on_request`` removes again from ``raw_headers``.
        """
        buf = self.head_buf
        end = buf.find(b"\r\n")
        if end < 0:
            return None
        parser = self._new_parser()
        parser.receive_data(buf[: end + 2] + b"Host: \r\n" + buf[end + 2 :])
        self.injected_host = True
        return parser

    async def _reject_without_host(self) -> None:
        """Node's answer to an HTTP/1.1 request without Host (R1-062): a full 400, then close."""
        req = IncomingMessage(self.socket)
        req.method = "GET"
        res = ServerResponse(req, self)
        self.current_res = res
        res.write_head(400, ["Connection", "close"])
        try:
            await res.end()
        except EPipeError:
            pass

    def _check_head(self, event: h11.Request, head: bytes, raw: list[str]) -> str | None:
        """What llhttp refuses and h11 lets through (see the module docstring): its kind."""
        if event.method.decode("ascii", "replace") not in _METHODS:
            return "method"
        if event.http_version not in _VERSIONS:
            return "version"
        if head.count(b"\n") != head.count(b"\r\n") or head.count(b"\r") != head.count(b"\r\n"):
            return "lf-without-cr"
        if b"\n " in head or b"\n\t" in head:
            return "obs-fold"
        cl = te = 0
        for i in range(0, len(raw), 2):
            n = raw[i]
            if len(n) == 14 and n.lower() == "content-length":
                cl += 1
            elif len(n) == 17 and n.lower() == "transfer-encoding":
                te += 1
        if cl == 1:
            # h11 folds identical duplicates ("3" twice, or "3, 3") into one
            # value; llhttp refuses both
            lower = head.lower()
            i = lower.find(b"\ncontent-length:")
            if (
                lower.find(b"\ncontent-length:", i + 1) > 0
                or b"," in lower[i : lower.find(b"\n", i + 1)]
            ):
                cl = 2
        if cl > 1:
            return "content-length-twice"
        if cl and te:
            return "content-length-after-te"
        return None

    async def _on_request(self, parser: h11.Connection, event: h11.Request) -> bool:
        """Answer one request; False when the connection must close afterwards."""
        server = self.server
        socket = self.socket
        # The head is what was fed since the request began, minus what follows it.
        trailing = parser.trailing_data[0]
        buf = self.head_buf
        head = buf[: len(buf) - len(trailing)] if trailing else buf
        self.head_buf = b""

        raw: list[str] = []
        size = len(event.target)
        connection_hdr = expect_hdr = upgrade_hdr = None
        for name, value in event.headers.raw_items():
            n = name.decode("latin-1")
            v = value.decode("latin-1")
            raw.append(n)
            raw.append(v)
            size += len(name) + len(value)
            ln = len(n)
            if ln == 10 and n.lower() == "connection":
                connection_hdr = v if connection_hdr is None else f"{connection_hdr}, {v}"
            elif ln == 6 and n.lower() == "expect":
                expect_hdr = v if expect_hdr is None else expect_hdr
            elif ln == 7 and n.lower() == "upgrade":
                upgrade_hdr = v
        if getattr(self, "injected_host", False):
            self.injected_host = False
            idx = raw.index("Host")
            del raw[idx : idx + 2]
        if size >= server.max_header_size:  # Node's TrackHeader: the URL, names and values
            overflow = _LLHTTP_ERRORS["header-overflow"]
            await self._client_error(_head_error(head, buf, server.max_header_size, overflow))
            return False
        if not server.insecure_http_parser:
            bad = self._check_head(event, head, raw)
            if bad is not None:
                limit = server.max_header_size
                await self._client_error(_head_error(head, buf, limit, _LLHTTP_ERRORS[bad]))
                return False

        req = server._IncomingMessage(socket)
        req.method = method = event.method.decode("ascii")
        req.url = event.target.decode("latin-1")
        major, minor = _VERSIONS.get(event.http_version, (1, 1))
        req.http_version_major = major
        req.http_version_minor = minor
        req.http_version = f"{major}.{minor}"
        req.raw_headers = raw
        req.join_duplicate_headers = server.join_duplicate_headers
        # R1-060: headers / headers_distinct count only the first pairs; raw_headers
        # keeps every line, except that Node's parser hands a head of more than 31
        # lines over in batches of 31 and stops keeping batches past the limit
        mhc = req.max_headers_count = server.max_headers_count
        if mhc and len(raw) > 62 and len(raw) > 2 * mhc:
            raw[:] = [v for i in range(0, min(len(raw), 2 * mhc), 62) for v in raw[i : i + 62]]
        req._source = self
        self.current_req = req

        keep_alive = keeps_alive(major, minor, connection_hdr)

        # Is the body already complete (no body, or all of it buffered)?
        try:
            first = parser.next_event()
        except h11.RemoteProtocolError as exc:
            # a bad chunk already buffered with the head: llhttp fails the
            # same execute() call, so the client gets the 400 / 413 at once
            await self._client_error(_body_parse_error(exc, buf, parser.trailing_data[0]))
            return False
        if type(first) is h11.EndOfMessage:
            req.complete = True
            req._ended = True
            self._store_trailers(req, first)
            self.last_packet = None
        else:
            self.first_chunk: bytes | None = bytes(first.data) if type(first) is h11.Data else None
            # The rest of this packet is parsed by the handler's reads: a bad chunk in
            # it gets Node's offsets from the packet (_body_parse_error).
            self.last_packet = buf

        # 'connect' / 'upgrade' (R1-071, R1-072; DESIGN §11 "Upgrade routing")
        if method == "CONNECT" or (
            upgrade_hdr is not None
            and connection_hdr is not None
            and "upgrade" in comma_tokens(connection_hdr)
        ):
            req.upgrade = True
            if method == "CONNECT":
                if not server.listener_count("connect"):
                    return False
                raise _HandOff("connect", req, trailing)
            if server.listener_count("upgrade"):
                raise _HandOff("upgrade", req, trailing)
            req.upgrade = False

        self.scope.deadline = self.request_deadline if not req.complete else math.inf
        self.phase = _RECEIVING if not req.complete else _HANDLING

        res = server._ServerResponse(req, self)
        res.should_keep_alive = keep_alive and not server._closing
        self.current_res = res
        self.requests += 1
        keep = await self._dispatch(req, res, major, minor, expect_hdr)
        self.current_req = None
        if keep and self.body_error is not None:
            # still the current response: no answer once its head is out (R1-068)
            err, self.body_error = self.body_error, None
            await self._client_error(err)
            keep = False
        self.current_res = None
        if not keep:
            return False
        if res._last or not res.should_keep_alive:
            return False
        if not req.complete:
            # Drain what the handler left unread so that keep-alive goes on
            # (DESIGN §11), still bounded by request_timeout.
            try:
                await req.resume()
            except ConnResetError:
                return False
            if self.body_error is not None:
                return False
        # Next request: a fresh parser seeded with what followed this one.
        rest, closed = parser.trailing_data
        new = self._new_parser()
        if rest:
            new.receive_data(rest)
            self.head_buf = rest
            self.pipelined = True
            self._arm_receiving(trio.current_time())
        else:
            self._arm_idle()
        if closed:
            new.receive_data(b"")
        self.parser = new
        return True

    async def _dispatch(
        self,
        req: IncomingMessage,
        res: ServerResponse,
        major: int,
        minor: int,
        expect: str | None,
    ) -> bool:
        """Node's parserOnIncoming: limits, Expect, then 'request' (R1-042, R1-043, R1-055)."""
        server = self.server
        try:
            handled = False
            if major == 1 and minor == 1:
                limit = server.max_requests_per_socket
                if limit > 0:
                    res.max_requests_on_connection_reached = limit <= self.requests
                    if limit < self.requests:
                        handled = True
                        await server.emit_async("dropRequest", req, self.socket)
                        res.write_head(503)
                        await res.end()
                if not handled and expect is not None:
                    handled = True
                    if "100-continue" in comma_tokens(expect):
                        res._expect_continue = True
                        if server.listener_count("checkContinue"):
                            await server.emit_async("checkContinue", req, res)
                        else:
                            await res.write_continue()
                            await server.emit_async("request", req, res)
                    elif server.listener_count("checkExpectation"):
                        await server.emit_async("checkExpectation", req, res)
                    else:
                        res.write_head(417)
                        await res.end()
            if not handled:
                await server.emit_async("request", req, res)
            if not res.finished and not res.destroyed:
                await res.end()
        except EPipeError:
            return False
        except Exception:
            if self.body_error is not None:
                # the handler failed reading a body that did not parse: the
                # client gets Node's answer to the parse error (_on_request)
                return True
            log.exception("error in request handler for %s %s", req.method, req.url)
            if not res.headers_sent and not self.socket.destroyed:
                fallback = ServerResponse(req, self)
                fallback.status_code = 500
                fallback.should_keep_alive = False
                try:
                    await fallback.end()
                except EPipeError:
                    pass
            return False
        req.destroyed = True  # as Node's autoDestroy: at 'close', once the request is done
        if req._events and "close" in req._events:
            await req.emit_async("close")
        if res._events and "close" in res._events:
            await res.emit_async("close")
        return True

    # -- the body, pulled by IncomingMessage -----------------------------------
    def _store_trailers(self, req: IncomingMessage, eom: h11.EndOfMessage) -> None:
        if eom.headers:
            req.raw_trailers = raw_list(eom.headers.raw_items())

    def _ready_body_chunk(self, msg: IncomingMessage) -> bool:
        return False

    def _read_buffered(self, msg: IncomingMessage) -> None:
        return None

    async def _next_body_chunk(self, msg: IncomingMessage) -> bytes | None:
        first = self.first_chunk
        if first is not None:
            self.first_chunk = None
            return first
        parser = self.parser
        packet = self.last_packet  # what h11's buffer came from: the last packet received
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as exc:
                self.body_error = _body_parse_error(exc, packet, parser.trailing_data[0])
                self._abort_request(msg)
            if isinstance(event, h11.Data):
                return bytes(event.data)
            if isinstance(event, h11.EndOfMessage):
                self.last_packet = None
                self._store_trailers(msg, event)
                if self.phase == _RECEIVING:
                    self.phase = _HANDLING
                    self.scope.deadline = math.inf
                return None
            if event is h11.NEED_DATA:
                packet = self.last_packet = await self._receive()
                self.pipelined = False
                parser.receive_data(packet)
                continue
            self.body_error = HttpParserError("HPE_INVALID_EOF_STATE", "Invalid EOF state")
            self._abort_request(msg)

    def _abort_request(self, msg: IncomingMessage) -> NoReturn:
        msg.aborted = True
        err = ConnResetError("aborted")
        msg._error = err
        if msg.listener_count("aborted"):
            msg.emit("aborted")
        raise err


class Server(EventEmitter):
    """Node's ``http.Server`` on a trio nursery (DESIGN §4, §10, §11).

    Use it as ``async with http.create_server(handler) as server: await
    server.listen(port, host)`` or ``await nursery.start(server.serve, port,
    host)``. Timeouts are seconds (DESIGN §5).
    """

    def __init__(
        self,
        request_listener: Callable[..., Any] | None = None,
        *,
        connections_checking_interval: float = 30.0,
        headers_timeout: float | None = None,
        high_water_mark: int = 16384,
        insecure_http_parser: bool = False,
        IncomingMessage: type[IncomingMessage] = IncomingMessage,
        join_duplicate_headers: bool = False,
        keep_alive: bool = False,
        keep_alive_initial_delay: float = 0.0,
        keep_alive_timeout: float = 5.0,
        max_header_size: int = 16384,
        max_headers_count: int = 2000,
        max_requests_per_socket: int = 0,
        no_delay: bool = True,
        request_timeout: float = 300.0,
        require_host_header: bool = True,
        ServerResponse: type[ServerResponse] = ServerResponse,
        unique_headers: list[str] | None = None,
        reject_non_standard_body_writes: bool = False,
        timeout: float = 0.0,
    ) -> None:
        EventEmitter.__init__(self)
        self.connections_checking_interval = float(connections_checking_interval)
        self.request_timeout = float(request_timeout)
        if headers_timeout is None:
            headers_timeout = min(60.0, self.request_timeout) if self.request_timeout else 60.0
        self.headers_timeout = float(headers_timeout)
        self.high_water_mark = high_water_mark
        self.insecure_http_parser = insecure_http_parser
        self._IncomingMessage = IncomingMessage
        self._ServerResponse = ServerResponse
        self.join_duplicate_headers = join_duplicate_headers
        self.keep_alive = keep_alive
        self.keep_alive_initial_delay = float(keep_alive_initial_delay)
        self.keep_alive_timeout = float(keep_alive_timeout)
        self.max_header_size = int(max_header_size)
        self.max_headers_count = int(max_headers_count)
        self.max_requests_per_socket = int(max_requests_per_socket)
        self.no_delay = no_delay
        self.require_host_header = require_host_header
        self._unique_headers = parse_unique_headers_option(unique_headers)
        self._reject_non_standard_body_writes = reject_non_standard_body_writes
        self.timeout = float(timeout)
        self.listening = False
        self._closing = False
        self._nursery: trio.Nursery | None = None
        self._nursery_cm: Any = None
        self._listeners: list[trio.SocketListener] = []
        self._accept_scope: trio.CancelScope | None = None
        self._connections: set[_Connection] = set()
        self._drained: trio.Event | None = None
        self._closed = trio.Event()
        if request_listener is not None:
            self.on("request", request_listener)

    # -- lifecycle -------------------------------------------------------------
    async def __aenter__(self) -> Server:
        self._nursery_cm = trio.open_nursery()
        self._nursery = await self._nursery_cm.__aenter__()
        return self

    async def __aexit__(self, etype: Any, exc: Any, tb: Any) -> bool | None:
        cm = self._nursery_cm
        nursery = self._nursery
        assert cm is not None and nursery is not None
        try:
            if etype is None:
                await self._close(implicit=True)
            else:
                self._drop_listeners()
                nursery.cancel_scope.cancel()
        except BaseException:
            self._drop_listeners()
            nursery.cancel_scope.cancel()
            await cm.__aexit__(etype, exc, tb)
            raise
        finally:
            self._nursery = None
        result: bool | None = await cm.__aexit__(etype, exc, tb)
        return result

    async def listen(
        self, port: int = 0, host: str | None = None, backlog: int | None = None
    ) -> Server:
        """Bind and start accepting; returns once bound (H1-095). Needs ``async with server``."""
        if self._nursery is None:
            raise RuntimeError(
                "listen() needs the server's nursery: use `async with server:` "
                "or `await nursery.start(server.serve, port, host)`"
            )
        if self.listening:
            raise ServerAlreadyListenError()
        listeners = await _open_listeners(port, host, backlog)
        self._listeners = listeners
        self._closing = False
        self._closed = trio.Event()
        self.listening = True
        scope = trio.CancelScope()
        self._accept_scope = scope
        nursery = self._nursery
        for listener in listeners:
            nursery.start_soon(self._accept_loop, listener, scope, nursery)
        if self._events and "listening" in self._events:
            await self.emit_async("listening")
        return self

    async def serve(
        self,
        port: int = 0,
        host: str | None = None,
        *,
        task_status: trio.TaskStatus[dict[str, Any]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """``await nursery.start(server.serve, port, host)``: runs until closed (DESIGN §4)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                await self.listen(port, host)
                address = self.address()
                assert address is not None
                task_status.started(address)
                await self._closed.wait()
            finally:
                self._drop_listeners()
                self._nursery = None

    async def serve_connection(self, stream: trio.abc.Stream) -> None:
        """Serve one connection over any trio stream until it ends (Node's 'connection')."""
        await _Connection(self, stream).run()

    async def _accept_loop(
        self, listener: trio.SocketListener, scope: trio.CancelScope, nursery: trio.Nursery
    ) -> None:
        with scope:
            while True:
                try:
                    stream = await listener.accept()
                except trio.ClosedResourceError:
                    return
                except OSError as exc:
                    if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS):
                        log.error("accept() failed (%s); pausing 100 ms", exc)
                        await trio.sleep(0.1)
                        continue
                    raise
                if not self.no_delay or self.keep_alive:
                    self._configure(stream)
                nursery.start_soon(self._run_connection, stream)

    async def _run_connection(self, stream: trio.abc.Stream) -> None:
        await _Connection(self, stream).run()

    def _configure(self, stream: trio.SocketStream) -> None:
        if not self.no_delay:
            stream.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY, 0)
        if self.keep_alive:
            stream.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE, 1)
            if self.keep_alive_initial_delay > 0 and hasattr(_stdlib_socket, "TCP_KEEPIDLE"):
                stream.setsockopt(
                    _stdlib_socket.IPPROTO_TCP,
                    _stdlib_socket.TCP_KEEPIDLE,
                    max(1, int(self.keep_alive_initial_delay)),
                )

    def address(self) -> dict[str, Any] | None:
        """Node's ``server.address()``: ``{"address", "family", "port"}``; None unless listening."""
        if not self._listeners or not self.listening:
            return None
        sock = self._listeners[0].socket
        addr = sock.getsockname()
        family = "IPv6" if sock.family == _stdlib_socket.AF_INET6 else "IPv4"
        return {"address": addr[0], "family": family, "port": addr[1]}

    async def close(self) -> None:
        """Stop listening, close idle connections, wait for in-flight ones (H1-091, R1-056).

        Raises ``ServerNotRunningError`` when the server is not listening.
        """
        await self._close(implicit=False)

    async def aclose(self) -> None:
        """``Symbol.asyncDispose``: close, tolerating a server that is not listening (H1-103)."""
        await self._close(implicit=True)

    async def _close(self, *, implicit: bool) -> None:
        if not self.listening and not implicit:
            raise ServerNotRunningError()
        was_listening = self.listening
        self.listening = False
        self._closing = True
        if self._accept_scope is not None:
            self._accept_scope.cancel()
        for listener in self._listeners:
            with trio.CancelScope(shield=True):
                await listener.aclose()
        self._listeners = []
        self.close_idle_connections()
        while self._connections:
            self._drained = trio.Event()
            await self._drained.wait()
        self._drained = None
        if was_listening or not implicit:
            self._closed.set()
            await self.emit_async("close")
        self._closed.set()

    def _drop_listeners(self) -> None:
        """Leaving by an exception or a cancellation: stop listening at once."""
        self.listening = False
        if self._accept_scope is not None:
            self._accept_scope.cancel()
        for listener in self._listeners:
            listener.socket.close()
        self._listeners = []

    def close_idle_connections(self) -> None:
        """Close connections that are between requests (H1-093, R1-058)."""
        for conn in list(self._connections):
            if conn.phase == _IDLE or (
                conn.requests == 0 and conn.phase == _RECEIVING and not conn.head_buf
            ):
                conn._kill()

    def close_all_connections(self) -> None:
        """Close every connection, in-flight ones too; upgraded sockets stay (H1-092, R1-057)."""
        for conn in list(self._connections):
            conn._kill()

    def set_timeout(
        self, seconds: float = 0.0, callback: Callable[..., Any] | None = None
    ) -> Server:
        """Inactivity timeout for new connections, in seconds (H1-099, R1-050)."""
        self.timeout = float(seconds)
        if callback is not None:
            self.on("timeout", callback)
        return self

    def __repr__(self) -> str:
        addr = self.address()
        where = f"{addr['address']}:{addr['port']}" if addr else "unbound"
        active = sum(1 for c in self._connections if c.phase != _IDLE)
        idle = len(self._connections) - active
        state = "listening" if self.listening else ("closing" if self._closing else "stopped")
        return f"<http.Server {where} {state} | connections: {active} active, {idle} idle>"


async def _open_listeners(
    port: int, host: str | None, backlog: int | None
) -> list[trio.SocketListener]:
    """Bind like Node: no host means the IPv6 wildcard with dual stack, else IPv4's."""
    if host is None:
        try:
            sock = trio.socket.socket(_stdlib_socket.AF_INET6, _stdlib_socket.SOCK_STREAM)
        except OSError:
            host = "0.0.0.0"
        else:
            try:
                sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, 1)
                sock.setsockopt(_stdlib_socket.IPPROTO_IPV6, _stdlib_socket.IPV6_V6ONLY, 0)
                await sock.bind(("::", port))
                sock.listen(backlog or 511)
            except OSError:
                sock.close()
                host = "0.0.0.0"
            else:
                return [trio.SocketListener(sock)]
    return await trio.open_tcp_listeners(port, host=host, backlog=backlog or 511)
