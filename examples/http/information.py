"""The ``'information'`` event of a client request: 1xx before the answer (X1-09).

Node's original::

    const options = { host: '127.0.0.1', port: 8080, path: '/length_request' };
    // Make a request
    const req = http.request(options);
    req.end();
    req.on('information', (info) => {
      console.log(`Got information prior to main response: ${info.statusCode}`);
    });

The local server answers ``/length_request`` with ``102 Processing``,
then ``103 Early Hints`` (``res.write_processing()``,
``res.write_early_hints(...)``), then the response. The listener gets
Node's ``info`` object as a ``dict`` with snake_case keys
(``status_code``, ``status_message``, ``headers``, ``raw_headers`` ...). A
``101`` never fires it (see ``upgrade_client.py``).
"""

from __future__ import annotations

from typing import Any

from _demo import examples_cli, listening, run

from trio_nodehttp import http


async def slow_length(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_processing()
    await res.write_early_hints({"link": "</styles.css>; rel=preload; as=style"})
    res.set_header("Content-Type", "text/plain")
    await res.end(f"the length of {req.url!r} is {len(req.url or '')}\n")


async def main() -> None:
    args = examples_cli(__doc__, 8080)
    async with listening(http.create_server(slow_length), args) as port:
        options = {"host": args.host, "port": port, "path": "/length_request"}
        # Make a request
        req = http.request(options)
        await req.end()

        def on_information(info: dict[str, Any]) -> None:
            print(f"Got information prior to main response: {info['status_code']}")
            if info["headers"]:
                print(f"  with headers {info['headers']}")

        req.on("information", on_information)
        res = await req.response()  # the 1xx responses are read (and told) on the way
        print(f"then: {res.status_code} {res.status_message}: {await res.text()}", end="")
        await http.global_agent.close()


if __name__ == "__main__":
    run(main)
