"""Every error has Node's code, Node's message and the fitting Python built-in base."""

from __future__ import annotations

import copy
import errno
import pickle
import ssl

import pytest

from trio_nodehttp import errors
from trio_nodehttp.errors import (
    BY_CODE,
    AbortError,
    AddrInUseError,
    BodyNotAllowedError,
    ConnRefusedError,
    ConnResetError,
    ContentLengthMismatchError,
    DOMAbortError,
    DOMTimeoutError,
    EPipeError,
    HeadersSentError,
    HostNotFoundError,
    Http2Error,
    Http2GoawaySessionError,
    Http2HeadersSentError,
    Http2InvalidHeaderValueError,
    Http2InvalidPseudoheaderError,
    Http2InvalidSessionError,
    Http2InvalidSettingValueError,
    Http2InvalidStreamError,
    Http2NoSocketManipulationError,
    Http2PingLengthError,
    Http2PseudoheaderNotAllowedError,
    Http2PushDisabledError,
    Http2SessionError,
    Http2StreamError,
    Http2TrailersNotReadyError,
    HttpParserError,
    HttpSocketAssignedError,
    InvalidArgTypeError,
    InvalidArgValueError,
    InvalidCharError,
    InvalidHeaderValueError,
    InvalidHttpTokenError,
    InvalidProtocolError,
    InvalidStatusCodeError,
    InvalidUrlError,
    MissingArgsError,
    NodeError,
    NodeSystemError,
    NotFoundError,
    OutOfRangeError,
    RequestTimeoutError,
    ServerAlreadyListenError,
    ServerNotRunningError,
    SocketClosedError,
    StreamAlreadyFinishedError,
    StreamCannotPipeError,
    StreamDestroyedError,
    StreamNullValuesError,
    StreamWriteAfterEndError,
    TimedOutError,
    TLSCertificateError,
    TLSError,
    TrailerInvalidError,
    UnescapedCharactersError,
    UnhandledErrorError,
)

# (error instance, Node code, Node message, Python built-in it must also be)
CASES: list[tuple[NodeError, str, str, type[BaseException]]] = [
    # H1-240
    (
        InvalidHttpTokenError("Header name", ""),
        "ERR_INVALID_HTTP_TOKEN",
        'Header name must be a valid HTTP token [""]',
        TypeError,
    ),
    # H1-241
    (
        InvalidHeaderValueError(None, "x-my-header"),
        "ERR_HTTP_INVALID_HEADER_VALUE",
        'Invalid value "undefined" for header "x-my-header"',
        TypeError,
    ),
    # H1-241
    (
        InvalidCharError("header content", "x-my-header"),
        "ERR_INVALID_CHAR",
        'Invalid character in header content ["x-my-header"]',
        TypeError,
    ),
    (
        HeadersSentError("set"),
        "ERR_HTTP_HEADERS_SENT",
        "Cannot set headers after they are sent to the client",
        Exception,
    ),
    # H1-126, R1-029
    (
        ContentLengthMismatchError(3, 5),
        "ERR_HTTP_CONTENT_LENGTH_MISMATCH",
        "Response body's content-length of 3 byte(s) does not match the content-length "
        "of 5 byte(s) set in header",
        Exception,
    ),
    # H1-130, R1-031
    (
        BodyNotAllowedError(),
        "ERR_HTTP_BODY_NOT_ALLOWED",
        "Adding content for this request method or response status is not allowed.",
        Exception,
    ),
    # H1-133
    (
        InvalidStatusCodeError(1000),
        "ERR_HTTP_INVALID_STATUS_CODE",
        "Invalid status code: 1000",
        ValueError,
    ),
    (
        TrailerInvalidError(),
        "ERR_HTTP_TRAILER_INVALID",
        "Trailers are invalid with this transfer encoding",
        Exception,
    ),
    (
        HttpSocketAssignedError(),
        "ERR_HTTP_SOCKET_ASSIGNED",
        "ServerResponse has an already assigned socket",
        Exception,
    ),
    (RequestTimeoutError(), "ERR_HTTP_REQUEST_TIMEOUT", "Request timeout", TimeoutError),
    (StreamWriteAfterEndError(), "ERR_STREAM_WRITE_AFTER_END", "write after end", Exception),
    (
        StreamDestroyedError("write"),
        "ERR_STREAM_DESTROYED",
        "Cannot call write after a stream was destroyed",
        Exception,
    ),
    # H1-175
    (StreamCannotPipeError(), "ERR_STREAM_CANNOT_PIPE", "Cannot pipe, not readable", Exception),
    (
        StreamAlreadyFinishedError("end"),
        "ERR_STREAM_ALREADY_FINISHED",
        "Cannot call end after a stream was finished",
        Exception,
    ),
    (
        StreamNullValuesError(),
        "ERR_STREAM_NULL_VALUES",
        "May not write null values to stream",
        TypeError,
    ),
    (ServerNotRunningError(), "ERR_SERVER_NOT_RUNNING", "Server is not running.", Exception),
    (
        ServerAlreadyListenError(),
        "ERR_SERVER_ALREADY_LISTEN",
        "Listen method has been called more than once without closing.",
        Exception,
    ),
    (SocketClosedError(), "ERR_SOCKET_CLOSED", "Socket is closed", Exception),
    # R1-078, R1-080, R1-081, R1-084
    (ConnResetError(), "ECONNRESET", "socket hang up", ConnectionResetError),
    # R1-079, R1-082, R1-085
    (ConnResetError("aborted"), "ECONNRESET", "aborted", ConnectionResetError),
    (
        ConnRefusedError("connect ECONNREFUSED 127.0.0.1:1"),
        "ECONNREFUSED",
        "connect ECONNREFUSED 127.0.0.1:1",
        ConnectionRefusedError,
    ),
    (TimedOutError("connect ETIMEDOUT"), "ETIMEDOUT", "connect ETIMEDOUT", TimeoutError),
    # X2-32
    (NotFoundError("no such file"), "ENOENT", "no such file", FileNotFoundError),
    (AddrInUseError("in use"), "EADDRINUSE", "in use", OSError),
    (
        HostNotFoundError("getaddrinfo ENOTFOUND nowhere.invalid"),
        "ENOTFOUND",
        "getaddrinfo ENOTFOUND nowhere.invalid",
        OSError,
    ),
    (EPipeError("write EPIPE"), "EPIPE", "write EPIPE", BrokenPipeError),
    # R1-087
    (AbortError(), "ABORT_ERR", "The operation was aborted", Exception),
    (DOMAbortError(), "ABORT_ERR", "This operation was aborted", Exception),
    (
        DOMTimeoutError(),
        "TIMEOUT_ERR",
        "The operation was aborted due to timeout",
        TimeoutError,
    ),
    # R2-022, R2-056
    (
        InvalidArgTypeError('The "settings" argument must be of type object'),
        "ERR_INVALID_ARG_TYPE",
        'The "settings" argument must be of type object',
        TypeError,
    ),
    (
        InvalidArgValueError("method", "GE T"),
        "ERR_INVALID_ARG_VALUE",
        "The argument 'method' is invalid. Received 'GE T'",
        ValueError,
    ),
    (
        OutOfRangeError("n", "a non-negative number", -1),
        "ERR_OUT_OF_RANGE",
        'The value of "n" is out of range. It must be a non-negative number. Received -1',
        ValueError,
    ),
    (
        MissingArgsError("url"),
        "ERR_MISSING_ARGS",
        'The "url" argument must be specified',
        TypeError,
    ),
    # H1-229
    (
        UnescapedCharactersError(),
        "ERR_UNESCAPED_CHARACTERS",
        "Request path contains unescaped characters",
        TypeError,
    ),
    (
        InvalidProtocolError("https:", "http:"),
        "ERR_INVALID_PROTOCOL",
        'Protocol "https:" not supported. Expected "http:"',
        TypeError,
    ),
    (InvalidUrlError("::"), "ERR_INVALID_URL", "Invalid URL", TypeError),
    (
        UnhandledErrorError("boom"),
        "ERR_UNHANDLED_ERROR",
        "Unhandled error. ('boom')",
        Exception,
    ),
    # H1-082/083 (the code is the parser's)
    (
        HttpParserError("HPE_HEADER_OVERFLOW", "Header overflow"),
        "HPE_HEADER_OVERFLOW",
        "Parse Error: Header overflow",
        ValueError,
    ),
    # R2-017
    (
        Http2GoawaySessionError(),
        "ERR_HTTP2_GOAWAY_SESSION",
        "New streams cannot be created after receiving a GOAWAY",
        Exception,
    ),
    # R2-056
    (
        Http2InvalidSettingValueError("maxFrameSize", 1),
        "ERR_HTTP2_INVALID_SETTING_VALUE",
        'Invalid value for setting "maxFrameSize": 1',
        ValueError,
    ),
    # R2-109
    (
        Http2InvalidStreamError(),
        "ERR_HTTP2_INVALID_STREAM",
        "The stream has been destroyed",
        Exception,
    ),
    # R2-001, R2-105
    (
        Http2NoSocketManipulationError(),
        "ERR_HTTP2_NO_SOCKET_MANIPULATION",
        "HTTP/2 sockets should not be directly manipulated (e.g. read and written)",
        Exception,
    ),
    (
        Http2StreamError("NGHTTP2_REFUSED_STREAM"),
        "ERR_HTTP2_STREAM_ERROR",
        "Stream closed with error code NGHTTP2_REFUSED_STREAM",
        Exception,
    ),
    (
        Http2SessionError("NGHTTP2_PROTOCOL_ERROR"),
        "ERR_HTTP2_SESSION_ERROR",
        "Session closed with error code NGHTTP2_PROTOCOL_ERROR",
        Exception,
    ),
    (
        Http2HeadersSentError(),
        "ERR_HTTP2_HEADERS_SENT",
        "Response has already been initiated.",
        Exception,
    ),
    (
        Http2InvalidHeaderValueError(None, "x-a"),
        "ERR_HTTP2_INVALID_HEADER_VALUE",
        'Invalid value "undefined" for header "x-a"',
        TypeError,
    ),
    (
        Http2PseudoheaderNotAllowedError(),
        "ERR_HTTP2_PSEUDOHEADER_NOT_ALLOWED",
        "Cannot set HTTP/2 pseudo-headers",
        TypeError,
    ),
    (
        Http2InvalidPseudoheaderError(":foo"),
        "ERR_HTTP2_INVALID_PSEUDOHEADER",
        '":foo" is an invalid pseudoheader or is used incorrectly',
        TypeError,
    ),
    (
        Http2PushDisabledError(),
        "ERR_HTTP2_PUSH_DISABLED",
        "HTTP/2 client has disabled push streams",
        Exception,
    ),
    (
        Http2TrailersNotReadyError(),
        "ERR_HTTP2_TRAILERS_NOT_READY",
        "Trailing headers cannot be sent until after the wantTrailers event is emitted",
        Exception,
    ),
    (
        Http2PingLengthError(),
        "ERR_HTTP2_PING_LENGTH",
        "HTTP2 ping payload must be 8 bytes",
        ValueError,
    ),
    (
        Http2InvalidSessionError(),
        "ERR_HTTP2_INVALID_SESSION",
        "The session has been destroyed",
        Exception,
    ),
    (Http2Error(None, "nghttp2 failure"), "ERR_HTTP2_ERROR", "nghttp2 failure", Exception),
    # TLS failures (https): OpenSSL's reason or verify error as Node names it
    (TLSError(), "ERR_SSL_SSL_HANDSHAKE_FAILURE", "TLS handshake failed", ssl.SSLError),
    (
        TLSCertificateError("self-signed certificate", code="DEPTH_ZERO_SELF_SIGNED_CERT"),
        "DEPTH_ZERO_SELF_SIGNED_CERT",
        "self-signed certificate",
        ssl.SSLCertVerificationError,
    ),
]


@pytest.mark.parametrize(
    ("err", "code", "message", "builtin"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_error_has_node_code_node_message_and_python_builtin_base(
    err: NodeError, code: str, message: str, builtin: type[BaseException]
) -> None:
    assert err.code == code
    assert str(err) == message
    assert err.message == message
    assert isinstance(err, NodeError)
    assert isinstance(err, builtin)
    assert not str(err).startswith("Error: ")


def test_every_public_error_class_is_tested_and_exported() -> None:
    tested = {type(case[0]) for case in CASES}
    exported = {
        obj
        for name in errors.__all__
        if isinstance(obj := getattr(errors, name), type) and issubclass(obj, NodeError)
    }
    assert exported - tested == {NodeError, NodeSystemError}


def test_by_code_maps_each_fixed_code_to_its_class() -> None:
    for code, cls in BY_CODE.items():
        assert cls.code == code
    assert BY_CODE["ECONNRESET"] is ConnResetError
    assert BY_CODE["ERR_INVALID_CHAR"] is InvalidCharError
    assert BY_CODE["ABORT_ERR"] is AbortError  # not the DOMException-style default reason
    assert BY_CODE["ERR_HTTP2_ERROR"] is Http2Error
    assert "" not in BY_CODE  # NodeError and HttpParserError have no fixed code


def test_generic_node_error_takes_a_message_and_an_optional_code() -> None:
    err = NodeError("something broke", code="ERR_SOMETHING")
    assert str(err) == "something broke"
    assert err.code == "ERR_SOMETHING"
    assert NodeError().code == ""


def test_js_class_name_is_kept_as_name() -> None:
    assert InvalidCharError("path").name == "TypeError"
    assert InvalidStatusCodeError(99).name == "RangeError"
    assert AbortError().name == "AbortError"
    assert DOMAbortError().name == "AbortError"
    assert DOMTimeoutError().name == "TimeoutError"
    assert ServerNotRunningError().name == "Error"


def test_invalid_char_without_a_name_has_no_brackets() -> None:
    assert str(InvalidCharError("header content")) == "Invalid character in header content"


def test_invalid_http_token_prints_python_spelling_of_none() -> None:
    # DESIGN §11 "Messages": Python's spelling of a value
    err = InvalidHttpTokenError("Method", None)
    assert str(err) == 'Method must be a valid HTTP token ["None"]'


def test_header_value_error_prints_values_other_than_none_as_text() -> None:
    assert str(InvalidHeaderValueError(3, "x")) == 'Invalid value "3" for header "x"'


def test_socket_errors_carry_python_errno_and_node_address_fields() -> None:
    err = ConnRefusedError(
        "connect ECONNREFUSED 127.0.0.1:1", syscall="connect", address="127.0.0.1", port=1
    )
    assert err.errno == errno.ECONNREFUSED
    assert (err.syscall, err.address, err.port) == ("connect", "127.0.0.1", 1)
    assert ConnResetError().errno == errno.ECONNRESET
    assert ConnResetError().syscall is None
    assert str(EPipeError()) == "write EPIPE"


def test_socket_errors_are_caught_by_pythons_os_error_handlers() -> None:
    with pytest.raises(ConnectionError):
        raise ConnResetError()
    with pytest.raises(OSError):
        raise AddrInUseError("listen EADDRINUSE: address already in use 127.0.0.1:80")


def test_abort_error_keeps_reason_as_cause() -> None:
    # R1-087: AbortError: The operation was aborted (+ cause)
    reason = ValueError("stop")
    err = AbortError(cause=reason)
    assert err.cause is reason
    assert err.__cause__ is reason
    plain = AbortError(cause="just a string")
    assert plain.cause == "just a string"
    assert plain.__cause__ is None


def test_parser_error_carries_bytes_parsed_and_raw_packet() -> None:
    # H1-082, H1-083
    err = HttpParserError("HPE_INVALID_METHOD", "Invalid method", bytes_parsed=3, raw_packet=b"XX")
    assert err.reason == "Invalid method"
    assert err.bytes_parsed == 3
    assert err.raw_packet == b"XX"
    defaults = HttpParserError("HPE_HEADER_OVERFLOW", "Header overflow")
    assert (defaults.bytes_parsed, defaults.raw_packet) == (0, b"")


def test_missing_args_lists_arguments_as_node_does() -> None:
    assert str(MissingArgsError("a", "b")) == 'The "a" and "b" arguments must be specified'
    assert (
        str(MissingArgsError("a", "b", "c")) == 'The "a", "b", and "c" arguments must be specified'
    )
    assert str(MissingArgsError(["a", "b"])) == 'The "a" or "b" argument must be specified'
    with pytest.raises(TypeError):
        MissingArgsError()


def test_invalid_arg_value_says_property_for_dotted_names_and_truncates() -> None:
    err = InvalidArgValueError("options.port", -1, "must be >= 0")
    assert str(err) == "The property 'options.port' must be >= 0. Received -1"
    long = InvalidArgValueError("x", "a" * 300)
    assert str(long).endswith("." * 3)
    assert len(str(long)) == len("The argument 'x' is invalid. Received ") + 128 + 3


def test_out_of_range_separates_big_integers_like_node() -> None:
    err = OutOfRangeError("size", ">= 0 && <= 4294967296", 2**40)
    assert str(err).endswith("Received 1_099_511_627_776")
    assert str(OutOfRangeError("n", "a number", "x")).endswith("Received 'x'")


def test_unhandled_error_without_value_has_no_parenthesis() -> None:
    assert str(UnhandledErrorError()) == "Unhandled error."
    assert UnhandledErrorError({"a": 1}).context == {"a": 1}


def test_http2_invalid_setting_value_keeps_actual_min_max() -> None:
    err = Http2InvalidSettingValueError("maxFrameSize", 1, 16384, 2**24 - 1)
    assert (err.actual, err.min, err.max) == (1, 16384, 2**24 - 1)


def test_errors_survive_pickle_and_copy_with_their_attributes() -> None:
    for err in (
        InvalidHttpTokenError("Header name", "a b"),
        ConnResetError("aborted", syscall="read"),
        HttpParserError("HPE_X", "bad", bytes_parsed=2),
    ):
        for clone in (pickle.loads(pickle.dumps(err)), copy.copy(err)):
            assert type(clone) is type(err)
            assert str(clone) == str(err)
            assert clone.code == err.code
            assert clone.__dict__ == err.__dict__
    clone_reset = pickle.loads(pickle.dumps(ConnResetError()))
    assert isinstance(clone_reset, ConnectionResetError)
    assert clone_reset.errno == errno.ECONNRESET
