"""``res.complete``: was the whole response received? (X1-40)

Node's original::

    const req = http.request({
      host: '127.0.0.1',
      port: 8080,
      method: 'POST',
    }, (res) => {
      res.resume();
      res.on('end', () => {
        if (!res.complete)
          console.error(
            'The connection was terminated while the message was still being sent');
      });
    });

The local server answers ``/whole`` in full, and ``/cut`` with a
``Content-Length`` of 100 but only 11 bytes before it drops the
connection. Reading the body of ``/cut`` (``await res.resume()``) raises
``ECONNRESET`` (``aborted``) instead of ending, and the response never
becomes ``complete``: the check of the docs is made where the reading
stops, after the ``'end'`` listener (whole body) or the error (cut).
"""

from __future__ import annotations

from _demo import examples_cli, listening, run

from trio_nodehttp import errors, http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await req.resume()
    if req.url == "/cut":
        res.write_head(200, {"Content-Length": "100"})
        await res.write(b"first part\n")
        res.destroy()  # the connection ends while the message is still being sent
        return
    await res.end(b"the whole message\n")


async def post(host: str, port: int, path: str) -> None:
    req = http.request({"host": host, "port": port, "method": "POST", "path": path})
    await req.end()
    res = await req.response()

    def on_end() -> None:
        print(f"{path}: 'end', res.complete = {res.complete}")

    res.on("end", on_end)
    try:
        await res.resume()
    except errors.NodeError as err:
        print(f"{path}: {err.code} ({err}), res.complete = {res.complete}")
    if not res.complete:
        print("The connection was terminated while the message was still being sent")


async def main() -> None:
    args = examples_cli(__doc__, 8080)
    async with listening(http.create_server(handler), args) as port:
        await post(args.host, port, "/whole")
        await post(args.host, port, "/cut")
        await http.global_agent.close()


if __name__ == "__main__":
    run(main)
