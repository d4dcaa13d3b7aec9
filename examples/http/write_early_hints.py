"""``res.write_early_hints()``: ``103 Early Hints`` before the answer (X1-38).

Node's original::

    const earlyHintsLink = '</styles.css>; rel=preload; as=style';
    response.writeEarlyHints({
      'link': earlyHintsLink,
    });

    const earlyHintsLinks = [
      '</styles.css>; rel=preload; as=style',
      '</scripts.js>; rel=preload; as=script',
    ];
    response.writeEarlyHints({
      'link': earlyHintsLinks,
      'x-trace-id': 'id for diagnostics',
    });

    const earlyHintsCallback = () => console.log('early hints message sent');
    response.writeEarlyHints({
      'link': earlyHintsLinks,
    }, earlyHintsCallback);

The callback form becomes an ``await``: it returns once the message is
handed to the connection. A list of links is joined into one ``Link``
line with ``", "``, as Node does.
``--self-test`` prints the three 103 messages and the final 200.
"""

from __future__ import annotations

import trio
from _demo import examples_cli, raw_exchange, run, show

from trio_nodehttp import http


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    early_hints_link = "</styles.css>; rel=preload; as=style"
    await res.write_early_hints({"link": early_hints_link})

    early_hints_links = [
        "</styles.css>; rel=preload; as=style",
        "</scripts.js>; rel=preload; as=script",
    ]
    await res.write_early_hints({"link": early_hints_links, "x-trace-id": "id for diagnostics"})

    await res.write_early_hints({"link": early_hints_links})
    print("early hints message sent")  # what the callback printed

    res.set_header("Content-Type", "text/html")
    await res.end('<link rel="stylesheet" href="/styles.css">\n')


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    async with http.create_server(handler) as server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ (try: curl -v URL)")
            await trio.sleep_forever()
        show(await raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))


if __name__ == "__main__":
    run(main)
