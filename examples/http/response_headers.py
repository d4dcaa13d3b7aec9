"""The response header store: get/set/has/remove, names and copies.

Ports X1-28 (``getHeader``: the value keeps the type it was set with),
X1-29 (``getHeaderNames``), X1-30 and X1-46 (``getHeaders``, a shallow
copy), X1-31 and X1-47 (``hasHeader``), X1-32 and X1-48 (``removeHeader``)
and X1-33 (``setHeader`` with a string and with a list: one header line per
item). Each snippet runs in the handler of its own path and prints what the
Node docs show in comments; ``--self-test`` requests every path and prints
the headers that went on the wire.
"""

from __future__ import annotations

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http

BODY = b"hello"


def get_header(res: http.ServerResponse) -> None:
    """X1-28."""
    res.set_header("Content-Type", "text/html")
    res.set_header("Content-Length", len(BODY))
    res.set_header("Set-Cookie", ["type=ninja", "language=javascript"])
    content_type = res.get_header("content-type")
    print(f"  content_type is {content_type!r}")
    content_length = res.get_header("Content-Length")
    print(f"  content_length is of type {type(content_length).__name__}: {content_length!r}")
    set_cookie = res.get_header("set-cookie")
    print(f"  set_cookie is of type {type(set_cookie).__name__}: {set_cookie!r}")


def header_names(res: http.ServerResponse) -> None:
    """X1-29, X1-30, X1-46."""
    res.set_header("Foo", "bar")
    res.set_header("Set-Cookie", ["foo=bar", "bar=baz"])
    print(f"  get_header_names() == {res.get_header_names()!r}")
    headers = res.get_headers()
    print(f"  get_headers() == {headers!r}")
    # A shallow copy: the list is shared with the store, the dict is not.
    headers["set-cookie"].append("baz=qux")
    headers["foo"] = "changed in the copy only"
    print(f"  after changing the copy: get_headers() == {res.get_headers()!r}")


def has_and_remove(res: http.ServerResponse) -> None:
    """X1-31, X1-47, X1-32, X1-48."""
    res.set_header("Content-Type", "text/plain")
    res.set_header("Content-Encoding", "identity")
    has_content_type = res.has_header("content-type")
    print(f"  has_header('content-type') -> {has_content_type}")
    res.remove_header("Content-Encoding")
    print(f"  after remove_header('Content-Encoding'): {res.has_header('content-encoding')}")


def set_header(res: http.ServerResponse) -> None:
    """X1-33."""
    res.set_header("Content-Type", "text/html")
    res.set_header("Set-Cookie", ["type=ninja", "language=javascript"])
    print(f"  get_headers() == {res.get_headers()!r}")


ROUTES = {
    "/get-header": get_header,
    "/header-names": header_names,
    "/has-and-remove": has_and_remove,
    "/set-header": set_header,
}


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    demo = ROUTES.get(req.url or "")
    if demo is None:
        res.status_code = 404
        await res.end(f"try one of {', '.join(ROUTES)}\n")
        return
    print(f"server, {req.url} ({demo.__doc__})")
    demo(res)
    await res.end(BODY)


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ paths: {', '.join(ROUTES)}")
            await trio.sleep_forever()
        for path in ROUTES:
            request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            show(await raw_exchange(port, request.encode()))


if __name__ == "__main__":
    run(main)
