"""An HTTP tunnelling proxy: the server side of ``'connect'`` (X1-08).

The proxy answers ordinary requests with ``okay`` and, for ``CONNECT
host:port``, opens a TCP connection to that origin, replies ``200
Connection Established``, forwards ``head`` (bytes the client sent after
its CONNECT head) and then pipes both ways. Node's original (server half)::

    proxy.on('connect', (req, clientSocket, head) => {
      const { port, hostname } = new URL(`http://${req.url}`);
      const serverSocket = net.connect(port || 80, hostname, () => {
        clientSocket.write('HTTP/1.1 200 Connection Established\\r\\n' +
                           'Proxy-agent: Node.js-Proxy\\r\\n' +
                           '\\r\\n');
        serverSocket.write(head);
        serverSocket.pipe(clientSocket);
        clientSocket.pipe(serverSocket);
      });
    });
    proxy.listen(1337, '127.0.0.1');

The listener owns the client socket until it returns, then the server
closes it; the two directions are two tasks of one nursery, so the tunnel
ends when both sides have finished. (The client half of X1-08, ``http.request``
with ``method: 'CONNECT'``, belongs with the client examples.)

``--self-test`` starts a small origin server and the proxy on free ports,
then, as a raw client, sends ``CONNECT 127.0.0.1:<origin>`` followed by a
``GET`` through the tunnel, and prints what comes back, as the docs' client
does (the docs tunnel to www.google.com:80; this stays on 127.0.0.1).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import trio
from _demo import connect, examples_cli, run, show

from trio_nodehttp import http


async def okay(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(200, {"Content-Type": "text/plain"})
    await res.end("okay")


async def pipe(source: trio.abc.ReceiveStream, sink: trio.abc.SendStream) -> None:
    """Copy until EOF, then half-close the sink (the other direction may go on)."""
    try:
        while data := await source.receive_some(65536):
            await sink.send_all(data)
        if isinstance(sink, trio.abc.HalfCloseableStream):
            await sink.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def on_connect(req: http.IncomingMessage, client_socket: http.Socket, head: bytes) -> None:
    # Connect to an origin server
    target = urlsplit(f"http://{req.url}")
    hostname, port = target.hostname or "localhost", target.port or 80
    try:
        server_socket = await trio.open_tcp_stream(hostname, port)
    except OSError:
        await client_socket.send_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        return
    async with server_socket:
        await client_socket.send_all(
            b"HTTP/1.1 200 Connection Established\r\nProxy-agent: Node.js-Proxy\r\n\r\n"
        )
        await server_socket.send_all(head)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pipe, server_socket, client_socket)
            nursery.start_soon(pipe, client_socket, server_socket)


async def origin(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Content-Type", "text/plain")
    await res.end(f"hello from the origin, you asked for {req.url}\n")


async def self_test(proxy_port: int) -> None:
    async with http.create_server(origin) as origin_server:
        await origin_server.listen(0, "127.0.0.1")
        authority = f"127.0.0.1:{origin_server.address()['port']}"
        # Make a request to the tunnelling proxy
        conn = await connect(proxy_port)
        await conn.send(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        head = await conn.read_until(b"\r\n\r\n")
        show(head)
        print("got connected!")
        # Make a request over the HTTP tunnel
        await conn.send(
            f"GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode()
        )
        show(await conn.read_to_eof(), prefix="tunnel< ")
        await conn.aclose()


async def main() -> None:
    args = examples_cli(__doc__, 1337)
    proxy = http.create_server(okay)
    proxy.on("connect", on_connect)
    async with proxy:
        # Now that the proxy is running
        await proxy.listen(args.port, args.host)
        port = proxy.address()["port"]
        if not args.self_test:
            print(f"proxy listening on {args.host}:{port} (try: curl -p -x URL http://...)")
            await trio.sleep_forever()
        await self_test(port)


if __name__ == "__main__":
    run(main)
