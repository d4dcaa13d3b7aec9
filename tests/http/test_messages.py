"""``IncomingMessage`` (H1-135…H1-158) and ``ServerResponse`` / ``OutgoingMessage``
(H1-104…H1-134, H1-159…H1-188), on the server side; rules R1-001…R1-039.

Each test serves one in-memory connection and pins the exact bytes on the
wire. Handlers record what they see; assertion errors raised inside a handler
are re-raised by :func:`exchange` (the server would otherwise answer 500).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

from trio_nodehttp import http
from trio_nodehttp.errors import (
    BodyNotAllowedError,
    ConnResetError,
    ContentLengthMismatchError,
    HeadersSentError,
    InvalidCharError,
    InvalidHttpTokenError,
    InvalidStatusCodeError,
    StreamCannotPipeError,
    StreamWriteAfterEndError,
)
from trio_nodehttp.http import IncomingMessage, ServerResponse, Socket

Handler = Callable[[IncomingMessage, ServerResponse], Awaitable[None]]
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
KEEP = b"Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
BOUND = 5.0


class RecordingStream(trio.abc.HalfCloseableStream):
    """A server-side stream that records every ``send_all`` (to count sends)."""

    def __init__(self, inner: trio.abc.HalfCloseableStream) -> None:
        self.inner = inner
        self.sends: list[bytes] = []

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self.sends.append(bytes(data))
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        return await self.inner.receive_some(max_bytes)

    async def send_eof(self) -> None:
        await self.inner.send_eof()

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def exchange(inject: Any, strip_date: Any) -> Any:
    """``await exchange(handler, request=GET, method=..., sends=[], **server_options)``.

    Serves ``request`` with ``handler`` and returns the first response's bytes
    with the ``Date`` line removed; ``sends`` collects every ``send_all`` of
    the server's side.
    """

    async def run(
        handler: Handler,
        request: bytes = GET,
        *,
        method: str = "GET",
        sends: list[bytes] | None = None,
        **options: Any,
    ) -> bytes:
        failures: list[BaseException] = []

        async def guarded(req: IncomingMessage, res: ServerResponse) -> None:
            try:
                await handler(req, res)
            except AssertionError as exc:
                failures.append(exc)
                raise

        recording: list[RecordingStream] = []

        def wrap(stream: Any) -> RecordingStream:
            recording.append(RecordingStream(stream))
            return recording[0]

        server = http.create_server(guarded, **options)
        with trio.fail_after(BOUND):
            async with inject(server, wrap=wrap) as (client, _):
                await client.send(request)
                data = await client.response(method)
        if failures:
            raise failures[0]
        if sends is not None:
            sends.extend(recording[0].sends)
        return strip_date(data)

    return run


async def ok(req: IncomingMessage, res: ServerResponse) -> None:
    await res.end(b"ok")


def post(body: bytes, *headers: str, path: str = "/") -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def chunked(*chunks: bytes, trailers: bytes = b"") -> bytes:
    body = b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks)
    return (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + body
        + b"0\r\n"
        + trailers
        + b"\r\n"
    )


# == IncomingMessage (H1-135…H1-158) =========================================================


async def test_request_line_properties(exchange):
    # H1-144…H1-147, H1-152, H1-153, H1-156
    seen: dict[str, Any] = {}

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.update(
            method=req.method,
            url=req.url,
            version=(req.http_version, req.http_version_major, req.http_version_minor),
            status=(req.status_code, req.status_message),
            socket=req.socket,
            connection=req.connection,
        )
        await ok(req, res)

    await exchange(handler, b"PATCH /status?name=ryan HTTP/1.1\r\nHost: x\r\n\r\n")
    assert seen["method"] == "PATCH"
    assert seen["url"] == "/status?name=ryan"
    assert seen["version"] == ("1.1", 1, 1)
    assert seen["status"] == (None, None)  # responses only
    assert isinstance(seen["socket"], Socket)
    assert seen["connection"] is seen["socket"]  # H1-140 deprecated alias


async def test_http_1_0_request_version(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append((req.http_version, req.http_version_major, req.http_version_minor))
        await ok(req, res)

    await exchange(handler, b"GET / HTTP/1.0\r\n\r\n")
    assert seen == [("1.0", 1, 0)]


async def test_headers_distinct_and_raw_headers(exchange):
    # R1-001…R1-005, R1-008 (first value wins for the discard list)
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.extend([req.headers, req.headers_distinct, req.raw_headers])
        await ok(req, res)

    await exchange(
        handler,
        b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\nuser-agent: b\r\nAccept: 1\r\n"
        b"ACCEPT: 2\r\nCookie: c=1\r\nCookie: d=2\r\nSet-Cookie: s=1\r\nX-Sp:  padded\r\n\r\n",
    )
    headers, distinct, raw = seen
    assert headers == {
        "host": "x",
        "user-agent": "a",
        "accept": "1, 2",
        "cookie": "c=1; d=2",
        "set-cookie": ["s=1"],
        "x-sp": "padded",
    }
    assert distinct == {
        "host": ["x"],
        "user-agent": ["a", "b"],
        "accept": ["1", "2"],
        "cookie": ["c=1", "d=2"],
        "set-cookie": ["s=1"],
        "x-sp": ["padded"],
    }
    assert raw == [
        "Host", "x", "User-Agent", "a", "user-agent", "b", "Accept", "1", "ACCEPT", "2",
        "Cookie", "c=1", "Cookie", "d=2", "Set-Cookie", "s=1", "X-Sp", "padded",
    ]  # fmt: skip


async def test_join_duplicate_headers_option_joins_the_discard_list(exchange):
    # H1-197, R1-004
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(req.headers["user-agent"])
        await ok(req, res)

    request = b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n"
    await exchange(handler, request, join_duplicate_headers=True)
    assert seen == ["a, b"]


async def test_headers_values_are_latin1_strings(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(req.headers["x-name"])
        await ok(req, res)

    await exchange(handler, b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\n\r\n")
    assert seen == ["caf\xe9"]


async def test_trailers_are_populated_only_at_the_end(exchange):
    # H1-149, H1-154, H1-155, R1-006
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append((req.trailers, req.trailers_distinct, req.raw_trailers, req.complete))
        body = await req.read()
        seen.append((req.trailers, req.trailers_distinct, req.raw_trailers, req.complete))
        await res.end(body)

    request = chunked(b"ab", b"cd", trailers=b"X-Sum: 1\r\nx-sum: 2\r\nContent-MD5: zz\r\n")
    assert await exchange(handler, request) == (
        b"HTTP/1.1 200 OK\r\n" + KEEP + b"Content-Length: 4\r\n\r\nabcd"
    )
    assert seen[0] == ({}, {}, [], False)
    assert seen[1] == (
        {"x-sum": "1, 2", "content-md5": "zz"},
        {"x-sum": ["1", "2"], "content-md5": ["zz"]},
        ["X-Sum", "1", "x-sum", "2", "Content-MD5", "zz"],
        True,
    )


async def test_async_iteration_yields_chunks_and_fires_data_end_close(exchange):
    # H1-137, DESIGN §3 "Bodies", §11 "Bodies nobody reads"
    events: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        req.on("data", lambda chunk: events.append(("data", chunk)))
        req.on("end", lambda: events.append(("end", req.complete)))
        req.on("close", lambda: events.append(("close",)))
        async for chunk in req:
            events.append(("chunk", chunk))
        events.append(("loop done",))
        await ok(req, res)

    await exchange(handler, chunked(b"one", b"two"))
    assert events == [
        ("data", b"one"),
        ("chunk", b"one"),
        ("data", b"two"),
        ("chunk", b"two"),
        ("end", True),
        ("loop done",),
        ("close",),
    ]


async def test_read_text_and_json(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        if req.url == "/text":
            seen.append(await req.text())
        elif req.url == "/latin1":
            seen.append(await req.text("latin1"))
        elif req.url == "/json":
            seen.append(await req.json())
        else:
            seen.append(await req.read())
        seen.append(await req.read())  # the body is consumed: nothing more
        await ok(req, res)

    await exchange(handler, post(b"r\xc3\xa9sum\xc3\xa9"))
    await exchange(handler, post("résumé".encode(), path="/text"))
    await exchange(handler, post(b"caf\xe9", path="/latin1"))
    await exchange(handler, post(b'{"a": [1, 2.5, null]}', path="/json"))
    assert seen == [
        b"r\xc3\xa9sum\xc3\xa9",
        b"",
        "résumé",
        b"",
        "café",
        b"",
        {"a": [1, 2.5, None]},
        b"",
    ]


async def test_set_encoding_yields_str_and_holds_split_characters(exchange):
    # Node's setEncoding: a multi-byte character split across chunks is held back.
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        assert req.set_encoding("utf8") is req
        req.on("data", lambda chunk: seen.append(("data", chunk)))
        async for piece in req:
            seen.append(piece)
        await ok(req, res)

    await exchange(handler, chunked(b"caf\xc3", b"\xa9 \xe2\x82", b"\xac"))
    assert seen == [("data", "caf"), "caf", ("data", "é "), "é ", ("data", "€"), "€"]


async def test_set_encoding_hex_and_base64(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        req.set_encoding("hex" if req.url == "/" else "base64")
        seen.append("".join([piece async for piece in req]))
        await ok(req, res)

    await exchange(handler, post(b"\x00\xffA"))
    await exchange(handler, post(b"hello", path="/b64"))
    assert seen == ["00ff41", "aGVsbG8="]


async def test_receive_some_is_a_trio_receive_stream(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        assert isinstance(req, trio.abc.ReceiveStream)
        seen.append(await req.receive_some(3))
        seen.append(await req.receive_some(3))
        seen.append(await req.receive_some())
        seen.append(await req.receive_some())  # end of body
        await ok(req, res)

    await exchange(handler, post(b"abcdefgh"))
    assert seen == [b"abc", b"def", b"gh", b""]


async def test_resume_drains_and_fires_end(exchange):
    events: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        req.on("data", lambda chunk: events.append(chunk))
        req.on("end", lambda: events.append("end"))
        assert await req.resume() is req
        events.append(req.complete)
        await ok(req, res)

    await exchange(handler, chunked(b"x", b"y"))
    assert events == [b"x", b"y", "end", True]


async def test_unread_body_is_drained_so_keep_alive_goes_on(inject):
    # DESIGN §11 "Bodies nobody reads"
    server = http.create_server(ok)
    with trio.fail_after(BOUND):
        async with inject(server) as (client, _):
            await client.send(post(b"x" * 100_000) + GET)
            first = await client.response()
            second = await client.response()
    assert first.endswith(b"\r\n\r\nok") and second.endswith(b"\r\n\r\nok")


async def test_client_disconnect_mid_body_aborts_the_request(inject):
    # H1-138, H1-139: complete stays False; reading raises ECONNRESET.
    seen: list[Any] = []
    done = trio.Event()

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        try:
            await req.read()
        except ConnResetError as exc:
            seen.extend([exc.code, req.complete, req.aborted])
        finally:
            done.set()

    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with inject(server) as (client, _):
            await client.send(post(b"12345")[:-3])
            await client.stream.send_eof()
            await done.wait()
    assert seen == ["ECONNRESET", False, True]


async def test_req_destroy_destroys_the_socket(inject):
    # H1-141
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        assert req.destroy() is req
        seen.extend([req.destroyed, req.socket.destroyed])

    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.rest() == b""
    assert seen == [True, True]


# == ServerResponse / OutgoingMessage: the header store (R1-009…R1-020) =====================


async def test_set_header_get_header_keep_value_types(exchange):
    # H1-113, H1-121, R1-010
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        assert res.set_header("Content-Length", 2) is res
        res.set_header("X-List", ["a", "b"])
        res.set_header("X-Float", 1.5)
        seen.extend(
            [
                res.get_header("content-length"),
                res.get_header("X-LIST"),
                res.get_header("x-float"),
                res.get_header("absent"),
            ]
        )
        await res.end(b"ok")

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-List: a\r\nX-List: b\r\nX-Float: 1.5\r\n"
        + KEEP
        + b"\r\nok"
    )
    assert seen == [2, ["a", "b"], 1.5, None]


async def test_header_names_has_remove_and_shared_lists(exchange):
    # H1-114…H1-116, H1-118, R1-009, R1-016
    seen: dict[str, Any] = {}

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.set_header("Foo", "bar")
        res.set_header("Set-Cookie", ["a=1"])
        res.set_header("X-Gone", "1")
        res.remove_header("x-GONE")
        headers = res.get_headers()
        seen.update(
            names=res.get_header_names(),
            raw_names=res.get_raw_header_names(),
            headers=copy.deepcopy(headers),
            has=(res.has_header("FOO"), res.has_header("x-gone")),
        )
        headers["set-cookie"].append("b=2")  # shared with the store (R1-016)
        headers["foo"] = "not stored"  # the dict itself is a copy
        await res.end(b"ok")

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\nFoo: bar\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        + KEEP
        + b"Content-Length: 2\r\n\r\nok"
    )
    assert seen == {
        "names": ["foo", "set-cookie"],
        "raw_names": ["Foo", "Set-Cookie"],
        "headers": {"foo": "bar", "set-cookie": ["a=1"]},
        "has": (True, False),
    }


async def test_append_header_adds_lines_and_unique_headers_join_them(exchange):
    # H1-164, R1-017, R1-018
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        assert res.append_header("X-A", "1") is res  # no previous value: a set
        res.append_header("x-a", ["2", "3"])
        res.append_header("X-U", "1")
        res.append_header("X-U", "2")
        assert res.get_header("x-a") == ["1", "2", "3"]
        await res.end(b"ok")

    assert await exchange(handler, unique_headers=["x-u"]) == (
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nX-A: 3\r\nX-U: 1; 2\r\n"
        + KEEP
        + b"Content-Length: 2\r\n\r\nok"
    )


async def test_set_headers_takes_a_mapping_or_pairs(exchange):
    # H1-178, R1-020
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.set_header("X-A", "old")
        assert res.set_headers({"X-A": "new", "X-B": "b"}) is res
        # as a Headers object gives them: set-cookie values are set together, at the end
        res.set_headers([("set-cookie", "s=1"), ("x-c", "c"), ("set-cookie", "t=2")])
        await res.end(b"ok")

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\nX-A: new\r\nX-B: b\r\nx-c: c\r\nset-cookie: s=1\r\n"
        b"set-cookie: t=2\r\n" + KEEP + b"Content-Length: 2\r\n\r\nok"
    )


async def test_invalid_header_name_and_value_are_type_errors(exchange):
    # R1-012
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        with pytest.raises(InvalidHttpTokenError) as bad_name:
            res.set_header("Bad Name", "v")
        with pytest.raises(InvalidCharError) as bad_value:
            res.set_header("X-Ok", "line\r\nbreak")
        seen.extend([bad_name.value, bad_value.value])
        await ok(req, res)

    await exchange(handler)
    bad_name, bad_value = seen
    assert isinstance(bad_name, TypeError) and bad_name.code == "ERR_INVALID_HTTP_TOKEN"
    assert str(bad_name) == 'Header name must be a valid HTTP token ["Bad Name"]'
    assert isinstance(bad_value, TypeError) and bad_value.code == "ERR_INVALID_CHAR"
    assert str(bad_value) == 'Invalid character in header content ["X-Ok"]'


# == status line and write_head (R1-013…R1-015, R1-033…R1-036) ================================


async def test_status_code_and_message_defaults_and_custom(exchange):
    # H1-124, H1-125, R1-034
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append((res.status_code, res.status_message))
        res.status_code = 418
        if req.url == "/custom":
            res.status_message = "Short And Stout"
        await res.end()
        seen.append((res.status_code, res.status_message))

    assert await exchange(handler) == (
        b"HTTP/1.1 418 I'm a Teapot\r\n" + KEEP + b"Content-Length: 0\r\n\r\n"
    )
    custom = await exchange(handler, b"GET /custom HTTP/1.1\r\nHost: x\r\n\r\n")
    assert custom.startswith(b"HTTP/1.1 418 Short And Stout\r\n")
    assert seen == [(200, None), (418, "I'm a Teapot"), (200, None), (418, "Short And Stout")]


async def test_write_head_merges_with_set_header_and_wins(exchange):
    # R1-013 (the seed's example; Node v20 bytes: names keep their first position)
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.set_header("Content-Type", "text/html")
        res.set_header("X-Foo", "bar")
        assert res.write_head(200, {"content-TYPE": "text/plain"}) is res
        seen.append(res.get_header("content-type"))
        await res.end(b"ok")

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\ncontent-TYPE: text/plain\r\nX-Foo: bar\r\n"
        + KEEP
        + b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    )
    assert seen == ["text/plain"]


async def test_write_head_without_set_header_goes_straight_to_the_wire(exchange):
    # R1-014: get_header does not see them; write_head returns self for chaining.
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        await res.write_head(201, "Made", {"X-Direct": "1", "Content-Length": "2"}).end(b"ok")
        seen.extend([res.get_header("x-direct"), res.get_headers()])

    assert await exchange(handler) == (
        b"HTTP/1.1 201 Made\r\nX-Direct: 1\r\nContent-Length: 2\r\n" + KEEP + b"\r\nok"
    )
    assert seen == [None, {}]


async def test_write_head_takes_a_flat_array(exchange):
    # R1-015: [k, v, k, v ...], the shape of raw_headers
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.write_head(200, ["X-A", "1", "X-B", "2", "Set-Cookie", "c=1", "Set-Cookie", "d=2"])
        await res.end()

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nSet-Cookie: c=1\r\nSet-Cookie: d=2\r\n"
        + KEEP
        + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )


@pytest.mark.parametrize("status", [99, 1000, -1, "abc", None])
async def test_write_head_status_outside_100_999_is_a_range_error(exchange, status):
    # H1-133, R1-033
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        with pytest.raises(InvalidStatusCodeError) as info:
            res.write_head(status)
        seen.append(info.value)
        seen.append(res.headers_sent)
        await ok(req, res)

    assert (await exchange(handler)).startswith(b"HTTP/1.1 200 OK\r\n")
    err, sent = seen
    assert isinstance(err, ValueError)
    assert err.code == "ERR_HTTP_INVALID_STATUS_CODE"
    assert str(err) == f"Invalid status code: {status}"
    assert sent is False


async def test_headers_sent_and_headers_sent_errors(exchange):
    # H1-117, R1-036; ERR_HTTP_HEADERS_SENT (beyond-seed)
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(res.headers_sent)
        await res.write(b"x")
        seen.append(res.headers_sent)
        for attempt in (
            lambda: res.set_header("a", "b"),
            lambda: res.remove_header("a"),
            lambda: res.append_header("a", "b"),
            lambda: res.write_head(200),
        ):
            with pytest.raises(HeadersSentError) as info:
                attempt()
            seen.append(str(info.value))
        await res.end()

    await exchange(handler)
    assert seen == [
        False,
        True,
        "Cannot set headers after they are sent to the client",
        "Cannot remove headers after they are sent to the client",
        "Cannot append headers after they are sent to the client",
        "Cannot write headers after they are sent to the client",
    ]


async def test_send_date_default_true_and_not_duplicated(exchange):
    # H1-120, R1-035
    seen: list[bool] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(res.send_date)
        if req.url == "/off":
            res.send_date = False
        elif req.url == "/own":
            res.set_header("Date", "Tue, 01 Jan 2030 00:00:00 GMT")
        await res.end(b"ok")

    server = http.create_server(handler)
    client, server_side = trio.testing.memory_stream_pair()
    with trio.fail_after(BOUND):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.serve_connection, server_side)
            await client.send_all(
                GET
                + b"GET /off HTTP/1.1\r\nHost: x\r\n\r\n"
                + b"GET /own HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            data = b""
            while chunk := await client.receive_some():
                data += chunk
    default, off, own = data.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert re.match(rb"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\nConnection", default)
    assert b"Date" not in off
    assert own.count(b"Date") == 1 and own.startswith(b"Date: Tue, 01 Jan 2030 00:00:00 GMT\r\n")
    assert seen == [True, True, True]


# == body framing and its errors (R1-021…R1-032) ==========================================


async def test_strict_content_length_mismatch_on_end(exchange):
    # H1-126, R1-029
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.strict_content_length = True
        res.set_header("Content-Length", 5)
        await res.write(b"abc")
        with pytest.raises(ContentLengthMismatchError) as info:
            await res.end()
        seen.append(info.value)
        await res.end(b"de")

    assert (await exchange(handler)).endswith(b"Content-Length: 5\r\n" + KEEP + b"\r\nabcde")
    [err] = seen
    assert err.code == "ERR_HTTP_CONTENT_LENGTH_MISMATCH"
    assert str(err) == (
        "Response body's content-length of 3 byte(s) does not match the "
        "content-length of 5 byte(s) set in header"
    )


async def test_strict_content_length_refuses_a_write_past_the_length(inject):
    # Node v20 checks before the head is stored, so (as in Node) the first write
    # is not checked yet: the second one, past the length, is refused.
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        res.strict_content_length = True
        res.set_header("Content-Length", "2")
        await res.write(b"abc")
        with pytest.raises(ContentLengthMismatchError) as info:
            await res.write(b"d")
        seen.append(str(info.value))
        res.destroy()

    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.rest() == (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + KEEP + b"\r\nabc"
            )
    assert seen == [
        "Response body's content-length of 4 byte(s) does not match the "
        "content-length of 2 byte(s) set in header"
    ]


async def test_strict_content_length_is_off_by_default(exchange):
    seen: list[bool] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(res.strict_content_length)
        await ok(req, res)

    await exchange(handler)
    assert seen == [False]


@pytest.mark.parametrize(
    ("request_line", "status", "method"),
    [
        (b"HEAD / HTTP/1.1", 200, "HEAD"),
        (b"GET / HTTP/1.1", 204, "GET"),
        (b"GET / HTTP/1.1", 304, "GET"),
    ],
)
async def test_bodies_not_allowed_are_dropped_or_refused(exchange, request_line, status, method):
    # H1-130, H1-207, R1-031: default: omitted; reject_non_standard_body_writes: refused.
    refused: list[Any] = []

    async def dropping(req: IncomingMessage, res: ServerResponse) -> None:
        res.status_code = status
        await res.write(b"dropped")
        await res.end()

    async def strict(req: IncomingMessage, res: ServerResponse) -> None:
        res.status_code = status
        with pytest.raises(BodyNotAllowedError) as info:
            await res.write(b"refused")
        refused.append(info.value)
        await res.end()

    request = request_line + b"\r\nHost: x\r\n\r\n"
    dropped = await exchange(dropping, request, method=method)
    assert dropped.startswith(b"HTTP/1.1 %d " % status)
    assert b"dropped" not in dropped and dropped.endswith(b"\r\n\r\n")
    await exchange(strict, request, method=method, reject_non_standard_body_writes=True)
    [err] = refused
    assert err.code == "ERR_HTTP_BODY_NOT_ALLOWED"
    assert str(err) == ("Adding content for this request method or response status is not allowed.")


async def test_str_chunks_with_node_encodings(exchange):
    # H1-130, H1-188, R1-025, R1-032 (Content-Length counts bytes)
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        await res.write("é")  # utf8 by default
        await res.write("é", "latin1")
        await res.write("6869", "hex")
        await res.write("aGk=", "base64")
        await res.end("€", "utf8")

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\n" + KEEP + b"Transfer-Encoding: chunked\r\n\r\n"
        b"2\r\n\xc3\xa9\r\n1\r\n\xe9\r\n2\r\nhi\r\n2\r\nhi\r\n3\r\n\xe2\x82\xac\r\n0\r\n\r\n"
    )
    whole = await exchange(lambda req, res: res.end("résumé"))
    assert whole.endswith(b"Content-Length: 8\r\n\r\nr\xc3\xa9sum\xc3\xa9")


async def test_write_after_end_is_refused(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        await res.end(b"ok")
        with pytest.raises(StreamWriteAfterEndError) as info:
            await res.write(b"late")
        seen.append(info.value.code)
        assert await res.end() is res  # a second end() is a no-op

    await exchange(handler)
    assert seen == ["ERR_STREAM_WRITE_AFTER_END"]


# == sending: cork, flush_headers, 1xx (R1-019, R1-045) ========================================


async def test_cork_batches_writes_into_one_send(exchange):
    # H1-166, H1-181, H1-182
    seen: list[Any] = []
    sends: list[bytes] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.cork()
        res.cork()
        seen.append(res.writable_corked)
        await res.write(b"a")
        await res.write(b"b")
        seen.append(res.writable_length)
        res.uncork()
        res.uncork()
        seen.append(res.writable_corked)
        await res.end(b"c")

    response = await exchange(handler, sends=sends)
    assert response == (
        b"HTTP/1.1 200 OK\r\n" + KEEP + b"Transfer-Encoding: chunked\r\n\r\n"
        b"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n"
    )
    assert len(sends) == 1
    assert seen[0] == 2 and seen[1] > 0 and seen[2] == 0


async def test_without_cork_the_first_write_carries_the_head_then_each_write_is_sent(exchange):
    # R1-019: the head waits for the first body chunk; later writes go separately.
    sends: list[bytes] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        await res.write(b"a")
        await res.write(b"b")
        await res.end()

    await exchange(handler, sends=sends)
    assert sends == [
        b"HTTP/1.1 200 OK\r\n" + KEEP + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
        b"1\r\nb\r\n",
        b"0\r\n\r\n",
    ]


async def test_flush_headers_sends_the_head_alone(exchange):
    # H1-112, H1-169, R1-019
    sends: list[bytes] = []
    seen: list[bool] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        await res.flush_headers()
        seen.append(res.headers_sent)
        await res.end(b"ok")

    await exchange(handler, sends=sends)
    assert sends == [
        b"HTTP/1.1 200 OK\r\n" + KEEP + b"Transfer-Encoding: chunked\r\n\r\n",
        b"2\r\nok\r\n0\r\n\r\n",
    ]
    assert seen == [True]


async def test_interim_responses_bytes(inject):
    # H1-131, H1-132, H1-134, R1-045 (Node v20: one Link line, joined with ", ")
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        await res.write_continue()
        await res.write_processing()
        await res.write_early_hints(
            {"link": ["</a.css>; rel=preload", "</b.js>; rel=preload"], "x-trace-id": "id"}
        )
        await res.write_early_hints({"link": "</c.css>; rel=preload"})
        await res.write_early_hints({"x-trace-id": "no link: nothing is sent"})
        await res.end(b"ok")

    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with inject(server) as (client, _):
            await client.send(GET)
            messages = [await client.response() for _ in range(5)]
    assert messages == [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 102 Processing\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload, </b.js>; rel=preload\r\n"
        b"x-trace-id: id\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </c.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + KEEP + b"Content-Length: 2\r\n\r\nok",
    ]


async def test_interim_response_after_the_head_is_refused(exchange):
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        await res.write(b"x")
        with pytest.raises(HeadersSentError):
            await res.write_continue()
        seen.append(True)
        await res.end()

    await exchange(handler)
    assert seen == [True]


# == the write side's state and events (R1-037…R1-039) =======================================


async def test_end_state_and_event_order(exchange):
    # H1-105, H1-106, H1-110, H1-128, H1-129, H1-161, H1-162, R1-039
    events: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.on("prefinish", lambda: events.append(("prefinish", res.writable_finished)))
        res.on("finish", lambda: events.append(("finish", res.writable_finished)))
        res.on("close", lambda: events.append(("close",)))
        events.append(("before", res.writable_ended, res.writable_finished, res.finished))
        assert await res.end(b"ok") is res
        events.append(("after", res.writable_ended, res.writable_finished, res.finished))

    await exchange(handler)
    assert events == [
        ("before", False, False, False),
        ("prefinish", False),
        ("finish", True),
        ("after", True, True, True),
        ("close",),
    ]


async def test_res_socket_is_none_after_end(exchange):
    # H1-123, H1-180, R1-037
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(res.socket is req.socket and isinstance(res.socket, Socket))
        seen.append(res.connection is res.socket)
        res.on("finish", lambda: seen.append(res.socket))
        await res.end(b"ok")
        seen.append(res.socket)
        seen.append(req.socket is not None)  # the request keeps its socket

    await exchange(handler)
    assert seen == [True, True, None, None, True]


async def test_res_req_is_the_request(exchange):
    # H1-119
    seen: list[bool] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(res.req is req)
        await ok(req, res)

    await exchange(handler)
    assert seen == [True]


async def test_writable_properties_and_pipe(exchange):
    # H1-175, H1-185, H1-187, R1-038
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.extend([res.writable_object_mode, res.writable_high_water_mark, res.writable_length])
        with pytest.raises(StreamCannotPipeError) as info:
            res.pipe(object())
        seen.extend([info.value.code, str(info.value)])
        await ok(req, res)

    await exchange(handler)
    assert seen == [False, 16384, 0, "ERR_STREAM_CANNOT_PIPE", "Cannot pipe, not readable"]


async def test_write_returns_true_when_handed_to_the_transport(exchange):
    # H1-188, R1-025: awaiting the write is the backpressure (DESIGN §3)
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(await res.write(b"x" * 100_000))
        await res.end()

    await exchange(handler)
    assert seen == [True]


async def test_add_trailers_sent_after_a_chunked_body(exchange):
    # H1-107, H1-163, R1-023, R1-028
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.write_head(200, {"Trailer": "Content-MD5"})
        await res.write(b"ok")
        res.add_trailers({"Content-MD5": "7895bf4b8828b55ceaf47747b4bca667"})
        await res.end()

    assert await exchange(handler) == (
        b"HTTP/1.1 200 OK\r\nTrailer: Content-MD5\r\n" + KEEP + b"Transfer-Encoding: chunked\r\n"
        b"\r\n2\r\nok\r\n0\r\nContent-MD5: 7895bf4b8828b55ceaf47747b4bca667\r\n\r\n"
    )


async def test_add_trailers_dropped_without_chunked_encoding(exchange):
    # R1-028: e.g. an HTTP/1.0 request: silently discarded
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        await res.write(b"ok")
        res.add_trailers({"X-T": "1"})
        await res.end()

    response = await exchange(handler, b"GET / HTTP/1.0\r\n\r\n")
    assert response == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok"


async def test_destroyed_is_true_at_close_and_high_water_marks(exchange):
    # H1-157 (destroyed once the request is done, at 'close'), H1-158, H1-185
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        req.on("close", lambda: seen.append(("close", req.destroyed)))
        seen.append(("start", req.destroyed, req.readable_high_water_mark))
        await req.read()
        seen.append(("read", req.destroyed, req.readable_ended))
        await ok(req, res)

    await exchange(handler, post(b"abc"))
    assert seen == [("start", False, 16384), ("read", False, True), ("close", True)]


async def test_write_head_with_invalid_header_characters_raises(exchange):
    # R1-012: write_head validates the names and values it is given
    seen: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        with pytest.raises(InvalidHttpTokenError):
            res.write_head(200, {"Bad Name": "v"})
        with pytest.raises(InvalidCharError):
            res.write_head(200, {"X-Ok": "bad\nvalue"})
        seen.append(res.headers_sent)
        await ok(req, res)

    assert (await exchange(handler)).startswith(b"HTTP/1.1 200 OK\r\n")
    assert seen == [False]
