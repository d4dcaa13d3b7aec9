"""Smoke test of ``examples/http/``: every example runs to completion and says what it should.

Each example is started with ``--self-test`` (its server on a free port of
127.0.0.1, one or a few requests to itself, the answers printed, exit) in a
subprocess with a bounded timeout. The processes are all started at once by
a module fixture, so the suite pays for one interpreter start-up, not
one per example. Every example file must have an entry in ``EXPECTED``, so a new
example cannot go untested.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "http"
TIMEOUT = 25.0

#: For each example: strings its stdout must contain (the inventory IDs it ports in comments).
EXPECTED: dict[str, list[str]] = {
    # X1-51, X1-52: both ways of adding the request listener answer the same JSON
    "create_server": [
        "--- listener style ---",
        "--- event style ---",
        "< Content-Type: application/json",
        '< {"data":"Hello World!"}',
    ],
    # X1-22, X1-23: the listener's own 400, without Node's default "Connection: close"
    "client_error": [
        "clientError: HttpParserError",
        "< HTTP/1.1 400 Bad Request\n< \n",
    ],
    # X1-24, X1-25, X1-26: each way of closing ends the idle keep-alive connection
    "server_close": [
        "< Keep-Alive: timeout=60",
        "closed successfully (close)",
        "closed successfully (all)",
        "closed successfully (idle)",
        "client: the server closed the idle connection (extra bytes: b'')",
    ],
    # X1-27, X1-45: the trailer follows the last chunk
    "add_trailers": [
        "< Trailer: Content-MD5",
        "< Transfer-Encoding: chunked",
        "< 0\n< Content-MD5: 7ddbd29b18333c982cb3b1b6274b9a32\n",
    ],
    # X1-28 ... X1-33, X1-46 ... X1-48
    "response_headers": [
        "content_type is 'text/html'",
        "content_length is of type int: 5",
        "set_cookie is of type list: ['type=ninja', 'language=javascript']",
        "get_header_names() == ['foo', 'set-cookie']",
        "get_headers() == {'foo': 'bar', 'set-cookie': ['foo=bar', 'bar=baz']}",
        "has_header('content-type') -> True",
        "after remove_header('Content-Encoding'): False",
        "< Set-Cookie: type=ninja\n< Set-Cookie: language=javascript\n",
    ],
    # X1-34, X1-49, X1-50: write_head's Content-Type wins, set_header's others stay
    "set_headers_merge": [
        "< Content-Type: text/plain\n< X-Foo: bar\n",
        "< foo: bar\n< x-from-pairs: baz\n",
    ],
    # X1-35
    "response_socket": [
        "Your IP address is 127.0.0.1 and your source port is",
    ],
    # X1-36, X1-37: the custom reason phrase goes out as latin-1
    "status_code_message": [
        "client: / -> b'HTTP/1.1 404 N\\xe3o encontrado'",
        "client: /standard -> b'HTTP/1.1 404 Not Found'",
    ],
    # X1-38
    "write_early_hints": [
        "early hints message sent",
        "< HTTP/1.1 103 Early Hints\n< Link: </styles.css>; rel=preload; as=style\n< \n",
        "< x-trace-id: id for diagnostics",
        "< HTTP/1.1 200 OK",
    ],
    # X1-39
    "write_head_chained": [
        "< HTTP/1.1 200 OK\n< Content-Length: 11\n< Content-Type: text/plain\n",
        "< hello world",
    ],
    # X1-01, X1-02, X1-41, X1-42, X1-43
    "message_headers": [
        "'content-type': 'text/plain'",
        "'CONNECTION',",
        "'user-agent': 'this is invalid because there can be only one'",
        "'curl/7.22.0'],",
        "'accepT',",
    ],
    # X1-44
    "message_url": [
        "server: req.url = '/status?name=ryan'",
        "href: 'http://localhost/status?name=ryan'",
        "pathname: '/status'",
        "search: '?name=ryan'",
        "searchParams: {'name': ['ryan']}",
    ],
    # X1-56, X1-57
    "validate_header": [
        'True\nERR_INVALID_HTTP_TOKEN\nHeader name must be a valid HTTP token [""]\n',
        'True\nTrue\nInvalid value "undefined" for header "x-my-header"\n',
        'True\nTrue\nInvalid character in header content ["x-my-header"]\n',
    ],
    # X1-08 (server side): CONNECT, 200 Connection Established, a GET through the tunnel
    "connect_proxy": [
        "< HTTP/1.1 200 Connection Established\n< Proxy-agent: Node.js-Proxy\n",
        "got connected!",
        "tunnel< hello from the origin, you asked for /",
    ],
    # X1-10 (server side): 101, then the echo of head and of later bytes
    "upgrade_echo": [
        "< HTTP/1.1 101 Web Socket Protocol Handshake",
        "got upgraded!",
        "echo of head: b'ping'",
        "echo: b'pong'",
    ],
    # --- client side ---
    # X1-53: the JSON client, its two refusals (after resume()) and the 'error' case
    "get_json": [
        "--- GET /\n{'data': 'Hello World!'}\n",
        "Invalid content-type.\nExpected application/json but received text/plain\n",
        "Request Failed.\nStatus Code: 404\n",
        "Got error: connect ECONNREFUSED 127.0.0.1:",
    ],
    # X1-54: Content-Length is the byte length (the message holds one 2-byte character)
    "request_post_json": [
        "STATUS: 200\n",
        'HEADERS: {"content-type": "application/json", ',
        '"content-length": "30", "received": {"msg": "Hello World! (olá)"}}\n',
        "No more data in response.\n",
        "problem with request: connect ECONNREFUSED 127.0.0.1:",
    ],
    # X1-55
    "request_url_object": [
        "req.protocol='http:' req.host='abc' req.path='/' req.method='GET'",
        "req.get_header('host') = 'abc'",
        '"url": "/status?name=ryan"',
        '"auth": "Basic cnlhbjpzQGNyZXQ="',
    ],
    # X1-04 ... X1-07
    "agent_options": [
        "--- X1-04: agent=False\n  you sent Connection: close\n",
        "  200: you sent Connection: keep-alive\n  req.reused_socket = False\n  reuse_socket(",
        ", GET /)\n  keep_socket_alive(",
        "  req.reused_socket = True\n  free sockets: 1\n",
        "--- X1-03: 'agentRemove' keeps a long-lived request's socket out of the pool\n"
        "  in use while reading: 0\n  pooled afterwards: 0\n",
    ],
    # X1-11 ... X1-16, X1-19, X1-20
    "request_headers": [
        "content_type is 'text/html'",
        "content_length is of type int: 11",
        "cookie is of type list: ['type=ninja', 'language=javascript']",
        "has_header('content-type') -> True",
        "after remove_header('Content-Type'): False",
        "get_header_names() == ['host', 'foo', 'cookie']",
        "'foo': 'bar', 'cookie': ['foo=bar', 'bar=baz']}",
        "get_raw_header_names() == ['Host', 'Foo', 'Set-Cookie']",
        'unencoded: ERR_INVALID_CHAR: Invalid character in header content ["Content-Disposition"]',
        "  Cookie: type=ninja; language=javascript\n",
        "  Content-Disposition: attachment; filename*=utf-8''Rock%20%F0%9F%8E%B5.txt\n",
    ],
    # X1-17, X1-18
    "reused_socket": [
        "GET: 200, reused_socket=False\nGET: 200, reused_socket=True\n"
        "GET: 200, reused_socket=True\n",
        "attempt 1: ECONNRESET (socket hang up) reused_socket=True\n"
        "attempt 2: 200 'hello\\n' reused_socket=False\n",
        "GET: 200 'hello\\n' (retried by the agent itself)",
    ],
    # X1-21
    "request_socket": [
        "Your IP address is 127.0.0.1 and your source port is ",
        "server: you are 127.0.0.1 port ",
    ],
    # X1-09
    "information": [
        "Got information prior to main response: 102\n",
        "Got information prior to main response: 103\n"
        "  with headers {'link': '</styles.css>; rel=preload; as=style'}\n",
        "then: 200 OK: the length of '/length_request' is 15",
    ],
    # X1-40
    "message_complete": [
        "/whole: 'end', res.complete = True\n/cut: ECONNRESET (aborted), res.complete = False\n"
        "The connection was terminated while the message was still being sent\n",
    ],
    # X1-08 (client side)
    "connect_client": [
        "got connected!\nproxy said: 200 Connection Established, {'proxy-agent': 'Node.js-Proxy'}",
        "tunnel< hello from the origin, you asked for /",
        "the tunnel ended",
    ],
    # X1-10 (client side)
    "upgrade_client": [
        "got upgraded!\n101 Web Socket Protocol Handshake, upgrade: WebSocket\n",
        "echo: b'ping over the new protocol\\n'",
    ],
    # 'checkContinue' / 'checkExpectation' (H1-079, H1-080)
    "check_continue": [
        "< HTTP/1.1 100 Continue",
        "< received 100 bytes",
        "< HTTP/1.1 413 Payload Too Large",
        "(the body was never sent)",
        "< HTTP/1.1 417 Expectation Failed",
    ],
}


def _scripts() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Every example started at once with ``--self-test``; all reaped at the end."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), "--self-test"],
            cwd=EXAMPLES,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for name in _scripts()
    }
    try:
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def test_every_example_has_expectations() -> None:
    assert _scripts() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str, runs: dict[str, subprocess.Popen[str]]) -> None:
    proc = runs[name]
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{name} did not finish in {TIMEOUT} s\nstdout:\n{out}\nstderr:\n{err}")
    assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "Traceback" not in err, err
    for expected in EXPECTED[name]:
        assert expected in out, f"{expected!r} not in the output of {name}:\n{out}"
