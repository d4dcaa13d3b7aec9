"""``'checkContinue'`` and ``'checkExpectation'``: deciding on ``Expect`` yourself.

The Node docs describe these two events without code (inventory H1-079,
H1-080, R1-042, R1-043); this example shows both. A client that sends
``Expect: 100-continue`` waits for ``100 Continue`` before sending its body.
Without a ``'checkContinue'`` listener the server says ``100 Continue`` by
itself and emits ``'request'``; with one, the listener decides (and
``'request'`` is not emitted): here, bodies over 1 KiB are refused with 413
before a byte of them is sent, others get ``await res.write_continue()``.
An ``Expect`` other than ``100-continue`` goes to ``'checkExpectation'``
(without a listener: ``417 Expectation Failed``).

``--self-test`` runs three raw clients: a small upload (100, then 200), a
large one (413, body never sent) and an unknown expectation.
"""

from __future__ import annotations

import trio
from _demo import connect, examples_cli, run, show

from trio_nodehttp import http

LIMIT = 1024


async def on_check_continue(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    length = int(str(req.headers.get("content-length", "0")))
    if length > LIMIT:
        res.write_head(413, {"Connection": "close"})
        await res.end(f"at most {LIMIT} bytes, please\n")
        return
    await res.write_continue()
    body = await req.read()
    await res.end(f"received {len(body)} bytes\n")


async def on_check_expectation(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(417)
    await res.end(f"cannot meet the expectation {req.headers.get('expect')!r}\n")


async def request(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.end("no Expect header here\n")


async def upload(port: int, size: int) -> None:
    print(f"--- Expect: 100-continue with {size} bytes ---")
    conn = await connect(port)
    await conn.send(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % size
    )
    interim_or_final = await conn.read_until(b"\r\n\r\n")
    show(interim_or_final)
    if interim_or_final.startswith(b"HTTP/1.1 100"):
        await conn.send(b"x" * size)
        show(await conn.read_to_eof())
    else:
        print("(the body was never sent)")
        show(await conn.read_to_eof())
    await conn.aclose()


async def other_expectation(port: int) -> None:
    print("--- Expect: something-else ---")
    conn = await connect(port)
    await conn.send(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: something-else\r\n\r\n"
    )
    show(await conn.read_to_eof())
    await conn.aclose()


async def main() -> None:
    args = examples_cli(__doc__, 8000)
    server = http.create_server(request)
    server.on("checkContinue", on_check_continue)
    server.on("checkExpectation", on_check_expectation)
    async with server:
        await server.listen(args.port, args.host)
        port = server.address()["port"]
        if not args.self_test:
            print(f"listening on http://{args.host}:{port}/ (try: curl -d @file URL)")
            await trio.sleep_forever()
        await upload(port, 100)
        await upload(port, 5000)
        await other_expectation(port)


if __name__ == "__main__":
    run(main)
