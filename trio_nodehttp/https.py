"""``trio_nodehttp.https``: Node's ``node:https`` on trio (DESIGN §2, §10).

The HTTP/1.1 client and server of :mod:`trio_nodehttp.http`, over TLS
(:class:`trio.SSLStream`)::

    from trio_nodehttp import https

    async with https.create_server(handler, cert=CERT_PEM, key=KEY_PEM) as server:
        await server.listen(8443, "127.0.0.1")

    res = await https.get("https://127.0.0.1:8443/", ca=CA_PEM)

TLS options are Node's, as keywords: ``ca``, ``cert``, ``key`` (PEM ``str``
or ``bytes``, or lists of them), ``passphrase``, ``ciphers``,
``reject_unauthorized`` (default ``True``), ``servername``; and
``ssl_context``, a ready :class:`ssl.SSLContext` that wins over the others.
Handshake and certificate errors carry Node's ``code``
(``UNABLE_TO_GET_ISSUER_CERT_LOCALLY``, ``ERR_TLS_CERT_ALTNAME_INVALID`` ...)
and are also :class:`ssl.SSLError` subclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._h1.client import ClientRequest as ClientRequest
from ._h1.incoming import IncomingMessage
from ._tls import Agent as Agent
from ._tls import HttpsClientRequest as _HttpsClientRequest
from ._tls import Server as Server
from .errors import TLSCertificateError as TLSCertificateError
from .errors import TLSError as TLSError

__all__ = [
    "Agent",
    "ClientRequest",
    "Server",
    "TLSCertificateError",
    "TLSError",
    "create_server",
    "get",
    "global_agent",  # noqa: F822 -- provided per trio.run by __getattr__
    "request",
]


def create_server(request_listener: Callable[..., Any] | None = None, **options: Any) -> Server:
    """``https.createServer([options][, requestListener])``.

    TLS options (``ssl_context``, or ``cert`` and ``key``; ``ca``,
    ``passphrase``, ``ciphers``, ``request_cert``, ``reject_unauthorized``,
    ``ALPNProtocols``, ``handshake_timeout`` in seconds) plus every option of
    ``http.create_server``. Emits ``'secureConnection'`` (socket) after each
    handshake and ``'tlsClientError'`` (err, socket) when one fails.
    """
    return Server(request_listener, **options)


def request(
    url: Any = None, callback: Callable[..., Any] | None = None, **options: Any
) -> ClientRequest:
    """``https.request(url, **options)``: a ``ClientRequest``, no I/O yet.

    Its default agent is ``https.global_agent`` and its default protocol
    ``https:``; the TLS options go to the agent's ``create_connection``.
    """
    if callback is not None:
        options["callback"] = callback
    return _HttpsClientRequest(url, **options)


async def get(
    url: Any = None, callback: Callable[..., Any] | None = None, **options: Any
) -> IncomingMessage:
    """``https.get``: a GET that is ended at once; returns the response.

    As ``http.get``: the response keeps its request (``res.req``), the request
    keeps an ended response only as long as the caller does.
    """
    req = request(url, callback, **options)
    return await req._end_and_response()


def __getattr__(name: str) -> Any:
    """``https.global_agent``: the keep-alive ``https.Agent`` of the current ``trio.run``."""
    if name == "global_agent":
        from ._tls import global_agent

        return global_agent()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
