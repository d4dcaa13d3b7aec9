"""The client side of ``'connect'``: a request through a tunnelling proxy (X1-08).

Node's original (client half; the proxy is ``connect_proxy.py``)::

    proxy.listen(1337, '127.0.0.1', () => {
      // Make a request to a tunneling proxy
      const options = {
        port: 1337, host: '127.0.0.1', method: 'CONNECT', path: 'www.google.com:80',
      };
      const req = http.request(options);
      req.end();
      req.on('connect', (res, socket, head) => {
        console.log('got connected!');
        // Make a request over an HTTP tunnel
        socket.write('GET / HTTP/1.1\\r\\n' +
                     'Host: www.google.com:80\\r\\n' +
                     'Connection: close\\r\\n' +
                     '\\r\\n');
        socket.on('data', (chunk) => { console.log(chunk.toString()); });
        socket.on('end', () => { proxy.close(); });
      });
    });

The proxy of ``connect_proxy.py`` runs here too, and the tunnel leads to
a small origin server on 127.0.0.1 instead of www.google.com. A
``'connect'`` listener (async) gets the response, the tunnel's
``trio_nodehttp.Socket`` and ``head``, and owns the socket until it
returns; ``await req.response()`` returns once it has.
"""

from __future__ import annotations

import argparse

from _demo import examples_cli, listening, run
from connect_proxy import okay, on_connect, origin

from trio_nodehttp import http


async def main() -> None:
    args = examples_cli(__doc__, 1337)
    proxy = http.create_server(okay)
    proxy.on("connect", on_connect)
    origin_server = http.create_server(origin)
    on_free_port = argparse.Namespace(host=args.host, port=0)
    async with listening(origin_server, on_free_port) as origin_port:
        async with listening(proxy, args) as proxy_port:
            authority = f"127.0.0.1:{origin_port}"
            # Make a request to a tunneling proxy
            options = {
                "port": proxy_port,
                "host": args.host,
                "method": "CONNECT",
                "path": authority,
            }
            req = http.request(options)
            await req.end()

            async def on_tunnel(
                res: http.IncomingMessage, socket: http.Socket, head: bytes
            ) -> None:
                print("got connected!")
                print(f"proxy said: {res.status_code} {res.status_message}, {res.headers}")
                # Make a request over an HTTP tunnel
                await socket.send_all(
                    f"GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode()
                )
                received = head
                while chunk := await socket.receive_some():
                    received += chunk
                for line in received.decode().split("\r\n"):
                    if not line.lower().startswith("date:"):
                        print(f"tunnel< {line}")

            req.on("connect", on_tunnel)
            await req.response()
            print("the tunnel ended")


if __name__ == "__main__":
    run(main)
