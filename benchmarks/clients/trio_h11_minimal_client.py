"""The minimal trio + h11 keep-alive client loop: the ceiling of any h11 client.

One persistent connection per worker (``trio.open_tcp_stream``, which sets
``TCP_NODELAY``) and one ``h11.Connection(h11.CLIENT)``; per request: one
``send_all`` of the request head and end-of-message, 64 KiB reads until
``EndOfMessage``, the body joined, ``start_next_cycle()``. No pool, no
timeouts, no events, no header objects, no retry: what every h11-based
client does at the least.

Usage: python trio_h11_minimal_client.py URL N WORKERS [TIMEOUT_S]
Prints one JSON line: {"requests": ..., "seconds": ..., "errors": ...}
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import h11
import trio
from _harness import Budget, main, spawn_workers

MAX_RECV = 64 * 1024


async def bench(url: str, budget: Budget, workers: int) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = (parts.path or "/").encode("ascii")
    headers = [(b"Host", f"{host}:{port}".encode("ascii"))]

    async def worker() -> None:
        stream: trio.SocketStream | None = None
        conn = h11.Connection(h11.CLIENT)
        while budget.take():
            try:
                if stream is None:
                    stream = await trio.open_tcp_stream(host, port)
                    conn = h11.Connection(h11.CLIENT)
                await stream.send_all(
                    conn.send(h11.Request(method=b"GET", target=target, headers=headers))
                    + conn.send(h11.EndOfMessage())
                )
                status = None
                body = []
                while True:
                    event = conn.next_event()
                    if event is h11.NEED_DATA:
                        conn.receive_data(await stream.receive_some(MAX_RECV))
                    elif type(event) is h11.Response:
                        status = event.status_code
                    elif type(event) is h11.Data:
                        body.append(event.data)
                    elif type(event) is h11.EndOfMessage:
                        break
                    elif type(event) is h11.ConnectionClosed:
                        raise h11.RemoteProtocolError("connection closed mid-response")
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    await stream.aclose()
                    stream = None
                else:
                    conn.start_next_cycle()
            except Exception as exc:
                budget.error(exc)
                if stream is not None:
                    await trio.aclose_forcefully(stream)
                    stream = None
                continue
            budget.done(status, b"".join(body))
        if stream is not None:
            await stream.aclose()

    await spawn_workers(worker, workers)


if __name__ == "__main__":
    sys.exit(main(bench))
