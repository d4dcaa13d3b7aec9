"""``res.write_head(...)`` returns the response, so ``.end()`` chains (X1-39).

Node's original::

    const body = 'hello world';
    response
      .writeHead(200, {
        'Content-Length': Buffer.byteLength(body),
        'Content-Type': 'text/plain',
      })
      .end(body);

``write_head`` is a plain method (it only stores the head) and ``end`` is
awaited, so the chain reads ``await res.write_head(...).end(body)``.
``Content-Length`` counts bytes, not characters: ``len(body.encode())`` is
``Buffer.byteLength``. ``--self-test`` prints the raw answer.
"""

from __future__ import annotations

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    body = "hello world"
    await res.write_head(
        200,
        {
            "Content-Length": len(body.encode("utf-8")),
            "Content-Type": "text/plain",
        },
    ).end(body)


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/")
            await trio.sleep_forever()
        show(await raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))


if __name__ == "__main__":
    run(main)
