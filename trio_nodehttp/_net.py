"""Listening, connecting and the ``Socket`` wrapper (Node's ``net.Socket``).

A :class:`Socket` is a :class:`trio.abc.HalfCloseableStream` over the trio
stream of one connection (TCP, TLS or an in-memory stream handed to
``server.serve_connection``) with Node's attributes on top
(DESIGN §10: ``remote_address``, ``bytes_read``, ``destroy()`` ...).
"""

from __future__ import annotations

import socket as _stdlib_socket
import ssl
from collections.abc import Callable
from typing import Any

import trio

from ._certs import node_certificate
from .events import EventEmitter

__all__ = ["Socket"]


def _raw_socket(stream: trio.abc.Stream) -> trio.socket.SocketType | None:
    """The trio socket under a SocketStream or an SSLStream, if there is one."""
    seen = 0
    cur: Any = stream
    while cur is not None and seen < 8:
        sock = getattr(cur, "socket", None)
        if isinstance(sock, trio.socket.SocketType):
            return sock
        cur = getattr(cur, "transport_stream", None)
        seen += 1
    return None


def _family_name(family: int) -> str:
    if family == _stdlib_socket.AF_INET6:
        return "IPv6"
    if family == _stdlib_socket.AF_INET:
        return "IPv4"
    return "Unix"


class Socket(EventEmitter, trio.abc.HalfCloseableStream):
    """One connection, as Node's ``net.Socket`` shows it to HTTP users.

    It is a real trio stream: an ``'upgrade'`` or ``'connect'`` listener
    reads and writes the tunnel with ``receive_some`` / ``send_all``
    (H1-085, H1-089); the server closes it when the listener returns.
    ``destroy()`` is synchronous, as in Node: it closes the OS socket at once
    and wakes any task blocked on it.
    """

    def __init__(self, stream: trio.abc.Stream | None, *, server: Any = None) -> None:
        EventEmitter.__init__(self)
        self.server = server
        self.bytes_read = 0
        self.bytes_written = 0
        self.destroyed = False
        self.timeout = 0.0
        self._on_destroy: Callable[[], None] | None = None
        #: Called by ``set_timeout`` so that the owner re-arms its inactivity timer.
        self._on_timeout_change: Callable[[], None] | None = None
        self._eof_sent = False
        self._keep_alive_state: tuple[bool, float] | None = None
        self._deferred_calls: list[tuple[str, tuple[Any, ...]]] | None = None
        self._sock: trio.socket.SocketType | None = None
        self.encrypted = False
        self.remote_address: str | None = None
        self.remote_port: int | None = None
        self.remote_family: str | None = None
        self.local_address: str | None = None
        self.local_port: int | None = None
        self.connecting = stream is None
        if stream is not None:
            self._attach(stream)

    def _attach(self, stream: trio.abc.Stream) -> None:
        """Bind the connected stream (a client socket exists before it connects, as in
        Node: ``'socket'`` fires first). Options set meanwhile apply now."""
        self._stream = stream
        self.connecting = False
        sock = _raw_socket(stream)
        self._sock = sock
        self.encrypted = isinstance(stream, trio.SSLStream)
        if sock is not None:
            try:
                peer = sock.getpeername()
                local = sock.getsockname()
            except OSError:
                pass
            else:
                fam = _family_name(sock.family)
                if isinstance(peer, tuple):
                    self.remote_address, self.remote_port = peer[0], peer[1]
                    self.local_address, self.local_port = local[0], local[1]
                else:
                    self.remote_address = str(peer)
                    self.local_address = str(local)
                self.remote_family = fam
        calls, self._deferred_calls = self._deferred_calls, None
        if calls:
            for method, args in calls:
                getattr(self, method)(*args)
        if self._events and "connect" in self._events:
            self.emit("connect")  # net.Socket's 'connect' (sync listeners)

    def _defer(self, method: str, args: tuple[Any, ...]) -> Socket:
        if self._deferred_calls is None:
            self._deferred_calls = []
        self._deferred_calls.append((method, args))
        return self

    # -- Node's attributes ------------------------------------------------
    @property
    def stream(self) -> trio.abc.Stream:
        """The trio stream underneath (SocketStream, SSLStream or any Stream)."""
        return self._stream

    @property
    def writable(self) -> bool:
        return not self.destroyed and not self._eof_sent

    @property
    def readable(self) -> bool:
        return not self.destroyed

    # -- TLS (Node's tls.TLSSocket, H1-151) ---------------------------------
    def _ssl(self) -> Any:
        stream = getattr(self, "_stream", None)
        return stream if isinstance(stream, trio.SSLStream) else None

    @property
    def authorized(self) -> bool:
        """TLS: whether the peer's certificate was verified against the trusted CAs.

        Node verifies even with ``rejectUnauthorized: false`` and reports the
        outcome here; Python's ``ssl`` does not verify then, so this is
        ``False`` whenever verification was turned off (and on a server that
        asks no client certificate, as in Node).
        """
        tls = self._ssl()
        if tls is None or self.destroyed:
            return False
        try:
            return tls.context.verify_mode != ssl.CERT_NONE and bool(
                tls.getpeercert(binary_form=True)
            )
        except (ValueError, AttributeError, trio.BrokenResourceError):
            return False  # no handshake yet

    @property
    def alpn_protocol(self) -> str | bool | None:
        """TLS: the ALPN protocol agreed on, ``False`` if none; ``None`` on a plain socket."""
        tls = self._ssl()
        if tls is None:
            return None
        try:
            return tls.selected_alpn_protocol() or False
        except (ValueError, AttributeError, trio.BrokenResourceError):
            return False

    def get_peer_certificate(self, detailed: bool = False) -> dict[str, Any] | None:
        """TLS: the peer's certificate as Node's object (``subject``, ``issuer``,
        ``subjectaltname``, ``valid_from``, ``valid_to``, ``serialNumber``, the
        fingerprints, ``raw``; see ``_certs``), ``{}`` when the peer sent none and
        ``None`` once the socket is destroyed, as Node. ``detailed`` is accepted; the
        issuer chain is not available from Python's ``ssl``.
        """
        tls = self._ssl()
        if tls is None:
            raise TypeError("get_peer_certificate() needs a TLS socket (https)")
        if self.destroyed:
            return None
        try:
            return node_certificate(tls)
        except (ValueError, AttributeError, trio.BrokenResourceError):
            return {}  # no handshake yet

    def address(self) -> dict[str, Any]:
        """``socket.address()``: the local end as ``{"address", "family", "port"}``."""
        return {
            "address": self.local_address,
            "family": self.remote_family,
            "port": self.local_port,
        }

    def set_timeout(self, seconds: float, callback: Callable[..., Any] | None = None) -> Socket:
        """Inactivity timeout in seconds (0 disables); ``callback`` listens to ``'timeout'``."""
        self.timeout = float(seconds)
        if callback is not None:
            self.once("timeout", callback)
        hook = self._on_timeout_change
        if hook is not None:
            hook()
        return self

    def set_no_delay(self, no_delay: bool = True) -> Socket:
        if self.connecting:
            return self._defer("set_no_delay", (no_delay,))
        if self._sock is not None and self._sock.family in (
            _stdlib_socket.AF_INET,
            _stdlib_socket.AF_INET6,
        ):
            self._sock.setsockopt(
                _stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY, int(no_delay)
            )
        return self

    def set_keep_alive(self, enable: bool = False, initial_delay: float = 0.0) -> Socket:
        """TCP keep-alive; ``initial_delay`` in seconds (Node's ``initialDelay`` in ms)."""
        if self.connecting:
            return self._defer("set_keep_alive", (enable, initial_delay))
        state = (enable, initial_delay)
        if self._keep_alive_state == state:
            return self  # already set: a pooled socket is re-pooled on every request
        sock = self._sock
        if sock is None or sock.family not in (_stdlib_socket.AF_INET, _stdlib_socket.AF_INET6):
            return self
        self._keep_alive_state = state
        sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE, int(enable))
        if enable and initial_delay > 0 and hasattr(_stdlib_socket, "TCP_KEEPIDLE"):
            secs = max(1, int(initial_delay))
            sock.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_KEEPIDLE, secs)
        return self

    def ref(self) -> Socket:
        return self

    def unref(self) -> Socket:
        return self

    def destroy(self, error: BaseException | None = None) -> Socket:
        """Close the connection now (Node's ``socket.destroy()``); idempotent."""
        if self.destroyed:
            return self
        self.destroyed = True
        if self._sock is not None:
            self._sock.close()
        hook = self._on_destroy
        if hook is not None:
            hook()
        return self

    def end(self) -> Socket:
        """Node's ``socket.end()`` without data: the owner closes the connection."""
        return self.destroy()

    # -- trio.abc.HalfCloseableStream ------------------------------------
    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self.destroyed:
            raise trio.ClosedResourceError("socket was destroyed")
        await self._stream.send_all(data)
        self.bytes_written += len(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        if self.destroyed:
            raise trio.ClosedResourceError("socket was destroyed")
        data = await self._stream.receive_some(max_bytes)
        self.bytes_read += len(data)
        return data

    async def send_eof(self) -> None:
        if self.destroyed:
            raise trio.ClosedResourceError("socket was destroyed")
        stream = self._stream
        if isinstance(stream, trio.abc.HalfCloseableStream):
            await stream.send_eof()
        else:
            await trio.lowlevel.checkpoint()
        self._eof_sent = True

    async def aclose(self) -> None:
        self.destroyed = True
        try:
            if not self.connecting:
                await self._stream.aclose()
            else:
                await trio.lowlevel.checkpoint()
        finally:
            hook = self._on_destroy
            if hook is not None:
                hook()

    def __repr__(self) -> str:
        state = "destroyed" if self.destroyed else "open"
        return (
            f"<Socket {self.remote_address}:{self.remote_port} -> "
            f"{self.local_address}:{self.local_port} {state} "
            f"read={self.bytes_read} written={self.bytes_written}>"
        )
