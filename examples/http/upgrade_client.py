"""The client side of ``'upgrade'``: ask to switch protocols (X1-10).

Node's original (client half; the server is ``upgrade_echo.py``)::

    server.listen(1337, '127.0.0.1', () => {
      // make a request
      const options = {
        port: 1337,
        host: '127.0.0.1',
        headers: {
          'Connection': 'Upgrade',
          'Upgrade': 'websocket',
        },
      };
      const req = http.request(options);
      req.end();
      req.on('upgrade', (res, socket, upgradeHead) => {
        console.log('got upgraded!');
        socket.end();
        process.exit(0);
      });
    });

The echo server of ``upgrade_echo.py`` runs here too. The ``'upgrade'``
listener (async) gets the ``101`` response, the connection's
``trio_nodehttp.Socket`` and ``upgrade_head`` (bytes that came after the
101 head), owns the socket until it returns (then it is closed: Node's
``socket.end()``), and here talks the new "protocol" once: a line, echoed.
"""

from __future__ import annotations

from _demo import examples_cli, listening, run
from upgrade_echo import okay, on_upgrade

from trio_nodehttp import http


async def main() -> None:
    args = examples_cli(__doc__, 1337)
    server = http.create_server(okay)
    server.on("upgrade", on_upgrade)
    async with listening(server, args) as port:
        # make a request
        options = {
            "port": port,
            "host": args.host,
            "headers": {
                "Connection": "Upgrade",
                "Upgrade": "websocket",
            },
        }
        req = http.request(options)
        await req.end()

        async def on_upgraded(
            res: http.IncomingMessage, socket: http.Socket, upgrade_head: bytes
        ) -> None:
            print("got upgraded!")
            print(f"{res.status_code} {res.status_message}, upgrade: {res.headers['upgrade']}")
            await socket.send_all(b"ping over the new protocol\n")
            echo = upgrade_head
            while not echo.endswith(b"\n"):
                echo += await socket.receive_some()
            print(f"echo: {echo!r}")

        req.on("upgrade", on_upgraded)
        await req.response()


if __name__ == "__main__":
    run(main)
