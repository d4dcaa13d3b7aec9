"""The minimal trio + h11 keep-alive server: the ceiling of any h11-based design.

One task per connection, one ``h11.Connection(h11.SERVER)`` per task, reads of
64 KiB, every request answered with the same 200 hello-world in a single
``send_all`` (head + body + end-of-message concatenated). No timeouts, no
events, no header objects: the same loop as h11's ``examples/trio-server.py``
with the extras taken out.

Usage: python trio_h11_minimal.py PORT   (listens on 127.0.0.1)
"""

import sys
import time
from email.utils import formatdate

import h11
import trio

BODY = b"Hello, world!\n"
MAX_RECV = 64 * 1024

_date_second = -1
_date_value = b""


def http_date() -> bytes:
    """The ``Date`` header value, formatted at most once per second."""
    global _date_second, _date_value
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_value = formatdate(now, usegmt=True).encode("ascii")
    return _date_value


async def handle(stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(MAX_RECV))
                continue
            if type(event) is h11.EndOfMessage:
                # The request (head and, for GET, empty body) is in: answer it.
                headers = [
                    (b"Content-Type", b"text/plain"),
                    (b"Content-Length", b"%d" % len(BODY)),
                    (b"Date", http_date()),
                ]
                await stream.send_all(
                    conn.send(h11.Response(status_code=200, headers=headers, reason=b"OK"))
                    + conn.send(h11.Data(data=BODY))
                    + conn.send(h11.EndOfMessage())
                )
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
            elif type(event) is h11.ConnectionClosed:
                return
            # h11.Request and h11.Data: keep reading until EndOfMessage.
    except (h11.RemoteProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
        return
    finally:
        await stream.aclose()


async def main(port: int) -> None:
    await trio.serve_tcp(handle, port, host="127.0.0.1")


if __name__ == "__main__":
    try:
        trio.run(main, int(sys.argv[1]))
    except KeyboardInterrupt:
        pass
