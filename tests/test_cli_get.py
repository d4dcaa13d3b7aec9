"""``python -m trio_nodehttp get``: the small curl of the command line (DESIGN §9).

Every test runs the real command in a subprocess (``trio.run_process``,
bounded by ``trio.fail_after``) against a server started inside the test:
this package's ``http`` / ``https`` server (an echo of the request as
JSON), Node's ``node:http`` for the exact ``-i`` output, or a bare
listener that never answers or hangs up. It checks stdout byte for byte,
the one line on stderr and curl's exit statuses (0, 7, 22, 28, 52, 56, 60).
Usage errors are checked in-process through ``main()``.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme

from trio_nodehttp import http, https
from trio_nodehttp._cli import main

TIMEOUT = 10.0
REPO = Path(__file__).resolve().parent.parent


# -- running the command ----------------------------------------------------------
@dataclass
class Run:
    status: int
    stdout: bytes
    stderr: str


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "trio_nodehttp", "get", *args]


async def get(*args: str) -> Run:
    """``python -m trio_nodehttp get ARGS...``, to completion."""
    with trio.fail_after(TIMEOUT):
        proc = await trio.run_process(
            _command(*args),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    return Run(proc.returncode, proc.stdout, proc.stderr.decode())


def one_line(run: Run) -> str:
    """The single line a failure writes on stderr (and nothing else there)."""
    assert run.stderr.endswith("\n") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr
    return run.stderr[:-1]


# -- servers ------------------------------------------------------------------------
async def echo(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    """The request as JSON; ``/missing`` is a 404 with a body, ``/fixed`` a fixed
    text, ``/cut`` a body cut short by a dropped connection."""
    body = await req.read()
    if req.url == "/missing":
        res.set_header("Content-Type", "text/plain")
        res.status_code = 404
        await res.end(b"no such page\n")
        return
    if req.url == "/fixed":
        res.set_header("Content-Type", "text/plain")
        res.set_header("X-Twice", ["a", "b"])
        await res.end(b"fixed body\n")
        return
    if req.url == "/cut":
        # promise 100 bytes, send 11, then drop the connection
        res.write_head(200, {"Content-Length": "100"})
        await res.write(b"first part\n")
        res.destroy()
        return
    info = {
        "method": req.method,
        "url": req.url,
        "raw_headers": req.raw_headers,
        "body": body.decode("latin-1"),
        "encrypted": bool(getattr(req.socket, "encrypted", False)),
    }
    res.set_header("Content-Type", "application/json")
    res.set_header("X-Twice", ["a", "b"])
    await res.end(json.dumps(info).encode())


async def _listen(server: http.Server) -> AsyncIterator[int]:
    async with server:
        await server.listen(0, "127.0.0.1")
        address = server.address()
        assert address is not None
        yield address["port"]


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async for p in _listen(http.create_server(echo)):
        yield p


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_port(ca: trustme.CA) -> AsyncIterator[int]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = https.create_server(
        echo,
        cert=b"".join(p.bytes() for p in cert.cert_chain_pems),
        key=cert.private_key_pem.bytes(),
    )
    async for p in _listen(server):
        yield p


def closed_port() -> int:
    """A port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        found: int = sock.getsockname()[1]
        return found


def answer(run: Run) -> dict[str, Any]:
    assert run.status == 0, run.stderr
    assert run.stderr == ""
    info: dict[str, Any] = json.loads(run.stdout)
    return info


def pairs(raw: list[str]) -> list[tuple[str, str]]:
    return list(zip(raw[::2], raw[1::2], strict=True))


def mask_date(data: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: <masked>\r\n", data)


# -- success ---------------------------------------------------------------------------
async def test_get_prints_the_body_only(port: int) -> None:
    run = await get(f"http://127.0.0.1:{port}/some/path?q=1")
    info = answer(run)
    assert info["method"] == "GET"
    assert info["url"] == "/some/path?q=1"
    assert ("Host", f"127.0.0.1:{port}") in pairs(info["raw_headers"])
    assert info["body"] == ""
    assert run.stdout.startswith(b"{")  # no status line, no headers


async def test_url_without_scheme_is_http(port: int) -> None:
    info = answer(await get(f"127.0.0.1:{port}/bare"))
    assert info["url"] == "/bare"


async def test_include_prints_status_line_raw_headers_blank_line(port: int) -> None:
    """``-i``: exactly ``HTTP/1.1 200 OK``, the headers as received (``res.raw_headers``:
    case and duplicates kept), an empty line, then the body; every head line ends in CRLF."""
    url = f"http://127.0.0.1:{port}/fixed"
    run = await get("-i", url)
    assert run.status == 0 and run.stderr == ""
    res = await http.get(url)  # the same agent settings as the command: the global one
    body = await res.read()
    assert body == b"fixed body\n"
    expected = "HTTP/1.1 200 OK\r\n"
    expected += "".join(f"{n}: {v}\r\n" for n, v in pairs(res.raw_headers)) + "\r\n"
    assert mask_date(run.stdout) == mask_date(expected.encode("latin-1") + body)
    assert b"\r\nX-Twice: a\r\nX-Twice: b\r\n" in run.stdout


async def test_include_against_node_server() -> None:
    """The exact ``-i`` output for a response of Node's own ``node:http`` server
    (a custom reason phrase, a repeated header, a chunked body): byte for byte
    what ``curl -si`` prints for it, ``Date`` aside."""
    script = (
        "const http = require('node:http');"
        "const s = http.createServer((req, res) => {"
        "  res.setHeader('X-Twice', ['a', 'b']);"
        "  res.writeHead(201, 'Made It', {'Content-Type': 'text/plain'});"
        "  res.end('hello from node\\n');"
        "});"
        "s.listen(0, '127.0.0.1', () => console.log(s.address().port));"
    )
    with trio.fail_after(TIMEOUT):
        node = await trio.lowlevel.open_process(
            ["node", "-e", script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
        try:
            assert node.stdout is not None
            line = b""
            while not line.endswith(b"\n"):
                chunk = await node.stdout.receive_some(100)
                assert chunk, "node exited before printing its port"
                line += chunk
            url = f"http://127.0.0.1:{int(line)}/"
            run = await get("-i", url)
            curl = await trio.run_process(
                ["curl", "-si", url], stdin=subprocess.DEVNULL, capture_stdout=True
            )
        finally:
            node.kill()
            await node.wait()
    assert run.status == 0, run.stderr
    assert mask_date(run.stdout) == (
        b"HTTP/1.1 201 Made It\r\n"
        b"X-Twice: a\r\n"
        b"X-Twice: b\r\n"
        b"Content-Type: text/plain\r\n"
        b"Date: <masked>\r\n"
        b"Connection: keep-alive\r\n"
        b"Keep-Alive: timeout=5\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"\r\n"
        b"hello from node\n"
    )
    assert mask_date(run.stdout) == mask_date(curl.stdout)  # what `curl -i` prints


async def test_headers_arrive_repeated_and_overriding(port: int) -> None:
    """``-H`` adds headers in their own case; a repeated name (any case) sends each
    value; ``Host`` replaces the default one."""
    info = answer(
        await get(
            "-H",
            "X-One: 1",
            "-H",
            "x-one: 2",
            "-H",
            "Host: example.test",
            "-H",
            "X-Empty:",
            f"http://127.0.0.1:{port}/h",
        )
    )
    sent = pairs(info["raw_headers"])
    assert ("X-One", "1") in sent and ("X-One", "2") in sent
    assert ("Host", "example.test") in sent
    assert [n for n, _ in sent].count("Host") == 1
    assert ("X-Empty", "") in sent
    assert info["method"] == "GET" and info["body"] == ""


async def test_data_is_a_post_with_curl_content_type(port: int) -> None:
    info = answer(await get("-d", "name=ryan&x=1", f"http://127.0.0.1:{port}/form"))
    assert info["method"] == "POST"
    assert info["body"] == "name=ryan&x=1"
    sent = pairs(info["raw_headers"])
    assert ("Content-Type", "application/x-www-form-urlencoded") in sent
    assert ("Content-Length", "13") in sent


async def test_data_from_file_is_sent_as_is(port: int, tmp_path: Path) -> None:
    """``-d @FILE``: the file's bytes unchanged (newlines, non-UTF-8), with the
    ``Content-Type`` given by ``-H`` instead of curl's default."""
    payload = b'{"a": 1}\r\nline two\n\xff\x00end'
    path = tmp_path / "body.bin"
    path.write_bytes(payload)
    info = answer(
        await get(
            "-d", f"@{path}", "-H", "Content-Type: application/json", f"http://127.0.0.1:{port}/"
        )
    )
    assert info["method"] == "POST"
    assert info["body"].encode("latin-1") == payload
    sent = pairs(info["raw_headers"])
    assert ("Content-Type", "application/json") in sent
    assert ("Content-Length", str(len(payload))) in sent


async def test_method_put_with_data(port: int) -> None:
    info = answer(await get("-X", "PUT", "-d", "new content", f"http://127.0.0.1:{port}/doc"))
    assert (info["method"], info["url"], info["body"]) == ("PUT", "/doc", "new content")


async def test_method_without_data(port: int) -> None:
    info = answer(await get("-X", "DELETE", f"http://127.0.0.1:{port}/doc"))
    assert (info["method"], info["body"]) == ("DELETE", "")


async def test_body_is_written_as_it_arrives() -> None:
    """The first chunk reaches stdout while the server still holds the rest."""
    release = trio.Event()

    async def slow(req: http.IncomingMessage, res: http.ServerResponse) -> None:
        await res.write(b"first\n")
        await release.wait()
        await res.end(b"second\n")

    async for p in _listen(http.create_server(slow)):
        with trio.fail_after(TIMEOUT):
            proc = await trio.lowlevel.open_process(
                _command(f"http://127.0.0.1:{p}/"),
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
            )
            try:
                assert proc.stdout is not None
                seen = b""
                while b"first\n" not in seen:
                    chunk = await proc.stdout.receive_some(100)
                    assert chunk, f"stdout closed after {seen!r}"
                    seen += chunk
                assert seen == b"first\n"  # the rest was not there yet: it is held back
                release.set()
                while chunk := await proc.stdout.receive_some(100):
                    seen += chunk
                assert await proc.wait() == 0
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        assert seen == b"first\nsecond\n"


# -- failures --------------------------------------------------------------------------
async def test_4xx_exits_22_and_prints_nothing(port: int) -> None:
    """Like ``curl --fail``: no body and, even with ``-i``, no head on stdout."""
    run = await get("-i", f"http://127.0.0.1:{port}/missing")
    assert run.status == 22
    assert run.stdout == b""
    assert one_line(run) == "error: the requested URL returned error: 404 Not Found"


async def test_connection_refused_exits_7_with_one_line() -> None:
    closed = closed_port()
    run = await get(f"http://127.0.0.1:{closed}/")
    assert run.status == 7
    assert run.stdout == b""
    assert one_line(run) == f"error: connect ECONNREFUSED 127.0.0.1:{closed}"


async def test_max_time_on_a_server_that_never_answers_exits_28() -> None:
    """The connection is accepted by the kernel (listening, never read): only
    ``--max-time`` ends the wait, and quickly."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    try:
        silent = listeners[0].socket.getsockname()[1]
        start = trio.current_time()
        run = await get("--max-time", "0.5", f"http://127.0.0.1:{silent}/")
        elapsed = trio.current_time() - start
    finally:
        for listener in listeners:
            await listener.aclose()
    assert run.status == 28
    assert run.stdout == b""
    assert one_line(run) == "error: operation timed out after 0.5 seconds"
    assert elapsed < 5.0


async def test_server_hanging_up_exits_52() -> None:
    """Accepted, then closed without a byte: Node's ``socket hang up`` (``ECONNRESET``)."""

    async def hang_up(stream: trio.SocketStream) -> None:
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, hang_up, 0, host="127.0.0.1")
        )
        rude = listeners[0].socket.getsockname()[1]
        run = await get(f"http://127.0.0.1:{rude}/")
        nursery.cancel_scope.cancel()
    assert run.status == 52
    assert one_line(run) == "error: socket hang up (ECONNRESET)"


async def test_connection_lost_mid_body_exits_56_after_printing_what_came(port: int) -> None:
    run = await get(f"http://127.0.0.1:{port}/cut")
    assert run.status == 56
    assert run.stdout == b"first part\n"
    assert one_line(run) == "error: aborted (ECONNRESET)"


# -- https -----------------------------------------------------------------------------
async def test_https_with_cacert(tls_port: int, ca: trustme.CA, tmp_path: Path) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    info = answer(await get("--cacert", str(cafile), f"https://127.0.0.1:{tls_port}/secure"))
    assert info["encrypted"] is True
    assert info["url"] == "/secure"


async def test_https_insecure(tls_port: int) -> None:
    info = answer(await get("-k", "-d", "x=1", f"https://localhost:{tls_port}/k"))
    assert (info["encrypted"], info["method"], info["body"]) == (True, "POST", "x=1")


async def test_https_untrusted_certificate_exits_60(tls_port: int, tmp_path: Path) -> None:
    """A CA file that did not sign the server's certificate: rejected, Node's code shown."""
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    run = await get("--cacert", str(other), f"https://127.0.0.1:{tls_port}/")
    assert run.status == 60
    assert run.stdout == b""
    line = one_line(run)
    assert line.startswith("error: ") and "(UNABLE_TO_GET_ISSUER_CERT_LOCALLY)" in line, line


# -- usage errors (in-process: argparse's message, status 2) -------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-H", "no colon here"], "argument -H/--header: not a header, expected 'name: value'"),
        (["-H", ": value"], "argument -H/--header: not a header, expected 'name: value'"),
        (["-H", "bad name: v"], 'Header name must be a valid HTTP token ["bad name"]'),
        (["-X", "NOT A METHOD"], 'Method must be a valid HTTP token ["NOT A METHOD"]'),
        (["--max-time", "0"], "must be a positive number of seconds"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["get", *argv, "http://127.0.0.1:1/"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ")
    assert message in err


def test_unsupported_scheme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["get", "ftp://127.0.0.1/file"])
    assert exited.value.code == 2
    assert "unsupported URL scheme 'ftp'" in capsys.readouterr().err


def test_unreadable_data_file_exits_26(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.txt"
    assert main(["get", "-d", f"@{missing}", "http://127.0.0.1:1/"]) == 26
    assert capsys.readouterr().err == (f"error: cannot read {missing}: No such file or directory\n")
