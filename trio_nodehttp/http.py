"""``trio_nodehttp.http``: Node's ``node:http`` on trio (DESIGN §2, §10).

The public surface of the HTTP/1.1 server side::

    from trio_nodehttp import http

    async def handler(req, res):
        await res.write_head(200, {"content-type": "text/plain"}).end(b"hi\\n")

    async with http.create_server(handler) as server:
        await server.listen(8000, "127.0.0.1")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._constants import MAX_HEADER_SIZE as _MAX_HEADER_SIZE
from ._constants import METHODS as METHODS
from ._constants import STATUS_CODES as STATUS_CODES
from ._h1.agent import Agent as Agent
from ._h1.client import ClientRequest as ClientRequest
from ._h1.client import get as get
from ._h1.client import request as request
from ._h1.incoming import IncomingMessage as IncomingMessage
from ._h1.outgoing import OutgoingMessage as OutgoingMessage
from ._h1.response import ServerResponse as ServerResponse
from ._h1.server import Server as Server
from ._headers import validate_header_name as validate_header_name
from ._headers import validate_header_value as validate_header_value
from ._net import Socket as Socket

__all__ = [
    "METHODS",
    "STATUS_CODES",
    "Agent",
    "ClientRequest",
    "IncomingMessage",
    "OutgoingMessage",
    "Server",
    "ServerResponse",
    "Socket",
    "create_server",
    "get",
    "global_agent",  # noqa: F822 -- provided per trio.run by __getattr__
    "max_header_size",
    "request",
    "set_max_idle_http_parsers",
    "validate_header_name",
    "validate_header_value",
]

#: ``http.maxHeaderSize``: the default limit on a head, in bytes (H1-211).
max_header_size: int = _MAX_HEADER_SIZE


def create_server(request_listener: Callable[..., Any] | None = None, **options: Any) -> Server:
    """``http.createServer([options][, requestListener])`` (H1-191…H1-208).

    Options are Node's in snake_case, timeouts in seconds
    (``headers_timeout=60.0``, ``keep_alive_timeout=5.0`` ...); an unknown
    option raises ``TypeError``. ``request_listener`` (sync or async) is
    added as a ``'request'`` listener.
    """
    return Server(request_listener, **options)


def set_max_idle_http_parsers(max: int) -> None:
    """``http.setMaxIdleHTTPParsers(max)`` (H1-242): validated; parsers are not pooled here."""
    from .errors import InvalidArgTypeError, OutOfRangeError

    if not isinstance(max, int) or isinstance(max, bool):
        raise InvalidArgTypeError(f'The "max" argument must be of type number. Received {max!r}')
    if max < 1:
        raise OutOfRangeError("max", ">= 1", max)


def __getattr__(name: str) -> Any:
    """``http.global_agent``: the keep-alive Agent of the current ``trio.run`` (H1-210)."""
    if name == "global_agent":
        from ._h1.agent import global_agent

        return global_agent()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
