"""This package's HTTP/1.1 client against Node's own ``node:http`` server (issue 3).

"How it is shown", first bullet: Node v20's server
(``node_client_peer_server.js``, started by these tests) is the peer for
keep-alive reuse (``reused_socket``), chunked and Content-Length bodies both
ways, trailers, ``Expect: 100-continue``, ``103`` Early Hints as
``'information'``, ``'upgrade'``, ``'connect'``, and a server whose short
``keepAliveTimeout`` closes idle sockets while the agent reuses them: every
request is counted server-side by its id, and none may be lost or sent twice.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from trio_nodehttp import errors, http

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent
NODE = shutil.which("node") or "node"  # v20 is on every machine (DESIGN §8)

#: ``keepAliveTimeout`` of the race tests, in ms: Node v20 advertises ``timeout=0`` for
#: it and closes idle sockets 1 s later (its fixed keep-alive buffer).
SHORT_KEEP_ALIVE_MS = 100


class _NodeServer:
    def __init__(self, options: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [NODE, str(HERE / "node_client_peer_server.js"), json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.stdout.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def node() -> Iterator[_NodeServer]:
    server = _NodeServer({})
    yield server
    server.stop()


@pytest.fixture
def short_ka() -> Iterator[_NodeServer]:
    """A fresh server per test, so its request counts start at zero."""
    server = _NodeServer({"keepAliveTimeout": SHORT_KEEP_ALIVE_MS})
    yield server
    server.stop()


async def _stats(server: _NodeServer) -> dict[str, Any]:
    res = await http.get(f"{server.url}/stats", agent=False)
    stats: dict[str, Any] = await res.json()
    return stats


# -- keep-alive and bodies --------------------------------------------------------------


async def test_keep_alive_reuse_with_reused_socket(node: _NodeServer) -> None:
    # R1-105, R1-111, H1-068 and R1-098 (reused_socket)
    with trio.fail_after(5):
        async with http.Agent(keep_alive=True) as agent:
            reused = []
            ports = set()
            for i in range(4):
                req = http.request(f"{node.url}/echo?n={i}", agent=agent)
                await req.end()
                res = await req.response()
                assert (await res.json())["url"] == f"/echo?n={i}"
                # Node's server advertises its 5 s keepAliveTimeout
                assert res.headers["connection"] == "keep-alive"
                assert res.headers["keep-alive"] == "timeout=5"
                reused.append(req.reused_socket)
                assert res.socket is not None
                ports.add(res.socket.local_port)
            assert reused == [False, True, True, True]
            assert len(ports) == 1
            assert len(agent.free_sockets) == 1


async def test_response_bodies_content_length_and_chunked(node: _NodeServer) -> None:
    with trio.fail_after(5):
        async with http.Agent(keep_alive=True) as agent:
            res = await http.get(f"{node.url}/cl", agent=agent)
            assert res.headers["content-length"] == "1000"
            assert "transfer-encoding" not in res.headers
            assert await res.read() == b"x" * 1000
            res = await http.get(f"{node.url}/chunked", agent=agent)
            assert res.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in res.headers
            chunks = [chunk async for chunk in res]
            assert b"".join(chunks) == b"abc"
            assert res.complete
            # both exchanges left the socket clean: the next one reuses it
            req = http.request(f"{node.url}/cl", agent=agent)
            await req.end()
            await (await req.response()).read()
            assert req.reused_socket


async def test_request_bodies_content_length_and_chunked_with_trailers(
    node: _NodeServer,
) -> None:
    with trio.fail_after(5):
        async with http.Agent(keep_alive=True) as agent:
            # end(body) with nothing written before: Content-Length (R1-027)
            req = http.request(f"{node.url}/echo", method="POST", agent=agent)
            await req.end(b"whole")
            echo = await (await req.response()).json()
            assert echo["headers"]["content-length"] == "5"
            assert "transfer-encoding" not in echo["headers"]
            assert echo["body"] == "whole"
            # write() then end(): chunked, and trailers travel after the body
            req = http.request(
                f"{node.url}/echo", method="PUT", agent=agent, headers={"Trailer": "X-Sum"}
            )
            await req.write(b"part1-")
            await req.write(b"part2-")
            req.add_trailers({"X-Sum": "s1"})
            await req.end(b"end")
            echo = await (await req.response()).json()
            assert echo["method"] == "PUT"
            assert echo["headers"]["transfer-encoding"] == "chunked"
            assert echo["body"] == "part1-part2-end"
            assert echo["trailers"] == {"x-sum": "s1"}
            assert req.reused_socket


async def test_response_trailers(node: _NodeServer) -> None:
    # R1-028, R1-101: trailers are filled in once the body has been read
    with trio.fail_after(5):
        res = await http.get(f"{node.url}/trailers", agent=False)
        assert res.headers["trailer"] == "X-Checksum"
        assert res.trailers == {}  # not yet: the body has not been read
        assert await res.read() == b"part1;part2"
        assert res.trailers == {"x-checksum": "abc123"}
        assert res.raw_trailers == ["X-Checksum", "abc123"]


# -- 1xx ---------------------------------------------------------------------------------


async def test_expect_100_continue_waits_for_continue(node: _NodeServer) -> None:
    # R1-040, R1-041, H1-034 (client); R1-042 on Node's side
    events: list[str] = []
    with trio.fail_after(5):
        req = http.request(
            f"{node.url}/echo",
            method="POST",
            agent=False,
            headers={"Expect": "100-continue", "Content-Type": "text/plain"},
        )
        req.on("continue", lambda: events.append("continue"))
        req.on("response", lambda res: events.append("response"))
        await req.end(b"the body")
        res = await req.response()
        answer = await res.json()
    assert events == ["continue", "response"]
    # Node's 'checkContinue' listener paused 100 ms before writeContinue():
    # no body byte arrived during that pause; the whole body came after it.
    assert answer == {"early": 0, "body": "the body"}


async def test_early_hints_become_information(node: _NodeServer) -> None:
    # R1-044, H1-036
    infos: list[dict[str, Any]] = []
    with trio.fail_after(5):
        req = http.request(f"{node.url}/hints", agent=False)
        req.on("information", infos.append)
        await req.end()
        res = await req.response()
        assert await res.read() == b"after hints"
    assert len(infos) == 1
    info = infos[0]
    assert info["status_code"] == 103
    assert info["status_message"] == "Early Hints"
    assert info["http_version"] == "1.1"
    assert info["headers"]["link"] == "</style.css>; rel=preload; as=style"
    assert info["headers"]["x-hint"] == "yes"
    assert res.status_code == 200


# -- upgrade and connect -------------------------------------------------------------------


async def test_upgrade_hands_over_socket_and_head(node: _NodeServer) -> None:
    # R1-074, R1-075, H1-047
    seen: dict[str, Any] = {}

    async def on_upgrade(res: http.IncomingMessage, socket: http.Socket, head: bytes) -> None:
        seen["status"] = res.status_code
        seen["upgrade"] = res.headers.get("upgrade")
        await socket.send_all(b"ping")
        data = b""
        while len(data) < 4:
            data += await socket.receive_some(100)
        seen["echo"] = data

    with trio.fail_after(5):
        async with http.Agent(keep_alive=True) as agent:
            req = http.request(
                f"{node.url}/ws",
                agent=agent,
                headers={"Connection": "Upgrade", "Upgrade": "echo-proto"},
            )
            req.on("upgrade", on_upgrade)
            await req.end()
            res = await req.response()
            assert res.status_code == 101
            # the upgraded socket left the pool's management
            assert agent.sockets == {} and agent.free_sockets == {}
    assert seen == {"status": 101, "upgrade": "echo-proto", "echo": b"ping"}


async def test_connect_tunnel(node: _NodeServer) -> None:
    # R1-073, H1-033
    seen: dict[str, Any] = {}

    async def on_connect(res: http.IncomingMessage, socket: http.Socket, head: bytes) -> None:
        seen["status"] = (res.status_code, res.status_message)
        seen["target"] = res.headers.get("x-target")
        await socket.send_all(b"through the tunnel")
        data = bytes(head)
        while len(data) < 18:
            data += await socket.receive_some(100)
        seen["echo"] = data

    with trio.fail_after(5):
        req = http.request(node.url, method="CONNECT", path="example.test:443", agent=False)
        req.on("connect", on_connect)
        await req.end()
        await req.response()
    assert seen == {
        "status": (200, "Connection Established"),
        "target": "example.test:443",
        "echo": b"through the tunnel",
    }


# -- a server that closes idle sockets: the keep-alive race -----------------------------------


async def test_short_keep_alive_hint_means_no_pooling_like_nodes_agent(
    short_ka: _NodeServer,
) -> None:
    """Node v20 advertises ``Keep-Alive: timeout=0`` for 100 ms; both agents decline to pool."""
    script = """
const http = require('http');
const agent = new http.Agent({keepAlive: true});
const get = (path) => new Promise((resolve, reject) => {
  http.get(`http://127.0.0.1:${process.argv[1]}${path}`, {agent}, (res) => {
    res.resume(); res.on('end', () => resolve([res.headers['keep-alive'], res.req.reusedSocket]));
  }).on('error', reject);
});
(async () => {
  const out = [await get('/id?id=node-a'), await get('/id?id=node-b')];
  console.log(JSON.stringify(out)); agent.destroy();
})();
"""
    with trio.fail_after(10):
        proc = await trio.run_process([NODE, "-e", script, str(short_ka.port)], capture_stdout=True)
        node_view = json.loads(proc.stdout)
        ours = []
        async with http.Agent(keep_alive=True) as agent:
            for i in range(2):
                req = http.request(f"{short_ka.url}/id?id=py-{i}", agent=agent)
                await req.end()
                res = await req.response()
                await res.read()
                ours.append([res.headers.get("keep-alive"), req.reused_socket])
                assert agent.free_sockets == {}
        stats = await _stats(short_ka)
    assert node_view == [["timeout=0", False], ["timeout=0", False]]
    assert ours == node_view
    assert stats["counts"] == {"node-a": 1, "node-b": 1, "py-0": 1, "py-1": 1}


async def _one(
    server: _NodeServer, agent: http.Agent, rid: str, method: str
) -> tuple[str, bool, BaseException | None]:
    """One request with id ``rid``, on a socket the server may close at any moment."""
    req = http.request(f"{server.url}/id?id={rid}&nohint=1", method=method, agent=agent)
    try:
        if method == "POST":
            await req.end(b"payload")
        else:
            await req.end()
        res = await req.response()
        body = await res.read()
    except errors.ConnResetError as exc:
        return rid, req.reused_socket, exc
    assert res.status_code == 200 and body == rid.encode()
    return rid, req.reused_socket, None


async def test_server_closing_idle_sockets_loses_nothing_and_sends_nothing_twice(
    short_ka: _NodeServer,
) -> None:
    """Node closes sockets idle for ``keepAliveTimeout`` (+ the fixed 1 s buffer of
    Node v20.20, ``HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER``), and the ``/id`` route
    sets ``Connection: keep-alive`` itself, so Node sends no ``Keep-Alive`` hint:
    the agent keeps sockets that the server closes just as they are reused.

    One sequential chain (its own agent) and twelve concurrent workers (a shared
    agent, GETs and POSTs) pause around the server's close time between
    requests. Idempotent requests must all succeed exactly once (a stale socket
    is noticed before use, or the request is replayed on a fresh one); a POST
    may fail with ECONNRESET (Node's rule: never replayed) but then the server
    must not have seen it. No id may reach the server twice.
    """
    rng = random.Random(3)
    results: list[tuple[str, bool, BaseException | None]] = []
    close_after = SHORT_KEEP_ALIVE_MS / 1000 + 1.0

    async def chain(agent: http.Agent) -> None:
        for i, delta in enumerate([-0.02, -0.003, 0.0, 0.003, 0.02]):
            results.append(await _one(short_ka, agent, f"s{i}", "GET"))
            await trio.sleep(close_after + delta)
        results.append(await _one(short_ka, agent, "s-last", "GET"))

    async def worker(agent: http.Agent, w: int) -> None:
        for j in range(5):
            method = "POST" if (w + j) % 3 == 0 else "GET"
            results.append(await _one(short_ka, agent, f"w{w}-{j}-{method}", method))
            await trio.sleep(close_after + rng.uniform(-0.01, 0.01))

    with trio.fail_after(20):
        async with http.Agent(keep_alive=True) as solo, http.Agent(keep_alive=True) as shared:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(chain, solo)
                for w in range(12):
                    nursery.start_soon(worker, shared, w)
        stats = await _stats(short_ka)

    counts: dict[str, int] = stats["counts"]
    assert len(results) == 6 + 12 * 5
    # nothing sent twice: every id the server saw, it saw once
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n != 1}
    for rid, _reused, err in results:
        if err is None:
            assert counts.get(rid) == 1, rid  # succeeded: seen exactly once
        else:
            # failed: only a non-idempotent request, and the server never saw it
            assert rid.endswith("POST") and rid not in counts, (rid, err)
    assert set(counts) <= {rid for rid, _, _ in results}
    # the agents did pool (some reuse) and the server did close idle sockets
    assert any(reused for _, reused, _ in results)
    assert stats["connections"] > 13
