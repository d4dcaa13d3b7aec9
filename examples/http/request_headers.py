"""The outgoing headers of a ``ClientRequest`` (X1-11 … X1-16, X1-19, X1-20).

Node's snippets, in order::

    request.setHeader('content-type', 'text/html');                    // X1-11
    request.setHeader('Content-Length', Buffer.byteLength(body));
    request.setHeader('Cookie', ['type=ninja', 'language=javascript']);
    const contentType = request.getHeader('Content-Type');     // 'text/html'
    const contentLength = request.getHeader('Content-Length'); // a number
    const cookie = request.getHeader('Cookie');                // string[]

    request.setHeader('Foo', 'bar');                                   // X1-12, X1-13
    request.setHeader('Cookie', ['foo=bar', 'bar=baz']);
    request.getHeaderNames();   // ['foo', 'cookie']
    request.getHeaders();       // { foo: 'bar', cookie: ['foo=bar', 'bar=baz'] }

    request.setHeader('Foo', 'bar');                                   // X1-14
    request.setHeader('Set-Cookie', ['foo=bar', 'bar=baz']);
    request.getRawHeaderNames();  // ['Foo', 'Set-Cookie']

    const hasContentType = request.hasHeader('content-type');          // X1-15
    request.removeHeader('Content-Type');                              // X1-16

    request.setHeader('Content-Type', 'application/json');             // X1-19
    request.setHeader('Cookie', ['type=ninja', 'language=javascript']);

    const filename = 'Rock 🎵.txt';                                     // X1-20
    request.setHeader('Content-Disposition',
      `attachment; filename*=utf-8''${encodeURIComponent(filename)}`);

Each snippet runs on its own ``http.request(...)`` (no I/O until it is
sent), the values print with their Python types, and the last request is
sent to a local server that prints the raw headers it received: the
``Cookie`` list went out as one line joined with ``; `` (Node's rule for
``Cookie``; other lists go out as one line per value), the RFC 8187 value
as plain ASCII. A real request also holds the ``Host`` header it made, so
``get_header_names()`` starts with ``'host'``, as in Node.
A value outside latin-1 is refused by ``set_header`` (``ERR_INVALID_CHAR``),
which is why X1-20 encodes the file name.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from _demo import examples_cli, listening, run

from trio_nodehttp import errors, http


def encode_uri_component(text: str) -> str:
    """JavaScript's ``encodeURIComponent``."""
    return quote(text, safe="!*'()")


async def raw_headers(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Content-Type", "application/json")
    await res.end(json.dumps(req.raw_headers, ensure_ascii=False))


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with listening(http.create_server(raw_headers), args) as port:
        url = f"http://{args.host}:{port}/upload"

        body = "olá, mundo"
        request = http.request(url, method="POST")  # X1-11
        request.set_header("content-type", "text/html")
        request.set_header("Content-Length", len(body.encode()))
        request.set_header("Cookie", ["type=ninja", "language=javascript"])
        content_type = request.get_header("Content-Type")
        content_length = request.get_header("Content-Length")
        cookie = request.get_header("Cookie")
        print(f"content_type is {content_type!r}")
        print(f"content_length is of type {type(content_length).__name__}: {content_length}")
        print(f"cookie is of type {type(cookie).__name__}: {cookie}")
        has_content_type = request.has_header("content-type")  # X1-15
        print(f"has_header('content-type') -> {has_content_type}")
        request.remove_header("Content-Type")  # X1-16
        print(f"after remove_header('Content-Type'): {request.has_header('content-type')}")
        request.destroy()

        request = http.request(url)  # X1-12, X1-13
        request.set_header("Foo", "bar")
        request.set_header("Cookie", ["foo=bar", "bar=baz"])
        print(f"get_header_names() == {request.get_header_names()}")
        print(f"get_headers() == {request.get_headers()}")
        request.destroy()

        request = http.request(url)  # X1-14
        request.set_header("Foo", "bar")
        request.set_header("Set-Cookie", ["foo=bar", "bar=baz"])
        print(f"get_raw_header_names() == {request.get_raw_header_names()}")
        request.destroy()

        request = http.request(url, method="POST")  # X1-19, X1-20
        request.set_header("Content-Type", "application/json")
        request.set_header("Cookie", ["type=ninja", "language=javascript"])
        filename = "Rock 🎵.txt"
        try:
            request.set_header("Content-Disposition", f"attachment; filename={filename}")
        except errors.InvalidCharError as e:
            print(f"unencoded: {e.code}: {e}")
        request.set_header(
            "Content-Disposition",
            f"attachment; filename*=utf-8''{encode_uri_component(filename)}",
        )
        async with request:
            await request.end(json.dumps({"name": filename}))
            res = await request.response()
            received = await res.json()
        print("the server received:")
        for name, value in zip(received[::2], received[1::2], strict=True):
            print(f"  {name}: {value}")
        await http.global_agent.close()


if __name__ == "__main__":
    run(main)
