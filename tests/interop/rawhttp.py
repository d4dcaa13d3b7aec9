"""Raw bytes in, raw bytes out: a minimal TCP peer for the parity tests.

``exchange(port, pieces)`` connects to ``127.0.0.1:port``, sends each piece
(with an optional pause before it), optionally half-closes, and collects
everything the server sends until it closes the connection or stays quiet
for ``quiet`` seconds. It returns ``(received, closed)``; ``closed`` is True
when the server ended the connection (EOF or reset) and False when the
connection was still open after the quiet period.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import trio

#: A piece to send: bytes, or ``(pause_seconds, bytes)`` to wait before sending it.
Piece = bytes | tuple[float, bytes]

_DATE = re.compile(rb"\r\nDate: [^\r\n]*\r\n", re.IGNORECASE)


def mask_date(data: bytes) -> bytes:
    """Replace every ``Date`` header value with a fixed placeholder."""
    return _DATE.sub(b"\r\nDate: <masked>\r\n", data)


async def exchange(
    port: int,
    pieces: Sequence[Piece] | bytes,
    *,
    half_close: bool = False,
    quiet: float = 0.25,
    until_closed: float | None = None,
) -> tuple[bytes, bool]:
    """Send ``pieces`` to ``127.0.0.1:port``; return ``(everything received, closed)``.

    Reading stops at EOF / reset, or after ``quiet`` seconds without a byte.
    With ``until_closed`` set, quiet periods are ignored and reading goes on
    until the server closes or ``until_closed`` seconds have passed.
    """
    if isinstance(pieces, bytes):
        pieces = [pieces]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    received = bytearray()
    closed = False
    async with stream:
        sending = True

        async def send_all() -> None:
            nonlocal sending
            try:
                for piece in pieces:
                    if isinstance(piece, tuple):
                        await trio.sleep(piece[0])
                        piece = piece[1]
                    await stream.send_all(piece)
                if half_close:
                    await stream.send_eof()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            finally:
                sending = False

        async def receive_all() -> None:
            nonlocal closed
            end = trio.current_time() + until_closed if until_closed else None
            while True:
                with trio.move_on_at(end if end is not None else trio.current_time() + quiet):
                    try:
                        data = await stream.receive_some(65536)
                    except (trio.BrokenResourceError, ConnectionResetError):
                        closed = True
                        return
                    if not data:
                        closed = True
                        return
                    received.extend(data)
                    continue
                if end is None and sending:
                    continue  # the quiet period starts once everything is sent
                return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(send_all)
            await receive_all()
            nursery.cancel_scope.cancel()
    return bytes(received), closed
