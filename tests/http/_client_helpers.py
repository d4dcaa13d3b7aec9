"""Helpers for the ClientRequest tests: event recorders, raw peers, Node's client.

* :func:`record` attaches listeners for the documented ClientRequest events
  (and, from ``'response'``, the ``IncomingMessage`` ones) that append to
  one list, the shape of the R1-076…R1-087 orderings.
* :func:`raw_server` is a trio TCP listener on 127.0.0.1 running a raw
  handler per connection (for premature closes, 1xx answers, Unix sockets).
* :class:`Capture` records the exact bytes of each request it receives
  (framed by h11, with a short grace period for unframed bodies) and
  answers ``204`` with ``Connection: close``.
* :func:`node_requests` makes Node v20's ``http.request`` send a list of
  requests (the same specs our client replays) to a port.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import h11
import trio

from trio_nodehttp import http

NODE = shutil.which("node")

#: The request events of R1-076…R1-087 (plus 'abort', deprecated).
REQ_EVENTS = ("socket", "response", "error", "abort", "close")
#: The response events, attached from the 'response' listener.
RES_EVENTS = ("data", "end", "aborted", "error", "close")


def describe(err: BaseException) -> str:
    """``'error:<message>:<code>'`` for an error, as the recorders log it."""
    message = getattr(err, "message", None) or str(err)
    return f"{message}:{getattr(err, 'code', None)}"


def record(
    req: http.ClientRequest,
    events: list[str],
    errors: list[BaseException] | None = None,
    on_response: Callable[[Any], Any] | None = None,
) -> None:
    """Log ``req``'s events and its response's into ``events`` (``res.`` prefix for the latter).

    Errors are logged as ``'error:<message>:<code>'`` and kept in ``errors``.
    """

    def on_req(name: str) -> Callable[..., Any]:
        def listener(*args: Any) -> Any:
            if name == "error":
                events.append("error:" + describe(args[0]))
                if errors is not None:
                    errors.append(args[0])
                return None
            events.append(name)
            if name == "response":
                res = args[0]
                for res_name in RES_EVENTS:
                    res.on(res_name, on_res(res_name))
                if on_response is not None:
                    return on_response(res)
            return None

        return listener

    def on_res(name: str) -> Callable[..., None]:
        def listener(*args: Any) -> None:
            if name == "error":
                events.append("res.error:" + describe(args[0]))
                if errors is not None:
                    errors.append(args[0])
            else:
                events.append("res." + name)

        return listener

    for name in REQ_EVENTS:
        req.on(name, on_req(name))


@asynccontextmanager
async def raw_server(
    handler: Callable[[trio.SocketStream], Awaitable[None]],
) -> AsyncIterator[int]:
    """Serve ``handler`` for each connection on 127.0.0.1; yields the port."""
    async with trio.open_nursery() as nursery:

        async def guarded(stream: trio.SocketStream) -> None:
            try:
                await handler(stream)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            finally:
                await trio.aclose_forcefully(stream)

        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, guarded, 0, host="127.0.0.1")
        )
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def read_head(stream: trio.abc.ReceiveStream) -> bytes:
    """Read until the end of a request head; returns everything read."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        data += chunk
    return data


class Capture:
    """A raw server that keeps the exact bytes of each request, in arrival order."""

    RESPONSE = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"

    def __init__(self) -> None:
        self.requests: list[bytes] = []

    async def handle(self, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        raw = bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError:
                break  # no Host (set_host=False): the grace period below collects the rest
            if event is h11.NEED_DATA:
                data = await stream.receive_some(65536)
                raw += data
                conn.receive_data(data)
                if not data:
                    break
                continue
            if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        # A body sent without framing (GET with end(data)) is not part of h11's message.
        with trio.move_on_after(0.03):
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    break
                raw += data
        self.requests.append(bytes(raw))
        await stream.send_all(self.RESPONSE)


_NODE_CLIENT = r"""
const http = require('http');
const [port, specs] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
(async () => {
  for (const spec of specs) {
    const opts = Object.assign({host: '127.0.0.1', port}, spec.options || {});
    if (spec.agent === 'none') opts.agent = false;
    if (spec.agent === 'keepalive') opts.agent = new http.Agent({keepAlive: true});
    if (spec.agent === 'plain') opts.agent = new http.Agent();
    const req = spec.url ? http.request(spec.url.replace('PORT', port), opts)
                         : http.request(opts);
    const done = new Promise((resolve, reject) => {
      req.on('response', (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
    });
    for (const op of spec.ops || [['end']]) {
      if (op[0] === 'write') req.write(op[1]);
      else if (op[0] === 'end') { if (op.length > 1) req.end(op[1]); else req.end(); }
      else if (op[0] === 'flush') req.flushHeaders();
      else if (op[0] === 'set') req.setHeader(op[1], op[2]);
      else if (op[0] === 'remove') req.removeHeader(op[1]);
      else if (op[0] === 'trailers') req.addTrailers(op[1]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await done;
  }
})().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
"""


async def node_requests(port: int, specs: list[dict[str, Any]]) -> None:
    """Run Node's ``http.request`` for each spec, one after the other, against ``port``."""
    assert NODE is not None, "node (v20) must be on PATH"
    result = await trio.run_process(
        [NODE, "-e", _NODE_CLIENT, str(port), json.dumps(specs)],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()


_SNAKE = {
    "setHost": "set_host",
    "setDefaultHeaders": "set_default_headers",
    "defaultPort": "default_port",
    "uniqueHeaders": "unique_headers",
}


async def our_requests(port: int, specs: list[dict[str, Any]]) -> None:
    """The same specs through this package's client."""
    for spec in specs:
        options = {_SNAKE.get(k, k): v for k, v in (spec.get("options") or {}).items()}
        agent = spec.get("agent")
        own_agent: http.Agent | None = None
        if agent == "none":
            options["agent"] = False
        elif agent in ("keepalive", "plain"):
            own_agent = options["agent"] = http.Agent(keep_alive=agent == "keepalive")
        if spec.get("url"):
            req = http.request(spec["url"].replace("PORT", str(port)), **options)
        else:
            req = http.request(host="127.0.0.1", port=port, **options)
        for op in spec.get("ops") or [["end"]]:
            if op[0] == "write":
                await req.write(op[1])
            elif op[0] == "end":
                await req.end(*op[1:])
            elif op[0] == "flush":
                await req.flush_headers()
            elif op[0] == "set":
                req.set_header(op[1], op[2])
            elif op[0] == "remove":
                req.remove_header(op[1])
            elif op[0] == "trailers":
                req.add_trailers(op[1])
        res = await req.response()
        await res.resume()
        if own_agent is not None:
            await own_agent.close()
