"""``set_header`` / ``set_headers`` merged with ``write_head``: ``write_head`` wins.

Ports X1-34 (``setHeader`` text/html + ``X-Foo``, then ``writeHead`` with
text/plain: the answer is text/plain and keeps ``X-Foo``), X1-49
(``setHeaders`` with a ``Headers`` or a ``Map``: here any mapping, or an
iterable of pairs) and X1-50 (``setHeaders`` then ``writeHead``: text/plain
again). Node's original of X1-34::

    const server = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.setHeader('X-Foo', 'bar');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });

``--self-test`` requests each path and prints the heads that came back.
"""

from __future__ import annotations

from types import MappingProxyType

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


async def set_header_then_write_head(res: http.ServerResponse) -> None:
    """X1-34: returns content-type = text/plain."""
    res.set_header("Content-Type", "text/html")
    res.set_header("X-Foo", "bar")
    res.write_head(200, {"Content-Type": "text/plain"})
    await res.end("ok")


async def set_headers_mapping(res: http.ServerResponse) -> None:
    """X1-49: a Headers-like mapping, or a Map-like list of pairs."""
    headers = MappingProxyType({"foo": "bar"})  # any Mapping plays Node's Headers
    res.set_headers(headers)
    pairs = [("x-from-pairs", "baz")]  # new Map([['x-from-pairs', 'baz']])
    res.set_headers(pairs)
    await res.end("ok")


async def set_headers_then_write_head(res: http.ServerResponse) -> None:
    """X1-50: returns content-type = text/plain."""
    res.set_headers({"Content-Type": "text/html"})
    res.write_head(200, {"Content-Type": "text/plain"})
    await res.end("ok")


ROUTES = {
    "/set-header-then-write-head": set_header_then_write_head,
    "/set-headers-mapping": set_headers_mapping,
    "/set-headers-then-write-head": set_headers_then_write_head,
}


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    demo = ROUTES.get(req.url or "")
    if demo is None:
        res.status_code = 404
        await res.end(f"try one of {', '.join(ROUTES)}\n")
        return
    await demo(res)


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ paths: {', '.join(ROUTES)}")
            await trio.sleep_forever()
        for path, demo in ROUTES.items():
            print(f"--- {path}: {demo.__doc__}")
            request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            show(await raw_exchange(port, request.encode()))


if __name__ == "__main__":
    run(main)
