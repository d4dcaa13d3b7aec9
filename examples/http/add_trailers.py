"""Trailers: ``res.add_trailers()`` after a chunked body (X1-27, X1-45).

Trailers go out only with a chunked body and HTTP needs a ``Trailer``
header naming them. Node's original (``response`` and ``OutgoingMessage``
alike)::

    response.writeHead(200, { 'Content-Type': 'text/plain',
                              'Trailer': 'Content-MD5' });
    response.write(fileData);
    response.addTrailers({ 'Content-MD5': '7895bf4b8828b55ceaf47747b4bca667' });
    response.end();

``--self-test`` GETs it once and prints the raw answer: the body chunk, the
last chunk ``0`` and the ``Content-MD5`` trailer after it. (As in Node, a
``Trailer`` header on a response that cannot be chunked, the answer to an
HTTP/1.0 request, raises ``ERR_HTTP_TRAILER_INVALID`` from ``write_head``;
trailers added without that header are dropped silently there.)
"""

from __future__ import annotations

import hashlib

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http

FILE_DATA = b"the contents of some file\n"


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(200, {"Content-Type": "text/plain", "Trailer": "Content-MD5"})
    await res.write(FILE_DATA)
    res.add_trailers({"Content-MD5": hashlib.md5(FILE_DATA).hexdigest()})
    await res.end()


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ (try: curl --raw -i URL)")
            await trio.sleep_forever()
        show(await raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))


if __name__ == "__main__":
    run(main)
