"""``python -m trio_nodehttp serve``: the static file server of the command line (DESIGN §9).

One server process (``serve DIR --port 0``) is shared by the module; each
test talks to it over 127.0.0.1 with raw bytes (parsed by h11 where a
parse is needed) and checks the status, the headers and the body, and that
nothing outside ``DIR`` is ever served. A second process is started to be
stopped with SIGINT. Every test runs under ``trio.fail_after``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h11
import pytest
import trio

from trio_nodehttp._cli import main

TIMEOUT = 10.0
SECRET = b"top secret, outside the served directory\n"
BIG = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: many 64 KiB chunks


#: ``python -m trio_nodehttp``, with Ctrl-C handling as in a terminal even when the
#: test runner was started with SIGINT ignored (a background job of a script).
RUN_AS_M = (
    "import runpy, signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'trio_nodehttp'; "
    "runpy.run_module('trio_nodehttp', run_name='__main__', alter_sys=True)"
)


# -- the server process -----------------------------------------------------------
class ServeProcess:
    """``python -m trio_nodehttp serve ROOT --port 0``; stderr collected by a thread."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUN_AS_M, "serve", str(root), "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        line = self._first_line()
        match = re.fullmatch(r"Serving (.+) at http://127\.0\.0\.1:(\d+)/\n", line)
        assert match, f"unexpected start line {line!r}; stderr: {self.stderr_lines}"
        self.root = match.group(1)
        self.port = int(match.group(2))

    def _first_line(self) -> str:
        result: list[str] = []
        stdout = self.proc.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(TIMEOUT)
        if not result:
            self.proc.kill()
            pytest.fail("serve printed nothing on stdout")
        return result[0]

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def interrupt(self) -> int:
        """Ctrl-C; returns the exit status."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(TIMEOUT)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def make_tree(base: Path) -> Path:
    """ROOT with files, an index, links in and out; SECRET next to ROOT."""
    (base / "secret.txt").write_bytes(SECRET)
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_bytes(SECRET)
    root = base / "root"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello, world\n")
    (root / "page.html").write_bytes(b"<p>page</p>\n")
    (root / "data.json").write_bytes(b'{"a": 1}\n')
    (root / "archive.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    (root / "blob.unknownext").write_bytes(b"\x00\x01\x02")
    (root / "big.bin").write_bytes(BIG)
    (root / "with space é.txt").write_bytes(b"spaced\n")
    (root / "site").mkdir()
    (root / "site" / "index.html").write_bytes(b"<h1>site index</h1>\n")
    (root / "empty-dir").mkdir()
    (root / "link-in.txt").symlink_to(root / "hello.txt")
    (root / "link-out.txt").symlink_to(base / "secret.txt")
    (root / "link-out-dir").symlink_to(base / "outside")
    (root / "dir-with-bad-index").mkdir()
    (root / "dir-with-bad-index" / "index.html").symlink_to(base / "secret.txt")
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = make_tree(tmp_path_factory.mktemp("cli"))
    server = ServeProcess(root)
    try:
        yield server
    finally:
        server.stop()


# -- a small client ------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def fetch(
    port: int,
    target: str,
    method: str = "GET",
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
) -> Answer:
    """One request on a fresh connection, parsed by h11."""
    hdrs = [("Host", "127.0.0.1"), ("Connection", "close"), *(headers or [])]
    if body:
        hdrs.append(("Content-Length", str(len(body))))
    conn = h11.Connection(h11.CLIENT)
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        data = conn.send(h11.Request(method=method, target=target, headers=hdrs))
        if body:
            data += conn.send(h11.Data(data=body))
        data += conn.send(h11.EndOfMessage())
        await stream.send_all(data)
        return await _read_answer(conn, stream)


async def _read_answer(conn: h11.Connection, stream: trio.SocketStream) -> Answer:
    response: h11.Response | None = None
    chunks: list[bytes] = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None
            headers = {k.decode().lower(): v.decode("latin-1") for k, v in response.headers}
            return Answer(response.status_code, headers, b"".join(chunks))
        elif isinstance(event, h11.InformationalResponse):
            continue
        else:
            raise AssertionError(f"unexpected {event!r}")


async def raw(port: int, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes."""
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(data)
        received = b""
        while chunk := await stream.receive_some(65536):
            received += chunk
        return received


# -- GET ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "content_type", "body"),
    [
        ("/hello.txt", "text/plain", b"hello, world\n"),
        ("/page.html", "text/html", b"<p>page</p>\n"),
        ("/data.json", "application/json", b'{"a": 1}\n'),
        ("/archive.tar.gz", "application/gzip", b"\x1f\x8b not really gzip"),
        ("/blob.unknownext", "application/octet-stream", b"\x00\x01\x02"),
        ("/with%20space%20%C3%A9.txt", "text/plain", b"spaced\n"),
        ("/hello.txt?query=ignored#frag", "text/plain", b"hello, world\n"),
        ("/link-in.txt", "text/plain", b"hello, world\n"),  # a link that stays inside
    ],
)
async def test_get_file(served: ServeProcess, target: str, content_type: str, body: bytes) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, target)
    assert answer.status == 200
    assert answer.headers["content-type"] == content_type
    assert answer.headers["content-length"] == str(len(body))
    assert "transfer-encoding" not in answer.headers
    assert answer.body == body


async def test_big_file_is_streamed_whole_with_content_length(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, "/big.bin")
    assert answer.status == 200
    assert answer.headers["content-length"] == str(len(BIG))
    assert "transfer-encoding" not in answer.headers
    assert answer.body == BIG


async def test_slow_reader_gets_every_byte(served: ServeProcess) -> None:
    """Backpressure: a client that reads slowly still gets the whole file, in order."""
    with trio.fail_after(TIMEOUT):
        async with await trio.open_tcp_stream("127.0.0.1", served.port) as stream:
            await stream.send_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await trio.sleep(0.3)  # let the server fill the socket buffers and wait
            received = b""
            while chunk := await stream.receive_some(4096):
                received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert body == BIG


async def test_file_shrinking_mid_send_closes_the_connection(served: ServeProcess) -> None:
    """The promised Content-Length cannot be met: the connection is closed, not reused."""
    size = 32 * 1024 * 1024  # more than loopback socket buffers hold
    path = Path(served.root) / "shrinking.bin"
    path.write_bytes(b"\0" * size)
    with trio.fail_after(TIMEOUT):
        async with await trio.open_tcp_stream("127.0.0.1", served.port) as stream:
            await stream.send_all(b"GET /shrinking.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            received = await stream.receive_some(65536)
            await trio.sleep(0.3)  # the server is now blocked in write: buffers are full
            path.write_bytes(b"")
            # closed at once, not after the 5 s (+1 s) keep-alive timeout of an idle connection
            with trio.fail_after(3):
                while chunk := await stream.receive_some(1 << 20):
                    received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert f"Content-Length: {size}\r\n".encode() in head + b"\r\n"
    assert len(body) < size  # and the connection was closed (EOF), not left hanging


# -- HEAD ----------------------------------------------------------------------------
async def test_head_sends_headers_without_body(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        data = await raw(
            served.port, b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep and body == b""
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Content-Length: {len(BIG)}\r\n".encode() in head + b"\r\n"
    assert b"Content-Type: application/octet-stream" in head


async def test_head_of_missing_file_is_404_without_body(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        data = await raw(
            served.port, b"HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    head, sep, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert sep and body == b""


# -- 404, 405, directories ---------------------------------------------------------------
@pytest.mark.parametrize("target", ["/nope.txt", "/site/nope", "/empty-dir/", "/hello.txt/x"])
async def test_missing_is_404(served: ServeProcess, target: str) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, target)
    assert answer.status == 404
    assert answer.body == b"Not Found\n"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_get_405_with_allow(served: ServeProcess, method: str) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, "/hello.txt", method=method, body=b"payload")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, HEAD"


async def test_405_leaves_the_connection_usable(served: ServeProcess) -> None:
    """The unread request body is drained by the server; the next request works."""
    with trio.fail_after(TIMEOUT):
        data = await raw(
            served.port,
            b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
            b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
    assert data.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert data.count(b"HTTP/1.1 ") == 2
    assert data.endswith(b"\r\n\r\nhello, world\n")


async def test_directory_serves_its_index(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, "/site/")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html"
    assert answer.body == b"<h1>site index</h1>\n"


async def test_directory_without_slash_redirects(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, "/site?x=1")
        double = await fetch(served.port, "//site")
    assert answer.status == 301
    assert answer.headers["location"] == "/site/?x=1"
    # never a protocol-relative "//site/" Location
    assert double.headers["location"] == "/site/"


async def test_root_without_index_is_404(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        answer = await fetch(served.port, "/")
    assert answer.status == 404


# -- traversal ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/site/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/site%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/link-out.txt",
        "/link-out-dir/secret.txt",
        "/dir-with-bad-index/",
        "/hello.txt%00.png",
        "/%ff%fe",
        "http://127.0.0.1/../secret.txt",
        "//../secret.txt",
    ],
)
async def test_traversal_is_404(served: ServeProcess, target: str) -> None:
    with trio.fail_after(TIMEOUT):
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        data = await raw(served.port, request.encode())
    assert data.startswith(b"HTTP/1.1 404 Not Found\r\n"), data
    assert SECRET not in data


# -- the log -----------------------------------------------------------------------------
async def test_one_log_line_per_request(served: ServeProcess) -> None:
    with trio.fail_after(TIMEOUT):
        await fetch(served.port, "/hello.txt?log-test=1")
        await fetch(served.port, "/log-test-missing")
        await fetch(served.port, "/hello.txt?log-test=2", method="HEAD")
        expected = [
            '127.0.0.1 - "GET /hello.txt?log-test=1 HTTP/1.1" 200 13\n',
            '127.0.0.1 - "GET /log-test-missing HTTP/1.1" 404 10\n',
            '127.0.0.1 - "HEAD /hello.txt?log-test=2 HTTP/1.1" 200 0\n',
        ]
        while not all(line in served.stderr_lines for line in expected):
            await trio.sleep(0.02)
    for line in expected:
        assert served.stderr_lines.count(line) == 1


# -- Ctrl-C, arguments ---------------------------------------------------------------------
LOG_LINE = '127.0.0.1 - "GET / HTTP/1.1" 200 3\n'


async def test_sigint_stops_cleanly_with_status_0(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"hi\n")
    server = ServeProcess(tmp_path)
    try:
        with trio.fail_after(TIMEOUT):
            answer = await fetch(server.port, "/")
            assert answer.body == b"hi\n"
            # an idle keep-alive connection must not hold the exit up
            async with await trio.open_tcp_stream("127.0.0.1", server.port) as idle:
                await idle.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                reply = b""
                while not reply.endswith(b"hi\n"):
                    reply += await idle.receive_some(65536)
                # the line is printed just after the answer is sent: let it out before Ctrl-C
                while server.stderr_lines.count(LOG_LINE) < 2:
                    await trio.sleep(0.02)
                status = await trio.to_thread.run_sync(server.interrupt)
                assert await idle.receive_some(65536) == b""
    finally:
        server.stop()
    err = "".join(server.stderr_lines)
    assert status == 0
    assert "Traceback" not in err
    assert "Keyboard interrupt received, server stopped." in err
    assert err.count(LOG_LINE) == 2


def test_missing_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", str(tmp_path / "nope")])
    assert exc.value.code == 2
    assert "not a directory" in capsys.readouterr().err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "serve" in capsys.readouterr().out


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_bad_port_is_a_usage_error(tmp_path: Path, port: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", str(tmp_path), "--port", port])
    assert exc.value.code == 2


def test_port_in_use_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = main(["serve", str(tmp_path), "--port", str(port)])
    assert status == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_module_entry_point_runs_main() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trio_nodehttp", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert "--port" in out and "--host" in out and "exit status is then 0" in out
