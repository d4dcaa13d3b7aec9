"""The command line: ``python -m trio_nodehttp COMMAND ...`` (DESIGN §9).

Commands are ``argparse`` sub-commands; each one adds its parser in its own
``_add_<name>_parser`` function and sets ``func`` (the code that runs it,
returning the exit status). There are two, ``serve`` and ``get``:

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

``get URL [-H 'name: value']... [-d DATA | -d @FILE] [-X METHOD] [-i]
[--max-time SECONDS] [--cacert FILE] [-k]``
    A small ``curl``, written only on the public client API
    (``http.request`` / ``https.request`` by the URL's scheme,
    ``await req.end(data)``, ``await req.response()``, ``async for chunk in
    res``), so it doubles as an example of that API:

    * the body goes to stdout as it arrives, chunk by chunk, unchanged
      (bytes); with ``-i`` it is preceded by the status line
      (``HTTP/1.1 200 OK``), the headers exactly as received
      (``res.raw_headers``, names in their own case, duplicates kept) and a
      blank line, each line ending in ``\r\n`` as ``curl -i`` prints them;
    * ``-H 'Name: value'`` (repeatable; a repeated name sends each value)
      adds a request header, checked as ``set_header`` would check it; a
      malformed one is a usage error (status 2, argparse's message);
    * ``-d DATA`` sends ``DATA`` as the body, ``-d @FILE`` the bytes of
      ``FILE`` as they are (``curl --data-binary``); the method becomes
      ``POST`` and, unless a ``-H`` gives one, the ``Content-Type`` is
      ``application/x-www-form-urlencoded``, as with curl; ``-X`` sets any
      method;
    * a URL without ``scheme://`` is taken as ``http://``; ``https://`` uses
      ``https.request``, with ``--cacert FILE`` (PEM) as the trust store
      (Node's ``ca``) and ``-k`` / ``--insecure`` for
      ``reject_unauthorized=False``;
    * ``--max-time SECONDS`` bounds the whole exchange (connect, send, the
      whole body) with one trio cancel scope;
    * a failure is one line on stderr, ``error: <message> (<code>)`` — the
      Node error's message, then its ``code`` unless the message already
      says it (``error: connect ECONNREFUSED 127.0.0.1:1``) — and no
      traceback.

    The exit status follows curl's numbers: **0** for a response below 400;
    **22** for a 4xx/5xx response, as ``curl --fail``: nothing at all goes
    to stdout (not even with ``-i``), the line on stderr names the status;
    **6** the host name cannot be resolved (``ENOTFOUND``); **7** the
    connection cannot be made (``ECONNREFUSED``, ``ETIMEDOUT``, any other
    connect error); **52** the server closed without answering (``socket
    hang up``); **56** the connection failed while the response was being
    read (``aborted``; what came already is on stdout); **8** the answer is
    not HTTP/1.x (``HPE_*``); **35** the TLS handshake failed, **60** the
    server's certificate was rejected; **28** ``--max-time`` ran out; **26**
    ``-d @FILE`` cannot be read; **23** stdout was closed (a broken pipe);
    **3** the URL or an option is rejected by ``http.request``; **2** a
    usage error; **130** Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import mimetypes
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import trio

from . import http, https
from .errors import ConnResetError, HostNotFoundError, HttpParserError, NodeError

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
    _add_get_parser(commands)
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


def _add_get_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    get = commands.add_parser(
        "get",
        help="send one HTTP/1.1 request and print the response body",
        description="Send one request to URL (http:// or https://) and print the body "
        "of the response as it arrives; -i prints the status line and headers first.",
        epilog="Exit status as curl's: 0 ok, 22 a 4xx/5xx response (nothing printed, "
        "as curl --fail), 6 unknown host, 7 cannot connect, 28 --max-time ran out, "
        "52 no answer, 56 connection lost while reading, 35/60 TLS failures.",
    )
    get.add_argument("url", metavar="URL", help="the URL to fetch (http:// is assumed)")
    get.add_argument(
        "-H",
        "--header",
        dest="headers",
        metavar="'NAME: VALUE'",
        type=_header,
        action="append",
        default=[],
        help="a request header (repeatable)",
    )
    get.add_argument(
        "-d",
        "--data",
        metavar="DATA",
        help="send DATA as the body (@FILE: the bytes of FILE); the method becomes POST",
    )
    get.add_argument(
        "-X",
        "--request",
        dest="method",
        metavar="METHOD",
        type=_method,
        help="the request method (default: GET, or POST with -d)",
    )
    get.add_argument(
        "-i",
        "--include",
        action="store_true",
        help="print the status line and the response headers before the body",
    )
    get.add_argument(
        "--max-time",
        metavar="SECONDS",
        type=_seconds,
        help="give up after SECONDS for the whole exchange (exit status 28)",
    )
    get.add_argument(
        "--cacert",
        metavar="FILE",
        help="https: trust the CA certificates of this PEM file instead of the system's",
    )
    get.add_argument(
        "-k",
        "--insecure",
        action="store_true",
        help="https: do not verify the server's certificate (reject_unauthorized=False)",
    )
    get.set_defaults(func=_run_get)


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name:
        raise argparse.ArgumentTypeError(f"not a header, expected 'name: value': {text!r}")
    try:
        http.validate_header_name(name)
        http.validate_header_value(name, value)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{exc}: {text!r}") from None
    return name, value


def _method(text: str) -> str:
    try:
        http.validate_header_name(text, "Method")
    except TypeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return seconds


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


# -- get --------------------------------------------------------------------------
#: curl's exit statuses, used by ``get`` (see the module docstring).
EXIT_URL = 3
EXIT_RESOLVE = 6
EXIT_CONNECT = 7
EXIT_WEIRD_REPLY = 8
EXIT_HTTP_ERROR = 22
EXIT_WRITE = 23
EXIT_READ_FILE = 26
EXIT_TIMEOUT = 28
EXIT_TLS = 35
EXIT_EMPTY_REPLY = 52
EXIT_RECV = 56
EXIT_TLS_CERT = 60
EXIT_INTERRUPTED = 130


class _GetFailed(Exception):
    """Ends ``get`` with one line on stderr and an exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _run_get(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    url: str = args.url if "://" in args.url else "http://" + args.url
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        parser.error(f"get: unsupported URL scheme {scheme!r} (use http:// or https://)")
    try:
        body = _request_body(args.data)
        ca = _read_file(args.cacert).decode("latin-1") if args.cacert else None
    except _GetFailed as failed:
        return _fail(failed)
    options: dict[str, object] = {"method": args.method or ("POST" if body is not None else "GET")}
    # One entry per name, whatever its case (the first spelling is sent), so that a
    # repeated -H sends each of its values, as curl does.
    headers: dict[str, tuple[str, list[str]]] = {}
    for name, value in args.headers:
        headers.setdefault(name.lower(), (name, []))[1].append(value)
    if body is not None and "content-type" not in headers:
        headers["content-type"] = ("Content-Type", ["application/x-www-form-urlencoded"])
    options["headers"] = {n: v[0] if len(v) == 1 else v for n, v in headers.values()}
    if scheme == "https":
        if ca is not None:
            options["ca"] = ca
        if args.insecure:
            options["reject_unauthorized"] = False
    status = EXIT_INTERRUPTED
    try:
        status = trio.run(_get, url, options, body, args.include, args.max_time)
    except* KeyboardInterrupt:
        print(file=sys.stderr, flush=True)
    return status


def _request_body(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data.startswith("@"):
        return _read_file(data[1:])
    return data.encode("utf-8")


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise _GetFailed(EXIT_READ_FILE, f"cannot read {path}: {exc.strerror or exc}") from None


def _fail(failed: _GetFailed) -> int:
    print(f"error: {failed}", file=sys.stderr, flush=True)
    return failed.status


async def _get(
    url: str,
    options: dict[str, object],
    body: bytes | None,
    include: bool,
    max_time: float | None,
) -> int:
    """One exchange; returns the exit status (a failure already told on stderr)."""
    try:
        await _exchange(url, options, body, include, max_time, sys.stdout.buffer)
    except _GetFailed as failed:
        return _fail(failed)
    return 0


async def _exchange(
    url: str,
    options: dict[str, object],
    body: bytes | None,
    include: bool,
    max_time: float | None,
    out: BinaryIO,
) -> None:
    """Send the request and copy the response to ``out``; raises :class:`_GetFailed`."""
    module = https if url.lower().startswith("https:") else http
    try:
        req = module.request(url, **options)
    except (NodeError, TypeError, ValueError) as exc:
        raise _GetFailed(EXIT_URL, _describe(exc)) from None
    with trio.move_on_after(max_time if max_time is not None else math.inf) as scope:
        try:
            async with req:  # leaving it early (4xx/5xx, an error) closes the connection
                await req.end(body)
                res = await req.response()
                status = res.status_code or 0
                if status >= 400:
                    raise _GetFailed(
                        EXIT_HTTP_ERROR,
                        f"the requested URL returned error: {status} {res.status_message}".rstrip(),
                    )
                if include:
                    _write(out, _head_bytes(res))
                async for chunk in res:
                    _write(out, chunk)
        except (NodeError, OSError, trio.BrokenResourceError) as exc:
            raise _GetFailed(_exit_status(exc), _describe(exc)) from None
    if scope.cancelled_caught:
        raise _GetFailed(EXIT_TIMEOUT, f"operation timed out after {max_time:g} seconds")


def _head_bytes(res: http.IncomingMessage) -> bytes:
    """``curl -i``'s head: the status line, the headers as received, a blank line."""
    status_line = f"HTTP/{res.http_version} {res.status_code}"
    if res.status_message:
        status_line += f" {res.status_message}"
    lines = [status_line]
    raw = res.raw_headers
    lines += [f"{raw[i]}: {raw[i + 1]}" for i in range(0, len(raw) - 1, 2)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _write(out: BinaryIO, data: bytes | str) -> None:
    """Write to stdout at once (as the body arrives); a closed pipe ends ``get``."""
    try:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
        out.flush()
    except (BrokenPipeError, ValueError):
        # Nobody reads any more (``get URL | head``): later flushes must not fail either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
        raise _GetFailed(EXIT_WRITE, "failure writing output: stdout was closed") from None


def _exit_status(exc: BaseException) -> int:
    if isinstance(exc, https.TLSCertificateError):
        return EXIT_TLS_CERT
    if isinstance(exc, https.TLSError):
        return EXIT_TLS
    if isinstance(exc, HostNotFoundError):
        return EXIT_RESOLVE
    if isinstance(exc, HttpParserError):
        return EXIT_WEIRD_REPLY
    if isinstance(exc, ConnResetError) or isinstance(exc, trio.BrokenResourceError):
        return EXIT_EMPTY_REPLY if str(exc) == "socket hang up" else EXIT_RECV
    return EXIT_CONNECT


def _describe(exc: BaseException) -> str:
    """Node's way: the message, then the ``code`` unless the message already holds it."""
    message = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    code = getattr(exc, "code", "") or ""
    if isinstance(code, str) and code and code not in message:
        message += f" ({code})"
    return " ".join(message.split())  # one line, whatever the message holds
