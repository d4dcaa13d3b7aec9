"""``http.Agent``: pooled client connections (H1-002…H1-029, R1-105…R1-120).

PEERS lessons 3 and 4 shape it:

* a pooled connection is either at a proven clean boundary (request fully
  sent, response fully read, no byte left over) or closed;
* every piece of bookkeeping is synchronous: no ``await`` between
  "assigned" and "owned", so a cancelled owner never leaves a socket
  counted but unreachable;
* an idle socket is checked when it is taken, not by a timer: it is
  dropped if its ``Keep-Alive: timeout`` hint (minus one second) or the
  agent's ``timeout`` has passed, or if the OS says it became readable or
  closed while idle (the keep-alive race).

The agent owns connections, not tasks (DESIGN §4): requests run in their
callers' tasks; ``await agent.close()`` or ``async with Agent()`` closes
what is pooled.
"""

from __future__ import annotations

import math
import select
import socket as _stdlib_socket
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import h11
import trio

from .._net import Socket
from ..errors import (
    ConnRefusedError,
    HostNotFoundError,
    InvalidArgValueError,
    NodeSystemError,
    TimedOutError,
)
from ..events import EventEmitter

if TYPE_CHECKING:
    from .client import ClientRequest

__all__ = ["Agent", "ClientConnection", "global_agent", "open_tcp"]

#: Bound on the shielded close of a dropped stream.
_CLOSE_TIMEOUT = 1.0


class ClientConnection:
    """One connection owned by an agent (or by a single request without one)."""

    __slots__ = (
        "_poller",
        "agent",
        "detached",
        "expires_at",
        "idle_since",
        "name",
        "parser",
        "raw",
        "requests_served",
        "socket",
        "stream",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        name: str,
        agent: Agent | None,
        socket: Socket | None = None,
    ) -> None:
        self.stream = stream
        if socket is None:
            socket = Socket(stream)
        else:
            socket._attach(stream)
        self.socket = socket
        self.socket._conn = self  # type: ignore[attr-defined]
        #: The trio socket under a plain ``trio.SocketStream`` (else None): the client's
        #: hot path sends and receives on it directly, as SocketStream would, minus the
        #: stream's own bookkeeping (one owner at a time: the request holding ``conn``).
        self.raw: trio.socket.SocketType | None = (
            stream.socket if type(stream) is trio.SocketStream else None
        )
        self.name = name
        self.agent = agent
        self.idle_since = 0.0
        self.expires_at = math.inf
        self.requests_served = 0
        self._poller: Any = None
        #: The h11 parser of the last exchange, reset by ``start_next_cycle`` when
        #: the connection was pooled clean (the next request reuses it), else None.
        self.parser: tuple[Any, int] | None = None
        # Node's 'agentRemove': the socket leaves the agent (H1-029, R1-107); it
        # may have been emitted already, before the socket connected.
        self.detached = bool(getattr(socket, "_agent_removed", False))
        if agent is not None:
            socket.on("agentRemove", self._on_agent_remove)

    async def send_all(self, data: bytes) -> None:
        """``stream.send_all(data)``; on a plain TCP stream, its loop on the socket."""
        sock = self.raw
        if sock is None:
            await self.stream.send_all(data)
            return
        sent = await sock.send(data)
        while sent < len(data):
            sent += await sock.send(memoryview(data)[sent:])

    async def receive_some(self, max_bytes: int) -> bytes | bytearray:
        """``stream.receive_some(max_bytes)``; on a plain TCP stream, its socket's recv.

        Errors are the socket's (``OSError``) rather than the stream's
        translations; the client maps both the same way.
        """
        sock = self.raw
        if sock is None:
            return await self.stream.receive_some(max_bytes)
        return await sock.recv(max_bytes)

    def take_parser(self, size: int) -> h11.Connection:
        """The h11 parser for the next exchange: the one the last exchange left at a
        clean boundary (``ClientRequest._settle_connection``) when it was made with
        the same bound on incomplete heads, else a new one."""
        kept = self.parser
        if kept is not None:
            self.parser = None
            if kept[1] == size:
                parser: h11.Connection = kept[0]
                return parser
        return h11.Connection(h11.CLIENT, max_incomplete_event_size=size)

    def _on_agent_remove(self) -> None:
        agent = self.agent
        if agent is not None and not self.detached:
            self.detached = True
            agent._detach(self)

    def readable_or_closed(self) -> bool:
        """True when the peer sent bytes or closed while the socket sat idle."""
        poll = self._poller
        if poll is not None:
            # Registered once per connection. Its descriptor stays this connection's while
            # it is pooled: only destroy() closes it, and _take_free checks that first.
            try:
                return bool(poll(0))
            except (OSError, ValueError):
                return True
        sock = self.socket._sock
        if sock is None:
            return False
        try:
            fd = sock.fileno()
            if fd < 0:
                return True
            if hasattr(select, "poll"):
                # poll(), not select(): select() fails for descriptors >= FD_SETSIZE (1024),
                # which would make a busy process drop every pooled socket.
                poller = select.poll()
                poller.register(fd, select.POLLIN | select.POLLPRI)
                self._poller = poller.poll
                return bool(poller.poll(0))
            ready, _, _ = select.select([fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(ready)

    def destroy(self) -> None:
        """Close at once (synchronously where the OS socket is reachable)."""
        self.socket.destroy()

    async def aclose(self) -> None:
        """Close the stream for real, shielded and bounded (lesson 4).

        Needed where ``destroy()`` cannot close synchronously: a transport
        without an OS socket (a memory stream from ``create_connection``).
        """
        self.socket.destroyed = True
        agent = self.agent
        if agent is not None and self in agent._zombies:
            agent._zombies.remove(self)
        with trio.move_on_after(_CLOSE_TIMEOUT, shield=True):
            await trio.aclose_forcefully(self.stream)

    def __repr__(self) -> str:
        return f"<ClientConnection {self.name!r} served={self.requests_served} {self.socket!r}>"


class _Waiter:
    __slots__ = ("conn", "event", "request", "slot")

    def __init__(self, request: ClientRequest) -> None:
        self.request = request
        self.event = trio.Event()
        self.conn: ClientConnection | None = None
        self.slot = False


def _family_of(value: Any) -> int:
    if value in (4, "IPv4"):
        return _stdlib_socket.AF_INET
    if value in (6, "IPv6"):
        return _stdlib_socket.AF_INET6
    return _stdlib_socket.AF_UNSPEC


async def open_tcp(options: dict[str, Any]) -> trio.abc.Stream:
    """``net.createConnection`` for HTTP: TCP (or a Unix socket with ``socket_path``).

    Honours ``host``, ``port``, ``family``, ``local_address``, ``local_port``
    and ``lookup`` (a function ``(hostname, family) -> (address, family)``,
    sync or async). Maps refusal and resolution failures to Node's codes.
    """
    path = options.get("socket_path")
    if path:
        return await trio.open_unix_socket(path)
    host = options.get("host") or "localhost"
    port = int(options.get("port") or 80)
    family = _family_of(options.get("family"))
    lookup = options.get("lookup")
    local_address = options.get("local_address")
    local_port = options.get("local_port")
    try:
        if lookup is not None:
            found = lookup(host, options.get("family"))
            if hasattr(found, "__await__"):
                found = await found
            host, fam = found
            family = _family_of(fam)
        if family == _stdlib_socket.AF_UNSPEC and not local_port:
            return await trio.open_tcp_stream(host, port, local_address=local_address)
        infos = await trio.socket.getaddrinfo(host, port, family, _stdlib_socket.SOCK_STREAM)
        last: OSError | None = None
        for fam_, type_, proto, _, addr in infos:
            sock = trio.socket.socket(fam_, type_, proto)
            try:
                if local_address or local_port:
                    sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, 1)
                    await sock.bind((local_address or "", int(local_port or 0)))
                await sock.connect(addr)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            except BaseException:
                sock.close()
                raise
            stream = trio.SocketStream(sock)
            return stream
        raise last if last is not None else OSError(f"no address for {host}")
    except _stdlib_socket.gaierror as exc:
        raise HostNotFoundError(
            f"getaddrinfo ENOTFOUND {host}", syscall="getaddrinfo", address=host
        ) from exc
    except OSError as exc:
        if isinstance(exc, NodeSystemError):
            raise
        # trio.open_tcp_stream raises a plain OSError caused by a group of per-address errors.
        cause = exc.__cause__
        failed = cause.exceptions[-1] if isinstance(cause, BaseExceptionGroup) else exc
        refused = isinstance(failed, ConnectionRefusedError) or "refused" in str(exc).lower()
        if refused:
            raise ConnRefusedError(
                f"connect ECONNREFUSED {host}:{port}", syscall="connect", address=host, port=port
            ) from exc
        if isinstance(exc, TimeoutError):
            raise TimedOutError(f"connect ETIMEDOUT {host}:{port}") from exc
        raise


class Agent(EventEmitter):
    """Node's ``http.Agent`` (H1-002…H1-029).

    Options as keywords with Node's defaults: ``keep_alive=False``,
    ``keep_alive_initial_delay=1.0`` (Node's ``keepAliveMsecs``, DESIGN §6),
    ``max_sockets=math.inf``, ``max_total_sockets=math.inf``,
    ``max_free_sockets=256``, ``scheduling="lifo"``, ``timeout=None``
    (seconds); other keywords are connection options passed to
    ``create_connection``.
    """

    default_port = 80
    protocol = "http:"

    def __init__(
        self,
        *,
        keep_alive: bool = False,
        keep_alive_initial_delay: float = 1.0,
        max_sockets: float = math.inf,
        max_total_sockets: float = math.inf,
        max_free_sockets: int = 256,
        scheduling: str = "lifo",
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        EventEmitter.__init__(self)
        if scheduling not in ("fifo", "lifo"):
            raise InvalidArgValueError("scheduling", scheduling, "must be one of: 'fifo', 'lifo'")
        for key in options:
            if key not in _AGENT_OPTIONS:
                raise TypeError(f"Agent() got an unexpected keyword argument {key!r}")
        self.keep_alive = keep_alive
        self.keep_alive_initial_delay = float(keep_alive_initial_delay)
        self.max_sockets = max_sockets
        self.max_total_sockets = max_total_sockets
        self.max_free_sockets = max_free_sockets
        self.scheduling = scheduling
        self.timeout = timeout
        self.options = dict(options)
        self._active: dict[str, list[ClientConnection]] = {}
        self._free: dict[str, list[ClientConnection]] = {}
        self._queue: dict[str, deque[_Waiter]] = {}
        self._connecting: dict[str, int] = {}
        self._total = 0
        self._zombies: list[ClientConnection] = []
        #: What a request derives from a URL string given with only this agent
        #: (``ClientRequest._init_cached``).
        self._url_cache: dict[str, tuple[Any, ...]] = {}

    # -- Node's views (H1-016, H1-025, H1-026) ------------------------------
    @property
    def sockets(self) -> dict[str, list[Socket]]:
        """Sockets in use, by agent name (do not modify)."""
        return {k: [c.socket for c in v] for k, v in self._active.items() if v}

    @property
    def free_sockets(self) -> dict[str, list[Socket]]:
        """Idle pooled sockets, by agent name (do not modify)."""
        return {k: [c.socket for c in v] for k, v in self._free.items() if v}

    @property
    def requests(self) -> dict[str, list[ClientRequest]]:
        """Requests waiting for a socket, by agent name (do not modify)."""
        return {k: [w.request for w in v] for k, v in self._queue.items() if v}

    @property
    def total_socket_count(self) -> int:
        return self._total

    def get_name(
        self,
        host: str | None = None,
        port: int | str | None = None,
        local_address: str | None = None,
        family: int | None = None,
        socket_path: str | None = None,
        **_: Any,
    ) -> str:
        """``host:port:localAddress[:family][:socketPath]`` as Node builds it (H1-017, R1-115)."""
        name = f"{host or 'localhost'}:{port or ''}:{local_address or ''}"
        if family in (4, 6):
            name += f":{family}"
        if socket_path:
            name += f":{socket_path}"
        return name

    # -- hooks (H1-012 … H1-014) ---------------------------------------------
    async def create_connection(self, options: dict[str, Any]) -> trio.abc.Stream:
        """Open the stream for a request; override to use another transport (H1-012)."""
        return await open_tcp(options)

    def keep_socket_alive(self, socket: Socket) -> bool:
        """Called when a socket is about to be pooled; a false return destroys it (H1-013)."""
        socket.set_keep_alive(True, self.keep_alive_initial_delay)
        return True

    def reuse_socket(self, socket: Socket, request: ClientRequest) -> None:
        """Called when a pooled socket is given to ``request`` (H1-014)."""
        socket.ref()

    # -- acquiring and releasing (all bookkeeping synchronous) ----------------
    def _count(self, name: str) -> int:
        return len(self._active.get(name, ())) + self._connecting.get(name, 0)

    def _room_for_new(self, name: str) -> bool:
        if self._count(name) >= self.max_sockets:
            return False
        if self._total < self.max_total_sockets:
            return True
        # At the global cap: an idle socket of another origin makes room (as Node does).
        for other, conns in self._free.items():
            if other != name and conns:
                victim = conns.pop(0)
                self._total -= 1
                self._drop(victim)
                return True
        return False

    def _reserve(self, name: str) -> None:
        self._connecting[name] = self._connecting.get(name, 0) + 1
        self._total += 1

    def _unreserve(self, name: str) -> None:
        n = self._connecting.get(name, 0) - 1
        if n > 0:
            self._connecting[name] = n
        else:
            self._connecting.pop(name, None)
        self._total -= 1

    def _take_free(self, name: str) -> ClientConnection | None:
        free = self._free.get(name)
        while free:
            conn = free.pop() if self.scheduling == "lifo" else free.pop(0)
            self._total -= 1
            if not free:
                del self._free[name]
            expires_at = conn.expires_at
            if (
                conn.socket.destroyed
                or (expires_at != math.inf and trio.current_time() >= expires_at)
                or conn.readable_or_closed()
            ):
                self._drop(conn)
                free = self._free.get(name)
                continue
            self._add_active(conn)
            return conn
        return None

    def _add_active(self, conn: ClientConnection) -> None:
        # An idle expiry (agent timeout, Keep-Alive hint) covers one idle period only:
        # the response that ends this use sets the next one.
        conn.expires_at = math.inf
        conns = self._active.get(conn.name)
        if conns is None:
            self._active[conn.name] = [conn]
        else:
            conns.append(conn)
        self._total += 1

    def _remove_active(self, conn: ClientConnection) -> bool:
        conns = self._active.get(conn.name)
        if conns is None:
            return False
        if conns[-1] is conn:  # the common case: the only (or newest) active one
            conns.pop()
        else:
            try:
                conns.remove(conn)
            except ValueError:
                return False
        if not conns:
            del self._active[conn.name]
        self._total -= 1
        return True

    def _prepare(
        self, request: ClientRequest, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Node's ``addRequest`` preamble: the agent's own options join the
        request's (the agent's win), and the pool key is computed from them."""
        merged = {**options, **self.options} if self.options else options
        return self.get_name(**merged), merged

    async def _acquire(
        self,
        request: ClientRequest,
        options: dict[str, Any],
        name: str,
        *,
        fresh: bool = False,
        on_socket: Callable[[Socket], Awaitable[None]] | None = None,
    ) -> tuple[ClientConnection, bool]:
        """A connection for ``request``: a pooled one, a new one, or one freed later (R1-108)."""
        if self._zombies:
            await self._reap()
        while True:
            if not fresh:
                conn = self._take_free(name)
                if conn is not None:
                    return conn, True
            if self._room_for_new(name):
                self._reserve(name)
                break
            waiter = _Waiter(request)
            queue = self._queue.setdefault(name, deque())
            queue.append(waiter)
            try:
                await waiter.event.wait()
            except BaseException:
                self._abandon(name, waiter)
                raise
            if waiter.conn is not None:
                return waiter.conn, True
            if waiter.slot:
                break
        # The Socket exists before it connects, so 'socket' fires first (R1-081, R1-084).
        sock = Socket(None)
        sock.once("agentRemove", lambda: setattr(sock, "_agent_removed", True))
        try:
            if on_socket is not None:
                await on_socket(sock)
            stream = await self.create_connection(dict(options))
        except BaseException:
            self._unreserve(name)
            self._wake(name)
            raise
        self._unreserve(name)
        conn = ClientConnection(stream, name, self, sock)
        if not conn.detached:
            self._add_active(conn)
        return conn, False

    def _abandon(self, name: str, waiter: _Waiter) -> None:
        queue = self._queue.get(name)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._queue[name]
        if waiter.conn is not None:
            conn, waiter.conn = waiter.conn, None
            self._release(conn, reusable=True)
        elif waiter.slot:
            waiter.slot = False
            self._unreserve(name)
            self._wake(name)

    def _wake(self, name: str) -> None:
        """A slot freed: let the first waiter of ``name`` (or of any origin) connect.

        At ``max_total_sockets`` an idle socket of another origin is given up
        for the waiter (``_room_for_new``); without that, a keep-alive agent
        whose only socket sits in the pool would leave the waiter queued forever.
        """
        for key in [name, *[k for k in self._queue if k != name]]:
            queue = self._queue.get(key)
            if not queue:
                continue
            if not self._room_for_new(key):
                continue
            waiter = self._pop_waiter(key, queue)
            self._reserve(key)
            waiter.slot = True
            waiter.event.set()
            return

    def _pop_waiter(self, name: str, queue: deque[_Waiter]) -> _Waiter:
        """The first waiter of ``name`` (its non-empty ``queue``), forgetting an emptied queue."""
        waiter = queue.popleft()
        if not queue:
            del self._queue[name]
        return waiter

    def _release(self, conn: ClientConnection, *, reusable: bool, now: float | None = None) -> None:
        """The request on ``conn`` is over: hand it on, pool it or close it (R1-105).

        ``now`` is ``trio.current_time()`` when the caller just read it (no await since).
        """
        name = conn.name
        if not self._remove_active(conn):
            if conn.detached:
                # Removed by 'agentRemove': nobody pools it, so it closes with its request.
                self._drop(conn)
            return
        conn.requests_served += 1
        if reusable and not conn.socket.destroyed:
            if self._queue:
                queue = self._queue.get(name)
                if queue:
                    waiter = self._pop_waiter(name, queue)
                    self._add_active(conn)
                    waiter.conn = conn
                    waiter.event.set()
                    return
            free = self._free.get(name)
            if now is None:
                now = trio.current_time()
            if (
                self.keep_alive
                and now < conn.expires_at
                and (free is None or len(free) < self.max_free_sockets)
                and self._call_keep_socket_alive(conn)
            ):
                conn.idle_since = now
                if self.timeout:
                    conn.expires_at = min(conn.expires_at, now + self.timeout)
                if free is None:
                    self._free[name] = [conn]
                else:
                    free.append(conn)
                self._total += 1
                if self._queue:
                    # another origin waits at max_total_sockets: this idle socket makes room
                    self._wake(name)
                if self._events and "free" in self._events:
                    self.emit("free", conn.socket, None)
                return
        self._drop(conn)
        self._wake(name)

    def _call_keep_socket_alive(self, conn: ClientConnection) -> bool:
        if (
            type(self).keep_socket_alive is Agent.keep_socket_alive
            and "keep_socket_alive" not in self.__dict__
            and conn.socket._keep_alive_state == (True, self.keep_alive_initial_delay)
        ):
            return True  # what the default hook would do is done already
        try:
            return bool(self.keep_socket_alive(conn.socket))
        except BaseException:
            # The hook failed: the socket is neither pooled nor leaked (lesson 4).
            self._drop(conn)
            self._wake(conn.name)
            raise

    def _detach(self, conn: ClientConnection) -> None:
        """An upgraded or tunnelled socket leaves HTTP management (R1-075)."""
        if self._remove_active(conn):
            self._wake(conn.name)

    def _drop(self, conn: ClientConnection) -> None:
        conn.destroy()
        if conn.socket._sock is None:
            self._zombies.append(conn)

    # -- closing ----------------------------------------------------------------
    def destroy(self) -> None:
        """Destroy every socket the agent holds, in use or idle (H1-015, R1-117)."""
        for conns in list(self._free.values()):
            for conn in conns:
                self._drop(conn)
        self._total -= sum(len(v) for v in self._free.values())
        self._free.clear()
        for conns in list(self._active.values()):
            for conn in conns:
                self._drop(conn)

    async def close(self) -> None:
        """Destroy the pool and wait until the streams are closed."""
        self.destroy()
        await self._reap()

    async def _reap(self) -> None:
        """Close the dropped streams that had no OS socket to close synchronously."""
        zombies, self._zombies = self._zombies, []
        for conn in zombies:
            await conn.aclose()

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        active = sum(len(v) for v in self._active.values())
        free = sum(len(v) for v in self._free.values())
        waiting = sum(len(v) for v in self._queue.values())
        connecting = sum(self._connecting.values())
        return (
            f"<{type(self).__name__} keep_alive={self.keep_alive} | sockets: {active} active, "
            f"{connecting} connecting, {free} free | requests: {waiting} queued>"
        )


#: TLS options (https): passed through requests and agents to ``create_connection``.
TLS_OPTIONS = frozenset(
    {
        "ca",
        "cert",
        "key",
        "pfx",
        "passphrase",
        "ciphers",
        "servername",
        "reject_unauthorized",
        "ssl_context",
        "ALPNProtocols",
        "session",
    }
)
#: What a request hands ``create_connection`` besides host and port (Node's
#: ``socket.connect()`` options, H1-011, H1-238).
CONNECT_OPTIONS = TLS_OPTIONS | {"family", "local_address", "local_port", "lookup", "hints"}
#: What ``Agent(**options)`` accepts besides its own settings.
_AGENT_OPTIONS = CONNECT_OPTIONS | {
    "host",
    "hostname",
    "port",
    "socket_path",
    "no_delay",
    "default_port",
}

CreateConnection = Callable[[dict[str, Any]], Any]

_GLOBAL_AGENT: trio.lowlevel.RunVar[Agent] = trio.lowlevel.RunVar("trio_nodehttp.global_agent")


def global_agent() -> Agent:
    """``http.globalAgent``: one per ``trio.run``, keep-alive, 5 s timeout (H1-210, R1-119)."""
    try:
        return _GLOBAL_AGENT.get()
    except LookupError:
        agent = Agent(keep_alive=True, timeout=5.0)
        _GLOBAL_AGENT.set(agent)
        return agent
