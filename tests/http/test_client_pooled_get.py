"""The pooled ``http.get`` and ``read()`` paths behave exactly like the general ones.

``http.get(url, agent=agent)`` on an idle pooled connection and ``await
res.read()`` of a body whose bytes are already buffered take shorter paths
(the client benchmark's loop). Each test here pins what a user can observe
on those paths against a scripted keep-alive peer that records the bytes it
receives: the request bytes, the body, the trailers, the pooling decisions,
the hooks and the events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import trio
from _client_helpers import raw_server, read_head

from trio_nodehttp import http

HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\n\r\nhello"


@asynccontextmanager
async def keep_alive_peer(
    answer: Callable[[int], list[bytes]],
) -> AsyncIterator[tuple[int, list[bytes], list[int]]]:
    """A server that keeps each connection open and answers request ``i`` (counted
    over all connections) with the parts ``answer(i)``, sent with a short pause
    between them. Yields the port, the request heads received, and for each
    request the number of the connection it came on."""
    heads: list[bytes] = []
    conns: list[int] = []
    count = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal count
        count += 1
        number = count
        while True:
            head = await read_head(stream)
            if not head:
                return
            heads.append(head)
            conns.append(number)
            for i, part in enumerate(answer(len(heads) - 1)):
                if i:
                    await trio.sleep(0.01)
                await stream.send_all(part)

    async with raw_server(handler) as port:
        yield port, heads, conns


async def test_a_pooled_get_sends_the_bytes_of_the_first_one() -> None:
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, heads, conns):
            url = f"http://127.0.0.1:{port}/p?q=1"
            async with http.Agent(keep_alive=True) as agent:
                reused = []
                for _ in range(3):
                    res = await http.get(url, agent=agent)
                    assert await res.read() == b"hello"
                    reused.append(res.req.reused_socket)
            assert reused == [False, True, True]
            assert conns == [1, 1, 1]
            expected = (
                f"GET /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n\r\n"
            ).encode()
            assert heads == [expected] * 3


async def test_read_joins_a_chunked_body_buffered_whole_and_keeps_its_trailers() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\nX-Sum: 11\r\n\r\n"
    )
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [chunked]) as (port, _, conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                for _ in range(2):
                    res = await http.get(url, agent=agent)
                    assert await res.read() == b"onetwothree"
                    assert res.complete and res.readable_ended
                    assert res.trailers == {"x-sum": "11"}
                    assert res.raw_trailers == ["X-Sum", "11"]
                    assert await res.read() == b""
                    assert list(agent.free_sockets) == [f"127.0.0.1:{port}:"]
                    assert agent.sockets == {}
            assert conns == [1, 1]


async def test_read_waits_for_the_rest_of_a_body_that_arrives_in_pieces() -> None:
    # Two chunks are buffered with the head, the rest comes later: what was parsed
    # is kept, nothing is lost or repeated.
    parts = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n",
        b"2\r\nef\r\n",
        b"0\r\n\r\n",
    ]
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: parts if i == 1 else [HELLO]) as (port, _, conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                assert await (await http.get(url, agent=agent)).read() == b"hello"
                res = await http.get(url, agent=agent)
                assert res.req.reused_socket
                assert await res.read() == b"abcdef"
                assert res.complete
                assert await (await http.get(url, agent=agent)).read() == b"hello"
            assert conns == [1, 1, 1]


async def test_read_fires_end_and_close_for_listeners_added_after_get() -> None:
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, _, _conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                await (await http.get(url, agent=agent)).read()
                res = await http.get(url, agent=agent)
                events: list[str] = []
                res.on("end", lambda: events.append("res.end"))
                res.on("close", lambda: events.append("res.close"))
                res.req.on("close", lambda: events.append("req.close"))
                assert await res.read() == b"hello"
                assert events == ["res.end", "req.close", "res.close"]


async def test_a_request_told_connection_close_before_end_is_not_pooled() -> None:
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, heads, conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                await (await http.get(url, agent=agent)).read()
                req = http.request(url, agent=agent)  # the same URL and agent as get's
                req.set_header("Connection", "close")
                await req.end()
                res = await req.response()
                assert req.reused_socket
                assert await res.read() == b"hello"
                assert agent.free_sockets == {} and agent.sockets == {}
                res = await http.get(url, agent=agent)
                assert not res.req.reused_socket
                await res.read()
            assert b"Connection: close\r\n" in heads[1]
            assert conns == [1, 1, 2]


async def test_keep_socket_alive_set_on_the_instance_is_asked_every_time() -> None:
    asked: list[int] = []
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, _, conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                for _ in range(2):
                    await (await http.get(url, agent=agent)).read()

                def keep(socket: http.Socket) -> bool:
                    asked.append(1)
                    return len(asked) < 2

                agent.keep_socket_alive = keep  # type: ignore[method-assign]
                for _ in range(3):
                    await (await http.get(url, agent=agent)).read()
            # asked after requests 3, 4 and 5: pooled, then refused (closed) twice
            assert len(asked) == 3
            assert conns == [1, 1, 1, 1, 2]


async def test_without_h11_process_event_the_parser_is_told_through_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stand-in request reaches h11 through its state transition only; should h11
    # lose that private method, its public send() does the same (and writes bytes
    # that are thrown away).
    from trio_nodehttp._h1 import client

    monkeypatch.setattr(client, "_process_event", None)
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, _, conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                for _ in range(2):
                    assert await (await http.get(url, agent=agent)).read() == b"hello"
                req = http.request(url, agent=agent, method="HEAD")
                await req.end()
                res = await req.response()
                assert await res.read() == b""  # HEAD: h11 knew the method
            assert conns == [1, 1, 1]


async def test_an_http_get_response_and_its_request_are_freed_without_the_gc() -> None:
    # res.req keeps the request; the request does not keep an ended response alive,
    # so dropping the response frees both at once (no cycle left for the GC).
    import gc
    import weakref

    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, _, _conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                gc.disable()
                try:
                    for body_read in ("read", "iterate"):
                        res = await http.get(url, agent=agent)
                        if body_read == "read":
                            assert await res.read() == b"hello"
                        else:
                            assert [chunk async for chunk in res] == [b"hello"]
                        res_ref, req_ref = weakref.ref(res), weakref.ref(res.req)
                        del res
                        assert res_ref() is None and req_ref() is None
                    res = await http.get(url, agent=agent)
                    await res.read()
                    assert await res.req.response() is res  # while the caller holds it
                finally:
                    gc.enable()


async def test_the_request_of_a_dropped_get_response_says_why_it_has_none() -> None:
    with trio.fail_after(5):
        async with keep_alive_peer(lambda i: [HELLO]) as (port, _, _conns):
            url = f"http://127.0.0.1:{port}/"
            async with http.Agent(keep_alive=True) as agent:
                res = await http.get(url, agent=agent)
                await res.read()
                req = res.req
                assert repr(req).endswith("response>")
                del res
                with pytest.raises(RuntimeError, match="keep the IncomingMessage"):
                    await req.response()
                # a request made by http.request keeps its response: it is the caller's handle
                req = http.request(url, agent=agent)
                await req.end()
                res = await req.response()
                await res.read()
                del res
                assert (await req.response()).complete
