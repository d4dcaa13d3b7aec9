"""The ``'clientError'`` event: answering a malformed request yourself (X1-22, X1-23).

Without a listener the server answers bad input with Node's fixed
``HTTP/1.1 400 Bad Request\\r\\nConnection: close\\r\\n\\r\\n``; with one, the
listener owns the reply and must close the socket. X1-23's guard skips
sockets that are already gone (``ECONNRESET``) or no longer writable.
Node's original::

    server.on('clientError', (err, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        return;
      }
      socket.end('HTTP/1.1 400 Bad Request\\r\\n\\r\\n');
    });

``--self-test`` sends a header line without a colon and prints the answer.
"""

from __future__ import annotations

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.end()


async def on_client_error(err: Exception, socket: http.Socket) -> None:
    print(f"clientError: {type(err).__name__} code={getattr(err, 'code', None)}")
    # X1-23: the connection may already be gone
    if getattr(err, "code", None) == "ECONNRESET" or not socket.writable:
        return
    # X1-22: Node's socket.end(data) is send_all, then end
    await socket.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    socket.end()


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    server = http.create_server(handler)
    server.on("clientError", on_client_error)
    async with server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/")
            await trio.sleep_forever()
        answer = await raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
        show(answer)


if __name__ == "__main__":
    run(main)
