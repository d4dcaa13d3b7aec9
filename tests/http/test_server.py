"""``http.Server``: lifecycle, connections and every Server event (H1-078…H1-103, R1-042…R1-075).

Real sockets on 127.0.0.1 (port 0), a raw trio TCP client, exact bytes; the
``Date`` header is masked where it is sent (its value is the wall clock).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

from trio_nodehttp import http
from trio_nodehttp.errors import HttpParserError, ServerNotRunningError
from trio_nodehttp.http import IncomingMessage, ServerResponse, Socket

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
OK = (
    b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
    b"Content-Length: 2\r\n\r\nok"
)
OK_CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
BOUND = 5.0  # seconds of real time any test may take


async def ok(req: IncomingMessage, res: ServerResponse) -> None:
    res.send_date = False
    await res.end(b"ok")


def get(path: str, *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


async def refused(server_address: dict[str, Any]) -> bool:
    try:
        stream = await trio.open_tcp_stream(server_address["address"], server_address["port"])
    except OSError:
        return True
    await stream.aclose()
    return False


# -- lifecycle (H1-091…H1-096, H1-103; DESIGN §4, §10, §11) ---------------------------


async def test_listen_returns_once_bound_with_nodes_address_shape(tcp):
    server = http.create_server(ok)
    assert server.listening is False
    assert server.address() is None
    with trio.fail_after(BOUND):
        async with server:
            assert await server.listen(0, "127.0.0.1") is server
            assert server.listening is True
            address = server.address()
            assert address == {"address": "127.0.0.1", "family": "IPv4", "port": address["port"]}
            assert isinstance(address["port"], int) and address["port"] > 0
            async with tcp(server) as client:  # bound: a connection succeeds at once
                await client.send(GET)
                assert await client.response() == OK
        assert server.listening is False


async def test_nursery_start_serve_returns_the_address_and_runs_until_closed(tcp):
    server = http.create_server(ok)
    with trio.fail_after(BOUND):
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve, 0, "127.0.0.1")
            assert address == server.address()
            assert address["address"] == "127.0.0.1" and address["port"] > 0
            assert server.listening
            async with tcp(server) as client:
                await client.send(GET)
                assert await client.response() == OK
            await server.close()  # serve() returns, so the nursery can end
        assert not server.listening


async def test_listen_without_the_servers_nursery_is_refused():
    with pytest.raises(RuntimeError, match="async with server"):
        await http.create_server(ok).listen(0, "127.0.0.1")


async def test_close_when_not_listening_raises_server_not_running():
    # DESIGN §11: close() on a server that is not listening raises ERR_SERVER_NOT_RUNNING.
    server = http.create_server(ok)
    with pytest.raises(ServerNotRunningError) as info:
        await server.close()
    assert info.value.code == "ERR_SERVER_NOT_RUNNING"
    assert str(info.value) == "Server is not running."
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            await server.close()
            with pytest.raises(ServerNotRunningError):
                await server.close()
        # ...but leaving `async with` after close() is fine (the implicit close tolerates it)


async def test_close_stops_listening_closes_idle_waits_for_in_flight(tcp):
    # H1-091, R1-056, DESIGN §11 "server.close()".
    release = trio.Event()
    entered = trio.Event()

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        if req.url == "/slow":
            entered.set()
            await release.wait()
        await res.end(b"ok")

    server = http.create_server(handler)
    closed: list[str] = []
    server.on("close", lambda: closed.append("close"))
    connections: list[Socket] = []
    all_connected = trio.Event()

    def on_connection(socket: Socket) -> None:
        connections.append(socket)
        if len(connections) == 3:
            all_connected.set()

    server.on("connection", on_connection)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            address = server.address()
            assert address is not None
            async with tcp(server) as idle, tcp(server) as silent, tcp(server) as busy:
                await idle.send(GET)
                assert await idle.response() == OK
                await busy.send(get("/slow"))
                await entered.wait()
                await all_connected.wait()  # `silent` is connected, never sends a byte
                close_done = trio.Event()

                async def close() -> None:
                    await server.close()
                    close_done.set()

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(close)
                    assert await idle.rest() == b""  # idle: closed at once
                    assert await silent.rest() == b""
                    assert server.listening is False
                    assert await refused(address)
                    assert not close_done.is_set()  # waits for the in-flight request
                    assert closed == []
                    release.set()
                    # the in-flight response carries Connection: close
                    assert await busy.response() == OK_CLOSE
                    assert await busy.rest() == b""
                assert close_done.is_set()
    assert closed == ["close"]


async def test_leaving_async_with_closes_the_server_and_emits_close(tcp):
    server = http.create_server(ok)
    closed: list[bool] = []
    server.on("close", lambda: closed.append(server.listening))
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(GET)
                assert await client.response() == OK
                address = server.address()
        assert await refused(address)
    assert closed == [False]


async def test_leaving_async_with_by_an_exception_closes_everything_at_once(tcp):
    # DESIGN §4: leaving by an exception cancels every connection; the
    # exception comes out of the server's nursery, in an ExceptionGroup.
    entered = trio.Event()
    cancelled: list[bool] = []

    async def forever(req: IncomingMessage, res: ServerResponse) -> None:
        entered.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled.append(True)
            raise

    server = http.create_server(forever)
    with trio.fail_after(BOUND):
        with pytest.raises(ExceptionGroup) as info:
            async with server:
                await server.listen(0, "127.0.0.1")
                async with tcp(server) as client:
                    await client.send(GET)
                    await entered.wait()
                    raise KeyError("boom")
    assert info.group_contains(KeyError, match="boom")
    assert cancelled == [True]
    assert not server.listening


async def test_close_idle_connections_leaves_in_flight_ones(tcp):
    # H1-093, R1-058
    release = trio.Event()
    entered = trio.Event()

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        if req.url == "/slow":
            entered.set()
            await release.wait()
        await ok(req, res)

    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as idle, tcp(server) as busy:
                await idle.send(GET)
                assert await idle.response() == OK
                await busy.send(get("/slow"))
                await entered.wait()
                assert server.close_idle_connections() is None  # plain method, no wait
                assert await idle.rest() == b""
                release.set()
                assert await busy.response() == OK  # still keep-alive
                await busy.send(GET)
                assert await busy.response() == OK
                assert server.listening


async def test_close_all_connections_closes_in_flight_ones_too(tcp):
    # H1-092, R1-057: active connections are closed without an answer.
    entered = trio.Event()
    cancelled: list[bool] = []

    async def forever(req: IncomingMessage, res: ServerResponse) -> None:
        entered.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled.append(True)
            raise

    server = http.create_server(forever)
    connections: list[Socket] = []
    server.on("connection", connections.append)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as idle, tcp(server) as busy:
                await busy.send(GET)
                await entered.wait()
                while len(connections) < 2:  # `idle` is accepted too
                    await trio.sleep(0.01)
                server.close_all_connections()
                assert await busy.rest() == b""
                assert await idle.rest() == b""
                assert server.listening
    assert cancelled == [True]


async def test_close_all_connections_spares_upgraded_sockets(tcp):
    # R1-057, R1-075: a socket handed to 'upgrade' is outside connection management.
    upgraded = trio.Event()

    async def on_upgrade(req: IncomingMessage, socket: Socket, head: bytes) -> None:
        await socket.send_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n")
        upgraded.set()
        while data := await socket.receive_some():
            await socket.send_all(data)

    server = http.create_server(ok)
    server.on("upgrade", on_upgrade)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/", "Connection: Upgrade", "Upgrade: echo"))
                await upgraded.wait()
                server.close_all_connections()
                await client.send(b"still here")
                assert (await client.until(b"still here")).endswith(b"\r\n\r\nstill here")


# -- events ----------------------------------------------------------------------------------


async def test_connection_event_gets_the_socket_with_nodes_attributes(tcp):
    # H1-086; DESIGN §10 (Socket attributes)
    sockets: list[Socket] = []
    requests: list[Any] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        requests.append(req.socket)
        await ok(req, res)

    server = http.create_server(handler)
    server.on("connection", sockets.append)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(GET + GET)
                assert await client.response() == OK
                assert await client.response() == OK
                local = client.stream.socket.getsockname()
                port = server.address()["port"]
    assert server.address() is None  # Node: null once closed
    [sock] = sockets
    assert isinstance(sock, Socket)
    assert isinstance(sock, trio.abc.HalfCloseableStream)
    assert requests == [sock, sock]  # R1-066: one socket, many requests
    assert sock.remote_address == "127.0.0.1"
    assert sock.remote_port == local[1]
    assert sock.remote_family == "IPv4"
    assert sock.local_address == "127.0.0.1"
    assert sock.local_port == port
    assert sock.encrypted is False
    assert sock.bytes_read == 2 * len(GET)
    assert sock.bytes_written == 2 * len(OK)
    assert sock.destroyed


async def test_request_event_fires_once_per_request_with_req_and_res(tcp):
    # H1-088, R1-066
    seen: list[tuple[str, str, str]] = []

    def listener(req: IncomingMessage, res: ServerResponse) -> None:
        assert res.req is req
        seen.append((req.method or "", req.url or "", req.http_version))

    server = http.create_server(ok)  # the handler is the first 'request' listener
    server.on("request", listener)
    assert server.listener_count("request") == 2
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/a") + b"DELETE /b?c=d HTTP/1.1\r\nHost: x\r\n\r\n")
                assert await client.response() == OK
                assert await client.response() == OK
    assert seen == [("GET", "/a", "1.1"), ("DELETE", "/b?c=d", "1.1")]


async def test_create_server_without_handler_takes_request_listeners_later(tcp):
    server = http.create_server()
    assert server.listener_count("request") == 0
    server.on("request", ok)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(GET)
                assert await client.response() == OK


async def test_unknown_create_server_option_is_a_type_error():
    with pytest.raises(TypeError):
        http.create_server(ok, keepAliveTimeout=5)


EXPECT_100 = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"


async def echo(req: IncomingMessage, res: ServerResponse) -> None:
    res.send_date = False
    await res.end(await req.read())


async def test_expect_100_continue_without_listener_is_answered_then_request(tcp):
    # R1-042: no 'checkContinue' listener -> 100 Continue sent, then 'request'.
    server = http.create_server(echo)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(EXPECT_100)
                assert await client.response() == b"HTTP/1.1 100 Continue\r\n\r\n"
                await client.send(b"body")
                assert await client.response() == OK.replace(b"2\r\n\r\nok", b"4\r\n\r\nbody")


async def test_check_continue_listener_replaces_request(tcp):
    # H1-079, R1-042: with a listener 'request' is not emitted; it decides.
    requests: list[Any] = []
    server = http.create_server(lambda req, res: requests.append(req))

    async def check(req: IncomingMessage, res: ServerResponse) -> None:
        if req.headers.get("x-allow") == "yes":
            await res.write_continue()
            await echo(req, res)
        else:
            res.send_date = False
            await res.write_head(417).end()

    server.on("checkContinue", check)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(EXPECT_100.replace(b"Host: x", b"Host: x\r\nX-Allow: yes"))
                assert await client.response() == b"HTTP/1.1 100 Continue\r\n\r\n"
                await client.send(b"body")
                assert (await client.response()).endswith(b"\r\n\r\nbody")
            async with tcp(server) as client:
                await client.send(EXPECT_100)
                refusal = await client.response()
                assert refusal.startswith(b"HTTP/1.1 417 Expectation Failed\r\n")
    assert requests == []


async def test_unknown_expectation_without_listener_gets_417(tcp, strip_date):
    # H1-080, R1-043
    server = http.create_server(ok)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/", "Expect: the-unexpected"))
                assert strip_date(await client.response()) == (  # as Node v20
                    b"HTTP/1.1 417 Expectation Failed\r\nConnection: keep-alive\r\n"
                    b"Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                )


async def test_check_expectation_listener_replaces_request(tcp):
    # H1-080, R1-043
    requests: list[Any] = []
    seen: list[str] = []
    server = http.create_server(lambda req, res: requests.append(req))

    async def check(req: IncomingMessage, res: ServerResponse) -> None:
        seen.append(req.headers["expect"])
        await ok(req, res)

    server.on("checkExpectation", check)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/", "Expect: the-unexpected"))
                assert await client.response() == OK
    assert seen == ["the-unexpected"]
    assert requests == []


async def test_client_error_listener_gets_err_and_socket_and_answers_raw(tcp):
    # H1-081…H1-083, R1-067, R1-070: no default answer; the listener writes its own.
    server = http.create_server(ok)
    seen: list[tuple[BaseException, Socket]] = []

    async def on_client_error(err: BaseException, socket: Socket) -> None:
        seen.append((err, socket))
        await socket.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        socket.destroy()

    server.on("clientError", on_client_error)
    packet = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(packet)
                assert await client.rest() == b"HTTP/1.1 400 Bad Request\r\n\r\n"
            async with tcp(server) as client:  # the server goes on serving others
                await client.send(GET)
                assert await client.response() == OK
    [(err, socket)] = seen
    assert isinstance(err, HttpParserError)
    assert err.code.startswith("HPE_")
    assert str(err).startswith("Parse Error: ")
    assert err.raw_packet == packet
    assert isinstance(err.bytes_parsed, int)
    assert 0 <= err.bytes_parsed <= len(packet)
    assert isinstance(socket, Socket)
    assert socket.destroyed


async def test_client_error_without_listener_is_a_fixed_400_and_close(tcp):
    # R1-068, R1-069
    requests: list[Any] = []
    server = http.create_server(lambda req, res: requests.append(req))
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
                assert (
                    await client.rest() == b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
                )
    assert requests == []


async def test_connect_listener_gets_req_socket_and_head(tcp):
    # H1-085, R1-071: the listener owns the socket; head holds what was already read.
    seen: list[tuple[str, str, bytes]] = []

    async def on_connect(req: IncomingMessage, socket: Socket, head: bytes) -> None:
        assert isinstance(socket, Socket)
        seen.append((req.method or "", req.url or "", head))
        await socket.send_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await socket.send_all(head.upper())
        while data := await socket.receive_some():
            await socket.send_all(data.upper())

    server = http.create_server(ok)
    server.on("connect", on_connect)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\nfirst")
                assert await client.until(b"FIRST") == (
                    b"HTTP/1.1 200 Connection Established\r\n\r\nFIRST"
                )
                await client.send(b"more")
                assert await client.until(b"MORE") == b"MORE"
                await client.stream.send_eof()
                assert await client.rest() == b""  # listener returned: socket closed
    assert seen == [("CONNECT", "example.com:443", b"first")]


async def test_connect_without_listener_closes_the_connection(tcp):
    # R1-071, DESIGN §11 "Upgrade routing"
    requests: list[Any] = []
    server = http.create_server(lambda req, res: requests.append(req))
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
                assert await client.rest() == b""
    assert requests == []


async def test_upgrade_listener_gets_req_socket_and_head(tcp):
    # H1-089, R1-072
    seen: list[tuple[str | None, bytes]] = []

    async def on_upgrade(req: IncomingMessage, socket: Socket, head: bytes) -> None:
        seen.append((req.headers.get("upgrade"), head))  # type: ignore[arg-type]
        await socket.send_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n")
        await socket.send_all(head)
        await socket.send_eof()  # a half-close: the client may still send
        assert await socket.receive_some() == b"last words"

    server = http.create_server(ok)
    server.on("upgrade", on_upgrade)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(
                    get("/", "Connection: keep-alive, Upgrade", "Upgrade: echo") + b"hd"
                )
                assert await client.rest() == (
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\nhd"
                )
                await client.send(b"last words")
    assert seen == [("echo", b"hd")]


async def test_upgrade_without_listener_is_an_ordinary_request(tcp):
    # R1-072: clients cannot insist on a protocol change; the socket is not destroyed.
    server = http.create_server(ok)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/", "Connection: Upgrade", "Upgrade: echo"))
                assert await client.response() == OK
                await client.send(GET)
                assert await client.response() == OK


async def test_upgrade_header_without_connection_upgrade_goes_to_request(tcp):
    # DESIGN §11: 'upgrade' needs both the Upgrade header and the token in Connection.
    upgrades: list[Any] = []
    server = http.create_server(ok)
    server.on("upgrade", lambda req, sock, head: upgrades.append(req))
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/", "Upgrade: echo"))
                assert await client.response() == OK
    assert upgrades == []


async def test_drop_request_event_replaces_request_past_max_requests(tcp, strip_date):
    # H1-087, R1-055
    server = http.create_server(ok, max_requests_per_socket=1)
    dropped: list[tuple[str, Socket]] = []
    server.on("dropRequest", lambda req, sock: dropped.append((req.url, sock)))
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/1") + get("/2"))
                assert await client.response() == OK_CLOSE
                assert strip_date(await client.response()) == (
                    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                )
    [(url, sock)] = dropped
    assert url == "/2"
    assert isinstance(sock, Socket)


async def test_timeout_event_gets_the_socket(tcp):
    # H1-090, H1-099, R1-050 (virtual-time details: test_timeouts.py)
    timed_out: list[Socket] = []

    def on_timeout(sock: Socket) -> None:
        timed_out.append(sock)
        sock.destroy()

    server = http.create_server(ok, timeout=0.05)
    server.on("timeout", on_timeout)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                assert await client.rest() == b""
    [sock] = timed_out
    assert isinstance(sock, Socket)
    assert sock.destroyed


# -- handlers -------------------------------------------------------------------------


async def test_handler_exception_is_logged_answered_500_and_server_goes_on(tcp, caplog, strip_date):
    # DESIGN §4: logged to 'trio_nodehttp', 500 if nothing was sent, connection closed.
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        if req.url == "/boom":
            raise ZeroDivisionError("kaput")
        await ok(req, res)

    server = http.create_server(handler)
    with trio.fail_after(BOUND), caplog.at_level(logging.ERROR, logger="trio_nodehttp"):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/boom") + GET)  # the pipelined GET is not served
                assert strip_date(await client.rest()) == (
                    b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
            async with tcp(server) as client:
                await client.send(GET)
                assert await client.response() == OK
    [record] = [r for r in caplog.records if r.name == "trio_nodehttp"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], ZeroDivisionError)
    assert "/boom" in record.getMessage()


async def test_handler_exception_after_the_head_closes_without_500(tcp, caplog):
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        await res.write(b"part")
        raise ZeroDivisionError("kaput")

    server = http.create_server(handler)
    with trio.fail_after(BOUND), caplog.at_level(logging.ERROR, logger="trio_nodehttp"):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(GET)
                assert await client.rest() == (
                    b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n4\r\npart\r\n"
                )
    assert len([r for r in caplog.records if r.name == "trio_nodehttp"]) == 1


async def test_handler_returning_without_end_is_ended_by_the_server(tcp):
    # DESIGN §11: as if the handler had called end() with no more body.
    async def silent(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        res.status_code = 204 if req.url == "/none" else 200
        if req.url == "/some":
            await res.write(b"some")

    server = http.create_server(silent)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/") + get("/some") + get("/none"))
                assert await client.response() == (
                    b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
                assert await client.response() == (
                    b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n4\r\nsome\r\n0\r\n\r\n"
                )
                assert await client.response() == (
                    b"HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n"
                    b"Keep-Alive: timeout=5\r\n\r\n"
                )


async def test_sync_and_async_handlers_both_work(tcp):
    def sync_listener(req: IncomingMessage, res: ServerResponse) -> None:
        res.set_header("x-sync", "1")

    server = http.create_server()
    server.on("request", sync_listener)
    server.on("request", ok)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(GET)
                assert (await client.response()).startswith(b"HTTP/1.1 200 OK\r\nx-sync: 1\r\n")


async def test_pipelined_requests_are_answered_in_order(tcp):
    # DESIGN §11 "Where listeners run": one request at a time, in arrival order.
    order: list[str] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        order.append(f"start {req.url}")
        if req.url == "/a":
            await trio.sleep(0.05)  # the slow first one still answers first
        res.send_date = False
        body = await req.read()
        await res.end(f"{req.url}:{body.decode()}".encode())
        order.append(f"end {req.url}")

    server = http.create_server(handler)
    burst = (
        get("/a")
        + b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
        + b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
    )
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(burst)
                bodies = [(await client.response()).split(b"\r\n\r\n", 1)[1] for _ in range(3)]
    assert bodies == [b"/a:", b"/b:xyz", b"/c:hi"]
    assert order == ["start /a", "end /a", "start /b", "end /b", "start /c", "end /c"]


async def test_http_1_0_without_keep_alive_is_answered_and_closed(tcp):
    versions: list[str] = []

    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        versions.append(req.http_version)
        res.send_date = False
        await res.write(b"streamed")  # no Content-Length: close-delimited, never chunked
        await res.end()

    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(b"GET / HTTP/1.0\r\n\r\n")
                assert await client.rest() == (
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed"
                )
    assert versions == ["1.0"]


async def test_http_1_0_with_keep_alive_stays_open_when_the_length_is_known(tcp):
    # Node's rule (llhttp + _storeHeader): HTTP/1.0 keeps the connection only with
    # Connection: keep-alive AND an explicit Content-Length; otherwise the body
    # is close-delimited, as Node v20 answers.
    async def handler(req: IncomingMessage, res: ServerResponse) -> None:
        res.send_date = False
        if req.url == "/known":
            res.set_header("Content-Length", 2)
        await res.end(b"ok")

    keep_alive = b"Connection: keep-alive\r\n"
    server = http.create_server(handler)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                for _ in range(2):
                    await client.send(b"GET /known HTTP/1.0\r\n" + keep_alive + b"\r\n")
                    assert await client.response() == (
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n"
                        b"Keep-Alive: timeout=5\r\n\r\nok"
                    )
                await client.send(b"GET / HTTP/1.0\r\n" + keep_alive + b"\r\n")
                assert await client.rest() == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok"


async def test_http_1_1_connection_close_is_honoured(tcp):
    server = http.create_server(ok)
    with trio.fail_after(BOUND):
        async with server:
            await server.listen(0, "127.0.0.1")
            async with tcp(server) as client:
                await client.send(get("/", "Connection: close") + GET)
                assert await client.rest() == OK_CLOSE


# -- the Socket is a trio stream (PEERS lesson 8) ---------------------------------


async def _socket_pair() -> tuple[Socket, Socket]:
    left, right = trio.socket.socketpair()
    return Socket(trio.SocketStream(left)), Socket(trio.SocketStream(right))


async def _fill(stream: Socket) -> None:
    async def sender() -> None:
        while True:
            await stream.send_all(b"x" * 10000)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()


async def _clogged_socket_pair() -> tuple[Socket, Socket]:
    """As trio's own SocketStream tests: both send buffers are full."""
    left, right = await _socket_pair()
    await _fill(left)
    await _fill(right)
    return left, right


async def test_socket_passes_trios_half_closeable_stream_checks():
    with trio.fail_after(BOUND):
        await trio.testing.check_half_closeable_stream(_socket_pair, _clogged_socket_pair)


async def test_socket_counts_bytes_and_destroy_is_idempotent():
    left, right = await _socket_pair()
    with trio.fail_after(BOUND):
        await left.send_all(b"12345")
        assert await right.receive_some(10) == b"12345"
    assert (left.bytes_written, right.bytes_read) == (5, 5)
    assert left.destroy() is left
    assert left.destroy() is left
    assert left.destroyed and not left.writable and not left.readable
    with pytest.raises(trio.ClosedResourceError):
        await left.send_all(b"x")
    await right.aclose()
