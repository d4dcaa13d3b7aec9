"""The ``'clientError'`` error is Node v20's: ``code``, message, ``bytesParsed`` (H1-081…H1-083).

Every bad input of ``test_parity_node.py`` (its ``MALFORMED`` cases and the
``DIFFERENCES`` that are bad input for Node) is sent, at the same time, to
Node's own server (``node_client_error_server.js``) and to this package's,
each with a ``'clientError'`` listener that answers a raw 400 whose body is
the JSON record ``{code, message, bytesParsed, rawPacketLength}`` of the
error. The records must be equal; where they cannot be (h11 is the parser,
DESIGN §1), ``EXPECTED_DIFFERENCES`` says why and what ours records instead,
and that is asserted, never skipped.

Servers start once per option set for the module (Node as a subprocess, ours
on its own ``trio.run`` in a thread); every exchange runs concurrently once,
each bounded by ``fail_after``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_parity_node as parity
import trio
from parity_app import python_options
from rawhttp import Piece, exchange

from trio_nodehttp import http
from trio_nodehttp._net import Socket

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent
NODE = shutil.which("node")

Record = dict[str, Any]

#: (id, bytes to send, option set) for every bad input of test_parity_node.py
CASES: list[tuple[str, list[Piece] | bytes, str]] = [
    (c.id, c.pieces, c.options) for c in parity.MALFORMED
] + [(d.id, d.pieces, "default") for d in parity.DIFFERENCES]


# -- the two servers ----------------------------------------------------------------------


def _record_body(record: Record) -> bytes:
    """The raw 400 both listeners write: Node's ``JSON.stringify`` of the record as its body."""
    body = json.dumps(record, separators=(",", ":")).encode()
    return (
        b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


class _NodeServer(parity._NodeServer):
    def __init__(self, options: dict[str, Any]) -> None:
        assert NODE is not None, "node (v20) must be on PATH"
        self.proc = subprocess.Popen(
            [NODE, str(HERE / "node_client_error_server.js"), json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())


async def _hi(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    async for _ in req:
        pass
    await res.end("hi")


async def _on_client_error(err: BaseException, socket: Socket) -> None:
    raw = getattr(err, "raw_packet", None)
    record = {
        "code": getattr(err, "code", None),
        "message": str(err),
        "bytesParsed": getattr(err, "bytes_parsed", None),
        "rawPacketLength": None if raw is None else len(raw),
    }
    if socket.writable:
        await socket.send_all(_record_body(record))
    socket.destroy()


class _PyServer(parity._PyServer):
    """This package's server with the same listener, on its own trio loop in a thread."""

    async def _main(self) -> None:
        kwargs, _ = python_options(self.options)
        with trio.CancelScope() as scope:
            self._scope = scope
            self._token = trio.lowlevel.current_trio_token()
            server = http.create_server(_hi, **kwargs)
            server.on("clientError", _on_client_error)
            async with server:
                await server.listen(0, "127.0.0.1")
                address = server.address()
                assert address is not None
                self.port = address["port"]
                self._ready.set()
                await trio.sleep_forever()


_RECORD = re.compile(rb"Content-Type: application/json\r\nContent-Length: \d+\r\n\r\n(\{[^}]*\})")


def records(data: bytes) -> list[Record]:
    """The clientError records in what a server sent back (one per 400 written)."""
    return [json.loads(m) for m in _RECORD.findall(data)]


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, tuple[list[Record], list[Record]]]]:
    """Every case sent to Node's server and ours at once: ``{id: (node, ours)}``."""
    started: dict[str, tuple[_NodeServer, _PyServer]] = {}
    try:
        for name in {options for _, _, options in CASES}:
            options = parity.OPTION_SETS[name]
            started[name] = (_NodeServer(options), _PyServer(options))

        async def main() -> dict[str, tuple[list[Record], list[Record]]]:
            out: dict[str, tuple[list[Record], list[Record]]] = {}

            async def one(cid: str, pieces: list[Piece] | bytes, name: str) -> None:
                node, ours = started[name]
                got: dict[str, bytes] = {}

                async def side(key: str, port: int) -> None:
                    got[key], _ = await exchange(port, pieces)

                with trio.fail_after(8):
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(side, "node", node.port)
                        nursery.start_soon(side, "ours", ours.port)
                out[cid] = (records(got["node"]), records(got["ours"]))

            async with trio.open_nursery() as nursery:
                for cid, pieces, name in CASES:
                    nursery.start_soon(one, cid, pieces, name)
            return out

        yield trio.run(main)
    finally:
        for node, ours in started.values():
            node.stop()
            ours.stop()


# -- what cannot be equal ---------------------------------------------------------------------

_BAD_LINE = b"GET /hi HTTP/1.1 x\r\n\r\n"


def _shifted(cid: str) -> Any:
    """A bad request behind good ones in the same packet: ours counts from its own start.

    Node's ``bytesParsed`` and ``rawPacket`` are relative to the packet; ours to
    the bad request's first byte (``_head_error``'s documented rule: the
    server keeps no copy of a packet once a request of it is parsed, to keep
    the per-request path free of bookkeeping), so both are smaller by the
    bytes of the requests before it.
    """
    pieces = next(p for c, p, _ in CASES if c == cid)
    assert isinstance(pieces, bytes) and pieces.endswith(_BAD_LINE)
    before = len(pieces) - len(_BAD_LINE)

    def expected(node: list[Record]) -> list[Record]:
        [record] = node
        return [
            {
                **record,
                "bytesParsed": record["bytesParsed"] - before,
                "rawPacketLength": record["rawPacketLength"] - before,
            }
        ]

    return expected


def _h11_only(message: str, length: int) -> Any:
    """Node accepts the input (test_parity_node.DIFFERENCES); h11 refuses it with this message."""
    record = {
        "code": "HPE_INVALID_REQUEST",
        "message": f"Parse Error: {message}",
        "bytesParsed": 0,
        "rawPacketLength": length,
    }
    return lambda node: [record] if node == [] else None


#: id → (why, what ours records as a function of Node's records)
EXPECTED_DIFFERENCES: dict[str, tuple[str, Any]] = {
    "good-then-malformed-same-packet": (
        "offsets count from the request",
        _shifted("good-then-malformed-same-packet"),
    ),
    "malformed-after-two-pipelined-requests": (
        "offsets count from the request",
        _shifted("malformed-after-two-pipelined-requests"),
    ),
    # Node accepts these (test_parity_node.DIFFERENCES); h11 refuses them and
    # ours keeps h11's reason under HPE_INVALID_REQUEST, as llhttp has no code
    "http09-request-line": (
        "llhttp takes HTTP/0.9",
        _h11_only("illegal request line: bytearray(b'GET /hi')", 20),
    ),
    "request-line-double-space": (
        "llhttp skips the second space",
        _h11_only("illegal request line: bytearray(b'GET  /hi HTTP/1.1')", 30),
    ),
    "duplicate-host": (
        "llhttp keeps both Host lines",
        _h11_only("Found multiple Host: headers", 40),
    ),
    # Node refuses these and ours does not (test_parity_node.DIFFERENCES): no record
    "chunk-size-17-to-20-hex-digits": ("h11 reads up to 20 hex digits", lambda node: []),
    "chunk-extension-over-16k-in-one-packet": (
        "h11 exposes no chunk extensions",
        lambda node: [],
    ),
    "bytes-after-connection-close-in-the-same-packet": (
        "ours ignores bytes after a Connection: close request instead of failing on them",
        lambda node: [],
    ),
}


@pytest.mark.parametrize("cid", [c[0] for c in CASES])
def test_client_error_is_nodes(
    answers: dict[str, tuple[list[Record], list[Record]]], cid: str
) -> None:
    node, ours = answers[cid]
    if cid in EXPECTED_DIFFERENCES:
        why, expected = EXPECTED_DIFFERENCES[cid]
        assert ours == expected(node), why
        assert ours != node, f"no longer a difference: {why}"
    else:
        assert ours == node
