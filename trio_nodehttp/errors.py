"""Node's errors, as Python exceptions.

Every class here is a subclass of :class:`NodeError` *and* of the Python
built-in that fits (DESIGN §3 "Errors"): Node's ``TypeError`` codes are
:class:`TypeError`, Node's ``RangeError`` codes are :class:`ValueError`, the
socket errors are the matching :class:`OSError` subclasses
(``ECONNRESET`` is a :class:`ConnectionResetError`, ...).

Each error carries Node's ``code`` string as ``err.code`` and Node's message
text (from Node's ``lib/internal/errors.js``) as ``str(err)`` and
``err.message``; ``err.name`` is the name of the JavaScript class Node uses
(``"Error"``, ``"TypeError"``, ``"RangeError"``, ``"AbortError"``, ...).
Where Node prints a JavaScript value inside a message, Python's spelling is
used (``None``, ``'text'``), except in the two "Invalid value ... for header"
messages where ``None`` prints as ``undefined`` because that exact text is
what users search for (inventory H1-241).

:data:`BY_CODE` maps each fixed ``code`` to its class.
"""

from __future__ import annotations

import errno as _errno
import ssl as _ssl
from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "BY_CODE",
    "AbortError",
    "AddrInUseError",
    "BodyNotAllowedError",
    "ConnRefusedError",
    "ConnResetError",
    "ContentLengthMismatchError",
    "DOMAbortError",
    "DOMTimeoutError",
    "EPipeError",
    "HeadersSentError",
    "HostNotFoundError",
    "Http2Error",
    "Http2GoawaySessionError",
    "Http2HeadersSentError",
    "Http2InvalidHeaderValueError",
    "Http2InvalidPseudoheaderError",
    "Http2InvalidSessionError",
    "Http2InvalidSettingValueError",
    "Http2InvalidStreamError",
    "Http2NoSocketManipulationError",
    "Http2PingLengthError",
    "Http2PseudoheaderNotAllowedError",
    "Http2PushDisabledError",
    "Http2SessionError",
    "Http2StreamError",
    "Http2TrailersNotReadyError",
    "HttpParserError",
    "HttpSocketAssignedError",
    "InvalidArgTypeError",
    "InvalidArgValueError",
    "InvalidCharError",
    "InvalidHeaderValueError",
    "InvalidHttpTokenError",
    "InvalidProtocolError",
    "InvalidStatusCodeError",
    "InvalidUrlError",
    "MissingArgsError",
    "NodeError",
    "NodeSystemError",
    "NotFoundError",
    "OutOfRangeError",
    "RequestTimeoutError",
    "ServerAlreadyListenError",
    "ServerNotRunningError",
    "SocketClosedError",
    "StreamAlreadyFinishedError",
    "StreamCannotPipeError",
    "StreamDestroyedError",
    "StreamNullValuesError",
    "StreamWriteAfterEndError",
    "TLSCertificateError",
    "TLSError",
    "TimedOutError",
    "TrailerInvalidError",
    "UnescapedCharactersError",
    "UnhandledErrorError",
]


def _restore(
    cls: type[NodeError], args: tuple[Any, ...], state: dict[str, Any], os_errno: int | None
) -> NodeError:
    """Rebuild a pickled or copied error without calling its constructor."""
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    if isinstance(err, OSError):
        err.errno = os_errno
    return err


def _undefined(value: object) -> str:
    """Node's ``${value}``: ``None`` (JavaScript's ``undefined``) prints as ``undefined``."""
    return "undefined" if value is None else f"{value}"


class NodeError(Exception):
    """Base class of every error this library raises with a Node ``code``.

    ``NodeError(message)`` is a generic error; ``code=`` gives it a code (the
    class's own ``code`` is ``""``, meaning "no code"). ``str(err)`` is the
    message, without Node's ``"Error: "`` prefix.
    """

    code: str = ""
    name: str = "Error"
    default_message: ClassVar[str] = "Error"
    message: str

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if message is None:
            message = self.default_message
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        os_errno = self.errno if isinstance(self, OSError) else None
        return (_restore, (type(self), self.args, dict(self.__dict__), os_errno))


# --- HTTP/1 header and message errors -------------------------------------------


class InvalidHttpTokenError(NodeError, TypeError):
    """``ERR_INVALID_HTTP_TOKEN``: a header name or method is not an RFC 9110 token.

    Node: ``'%s must be a valid HTTP token ["%s"]'`` (inventory H1-240), e.g.
    ``Header name must be a valid HTTP token [""]``.
    """

    code = "ERR_INVALID_HTTP_TOKEN"
    name = "TypeError"

    def __init__(self, label: str, name: object) -> None:
        super().__init__(f'{label} must be a valid HTTP token ["{name}"]')
        self.label = label
        self.token = name


class InvalidHeaderValueError(NodeError, TypeError):
    """``ERR_HTTP_INVALID_HEADER_VALUE``: a header value is missing (``None``).

    Node: ``'Invalid value "%s" for header "%s"'``; ``None`` prints as
    ``undefined``, giving Node's exact ``Invalid value "undefined" for header
    "x-my-header"`` (inventory H1-241).
    """

    code = "ERR_HTTP_INVALID_HEADER_VALUE"
    name = "TypeError"

    def __init__(self, value: object, name: str) -> None:
        super().__init__(f'Invalid value "{_undefined(value)}" for header "{name}"')
        self.value = value
        self.header = name


class InvalidCharError(NodeError, TypeError):
    """``ERR_INVALID_CHAR``: a forbidden character in a header value or path.

    Node: ``'Invalid character in %s'`` plus `` ["name"]`` when a name is given,
    e.g. ``Invalid character in header content ["x-my-header"]`` (H1-241).
    """

    code = "ERR_INVALID_CHAR"
    name = "TypeError"

    def __init__(self, field: str, name: str | None = None) -> None:
        message = f"Invalid character in {field}"
        if name is not None:
            message += f' ["{name}"]'
        super().__init__(message)
        self.field = field
        self.header = name


class HeadersSentError(NodeError):
    """``ERR_HTTP_HEADERS_SENT``: changing headers after they were sent.

    Node: ``'Cannot %s headers after they are sent to the client'``, with the
    action (``"set"``, ``"remove"``, ``"render"``, ``"write"``, ``"append"``).
    """

    code = "ERR_HTTP_HEADERS_SENT"

    def __init__(self, action: str) -> None:
        super().__init__(f"Cannot {action} headers after they are sent to the client")
        self.action = action


class ContentLengthMismatchError(NodeError):
    """``ERR_HTTP_CONTENT_LENGTH_MISMATCH``: body length ≠ ``Content-Length``.

    Raised when ``strict_content_length`` is on (H1-126, R1-029). Node:
    ``"Response body's content-length of %s byte(s) does not match the
    content-length of %s byte(s) set in header"``.
    """

    code = "ERR_HTTP_CONTENT_LENGTH_MISMATCH"

    def __init__(self, actual: int, expected: int) -> None:
        super().__init__(
            f"Response body's content-length of {actual} byte(s) does not match the "
            f"content-length of {expected} byte(s) set in header"
        )
        self.actual = actual
        self.expected = expected


class BodyNotAllowedError(NodeError):
    """``ERR_HTTP_BODY_NOT_ALLOWED``: a body written for HEAD, 204 or 304 (H1-130, R1-031)."""

    code = "ERR_HTTP_BODY_NOT_ALLOWED"
    default_message = "Adding content for this request method or response status is not allowed."


class InvalidStatusCodeError(NodeError, ValueError):
    """``ERR_HTTP_INVALID_STATUS_CODE``: a status outside [100, 999] (H1-133).

    Node's is a ``RangeError``; message ``'Invalid status code: %s'``.
    """

    code = "ERR_HTTP_INVALID_STATUS_CODE"
    name = "RangeError"

    def __init__(self, status: object) -> None:
        super().__init__(f"Invalid status code: {status}")
        self.status = status


class TrailerInvalidError(NodeError):
    """``ERR_HTTP_TRAILER_INVALID``: trailers on a message that is not chunked."""

    code = "ERR_HTTP_TRAILER_INVALID"
    default_message = "Trailers are invalid with this transfer encoding"


class HttpSocketAssignedError(NodeError):
    """``ERR_HTTP_SOCKET_ASSIGNED``: ``assign_socket`` on a response that has one."""

    code = "ERR_HTTP_SOCKET_ASSIGNED"
    default_message = "ServerResponse has an already assigned socket"


class RequestTimeoutError(NodeError, TimeoutError):
    """``ERR_HTTP_REQUEST_TIMEOUT``: ``request_timeout`` expired (R1-046/047)."""

    code = "ERR_HTTP_REQUEST_TIMEOUT"
    default_message = "Request timeout"


class HttpParserError(NodeError, ValueError):
    """A parse error of an incoming message, like Node's llhttp ``HPE_*`` errors.

    ``code`` is the parser code (``"HPE_HEADER_OVERFLOW"``, ``"HPE_INVALID_METHOD"``,
    ...), ``reason`` the parser's reason, ``bytes_parsed`` and ``raw_packet``
    Node's ``bytesParsed`` and ``rawPacket`` (inventory H1-082, H1-083).
    Message: ``'Parse Error: ' + reason``, as Node's.
    """

    def __init__(
        self, code: str, reason: str, *, bytes_parsed: int = 0, raw_packet: bytes = b""
    ) -> None:
        super().__init__(f"Parse Error: {reason}", code=code)
        self.reason = reason
        self.bytes_parsed = bytes_parsed
        self.raw_packet = raw_packet


# --- streams and servers ---------------------------------------------------------


class StreamWriteAfterEndError(NodeError):
    """``ERR_STREAM_WRITE_AFTER_END``: ``write()`` after ``end()``."""

    code = "ERR_STREAM_WRITE_AFTER_END"
    default_message = "write after end"


class StreamDestroyedError(NodeError):
    """``ERR_STREAM_DESTROYED``: ``'Cannot call %s after a stream was destroyed'``."""

    code = "ERR_STREAM_DESTROYED"

    def __init__(self, method: str) -> None:
        super().__init__(f"Cannot call {method} after a stream was destroyed")
        self.method = method


class StreamCannotPipeError(NodeError):
    """``ERR_STREAM_CANNOT_PIPE``: ``OutgoingMessage.pipe()`` (H1-175)."""

    code = "ERR_STREAM_CANNOT_PIPE"
    default_message = "Cannot pipe, not readable"


class StreamAlreadyFinishedError(NodeError):
    """``ERR_STREAM_ALREADY_FINISHED``: ``'Cannot call %s after a stream was finished'``."""

    code = "ERR_STREAM_ALREADY_FINISHED"

    def __init__(self, method: str) -> None:
        super().__init__(f"Cannot call {method} after a stream was finished")
        self.method = method


class StreamNullValuesError(NodeError, TypeError):
    """``ERR_STREAM_NULL_VALUES``: ``write(None)``."""

    code = "ERR_STREAM_NULL_VALUES"
    name = "TypeError"
    default_message = "May not write null values to stream"


class ServerNotRunningError(NodeError):
    """``ERR_SERVER_NOT_RUNNING``: ``close()`` on a server that is not listening (DESIGN §11)."""

    code = "ERR_SERVER_NOT_RUNNING"
    default_message = "Server is not running."


class ServerAlreadyListenError(NodeError):
    """``ERR_SERVER_ALREADY_LISTEN``: ``listen()`` twice without ``close()``."""

    code = "ERR_SERVER_ALREADY_LISTEN"
    default_message = "Listen method has been called more than once without closing."


class SocketClosedError(NodeError):
    """``ERR_SOCKET_CLOSED``: an operation on a closed socket."""

    code = "ERR_SOCKET_CLOSED"
    default_message = "Socket is closed"


# --- system (socket) errors -------------------------------------------------------


class NodeSystemError(NodeError, OSError):
    """Base of the socket errors (Node's libuv ``SystemError`` family).

    Keeps Node's optional ``syscall``, ``address`` and ``port`` (``None`` when
    unknown) and sets ``errno`` to Python's number for the code, so both
    ``err.code == "ECONNRESET"`` and ``err.errno == errno.ECONNRESET`` hold.
    """

    os_errno: ClassVar[int | None] = None

    def __init__(
        self,
        message: str | None = None,
        *,
        syscall: str | None = None,
        address: str | None = None,
        port: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.syscall = syscall
        self.address = address
        self.port = port
        self.errno = self.os_errno


class ConnResetError(NodeSystemError, ConnectionResetError):
    """``ECONNRESET``: the connection closed early.

    The client uses ``"socket hang up"`` (no response yet: R1-078, R1-080,
    R1-081, R1-084) and ``"aborted"`` (response started: R1-079, R1-082, R1-085).
    """

    code = "ECONNRESET"
    os_errno = _errno.ECONNRESET
    default_message = "socket hang up"


class ConnRefusedError(NodeSystemError, ConnectionRefusedError):
    """``ECONNREFUSED``: nothing listens there (Node: ``connect ECONNREFUSED addr:port``)."""

    code = "ECONNREFUSED"
    os_errno = _errno.ECONNREFUSED
    default_message = "connect ECONNREFUSED"


class TimedOutError(NodeSystemError, TimeoutError):
    """``ETIMEDOUT``: a connection attempt timed out."""

    code = "ETIMEDOUT"
    os_errno = _errno.ETIMEDOUT
    default_message = "connect ETIMEDOUT"


class NotFoundError(NodeSystemError, FileNotFoundError):
    """``ENOENT``: no such file (a Unix socket path, ``respond_with_file``; X2-32)."""

    code = "ENOENT"
    os_errno = _errno.ENOENT
    default_message = "ENOENT: no such file or directory"


class AddrInUseError(NodeSystemError):
    """``EADDRINUSE``: ``listen()`` on an address already bound."""

    code = "EADDRINUSE"
    os_errno = _errno.EADDRINUSE
    default_message = "listen EADDRINUSE: address already in use"


class HostNotFoundError(NodeSystemError):
    """``ENOTFOUND``: DNS found no address (Node: ``getaddrinfo ENOTFOUND host``)."""

    code = "ENOTFOUND"
    default_message = "getaddrinfo ENOTFOUND"


class EPipeError(NodeSystemError, BrokenPipeError):
    """``EPIPE``: writing to a connection the peer closed."""

    code = "EPIPE"
    os_errno = _errno.EPIPE
    default_message = "write EPIPE"


# --- aborting ------------------------------------------------------------------------


class AbortError(NodeError):
    """``ABORT_ERR``: an operation bound to an ``AbortSignal`` was aborted (R1-087, R2-019).

    Node's ``AbortError``: name ``"AbortError"``, message ``"The operation was
    aborted"``, the signal's reason as ``.cause`` (also ``__cause__`` when it is
    an exception, so tracebacks show it).
    """

    code = "ABORT_ERR"
    name = "AbortError"
    default_message = "The operation was aborted"

    def __init__(self, message: str = "The operation was aborted", *, cause: object = None) -> None:
        super().__init__(message)
        self.cause = cause
        if isinstance(cause, BaseException):
            self.__cause__ = cause


class DOMAbortError(NodeError):
    """The default reason of ``AbortController.abort()``.

    Node's ``DOMException`` named ``"AbortError"`` with message ``"This
    operation was aborted"``. Its ``code`` is ``"ABORT_ERR"`` (the DOM code's
    name; Node's ``DOMException.code`` is the number 20).
    """

    code = "ABORT_ERR"
    name = "AbortError"
    default_message = "This operation was aborted"


class DOMTimeoutError(NodeError, TimeoutError):
    """The reason of an expired ``AbortSignal.timeout()``.

    Node's ``DOMException`` named ``"TimeoutError"`` with message ``"The
    operation was aborted due to timeout"``. Node's ``DOMException.code`` is the
    number 23; here ``code`` is the string ``"TIMEOUT_ERR"`` (the DOM code's
    name) so that ``code`` is a ``str`` on every error of this library.
    """

    code = "TIMEOUT_ERR"
    name = "TimeoutError"
    default_message = "The operation was aborted due to timeout"


# --- arguments --------------------------------------------------------------------


class InvalidArgTypeError(NodeError, TypeError):
    """``ERR_INVALID_ARG_TYPE``: an argument of the wrong type (R2-022, R2-056)."""

    code = "ERR_INVALID_ARG_TYPE"
    name = "TypeError"
    default_message = "Invalid argument type"


class InvalidArgValueError(NodeError, ValueError):
    """``ERR_INVALID_ARG_VALUE``: an argument with a wrong value.

    Node: ``The argument 'name' <reason>. Received <value>`` ("property"
    instead of "argument" when the name contains a dot; the received value,
    here its ``repr``, cut to 128 characters plus ``...``).
    """

    code = "ERR_INVALID_ARG_VALUE"
    name = "TypeError"

    def __init__(self, name: str, value: object, reason: str = "is invalid") -> None:
        kind = "property" if "." in name else "argument"
        received = repr(value)
        if len(received) > 128:
            received = received[:128] + "..."
        super().__init__(f"The {kind} '{name}' {reason}. Received {received}")
        self.argument = name
        self.value = value


def _received(value: object) -> str:
    """Node's ``ERR_OUT_OF_RANGE`` rendering: big integers get ``_`` separators."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return f"{value:_}" if abs(value) > 2**32 else str(value)
    if isinstance(value, float):
        return str(value)
    return repr(value)


class OutOfRangeError(NodeError, ValueError):
    """``ERR_OUT_OF_RANGE`` (a ``RangeError`` in Node).

    Node: ``The value of "name" is out of range. It must be <range>. Received <value>``.
    """

    code = "ERR_OUT_OF_RANGE"
    name = "RangeError"

    def __init__(self, name: str, range_text: str, received: object) -> None:
        super().__init__(
            f'The value of "{name}" is out of range. It must be {range_text}. '
            f"Received {_received(received)}"
        )
        self.argument = name
        self.range = range_text
        self.received = received


class MissingArgsError(NodeError, TypeError):
    """``ERR_MISSING_ARGS``: ``The "a" argument must be specified``.

    Each name is one argument; a sequence of names is alternatives joined by
    ``or``; several arguments are listed as Node lists them
    (``The "a" and "b" arguments ...``, ``The "a", "b", and "c" arguments ...``).
    """

    code = "ERR_MISSING_ARGS"
    name = "TypeError"

    def __init__(self, *names: str | Sequence[str]) -> None:
        if not names:
            raise TypeError("MissingArgsError needs at least one argument name")
        wrapped = [
            f'"{n}"' if isinstance(n, str) else " or ".join(f'"{a}"' for a in n) for n in names
        ]
        if len(wrapped) == 1:
            text = f"{wrapped[0]} argument"
        elif len(wrapped) == 2:
            text = f"{wrapped[0]} and {wrapped[1]} arguments"
        else:
            text = ", ".join(wrapped[:-1]) + f", and {wrapped[-1]} arguments"
        super().__init__(f"The {text} must be specified")


class UnescapedCharactersError(NodeError, TypeError):
    """``ERR_UNESCAPED_CHARACTERS``: a request path with spaces or controls (H1-229)."""

    code = "ERR_UNESCAPED_CHARACTERS"
    name = "TypeError"

    def __init__(self, what: str = "Request path") -> None:
        super().__init__(f"{what} contains unescaped characters")


class InvalidProtocolError(NodeError, TypeError):
    """``ERR_INVALID_PROTOCOL``: ``'Protocol "%s" not supported. Expected "%s"'``."""

    code = "ERR_INVALID_PROTOCOL"
    name = "TypeError"

    def __init__(self, protocol: str, expected: str) -> None:
        super().__init__(f'Protocol "{protocol}" not supported. Expected "{expected}"')
        self.protocol = protocol
        self.expected = expected


class InvalidUrlError(NodeError, TypeError):
    """``ERR_INVALID_URL``: ``Invalid URL``; the offending text is ``.input``."""

    code = "ERR_INVALID_URL"
    name = "TypeError"
    default_message = "Invalid URL"

    def __init__(self, input: object = None) -> None:
        super().__init__()
        self.input = input


class UnhandledErrorError(NodeError):
    """``ERR_UNHANDLED_ERROR``: ``emit('error', value)`` with no listener and a non-exception value.

    Node: ``'Unhandled error.'`` plus `` (<value>)`` unless the value is
    undefined (here ``None``); the value is kept as ``.context``, as in Node.
    """

    code = "ERR_UNHANDLED_ERROR"

    def __init__(self, err: object = None) -> None:
        message = "Unhandled error." if err is None else f"Unhandled error. ({err!r})"
        super().__init__(message)
        self.context = err


# --- HTTP/2 -------------------------------------------------------------------------


class Http2Error(NodeError):
    """An HTTP/2 error; by itself Node's generic ``ERR_HTTP2_ERROR`` (an nghttp2 error).

    ``Http2Error(code, message)``; ``errno`` is nghttp2's integer error code
    when there is one. The named subclasses carry their fixed codes.
    """

    code = "ERR_HTTP2_ERROR"
    default_message = "HTTP/2 error"

    def __init__(
        self, code: str | None = None, message: str | None = None, *, errno: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.errno = errno


class _Http2FixedError(Http2Error):
    """An HTTP/2 error whose code is fixed: the constructor takes only a message."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(None, message)


class Http2GoawaySessionError(_Http2FixedError):
    """``ERR_HTTP2_GOAWAY_SESSION``: a stream on a session that received GOAWAY (R2-017)."""

    code = "ERR_HTTP2_GOAWAY_SESSION"
    default_message = "New streams cannot be created after receiving a GOAWAY"


class Http2InvalidSettingValueError(Http2Error, ValueError):
    """``ERR_HTTP2_INVALID_SETTING_VALUE``: ``'Invalid value for setting "%s": %s'`` (R2-056).

    A ``RangeError`` in Node; ``.actual`` and, when given, ``.min``/``.max`` as Node's.
    """

    code = "ERR_HTTP2_INVALID_SETTING_VALUE"
    name = "RangeError"

    def __init__(
        self, name: str, value: object, min: int | None = None, max: int | None = None
    ) -> None:
        super().__init__(None, f'Invalid value for setting "{name}": {value}')
        self.setting = name
        self.actual = value
        self.min = min
        self.max = max


class Http2InvalidStreamError(_Http2FixedError):
    """``ERR_HTTP2_INVALID_STREAM``: an operation on a destroyed stream (R2-109)."""

    code = "ERR_HTTP2_INVALID_STREAM"
    default_message = "The stream has been destroyed"


class Http2InvalidSessionError(_Http2FixedError):
    """``ERR_HTTP2_INVALID_SESSION``: an operation on a destroyed session."""

    code = "ERR_HTTP2_INVALID_SESSION"
    default_message = "The session has been destroyed"


class Http2NoSocketManipulationError(_Http2FixedError):
    """``ERR_HTTP2_NO_SOCKET_MANIPULATION``: reading/writing a session's socket (R2-001, R2-105)."""

    code = "ERR_HTTP2_NO_SOCKET_MANIPULATION"
    default_message = "HTTP/2 sockets should not be directly manipulated (e.g. read and written)"


class Http2StreamError(Http2Error):
    """``ERR_HTTP2_STREAM_ERROR``: ``'Stream closed with error code %s'`` (RST_STREAM code)."""

    code = "ERR_HTTP2_STREAM_ERROR"

    def __init__(self, code_name: str) -> None:
        super().__init__(None, f"Stream closed with error code {code_name}")
        self.error_code = code_name


class Http2SessionError(Http2Error):
    """``ERR_HTTP2_SESSION_ERROR``: ``'Session closed with error code %s'`` (a GOAWAY code)."""

    code = "ERR_HTTP2_SESSION_ERROR"

    def __init__(self, code_name: object) -> None:
        super().__init__(None, f"Session closed with error code {code_name}")
        self.error_code = code_name


class Http2HeadersSentError(_Http2FixedError):
    """``ERR_HTTP2_HEADERS_SENT``: ``respond()`` twice."""

    code = "ERR_HTTP2_HEADERS_SENT"
    default_message = "Response has already been initiated."


class Http2InvalidHeaderValueError(Http2Error, TypeError):
    """``ERR_HTTP2_INVALID_HEADER_VALUE``: ``'Invalid value "%s" for header "%s"'``.

    ``None`` prints as ``undefined``, as in :class:`InvalidHeaderValueError`.
    """

    code = "ERR_HTTP2_INVALID_HEADER_VALUE"
    name = "TypeError"

    def __init__(self, value: object, name: str) -> None:
        super().__init__(None, f'Invalid value "{_undefined(value)}" for header "{name}"')
        self.value = value
        self.header = name


class Http2PseudoheaderNotAllowedError(_Http2FixedError, TypeError):
    """``ERR_HTTP2_PSEUDOHEADER_NOT_ALLOWED``: ``set_header(":status", ...)`` and the like."""

    code = "ERR_HTTP2_PSEUDOHEADER_NOT_ALLOWED"
    name = "TypeError"
    default_message = "Cannot set HTTP/2 pseudo-headers"


class Http2InvalidPseudoheaderError(Http2Error, TypeError):
    """``ERR_HTTP2_INVALID_PSEUDOHEADER``.

    Node: ``'"%s" is an invalid pseudoheader or is used incorrectly'``.
    """

    code = "ERR_HTTP2_INVALID_PSEUDOHEADER"
    name = "TypeError"

    def __init__(self, name: str) -> None:
        super().__init__(None, f'"{name}" is an invalid pseudoheader or is used incorrectly')
        self.header = name


class Http2PushDisabledError(_Http2FixedError):
    """``ERR_HTTP2_PUSH_DISABLED``: ``push_stream()`` when the client disabled push."""

    code = "ERR_HTTP2_PUSH_DISABLED"
    default_message = "HTTP/2 client has disabled push streams"


class Http2TrailersNotReadyError(_Http2FixedError):
    """``ERR_HTTP2_TRAILERS_NOT_READY``: ``send_trailers()`` before ``'wantTrailers'``."""

    code = "ERR_HTTP2_TRAILERS_NOT_READY"
    default_message = (
        "Trailing headers cannot be sent until after the wantTrailers event is emitted"
    )


class Http2PingLengthError(_Http2FixedError, ValueError):
    """``ERR_HTTP2_PING_LENGTH``: a ping payload that is not 8 bytes (a ``RangeError`` in Node)."""

    code = "ERR_HTTP2_PING_LENGTH"
    name = "RangeError"
    default_message = "HTTP2 ping payload must be 8 bytes"


# -- TLS (https; codes vary per failure, so not in BY_CODE) -----------------------


class TLSError(NodeError, _ssl.SSLError):
    """A TLS failure with Node's ``code`` (``ERR_SSL_<REASON>`` for OpenSSL errors)."""

    code = "ERR_SSL_SSL_HANDSHAKE_FAILURE"
    default_message = "TLS handshake failed"


class TLSCertificateError(TLSError, _ssl.SSLCertVerificationError):
    """The peer's certificate was rejected (``reject_unauthorized=True``).

    ``code`` is Node's (OpenSSL's verify error name, or
    ``ERR_TLS_CERT_ALTNAME_INVALID`` when the name does not match), the
    message Node's (``unable to get local issuer certificate``,
    ``self-signed certificate``, ``Hostname/IP does not match certificate's
    altnames: ...``).
    """

    code = "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    default_message = "unable to verify the first certificate"


def _by_code(*classes: type[NodeError]) -> dict[str, type[NodeError]]:
    table: dict[str, type[NodeError]] = {}
    for cls in classes:
        table.setdefault(cls.code, cls)
    return table


BY_CODE: dict[str, type[NodeError]] = _by_code(
    InvalidHttpTokenError,
    InvalidHeaderValueError,
    InvalidCharError,
    HeadersSentError,
    ContentLengthMismatchError,
    BodyNotAllowedError,
    InvalidStatusCodeError,
    TrailerInvalidError,
    HttpSocketAssignedError,
    RequestTimeoutError,
    StreamWriteAfterEndError,
    StreamDestroyedError,
    StreamCannotPipeError,
    StreamAlreadyFinishedError,
    StreamNullValuesError,
    ServerNotRunningError,
    ServerAlreadyListenError,
    SocketClosedError,
    ConnResetError,
    ConnRefusedError,
    TimedOutError,
    NotFoundError,
    AddrInUseError,
    HostNotFoundError,
    EPipeError,
    AbortError,  # first: "ABORT_ERR" maps to AbortError, not DOMAbortError
    DOMAbortError,
    DOMTimeoutError,
    InvalidArgTypeError,
    InvalidArgValueError,
    OutOfRangeError,
    MissingArgsError,
    UnescapedCharactersError,
    InvalidProtocolError,
    InvalidUrlError,
    UnhandledErrorError,
    Http2Error,
    Http2GoawaySessionError,
    Http2InvalidSettingValueError,
    Http2InvalidStreamError,
    Http2InvalidSessionError,
    Http2NoSocketManipulationError,
    Http2StreamError,
    Http2SessionError,
    Http2HeadersSentError,
    Http2InvalidHeaderValueError,
    Http2PseudoheaderNotAllowedError,
    Http2InvalidPseudoheaderError,
    Http2PushDisabledError,
    Http2TrailersNotReadyError,
    Http2PingLengthError,
)
"""Each fixed ``code`` → its class. ``HttpParserError`` (whose code varies) and
:class:`NodeError` are not in it; ``"ABORT_ERR"`` maps to :class:`AbortError`."""
