"""``http.create_server``: a JSON "Hello World!" server, written both ways (X1-51, X1-52).

X1-51 passes the handler to ``create_server`` (Node's ``requestListener``);
X1-52 creates the server bare and adds a ``'request'`` listener. This is also
the local server of X1-53. Node's original::

    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: 'Hello World!' }));
    });
    server.listen(8000);

Run ``python create_server.py [--style listener|event] [--port 8000]``, or
``--self-test`` to start both servers on free ports, GET each once and print
the answers.
"""

from __future__ import annotations

import argparse
import json

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


async def hello(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(200, {"Content-Type": "application/json"})
    # JSON.stringify's compact form, byte for byte
    await res.end(json.dumps({"data": "Hello World!"}, separators=(",", ":")))


def make_server(style: str) -> http.Server:
    if style == "listener":
        # X1-51: the request listener given to create_server
        return http.create_server(hello)
    # X1-52: a bare server, then server.on('request', ...)
    server = http.create_server()
    server.on("request", hello)
    return server


async def serve(style: str, host: str, port: int, self_test: bool) -> None:
    async with make_server(style) as server:
        await server.listen(port, host)
        port = server.address()["port"]
        if not self_test:
            print(f"{style} server listening on http://{host}:{port}/")
            await trio.sleep_forever()
        answer = await raw_exchange(
            port, b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        print(f"--- {style} style ---")
        show(answer)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--style", choices=["listener", "event"], default="listener")


async def main() -> None:
    args = examples_cli(__doc__, 8000, options)
    if args.self_test:
        for style in ("listener", "event"):
            await serve(style, args.host, 0, True)
    else:
        await serve(args.style, args.host, args.port, False)


if __name__ == "__main__":
    run(main)
