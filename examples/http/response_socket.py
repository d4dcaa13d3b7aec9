"""``res.socket``: who is on the other end (X1-35).

Node's original::

    const server = http.createServer((req, res) => {
      const ip = res.socket.remoteAddress;
      const port = res.socket.remotePort;
      res.end(`Your IP address is ${ip} and your source port is ${port}.`);
    }).listen(3000);

Here ``res.socket`` is a ``trio_nodehttp.Socket`` with Node's attribute
names in snake_case. ``--self-test`` connects from a known local port and
prints the answer, which names that port.
"""

from __future__ import annotations

import trio
from _demo import Raw, examples_cli, run, show

from trio_nodehttp import http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    ip = res.socket.remote_address
    port = res.socket.remote_port
    await res.end(f"Your IP address is {ip} and your source port is {port}.")


async def main() -> None:
    args = examples_cli(__doc__, 3000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/")
            await trio.sleep_forever()
        sock = trio.socket.socket()
        await sock.bind(("127.0.0.1", 0))
        await sock.connect(("127.0.0.1", port))
        print(f"client: connecting from port {sock.getsockname()[1]}")
        conn = Raw(trio.SocketStream(sock))
        await conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        show(await conn.read_to_eof())
        await conn.aclose()


if __name__ == "__main__":
    run(main)
