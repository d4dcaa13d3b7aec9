"""``request.reused_socket``, and retrying on ``ECONNRESET`` (X1-17, X1-18).

Node's originals::

    // X1-17: the server has a 5 s keep-alive timeout by default
    http.createServer((req, res) => {
      res.write('hello\\n');
      res.end();
    }).listen(3000);
    setInterval(() => {
      // adapting a keep-alive agent
      http.get('http://localhost:3000', { agent }, (res) => {
        res.on('data', (data) => { /* do nothing */ });
      });
    }, 5000);

    // X1-18
    const agent = new http.Agent({ keepAlive: true });
    function retriableRequest() {
      const req = http.get('http://localhost:3000', { agent }, (res) => {
        // ...
      }).on('error', (err) => {
        // Check if retry is needed
        if (req.reusedSocket && err.code === 'ECONNRESET') {
          retriableRequest();
        }
      });
    }
    retriableRequest();

First three GETs through a keep-alive agent, 0.1 s apart (well inside the
server's keep-alive timeout): the first opens a socket, the next ones
reuse it (``req.reused_socket``). Then the server turns hostile: it drops
every connection, without an answer, on its second request. A POST sent
on the reused socket fails with ``ECONNRESET`` while ``req.reused_socket``
is true, and the docs' ``retriable_request`` sends it again on a new
socket. (A GET needs no such code here: it is idempotent, and the agent
itself retries an idempotent request once when a reused socket fails
before any byte of the answer; the last line shows it.)
"""

from __future__ import annotations

import trio
from _demo import examples_cli, listening, run

from trio_nodehttp import errors, http

#: Requests seen per connection (remote address and port), for the hostile phase.
seen: dict[tuple[object, object], int] = {}
hostile = False


async def hello(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    key = (req.socket.remote_address, req.socket.remote_port)
    seen[key] = seen.get(key, 0) + 1
    await req.resume()
    if hostile and seen[key] > 1:
        req.socket.destroy()  # the "unlucky moment": closed instead of answered
        return
    await res.write("hello\n")
    await res.end()


async def retriable_request(url: str, agent: http.Agent, attempt: int = 1) -> None:
    req = http.request(url, method="POST", agent=agent)
    try:
        await req.end(b"some data")
        res = await req.response()
        text = await res.text()
        print(f"attempt {attempt}: {res.status_code} {text!r} reused_socket={req.reused_socket}")
    except errors.NodeError as err:
        print(f"attempt {attempt}: {err.code} ({err}) reused_socket={req.reused_socket}")
        # Check if retry is needed
        if req.reused_socket and err.code == "ECONNRESET":
            await retriable_request(url, agent, attempt + 1)
        else:
            raise


async def main() -> None:
    global hostile
    args = examples_cli(__doc__, 3000)
    async with listening(http.create_server(hello), args) as port:
        url = f"http://{args.host}:{port}/"
        async with http.Agent(keep_alive=True) as agent:
            print("--- X1-17: polling with a keep-alive agent")
            for _ in range(3):
                req = http.request(url, agent=agent)
                await req.end()
                res = await req.response()
                res.on("data", lambda data: None)  # do nothing
                await res.resume()
                print(f"GET: {res.status_code}, reused_socket={req.reused_socket}")
                await trio.sleep(0.1)

            print("--- X1-18: the server now drops a connection's second request")
            hostile = True
            await retriable_request(url, agent)  # the pooled socket: dropped, then retried
            await retriable_request(url, agent)  # likewise, on the socket the retry pooled
            req = http.request(url, agent=agent)
            await req.end()
            res = await req.response()
            print(f"GET: {res.status_code} {await res.text()!r} (retried by the agent itself)")


if __name__ == "__main__":
    run(main)
