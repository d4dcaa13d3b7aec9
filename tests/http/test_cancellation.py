"""The client is cancellation-safe (DESIGN §4, issue 3 item 5, PEERS lesson 4).

Method: a ``trio.abc.Instrument`` counts the steps of the task that runs one
whole exchange (a GET, or a POST whose body is streamed by several
``write()`` calls before ``end()``, then the response read to its end) and,
right after step ``n``, cancels the cancel scope around the exchange. The
task is then parked at its ``n``-th yield, so the cancellation lands at
exactly that checkpoint (or, where that yield cannot be cancelled, at the
next one). ``n`` runs 1, 2, 3, … until the exchange completes before the
instrument fires: every checkpoint of the exchange has then been a
cancellation point once.

After each cancellation, on the same agent:

* ``agent.sockets`` and ``agent.requests`` are empty and the socket count
  equals what is pooled;
* every pooled socket is at a clean boundary: open, nothing readable
  pending, and a request sent over each of them at once succeeds on it;
* a new request works;
* after ``await agent.close()`` the server holds no connection.

Real loopback sockets against this package's server.
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import trio
from _agent_helpers import awaitable_listener, base_url, fetch, raw_server, serve, wait_until

from trio_nodehttp import http
from trio_nodehttp._h1.agent import ClientConnection

BODY_PARTS = [b"one", b"two", b"three"]


class CancelAfterStep(trio.abc.Instrument):
    """Cancel ``scope`` right after ``task`` has run ``n`` steps."""

    def __init__(self, task: trio.lowlevel.Task, scope: trio.CancelScope, n: int) -> None:
        self.task = task
        self.scope = scope
        self.n = n
        self.steps = 0
        self.fired = False

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        if task is self.task:
            self.steps += 1
            if self.steps == self.n:
                self.fired = True
                self.scope.cancel()


async def handler(req: Any, res: Any) -> None:
    body = await req.read()
    if req.url == "/hold":
        await trio.sleep(0.003)
    res.set_header("content-type", "text/plain")
    # a chunked body in several pieces, so the client reads it in several steps
    await res.write(b"<" + req.url.encode() + b" " + body)
    await trio.sleep(0)
    await res.write(b"|")
    await res.end(b">")


def expected(path: str, body: bytes = b"") -> bytes:
    return b"<" + path.encode() + b" " + body + b"|>"


Exchange = Callable[[http.Agent, str, list[Any]], Awaitable[bytes]]


def _listen(req: Any, with_listeners: bool, events: list[str]) -> None:
    for name in ("socket", "finish", "response", "close", "error"):
        req.on(name, lambda *a, _n=name: events.append(_n))
    if with_listeners:
        for name in ("socket", "finish", "response", "close"):
            req.on(name, awaitable_listener())


async def _read(res: Any, with_listeners: bool) -> bytes:
    if with_listeners:
        res.on("data", awaitable_listener())
        res.on("end", awaitable_listener())
        res.on("close", awaitable_listener())
    body: bytes = await res.read()
    return body


def get_exchange(with_listeners: bool) -> Exchange:
    async def run(agent: http.Agent, url: str, record: list[Any]) -> bytes:
        req = http.request(url + "/get", agent=agent)
        events: list[str] = []
        record.append((req, events))
        _listen(req, with_listeners, events)
        await req.end()
        res = await req.response()
        return await _read(res, with_listeners)

    return run


def post_exchange(with_listeners: bool) -> Exchange:
    async def run(agent: http.Agent, url: str, record: list[Any]) -> bytes:
        req = http.request(url + "/post", method="POST", agent=agent)
        events: list[str] = []
        record.append((req, events))
        _listen(req, with_listeners, events)
        for part in BODY_PARTS[:-1]:
            await req.write(part)
        await req.end(BODY_PARTS[-1])
        res = await req.response()
        return await _read(res, with_listeners)

    return run


@dataclass
class Target:
    """The server under test: its URL, what it answers, how many connections it holds."""

    url: str
    expect: Callable[[str, bytes], bytes]
    open_connections: Callable[[], int]


@asynccontextmanager
async def own_server() -> AsyncIterator[Target]:
    async with serve(handler) as server:
        yield Target(base_url(server), expected, lambda: len(server._connections))


async def assert_pool_is_clean(agent: http.Agent, target: Target, where: str) -> None:
    """The checks of issue 3 item 5, after one cancellation."""
    url = target.url
    assert agent.sockets == {}, where
    assert agent.requests == {}, where
    free = [s for socks in agent.free_sockets.values() for s in socks]
    assert agent.total_socket_count == len(free), where
    for sock in free:
        conn = sock._conn
        assert isinstance(conn, ClientConnection), where
        assert not sock.destroyed, where
        assert not conn.readable_or_closed(), where
    # every pooled socket carries a request at once, and each succeeds on it
    used: list[Any] = []

    async def over_free(i: int) -> None:
        req, body = await fetch(f"{url}/free{i}", agent=agent)
        assert body == target.expect(f"/free{i}", b""), where
        used.append(req)

    async with trio.open_nursery() as nursery:
        for i in range(len(free)):
            nursery.start_soon(over_free, i)
    assert all(r.reused_socket or r._retried for r in used), where
    assert {id(r.socket) for r in used if not r._retried} <= {id(s) for s in free}, where
    assert len(used) == len(free), where
    # a new request on the same agent works
    _, body = await fetch(url + "/after", agent=agent)
    assert body == target.expect("/after", b""), where
    assert agent.sockets == {} and agent.requests == {}, where
    await agent.close()
    with trio.fail_after(2):
        await wait_until(lambda: target.open_connections() == 0)
    assert agent.free_sockets == {} and agent.total_socket_count == 0, where


async def sweep(
    target: Target,
    exchange: Exchange,
    path: str,
    body: bytes,
    *,
    warm: bool,
    queued: bool = False,
) -> int:
    """Cancel ``exchange`` after step 1, 2, 3, … ; return how many points were cancelled."""
    cancelled = 0
    url = target.url
    n = 0
    while True:
        n += 1
        where = f"cancelled after step {n}"
        agent = http.Agent(keep_alive=True, max_sockets=1 if queued else float("inf"))
        if warm:
            await fetch(url + "/warm", agent=agent)
        record: list[Any] = []
        async with trio.open_nursery() as nursery:
            if queued:
                # the only socket is busy: the exchange waits in agent.requests
                nursery.start_soon(partial(fetch, url + "/hold", agent=agent))
                await wait_until(lambda a=agent: bool(a.sockets))
            with trio.CancelScope() as scope:
                inst = CancelAfterStep(trio.lowlevel.current_task(), scope, n)
                trio.lowlevel.add_instrument(inst)
                try:
                    result = await exchange(agent, url, record)
                except trio.Cancelled as exc:
                    where += "\n" + "".join(traceback.format_tb(exc.__traceback__))
                    raise
                except BaseException as exc:
                    exc.add_note(where)
                    raise
                finally:
                    trio.lowlevel.remove_instrument(inst)
                assert result == target.expect(path, body), where
        if scope.cancelled_caught:
            cancelled += 1
            req, events = record[0] if record else (None, [])
            res = req._res if req is not None else None
            if req is not None and (res is None or not res.complete):
                # cancelled mid-exchange: destroyed, with destroy()'s events (DESIGN §4)
                assert req.destroyed, where
                assert events[-1] == "close", where
        await assert_pool_is_clean(agent, target, where)
        if not inst.fired:
            return cancelled


@pytest.mark.parametrize("warm", [False, True], ids=["new-socket", "reused-socket"])
@pytest.mark.parametrize("with_listeners", [False, True], ids=["plain", "async-listeners"])
async def test_get_cancelled_at_every_checkpoint(warm: bool, with_listeners: bool) -> None:
    with trio.fail_after(20):
        async with own_server() as target:
            cancelled = await sweep(target, get_exchange(with_listeners), "/get", b"", warm=warm)
    assert cancelled >= 3


@pytest.mark.parametrize("warm", [False, True], ids=["new-socket", "reused-socket"])
@pytest.mark.parametrize("with_listeners", [False, True], ids=["plain", "async-listeners"])
async def test_streamed_post_cancelled_at_every_checkpoint(
    warm: bool, with_listeners: bool
) -> None:
    with trio.fail_after(20):
        async with own_server() as target:
            cancelled = await sweep(
                target, post_exchange(with_listeners), "/post", b"".join(BODY_PARTS), warm=warm
            )
    assert cancelled >= 5


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_queued_request_cancelled_at_every_checkpoint(method: str) -> None:
    # max_sockets=1 and the socket busy: cancellation while waiting in agent.requests,
    # and at each step after the freed socket is handed over
    exchange = get_exchange(False) if method == "GET" else post_exchange(False)
    path, body = ("/get", b"") if method == "GET" else ("/post", b"".join(BODY_PARTS))
    with trio.fail_after(20):
        async with own_server() as target:
            cancelled = await sweep(target, exchange, path, body, warm=True, queued=True)
    assert cancelled >= 3


async def test_retried_get_cancelled_at_every_checkpoint() -> None:
    # the keep-alive race on every reused socket: the server drops the second request of
    # each connection, so the GET is replayed on a new socket (PEERS lesson 3); cancel
    # at each checkpoint of that, the replay included
    def decide(conn: int, n: int, req: Any) -> str:
        return "drop" if n == 1 else "respond"

    with trio.fail_after(20):
        async with raw_server(decide) as server:
            target = Target(
                f"http://127.0.0.1:{server.port}",
                lambda path, body: b"raw " + path.encode() + b" " + body,
                lambda: server.open,
            )
            cancelled = await sweep(target, get_exchange(False), "/get", b"", warm=True)
            retried = sum(1 for _, n, _, _ in server.requests if n == 1)
    assert cancelled >= 3
    assert retried >= cancelled


async def test_waiter_cancelled_in_the_tick_it_is_handed_a_socket() -> None:
    # The race the sweep can only hit by chance: a queued request is cancelled and, before
    # it runs again, a socket is handed to it. The socket must go back to the pool (or
    # to the next waiter), not stay counted as in use (lesson 4).
    with trio.fail_after(5):
        async with own_server() as target:
            agent = http.Agent(keep_alive=True, max_sockets=1)
            url = target.url
            await fetch(url + "/warm", agent=agent)
            name = next(iter(agent.free_sockets))
            conn = agent._take_free(name)
            assert conn is not None and list(agent.sockets) == [name]
            scope = trio.CancelScope()
            outcome: list[str] = []

            async def queued() -> None:
                req = http.request(url + "/queued", agent=agent)
                with scope:
                    await req.end()
                    outcome.append("not cancelled")
                outcome.append("cancelled" if scope.cancelled_caught else "?")

            async with trio.open_nursery() as nursery:
                nursery.start_soon(queued)
                await wait_until(lambda: bool(agent.requests))
                scope.cancel()
                agent._release(conn, reusable=True)  # same tick: handed to the cancelled waiter
            assert outcome == ["cancelled"]
            assert agent.sockets == {} and agent.requests == {}
            assert agent.free_sockets == {name: [conn.socket]}
            await assert_pool_is_clean(agent, target, "handed while cancelled")
