"""Server timeouts and limits, on virtual time (DESIGN §5; R1-046…R1-055, R1-060, R1-061).

Every test runs on ``MockClock(autojump_threshold=0)`` (the ``autojump_clock``
fixture) over an in-memory connection served by ``server.serve_connection``:
when every task waits, the clock jumps to the next deadline, so each timeout
fires at an exact virtual time, asserted with ``trio.current_time()``.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trio_nodehttp import http
from trio_nodehttp._h1.server import KEEP_ALIVE_TIMEOUT_BUFFER
from trio_nodehttp.errors import HttpParserError, RequestTimeoutError
from trio_nodehttp.http import Socket

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
R408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"
R431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
OK_KEEP_ALIVE_5 = (
    b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
    b"Content-Length: 2\r\n\r\nok"
)
LIMIT = 10_000  # virtual seconds: a hang fails the test, instantly in real time


async def ok(req: Any, res: Any) -> None:
    res.send_date = False
    await res.end(b"ok")


def never_called(req: Any, res: Any) -> None:
    raise AssertionError("the handler must not see this request")


# -- headers_timeout (R1-046) --------------------------------------------------


@pytest.mark.parametrize("lockstep", [False, True], ids=["memory", "lockstep"])
async def test_silent_connection_gets_408_at_exactly_headers_timeout(
    autojump_clock, inject, lockstep
):
    # R1-046, issue 2 item 4: a connection that never sends a byte is bounded too.
    server = http.create_server(never_called)
    assert server.headers_timeout == 60.0  # min(60 s, request_timeout)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server, lockstep=lockstep) as (client, _):
            assert await client.rest() == R408
            assert trio.current_time() == t0 + 60.0


async def test_headers_timeout_defaults_to_request_timeout_when_smaller():
    # H1-094: headersTimeout defaults to min(requestTimeout, 60 s).
    assert http.create_server(request_timeout=20.0).headers_timeout == 20.0
    assert http.create_server(request_timeout=300.0).headers_timeout == 60.0
    assert http.create_server(headers_timeout=7.5).headers_timeout == 7.5


async def test_dribbled_head_does_not_extend_headers_timeout(autojump_clock, inject):
    # PEERS lesson 2: the timeout bounds the whole head, not each read.
    server = http.create_server(never_called, headers_timeout=10.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            for piece in (b"GET / HT", b"TP/1.1\r\n", b"Host: x\r\n"):
                await client.send(piece)
                await trio.sleep(3.0)
            assert await client.rest() == R408
            assert trio.current_time() == t0 + 10.0


async def test_headers_timeout_of_a_later_request_counts_from_its_first_byte(
    autojump_clock, inject
):
    # DESIGN §5: first byte of a later request -> end of its headers.
    server = http.create_server(ok, headers_timeout=10.0, keep_alive_timeout=100.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.response() == (
                b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=100\r\n"
                b"Content-Length: 2\r\n\r\nok"
            )
            await trio.sleep(50.0)  # idle longer than headers_timeout: not counted
            await client.send(b"GET /second HTTP/1.1\r\n")
            assert await client.rest() == R408
            assert trio.current_time() == t0 + 60.0


async def test_headers_timeout_zero_disables_it(autojump_clock, inject):
    server = http.create_server(never_called, headers_timeout=0.0, request_timeout=0.0)
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(b"GET / HTTP/1.1\r\n")
            with trio.move_on_after(5000.0) as waited:
                await client.rest()
            assert waited.cancelled_caught  # still open after 5000 s


async def test_headers_timeout_goes_to_client_error_listener_with_err_http_request_timeout(
    autojump_clock, inject
):
    # R1-067: with a 'clientError' listener the default answer is not sent;
    # the listener gets ERR_HTTP_REQUEST_TIMEOUT and the socket, and answers itself.
    server = http.create_server(never_called, headers_timeout=4.0)
    seen: list[tuple[float, BaseException, Socket]] = []

    async def on_client_error(err: BaseException, socket: Socket) -> None:
        seen.append((trio.current_time(), err, socket))
        await socket.send_all(b"HTTP/1.1 408 Too Slow\r\n\r\n")
        socket.destroy()

    server.on("clientError", on_client_error)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(b"GET / HTTP/1.1\r\nHo")
            assert await client.rest() == b"HTTP/1.1 408 Too Slow\r\n\r\n"
    [(when, err, socket)] = seen
    assert when == t0 + 4.0
    assert isinstance(err, RequestTimeoutError)
    assert isinstance(err, TimeoutError)
    assert err.code == "ERR_HTTP_REQUEST_TIMEOUT"
    assert isinstance(socket, Socket)


# -- request_timeout (R1-047) ----------------------------------------------------


async def test_slow_body_gets_408_at_request_timeout_from_request_start(autojump_clock, inject):
    # R1-047: the whole request (head and body) must arrive within request_timeout.
    got: list[bytes] = []

    async def reader(req: Any, res: Any) -> None:
        async for chunk in req:
            got.append(chunk)
        raise AssertionError("the body never completes")

    server = http.create_server(reader, request_timeout=30.0, headers_timeout=10.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            for _ in range(5):
                await trio.sleep(5.0)
                await client.send(b"a")  # activity does not extend the deadline
            assert await client.rest() == R408
            assert trio.current_time() == t0 + 30.0
    assert b"".join(got) == b"aaaaa"


async def test_request_timeout_after_response_started_closes_without_bytes(autojump_clock, inject):
    # R1-068: once the attached response's head is sent, the socket is just closed.
    async def streaming(req: Any, res: Any) -> None:
        res.send_date = False
        await res.write(b"partial")
        await req.read()

    server = http.create_server(streaming, request_timeout=30.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
            assert await client.rest() == (
                b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n"
            )
            assert trio.current_time() == t0 + 30.0


async def test_request_timeout_also_bounds_draining_an_unread_body(autojump_clock, inject):
    # DESIGN §11 "Bodies nobody reads": the server drains the rest of the body
    # after the handler, bounded by request_timeout; the response already went out.
    server = http.create_server(ok, request_timeout=30.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1")
            assert await client.response() == OK_KEEP_ALIVE_5
            # the response is finished, so nothing stops the 408, as in Node
            assert await client.rest() == R408
            assert trio.current_time() == t0 + 30.0


async def test_a_complete_request_is_not_bounded_by_request_timeout(autojump_clock, inject):
    # The timeouts bound receiving; a slow handler of a complete request is not cut.
    async def slow(req: Any, res: Any) -> None:
        await trio.sleep(1000.0)
        await ok(req, res)

    server = http.create_server(slow, request_timeout=30.0, headers_timeout=10.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.response() == OK_KEEP_ALIVE_5
            assert trio.current_time() == t0 + 1000.0


# -- keep_alive_timeout (R1-053) ---------------------------------------------------


@pytest.mark.parametrize("lockstep", [False, True], ids=["memory", "lockstep"])
async def test_keep_alive_timeout_is_advertised_and_closes_one_second_later(
    autojump_clock, inject, lockstep
):
    # R1-053, DESIGN §5: Keep-Alive: timeout=N; the idle connection closes quietly
    # at N + KEEP_ALIVE_TIMEOUT_BUFFER (1 s) after the end of the response.
    assert KEEP_ALIVE_TIMEOUT_BUFFER == 1.0
    server = http.create_server(ok, keep_alive_timeout=5.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server, lockstep=lockstep) as (client, _):
            await client.send(GET)
            assert await client.response() == OK_KEEP_ALIVE_5
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 6.0


async def test_keep_alive_timeout_is_advertised_as_whole_seconds(autojump_clock, inject):
    server = http.create_server(ok, keep_alive_timeout=2.5)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(GET)
            assert b"\r\nKeep-Alive: timeout=2\r\n" in await client.response()
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 3.5


async def test_keep_alive_timeout_counts_from_the_end_of_the_last_response(autojump_clock, inject):
    async def slow(req: Any, res: Any) -> None:
        await trio.sleep(20.0)
        await ok(req, res)

    server = http.create_server(slow, keep_alive_timeout=5.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(GET)
            await client.response()
            await trio.sleep(4.0)
            await client.send(GET)  # at 24 s, inside the window: served
            assert await client.response() == OK_KEEP_ALIVE_5
            assert trio.current_time() == t0 + 44.0
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 50.0


async def test_keep_alive_timeout_zero_disables_it(autojump_clock, inject):
    # R1-053: 0 disables the keep-alive timeout; no Keep-Alive header is sent.
    server = http.create_server(ok, keep_alive_timeout=0.0)
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.response() == (
                b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
            )
            await trio.sleep(5000.0)
            await client.send(GET)  # still served
            assert (await client.response()).endswith(b"\r\n\r\nok")


# -- server.timeout / set_timeout (R1-049…R1-052) ------------------------------------


async def test_server_timeout_defaults_to_zero_no_inactivity_timeout():
    # H1-101, R1-049
    assert http.create_server().timeout == 0.0


async def test_inactive_socket_is_destroyed_when_nobody_listens_for_timeout(autojump_clock, inject):
    # R1-050, R1-051: by default a timed-out socket is destroyed (no bytes sent).
    server = http.create_server(never_called, timeout=3.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 3.0


async def test_set_timeout_emits_timeout_with_the_socket_once_per_idle_period(
    autojump_clock, inject
):
    # R1-050, R1-051: with a 'timeout' listener the server leaves the socket alone;
    # 'timeout' fires once per period of inactivity, as Node's socket timer does.
    server = http.create_server(ok, keep_alive_timeout=0.0)
    fired: list[tuple[float, Socket]] = []
    assert server.set_timeout(3.0, lambda sock: fired.append((trio.current_time(), sock))) is (
        server
    )
    assert server.timeout == 3.0
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await trio.sleep(10.0)
            assert [t for t, _ in fired] == [t0 + 3.0]
            await client.send(GET)  # activity re-arms the timer
            assert await client.response()
            await trio.sleep(10.0)
            assert [t for t, _ in fired] == [t0 + 3.0, t0 + 13.0]
    assert all(isinstance(sock, Socket) for _, sock in fired)
    assert fired[0][1] is fired[1][1]


async def test_server_timeout_change_affects_only_new_connections(autojump_clock, inject):
    # H1-101, R1-049: the timeout is configured per connection when it starts.
    server = http.create_server(never_called, timeout=3.0, headers_timeout=100.0)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await trio.sleep(1.0)  # the connection has started
            server.set_timeout(50.0)
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 3.0


async def test_socket_timeout_lets_the_listener_destroy_the_socket(autojump_clock, inject):
    server = http.create_server(never_called, timeout=3.0)
    server.on("timeout", lambda sock: sock.destroy())
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 3.0


async def test_res_set_timeout_destroys_the_socket_when_nobody_listens(autojump_clock, inject):
    # R1-052: no 'timeout' listener on request, response or server -> destroyed.
    async def handler(req: Any, res: Any) -> None:
        assert res.set_timeout(2.0) is res
        await trio.sleep_forever()

    server = http.create_server(handler)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.rest() == b""
            assert trio.current_time() == t0 + 2.0


async def test_res_set_timeout_callback_is_a_timeout_listener_on_the_response(
    autojump_clock, inject
):
    # H1-122, R1-052: the callback handles the timeout; the socket stays open.
    fired: list[float] = []

    async def handler(req: Any, res: Any) -> None:
        res.set_timeout(2.0, lambda sock: fired.append(trio.current_time()))
        await trio.sleep(7.0)
        await ok(req, res)

    server = http.create_server(handler)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(GET)
            assert await client.response() == OK_KEEP_ALIVE_5
    assert fired == [t0 + 2.0]


async def test_req_set_timeout_callback_is_a_timeout_listener_on_the_request(
    autojump_clock, inject
):
    # H1-150: message.set_timeout calls socket.set_timeout; the callback listens on req.
    fired: list[float] = []
    bodies: list[bytes] = []

    async def handler(req: Any, res: Any) -> None:
        assert req.set_timeout(2.0, lambda sock: fired.append(trio.current_time())) is req
        bodies.append(await req.read())
        await ok(req, res)

    server = http.create_server(handler)
    with trio.fail_after(LIMIT):
        t0 = trio.current_time()
        async with inject(server) as (client, _):
            await client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
            await trio.sleep(5.0)
            await client.send(b"hi")
            assert await client.response() == OK_KEEP_ALIVE_5
    assert fired == [t0 + 2.0]
    assert bodies == [b"hi"]


# -- max_requests_per_socket (R1-055) ----------------------------------------------------


async def test_max_requests_per_socket_closes_at_the_limit_then_answers_503(
    autojump_clock, inject, strip_date
):
    # R1-055: the response reaching the limit carries Connection: close without
    # closing; further requests get 503 and 'dropRequest' instead of 'request'.
    server = http.create_server(ok, max_requests_per_socket=2)
    dropped: list[tuple[Any, Any]] = []
    server.on("dropRequest", lambda req, sock: dropped.append((req, sock)))
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(GET + GET + b"GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
            assert await client.response() == (
                b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=2\r\n"
                b"Content-Length: 2\r\n\r\nok"
            )
            assert await client.response() == (
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
            )
            third = await client.response()
    assert strip_date(third) == (  # the server's own 503, as Node v20 sends it
        b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    [(req, sock)] = dropped
    assert req.url == "/third"
    assert isinstance(sock, Socket)


async def test_max_requests_per_socket_zero_means_no_limit(autojump_clock, inject):
    server = http.create_server(ok)
    assert server.max_requests_per_socket == 0
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(GET * 20)
            for _ in range(20):
                assert await client.response() == OK_KEEP_ALIVE_5


# -- max_headers_count (R1-060) and max_header_size (R1-061) -----------------------------


async def test_headers_past_max_headers_count_are_dropped_silently(autojump_clock, inject):
    # R1-060 (as Node v20): headers and headers_distinct count only the first
    # max_headers_count fields; raw_headers keeps what was received.
    seen: list[Any] = []

    async def handler(req: Any, res: Any) -> None:
        seen.extend([req.headers, req.headers_distinct, req.raw_headers])
        await ok(req, res)

    server = http.create_server(handler, max_headers_count=3)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(head)
            assert await client.response() == OK_KEEP_ALIVE_5
    assert seen == [
        {"host": "x", "a": "1", "b": "2"},
        {"host": ["x"], "a": ["1"], "b": ["2"]},
        ["Host", "x", "A", "1", "B", "2", "C", "3", "D", "4"],
    ]


async def test_max_headers_count_defaults_to_2000_and_zero_is_unlimited(autojump_clock, inject):
    assert http.create_server().max_headers_count == 2000
    seen: list[int] = []

    async def handler(req: Any, res: Any) -> None:
        seen.append(len(req.headers))
        await ok(req, res)

    server = http.create_server(handler, max_headers_count=0, max_header_size=100_000)
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"h%d: v\r\n" % i for i in range(2500))
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(head + b"\r\n")
            assert await client.response() == OK_KEEP_ALIVE_5
    assert seen == [2501]


async def test_head_over_max_header_size_gets_431_and_close(autojump_clock, inject):
    # R1-061, R1-068: HPE_HEADER_OVERFLOW -> 431; the handler never sees it.
    server = http.create_server(never_called, max_header_size=1024)
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n")
            assert await client.rest() == R431


async def test_max_header_size_counts_target_names_and_values(autojump_clock, inject):
    # DESIGN §11 "Limits": the request target plus header names and values.
    # "/" (1) + "Host" "x" (5) + "X-Pad" (5) + value: one under the limit served; at the
    # limit refused (Node's parser errors once the count reaches the limit).
    def head(pad: int) -> bytes:
        return b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * pad + b"\r\n\r\n"

    server = http.create_server(ok, max_header_size=100)
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(head(100 - 12))
            assert await client.response() == OK_KEEP_ALIVE_5
            await client.send(head(100 - 11))
            assert await client.rest() == R431


async def test_header_overflow_goes_to_client_error_listener(autojump_clock, inject):
    errors: list[BaseException] = []

    async def on_client_error(err: BaseException, socket: Socket) -> None:
        errors.append(err)
        await socket.send_all(b"HTTP/1.1 431 Nope\r\n\r\n")
        socket.destroy()

    server = http.create_server(never_called, max_header_size=64)
    server.on("clientError", on_client_error)
    with trio.fail_after(LIMIT):
        async with inject(server) as (client, _):
            await client.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100 + b"\r\n\r\n")
            assert await client.rest() == b"HTTP/1.1 431 Nope\r\n\r\n"
    [err] = errors
    assert isinstance(err, HttpParserError)
    assert err.code == "HPE_HEADER_OVERFLOW"
