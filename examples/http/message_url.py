"""``req.url`` is only the request target: parse it yourself (X1-44).

For the request ::

    GET /status?name=ryan HTTP/1.1
    Accept: text/plain

``req.url`` is ``'/status?name=ryan'``. Node's docs parse it with
``new URL(`http://${process.env.HOST ?? 'localhost'}${request.url}`)``;
the Python equivalent is :func:`urllib.parse.urlsplit` plus
:func:`urllib.parse.parse_qs`. As the docs warn, do not build that URL from
the ``Host`` header without validating it: the client chooses it.

``--self-test`` sends the docs' request (with a ``Host`` line: an HTTP/1.1
request without one is refused with 400, by Node and by this server) and
prints the parts, like the docs' REPL session.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


def parse_request_url(url: str) -> dict[str, object]:
    host = os.environ.get("HOST", "localhost")
    parts = urlsplit(f"http://{host}{url}")
    return {
        "href": parts.geturl(),
        "origin": f"{parts.scheme}://{parts.netloc}",
        "protocol": f"{parts.scheme}:",
        "username": parts.username or "",
        "password": parts.password or "",
        "host": parts.netloc,
        "hostname": parts.hostname,
        "port": str(parts.port or ""),
        "pathname": parts.path,
        "search": f"?{parts.query}" if parts.query else "",
        "searchParams": parse_qs(parts.query),
        "hash": f"#{parts.fragment}" if parts.fragment else "",
    }


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    print(f"server: req.url = {req.url!r}")
    for key, value in parse_request_url(req.url or "/").items():
        print(f"  {key}: {value!r}")
    await res.end("ok\n")


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ (try: curl 'URL/status?name=ryan')")
            await trio.sleep_forever()
        request = (
            b"GET /status?name=ryan HTTP/1.1\r\n"
            b"Accept: text/plain\r\n"
            b"Host: localhost\r\n"
            b"Connection: close\r\n"
            b"\r\n"
        )
        show(await raw_exchange(port, request))


if __name__ == "__main__":
    run(main)
