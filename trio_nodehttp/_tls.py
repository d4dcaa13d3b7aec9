"""TLS contexts and connecting: the machinery under ``trio_nodehttp.https``.

One concept lives here: turning Node's TLS options (``ca``, ``cert``,
``key``, ``passphrase``, ``ciphers``, ``reject_unauthorized``,
``servername``, ``ssl_context`` ...) into an :class:`ssl.SSLContext`, and
running the handshake over a trio stream with :class:`trio.SSLStream`, on
the connecting side (``https.Agent.create_connection``) and on the accepting
side (``https.Server``, which wraps every accepted TCP stream before the
HTTP/1.1 connection task sees it).

Node takes certificates and keys as PEM *contents* (``str`` or ``bytes``),
or lists of them; so do we. Python's :mod:`ssl` loads a certificate chain
only from a file, so cert/key contents pass through a private temporary
directory that is removed at once. Contexts built from options are cached
(keyed by the options), since loading a trust store is costly.

Handshake and certificate failures become :class:`TLSError` /
:class:`TLSCertificateError` with Node's ``code`` (``UNABLE_TO_GET_ISSUER_CERT_LOCALLY``,
``DEPTH_ZERO_SELF_SIGNED_CERT``, ``ERR_TLS_CERT_ALTNAME_INVALID``,
``ERR_SSL_WRONG_VERSION_NUMBER`` ...) and Node's message; they are also
:class:`ssl.SSLError` (and :class:`ssl.SSLCertVerificationError`), so
Python code that catches those keeps working.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import ssl
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import trio

from ._h1.agent import Agent as HttpAgent
from ._h1.agent import open_tcp
from ._h1.client import ClientRequest
from ._h1.server import Server as HttpServer
from ._h1.server import _Connection
from ._net import Socket
from .errors import ConnResetError, NodeError, TLSCertificateError, TLSError

__all__ = [
    "Agent",
    "HttpsClientRequest",
    "Server",
    "TLSCertificateError",
    "TLSError",
    "client_context",
    "connect_tls",
    "global_agent",
    "server_context",
]

log = logging.getLogger("trio_nodehttp")

#: Node's ``tls.Server`` ``handshakeTimeout`` default (120 000 ms), in seconds.
HANDSHAKE_TIMEOUT = 120.0

_CONTEXT_CACHE_SIZE = 64
_context_cache: OrderedDict[Hashable, ssl.SSLContext] = OrderedDict()


# -- errors ----------------------------------------------------------------------------


# TLSError and TLSCertificateError live in errors.py with the other Node errors.


#: OpenSSL ``X509_V_ERR_*`` numbers → the names Node uses as ``err.code``.
_VERIFY_CODES = {
    2: "UNABLE_TO_GET_ISSUER_CERT",
    3: "UNABLE_TO_GET_CRL",
    4: "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
    6: "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
    7: "CERT_SIGNATURE_FAILURE",
    9: "CERT_NOT_YET_VALID",
    10: "CERT_HAS_EXPIRED",
    13: "ERROR_IN_CERT_NOT_BEFORE_FIELD",
    14: "ERROR_IN_CERT_NOT_AFTER_FIELD",
    18: "DEPTH_ZERO_SELF_SIGNED_CERT",
    19: "SELF_SIGNED_CERT_IN_CHAIN",
    20: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    21: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    22: "CERT_CHAIN_TOO_LONG",
    23: "CERT_REVOKED",
    24: "INVALID_CA",
    25: "PATH_LENGTH_EXCEEDED",
    26: "INVALID_PURPOSE",
    27: "CERT_UNTRUSTED",
    28: "CERT_REJECTED",
}
_NAME_MISMATCH = frozenset({62, 63, 64})  # HOSTNAME, EMAIL, IP_ADDRESS mismatch


def _map_tls_error(exc: BaseException, host: str | None) -> BaseException:
    """An error from a handshake, as Node reports it (``tls.connect``'s ``'error'``)."""
    cause: BaseException | None = exc
    if isinstance(exc, trio.BrokenResourceError) and exc.__cause__ is not None:
        cause = exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        vcode = cause.verify_code
        vmsg = cause.verify_message or "certificate verify failed"
        if vcode in _NAME_MISMATCH:
            err: BaseException = TLSCertificateError(
                f"Hostname/IP does not match certificate's altnames: "
                f"Host: {host}. is not in the cert's altnames ({vmsg})",
                code="ERR_TLS_CERT_ALTNAME_INVALID",
            )
        else:
            # OpenSSL 3 spells "self-signed" as Node v20 does.
            err = TLSCertificateError(vmsg, code=_VERIFY_CODES.get(vcode, "CERT_UNTRUSTED"))
    elif isinstance(cause, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or (
        isinstance(cause, (OSError, trio.BrokenResourceError))
        and not isinstance(cause, ssl.SSLError)
    ):
        err = ConnResetError(
            "Client network socket disconnected before secure TLS connection was established"
        )
    elif isinstance(cause, ssl.SSLError):
        reason = cause.reason or "SSL_HANDSHAKE_FAILURE"
        err = TLSError(str(cause), code=f"ERR_SSL_{reason}")
    else:
        return exc
    err.__cause__ = exc
    return err


# -- contexts ----------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _pem_text(value: Any, what: str) -> str:
    if isinstance(value, os.PathLike):
        with open(value, encoding="ascii") as f:
            text: str = f.read()
            return text
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("ascii")
    if isinstance(value, str):
        return value
    raise TypeError(f'The "options.{what}" property must be a PEM string or bytes; got {value!r}')


def _cache_key(value: Any) -> Hashable:
    if isinstance(value, (list, tuple)):
        return tuple(_cache_key(v) for v in value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, os.PathLike):
        return ("path", os.fspath(value))
    if value is None or isinstance(value, (str, bytes, bool, int, float)):
        return value
    return ("id", id(value))


def _cached(key: Hashable, build: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    ctx = _context_cache.get(key)
    if ctx is not None:
        _context_cache.move_to_end(key)
        return ctx
    ctx = build()
    _context_cache[key] = ctx
    while len(_context_cache) > _CONTEXT_CACHE_SIZE:
        _context_cache.popitem(last=False)
    return ctx


def _load_ca(ctx: ssl.SSLContext, ca: Any) -> None:
    for item in _as_list(ca):
        if isinstance(item, (bytes, bytearray, memoryview)) and not bytes(item).lstrip().startswith(
            b"-----"
        ):
            ctx.load_verify_locations(cadata=bytes(item))  # DER
        else:
            ctx.load_verify_locations(cadata=_pem_text(item, "ca"))


def _load_chain(ctx: ssl.SSLContext, cert: Any, key: Any, passphrase: Any) -> None:
    """``load_cert_chain`` from PEM contents (Python reads chains from files only)."""
    certs = "".join(_pem_text(c, "cert") + "\n" for c in _as_list(cert))
    keys = "".join(_pem_text(k, "key") + "\n" for k in _as_list(key)) if key is not None else ""
    with tempfile.TemporaryDirectory(prefix="trio_nodehttp-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        with open(cert_path, "w", encoding="ascii") as f:
            f.write(certs)
        key_path: str | None = None
        if keys:
            key_path = os.path.join(tmp, "key.pem")
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(keys)
        ctx.load_cert_chain(cert_path, key_path, password=passphrase)


def _check_unsupported(options: dict[str, Any]) -> None:
    if options.get("pfx") is not None:
        raise TypeError(
            "the pfx option is not supported (Python's ssl has no PKCS#12 loader): "
            "pass cert= and key= as PEM, or an ssl_context="
        )


def client_context(options: dict[str, Any]) -> ssl.SSLContext:
    """The client context for ``options`` (``ssl_context`` wins over everything else).

    ``ca`` replaces the system trust store, as in Node; ``cert``/``key``
    (with ``passphrase``) present a client certificate;
    ``reject_unauthorized=False`` turns off verification and the name check.
    """
    user = options.get("ssl_context")
    if user is not None:
        if not isinstance(user, ssl.SSLContext):
            raise TypeError(f'The "options.ssl_context" must be an ssl.SSLContext; got {user!r}')
        return user
    _check_unsupported(options)
    names = ("ca", "cert", "key", "passphrase", "ciphers", "reject_unauthorized", "ALPNProtocols")
    key = ("client", *(_cache_key(options.get(n)) for n in names))

    def build() -> ssl.SSLContext:
        ca = options.get("ca")
        if ca is not None:
            # Node: a given ``ca`` replaces the default trust store.
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            _load_ca(ctx, ca)
        else:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if options.get("cert") is not None:
            _load_chain(ctx, options["cert"], options.get("key"), options.get("passphrase"))
        if options.get("ciphers"):
            ctx.set_ciphers(options["ciphers"])
        alpn = options.get("ALPNProtocols")
        if alpn:
            ctx.set_alpn_protocols([p if isinstance(p, str) else p.decode() for p in alpn])
        if options.get("reject_unauthorized", True) is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    return _cached(key, build)


def server_context(options: dict[str, Any]) -> ssl.SSLContext:
    """The server context of ``https.create_server`` options.

    ``cert`` and ``key`` (PEM contents, or lists) are required unless an
    ``ssl_context`` is given; ``ca`` is the trust store for client
    certificates, asked for with ``request_cert=True`` (and enforced unless
    ``reject_unauthorized=False``). ALPN offers ``http/1.1``, as Node's
    ``https.Server`` does.
    """
    user = options.get("ssl_context")
    if user is not None:
        if not isinstance(user, ssl.SSLContext):
            raise TypeError(f'The "options.ssl_context" must be an ssl.SSLContext; got {user!r}')
        return user
    _check_unsupported(options)
    if options.get("cert") is None or options.get("key") is None:
        raise TypeError("https.create_server() needs cert= and key= (PEM) or an ssl_context=")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _load_chain(ctx, options["cert"], options["key"], options.get("passphrase"))
    if options.get("ca") is not None:
        _load_ca(ctx, options["ca"])
    if options.get("ciphers"):
        ctx.set_ciphers(options["ciphers"])
    if options.get("request_cert"):
        ctx.verify_mode = (
            ssl.CERT_OPTIONAL if options.get("reject_unauthorized") is False else ssl.CERT_REQUIRED
        )
    alpn = options.get("ALPNProtocols") or ["http/1.1"]
    ctx.set_alpn_protocols([p if isinstance(p, str) else p.decode() for p in alpn])
    return ctx


# -- connecting ----------------------------------------------------------------------------


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def server_hostname(options: dict[str, Any]) -> str | None:
    """What the handshake verifies, and sends as SNI unless it is an IP address.

    ``servername`` when given, else the host (Python sends no SNI for an IP
    address but still checks it against the certificate's IP entries, as
    Node's ``checkServerIdentity`` does).
    """
    servername = options.get("servername")
    if servername:
        return str(servername)
    host = options.get("host") or "localhost"
    return str(host).strip("[]")


async def connect_tls(stream: trio.abc.Stream, options: dict[str, Any]) -> trio.SSLStream[Any]:
    """Run the client handshake over ``stream``; on failure close it and raise Node's error."""
    try:
        ctx = client_context(options)
        ssl_stream = trio.SSLStream(
            stream, ctx, server_hostname=server_hostname(options), https_compatible=True
        )
        await ssl_stream.do_handshake()
    except BaseException as exc:
        await trio.aclose_forcefully(stream)
        if isinstance(exc, (trio.BrokenResourceError, ssl.SSLError, OSError)) and not isinstance(
            exc, NodeError
        ):
            raise _map_tls_error(exc, server_hostname(options)) from exc
        raise
    return ssl_stream


def _server_name_from(options: dict[str, Any], request: ClientRequest) -> str:
    """Node's ``calculateServerName``: the Host header's name, else the host; '' for an IP."""
    servername = str(options.get("host") or "localhost")
    host_header = request.get_header("host")
    if isinstance(host_header, str) and host_header:
        if host_header.startswith("["):
            end = host_header.find("]")
            servername = host_header if end == -1 else host_header[1:end]
        else:
            servername = host_header.split(":", 1)[0]
    return "" if _is_ip(servername) else servername


#: The segments of Node's ``https.Agent`` ``getName`` in order, and when each is
#: non-empty: ``set`` (a truthy value), ``given`` (any value but None, so False
#: counts), ``other_than_host`` (servername), ``json`` (sigalgs).
_NAME_SEGMENTS = (
    ("ca", "set"),
    ("cert", "set"),
    ("client_cert_engine", "set"),
    ("ciphers", "set"),
    ("key", "set"),
    ("pfx", "set"),
    ("reject_unauthorized", "given"),
    ("servername", "other_than_host"),
    ("min_version", "set"),
    ("max_version", "set"),
    ("secure_protocol", "set"),
    ("crl", "set"),
    ("honor_cipher_order", "given"),
    ("ecdh_curve", "set"),
    ("dhparam", "set"),
    ("secure_options", "given"),
    ("session_id_context", "set"),
    ("sigalgs", "json"),
    ("private_key_identifier", "set"),
    ("private_key_engine", "set"),
)


def _segment(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_segment(v) for v in value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    return str(value)


class Agent(HttpAgent):
    """Node's ``https.Agent``: an ``http.Agent`` whose connections are TLS.

    Takes the ``http.Agent`` options plus the TLS ones, as keywords, used
    for every request through it (they win over the request's, as in
    Node's ``addRequest``): ``ca``, ``cert``, ``key``, ``passphrase``,
    ``ciphers``, ``reject_unauthorized`` (default ``True``), ``servername``,
    ``ssl_context`` (a ready :class:`ssl.SSLContext`, which wins over the
    others), ``ALPNProtocols``. ``max_cached_sessions`` is accepted; TLS
    sessions are not resumed across connections.
    """

    default_port = 443
    protocol = "https:"

    def __init__(self, *, max_cached_sessions: int = 100, **options: Any) -> None:
        HttpAgent.__init__(self, **options)
        self.max_cached_sessions = max_cached_sessions

    def get_name(
        self,
        host: str | None = None,
        port: int | str | None = None,
        local_address: str | None = None,
        family: int | None = None,
        socket_path: str | None = None,
        **options: Any,
    ) -> str:
        """Node's ``https.Agent.prototype.getName``: the http name plus the TLS options.

        Each of ``ca``, ``cert``, ``client_cert_engine``, ``ciphers``,
        ``key``, ``pfx``, ``reject_unauthorized``, ``servername`` (only when
        it differs from ``host``), ``min_version``, ``max_version``,
        ``secure_protocol``, ``crl``, ``honor_cipher_order``, ``ecdh_curve``,
        ``dhparam``, ``secure_options``, ``session_id_context``, ``sigalgs``
        (as JSON), ``private_key_identifier``, ``private_key_engine`` adds a
        ``:``-separated segment, empty when unset; values print with
        Python's spelling (``False``, lists joined by ``,``). A user
        ``ssl_context`` adds one more segment naming that object, so that
        requests with different contexts never share a socket.
        """
        name = HttpAgent.get_name(self, host, port, local_address, family, socket_path)
        for key, rule in _NAME_SEGMENTS:
            value = options.get(key)
            name += ":"
            if rule == "given" and value is not None:
                name += _segment(value)
            elif rule == "json" and value:
                name += json.dumps(value)
            elif rule == "other_than_host" and value and value != host:
                name += _segment(value)
            elif rule == "set" and value:
                name += _segment(value)
        ctx = options.get("ssl_context")
        if ctx is not None:
            name += f":<SSLContext 0x{id(ctx):x}>"
        return name

    def _prepare(
        self, request: ClientRequest, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        # Node's addRequest: the agent's options join the request's, the
        # servername is worked out from the Host header, and the pool key is
        # computed from the result.
        merged = {**options, **self.options} if self.options else dict(options)
        if not merged.get("servername") and merged.get("servername") != "":
            merged["servername"] = _server_name_from(merged, request)
        return self.get_name(**merged), merged

    async def create_connection(self, options: dict[str, Any]) -> trio.abc.Stream:
        """TCP, then the TLS handshake (Node's ``tls.connect``)."""
        stream = await open_tcp(options)
        return await connect_tls(stream, options)


_GLOBAL_AGENT: trio.lowlevel.RunVar[Agent] = trio.lowlevel.RunVar(
    "trio_nodehttp.https.global_agent"
)


def global_agent() -> Agent:
    """``https.globalAgent``: one per ``trio.run``, keep-alive, 5 s timeout, as Node's."""
    try:
        return _GLOBAL_AGENT.get()
    except LookupError:
        agent = Agent(keep_alive=True, timeout=5.0)
        _GLOBAL_AGENT.set(agent)
        return agent


class HttpsClientRequest(ClientRequest):
    """The ``ClientRequest`` of ``https.request``: https's global agent, ``https:`` by default."""

    _default_protocol = "https:"

    @classmethod
    def _global_agent(cls) -> HttpAgent:
        return global_agent()


# -- accepting ----------------------------------------------------------------------------


_SERVER_TLS_OPTIONS = (
    "ssl_context",
    "cert",
    "key",
    "ca",
    "passphrase",
    "ciphers",
    "pfx",
    "request_cert",
    "reject_unauthorized",
    "ALPNProtocols",
)


class Server(HttpServer):
    """Node's ``https.Server``: the HTTP/1.1 server over TLS.

    Every accepted connection is wrapped in a server-side
    :class:`trio.SSLStream` and its handshake runs inside that
    connection's task, bounded by ``handshake_timeout`` (seconds, Node's
    120). A failed handshake emits ``'tlsClientError'`` ``(err, socket)``
    (or is logged at debug level when nobody listens) and closes that
    connection only. A good one emits ``'secureConnection'`` ``(socket)``
    and then serves HTTP as ``http.Server`` does, with
    ``req.socket.encrypted`` true. ``server.close()`` and
    ``close_idle_connections()`` also end connections still in their
    handshake.
    """

    def __init__(
        self,
        request_listener: Callable[..., Any] | None = None,
        *,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        **options: Any,
    ) -> None:
        tls = {k: options.pop(k) for k in _SERVER_TLS_OPTIONS if k in options}
        HttpServer.__init__(self, request_listener, **options)
        self.handshake_timeout = float(handshake_timeout)
        self._tls_options = tls
        self.ssl_context = server_context(tls)
        self._handshaking: set[trio.CancelScope] = set()

    def set_secure_context(self, **options: Any) -> None:
        """``server.setSecureContext(options)``: new connections use the new context."""
        for key in options:
            if key not in _SERVER_TLS_OPTIONS:
                raise TypeError(f"set_secure_context() got an unexpected keyword argument {key!r}")
        tls = {**self._tls_options, **options}
        if "ssl_context" not in options:
            tls.pop("ssl_context", None)
        self.ssl_context = server_context(tls)
        self._tls_options = tls

    async def serve_connection(self, stream: trio.abc.Stream) -> None:
        """Serve one connection over any trio stream, TLS handshake first (Node's 'connection')."""
        await self._run_connection(stream)

    async def _run_connection(self, stream: trio.abc.Stream) -> None:
        if self._events and "connection" in self._events:
            # Node's 'connection' is the TCP connection's, before the handshake: the
            # socket given is the plain one (encrypted False); destroying it ends the
            # connection (the handshake then fails).
            await self.emit_async("connection", Socket(stream, server=self))
        ctx = self.ssl_context
        ssl_stream = trio.SSLStream(stream, ctx, server_side=True, https_compatible=True)
        timeout = self.handshake_timeout if self.handshake_timeout > 0 else math.inf
        failure: BaseException | None = None
        scope = trio.CancelScope(deadline=trio.current_time() + timeout)
        self._handshaking.add(scope)
        try:
            with scope:
                try:
                    await ssl_stream.do_handshake()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    failure = _map_tls_error(exc, None)
        finally:
            self._handshaking.discard(scope)
        if scope.cancelled_caught and failure is None:
            if trio.current_time() >= scope.deadline:
                failure = TLSError("TLS handshake timeout", code="ERR_TLS_HANDSHAKE_TIMEOUT")
            else:
                await trio.aclose_forcefully(stream)
                return
        if failure is not None:
            socket = Socket(ssl_stream, server=self)  # addresses read while still open
            await trio.aclose_forcefully(stream)
            socket.destroyed = True
            if self._events and "tlsClientError" in self._events:
                await self.emit_async("tlsClientError", failure, socket)
            else:
                log.debug("TLS handshake failed: %s", failure)
            return
        if self._closing:
            # close() ran while this handshake was finishing: do not start serving.
            await trio.aclose_forcefully(ssl_stream)
            return
        # The TLS socket of 'secureConnection' is the one requests see as req.socket.
        socket = Socket(ssl_stream, server=self)
        connection = _Connection(self, ssl_stream, socket, emit_connection=False)
        if self._events and "secureConnection" in self._events:
            await self.emit_async("secureConnection", socket)
        await connection.run()

    def close_idle_connections(self) -> None:
        """Also ends connections that are still in their TLS handshake."""
        for scope in list(self._handshaking):
            scope.cancel()
        HttpServer.close_idle_connections(self)

    def close_all_connections(self) -> None:
        for scope in list(self._handshaking):
            scope.cancel()
        HttpServer.close_all_connections(self)

    def __repr__(self) -> str:
        return "<https" + HttpServer.__repr__(self)[len("<http") :]
