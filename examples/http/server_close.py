"""Closing a server: ``close()``, ``close_all_connections()``, ``close_idle_connections()``.

Ports X1-24 (``server.close``), X1-25 (``close`` + ``closeAllConnections``)
and X1-26 (``close`` + ``closeIdleConnections``): a JSON server with a long
keep-alive timeout that closes itself after 10 seconds. Node's original::

    const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: 'Hello World!' }));
    });
    server.listen(8000);
    setTimeout(() => {
      server.close(() => {
        console.log('server on port 8000 closed successfully');
      });
      server.closeAllConnections();   // X1-25; X1-26: server.closeIdleConnections()
    }, 10000);

Here ``await server.close()`` returns when the server has closed (the
callback's moment); it stops listening and closes idle connections itself,
then waits for in-flight requests. ``close_all_connections()`` also cuts
those; ``close_idle_connections()`` only the idle ones.

``python server_close.py --mode close|all|idle [--after 10]``;
``--self-test`` runs each mode with a client holding an idle keep-alive
connection and shows that the server closes it.
"""

from __future__ import annotations

import argparse
import json

import trio
from _demo import connect, examples_cli, run, show

from trio_nodehttp import http


async def hello(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(200, {"Content-Type": "application/json"})
    await res.end(json.dumps({"data": "Hello World!"}, separators=(",", ":")))


async def close_after(
    server: http.Server, mode: str, after: float, port: int, start: trio.Event
) -> None:
    await start.wait()
    await trio.sleep(after)
    async with trio.open_nursery() as nursery:

        async def close() -> None:
            await server.close()
            print(f"server on port {port} closed successfully ({mode})")

        nursery.start_soon(close)
        if mode == "all":
            server.close_all_connections()  # X1-25
        elif mode == "idle":
            server.close_idle_connections()  # X1-26


async def keep_alive_client(port: int, answered: trio.Event) -> None:
    conn = await connect(port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head, body = await conn.read_response()
    show(head + body)
    answered.set()
    # The connection stays open (keep-alive, 60 s) until the server closes it.
    rest = await conn.read_to_eof()
    print(f"client: the server closed the idle connection (extra bytes: {rest!r})")
    await conn.aclose()


async def demo(mode: str, host: str, port: int, after: float, self_test: bool) -> None:
    async with http.create_server(hello, keep_alive_timeout=60.0) as server:
        await server.listen(port, host)
        port = server.address()["port"]
        print(f"listening on http://{host}:{port}/, closing in {after:g} s ({mode})")
        start = trio.Event()  # the countdown starts now, or once the test client has its answer
        async with trio.open_nursery() as nursery:
            nursery.start_soon(close_after, server, mode, after, port, start)
            if self_test:
                nursery.start_soon(keep_alive_client, port, start)
            else:
                start.set()


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["close", "all", "idle"], default="close")
    parser.add_argument("--after", type=float, default=10.0, help="seconds (default: 10)")


async def main() -> None:
    args = examples_cli(__doc__, 8000, options)
    if args.self_test:
        for mode in ("close", "all", "idle"):
            await demo(mode, args.host, 0, 0.3, True)
    else:
        await demo(args.mode, args.host, args.port, args.after, False)


if __name__ == "__main__":
    run(main)
