"""Real clients against this package's HTTP/1.1 server (issue 2, "Real clients").

The server runs in the test's own trio run; the client is a real program
started with ``trio.run_process``: ``curl`` (GET, POST, ``--http1.0``,
``Expect: 100-continue``, two URLs over one kept-alive connection), Node's
``http`` client with a keep-alive ``Agent`` (``req.reusedSocket``), and
``h2load --h1`` pipelining 10 requests deep on 2 connections. The server
counts its ``'connection'`` events, so connection reuse is checked from
both ends. Everything stays on 127.0.0.1; every test is bounded by
``trio.fail_after``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import trio

from trio_nodehttp import http

pytestmark = pytest.mark.interop

TIMEOUT = 20.0
# No proxy may stand between a client and 127.0.0.1.
CLIENT_ENV = {
    k: v
    for k, v in os.environ.items()
    if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
} | {"NO_PROXY": "*", "no_proxy": "*"}


@dataclass
class Seen:
    """What the server saw: one entry per request, and the connection count."""

    connections: int = 0
    requests: list[dict[str, object]] = field(default_factory=list)


def make_app(seen: Seen) -> Callable[[http.IncomingMessage, http.ServerResponse], Awaitable[None]]:
    async def app(req: http.IncomingMessage, res: http.ServerResponse) -> None:
        """``/stream``: a body in two writes; anything else echoes what was received."""
        body = await req.read()
        seen.requests.append(
            {
                "method": req.method,
                "url": req.url,
                "version": req.http_version,
                "expect": req.headers.get("expect"),
                "body": body,
            }
        )
        res.set_header("Content-Type", "text/plain")
        if req.url == "/stream":
            await res.write(b"first part, ")
            await res.write(b"second part\n")
            await res.end()
            return
        await res.end(f"{req.method} {req.url} HTTP/{req.http_version} body={body.decode()}\n")

    return app


@pytest.fixture
async def server() -> AsyncIterator[tuple[http.Server, Seen, str]]:
    seen = Seen()
    srv = http.create_server(make_app(seen))

    def on_connection(socket: http.Socket) -> None:
        seen.connections += 1

    srv.on("connection", on_connection)
    async with srv:
        await srv.listen(0, "127.0.0.1")
        address = srv.address()
        assert address is not None
        yield srv, seen, f"http://127.0.0.1:{address['port']}"


async def run_client(*argv: str, stdin: bytes = b"") -> tuple[str, str]:
    """Run a real client to completion; its (stdout, stderr)."""
    exe = shutil.which(argv[0])
    assert exe is not None, f"{argv[0]} is not installed (see .ci/run)"
    done = await trio.run_process(
        [exe, *argv[1:]], stdin=stdin, capture_stdout=True, capture_stderr=True, env=CLIENT_ENV
    )
    return done.stdout.decode(), done.stderr.decode()


# -- curl ------------------------------------------------------------------------------
async def test_curl_get(server: tuple[http.Server, Seen, str]) -> None:
    _, seen, base = server
    with trio.fail_after(TIMEOUT):
        out, _ = await run_client("curl", "-sS", "-i", f"{base}/hello?x=1")
    assert out.startswith("HTTP/1.1 200 OK\r\n")
    assert "Content-Type: text/plain\r\n" in out
    assert out.endswith("\r\n\r\nGET /hello?x=1 HTTP/1.1 body=\n")
    assert seen.connections == 1


async def test_curl_post_with_body(server: tuple[http.Server, Seen, str]) -> None:
    _, seen, base = server
    with trio.fail_after(TIMEOUT):
        out, _ = await run_client("curl", "-sS", "--data-binary", "a=1&b=2", f"{base}/form")
    assert out == "POST /form HTTP/1.1 body=a=1&b=2\n"
    assert seen.requests[0]["body"] == b"a=1&b=2"


async def test_curl_http10(server: tuple[http.Server, Seen, str]) -> None:
    """HTTP/1.0: no chunks, no Content-Length (as Node): every body is delimited by the close."""
    _, seen, base = server
    with trio.fail_after(TIMEOUT):
        whole, _ = await run_client("curl", "-sS", "-i", "--http1.0", f"{base}/one")
        streamed, _ = await run_client("curl", "-sS", "-i", "--http1.0", f"{base}/stream")
    for answer in (whole, streamed):
        assert answer.startswith("HTTP/1.1 200 OK\r\n")
        assert "Connection: close\r\n" in answer
        assert "Transfer-Encoding" not in answer
        assert "Content-Length" not in answer
    assert whole.endswith("\r\n\r\nGET /one HTTP/1.0 body=\n")
    assert streamed.endswith("\r\n\r\nfirst part, second part\n")
    assert [r["version"] for r in seen.requests] == ["1.0", "1.0"]


async def test_curl_expect_100_continue(server: tuple[http.Server, Seen, str]) -> None:
    _, seen, base = server
    payload = "x" * 5000
    with trio.fail_after(TIMEOUT):
        out, err = await run_client(
            "curl",
            "-sS",
            "-v",
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            payload,
            f"{base}/upload",
        )
    assert "< HTTP/1.1 100 Continue" in err
    assert "< HTTP/1.1 200 OK" in err
    assert out == f"POST /upload HTTP/1.1 body={payload}\n"
    assert seen.requests[0]["expect"] == "100-continue"


async def test_curl_reuses_one_connection_for_two_urls(
    server: tuple[http.Server, Seen, str],
) -> None:
    _, seen, base = server
    with trio.fail_after(TIMEOUT):
        out, err = await run_client("curl", "-sS", "-v", f"{base}/first", f"{base}/second")
    assert out == "GET /first HTTP/1.1 body=\nGET /second HTTP/1.1 body=\n"
    assert re.search(r"Re-using existing connection", err), err
    assert seen.connections == 1
    assert [r["url"] for r in seen.requests] == ["/first", "/second"]


# -- Node's http client --------------------------------------------------------------------
NODE_KEEP_ALIVE_CLIENT = r"""
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = process.argv[1];
function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.get(base + path, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({
        reused: req.reusedSocket, status: res.statusCode,
        keepAlive: res.headers['keep-alive'], body,
      }));
    });
    req.on('error', reject);
  });
}
(async () => {
  const results = [];
  for (const path of ['/a', '/b', '/c', '/d']) results.push(await get(path));
  agent.destroy();
  console.log(JSON.stringify(results));
})().catch((err) => { console.error(err); process.exit(1); });
"""


async def test_node_keep_alive_agent_reuses_one_socket(
    server: tuple[http.Server, Seen, str],
) -> None:
    _, seen, base = server
    with trio.fail_after(TIMEOUT):
        out, _ = await run_client("node", "-e", NODE_KEEP_ALIVE_CLIENT, base)
    results = json.loads(out)
    assert [r["reused"] for r in results] == [False, True, True, True]
    assert [r["status"] for r in results] == [200] * 4
    assert [r["body"] for r in results] == [
        f"GET /{p} HTTP/1.1 body=\n" for p in ("a", "b", "c", "d")
    ]
    assert results[0]["keepAlive"] == "timeout=5"
    assert seen.connections == 1


# -- h2load: pipelining -----------------------------------------------------------------------
async def test_h2load_h1_pipelining(server: tuple[http.Server, Seen, str]) -> None:
    _, seen, base = server
    with trio.fail_after(TIMEOUT):
        out, err = await run_client(
            "h2load", "--h1", "-n", "200", "-c", "2", "-m", "10", base + "/"
        )
    assert "200 succeeded, 0 failed, 0 errored" in out, out + err
    assert "status codes: 200 2xx" in out, out
    assert len(seen.requests) == 200
    assert seen.connections == 2
