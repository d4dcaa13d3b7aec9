"""The command line: ``python -m trio_nodehttp COMMAND ...`` (DESIGN §9).

Commands are ``argparse`` sub-commands; each one adds its parser in its own
``_add_<name>_parser`` function and sets ``func`` (the code that runs it,
returning the exit status). Today there is one:

``serve [DIR] [--port 8000] [--host 127.0.0.1]``
    A static file server for ``DIR`` (default: the current directory),
    written only on the public API (``http.create_server``,
    ``res.set_header``, ``res.write_head``, ``await res.write``,
    ``await res.end``), so it doubles as an example of that API:

    * ``GET`` and ``HEAD`` only; any other method gets ``405`` with
      ``Allow: GET, HEAD``;
    * the ``Content-Type`` comes from :mod:`mimetypes`
      (``application/octet-stream`` when unknown), the size goes in
      ``Content-Length`` and the file is streamed in chunks, each one
      ``await res.write(chunk)`` (that await is the backpressure);
    * a directory is served by its ``index.html``; a directory path without
      its trailing slash is redirected (``301``) to the path with it, so that
      relative links in the page work; a directory without ``index.html``
      is a ``404`` (no listings);
    * nothing outside ``DIR`` is ever served: the path is percent-decoded
      first, then ``..`` segments, NUL bytes and symbolic links that lead
      outside ``DIR`` are all answered with ``404``;
    * one line per request on stderr, ``127.0.0.1 - "GET /x HTTP/1.1" 200 123``
      (client address, request line, status, body bytes sent);
    * at start it prints ``Serving DIR at http://HOST:PORT/`` on stdout
      (``--port 0`` lets the system pick a free port; the printed one is
      the port actually bound);
    * Ctrl-C (SIGINT) closes the server and every connection and exits with
      status **0**, printing no traceback, like ``python -m http.server``:
      stopping a development server is its normal end, not a failure.
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import trio

from . import http

__all__ = ["build_parser", "main"]

#: Bytes read from disk and handed to ``await res.write`` at a time.
CHUNK_SIZE = 64 * 1024
_ALLOWED = "GET, HEAD"
_COMPRESSED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
}


# -- the command line ----------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The ``python -m trio_nodehttp`` parser, one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="python -m trio_nodehttp",
        description="Node's http module on trio: command-line tools.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_serve_parser(commands)
    return parser


def _add_serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve a directory over HTTP/1.1",
        description="Serve the files of DIR over HTTP/1.1 (GET and HEAD), "
        "logging one line per request to stderr.",
        epilog="Ctrl-C stops the server; the exit status is then 0.",
    )
    serve.add_argument(
        "directory",
        metavar="DIR",
        nargs="?",
        default=".",
        help="the directory to serve (default: the current directory)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="the TCP port to listen on; 0 picks a free one (default: 8000)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1)",
    )
    serve.set_defaults(func=_run_serve)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.func(parser, args)
    return status


# -- serve ----------------------------------------------------------------------
def _run_serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    root = os.path.realpath(args.directory)
    if not os.path.isdir(root):
        parser.error(f"serve: not a directory: {args.directory}")
    status = 0
    try:
        status = trio.run(_serve, root, args.host, args.port)
    except* KeyboardInterrupt:
        print("\nKeyboard interrupt received, server stopped.", file=sys.stderr, flush=True)
    return status


async def _serve(root: str, host: str, port: int) -> int:
    """Serve until cancelled (Ctrl-C); 1 when the address cannot be bound."""
    static = StaticFiles(root)
    async with http.create_server(static.handle) as server:
        try:
            await server.listen(port, host)
        except OSError as exc:
            print(f"serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr, flush=True)
            return 1
        address = server.address()
        assert address is not None
        shown = f"[{address['address']}]" if ":" in address["address"] else address["address"]
        print(f"Serving {root} at http://{shown}:{address['port']}/", flush=True)
        await trio.sleep_forever()


@dataclass(frozen=True)
class _Found:
    """What a request path leads to inside the root."""

    path: str | None = None  # a regular file to send
    redirect: str | None = None  # a directory asked without its trailing slash


class _Sent:
    """Body bytes handed to the connection so far, for the log line."""

    __slots__ = ("bytes",)

    def __init__(self) -> None:
        self.bytes = 0


class StaticFiles:
    """The ``'request'`` listener of ``serve``: files under ``root``, nothing else."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    async def handle(self, req: http.IncomingMessage, res: http.ServerResponse) -> None:
        sent = _Sent()
        try:
            sent.bytes = await self._respond(req, res, sent)
        finally:
            # also when the client went away mid-body: the log says how far it got
            self._log(req, res, sent.bytes)

    async def _respond(
        self, req: http.IncomingMessage, res: http.ServerResponse, sent: _Sent
    ) -> int:
        method = req.method
        if method not in ("GET", "HEAD"):
            res.set_header("Allow", _ALLOWED)
            return await _send_text(res, 405, "Method Not Allowed\n")
        found = await trio.to_thread.run_sync(self.locate, req.url or "")
        if found.redirect is not None:
            res.set_header("Location", found.redirect)
            return await _send_text(res, 301, f"Moved Permanently: {found.redirect}\n")
        if found.path is None:
            return await _send_text(res, 404, "Not Found\n")
        try:
            file = await trio.open_file(found.path, "rb")
        except PermissionError:
            return await _send_text(res, 403, "Forbidden\n")
        except OSError:
            return await _send_text(res, 404, "Not Found\n")
        async with file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                return await _send_text(res, 404, "Not Found\n")
            size = info.st_size
            res.set_header("Content-Type", _content_type(found.path))
            res.set_header("Content-Length", size)
            res.write_head(200)
            if method == "HEAD":
                await res.end()
                return 0
            while sent.bytes < size:
                chunk = await file.read(min(CHUNK_SIZE, size - sent.bytes))
                if not chunk:
                    # The file shrank while being sent: the Content-Length already
                    # sent cannot be met, so the connection must not be reused.
                    res.destroy()
                    return sent.bytes
                await res.write(chunk)  # returns once handed to the socket: backpressure
                sent.bytes += len(chunk)
            await res.end()
            return sent.bytes

    def locate(self, url: str) -> _Found:
        """Map a request target to a file under the root (runs in a worker thread).

        Percent-decoding happens before any check, so ``%2e%2e`` is ``..``;
        a ``..`` segment, a NUL byte, an undecodable path or a real path
        (symbolic links resolved) outside the root all give "not found".
        """
        if url.startswith("/"):
            target = url.split("?", 1)[0].split("#", 1)[0]
        else:  # absolute form, "http://host/path?query", as sent to proxies
            target = urlsplit(url).path
        try:
            path = unquote(target, errors="strict")
        except UnicodeDecodeError:
            return _Found()
        if not path.startswith("/") or "\0" in path:
            return _Found()
        segments = [s for s in path.split("/") if s not in ("", ".")]
        if ".." in segments:
            return _Found()
        real = os.path.realpath(os.path.join(self.root, *segments))
        if not self._inside(real):
            return _Found()
        if os.path.isdir(real):
            if not path.endswith("/"):
                # "//host" would be a protocol-relative Location: keep one slash
                location = "/" + target.lstrip("/") + "/"
                query = url.partition("?")[2]
                return _Found(redirect=f"{location}?{query}" if query else location)
            real = os.path.realpath(os.path.join(real, "index.html"))
            if not self._inside(real):
                return _Found()
        if not os.path.isfile(real):
            return _Found()
        return _Found(path=real)

    def _inside(self, real: str) -> bool:
        root = self.root
        return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)

    def _log(self, req: http.IncomingMessage, res: http.ServerResponse, sent: int) -> None:
        sock = req.socket
        client = getattr(sock, "remote_address", None) or "-"
        line = f"{req.method} {req.url} HTTP/{req.http_version}"
        status = res.status_code if res.headers_sent else "-"
        print(f'{client} - "{line}" {status} {sent}', file=sys.stderr, flush=True)


def _content_type(path: str) -> str:
    """The ``Content-Type`` of a file, by its name (:mod:`mimetypes`).

    A compressed file (``.gz``, ``.bz2``, ``.xz`` ...) is served as what it
    is, the archive, not as its contents with a ``Content-Encoding``.
    """
    ctype, encoding = mimetypes.guess_type(path, strict=False)
    if encoding is not None:
        return _COMPRESSED_TYPES.get(encoding, "application/octet-stream")
    return ctype or "application/octet-stream"


async def _send_text(res: http.ServerResponse, status: int, text: str) -> int:
    """A short plain-text answer; the body is left out for HEAD by the server."""
    body = text.encode("utf-8")
    res.set_header("Content-Type", "text/plain; charset=utf-8")
    res.set_header("Content-Length", len(body))
    res.write_head(status)
    if res.req.method == "HEAD":
        await res.end()
        return 0
    await res.end(body)
    return len(body)
