"""Agents: ``agent=False``, a keep-alive ``Agent``, its hooks, ``'agentRemove'`` (X1-03 … X1-07).

Node's snippets::

    http.get(options, (res) => {                  // X1-03
      // Do stuff
    }).on('socket', (socket) => {
      socket.emit('agentRemove');
    });

    http.get({                                    // X1-04
      hostname: 'localhost', port: 80, path: '/',
      agent: false,  // Create a new agent just for this one request
    }, (res) => { /* Do stuff with response */ });

    const keepAliveAgent = new http.Agent({ keepAlive: true });   // X1-05
    options.agent = keepAliveAgent;
    http.request(options, onResponseCallback);

    // X1-06: agent.keepSocketAlive(socket), the default
    socket.setKeepAlive(true, this.keepAliveMsecs);
    socket.unref();
    return true;

    // X1-07: agent.reuseSocket(socket, request), the default
    socket.ref();

``agent=False`` gives the request a one-off agent without keep-alive:
``Connection: close`` goes out and the socket is closed after the answer.
The keep-alive agent is a subclass whose two hooks print, then do what
the defaults do (in Python: ``socket.set_keep_alive(True,
self.keep_alive_initial_delay)`` — Node's ``keepAliveMsecs``, in seconds —
``unref()``/``ref()`` have nothing to do, there is no event loop to keep
alive). Its second request reuses the pooled socket.
"""

from __future__ import annotations

from _demo import examples_cli, listening, run

from trio_nodehttp import http


class LoggingAgent(http.Agent):
    def keep_socket_alive(self, socket: http.Socket) -> bool:
        print(f"  keep_socket_alive({socket.local_port}): pooled")
        socket.set_keep_alive(True, self.keep_alive_initial_delay)
        socket.unref()
        return True

    def reuse_socket(self, socket: http.Socket, request: http.ClientRequest) -> None:
        print(f"  reuse_socket({socket.local_port}, {request.method} {request.path})")
        socket.ref()


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Content-Type", "text/plain")
    await res.end(f"you sent Connection: {req.headers.get('connection')}\n")


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with listening(http.create_server(handler), args) as port:
        print("--- X1-04: agent=False")
        res = await http.get(
            {
                "hostname": args.host,
                "port": port,
                "path": "/",
                "agent": False,  # Create a new agent just for this one request
            }
        )
        print(f"  {await res.text()}", end="")

        print("--- X1-05 … X1-07: a keep-alive agent")
        async with LoggingAgent(keep_alive=True) as keep_alive_agent:
            options = {"hostname": args.host, "port": port, "path": "/"}
            for _ in range(2):
                options["agent"] = keep_alive_agent

                async def on_response(res: http.IncomingMessage) -> None:
                    print(f"  {res.status_code}: {await res.text()}", end="")

                req = http.request(options, on_response)
                await req.end()
                await req.response()
                print(f"  req.reused_socket = {req.reused_socket}")
            print(f"  free sockets: {sum(map(len, keep_alive_agent.free_sockets.values()))}")

        print("--- X1-03: 'agentRemove' keeps a long-lived request's socket out of the pool")
        async with http.Agent(keep_alive=True) as agent:
            req = http.request({**options, "agent": agent})
            req.on("socket", lambda socket: socket.emit("agentRemove"))
            await req.end()
            res = await req.response()
            print(f"  in use while reading: {sum(map(len, agent.sockets.values()))}")
            await res.text()
            print(f"  pooled afterwards: {sum(map(len, agent.free_sockets.values()))}")


if __name__ == "__main__":
    run(main)
