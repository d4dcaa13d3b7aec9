"""``req.socket``: the local address and port of a client request (X1-21).

Node's original (which asks www.google.com; this one a local server)::

    const options = { host: 'www.google.com' };
    const req = http.get(options);
    req.end();
    req.once('response', (res) => {
      const ip = req.socket.localAddress;
      const port = req.socket.localPort;
      console.log(`Your IP address is ${ip} and your source port is ${port}.`);
      // Consume response object
    });

``req.socket`` is the connection's ``trio_nodehttp.Socket`` once the
request has one (its ``'socket'`` event); the ``'response'`` listener
prints its local end, then the response is consumed. The server prints the
remote end it saw, which is the same address and port.
"""

from __future__ import annotations

from _demo import examples_cli, listening, run

from trio_nodehttp import http


async def whoami(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    sock = req.socket
    await res.end(f"server: you are {sock.remote_address} port {sock.remote_port}\n")


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with listening(http.create_server(whoami), args) as port:
        req = http.request({"host": args.host, "port": port})
        await req.end()

        def on_response(res: http.IncomingMessage) -> None:
            assert req.socket is not None
            ip = req.socket.local_address
            port = req.socket.local_port
            print(f"Your IP address is {ip} and your source port is {port}.")

        req.once("response", on_response)
        res = await req.response()
        # Consume response object
        print(await res.text(), end="")
        await http.global_agent.close()


if __name__ == "__main__":
    run(main)
