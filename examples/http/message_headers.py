"""What a request's headers look like: ``headers``, ``headers_distinct``, ``raw_headers``.

Ports X1-01 (the header object: lower-case names, values untouched),
X1-02 (``rawHeaders``: the flat list, names as received), X1-41
(``message.headers``), X1-42 (``message.headersDistinct``: every value a
list) and X1-43 (``message.rawHeaders`` with a duplicate ``user-agent``,
of which ``headers`` keeps only the first). The handler prints the three
views; ``--self-test`` sends two requests with the docs' header lines:

* the intro's (X1-01, X1-02), with a single ``ConTent-Length``: a request
  carrying two ``Content-Length`` lines is refused by Node's parser (400),
  so the docs' ``content-LENGTH: 123`` duplicate cannot be sent;
* ``message.rawHeaders``' (X1-41 to X1-43), with its two user agents.
"""

from __future__ import annotations

from pprint import pformat

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await req.resume()  # read (and drop) the body, if any
    print(f"server: {req.method} {req.url}")
    print("  req.headers =\n" + pformat(req.headers, indent=4, sort_dicts=False))
    print("  req.headers_distinct =\n" + pformat(req.headers_distinct, indent=4, sort_dicts=False))
    print("  req.raw_headers =\n" + pformat(req.raw_headers, indent=4))
    await res.end("seen\n")


INTRO = (
    b"POST /intro HTTP/1.1\r\n"
    b"ConTent-Length: 6\r\n"
    b"content-type: text/plain\r\n"
    b"CONNECTION: keep-alive\r\n"
    b"Host: example.com\r\n"
    b"accepT: */*\r\n"
    b"\r\n"
    b"123456"
)
RAW_HEADERS = (
    b"GET /raw-headers HTTP/1.1\r\n"
    b"user-agent: this is invalid because there can be only one\r\n"
    b"User-Agent: curl/7.22.0\r\n"
    b"Host: 127.0.0.1:8000\r\n"
    b"ACCEPT: */*\r\n"
    b"Connection: close\r\n"
    b"\r\n"
)


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ (try: curl -H 'X-A: 1' URL)")
            await trio.sleep_forever()
        # The intro request says keep-alive: send both on one connection, the second closes it.
        show(await raw_exchange(port, INTRO + RAW_HEADERS))


if __name__ == "__main__":
    run(main)
