"""``ServerResponse`` (H1-104…H1-134): Node's ``writeHead`` and the 1xx messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._constants import STATUS_CODES
from .._headers import check_invalid_header_char, header_value_to_str, validate_header_name
from ..errors import (
    HeadersSentError,
    InvalidArgValueError,
    InvalidCharError,
    InvalidStatusCodeError,
)
from .outgoing import HeadersArg, OutgoingMessage

if TYPE_CHECKING:
    from .incoming import IncomingMessage
    from .server import _Connection

__all__ = ["ServerResponse"]

# Node's linkValueRegExp (lib/internal/validators.js), for write_early_hints
_LINK_VALUE = re.compile(r'^(?:<[^>]*>)(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$').match
_LINK_FORMAT = 'must be an array or string of format "</styles.css>; rel=preload; as=style"'
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_PROCESSING = b"HTTP/1.1 102 Processing\r\n\r\n"


class ServerResponse(OutgoingMessage):
    """Node's ``http.ServerResponse``: the second argument of ``'request'``.

    ``status_code`` defaults to 200 and ``status_message`` to the standard
    reason phrase (R1-034); ``send_date`` to True (R1-035).
    ``write_head`` is synchronous and chainable:
    ``await res.write_head(200, {...}).end(b"ok")``.
    """

    def __init__(self, req: IncomingMessage, conn: _Connection | None = None) -> None:
        OutgoingMessage.__init__(self)
        self.req = req
        self._conn = conn
        self.status_code = 200
        self.status_message: str | None = None
        self.send_date = True
        self._expect_continue = False
        self._sent_100 = False
        if req.method == "HEAD":
            self._has_body = False
        if req.http_version_major < 1 or req.http_version_minor < 1:
            te = req.headers.get("te")
            self.use_chunked_encoding_by_default = isinstance(te, str) and "chunked" in te.lower()
            self.should_keep_alive = False
        if conn is not None:
            self.socket = conn.socket
            server = conn.server
            self._keep_alive_timeout = server.keep_alive_timeout
            self._max_requests_per_socket = server.max_requests_per_socket
            self._unique_headers = server._unique_headers
            self._reject_non_standard_body_writes = server._reject_non_standard_body_writes

    def write_head(
        self,
        status_code: int,
        status_message: str | HeadersArg = None,
        headers: HeadersArg = None,
    ) -> ServerResponse:
        """Store the status line and head (H1-133; R1-013…R1-015, R1-033).

        Headers given here win over ``set_header`` values; with no
        ``set_header`` call before, they go straight to the head and
        ``get_header`` does not see them (R1-014).
        """
        if self._header is not None:
            raise HeadersSentError("write")
        original = status_code
        try:
            code = int(status_code)
        except (TypeError, ValueError):
            raise InvalidStatusCodeError(original) from None
        if code < 100 or code > 999:
            raise InvalidStatusCodeError(original)
        if isinstance(status_message, str):
            self.status_message = status_message
        else:
            if not self.status_message:
                self.status_message = STATUS_CODES.get(code, "unknown")
            if headers is None:
                headers = status_message
        self.status_code = code
        out = self._out
        head: Any
        if out is not None:
            if isinstance(headers, (list, tuple)):
                if len(headers) % 2:
                    raise InvalidArgValueError("headers", headers)
                # Node v20: each pair replaces (a repeated name keeps its last value)
                for n in range(0, len(headers), 2):
                    if headers[n]:
                        self.set_header(headers[n], headers[n + 1])
            elif headers:
                for k, v in headers.items():
                    if k:
                        self.set_header(k, v)
            head = self._out
        else:
            head = headers
        if check_invalid_header_char(self.status_message):
            raise InvalidCharError("statusMessage")
        if code == 204 or code == 304 or 100 <= code <= 199:
            self._has_body = False
        if self._expect_continue and not self._sent_100:
            self.should_keep_alive = False
        conn = self._conn
        if conn is not None and conn.server._closing:
            # server.close() was called: in-flight responses say goodbye (DESIGN §11)
            self.should_keep_alive = False
        self._store_header(f"HTTP/1.1 {code} {self.status_message}\r\n", head)
        return self

    def _implicit_header(self) -> None:
        self.write_head(self.status_code)

    async def _transport_send(self, data: bytes) -> None:
        conn = self._conn
        if conn is None:
            raise RuntimeError("this ServerResponse is not attached to a connection")
        await conn._send(data)

    async def write_continue(self) -> None:
        """Send ``HTTP/1.1 100 Continue`` (H1-131, R1-045)."""
        await self._send_interim(_CONTINUE)
        self._sent_100 = True

    async def write_processing(self) -> None:
        """Send ``HTTP/1.1 102 Processing`` (H1-134)."""
        await self._send_interim(_PROCESSING)

    async def write_early_hints(self, hints: Mapping[str, Any]) -> None:
        """Send ``HTTP/1.1 103 Early Hints`` with ``hints`` as headers (H1-132, R1-045).

        As Node v20: ``link`` (a string, or a list joined with ``", "``, each
        of the form ``</a.css>; rel=preload``) is required and goes first as
        ``Link``; nothing is sent without it; other keys follow as given.
        """
        link = hints.get("link")
        if link is None:
            return
        links = [link] if isinstance(link, str) else link
        if not isinstance(links, (list, tuple)):
            raise InvalidArgValueError("hints", link, _LINK_FORMAT)
        for one in links:
            if not isinstance(one, str) or _LINK_VALUE(one) is None:
                raise InvalidArgValueError("hints", one, _LINK_FORMAT)
        if not links:
            return
        lines = ["HTTP/1.1 103 Early Hints\r\nLink: ", ", ".join(links), "\r\n"]
        for key, value in hints.items():
            if key != "link":
                validate_header_name(key)
                v = header_value_to_str(value)
                if check_invalid_header_char(v):
                    raise InvalidCharError("header content", key)
                lines.append(f"{key}: {v}\r\n")
        lines.append("\r\n")
        await self._send_interim("".join(lines).encode("latin-1"))

    async def _send_interim(self, data: bytes) -> None:
        if self._header_sent:
            raise HeadersSentError("write")
        await self._transport_send(data)

    async def _finish(self) -> None:
        # Node's resOnFinish (the first 'finish' listener) detaches the socket:
        # ``res.socket`` is None once the response has ended (H1-123, R1-037).
        await self.emit_async("prefinish")
        self.writable_finished = True
        self.socket = None
        await self.emit_async("finish")

    def assign_socket(self, socket: Any) -> None:
        self.socket = socket

    def detach_socket(self, socket: Any) -> None:
        self.socket = None

    def __repr__(self) -> str:
        state = "finished" if self.writable_finished else ("ended" if self.finished else "open")
        return f"<ServerResponse {self.status_code} {state} headers_sent={self.headers_sent}>"
