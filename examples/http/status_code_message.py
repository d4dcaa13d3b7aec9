"""``res.status_code`` and ``res.status_message`` with implicit headers (X1-36, X1-37).

Node's originals::

    response.statusCode = 404;
    response.statusMessage = 'Não encontrado';

Without ``write_head`` these two properties decide the status line when the
head goes out. The reason phrase is sent as latin-1 bytes, as Node sends it
(``ã`` is one byte, ``0xE3``). ``--self-test`` prints the status line of
``/`` (404 with the custom phrase) and of ``/standard`` (404 with the
standard one).
"""

from __future__ import annotations

import trio
from _demo import examples_cli, raw_exchange, run

from trio_nodehttp import http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.status_code = 404  # X1-36
    if req.url != "/standard":
        res.status_message = "Não encontrado"  # X1-37
    await res.end("nothing here\n")
    print(f"server: sent {res.status_code} {res.status_message!r}")


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/")
            await trio.sleep_forever()
        for path in ("/", "/standard"):
            request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            answer = await raw_exchange(port, request.encode())
            status_line = answer.split(b"\r\n", 1)[0]
            print(f"client: {path} -> {status_line!r} = {status_line.decode('latin-1')!r}")


if __name__ == "__main__":
    run(main)
