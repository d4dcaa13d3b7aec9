"""The routes of ``node_parity_server.js``, written with this package (DESIGN §10).

``build_server(options)`` takes the same JSON object as the Node script
(Node's option names, milliseconds, plus ``"listeners"``) and returns the
equivalent ``http.create_server(handler, **options)``. Every route does, in
Python, exactly what its namesake does in JavaScript; the parity test sends
both servers the same bytes and compares what comes back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from trio_nodehttp import http
from trio_nodehttp.errors import ContentLengthMismatchError, NodeError

Handler = Callable[[http.IncomingMessage, http.ServerResponse], Awaitable[None]]

_MS_OPTIONS = {
    "headersTimeout",
    "requestTimeout",
    "keepAliveTimeout",
    "connectionsCheckingInterval",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def python_options(options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Node's createServer options (ms) → this package's keywords (s), and the listeners."""
    kwargs: dict[str, Any] = {}
    listeners: list[str] = []
    for key, value in options.items():
        if key == "listeners":
            listeners = list(value)
        elif key in _MS_OPTIONS:
            kwargs[_snake(key)] = value / 1000
        else:
            kwargs[_snake(key)] = value
    return kwargs, listeners


# -- the routes (same names and order as in node_parity_server.js) ----------------


async def hi(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.end("hi")


async def chunked(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Content-Type", "text/plain")
    await res.write("a")
    await res.end("b")


async def write_then_end(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write("abc")
    await res.end()


async def merge(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Content-Type", "text/html")
    res.set_header("X-Foo", "bar")
    await res.write_head(200, {"Content-Type": "text/plain"}).end("ok")


async def merge_array(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("X-A", "0")
    res.set_header("X-B", "b")
    await res.write_head(200, ["X-A", "1", "X-A", "2"]).end("ok")


async def writehead_object(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(201, {"X-Custom": "v", "Content-Type": "text/plain"}).end("ok")


async def writehead_array(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(200, ["Set-Cookie", "a=1", "Set-Cookie", "b=2", "X-Y", "y"]).end()


async def writehead_message(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(299, "Custom Reason", {"X-A": "1"}).end()


async def writehead_content_length(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(200, {"Content-Length": "5"}).end("hello")


async def status_message(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.status_code = 404
    res.status_message = "Nope"
    await res.end("x")


async def user_content_length(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Content-Length", 5)
    await res.write("he")
    await res.end("llo")


async def remove_date(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.remove_header("Date")
    await res.end("x")


async def send_date_false(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.send_date = False
    await res.end("x")


async def no_content(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(204).end()


async def no_content_end_body(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.status_code = 204
    await res.end("body")


async def no_content_write(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.status_code = 204
    await res.write("body")
    await res.end()


async def not_modified(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(304, {"ETag": '"x"'}).end()


async def not_modified_end_body(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.status_code = 304
    await res.end("body")


async def strict_ok(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.strict_content_length = True
    res.set_header("Content-Length", 2)
    await res.end("hi")


async def strict_mismatch(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.strict_content_length = True
    res.set_header("Content-Length", 5)
    try:
        await res.end("hi")
    except ContentLengthMismatchError:
        res.destroy()


async def trailers(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.write_head(200, {"Content-Type": "text/plain", "Trailer": "Content-MD5"})
    await res.write("abc")
    res.add_trailers({"Content-MD5": "7895bf4b8828b55ceaf47747b4bca667"})
    await res.end()


async def trailers_end_body(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Trailer", "X-T")
    res.add_trailers({"X-T": "1"})
    await res.end("abc")


async def write_continue(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_continue()
    await res.end("ok")


async def write_processing(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_processing()
    await res.end("ok")


async def early_hints(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_early_hints({"link": "</a.css>; rel=preload; as=style"})
    await res.end("ok")


async def early_hints_list(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_early_hints(
        {
            "link": ["</a.css>; rel=preload; as=style", "</b.js>; rel=preload; as=script"],
            "x-trace-id": "id-1",
        }
    )
    await res.end("ok")


async def append(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.append_header("X-U", "a")
    res.append_header("X-U", "b")
    res.append_header("X-M", "a")
    res.append_header("X-M", ["b", "c"])
    res.set_header("X-L", ["1", "2"])
    await res.end("ok")


async def handler_close(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    res.set_header("Connection", "close")
    await res.end("bye")


async def never(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    # Node's handler returns without ending; here the handler keeps running
    # (DESIGN §11: a handler that returns is ended by the server).
    await trio.sleep_forever()


ROUTES: dict[str, Handler] = {
    "/hi": hi,
    "/chunked": chunked,
    "/write-then-end": write_then_end,
    "/merge": merge,
    "/merge-array": merge_array,
    "/writehead-object": writehead_object,
    "/writehead-array": writehead_array,
    "/writehead-message": writehead_message,
    "/writehead-content-length": writehead_content_length,
    "/status-message": status_message,
    "/user-content-length": user_content_length,
    "/remove-date": remove_date,
    "/send-date-false": send_date_false,
    "/204": no_content,
    "/204-end-body": no_content_end_body,
    "/204-write": no_content_write,
    "/304": not_modified,
    "/304-end-body": not_modified_end_body,
    "/strict-ok": strict_ok,
    "/strict-mismatch": strict_mismatch,
    "/trailers": trailers,
    "/trailers-end-body": trailers_end_body,
    "/write-continue": write_continue,
    "/write-processing": write_processing,
    "/early-hints": early_hints,
    "/early-hints-list": early_hints_list,
    "/append": append,
    "/handler-close": handler_close,
    "/never": never,
}


def _js_json(value: Any) -> bytes:
    """``JSON.stringify`` of str/list/dict values, as bytes Node would send (UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def echo(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    """R1-001…R1-008: the incoming merge table, as JSON (same keys as the Node route)."""
    body = await req.read()
    out = _js_json(
        {
            "method": req.method,
            "url": req.url,
            "httpVersion": req.http_version,
            "headers": req.headers,
            "distinct": req.headers_distinct,
            "raw": req.raw_headers,
            "trailers": req.trailers,
            "rawTrailers": req.raw_trailers,
            "body": body.decode("latin-1"),
        }
    )
    res.set_header("Content-Type", "application/json")
    await res.end(out)


async def handler(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    path = (req.url or "").split("?")[0]
    if path == "/echo":
        await echo(req, res)
        return
    route = ROUTES.get(path)
    if route is None:
        res.status_code = 404
        await res.end("not found")
        return
    try:
        await route(req, res)
    except NodeError as err:
        # a route that raises (ERR_HTTP_TRAILER_INVALID ...) answers 500 with the code
        await res.write_head(500, {"X-Error": err.code}).end()


async def check_continue(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    if req.url == "/refuse":
        await res.write_head(403).end("refused")
        return
    await res.write_continue()
    await handler(req, res)


async def check_expectation(req: http.IncomingMessage, res: http.ServerResponse) -> None:
    await res.write_head(202, {"X-Expect": req.headers["expect"]}).end("expectation")


def build_server(options: dict[str, Any]) -> http.Server:
    """``http.create_server(handler, **options)`` with the listeners the JSON names."""
    kwargs, listeners = python_options(options)
    server = http.create_server(handler, **kwargs)
    if "checkContinue" in listeners:
        server.on("checkContinue", check_continue)
    if "checkExpectation" in listeners:
        server.on("checkExpectation", check_expectation)
    return server
