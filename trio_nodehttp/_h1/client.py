"""``ClientRequest``, ``http.request``, ``http.get`` (H1-030…H1-077, H1-209…H1-239, R1-076…R1-104).

A request touches no socket until its first await (``write``, ``end``,
``flush_headers``, ``response()``); every await goes through one guard
(``_guard``) which makes the request cancellation-safe (DESIGN §4): when an
await is cancelled, destroyed (``req.destroy()``), aborted
(``AbortSignal``) or fails, the connection is closed — never pooled
half-used — the agent's bookkeeping is settled synchronously, and the
request's events fire in Node's documented order (R1-077…R1-087) inside
that await, shielded and bounded.

The response head and body are parsed by h11: one ``h11.Connection`` per
request, told about the request by a minimal stand-in ``Request`` (method,
and ``Upgrade`` when one is proposed), since the bytes on the wire come
from ``OutgoingMessage`` (Node's ``_storeHeader``).
"""

from __future__ import annotations

import base64
import functools
import math
import re
import weakref
from collections.abc import Callable, Mapping
from itertools import chain
from types import MappingProxyType
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import h11
import trio

from .._headers import (
    OutgoingHeaders,
    build_headers,
    check_is_http_token,
    comma_tokens,
    keeps_alive,
    parse_unique_headers_option,
    raw_list,
)
from .._net import Socket
from ..abort import AbortSignal, cancel_on_abort
from ..errors import (
    AbortError,
    ConnResetError,
    HttpParserError,
    InvalidArgTypeError,
    InvalidHttpTokenError,
    InvalidProtocolError,
    NodeError,
    UnescapedCharactersError,
)
from .agent import CONNECT_OPTIONS, Agent, ClientConnection, global_agent, open_tcp
from .incoming import IncomingMessage
from .outgoing import OutgoingMessage

__all__ = ["ClientRequest", "get", "request"]

_NO_CHUNKED = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_INVALID_PATH = re.compile(r"[^\u0021-\u00ff]")
_KEEP_ALIVE_TIMEOUT = re.compile(r"timeout=(\d+)", re.IGNORECASE)
_READ_SIZE = 65536
#: The most request bytes kept for replaying a request on a fresh socket.
_REPLAY_LIMIT = 65536
#: Bound on the shielded work done while a request is torn down (events, close).
_TEARDOWN_TIMEOUT = 1.0
#: URL strings an agent remembers the derived request options of (``_init_cached``).
_URL_CACHE_SIZE = 256

_REQUEST_OPTIONS = CONNECT_OPTIONS | {
    "agent",
    "auth",
    "callback",
    "create_connection",
    "default_port",
    "headers",
    "host",
    "hostname",
    "insecure_http_parser",
    "join_duplicate_headers",
    "max_header_size",
    "method",
    "path",
    "port",
    "protocol",
    "set_default_headers",
    "set_host",
    "signal",
    "socket_path",
    "timeout",
    "unique_headers",
    "no_delay",
}
_TOKEN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})

_shadow_cache: dict[tuple[bytes, bool], h11.Request] = {}
#: The stand-in of every plain GET (``_plain_get``) and the end of a request for h11.
_GET_SHADOW = h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h")])
_EOM = h11.EndOfMessage()
#: h11's state transition for an event we send, without its writer: the bytes of the
#: request come from OutgoingMessage, so serialising the stand-in would be thrown
#: away. ``send()`` is this plus the writer; it is the fallback should h11 rename it.
_process_event: Callable[[h11.Connection, Any, Any], None] | None = getattr(
    h11.Connection, "_process_event", None
)


def _told_sent(parser: h11.Connection, request: h11.Request) -> None:
    """Tell ``parser`` that ``request`` and its end were sent (the state h11 needs to
    read the response: the method, a proposed upgrade)."""
    if _process_event is not None:
        _process_event(parser, h11.CLIENT, request)
        _process_event(parser, h11.CLIENT, _EOM)
    else:
        parser.send(request)
        parser.send(_EOM)


class _Ended:
    """What ``ClientRequest._res`` holds once the response of an ``http.get`` has ended.

    ``res.req`` keeps the request alive; the request keeps only a weak reference
    back (``_res_ref``), so the pair is freed by reference counting when the
    caller drops the response, without a cycle for the garbage collector to find
    (PEERS: a client's per-request garbage is its throughput). Every check the
    request makes of an ended response holds for this stand-in.
    """

    __slots__ = ()
    complete = True
    aborted = False
    _events: Mapping[str, Any] = MappingProxyType({})


_ENDED: Any = _Ended()


def _shadow_request(method: str, upgrade: bool) -> h11.Request:
    """The stand-in request that tells h11 how to read the response."""
    key = (method.encode("ascii"), upgrade)
    ev = _shadow_cache.get(key)
    if ev is None:
        headers = [(b"Host", b"h")]
        if upgrade:
            headers += [(b"Connection", b"upgrade"), (b"Upgrade", b"x")]
        ev = _shadow_cache[key] = h11.Request(method=key[0], target=b"/", headers=headers)
    return ev


def _url_to_options(url: str | SplitResult | Any) -> dict[str, Any]:
    """Node's ``urlToHttpOptions`` (R1-093): userinfo becomes ``auth``, URI-decoded."""
    if isinstance(url, str):
        return dict(_parse_url(url))
    return _split_to_options(url if isinstance(url, SplitResult) else urlsplit(str(url)), url)


@functools.lru_cache(maxsize=512)
def _parse_url(url: str) -> tuple[tuple[str, Any], ...]:
    return tuple(_split_to_options(urlsplit(url), url).items())


def _split_to_options(parts: SplitResult, url: Any) -> dict[str, Any]:
    if not parts.scheme:
        raise TypeError(f"Invalid URL: {url!r}")
    opts: dict[str, Any] = {"protocol": parts.scheme + ":"}
    host = parts.hostname or ""
    opts["hostname"] = host
    if parts.port is not None:
        opts["port"] = parts.port
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    opts["path"] = path
    if parts.username is not None:
        auth = unquote(parts.username)
        if parts.password is not None:
            auth += ":" + unquote(parts.password)
        opts["auth"] = auth
    return opts


class ClientRequest(OutgoingMessage):
    """Node's ``http.ClientRequest``: made by :func:`request`, sent by its awaits.

    ``await req.write(chunk)``, ``await req.end(data)``, ``await
    req.response()`` (the ``'response'`` event's ``IncomingMessage``).
    ``async with http.request(...) as req:`` destroys whatever is
    unfinished on exit.
    """

    _default_protocol = "http:"
    # Per-request state; defaults on the class keep construction cheap.
    _ahead: h11.Data | h11.EndOfMessage | None = None
    _pool: tuple[str, dict[str, Any]] | None = None
    #: The agent's URL-cache slot: [pool name (``_pool_key``), plain GET head (``_plain_get``)].
    _pool_slot: list[Any] | None = None
    _socket_pending = False
    _in_await = False
    _response_emitted = False
    _conn: ClientConnection | None = None
    _parser: h11.Connection | None = None
    _res: IncomingMessage | None = None
    _scope: trio.CancelScope | None = None
    _destroy_error: BaseException | None = None
    _deferred = False
    _torn_down = False
    _closed = False
    _continued = False
    _final_early = False
    _head_on_wire = False
    _bytes_in = 0
    _sent: list[bytes] | None = None
    _sent_len = 0
    _retried = False
    _last_io = 0.0
    _socket_opts: list[tuple[str, tuple[Any, ...]]] | None = None
    _abort_called = False
    _default_agent_attr = "global_agent"
    agent: Agent | None = None
    socket_path: str | None = None
    timeout: float | None = None
    max_headers_count: int | None = None
    _signal: AbortSignal | None = None
    _max_header_size = 16384
    _join_duplicate_headers = False
    _insecure_http_parser = False
    _create_connection: Callable[..., Any] | None = None
    reused_socket = False
    aborted = False
    #: Made by ``_init_cached`` from a URL string and an agent only: a GET whose one
    #: header is Host, with no listener, signal or other option (``_plain_get``).
    _plain = False
    #: Set by ``http.get`` (the caller holds the response, not the request): once the
    #: response ends, ``_res`` becomes ``_ENDED`` and the response is held weakly.
    _weak_res = False
    _res_ref: Callable[[], IncomingMessage | None] | None = None

    def __init__(self, url: Any = None, **options: Any) -> None:
        OutgoingMessage.__init__(self)
        if len(options) == 1 and type(url) is str:
            agent = options.get("agent")
            if isinstance(agent, Agent):
                cached = agent._url_cache.get(url)
                if (
                    cached is not None
                    and cached[0] is type(self)
                    and cached[1] == agent.default_port
                    and cached[2] == agent.protocol
                ):
                    self._init_cached(agent, cached)
                    return
        self._init_options(url, options)

    def _init_cached(self, agent: Agent, cached: tuple[Any, ...]) -> None:
        """``__init__`` for a URL string whose only option is ``agent``, seen before
        with this agent: everything derived from the URL comes from the agent's cache
        (filled by ``_init_options``, so the same values and the same checks)."""
        self.agent = agent
        (
            _,
            _,
            _,
            self._default_port,
            self.protocol,
            self.host,
            self._port,
            self.path,
            # Shared by the requests of this entry: never mutated (_acquire copies it).
            self._connect_options,
            host_header,
            self._pool_slot,
        ) = cached
        self.method = "GET"
        self.use_chunked_encoding_by_default = False
        timeout = agent.timeout
        if timeout is not None:
            self.timeout = timeout
        self._keep_alive_for(agent)
        if host_header is not None:
            self._out = OutgoingHeaders._validated({"host": ["Host", host_header]})
            self._plain = True

    def _keep_alive_for(self, agent: Agent) -> None:
        """Node's ClientRequest: keep-alive unless the agent would never reuse the
        socket (not ``keep_alive`` and unlimited ``max_sockets``, R1-111)."""
        if not (agent.keep_alive or math.isfinite(agent.max_sockets)):
            self._last = True  # the class defaults are the keep-alive case
            self.should_keep_alive = False

    def _init_options(self, url: Any, options: dict[str, Any]) -> None:
        for key in options:
            if key not in _REQUEST_OPTIONS:
                raise TypeError(f"request() got an unexpected keyword argument {key!r}")
        if url is None:
            opts: dict[str, Any] = {}
        elif isinstance(url, str):
            opts = dict(_parse_url(url))
        elif isinstance(url, Mapping):
            opts = dict(url)
        else:
            opts = _url_to_options(url)
        for k, v in options.items():
            if v is not None or k == "agent":
                opts[k] = v
        callback = opts.pop("callback", None)

        agent = opts.get("agent")
        create_connection = opts.get("create_connection")
        if agent is False:
            agent = type(self._global_agent())()
        elif agent is None:
            agent = None if create_connection is not None else self._global_agent()
        elif not isinstance(agent, Agent):
            raise InvalidArgTypeError(
                'The "options.agent" property must be one of Agent-like Object, '
                f"undefined, or false. Received {agent!r}"
            )
        self.agent = agent
        default_port = opts.get("default_port") or (agent.default_port if agent else 80)
        self._default_port = default_port
        expected = agent.protocol if agent is not None else self._default_protocol
        protocol = opts.get("protocol") or expected
        if protocol != expected:
            raise InvalidProtocolError(protocol, expected)
        self.protocol = protocol

        host = opts.get("hostname") or opts.get("host") or "localhost"
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self.host = host
        port = opts.get("port") or default_port
        self._port = int(port)
        self.socket_path = opts.get("socket_path")
        if self.socket_path and (opts.get("host") or opts.get("hostname") or opts.get("port")):
            if "port" in options or "host" in options or "hostname" in options:
                raise TypeError("socket_path cannot be combined with host or port")

        path = str(opts.get("path") or "/")
        if _INVALID_PATH.search(path):
            raise UnescapedCharactersError("Request path")
        self.path = path

        method = opts.get("method") or "GET"
        if method not in _TOKEN_METHODS and (
            not isinstance(method, str) or not check_is_http_token(method)
        ):
            raise InvalidHttpTokenError("Method", method)
        method = method.upper()
        self.method = method
        self.use_chunked_encoding_by_default = method not in _NO_CHUNKED

        self.max_headers_count = None
        self.reused_socket = False
        self.aborted = False
        self.timeout = opts.get("timeout")
        if self.timeout is None and agent is not None:
            self.timeout = agent.timeout
        self._signal = opts.get("signal")
        self._max_header_size = int(opts.get("max_header_size") or 16384)
        self._join_duplicate_headers = bool(opts.get("join_duplicate_headers"))
        self._insecure_http_parser = bool(opts.get("insecure_http_parser"))
        self._create_connection = create_connection
        self._connect_options = {
            k: v for k, v in opts.items() if k in CONNECT_OPTIONS and v is not None
        }
        self._connect_options.update(host=host, port=self._port)
        if self.socket_path:
            self._connect_options["socket_path"] = self.socket_path
        self._unique_headers = parse_unique_headers_option(opts.get("unique_headers"))

        if agent is not None:
            self._keep_alive_for(agent)

        set_default_headers = opts.get("set_default_headers", True) is not False
        set_host = opts.get("set_host")
        if set_host is None:
            set_host = set_default_headers
        if not set_default_headers:
            self._removed_connection = True
            self._removed_cont_len = True
            self._removed_te = True

        headers = opts.get("headers")
        if not isinstance(headers, (list, tuple)):
            if headers:
                for key, value in headers.items():
                    self.set_header(key, value)
            if host and set_host and not self.has_header("host"):
                host_header = host
                first = host_header.find(":")
                if (
                    first != -1
                    and ":" in host_header[first + 1 :]
                    and not host_header.startswith("[")
                ):
                    host_header = f"[{host_header}]"
                if port and int(port) != default_port:
                    host_header += f":{port}"
                self.set_header("Host", host_header)
            auth = opts.get("auth")
            if auth and not self.has_header("authorization"):
                token = base64.b64encode(str(auth).encode("utf-8")).decode("ascii")
                self.set_header("Authorization", "Basic " + token)
            if self.get_header("expect"):
                self._store_header(f"{method} {path} HTTP/1.1\r\n", self._out)
        else:
            self._store_header(f"{method} {path} HTTP/1.1\r\n", list(headers))

        if callback is not None:
            self.once("response", callback)
            return
        given = options.get("agent")
        if (
            type(url) is str
            and len(options) == 1
            and isinstance(given, Agent)
            and "auth" not in opts
            and not self.socket_path
            and self._header is None
        ):
            cache = given._url_cache
            if len(cache) >= _URL_CACHE_SIZE:
                cache.clear()
            cache[url] = (
                type(self),
                given.default_port,
                given.protocol,
                default_port,
                protocol,
                host,
                self._port,
                path,
                dict(self._connect_options),
                self.get_header("host"),
                # the pool name (filled by the first _pool_key) and the head of a plain
                # GET (filled by the first _plain_get)
                [None, None],
            )

    # -- Node's surface -----------------------------------------------------
    @classmethod
    def _global_agent(cls) -> Agent:
        return global_agent()

    def _has_agent(self) -> bool:
        return self.agent is not None

    def _implicit_header(self) -> None:
        out = self._out
        if (
            out is not None
            and self.method == "GET"
            and len(out) == 1
            and self.agent is not None
            and self.should_keep_alive
            and self._has_body
            and not self.chunked_encoding
            and not self._removed_connection
            and not self.send_date
            and not self.max_requests_on_connection_reached
            and not self._keep_alive_timeout
        ):
            entry = out._entries.get("host")
            if entry is not None and type(entry[1]) is str:
                # What _store_header makes of a GET holding only its Host header (the
                # common request through an agent): the same bytes, the same flags.
                self._header = (
                    f"GET {self.path} HTTP/1.1\r\n{entry[0]}: {entry[1]}\r\n"
                    "Connection: keep-alive\r\n\r\n"
                ).encode("latin-1")
                self._header_sent = False
                self._last = True
                return
        self._store_header(f"{self.method} {self.path} HTTP/1.1\r\n", self._out)

    def set_timeout(self, seconds: float, callback: Any = None) -> ClientRequest:
        """Socket inactivity timeout in seconds: emits ``'timeout'`` only (R1-086, H1-072)."""
        if callback is not None:
            self.once("timeout", callback)
        self.timeout = float(seconds)
        return self

    def set_no_delay(self, no_delay: bool = True) -> None:
        """Applied once the socket is assigned (R1-099)."""
        if self.socket is not None:
            self.socket.set_no_delay(no_delay)
        else:
            self._defer_socket_call("set_no_delay", (no_delay,))

    def set_socket_keep_alive(self, enable: bool = False, initial_delay: float = 0.0) -> None:
        if self.socket is not None:
            self.socket.set_keep_alive(enable, initial_delay)
        else:
            self._defer_socket_call("set_keep_alive", (enable, initial_delay))

    def _defer_socket_call(self, method: str, args: tuple[Any, ...]) -> None:
        if self._socket_opts is None:
            self._socket_opts = []
        self._socket_opts.append((method, args))

    @property
    def writable_ended(self) -> bool:
        return self.finished

    # -- destroy / abort ------------------------------------------------------
    def destroy(self, error: BaseException | None = None) -> ClientRequest:
        """Destroy the request (H1-053): its connection is closed at once.

        The events of R1-080…R1-082 fire inside the await that is running
        (it raises the error), or at the next await of this request.
        """
        if self.destroyed:
            return self
        self.destroyed = True
        self._destroy_error = error
        conn = self._conn
        if self._scope is not None:
            self._scope.cancel()
        else:
            # An await in flight without a scope is woken by its socket closing
            # and tears down itself; otherwise the next await does (DESIGN §11).
            self._deferred = not self._in_await
            if conn is not None:
                self._drop_connection()
        return self

    def abort(self) -> None:
        """Deprecated ``abort()`` (H1-048): ``destroy()`` plus ``'abort'`` first (R1-083…R1-085)."""
        if self.aborted:
            return
        self.aborted = True
        self._abort_called = True
        self.destroy()

    # -- the guard every await goes through ------------------------------------
    async def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._deferred:
            self._deferred = False
            err = self._default_error()
            await self._teardown(err)
            raise err
        if self.destroyed and self._torn_down:
            raise self._destroy_error or ConnResetError(
                "aborted" if self._res is not None else "socket hang up"
            )
        try:
            signal = self._signal
            conn = self._conn
            if signal is None and conn is not None and conn.socket._sock is not None:
                # Nothing to cancel but the connection itself: destroy() closes its
                # OS socket, which wakes this await with an error (no scope needed).
                self._in_await = True
                try:
                    result = await fn(*args)
                finally:
                    self._in_await = False
                if not self.destroyed:
                    return result
                err = self._default_error()  # destroyed while a listener ran
                await self._teardown(err)
                raise err
            with trio.CancelScope() if signal is None else cancel_on_abort(signal) as scope:
                self._scope = scope
                try:
                    return await fn(*args)
                finally:
                    self._scope = None
            # Only req.destroy() cancels our scope without a signal.
            err = self._default_error()
        except AbortError as exc:
            self.destroyed = True
            err = exc
        except trio.Cancelled:
            self.destroyed = True
            await self._teardown(None)
            raise
        except (NodeError, OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self.destroyed = True
            err = self._map_error(exc)
        except BaseException:
            self.destroyed = True
            await self._teardown(None)
            raise
        await self._teardown(err)
        raise err

    def _default_error(self) -> BaseException:
        if self._destroy_error is not None:
            return self._destroy_error
        return ConnResetError("aborted" if self._res is not None else "socket hang up")

    def _map_error(self, exc: BaseException) -> BaseException:
        if self._destroy_error is not None:
            return self._destroy_error
        if isinstance(exc, NodeError):
            return exc
        if isinstance(exc, (trio.BrokenResourceError, trio.ClosedResourceError, OSError)):
            err = ConnResetError("aborted" if self._res is not None else "socket hang up")
            err.__cause__ = exc
            return err
        return exc

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.destroy()
        if conn.agent is not None:
            conn.agent._release(conn, reusable=False)

    async def _teardown(self, err: BaseException | None) -> None:
        """Close the connection and fire the destroy/abort events once (R1-077…R1-087)."""
        conn = self._conn
        self._drop_connection()
        if self._torn_down:
            return
        self._torn_down = True
        with trio.move_on_after(_TEARDOWN_TIMEOUT) as cs:
            cs.shield = True
            if conn is not None and conn.socket._sock is None:
                await conn.aclose()
            if err is None:
                err = self._default_error()
            res = self._res
            if self._abort_called:
                await self._emit("abort")
            if res is None or res.complete:
                if not (self._abort_called and self.socket is None) and (
                    res is None or not res.complete
                ):
                    await self._emit_error(err)
                await self._emit_close()
                return
            res.aborted = True
            res._error = err
            await res.emit_async("aborted")
            if self._abort_called:
                if res.listener_count("error"):
                    await res.emit_async("error", err)
                await self._emit_close()
            else:
                await self._emit_close()
                if res.listener_count("error"):
                    await res.emit_async("error", err)
            await res.emit_async("close")

    async def _emit(self, event: str, *args: Any) -> None:
        if self._events and event in self._events:
            await self.emit_async(event, *args)

    async def _emit_error(self, err: BaseException) -> None:
        if self.listener_count("error"):
            await self.emit_async("error", err)

    async def _emit_close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._emit("close")

    async def __aenter__(self) -> ClientRequest:
        return self

    async def __aexit__(self, etype: Any, exc: Any, tb: Any) -> None:
        res = self._res
        unfinished = not self._closed and (res is None or not res.complete or not self.finished)
        if (
            self._deferred
            or (unfinished and self._conn is not None)
            or (unfinished and etype is not None)
        ):
            self.destroyed = True
            self._deferred = False
            await self._teardown(self._default_error() if etype is None else None)

    # -- sending -------------------------------------------------------------------
    def _pool_key(self) -> tuple[str, dict[str, Any]]:
        key = self._pool
        if key is None:
            agent = self.agent
            assert agent is not None
            slot = self._pool_slot
            cls = type(agent)
            if (
                slot is not None
                and not agent.options
                and cls._prepare is Agent._prepare
                and cls.get_name is Agent.get_name
            ):
                # What Agent._prepare returns without agent options: get_name of the
                # connect options, which are the same for every request of this
                # (agent, URL) cache entry, so the name is computed once per entry.
                name = slot[0]
                if name is None:
                    name = slot[0] = agent.get_name(**self._connect_options)
                key = self._pool = (name, self._connect_options)
            else:
                key = self._pool = agent._prepare(self, self._connect_options)
        return key

    def _take_pooled(self) -> None:
        """Adopt an idle pooled socket synchronously, when there is one (no await)."""
        agent = self.agent
        if agent is None or self._conn is not None or self.destroyed or self._deferred:
            return
        name, _ = self._pool_key()
        if name in agent._free and not agent._zombies:
            conn = agent._take_free(name)
            if conn is not None:
                self._adopt(conn, True)

    async def _ensure_connection(self) -> None:
        if self._conn is not None:
            if self._socket_pending:
                self._socket_pending = False
                await self._emit("socket", self._conn.socket)
            return
        agent = self.agent
        opts = dict(self._connect_options)
        self._socket_pending = True
        if agent is not None:
            name, opts = self._pool_key()
            conn, reused = await agent._acquire(
                self, dict(opts), name, on_socket=self._on_new_socket
            )
        else:
            sock = Socket(None)
            await self._on_new_socket(sock)
            factory = self._create_connection
            stream: Any
            if factory is not None:
                stream = factory(opts)
                if hasattr(stream, "__await__"):
                    stream = await stream
            else:
                stream = await open_tcp(opts)
            conn, reused = ClientConnection(stream, "", None, sock), False
        pending = self._socket_pending
        self._adopt(conn, reused)
        self._socket_pending = False
        if pending:
            await self._emit("socket", conn.socket)

    async def _on_new_socket(self, sock: Socket) -> None:
        """'socket' fires as soon as the socket exists, before it connects (R1-081)."""
        self.socket = sock
        self._socket_pending = False
        if self._socket_opts:
            # set_no_delay / set_socket_keep_alive: the socket applies them on connect.
            for meth, args in self._socket_opts:
                getattr(sock, meth)(*args)
            self._socket_opts = None
        await self._emit("socket", sock)

    def _adopt(self, conn: ClientConnection, reused: bool) -> None:
        """Make ``conn`` this request's connection (synchronous: no await between
        the agent handing it over and this request owning it, PEERS lesson 4)."""
        self._conn = conn
        self.socket = conn.socket
        self.reused_socket = reused
        self._socket_pending = True
        agent = self.agent
        if reused and agent is not None:
            agent.reuse_socket(conn.socket, self)
            self._sent = []
        if self._socket_opts:
            for meth, args in self._socket_opts:
                getattr(conn.socket, meth)(*args)
            self._socket_opts = None
        if self.timeout:
            self._last_io = trio.current_time()
        self._new_parser()

    def _new_parser(self) -> None:
        conn = self._conn
        size = self._max_header_size + 8192
        if conn is not None:
            parser = conn.take_parser(size)
        else:
            parser = h11.Connection(h11.CLIENT, max_incomplete_event_size=size)
        upgrade = False
        out = self._out
        if out is not None and "upgrade" in out._entries:
            conn_hdr = out.get("connection")
            upgrade = isinstance(conn_hdr, str) and "upgrade" in comma_tokens(conn_hdr)
        _told_sent(parser, _shadow_request(self.method, upgrade))
        self._parser = parser
        self._bytes_in = 0

    async def _transport_send(self, data: bytes) -> None:
        if self._conn is None:
            self._take_pooled()
        await self._guard(self._send_guarded, data)

    async def _send_guarded(self, data: bytes) -> None:
        await self._ensure_connection()
        if self.get_header("expect") and not self._continued and not self._head_on_wire:
            head = self._header or b""
            if data.startswith(head):
                await self._send_raw(head)
                self._head_on_wire = True
                data = data[len(head) :]
                if data:
                    await self._wait_continue()
                    if self._final_early:
                        return
        self._head_on_wire = True
        if data:
            await self._send_raw(data)

    async def _send_raw(self, data: bytes) -> None:
        conn = self._conn
        assert conn is not None
        sent = self._sent
        if sent is not None:
            # Kept only to replay an idempotent request once (PEERS lesson 3), and
            # only while small: a large streamed body is not held in memory.
            n = self._sent_len + len(data)
            if n > _REPLAY_LIMIT:
                self._sent = None
            else:
                sent.append(data)
                self._sent_len = n
        try:
            if self.timeout:
                await self._with_timeout(conn.send_all, data, restartable=False)
            else:
                await conn.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            if await self._retry():
                return
            raise
        conn.socket.bytes_written += len(data)

    async def _with_timeout(
        self, fn: Callable[..., Any], *args: Any, restartable: bool = True
    ) -> Any:
        """Run one I/O step; ``timeout`` seconds of inactivity emit ``'timeout'`` (R1-086).

        Like Node's socket timeout it fires once per idle period; the next
        activity re-arms it. A step that is not ``restartable`` (``send_all``:
        cancelled, it may have sent part of its data) is never interrupted.
        """
        t = self.timeout
        if not t:
            result = await fn(*args)
            return result
        deadline = self._last_io + t if restartable else math.inf
        while True:
            with trio.move_on_at(deadline) as cs:
                result = await fn(*args)
            if not cs.cancelled_caught:
                self._last_io = trio.current_time()
                return result
            deadline = math.inf
            await self._emit("timeout")
            if self.socket is not None and self.socket.listener_count("timeout"):
                await self.socket.emit_async("timeout")

    async def _retry(self) -> bool:
        """Replay an idempotent request once on a fresh socket when a reused one failed
        before any response byte arrived (PEERS lesson 3)."""
        if (
            self._retried
            or not self.reused_socket
            or self._bytes_in
            or self._sent is None
            or self.method not in _IDEMPOTENT
            or self.agent is None
        ):
            return False
        self._retried = True
        payload = b"".join(self._sent)
        old = self._conn
        self._conn = None
        if old is not None:
            old.destroy()
            self.agent._release(old, reusable=False)
        name, opts = self._pool_key()
        conn, _ = await self.agent._acquire(self, dict(opts), name, fresh=True)
        self._conn = conn
        self.socket = conn.socket
        self.reused_socket = False
        self._sent = None
        self._new_parser()
        await conn.send_all(payload)
        conn.socket.bytes_written += len(payload)
        return True

    async def write(self, chunk: Any, encoding: str | None = None) -> bool:
        """Send a body chunk (H1-077); an empty chunk does nothing (R1-024)."""
        if self._deferred:
            await self._guard(self._noop)
        if isinstance(chunk, (bytes, bytearray, memoryview, str)) and len(chunk) == 0:
            # No byte goes out, but Node's write_() stores the head here, which fixes the
            # framing: a later end(data) is chunked, not Content-Length (R1-024, R1-021).
            if self._header is None and not self.destroyed:
                self._implicit_header()
            return True
        return await OutgoingMessage.write(self, chunk, encoding)

    async def end(self, chunk: Any = None, encoding: str | None = None) -> ClientRequest:
        """Finish the request (H1-052): the last chunk, then ``0\\r\\n\\r\\n`` when chunked."""
        if self._deferred:
            await self._guard(self._noop)
        try:
            await OutgoingMessage.end(self, chunk, encoding)
        except BaseException:
            if self.finished and not self._torn_down:
                # A 'prefinish' / 'finish' listener failed or was cancelled: outside the
                # guard, but still this await (DESIGN §4): destroy, never leave it held.
                await self._fail_outside_guard()
            raise
        return self

    async def _end_and_response(self) -> IncomingMessage:
        """``end()`` then ``response()`` in one guarded await (``http.get``'s path).

        The same bytes and events as the two calls ('socket', 'finish',
        'response'), with one guard instead of two.
        """
        self._weak_res = True
        if (
            self._plain
            and self._conn is None
            and not self._events
            and self._out is not None
            and len(self._out._entries) == 1
            and self._header is None
            and not self.timeout
            and not self.destroyed
        ):
            conn = self._take_idle()
            if conn is not None:
                if conn.socket._sock is not None:
                    return await self._plain_get(conn)
                self._adopt(conn, True)
        if (
            self._deferred
            or self.destroyed
            or self._header is not None
            or self.finished
            or (self._out is not None and "expect" in self._out._entries)
        ):
            await self.end()
            return await self.response()
        self._content_length = 0
        self._implicit_header()
        self._queue_end()
        pending = self._pending
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self._pending = []
        self._pending_len = 0
        if self._conn is None:
            self._take_pooled()
        result: IncomingMessage = await self._guard(self._get_guarded, data)
        return result

    def _take_idle(self) -> ClientConnection | None:
        """A plain GET's pooled connection, taken synchronously, if one is idle."""
        agent = self.agent
        slot = self._pool_slot
        if agent is None or slot is None:
            return None
        name = slot[0]  # what _pool_key returns for this request (it reads the slot too)
        if name is None or name not in agent._free or agent._zombies:
            return None
        return agent._take_free(name)

    async def _plain_get(self, conn: ClientConnection) -> IncomingMessage:
        """``http.get`` of a plain request (``_plain``) on an idle pooled connection.

        The same bytes, state and events as ``end()`` + ``response()`` on that
        connection (no listener can exist yet, so none fire), with what never
        changes for the (agent, URL) entry computed once: the head, which is
        what ``_store_header`` makes of a keep-alive GET holding only Host
        (pinned by a test), and the pool name.
        """
        slot = self._pool_slot
        assert slot is not None
        head: bytes | None = slot[1]
        self._content_length = 0
        if head is None:
            self._implicit_header()
            head = self._header
            assert head is not None
            if self._last and self.should_keep_alive:
                slot[1] = head
        else:
            self._header = head
            self._last = True
        self._header_sent = True
        self.finished = True
        self.writable_finished = True
        self._head_on_wire = True
        # _adopt and _new_parser for this case
        self._conn = conn
        sock = self.socket = conn.socket
        self.reused_socket = True
        agent = self.agent
        assert agent is not None
        agent.reuse_socket(sock, self)
        self._sent = []  # _send_raw keeps the head for _retry
        parser = conn.take_parser(self._max_header_size + 8192)
        _told_sent(parser, _GET_SHADOW)
        self._parser = parser
        result: IncomingMessage = await self._guard(self._plain_exchange, head)
        return result

    async def _plain_exchange(self, head: bytes) -> IncomingMessage:
        await self._send_raw(head)
        return await self._response_guarded()

    async def _get_guarded(self, data: bytes) -> IncomingMessage:
        if self._conn is None or self._events:
            await self._send_guarded(data)
            await self._finish()
        else:
            # A pooled connection and no listener: _send_guarded and _finish inlined
            # (no 'Expect' here: _end_and_response sends those through end()).
            self._socket_pending = False
            self._head_on_wire = True
            if data:
                await self._send_raw(data)
            if self._events:
                await self._finish()
            else:
                self.writable_finished = True
        return await self._response_guarded()

    async def _on_read_failed(self) -> None:
        if self._conn is not None:
            await self._fail_outside_guard()

    async def _fail_outside_guard(self) -> None:
        """An await of this request failed after its guard (a listener raised or was
        cancelled): tear down as ``destroy()`` would, so the connection is closed."""
        if not self._torn_down:
            self.destroyed = True
            await self._teardown(None)

    async def flush_headers(self) -> None:
        if self._deferred:
            await self._guard(self._noop)
        await OutgoingMessage.flush_headers(self)

    async def _noop(self) -> None:
        await trio.lowlevel.checkpoint()

    # -- receiving ------------------------------------------------------------------
    async def _recv(self) -> bytes:
        conn = self._conn
        assert conn is not None
        try:
            if self.timeout:
                data = await self._with_timeout(conn.receive_some, _READ_SIZE)
            else:
                data = await conn.receive_some(_READ_SIZE)
        except (trio.BrokenResourceError, OSError):
            data = b""
        conn.socket.bytes_read += len(data)
        self._bytes_in += len(data)
        return bytes(data)

    async def _next_event(self) -> Any:
        parser = self._parser
        assert parser is not None
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as exc:
                if parser.their_state is h11.ERROR and self._eof_seen(parser):
                    if self._res is None and await self._retry():
                        parser = self._parser
                        assert parser is not None
                        continue
                    raise ConnResetError(
                        "aborted" if self._res is not None else "socket hang up"
                    ) from exc
                code = "HPE_HEADER_OVERFLOW" if exc.error_status_hint == 431 else "HPE_INVALID"
                raise HttpParserError(code, str(exc)) from exc
            if event is h11.NEED_DATA:
                if self.timeout:
                    data = await self._recv()
                else:  # _recv inlined: no timer to run
                    conn = self._conn
                    assert conn is not None
                    got: Any
                    try:
                        got = await conn.receive_some(_READ_SIZE)
                    except (trio.BrokenResourceError, OSError):
                        got = b""
                    n = len(got)
                    conn.socket.bytes_read += n
                    self._bytes_in += n
                    data = bytes(got)
                parser.receive_data(data)
                continue
            return event

    @staticmethod
    def _eof_seen(parser: h11.Connection) -> bool:
        return bool(parser.trailing_data[1])

    async def _wait_continue(self) -> None:
        """Read 1xx responses until ``100 Continue`` (or a final response) arrives (R1-040)."""
        while not self._continued and self._res is None:
            await self._read_one_head()

    async def _read_one_head(self) -> None:
        event = await self._next_event()
        if type(event) is h11.Response:  # the common case first (same checks as below)
            self._on_final_head(event)
        else:
            await self._on_head_event(event)

    def _on_final_head(self, event: h11.Response) -> None:
        raw, size = _raw_and_size(event.headers)
        if size + len(event.reason) >= self._max_header_size:
            raise HttpParserError("HPE_HEADER_OVERFLOW", "Header overflow")
        out = self._out  # get_header("expect") inlined
        entry = None if out is None else out._entries.get("expect")
        if entry is not None and entry[1] and not self._continued:
            self._final_early = True
        self._on_response(event, raw)

    async def _on_head_event(self, event: Any) -> None:
        raw: list[str] = []
        if isinstance(event, (h11.InformationalResponse, h11.Response)):
            # Node's count (llhttp via node_http_parser): status text plus header names and
            # values, an error once it reaches max_header_size. h11 only bounds heads that
            # arrive in pieces, and counts differently, so it gets slack and this is exact.
            raw, size = _raw_and_size(event.headers)
            if size + len(event.reason) >= self._max_header_size:
                raise HttpParserError("HPE_HEADER_OVERFLOW", "Header overflow")
        if isinstance(event, h11.InformationalResponse):
            await self._on_informational(event, raw)
        elif isinstance(event, h11.Response):
            self._final_early = not self._continued and bool(self.get_header("expect"))
            self._on_response(event, raw)
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnResetError("socket hang up")
        else:
            raise HttpParserError("HPE_INVALID", f"unexpected {type(event).__name__}")

    async def _on_informational(self, event: h11.InformationalResponse, raw: list[str]) -> None:
        status = event.status_code
        if status == 100:
            self._continued = True
            await self._emit("continue")
            return
        if status == 101:
            self._on_response(event, raw)
            return
        info = {
            "status_code": status,
            "status_message": event.reason.decode("latin-1"),
            "http_version": event.http_version.decode("ascii"),
            "http_version_major": int(event.http_version[:1]),
            "http_version_minor": int(event.http_version[2:3]),
            "headers": _build(raw, self._join_duplicate_headers),
            "raw_headers": raw,
        }
        await self._emit("information", info)

    def _on_response(self, event: h11.Response | h11.InformationalResponse, raw: list[str]) -> None:
        conn = self._conn
        assert conn is not None
        res = IncomingMessage(conn.socket)
        # A read that fails outside the guard (a 'data' listener raising or cancelled
        # mid-body) still destroys the request: the half-read connection is closed,
        # never pooled (PEERS lesson 4).
        res._on_fail = self._on_read_failed
        res.status_code = event.status_code
        res.status_message = event.reason.decode("latin-1")
        version = event.http_version
        if version != b"1.1":  # 1.1 is the class default
            res.http_version = version.decode("ascii")
            res.http_version_major = int(version[:1])
            res.http_version_minor = int(version[2:3])
        limit = self.max_headers_count
        if limit is not None or len(raw) > 4000:
            if limit is None:
                limit = 2000
            if limit and len(raw) > 2 * limit:
                del raw[2 * limit :]
        res.raw_headers = raw
        if self._join_duplicate_headers:
            res.join_duplicate_headers = True
        res._source = self
        res._on_end = self._on_response_end
        res.req = self  # type: ignore[attr-defined]
        self._res = res

    async def response(self) -> IncomingMessage:
        """Wait for the response and return it; ``'response'`` fires once (H1-044, R1-092).

        A ``101`` with an ``'upgrade'`` listener, or a 2xx to ``CONNECT``
        with a ``'connect'`` listener, hands the socket and ``head`` to that
        listener (R1-073, R1-074) and returns the response once it is done.
        """
        res = self._res
        if res is not None and self._response_emitted:
            if res is _ENDED:  # an http.get response that has ended: held weakly
                ref = self._res_ref
                res = None if ref is None else ref()
                if res is None:
                    raise RuntimeError(
                        "the response of this http.get request no longer exists: keep the "
                        "IncomingMessage that http.get returned (res.req is this request)"
                    )
                self._res = res  # from now on the request's own API is in use: hold it
                self._weak_res = False
            return res
        result: IncomingMessage = await self._guard(self._response_guarded)
        return result

    async def _response_guarded(self) -> IncomingMessage:
        if self._header is None or not self._header_sent:
            if self._header is None:
                self._implicit_header()
            self._queue(b"")
            await self._flush_inside()
        if self._conn is None:
            await self._ensure_connection()
        while self._res is None:  # _read_one_head inlined
            event = await self._next_event()
            if type(event) is h11.Response:
                self._on_final_head(event)
            else:
                await self._on_head_event(event)
        res = self._res
        self._response_emitted = True
        status = res.status_code or 0
        if status == 101 or (self.method == "CONNECT" and 200 <= status < 300):
            await self._hand_over(res, "upgrade" if status == 101 else "connect")
            return res
        self._look_ahead()
        await self._emit("response", res)
        return res

    async def _flush_inside(self) -> None:
        pending = self._pending
        if not pending:
            return
        data = b"".join(pending)
        self._pending = []
        self._pending_len = 0
        await self._send_guarded(data)

    async def _hand_over(self, res: IncomingMessage, event: str) -> None:
        conn = self._conn
        parser = self._parser
        assert conn is not None and parser is not None
        head = parser.trailing_data[0]
        self._conn = None
        if conn.agent is not None:
            conn.agent._detach(conn)
        res.complete = True
        res._ended = True
        try:
            if self.listener_count(event):
                await self.emit_async(event, res, conn.socket, head)
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(conn.stream)
            conn.socket.destroyed = True
            await self._emit_close()

    def _ready_body_chunk(self, msg: IncomingMessage) -> bytes | bool | None:
        """The next chunk (``None`` at the end) if it was already parsed from buffered
        bytes (no I/O, no guard), else ``False``: then ``_next_body_chunk`` reads it."""
        ahead = self._ahead
        if ahead is None:
            return False
        if type(ahead) is h11.Data:
            self._ahead = None
            data = bytes(ahead.data)
            parser = self._parser  # _look_ahead inlined
            if parser is not None and self._conn is not None:
                try:
                    event = parser.next_event()
                except h11.RemoteProtocolError:
                    return data
                if isinstance(event, (h11.Data, h11.EndOfMessage)):
                    self._ahead = event
            return data
        conn = self._conn
        if conn is None or conn.socket._sock is not None:
            self._ahead = None
            self._end_body(msg, ahead)  # type: ignore[arg-type]
            return None
        return False

    def _read_buffered(self, msg: IncomingMessage) -> bytes | None:
        """``read()`` of a body whose bytes are all buffered and that no listener of
        the request watches: the body, the message ended and the connection settled,
        as the ``_pull`` loop would leave them; else ``None`` (what was parsed stays
        for that loop, as one chunk: ``read()`` joins the chunks anyway)."""
        ahead = self._ahead
        if ahead is None or self._events:
            return None
        conn = self._conn
        parser = self._parser
        if conn is None or parser is None or conn.socket._sock is None:
            return None
        if type(ahead) is h11.EndOfMessage:
            end = ahead
            data = b""
        elif type(ahead) is h11.Data:
            data = bytes(ahead.data)
            parts: list[bytes] | None = None
            while True:
                try:
                    event = parser.next_event()
                except h11.RemoteProtocolError:
                    event = None  # the next read raises it (as _ready_body_chunk does)
                if type(event) is h11.EndOfMessage:
                    end = event
                    break
                if type(event) is h11.Data:
                    if parts is None:
                        parts = [data]
                    parts.append(bytes(event.data))
                    continue
                if parts is not None:
                    self._ahead = h11.Data(data=b"".join(parts))
                return None
            if parts is not None:
                data = b"".join(parts)
        else:
            return None
        self._ahead = None
        self._end_body(msg, end)
        msg._set_ended()
        self._closed = True  # 'close' of the request: no listener (_on_response_end)
        self._release_response(msg)
        return data

    async def _next_body_chunk(self, msg: IncomingMessage) -> bytes | None:
        ready = self._ready_body_chunk(msg)
        if ready is not False:
            return ready  # type: ignore[return-value]
        chunk: bytes | None = await self._guard(self._body_guarded, msg)
        return chunk

    def _look_ahead(self) -> None:
        """Parse the next body event if its bytes are already buffered (sync, no I/O)."""
        parser = self._parser
        if parser is None or self._conn is None:
            return
        try:
            event = parser.next_event()
        except h11.RemoteProtocolError:
            return
        if isinstance(event, (h11.Data, h11.EndOfMessage)):
            self._ahead = event

    def _end_body(self, msg: IncomingMessage, event: h11.EndOfMessage) -> None:
        if event.headers:
            msg.raw_trailers = raw_list(event.headers.raw_items())
        self._settle_connection(msg)

    async def _body_guarded(self, msg: IncomingMessage) -> bytes | None:
        if self._conn is None:
            return None
        ahead = self._ahead
        self._ahead = None
        event = ahead if ahead is not None else await self._next_event()
        if isinstance(event, h11.Data):
            data = bytes(event.data)
            self._look_ahead()
            return data
        if isinstance(event, h11.EndOfMessage):
            conn = self._conn
            self._end_body(msg, event)
            if conn is not None and conn.socket.destroyed and conn.socket._sock is None:
                # Not pooled, and no OS socket that destroy() could close: close the
                # stream itself (shielded and bounded, so no cancellation lands here).
                await conn.aclose()
            return None
        raise ConnResetError("aborted")

    def _settle_connection(self, res: IncomingMessage) -> None:
        """The exchange is over: pool the connection if it is at a clean boundary (lesson 4)."""
        conn, parser = self._conn, self._parser
        self._conn = None
        if conn is None or parser is None:
            return
        now = None
        # h11 reaches DONE (not MUST_CLOSE) only for a keep-alive exchange: for an
        # HTTP/1.1 response that is llhttp's rule too; other versions are checked below.
        reusable = (
            self.finished
            and self.should_keep_alive
            and not self._final_early
            and parser.their_state is h11.DONE
            and parser.our_state is h11.DONE
            and parser.trailing_data == _CLEAN
            and not self._sent_close()
        )
        if reusable:
            raw = res.raw_headers
            if res.http_version != "1.1":
                reusable = keeps_alive(
                    res.http_version_major, res.http_version_minor, _raw_values2(raw)[0]
                )
            hint = _keep_alive_hint(raw) if reusable else None
            if hint is not None:
                seconds = _hint_seconds(hint)
                if seconds is not None:
                    if seconds <= 1:
                        reusable = False
                    else:
                        now = trio.current_time()
                        conn.expires_at = now + seconds - 1
            if reusable:
                # Clean boundary: the next request on this connection reuses the parser.
                parser.start_next_cycle()
                conn.parser = (parser, self._max_header_size + 8192)
                self._parser = None
        if conn.agent is not None:
            conn.agent._release(conn, reusable=reusable, now=now)
        else:
            conn.destroy()

    def _sent_close(self) -> bool:
        out = self._out
        if out is None:
            return False
        entry = out._entries.get("connection")
        if entry is None:
            return False
        value = entry[1]
        return isinstance(value, str) and "close" in comma_tokens(value)

    async def _on_response_end(self) -> None:
        if not self._closed:  # _emit_close inlined
            self._closed = True
            events = self._events
            if events and "close" in events:
                await self.emit_async("close")
        res = self._res
        if res is not None and res._events and "close" in res._events:
            await res.emit_async("close")
        if res is not None:
            self._release_response(res)

    def _release_response(self, res: IncomingMessage) -> None:
        """An ``http.get`` response has ended: keep it only weakly (see ``_Ended``)."""
        if self._weak_res and res is not _ENDED:
            self._res_ref = weakref.ref(res)
            self._res = _ENDED

    def __repr__(self) -> str:
        state = (
            "destroyed"
            if self.destroyed
            else ("response" if self._res is not None else ("sent" if self.finished else "new"))
        )
        where = f"{self.protocol}//{self.host}:{self._port}{self.path}"
        return f"<ClientRequest {self.method} {where} {state}>"


def _raw_values2(raw: list[str]) -> tuple[str | None, str | None]:
    """``Connection`` and ``Keep-Alive`` from a raw list, each joined with ', '."""
    connection: str | None = None
    keep_alive: str | None = None
    it = iter(raw)
    for key, value in zip(it, it, strict=False):
        if len(key) == 10:
            low = key.lower()
            if low == "connection":
                connection = value if connection is None else f"{connection}, {value}"
            elif low == "keep-alive":
                keep_alive = value if keep_alive is None else f"{keep_alive}, {value}"
    return connection, keep_alive


def _keep_alive_hint(raw: list[str]) -> str | None:
    """The ``Keep-Alive`` value of a raw list (several joined with ', '), if any."""
    names = "\x00".join(raw[::2]).lower()
    if "keep-alive" not in names:
        return None
    found = names.split("\x00")
    if "keep-alive" not in found:
        return None
    if found.count("keep-alive") > 1:
        return _raw_values2(raw)[1]
    return raw[2 * found.index("keep-alive") + 1]


_CLEAN = (b"", False)  # h11's trailing_data with nothing buffered and no EOF seen
_hint_cache: dict[str, int | None] = {}


def _hint_seconds(hint: str) -> int | None:
    """The ``timeout=`` of a ``Keep-Alive`` header, parsed once per distinct value."""
    try:
        return _hint_cache[hint]
    except KeyError:
        pass
    m = _KEEP_ALIVE_TIMEOUT.search(hint)
    seconds = int(m.group(1)) if m is not None else None
    if len(_hint_cache) < 256:
        _hint_cache[hint] = seconds
    return seconds


def _raw_and_size(headers: Any) -> tuple[list[str], int]:
    """Flat latin-1 ``raw_headers`` and Node's byte count of names and values."""
    items = headers.raw_items()
    if not items:
        return [], 0
    joined = b"\x00".join(chain.from_iterable(items))  # h11 refuses NUL in names and values
    return joined.decode("latin-1").split("\x00"), len(joined) - 2 * len(items) + 1


def _build(raw: list[str], join: bool) -> dict[str, Any]:
    return build_headers(raw, join, 0)


def request(
    url: Any = None, callback: Callable[..., Any] | None = None, **options: Any
) -> ClientRequest:
    """``http.request(url, **options)`` (H1-212): a ``ClientRequest``, no I/O yet.

    A URL string and keyword options merge with the options winning
    (R1-093). ``callback`` becomes a one-time ``'response'`` listener.
    """
    if callback is not None:
        options["callback"] = callback
    return ClientRequest(url, **options)


async def get(
    url: Any = None, callback: Callable[..., Any] | None = None, **options: Any
) -> IncomingMessage:
    """``http.get``: a GET that is ended at once; returns the response (H1-209, DESIGN §10).

    The response keeps its request (``res.req``); the request keeps the
    response, once it has ended, only as long as the caller does (no reference
    cycle per request): ``await res.req.response()`` returns ``res``.
    """
    req = request(url, callback, **options)
    return await req._end_and_response()
