"""The server side of ``'upgrade'``: switch protocols, then echo (X1-10).

Node's original (server half)::

    server.on('upgrade', (req, socket, head) => {
      socket.write('HTTP/1.1 101 Web Socket Protocol Handshake\\r\\n' +
                   'Upgrade: WebSocket\\r\\n' +
                   'Connection: Upgrade\\r\\n' +
                   '\\r\\n');
      socket.pipe(socket); // echo back
    });
    server.listen(1337, '127.0.0.1');

An ``'upgrade'`` listener gets the request, the connection's
``trio_nodehttp.Socket`` (a trio stream) and ``head``, the bytes that came
after the request head in the same read; it owns the socket until it
returns. Requests without ``Connection: upgrade`` + ``Upgrade`` go to
``'request'`` (``okay``).

``--self-test`` sends the upgrade request and ``ping`` in one write (so
``ping`` arrives as ``head``), prints the 101 head and "got upgraded!",
sends ``pong`` on the upgraded connection and prints both echoes.
"""

from __future__ import annotations

import trio
from _demo import connect, examples_cli, run, show

from trio_nodehttp import http


async def okay(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(200, {"Content-Type": "text/plain"})
    await res.end("okay")


async def on_upgrade(req: http.IncomingMessage, socket: http.Socket, head: bytes) -> None:
    await socket.send_all(
        b"HTTP/1.1 101 Web Socket Protocol Handshake\r\n"
        b"Upgrade: WebSocket\r\n"
        b"Connection: Upgrade\r\n"
        b"\r\n"
    )
    # socket.pipe(socket): echo back, starting with what came along with the request
    if head:
        await socket.send_all(head)
    try:
        while data := await socket.receive_some(65536):
            await socket.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def self_test(port: int) -> None:
    conn = await connect(port)
    await conn.send(
        b"GET / HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Connection: Upgrade\r\n"
        b"Upgrade: websocket\r\n"
        b"\r\n"
        b"ping"
    )
    show(await conn.read_until(b"\r\n\r\n"))
    print("got upgraded!")
    print(f"echo of head: {await conn.read_exactly(4)!r}")
    await conn.send(b"pong")
    print(f"echo: {await conn.read_exactly(4)!r}")
    await conn.aclose()


async def main() -> None:
    args = examples_cli(__doc__, 1337)
    server = http.create_server(okay)
    server.on("upgrade", on_upgrade)
    async with server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/")
            await trio.sleep_forever()
        await self_test(port)


if __name__ == "__main__":
    run(main)
