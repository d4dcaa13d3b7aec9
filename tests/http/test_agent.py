"""``http.Agent``: pooling, limits, scheduling, expiry, hooks (H1-002…H1-029, R1-105…R1-120).

Everything runs against real loopback sockets: this package's server, or a
scripted h11 server (``RawServer``) where the test needs the server to
misbehave at a chosen moment (the keep-alive race of PEERS lesson 3).
Expiry tests run on ``MockClock`` (``rate=1`` so that ``fail_after`` still
bounds them; the clock is jumped explicitly).
"""

from __future__ import annotations

import math
import os
import socket as _stdlib_socket
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
from _agent_helpers import (
    Gate,
    base_url,
    fetch,
    origin_name,
    raw_server,
    serve,
    wait_until,
)

from trio_nodehttp import errors, http
from trio_nodehttp._h1.agent import ClientConnection

# -- construction, names, views -------------------------------------------------


async def test_defaults_match_node() -> None:
    # H1-004…H1-010, H1-022…H1-024
    with trio.fail_after(5):
        agent = http.Agent()
        assert agent.keep_alive is False
        assert agent.keep_alive_initial_delay == 1.0
        assert agent.max_sockets == math.inf
        assert agent.max_total_sockets == math.inf
        assert agent.max_free_sockets == 256
        assert agent.scheduling == "lifo"
        assert agent.timeout is None
        assert agent.default_port == 80
        assert agent.sockets == {} and agent.free_sockets == {} and agent.requests == {}
        with pytest.raises(errors.InvalidArgValueError):
            http.Agent(scheduling="random")
        with pytest.raises(TypeError):
            http.Agent(keepAlive=True)
        await agent.close()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "localhost::"),
        ({"host": "localhost", "port": 80}, "localhost:80:"),
        ({"port": 80}, "localhost:80:"),
        ({"host": "example.com"}, "example.com::"),
        (
            {"host": "127.0.0.1", "port": 8080, "local_address": "127.0.0.2"},
            "127.0.0.1:8080:127.0.0.2",
        ),
        ({"host": "::1", "port": 443, "family": 6}, "::1:443::6"),
        ({"host": "a", "port": 1, "family": 4}, "a:1::4"),
        ({"host": "a", "port": 1, "family": 5}, "a:1:"),
        ({"socket_path": "/tmp/s.sock"}, "localhost:::/tmp/s.sock"),
        ({"host": "a", "port": 2, "family": 4, "socket_path": "/s"}, "a:2::4:/s"),
    ],
)
def test_get_name_node_format(options: dict[str, Any], expected: str) -> None:
    # H1-017…H1-021, R1-115
    assert http.Agent().get_name(**options) == expected


async def test_views_are_keyed_by_name_and_are_copies() -> None:
    # H1-016, H1-025, H1-026, R1-118
    gate = Gate()
    gate.hold("/slow")
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=True, max_sockets=1) as agent:
            name = origin_name(server)
            url = base_url(server)
            results: list[bytes] = []

            async def run(path: str) -> None:
                results.append((await fetch(url + path, agent=agent))[1])

            async with trio.open_nursery() as nursery:
                nursery.start_soon(run, "/slow")
                await wait_until(lambda: gate.arrived("/slow") == 1)
                nursery.start_soon(run, "/next")
                await wait_until(lambda: bool(agent.requests))
                sockets, requests = agent.sockets, agent.requests
                assert list(sockets) == [name] and len(sockets[name]) == 1
                assert isinstance(sockets[name][0], http.Socket)
                assert list(requests) == [name] and len(requests[name]) == 1
                assert isinstance(requests[name][0], http.ClientRequest)
                assert requests[name][0].path == "/next"
                sockets[name].clear()
                requests.clear()
                assert len(agent.sockets[name]) == 1 and len(agent.requests[name]) == 1
                gate.release("/slow")
            assert sorted(results) == [b"ok /next ", b"ok /slow "]
            assert agent.sockets == {} and agent.requests == {}
            assert list(agent.free_sockets) == [name]


# -- keep_alive, pooling and R1-111 -----------------------------------------------


async def test_keep_alive_agent_pools_and_reuses_one_socket() -> None:
    # H1-004, R1-105, H1-014 (reused_socket)
    gate = Gate()
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=True) as agent:
            url = base_url(server)
            first, body = await fetch(url + "/1", agent=agent)
            assert body == b"ok /1 "
            assert first.reused_socket is False
            pooled = agent.free_sockets[origin_name(server)]
            assert pooled == [first.socket] and not first.socket.destroyed
            second, _ = await fetch(url + "/2", agent=agent)
            assert second.reused_socket is True
            assert second.socket is first.socket
            assert len(set(gate.peers)) == 1
            assert agent.total_socket_count == 1


async def test_default_agent_closes_after_each_request() -> None:
    # H1-004 (keepAlive false), R1-105
    gate = Gate()
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent() as agent:
            url = base_url(server)
            first, _ = await fetch(url + "/1", agent=agent)
            assert agent.free_sockets == {} and agent.sockets == {}
            assert first.socket.destroyed
            second, _ = await fetch(url + "/2", agent=agent)
            assert second.reused_socket is False and second.socket is not first.socket
            assert len(set(gate.peers)) == 2
            await wait_until(lambda: len(server._connections) == 0)


async def test_keep_alive_initial_delay_sets_tcp_keepalive() -> None:
    # H1-005, H1-013, R1-106, R1-112: SO_KEEPALIVE + TCP_KEEPIDLE on pooled sockets
    seen_before: list[int] = []
    with trio.fail_after(5):
        async with (
            serve(Gate()) as server,
            http.Agent(keep_alive=True, keep_alive_initial_delay=7.0) as agent,
        ):
            req = http.request(base_url(server), agent=agent)
            # 'socket' fires before the socket connects (R1-081): look once it has.
            req.on(
                "socket",
                lambda s: s.once(
                    "connect",
                    lambda: seen_before.append(
                        s._sock.getsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE)
                    ),
                ),
            )
            await req.end()
            await (await req.response()).read()
            assert seen_before == [0]
            sock = agent.free_sockets[origin_name(server)][0]._sock
            assert sock.getsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE) == 1
            if hasattr(_stdlib_socket, "TCP_KEEPIDLE"):
                assert sock.getsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_KEEPIDLE) == 7


@pytest.mark.parametrize(
    ("make_options", "expected"),
    [
        (lambda: {"agent": http.Agent()}, "close"),
        (lambda: {"agent": False}, "close"),
        (lambda: {"agent": http.Agent(keep_alive=True)}, "keep-alive"),
        (lambda: {"agent": http.Agent(max_sockets=4)}, "keep-alive"),
        (lambda: {}, "keep-alive"),
        (lambda: {"agent": http.Agent(), "headers": {"Connection": "keep-alive"}}, "keep-alive"),
        (
            lambda: {"agent": http.Agent(keep_alive=True), "headers": {"connection": "close"}},
            "close",
        ),
    ],
    ids=[
        "default",
        "agent-false",
        "keep-alive",
        "finite-max-sockets",
        "global",
        "user-ka",
        "user-close",
    ],
)
async def test_connection_header_rule(make_options: Any, expected: str) -> None:
    # R1-111, R1-120 (agent: False is a default Agent)
    gate = Gate()
    with trio.fail_after(5):
        async with serve(gate) as server:
            options = make_options()
            req, _ = await fetch(base_url(server) + "/", **options)
            assert gate.seen[0][2]["connection"] == expected
            if isinstance(req.agent, http.Agent):
                await req.agent.close()


# -- limits -------------------------------------------------------------------------


@pytest.mark.parametrize("keep_alive", [True, False])
async def test_max_sockets_queues_extra_requests(keep_alive: bool) -> None:
    # H1-006, H1-023, R1-108: at most max_sockets per origin; the rest wait in
    # agent.requests and proceed as sockets free (handed on, R1-105).
    gate = Gate()
    for n in range(4):
        gate.hold(f"/{n}")
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=keep_alive, max_sockets=2) as agent:
            url, name = base_url(server), origin_name(server)
            bodies: dict[int, bytes] = {}
            reqs: dict[int, Any] = {}

            async def run(n: int) -> None:
                reqs[n], bodies[n] = await fetch(f"{url}/{n}", agent=agent)

            async with trio.open_nursery() as nursery:
                # one at a time, so that the order of arrival is known
                nursery.start_soon(run, 0)
                await wait_until(lambda: len(gate.seen) == 1)
                nursery.start_soon(run, 1)
                await wait_until(lambda: len(gate.seen) == 2)
                nursery.start_soon(run, 2)
                await wait_until(lambda: len(agent.requests.get(name, ())) == 1)
                nursery.start_soon(run, 3)
                await wait_until(lambda: len(agent.requests.get(name, ())) == 2)
                await trio.sleep(0.02)
                assert len(gate.seen) == 2
                assert len(agent.sockets[name]) == 2
                assert [r.path for r in agent.requests[name]] == ["/2", "/3"]
                gate.release("/0")
                await wait_until(lambda: len(gate.seen) == 3)
                assert [r.path for r in agent.requests[name]] == ["/3"]
                for n in (1, 2, 3):
                    gate.release(f"/{n}")
            assert bodies == {n: f"ok /{n} ".encode() for n in range(4)}
            assert gate.max_in_flight == 2
            assert len(set(gate.peers)) == 2, "queued requests reuse the freed sockets"
            assert reqs[2].reused_socket and reqs[3].reused_socket
            assert agent.sockets == {} and agent.requests == {}
            if keep_alive:
                assert len(agent.free_sockets[name]) == 2
            else:
                assert agent.free_sockets == {}
                await wait_until(lambda: len(server._connections) == 0)


async def test_max_total_sockets_across_origins() -> None:
    # H1-007, H1-024, R1-109: one socket in all; the other origin waits, and an idle
    # socket of one origin is given up for a request of another.
    gate_a, gate_b = Gate(), Gate()
    gate_a.hold("/a")
    with trio.fail_after(5):
        async with (
            serve(gate_a) as server_a,
            serve(gate_b) as server_b,
            http.Agent(keep_alive=True, max_total_sockets=1) as agent,
        ):
            name_a, name_b = origin_name(server_a), origin_name(server_b)
            got: list[bytes] = []

            async def run(url: str) -> None:
                got.append((await fetch(url, agent=agent))[1])

            async with trio.open_nursery() as nursery:
                nursery.start_soon(run, base_url(server_a) + "/a")
                await wait_until(lambda: gate_a.arrived("/a") == 1)
                nursery.start_soon(run, base_url(server_b) + "/b")
                await wait_until(lambda: bool(agent.requests))
                assert list(agent.requests) == [name_b]
                assert list(agent.sockets) == [name_a]
                await trio.sleep(0.02)
                assert gate_b.seen == []
                gate_a.release("/a")
            assert sorted(got) == [b"ok /a ", b"ok /b "]
            assert agent.total_socket_count == 1
            assert list(agent.free_sockets) == [name_b]
            await wait_until(lambda: len(server_a._connections) == 0)
            # and back: the idle socket of b makes room for a new one to a
            _, body = await fetch(base_url(server_a) + "/again", agent=agent)
            assert body == b"ok /again "
            assert list(agent.free_sockets) == [name_a]
            await wait_until(lambda: len(server_b._connections) == 0)


async def test_max_free_sockets() -> None:
    # H1-008, H1-022, R1-110: sockets beyond max_free_sockets are closed, not pooled
    gate = Gate()
    for n in range(3):
        gate.hold(f"/{n}")
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=True, max_free_sockets=1) as agent:
            url, name = base_url(server), origin_name(server)
            reqs: list[Any] = []

            async def run(n: int) -> None:
                reqs.append((await fetch(f"{url}/{n}", agent=agent))[0])

            async with trio.open_nursery() as nursery:
                for n in range(3):
                    nursery.start_soon(run, n)
                await wait_until(lambda: len(gate.seen) == 3)
                for n in range(3):
                    gate.release(f"/{n}")
            assert len(agent.free_sockets[name]) == 1
            assert agent.total_socket_count == 1
            assert sum(r.socket.destroyed for r in reqs) == 2
            await wait_until(lambda: len(server._connections) == 1)


@pytest.mark.parametrize(("scheduling", "expected"), [("lifo", "/b"), ("fifo", "/a")])
async def test_scheduling_picks_most_or_least_recently_used(scheduling: str, expected: str) -> None:
    # H1-009, R1-113: lifo (default) takes the socket freed last, fifo the one freed first
    gate = Gate()
    gate.hold("/a")
    gate.hold("/b")
    with trio.fail_after(5):
        async with (
            serve(gate) as server,
            http.Agent(keep_alive=True, scheduling=scheduling) as agent,
        ):
            url, name = base_url(server), origin_name(server)
            reqs: dict[str, Any] = {}
            done = {"/a": trio.Event(), "/b": trio.Event()}

            async def run(path: str) -> None:
                reqs[path], _ = await fetch(url + path, agent=agent)
                done[path].set()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(run, "/a")
                nursery.start_soon(run, "/b")
                await wait_until(lambda: len(gate.seen) == 2)
                gate.release("/a")
                await done["/a"].wait()
                gate.release("/b")
            assert reqs["/a"].socket is not reqs["/b"].socket
            assert agent.free_sockets[name] == [reqs["/a"].socket, reqs["/b"].socket]
            nxt, _ = await fetch(url + "/c", agent=agent)
            assert nxt.reused_socket
            assert nxt.socket is reqs[expected].socket
            assert nxt.socket.local_port == reqs[expected].socket.local_port


# -- expiry: agent timeout and the server's Keep-Alive hint (MockClock) -------------


async def test_agent_timeout_expires_idle_sockets(mock_clock: trio.testing.MockClock) -> None:
    # H1-010, H1-016, R1-114: a free socket idle longer than `timeout` is destroyed and
    # not reused; the idle time counts from the socket's latest release.
    mock_clock.rate = 1.0
    gate = Gate()
    with trio.fail_after(30):
        async with (
            serve(gate, keep_alive_timeout=0.0) as server,
            http.Agent(keep_alive=True, timeout=5.0) as agent,
        ):
            url, name = base_url(server), origin_name(server)
            first, _ = await fetch(url, agent=agent)
            assert first.timeout == 5.0
            mock_clock.jump(4.0)
            second, _ = await fetch(url, agent=agent)
            assert second.reused_socket and second.socket is first.socket
            mock_clock.jump(4.0)
            third, _ = await fetch(url, agent=agent)
            assert third.reused_socket and third.socket is first.socket, "idle only 4 s"
            mock_clock.jump(5.5)
            fourth, _ = await fetch(url, agent=agent)
            assert not fourth.reused_socket
            assert first.socket.destroyed
            assert agent.free_sockets[name] == [fourth.socket]
            assert len(set(gate.peers)) == 2


@pytest.mark.parametrize("timeout", [2, 3, 10])
async def test_keep_alive_hint_expires_one_second_early(
    mock_clock: trio.testing.MockClock, timeout: int
) -> None:
    # Issue item 4, PEERS lesson 3: `Keep-Alive: timeout=N` → expire at N - 1 s
    mock_clock.rate = 1.0
    gate = Gate()
    with trio.fail_after(40):
        async with (
            serve(gate, keep_alive_timeout=float(timeout)) as server,
            http.Agent(keep_alive=True) as agent,
        ):
            url = base_url(server)
            first, _ = await fetch(url, agent=agent)
            assert first._res.headers["keep-alive"] == f"timeout={timeout}"
            mock_clock.jump(timeout - 1 - 0.5)
            second, _ = await fetch(url, agent=agent)
            assert second.reused_socket and second.socket is first.socket
            mock_clock.jump(timeout - 1 - 0.5)
            third, _ = await fetch(url, agent=agent)
            assert third.reused_socket, "each response renews the hint"
            mock_clock.jump(timeout - 1 + 0.01)
            fourth, _ = await fetch(url, agent=agent)
            assert not fourth.reused_socket
            assert first.socket.destroyed
            assert len(set(gate.peers)) == 2


@pytest.mark.parametrize("hint", ["timeout=1", "timeout=0", "timeout=0, max=5"])
async def test_keep_alive_hint_of_one_second_or_less_is_not_pooled(hint: str) -> None:
    async def handler(req: Any, res: Any) -> None:
        res.set_header("Keep-Alive", hint)
        await res.end(b"x")

    with trio.fail_after(5):
        async with serve(handler) as server, http.Agent(keep_alive=True) as agent:
            req, body = await fetch(base_url(server), agent=agent)
            assert body == b"x"
            res_headers = req._res.headers
            assert res_headers["keep-alive"] == hint
            assert agent.free_sockets == {} and agent.total_socket_count == 0
            assert req.socket.destroyed
            await wait_until(lambda: len(server._connections) == 0)


async def test_global_agent_timeout_applies_to_pooled_sockets(
    mock_clock: trio.testing.MockClock,
) -> None:
    # R1-119: the global agent's 5 s timeout beats a longer server hint
    mock_clock.rate = 1.0
    with trio.fail_after(30):
        async with serve(Gate(), keep_alive_timeout=60.0) as server:
            url = base_url(server)
            first, _ = await fetch(url)
            assert first.agent is http.global_agent
            mock_clock.jump(4.5)
            second, _ = await fetch(url)
            assert second.reused_socket
            mock_clock.jump(5.5)
            third, _ = await fetch(url)
            assert not third.reused_socket
            await http.global_agent.close()


# -- the keep-alive race: idle sockets the server closed ----------------------------


async def test_socket_closed_by_server_while_idle_is_not_reused() -> None:
    # R1-106, PEERS lesson 3: the server closes idle connections; the next request
    # takes a new socket and succeeds; nothing is sent twice.
    gate = Gate()
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=True) as agent:
            url, name = base_url(server), origin_name(server)
            first, _ = await fetch(url + "/1", agent=agent)
            conn = first.socket._conn
            assert isinstance(conn, ClientConnection)
            assert not conn.readable_or_closed()
            await wait_until(lambda: all(c.idle for c in server._connections))
            server.close_idle_connections()
            await wait_until(lambda: len(server._connections) == 0)
            await wait_until(conn.readable_or_closed)
            assert agent.free_sockets[name] == [first.socket]
            second, body = await fetch(url + "/2", agent=agent)
            assert body == b"ok /2 "
            assert not second.reused_socket and second.socket is not first.socket
            assert first.socket.destroyed
            assert [p for _, p, _, _ in gate.seen] == ["/1", "/2"]


async def test_idle_check_works_for_descriptors_above_1024() -> None:
    # the readability probe must not depend on select()'s FD_SETSIZE: a process with
    # many open files still reuses its pooled sockets, and still drops closed ones
    fillers: list[int] = []
    try:
        while not fillers or fillers[-1] < 1100:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        gate = Gate()
        with trio.fail_after(5):
            async with serve(gate) as server, http.Agent(keep_alive=True) as agent:
                url = base_url(server)
                first, _ = await fetch(url + "/1", agent=agent)
                assert first.socket._sock.fileno() > 1024
                second, _ = await fetch(url + "/2", agent=agent)
                assert second.reused_socket and second.socket is first.socket
                conn = second.socket._conn
                await wait_until(lambda: all(c.idle for c in server._connections))
                server.close_idle_connections()
                await wait_until(conn.readable_or_closed)
                third, _ = await fetch(url + "/3", agent=agent)
                assert not third.reused_socket
    finally:
        for fd in fillers:
            os.close(fd)


async def test_raw_server_closing_after_each_response() -> None:
    # R1-106: a server that answers keep-alive but closes each connection right
    # after the response: every request gets a new socket, none is lost or repeated.
    with trio.fail_after(5):
        async with (
            raw_server(lambda c, n, r: "respond-close") as server,
            http.Agent(keep_alive=True) as agent,
        ):
            url = f"http://127.0.0.1:{server.port}"
            reqs: list[Any] = []
            for n in range(3):
                req, body = await fetch(f"{url}/{n}", agent=agent)
                assert body == f"raw /{n} ".encode()
                assert not req.reused_socket
                reqs.append(req)
                await wait_until(lambda: server.open == 0)
            assert server.connections == 3
            assert [(c, n, m) for c, n, m, _ in server.requests] == [
                (0, 0, "GET"),
                (1, 0, "GET"),
                (2, 0, "GET"),
            ]
            # the sockets the server closed were dropped when the next request looked
            assert all(r.socket.destroyed for r in reqs[:2])


async def test_idempotent_request_is_retried_once_on_a_reused_socket() -> None:
    # Issue item 4 / X1-18: the server drops the connection when the second request
    # arrives on it (the race no readability check can see): a GET is replayed on
    # a new socket, once.
    with trio.fail_after(5):
        async with (
            raw_server(lambda c, n, r: "drop" if n == 1 else "respond") as server,
            http.Agent(keep_alive=True) as agent,
        ):
            url = f"http://127.0.0.1:{server.port}"
            first, _ = await fetch(url + "/1", agent=agent)
            req, body = await fetch(url + "/2", agent=agent)
            assert body == b"raw /2 "
            assert req.socket is not first.socket
            assert [(c, n, m) for c, n, m, _ in server.requests] == [
                (0, 0, "GET"),
                (0, 1, "GET"),
                (1, 0, "GET"),
            ]
            assert agent.sockets == {} and len(agent.free_sockets) == 1


async def test_non_idempotent_request_is_not_retried() -> None:
    # X1-18: a POST on a reused socket that the server drops fails with ECONNRESET
    # and req.reused_socket True; the server saw it once.
    with trio.fail_after(5):
        async with (
            raw_server(lambda c, n, r: "drop" if n == 1 else "respond") as server,
            http.Agent(keep_alive=True) as agent,
        ):
            url = f"http://127.0.0.1:{server.port}"
            await fetch(url + "/1", agent=agent)
            req = http.request(url + "/post", method="POST", agent=agent)
            errors_seen: list[BaseException] = []
            req.on("error", errors_seen.append)
            await req.end(b"body")
            with pytest.raises(errors.ConnResetError) as info:
                await req.response()
            assert info.value.code == "ECONNRESET"
            assert str(info.value) == "socket hang up"
            assert req.reused_socket is True
            assert errors_seen == [info.value]
            assert [(n, m, b) for _, n, m, b in server.requests] == [
                (0, "GET", b""),
                (1, "POST", b"body"),
            ]
            assert agent.sockets == {} and agent.free_sockets == {}


async def test_large_idempotent_body_is_not_kept_for_a_replay() -> None:
    # A PUT is idempotent, but its 100 KiB body was streamed, not kept (the replay
    # buffer holds at most 64 KiB): the failure surfaces instead of a replay.
    with trio.fail_after(5):
        async with (
            raw_server(lambda c, n, r: "drop" if n == 1 else "respond") as server,
            http.Agent(keep_alive=True) as agent,
        ):
            url = f"http://127.0.0.1:{server.port}"
            await fetch(url + "/1", agent=agent)
            req = http.request(url + "/put", method="PUT", agent=agent)
            await req.end(b"x" * 100_000)
            with pytest.raises(errors.ConnResetError, match="socket hang up"):
                await req.response()
            assert req.reused_socket is True
            assert len(server.requests) == 2  # seen once, never replayed


async def test_retry_happens_only_once() -> None:
    # the replay itself is dropped too: the error surfaces, nothing more is sent
    def decide(conn: int, n: int, req: Any) -> Any:
        return "respond" if (conn, n) == (0, 0) else "drop"

    with trio.fail_after(5):
        async with raw_server(decide) as server, http.Agent(keep_alive=True) as agent:
            url = f"http://127.0.0.1:{server.port}"
            await fetch(url + "/1", agent=agent)
            req = http.request(url + "/2", agent=agent)
            await req.end()
            with pytest.raises(errors.ConnResetError, match="socket hang up"):
                await req.response()
            assert len(server.requests) == 3
            assert agent.sockets == {} and agent.free_sockets == {} and agent.requests == {}


async def test_no_retry_once_response_bytes_arrived() -> None:
    # something was consumed (half a status line): no replay
    with trio.fail_after(5):
        async with (
            raw_server(lambda c, n, r: "partial" if n == 1 else "respond") as server,
            http.Agent(keep_alive=True) as agent,
        ):
            url = f"http://127.0.0.1:{server.port}"
            await fetch(url + "/1", agent=agent)
            req = http.request(url + "/2", agent=agent)
            await req.end()
            with pytest.raises(errors.ConnResetError):
                await req.response()
            assert len(server.requests) == 2
            assert agent.total_socket_count == 0


# -- hooks (H1-012…H1-014) -------------------------------------------------------------


class CountingAgent(http.Agent):
    """create_connection / keep_socket_alive / reuse_socket overridden and recorded."""

    def __init__(self, *, pool: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.pool = pool
        self.created: list[dict[str, Any]] = []
        self.kept: list[http.Socket] = []
        self.reused: list[tuple[http.Socket, Any]] = []

    async def create_connection(self, options: dict[str, Any]) -> trio.abc.Stream:
        self.created.append(dict(options))
        return await super().create_connection(options)

    def keep_socket_alive(self, socket: http.Socket) -> bool:
        self.kept.append(socket)
        return self.pool and super().keep_socket_alive(socket)

    def reuse_socket(self, socket: http.Socket, request: Any) -> None:
        self.reused.append((socket, request))
        super().reuse_socket(socket, request)


async def test_hooks_are_called() -> None:
    # H1-012 (create_connection gets the connect options), H1-013, H1-014
    with trio.fail_after(5):
        async with serve(Gate()) as server, CountingAgent(keep_alive=True) as agent:
            url = base_url(server)
            first, _ = await fetch(url + "/1", agent=agent)
            assert len(agent.created) == 1
            created = agent.created[0]
            assert created["host"] == "127.0.0.1" and created["port"] == server.address()["port"]
            assert agent.kept == [first.socket]
            assert agent.reused == []
            second, _ = await fetch(url + "/2", agent=agent)
            assert len(agent.created) == 1
            assert agent.reused == [(first.socket, second)]
            assert agent.kept == [first.socket, first.socket]


async def test_keep_socket_alive_false_destroys_the_socket() -> None:
    # H1-013, R1-116: a falsy return destroys the socket instead of pooling it
    with trio.fail_after(5):
        async with serve(Gate()) as server, CountingAgent(keep_alive=True, pool=False) as agent:
            url = base_url(server)
            first, _ = await fetch(url, agent=agent)
            assert agent.kept == [first.socket]
            assert agent.free_sockets == {} and agent.total_socket_count == 0
            assert first.socket.destroyed
            await wait_until(lambda: len(server._connections) == 0)
            second, _ = await fetch(url, agent=agent)
            assert not second.reused_socket and len(agent.created) == 2


async def test_failing_keep_socket_alive_hook_closes_the_socket() -> None:
    # lesson 4: a hook that raises leaves the socket neither pooled nor leaked
    class Failing(http.Agent):
        def keep_socket_alive(self, socket: http.Socket) -> bool:
            raise RuntimeError("hook failed")

    with trio.fail_after(5):
        async with serve(Gate()) as server, Failing(keep_alive=True) as agent:
            req = http.request(base_url(server), agent=agent)
            await req.end()
            res = await req.response()
            with pytest.raises(RuntimeError, match="hook failed"):
                await res.read()
            assert req.socket.destroyed
            assert agent.sockets == {} and agent.free_sockets == {}
            assert agent.total_socket_count == 0
            await wait_until(lambda: len(server._connections) == 0)


class MemoryAgent(http.Agent):
    """A transport without an OS socket: an in-memory stream served by the server."""

    def __init__(self, server: Any, nursery: trio.Nursery, **options: Any) -> None:
        super().__init__(**options)
        self.server = server
        self.nursery = nursery
        self.streams: list[trio.abc.Stream] = []

    async def create_connection(self, options: dict[str, Any]) -> trio.abc.Stream:
        client, server_end = trio.testing.memory_stream_pair()
        self.nursery.start_soon(self.server.serve_connection, server_end)
        self.streams.append(client)
        await trio.lowlevel.checkpoint()
        return client


@pytest.mark.parametrize("pool", [True, False])
async def test_create_connection_with_a_memory_transport(pool: bool) -> None:
    # H1-012: any trio stream works; without an OS socket every close is still real
    gate = Gate()
    with trio.fail_after(5):
        async with serve(gate) as server, trio.open_nursery() as nursery:
            agent = MemoryAgent(server, nursery, keep_alive=True)
            if not pool:
                agent.keep_socket_alive = lambda socket: False  # type: ignore[method-assign]
            _, body = await fetch("http://memory.test/1", agent=agent)
            assert body == b"ok /1 "
            second, _ = await fetch("http://memory.test/2", agent=agent)
            assert second.reused_socket is pool
            assert len(agent.streams) == (1 if pool else 2)
            if not pool:
                # destroyed sockets are closed for real, not at agent.close()
                await wait_until(lambda: len(server._connections) == 0)
            await agent.close()
            await wait_until(lambda: len(server._connections) == 0)
            assert agent.free_sockets == {} and agent.total_socket_count == 0


# -- destroy / close / async with -------------------------------------------------------


async def test_destroy_closes_free_and_active_sockets() -> None:
    # H1-015, R1-117: sockets in use are destroyed too (their requests fail), and the
    # agent is still usable afterwards (as in Node)
    gate = Gate()
    gate.hold("/slow")
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=True) as agent:
            url = base_url(server)
            idle, _ = await fetch(url + "/idle", agent=agent)
            failures: list[BaseException] = []

            async def slow() -> None:
                with pytest.raises(errors.ConnResetError) as info:
                    await fetch(url + "/slow", agent=agent)
                failures.append(info.value)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(slow)
                await wait_until(lambda: gate.arrived("/slow") == 1)
                assert len(agent.sockets[origin_name(server)]) == 1
                agent.destroy()
                assert idle.socket.destroyed
                assert agent.free_sockets == {}
            gate.release("/slow")
            assert len(failures) == 1 and failures[0].code == "ECONNRESET"
            assert agent.sockets == {} and agent.total_socket_count == 0
            await wait_until(lambda: len(server._connections) == 0)
            _, body = await fetch(url + "/after", agent=agent)
            assert body == b"ok /after "


async def test_close_and_async_with_close_the_pool() -> None:
    with trio.fail_after(5):
        async with serve(Gate()) as server:
            url = base_url(server)
            async with http.Agent(keep_alive=True) as agent:
                req, _ = await fetch(url, agent=agent)
                assert agent.free_sockets
            assert req.socket.destroyed
            assert agent.free_sockets == {} and agent.total_socket_count == 0
            await wait_until(lambda: len(server._connections) == 0)
            other = http.Agent(keep_alive=True)
            req2, _ = await fetch(url, agent=other)
            await other.close()
            assert req2.socket.destroyed
            await wait_until(lambda: len(server._connections) == 0)


# -- the global agent and the diagnostic repr -----------------------------------------


def test_global_agent_is_one_keep_alive_agent_per_run() -> None:
    # H1-210, R1-119, DESIGN §4 (RunVar)
    agents: list[http.Agent] = []

    async def main() -> None:
        with trio.fail_after(5):
            agent = http.global_agent
            assert agent is http.global_agent
            assert agent.keep_alive is True and agent.timeout == 5.0
            assert agent.max_sockets == math.inf and agent.max_free_sockets == 256
            agents.append(agent)
            async with serve(Gate()) as server:
                req, _ = await fetch(base_url(server))
                assert req.agent is agent
                await agent.close()

    trio.run(main)
    trio.run(main)
    assert len(agents) == 2 and agents[0] is not agents[1]


async def test_repr_is_diagnostic() -> None:
    gate = Gate()
    gate.hold("/slow")
    with trio.fail_after(5):
        async with serve(gate) as server, http.Agent(keep_alive=True, max_sockets=1) as agent:
            url = base_url(server)
            assert repr(agent) == (
                "<Agent keep_alive=True | sockets: 0 active, 0 connecting, 0 free | "
                "requests: 0 queued>"
            )
            async with trio.open_nursery() as nursery:
                nursery.start_soon(partial(fetch, url + "/slow", agent=agent))
                await wait_until(lambda: gate.arrived("/slow") == 1)
                nursery.start_soon(partial(fetch, url + "/next", agent=agent))
                await wait_until(lambda: bool(agent.requests))
                assert "1 active" in repr(agent) and "1 queued" in repr(agent)
                gate.release("/slow")
            assert repr(agent) == (
                "<Agent keep_alive=True | sockets: 0 active, 0 connecting, 1 free | "
                "requests: 0 queued>"
            )


async def test_agent_remove_before_connect_keeps_the_socket_out_of_the_agent() -> None:
    # H1-029, R1-107, X1-03: 'agentRemove' from a 'socket' listener (before connect)
    with trio.fail_after(5):
        async with serve(Gate()) as server, http.Agent(keep_alive=True) as agent:
            req = http.request(base_url(server), agent=agent)
            req.on("socket", lambda socket: socket.emit("agentRemove"))
            await req.end()
            res = await req.response()
            assert agent.sockets == {}  # not counted while in use
            assert await res.read() == b"ok / "
            assert agent.free_sockets == {}  # and never pooled: closed with its request
            assert req.socket.destroyed
            # the agent still works, with a new socket
            again, _ = await fetch(base_url(server), agent=agent)
            assert again.reused_socket is False


async def test_agent_remove_while_in_use_frees_the_slot_for_waiting_requests() -> None:
    # R1-107, R1-108: a removed socket no longer counts against max_sockets
    with trio.fail_after(5):
        gate = Gate()
        gate.hold("/long")
        async with serve(gate) as server, http.Agent(keep_alive=True, max_sockets=1) as agent:
            long_req = http.request(base_url(server) + "/long", agent=agent)
            await long_req.end()
            await wait_until(lambda: gate.in_flight == 1)
            assert agent.sockets[origin_name(server)] == [long_req.socket]
            long_req.socket.emit("agentRemove")
            assert agent.sockets == {}
            # max_sockets=1 is free again: a second request goes out at once
            _, body = await fetch(base_url(server) + "/short", agent=agent)
            assert body == b"ok /short "
            gate.release("/long")
            res = await long_req.response()
            assert await res.read() == b"ok /long "
            assert long_req.socket.destroyed
