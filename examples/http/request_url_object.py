"""A URL object as the options of ``http.request`` (X1-55).

Node's original::

    const options = new URL('http://abc:');
    const req = http.request(options, (res) => {
      // ...
    });

Python's URL object is :func:`urllib.parse.urlsplit`'s ``SplitResult``;
``http.request`` turns it into options as Node's ``urlToHttpOptions``
does (``http://abc:`` has an empty port: the default, 80; user info
becomes ``auth``). ``http.request`` does no I/O, so the request to
``abc`` can be looked at and dropped without any network. Then a
``SplitResult`` of the local server's URL, with user info (percent-encoded) and a query, is
really sent, and the server prints what it got.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from _demo import examples_cli, listening, run

from trio_nodehttp import http


async def show_request(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    seen = {"url": req.url, "host": req.headers["host"], "auth": req.headers.get("authorization")}
    res.set_header("Content-Type", "application/json")
    await res.end(json.dumps(seen))


async def main() -> None:
    args = examples_cli(__doc__, 8000)

    options = urlsplit("http://abc:")
    req = http.request(options)  # no I/O yet
    print(f"{req.protocol=} {req.host=} {req.path=} {req.method=}")
    print(f"req.get_header('host') = {req.get_header('host')!r}")
    req.destroy()  # never sent

    async with listening(http.create_server(show_request), args) as port:
        url = urlsplit(f"http://ryan:s%40cret@{args.host}:{port}/status?name=ryan")
        async with http.request(url) as req:
            await req.end()
            res = await req.response()
            print(f"server saw: {await res.text()}")
        await http.global_agent.close()


if __name__ == "__main__":
    run(main)
