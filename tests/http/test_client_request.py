"""``ClientRequest``, ``http.request`` and ``http.get`` (H1-030…H1-077, H1-209…H1-239).

Most tests talk to this package's own server (an echo handler that returns
the method, URL, raw headers, body and trailers as JSON). Byte-exact checks
use ``Capture`` (a raw listener that keeps each request's bytes) and, for
parity, the bytes Node v20's own ``http.request`` sends for the same calls.
Timeouts run on ``MockClock`` over memory streams.
"""

from __future__ import annotations

import base64
import json
import os
import socket as _stdlib_socket
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio.testing
from _client_helpers import (
    Capture,
    node_requests,
    our_requests,
    raw_server,
    read_head,
)

from trio_nodehttp import http
from trio_nodehttp.errors import (
    HeadersSentError,
    HttpParserError,
    InvalidHttpTokenError,
    InvalidProtocolError,
    UnescapedCharactersError,
)


@pytest.fixture(autouse=True)
async def _close_global_agent() -> AsyncIterator[None]:
    yield
    await http.global_agent.close()


async def echo_handler(req: Any, res: Any) -> None:
    body = await req.read()
    payload = {
        "method": req.method,
        "url": req.url,
        "raw_headers": req.raw_headers,
        "body": body.decode("latin-1"),
        "raw_trailers": req.raw_trailers,
    }
    res.set_header("content-type", "application/json")
    await res.end(json.dumps(payload))


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    """The port of an echo server."""
    async with http.create_server(echo_handler) as server:
        await server.listen(0, "127.0.0.1")
        yield server.address()["port"]


async def send(req: http.ClientRequest, body: bytes | None = None) -> dict[str, Any]:
    await req.end(body)
    res = await req.response()
    assert res.status_code == 200
    data: dict[str, Any] = await res.json()
    return data


def header_pairs(raw: list[str]) -> list[tuple[str, str]]:
    return list(zip(raw[::2], raw[1::2], strict=True))


async def capture_one(options: dict[str, Any], body: bytes | None = None) -> bytes:
    """The exact bytes our client sends for one request (answered with 204)."""
    capture = Capture()
    async with raw_server(capture.handle) as port:
        opts = {"host": "127.0.0.1", "port": port, **options}
        req = http.request(**opts)
        await req.end(body)
        res = await req.response()
        await res.resume()
    return capture.requests[0].replace(str(port).encode(), b"PORT")


# -- byte parity with Node's http.request (R1-021, R1-022, R1-093, R1-094, R1-111) ------

PARITY_SPECS: list[dict[str, Any]] = [
    {"name": "get"},
    {"name": "post end(body)", "options": {"method": "POST"}, "ops": [["end", "hello"]]},
    {"name": "post end()", "options": {"method": "POST"}},
    {
        "name": "post write+end",
        "options": {"method": "POST"},
        "ops": [["write", "ab"], ["end", "cd"]],
    },
    {
        "name": "post write('') then end(body)",
        "options": {"method": "POST"},
        "ops": [["write", ""], ["end", "cd"]],
    },
    {
        "name": "put with content-length",
        "options": {"method": "PUT", "headers": {"Content-Length": "2"}},
        "ops": [["write", "ab"], ["end"]],
    },
    {"name": "get end(body)", "ops": [["end", "xyz"]]},
    {"name": "delete write", "options": {"method": "DELETE"}, "ops": [["write", "xyz"], ["end"]]},
    {"name": "options", "options": {"method": "OPTIONS"}},
    {"name": "lower-case method", "options": {"method": "patch"}, "ops": [["end", "x"]]},
    {
        "name": "headers dict",
        "options": {"headers": {"X-Foo": "bar", "accept": "*/*", "X-List": ["a", "b"], "X-N": 5}},
    },
    {
        "name": "headers raw list",
        "options": {"headers": ["X-B", "1", "x-a", "2", "X-B", "3", "Host", "h.example"]},
    },
    {"name": "auth", "options": {"auth": "us er:p@ss"}},
    {
        "name": "explicit authorization",
        "options": {"auth": "a:b", "headers": {"authorization": "Bearer t"}},
    },
    {"name": "url userinfo", "url": "http://us%20er:p%40ss@127.0.0.1:PORT/p?q=1"},
    {
        "name": "url + options",
        "url": "http://127.0.0.1:PORT/a",
        "options": {"path": "/b", "method": "POST"},
        "ops": [["end", "z"]],
    },
    {"name": "setHost false", "options": {"setHost": False}},
    {"name": "agent false", "agent": "none"},
    {
        "name": "Agent() post",
        "agent": "plain",
        "options": {"method": "POST"},
        "ops": [["write", "ab"], ["end"]],
    },
    {"name": "keep-alive agent", "agent": "keepalive"},
    {"name": "explicit connection", "options": {"headers": {"Connection": "close"}}},
    {
        "name": "explicit keep-alive, agent false",
        "agent": "none",
        "options": {"headers": {"connection": "keep-alive"}},
    },
    {
        "name": "flushHeaders",
        "options": {"method": "POST"},
        "ops": [["flush"], ["write", "ab"], ["end"]],
    },
    {"name": "flushHeaders get", "ops": [["flush"], ["end"]]},
    {
        "name": "trailers",
        "options": {"method": "POST", "headers": {"Trailer": "X-T"}},
        "ops": [["write", "ab"], ["trailers", {"X-T": "v"}], ["end"]],
    },
    {
        "name": "trailers dropped with content-length",
        "options": {"method": "POST"},
        "ops": [["trailers", {"X-T": "v"}], ["end", "ab"]],
    },
    {"name": "removeHeader host", "ops": [["remove", "host"], ["end"]]},
    {"name": "setHeader later", "ops": [["set", "X-Late", "1"], ["end"]]},
    {
        "name": "explicit chunked",
        "options": {"method": "POST", "headers": {"Transfer-Encoding": "chunked"}},
        "ops": [["end", "abc"]],
    },
    {"name": "defaultPort", "options": {"defaultPort": 12345}},
    {
        "name": "uniqueHeaders",
        "options": {"uniqueHeaders": ["x-u"], "headers": {"x-u": ["a", "b"], "x-v": ["a", "b"]}},
    },
    {"name": "utf-8 string body", "options": {"method": "POST"}, "ops": [["write", "é"], ["end"]]},
    {"name": "head", "options": {"method": "HEAD"}},
]


async def test_request_bytes_match_node() -> None:
    # The bytes Node v20's http.request sends, byte for byte, for every spec.
    with trio.fail_after(15):
        node, ours = Capture(), Capture()
        async with raw_server(node.handle) as node_port:
            await node_requests(node_port, PARITY_SPECS)
        async with raw_server(ours.handle) as our_port:
            await our_requests(our_port, PARITY_SPECS)
        assert len(node.requests) == len(ours.requests) == len(PARITY_SPECS)
        for spec, theirs, mine in zip(PARITY_SPECS, node.requests, ours.requests, strict=True):
            expected = theirs.replace(str(node_port).encode(), b"PORT")
            got = mine.replace(str(our_port).encode(), b"PORT")
            assert got == expected, spec["name"]


async def test_framing_choices_r1_021_r1_022() -> None:
    with trio.fail_after(5):
        head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nConnection: keep-alive\r\n"
        # A body handed whole to end(): Content-Length.
        sent = await capture_one({"method": "POST"}, b"hello")
        assert sent == head + b"Content-Length: 5\r\n\r\nhello"
        # A Content-Length header disables chunking (R1-022).
        sent = await capture_one({"method": "POST", "headers": {"content-length": 5}}, b"hello")
        assert sent == (
            b"POST / HTTP/1.1\r\ncontent-length: 5\r\nHost: 127.0.0.1:PORT\r\n"
            b"Connection: keep-alive\r\n\r\nhello"
        )


async def test_set_default_headers_false_h1_232() -> None:
    # Node v22's rule (Node v20 has no setDefaultHeaders): no Host, Connection,
    # Content-Length or Transfer-Encoding; the body is sent as is.
    with trio.fail_after(5):
        capture = Capture()
        async with raw_server(capture.handle) as port:
            req = http.request(
                host="127.0.0.1", port=port, method="POST", set_default_headers=False
            )
            await req.write(b"ab")
            await req.end()
            await (await req.response()).resume()
            req = http.request(
                host="127.0.0.1", port=port, set_default_headers=False, set_host=True
            )
            await req.end()
            await (await req.response()).resume()
        assert capture.requests[0] == b"POST / HTTP/1.1\r\n\r\nab"
        # set_host overrides set_default_headers for Host only (H1-233, R1-096).
        assert capture.requests[1] == f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


# -- URL, options, validation (H1-212…H1-239, R1-093…R1-097) --------------------------------


async def test_url_and_keyword_options_merge_options_win(echo: int) -> None:
    with trio.fail_after(5):
        req = http.request(
            "http://127.0.0.1:1/from-url?q=1", port=echo, path="/from-options", method="PUT"
        )
        assert (req.host, req.path, req.method, req.protocol) == (
            "127.0.0.1",
            "/from-options",
            "PUT",
            "http:",
        )
        got = await send(req, b"x")
        assert (got["method"], got["url"], got["body"]) == ("PUT", "/from-options", "x")
        assert ("Host", f"127.0.0.1:{echo}") in header_pairs(got["raw_headers"])


async def test_url_userinfo_becomes_decoded_authorization(echo: int) -> None:
    with trio.fail_after(5):
        got = await send(http.request(f"http://us%20er:p%40ss@127.0.0.1:{echo}/p?q=1"))
        assert got["url"] == "/p?q=1"
        token = base64.b64encode(b"us er:p@ss").decode()
        assert ("Authorization", f"Basic {token}") in header_pairs(got["raw_headers"])


async def test_auth_is_utf8_then_base64_like_node() -> None:
    # H1-214, R1-093: Node computes Buffer.from(auth).toString('base64'), i.e. UTF-8
    req = http.request("http://ryan:s%C3%A9cret@127.0.0.1:1/x", agent=http.Agent())
    assert req.get_header("authorization") == "Basic cnlhbjpzw6ljcmV0"
    req = http.request("http://127.0.0.1:1/x", auth="ryan:sécret", agent=http.Agent())
    assert req.get_header("authorization") == "Basic cnlhbjpzw6ljcmV0"


async def test_auth_option_and_explicit_authorization_wins_r1_094(echo: int) -> None:
    with trio.fail_after(5):
        got = await send(http.request(f"http://127.0.0.1:{echo}/", auth="user:pw"))
        assert ("Authorization", "Basic dXNlcjpwdw==") in header_pairs(got["raw_headers"])
        got = await send(
            http.request(
                f"http://127.0.0.1:{echo}/", auth="user:pw", headers={"authorization": "Bearer x"}
            )
        )
        pairs = header_pairs(got["raw_headers"])
        assert ("authorization", "Bearer x") in pairs
        assert [p for p in pairs if p[0].lower() == "authorization"] == [
            ("authorization", "Bearer x")
        ]


async def test_headers_dict_and_raw_list_keep_order_and_case(echo: int) -> None:
    with trio.fail_after(5):
        got = await send(
            http.request(
                f"http://127.0.0.1:{echo}/",
                headers={"X-Camel": "1", "lower": "2", "X-Multi": ["a", "b"], "X-Num": 3},
            )
        )
        assert got["raw_headers"][:10] == [
            "X-Camel",
            "1",
            "lower",
            "2",
            "X-Multi",
            "a",
            "X-Multi",
            "b",
            "X-Num",
            "3",
        ]
        raw = ["X-B", "1", "x-a", "2", "X-B", "3", "Host", "h.example"]
        got = await send(http.request(f"http://127.0.0.1:{echo}/", headers=raw))
        assert got["raw_headers"][:8] == raw
        assert got["raw_headers"][8:] == ["Connection", "keep-alive"]


async def test_set_host_false_sends_no_host() -> None:
    with trio.fail_after(5):
        sent = await capture_one({"set_host": False})
        assert sent == b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"


async def test_host_header_port_and_default_port(echo: int) -> None:
    with trio.fail_after(5):
        got = await send(http.request(host="127.0.0.1", port=echo, default_port=echo))
        assert ("Host", "127.0.0.1") in header_pairs(got["raw_headers"])
        got = await send(http.request(host="127.0.0.1", port=echo))
        assert ("Host", f"127.0.0.1:{echo}") in header_pairs(got["raw_headers"])


async def test_ipv6_host_header_is_bracketed(echo: int) -> None:
    async def to_loopback(options: dict[str, Any]) -> trio.abc.Stream:
        assert options["host"] == "::1"
        return await trio.open_tcp_stream("127.0.0.1", echo)

    with trio.fail_after(5):
        req = http.request(f"http://[::1]:{echo}/", create_connection=to_loopback)
        assert req.host == "::1"
        got = await send(req)
        assert ("Host", f"[::1]:{echo}") in header_pairs(got["raw_headers"])
        req = http.request(host="::1", port=80, create_connection=to_loopback)
        got = await send(req)
        assert ("Host", "[::1]") in header_pairs(got["raw_headers"])


async def test_method_validation_and_default() -> None:
    with trio.fail_after(5):
        assert http.request("http://127.0.0.1/").method == "GET"
        assert http.request("http://127.0.0.1/", method="patch").method == "PATCH"
        with pytest.raises(InvalidHttpTokenError) as info:
            http.request("http://127.0.0.1/", method="GE T")
        assert info.value.code == "ERR_INVALID_HTTP_TOKEN"
        assert str(info.value) == 'Method must be a valid HTTP token ["GE T"]'
        assert isinstance(info.value, TypeError)


async def test_path_with_space_is_rejected() -> None:
    with trio.fail_after(5):
        with pytest.raises(UnescapedCharactersError) as info:
            http.request(host="127.0.0.1", path="/a b")
        assert info.value.code == "ERR_UNESCAPED_CHARACTERS"
        assert str(info.value) == "Request path contains unescaped characters"


async def test_wrong_protocol_is_rejected() -> None:
    with trio.fail_after(5):
        with pytest.raises(InvalidProtocolError) as info:
            http.request("https://127.0.0.1/")
        assert info.value.code == "ERR_INVALID_PROTOCOL"
        assert str(info.value) == 'Protocol "https:" not supported. Expected "http:"'


async def test_unknown_keyword_is_a_type_error() -> None:
    with trio.fail_after(5):
        with pytest.raises(TypeError, match="setHost"):
            http.request("http://127.0.0.1/", setHost=False)


# -- Connection header rule (R1-111, R1-120) ------------------------------------------------


def connection_of(got: dict[str, Any]) -> list[str]:
    return [v for k, v in header_pairs(got["raw_headers"]) if k.lower() == "connection"]


async def test_connection_header_rule_r1_111(echo: int) -> None:
    with trio.fail_after(5):
        url = f"http://127.0.0.1:{echo}/"
        # agent=False: a fresh default Agent, so Connection: close.
        req = http.request(url, agent=False)
        assert isinstance(req.agent, http.Agent) and req.agent is not http.global_agent
        assert connection_of(await send(req)) == ["close"]
        # A default Agent(): keepAlive false and maxSockets Infinity -> close.
        async with http.Agent() as agent:
            assert connection_of(await send(http.request(url, agent=agent))) == ["close"]
        # keepAlive false but a finite maxSockets -> keep-alive.
        async with http.Agent(max_sockets=4) as agent:
            assert connection_of(await send(http.request(url, agent=agent))) == ["keep-alive"]
        # A keep-alive agent, and the global agent (keep-alive since v19).
        async with http.Agent(keep_alive=True) as agent:
            assert connection_of(await send(http.request(url, agent=agent))) == ["keep-alive"]
        assert connection_of(await send(http.request(url))) == ["keep-alive"]
        # An explicit Connection header is sent as given, and only it.
        req = http.request(url, headers={"Connection": "Upgrade-Insecure"}, agent=False)
        assert connection_of(await send(req)) == ["Upgrade-Insecure"]


# -- body writing -------------------------------------------------------------------------


async def test_chunked_and_content_length_bodies_arrive(echo: int) -> None:
    with trio.fail_after(5):
        url = f"http://127.0.0.1:{echo}/"
        req = http.request(url, method="POST")
        assert await req.write("é", "utf-8") is True
        await req.write(b"\x00\xff")
        got = await send(req, b"!")
        assert got["body"] == "é".encode().decode("latin-1") + "\x00\xff!"
        assert ("Transfer-Encoding", "chunked") in header_pairs(got["raw_headers"])
        got = await send(http.request(url, method="POST"), b"whole")
        assert ("Content-Length", "5") in header_pairs(got["raw_headers"])
        assert got["body"] == "whole"


async def test_empty_write_sends_nothing_r1_024() -> None:
    received = bytearray()
    head_seen = trio.Event()

    async def peer(stream: trio.SocketStream) -> None:
        received.extend(await read_head(stream))
        head_seen.set()
        while not received.endswith(b"0\r\n\r\n"):
            received.extend(await stream.receive_some(65536))
        await stream.send_all(Capture.RESPONSE)

    with trio.fail_after(5):
        async with raw_server(peer) as port:
            req = http.request(host="127.0.0.1", port=port, method="POST")
            assert await req.write(b"") is True
            assert await req.write("") is True
            await trio.testing.wait_all_tasks_blocked()
            assert req.socket is None and received == b""
            await req.end(b"cd")  # the head was stored by write(b''): chunked, as Node
            await (await req.response()).resume()
        assert received.endswith(b"Transfer-Encoding: chunked\r\n\r\n2\r\ncd\r\n0\r\n\r\n")


async def test_trailers_with_chunked_body_h1_163(echo: int) -> None:
    with trio.fail_after(5):
        req = http.request(f"http://127.0.0.1:{echo}/", method="POST", headers={"Trailer": "X-T"})
        await req.write(b"ab")
        req.add_trailers({"X-T": "v", "X-Two": ["1", "2"]})
        got = await send(req)
        assert got["body"] == "ab"
        assert got["raw_trailers"] == ["X-T", "v", "X-Two", "1", "X-Two", "2"]


async def test_flush_headers_sends_the_head_alone_h1_056() -> None:
    head_arrived = trio.Event()
    heads: list[bytes] = []

    async def peer(stream: trio.SocketStream) -> None:
        heads.append(await read_head(stream))
        head_arrived.set()
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            rest += await stream.receive_some(65536)
        heads.append(rest)
        await stream.send_all(Capture.RESPONSE)

    with trio.fail_after(5):
        async with raw_server(peer) as port:
            req = http.request(host="127.0.0.1", port=port, method="POST")
            assert not req.headers_sent
            await req.flush_headers()
            assert req.headers_sent
            await head_arrived.wait()
            assert heads[0].endswith(b"Transfer-Encoding: chunked\r\n\r\n")
            await req.write(b"ab")
            await req.end()
            await (await req.response()).resume()
        assert heads[1] == b"2\r\nab\r\n0\r\n\r\n"


async def test_finish_and_writable_state_r1_039() -> None:
    with trio.fail_after(5):
        capture = Capture()
        async with raw_server(capture.handle) as port:
            req = http.request(host="127.0.0.1", port=port, method="POST")
            seen: list[tuple[str, bool, bool]] = []
            req.on("finish", lambda: seen.append(("finish", req.writable_ended, req.finished)))
            assert not req.writable_ended and not req.writable_finished
            await req.write(b"a")
            assert not req.writable_ended
            await req.end()
            assert seen == [("finish", True, True)]
            assert req.writable_finished
            await (await req.response()).resume()


async def test_cork_holds_writes_until_uncork_h1_051_h1_074() -> None:
    with trio.fail_after(5):
        capture = Capture()
        async with raw_server(capture.handle) as port:
            req = http.request(host="127.0.0.1", port=port, method="POST")
            req.cork()
            assert await req.write(b"a") is True
            await req.write(b"b")
            assert req.writable_corked == 1
            assert req.writable_length > 0
            assert req.socket is None  # nothing was sent: no connection yet
            req.uncork()
            assert req.writable_corked == 0
            await req.end()
            await (await req.response()).resume()
        assert capture.requests[0].endswith(
            b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n"
        )


async def test_writable_properties_and_pipe_h1_185_h1_187() -> None:
    with trio.fail_after(5):
        req = http.request("http://127.0.0.1:9/")
        assert req.writable_high_water_mark == 16384
        assert req.writable_object_mode is False
        assert req.writable_length == 0
        assert req.writable_corked == 0
        assert not req.destroyed and not req.finished and not req.aborted
        with pytest.raises(Exception) as info:
            req.pipe()
        assert getattr(info.value, "code", None) == "ERR_STREAM_CANNOT_PIPE"


# -- Expect: 100-continue and 1xx (R1-040…R1-045) ----------------------------------------------


async def test_expect_continue_sends_head_then_body_after_continue() -> None:
    order: list[str] = []

    async def on_check_continue(req: Any, res: Any) -> None:
        order.append("server: checkContinue")
        await res.write_continue()
        body = await req.read()
        order.append(f"server: body {body!r}")
        await res.end(b"ok")

    with trio.fail_after(5):
        server = http.create_server()
        server.on("checkContinue", on_check_continue)
        async with server:
            await server.listen(0, "127.0.0.1")
            req = http.request(
                f"http://127.0.0.1:{server.address()['port']}/",
                method="POST",
                headers={"Expect": "100-continue"},
            )
            req.on("continue", lambda: order.append("client: continue"))
            await req.end(b"payload")
            res = await req.response()
            assert await res.read() == b"ok"
        assert order == [
            "server: checkContinue",
            "client: continue",
            "server: body b'payload'",
        ]


async def test_expect_continue_refused_with_417_sends_no_body() -> None:
    after_answer = bytearray()

    async def refuse(stream: trio.SocketStream) -> None:
        head = await read_head(stream)
        assert b"\r\nexpect: 100-continue\r\n" in head
        assert head.endswith(b"\r\n\r\n")
        await stream.send_all(
            b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        with trio.move_on_after(0.2):
            while data := await stream.receive_some(65536):
                after_answer.extend(data)

    with trio.fail_after(5):
        async with raw_server(refuse) as port:
            req = http.request(
                host="127.0.0.1", port=port, method="POST", headers={"expect": "100-continue"}
            )
            continued: list[bool] = []
            req.on("continue", lambda: continued.append(True))
            await req.end(b"payload")
            res = await req.response()
            assert res.status_code == 417
            await res.resume()
        assert after_answer == b""
        assert continued == []


async def test_information_for_102_and_103_design_11() -> None:
    async def handler(req: Any, res: Any) -> None:
        await res.write_processing()
        await res.write_early_hints({"link": "</a.css>; rel=preload", "x-trace": "t1"})
        await res.end(b"done")

    with trio.fail_after(5):
        async with http.create_server(handler) as server:
            await server.listen(0, "127.0.0.1")
            req = http.request(f"http://127.0.0.1:{server.address()['port']}/")
            infos: list[dict[str, Any]] = []
            req.on("information", infos.append)
            await req.end()
            res = await req.response()
            assert await res.read() == b"done"
        assert [i["status_code"] for i in infos] == [102, 103]
        keys = {
            "status_code",
            "status_message",
            "http_version",
            "http_version_major",
            "http_version_minor",
            "headers",
            "raw_headers",
        }
        assert all(set(info) == keys for info in infos)
        processing, hints = infos
        assert processing["status_message"] == "Processing"
        assert (processing["http_version"], processing["http_version_major"]) == ("1.1", 1)
        assert processing["http_version_minor"] == 1
        assert processing["headers"] == {} and processing["raw_headers"] == []
        assert hints["status_message"] == "Early Hints"
        assert hints["raw_headers"] == ["Link", "</a.css>; rel=preload", "x-trace", "t1"]
        assert hints["headers"] == {"link": "</a.css>; rel=preload", "x-trace": "t1"}


# -- headers API (H1-057…H1-061, H1-067, H1-069, R1-009, R1-010) ---------------------------------


async def test_header_accessors() -> None:
    with trio.fail_after(5):
        req = http.request("http://127.0.0.1:9/")
        req.set_header("Content-Length", 5)
        req.set_header("Set-Cookie", ["a=1", "b=2"])
        req.set_header("Foo", "bar")
        assert req.get_header("content-length") == 5
        assert req.get_header("SET-COOKIE") == ["a=1", "b=2"]
        assert req.get_header("missing") is None
        assert req.has_header("FOO") and not req.has_header("missing")
        assert req.get_header_names() == ["host", "content-length", "set-cookie", "foo"]
        assert req.get_raw_header_names() == ["Host", "Content-Length", "Set-Cookie", "Foo"]
        assert req.get_headers() == {
            "host": "127.0.0.1:9",
            "content-length": 5,
            "set-cookie": ["a=1", "b=2"],
            "foo": "bar",
        }
        req.remove_header("foo")
        assert not req.has_header("Foo")
        with pytest.raises(TypeError):
            req.set_header("X-Bad", "\u028a\u0261")  # R1-011: outside latin-1
        assert req.connection is req.socket is None


async def test_headers_are_frozen_once_sent(echo: int) -> None:
    with trio.fail_after(5):
        req = http.request(f"http://127.0.0.1:{echo}/")
        req.set_header("X-Before", "1")
        got = await send(req)
        assert ("X-Before", "1") in header_pairs(got["raw_headers"])
        with pytest.raises(HeadersSentError) as info:
            req.set_header("X-After", "1")
        assert info.value.code == "ERR_HTTP_HEADERS_SENT"
        with pytest.raises(HeadersSentError):
            req.remove_header("X-Before")


# -- properties -----------------------------------------------------------------------------


async def test_reused_socket_on_a_keep_alive_agent(echo: int) -> None:
    with trio.fail_after(5):
        async with http.Agent(keep_alive=True) as agent:
            url = f"http://127.0.0.1:{echo}/"
            first = http.request(url, agent=agent)
            assert first.reused_socket is False
            await send(first)
            assert first.reused_socket is False
            second = http.request(url, agent=agent)
            await send(second)
            assert second.reused_socket is True
            assert second.socket is first.socket


async def test_socket_event_and_response_socket(echo: int) -> None:
    with trio.fail_after(5):
        req = http.request(f"http://127.0.0.1:{echo}/", agent=False)
        sockets: list[Any] = []
        req.on("socket", sockets.append)
        await req.end()
        res = await req.response()
        await res.resume()
        assert sockets == [req.socket]
        assert res.socket is req.socket
        assert req.socket.remote_address == "127.0.0.1"
        assert req.socket.remote_port == echo


async def test_max_headers_count_limits_response_headers_h1_062() -> None:
    async def handler(req: Any, res: Any) -> None:
        for n in range(5):
            res.set_header(f"x-h{n}", str(n))
        await res.end()

    with trio.fail_after(5):
        async with http.create_server(handler) as server:
            await server.listen(0, "127.0.0.1")
            url = f"http://127.0.0.1:{server.address()['port']}/"
            req = http.request(url)
            assert req.max_headers_count in (None, 2000)
            await req.end()
            res = await req.response()
            await res.resume()
            assert res.raw_headers[:10] == [
                "x-h0",
                "0",
                "x-h1",
                "1",
                "x-h2",
                "2",
                "x-h3",
                "3",
                "x-h4",
                "4",
            ]
            req = http.request(url)
            req.max_headers_count = 2
            await req.end()
            res = await req.response()
            await res.resume()
            assert res.raw_headers == ["x-h0", "0", "x-h1", "1"]
            assert res.headers == {"x-h0": "0", "x-h1": "1"}


async def test_max_header_size_option_h1_227() -> None:
    async def handler(req: Any, res: Any) -> None:
        res.set_header("x-big", "v" * 2000)
        await res.end()

    with trio.fail_after(5):
        async with http.create_server(handler) as server:
            await server.listen(0, "127.0.0.1")
            url = f"http://127.0.0.1:{server.address()['port']}/"
            req = http.request(url, max_header_size=1024)
            await req.end()
            with pytest.raises(HttpParserError) as info:
                await req.response()
            assert info.value.code == "HPE_HEADER_OVERFLOW"
            res = await http.get(url, max_header_size=4096)
            await res.resume()
            assert len(res.headers["x-big"]) == 2000


@pytest.mark.parametrize(("value_length", "overflows"), [(1001, False), (1002, True)])
async def test_max_header_size_counts_as_node_does(value_length: int, overflows: bool) -> None:
    # Node v20 (measured): status text + names + values; overflow once the count reaches
    # the limit. Here: "OK" + "x-big" + value + "Content-Length" + "0".
    async def peer(stream: trio.SocketStream) -> None:
        await read_head(stream)
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\nx-big: %b\r\nContent-Length: 0\r\n\r\n" % (b"v" * value_length)
        )

    with trio.fail_after(5):
        async with raw_server(peer) as port:
            req = http.request(host="127.0.0.1", port=port, max_header_size=1024)
            await req.end()
            if overflows:
                with pytest.raises(HttpParserError) as info:
                    await req.response()
                assert info.value.code == "HPE_HEADER_OVERFLOW"
                assert str(info.value) == "Parse Error: Header overflow"
            else:
                res = await req.response()
                await res.resume()
                assert len(res.headers["x-big"]) == value_length


async def test_join_duplicate_headers_option_h1_223() -> None:
    async def handler(req: Any, res: Any) -> None:
        res.set_header("etag", ["a", "b"])  # one of the headers whose duplicates are dropped
        await res.end()

    with trio.fail_after(5):
        async with http.create_server(handler) as server:
            await server.listen(0, "127.0.0.1")
            url = f"http://127.0.0.1:{server.address()['port']}/"
            res = await http.get(url)
            await res.resume()
            assert res.headers["etag"] == "a"
            res = await http.get(url, join_duplicate_headers=True)
            await res.resume()
            assert res.headers["etag"] == "a, b"


# -- timeouts (R1-086, H1-046, H1-072, H1-236) on MockClock -----------------------------------


async def memory_pair_server(nursery: trio.Nursery, delay: float) -> tuple[http.Server, Any]:
    """Our server with a handler answering after ``delay``, served over memory streams."""

    async def handler(req: Any, res: Any) -> None:
        await trio.sleep(delay)
        await res.end(b"late")

    server = http.create_server(handler)

    async def create_connection(options: dict[str, Any]) -> trio.abc.Stream:
        client, served = trio.testing.memory_stream_pair()
        nursery.start_soon(server.serve_connection, served)
        return client

    return server, create_connection


async def test_timeout_option_emits_timeout_without_aborting_r1_086(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            _, connect = await memory_pair_server(nursery, 2.5)
            req = http.request("http://127.0.0.1/", timeout=1.0, create_connection=connect)
            fired: list[float] = []
            start = trio.current_time()
            req.on("timeout", lambda: fired.append(trio.current_time() - start))
            await req.end()
            res = await req.response()
            assert await res.read() == b"late"
            # Once per idle period, as Node's socket timeout (Node v20: one event here too).
            assert fired == [pytest.approx(1.0)]
            assert not req.destroyed


async def test_set_timeout_callback_and_destroy_from_it_r1_086(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            _, connect = await memory_pair_server(nursery, 30.0)
            req = http.request("http://127.0.0.1/", create_connection=connect)
            events: list[str] = []
            req.on("close", lambda: events.append("close"))
            req.on("error", lambda err: events.append(f"error:{err}"))
            assert req.set_timeout(2.0, lambda: (events.append("timeout"), req.destroy())) is req
            await req.end()
            with pytest.raises(ConnectionResetError, match="socket hang up"):
                await req.response()
            assert events == ["timeout", "error:socket hang up", "close"]
            assert trio.current_time() == pytest.approx(2.0, abs=0.01)
            nursery.cancel_scope.cancel()


# -- socket options deferred until a socket exists (R1-099) -----------------------------------


async def test_socket_options_are_deferred_until_the_socket_exists(echo: int) -> None:
    with trio.fail_after(5):
        req = http.request(f"http://127.0.0.1:{echo}/", agent=False)
        req.set_no_delay(False)
        req.set_socket_keep_alive(True, 7.0)
        seen: list[tuple[int, int, int]] = []

        def on_connect(socket: Any) -> None:
            raw = socket.stream.socket
            seen.append(
                (
                    raw.getsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY),
                    raw.getsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE),
                    raw.getsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_KEEPIDLE),
                )
            )

        # 'socket' fires before the connection exists (R1-081); the options apply on
        # connect, as Node's deferred setNoDelay/setKeepAlive do (R1-099).
        req.on("socket", lambda socket: socket.once("connect", lambda: on_connect(socket)))
        await req.end()
        assert seen == [(0, 1, 7)]
        # Once the socket exists, the calls apply at once.
        raw = req.socket.stream.socket
        req.set_no_delay(True)
        assert raw.getsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY) == 1
        await (await req.response()).resume()


# -- upgrade and CONNECT (R1-073, R1-074, H1-033, H1-047) ---------------------------------------


async def test_upgrade_hands_over_the_socket_and_head() -> None:
    async def on_upgrade(req: Any, socket: Any, head: bytes) -> None:
        await socket.send_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhi"
        )
        data = await socket.receive_some(100)
        await socket.send_all(b"echo:" + data)

    with trio.fail_after(5):
        server = http.create_server()
        server.on("upgrade", on_upgrade)
        async with server:
            await server.listen(0, "127.0.0.1")
            req = http.request(
                f"http://127.0.0.1:{server.address()['port']}/",
                headers={"Connection": "Upgrade", "Upgrade": "echo"},
            )
            got: list[Any] = []

            async def on_client_upgrade(res: Any, socket: Any, head: bytes) -> None:
                while len(head) < 2:
                    head += await socket.receive_some(100)
                await socket.send_all(b"ping")
                reply = b""
                while len(reply) < 9:
                    reply += await socket.receive_some(100)
                got.append((res.status_code, res.headers["upgrade"], head, reply))

            req.on("upgrade", on_client_upgrade)
            responses: list[Any] = []
            req.on("response", responses.append)
            await req.end()
            res = await req.response()
        assert got == [(101, "echo", b"hi", b"echo:ping")]
        assert res.status_code == 101
        assert responses == []  # 101 goes to 'upgrade', never 'response' or 'information'


async def test_connect_tunnel() -> None:
    async def on_connect(req: Any, socket: Any, head: bytes) -> None:
        assert req.url == "example.test:443"
        await socket.send_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        data = await socket.receive_some(100)
        await socket.send_all(data.upper())

    with trio.fail_after(5):
        server = http.create_server()
        server.on("connect", on_connect)
        async with server:
            await server.listen(0, "127.0.0.1")
            req = http.request(
                host="127.0.0.1",
                port=server.address()["port"],
                method="CONNECT",
                path="example.test:443",
            )
            got: list[Any] = []

            async def on_client_connect(res: Any, socket: Any, head: bytes) -> None:
                await socket.send_all(b"tunnel")
                data = head
                while len(data) < 6:
                    data += await socket.receive_some(100)
                got.append((res.status_code, res.status_message, data))

            req.on("connect", on_client_connect)
            await req.end()
            await req.response()
        assert got == [(200, "Connection Established", b"TUNNEL")]


# -- transports: socket_path, local_address, family, lookup (H1-217…H1-235) ----------------------


async def test_socket_path_uses_a_unix_socket() -> None:
    heads: list[bytes] = []

    async def peer(stream: trio.SocketStream) -> None:
        heads.append(await read_head(stream))
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nunix"
        )

    with trio.fail_after(5), tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.sock")
        sock = trio.socket.socket(_stdlib_socket.AF_UNIX, _stdlib_socket.SOCK_STREAM)
        await sock.bind(path)
        sock.listen()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.serve_listeners, peer, [trio.SocketListener(sock)])
            res = await http.get(socket_path=path, path="/u")
            assert await res.read() == b"unix"
            nursery.cancel_scope.cancel()
        assert heads == [b"GET /u HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"]


async def test_local_address_and_family(echo: int) -> None:
    with trio.fail_after(5):
        req = http.request(
            host="localhost", port=echo, family=4, local_address="127.0.0.1", agent=False
        )
        got = await send(req)
        assert got["method"] == "GET"
        assert req.socket.remote_address == "127.0.0.1"
        assert req.socket.local_address == "127.0.0.1"
        assert ("Host", f"localhost:{echo}") in header_pairs(got["raw_headers"])


async def test_local_port_option_h1_225(echo: int) -> None:
    with trio.fail_after(5):
        with _stdlib_socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            local_port = probe.getsockname()[1]
        req = http.request(host="127.0.0.1", port=echo, local_port=local_port, hints=0, agent=False)
        await send(req)
        assert req.socket.local_port == local_port


async def test_lookup_option(echo: int) -> None:
    calls: list[tuple[str, Any]] = []

    def lookup(hostname: str, family: Any) -> tuple[str, int]:
        calls.append((hostname, family))
        return "127.0.0.1", 4

    with trio.fail_after(5):
        got = await send(http.request(f"http://example.test:{echo}/", lookup=lookup))
        assert calls == [("example.test", None)]
        assert ("Host", f"example.test:{echo}") in header_pairs(got["raw_headers"])


# -- http.get, async with, the response (H1-209, DESIGN §4, §10) ----------------------------------


async def test_get_ends_the_request_and_returns_the_response(echo: int) -> None:
    with trio.fail_after(5):
        seen: list[Any] = []
        res = await http.get(f"http://127.0.0.1:{echo}/g", seen.append)
        assert isinstance(res, http.IncomingMessage)
        assert seen == [res]  # the callback is a one-time 'response' listener
        assert res.req.finished  # type: ignore[attr-defined]
        got = await res.json()
        assert (got["method"], got["url"], got["body"]) == ("GET", "/g", "")
        assert res.complete


async def test_request_callback_is_a_one_time_response_listener(echo: int) -> None:
    with trio.fail_after(5):
        seen: list[Any] = []
        req = http.request(f"http://127.0.0.1:{echo}/", seen.append)
        await req.end()
        res = await req.response()
        assert await req.response() is res
        assert seen == [res]
        await res.resume()


async def test_async_with_destroys_what_is_unfinished() -> None:
    async def handler(req: Any, res: Any) -> None:
        await res.write(b"part")
        await trio.sleep_forever()

    with trio.fail_after(5):
        async with http.create_server(handler) as server:
            await server.listen(0, "127.0.0.1")
            url = f"http://127.0.0.1:{server.address()['port']}/"
            events: list[str] = []
            async with http.request(url) as req:
                req.on("close", lambda: events.append("close"))
                await req.end()
                res = await req.response()
                res.on("aborted", lambda: events.append("res.aborted"))
                assert await res.receive_some() == b"part"
            assert req.destroyed
            assert req.socket.destroyed
            assert res.aborted and not res.complete
            assert events == ["res.aborted", "close"]
            assert http.global_agent.sockets == {}
            server.close_all_connections()


async def test_async_with_leaves_a_finished_exchange_alone(echo: int) -> None:
    with trio.fail_after(5):
        async with http.request(f"http://127.0.0.1:{echo}/") as req:
            await req.end()
            res = await req.response()
            await res.read()
        assert not req.destroyed
        assert res.complete and not res.aborted
        assert len(http.global_agent.free_sockets) == 1


async def test_async_with_on_an_exception_destroys_the_request(echo: int) -> None:
    with trio.fail_after(5):
        with pytest.raises(KeyError):
            async with http.request(f"http://127.0.0.1:{echo}/", method="POST") as req:
                await req.write(b"half")
                raise KeyError("user")
        assert req.destroyed
        assert req.socket.destroyed


async def test_set_encoding_decodes_across_chunks_and_json() -> None:
    async def handler(req: Any, res: Any) -> None:
        if req.url == "/json":
            await res.end(b'{"a": [1, "\xc3\xa9"]}')
            return
        await res.write(b"caf\xc3")
        await res.write(b"\xa9!")
        await res.end()

    with trio.fail_after(5):
        async with http.create_server(handler) as server:
            await server.listen(0, "127.0.0.1")
            base = f"http://127.0.0.1:{server.address()['port']}"
            res = await http.get(base + "/text")
            assert res.set_encoding("utf-8") is res
            parts = [part async for part in res]
            assert all(isinstance(p, str) for p in parts)
            assert "".join(parts) == "café!"
            assert res.complete
            res = await http.get(base + "/json")
            assert await res.json() == {"a": [1, "é"]}


async def test_a_repeated_url_builds_the_same_request_as_the_first_time() -> None:
    # The agent remembers what a URL string derives to (a speed-up, not a behaviour):
    # the second request must be indistinguishable from the first, and still editable.
    agent = http.Agent(keep_alive=True)
    url = "http://127.0.0.1:8080/a/b?c=d"
    first = http.request(url, agent=agent)
    second = http.request(url, agent=agent)
    for attr in ("method", "path", "host", "protocol", "_port", "timeout"):
        assert getattr(second, attr) == getattr(first, attr)
    assert second.get_headers() == first.get_headers() == {"host": "127.0.0.1:8080"}
    assert second.get_raw_header_names() == ["Host"]
    first._implicit_header()
    second._implicit_header()
    assert second._header == first._header == (
        b"GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\r\n"
    )
    third = http.request(url, agent=agent)
    third.set_header("X-Extra", "1")
    third.remove_header("host")
    third._implicit_header()
    assert third._header == b"GET /a/b?c=d HTTP/1.1\r\nX-Extra: 1\r\nConnection: keep-alive\r\n\r\n"
    assert first.get_headers() == {"host": "127.0.0.1:8080"}  # nothing shared
