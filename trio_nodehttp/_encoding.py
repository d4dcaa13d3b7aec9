"""Node's encoding names for body chunks (``'utf8'``, ``'latin1'``, ``'hex'``, ``'base64'`` ...).

A body chunk is ``bytes``; a ``str`` chunk is encoded with the given encoding
(Node's default ``'utf8'``), and ``set_encoding()`` decodes incoming chunks
the same way (DESIGN §3 "Bodies").
"""

from __future__ import annotations

import base64
import codecs

_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "latin1": "latin-1",
    "binary": "latin-1",
    "ascii": "latin-1",
    "ucs2": "utf-16-le",
    "ucs-2": "utf-16-le",
    "utf16le": "utf-16-le",
    "utf-16le": "utf-16-le",
}


def normalize_encoding(encoding: str | None) -> str:
    """Map a Node encoding name to a Python codec name (``hex``/``base64`` stay as they are)."""
    if encoding is None:
        return "utf-8"
    enc = encoding.lower()
    if enc in ("hex", "base64", "base64url"):
        return enc
    if enc in _ALIASES:
        return _ALIASES[enc]
    try:
        return codecs.lookup(enc).name
    except LookupError:
        raise TypeError(f"Unknown encoding: {encoding}") from None


def to_bytes(chunk: bytes | bytearray | memoryview | str, encoding: str | None = None) -> bytes:
    """Turn a body chunk into bytes: Node's ``Buffer.from(chunk, encoding)``."""
    if type(chunk) is bytes:
        return chunk
    if isinstance(chunk, str):
        if encoding is None or encoding == "utf8" or encoding == "utf-8":
            return chunk.encode("utf-8")
        enc = normalize_encoding(encoding)
        if enc == "hex":
            return bytes.fromhex(chunk)
        if enc == "base64":
            return base64.b64decode(chunk + "=" * (-len(chunk) % 4))
        if enc == "base64url":
            return base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4))
        return chunk.encode(enc, errors="replace" if enc != "latin-1" else "ignore")
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(
        'The "chunk" argument must be of type str or bytes-like. '
        f"Received an instance of {type(chunk).__name__}"
    )


class Decoder:
    """An incremental decoder for ``set_encoding()``: multi-byte characters split
    across chunks are held back until complete, as Node's StringDecoder does."""

    __slots__ = ("_dec", "_enc", "_pending")

    def __init__(self, encoding: str) -> None:
        self._enc = normalize_encoding(encoding)
        self._pending = b""
        self._dec = (
            None
            if self._enc in ("hex", "base64", "base64url")
            else codecs.getincrementaldecoder(self._enc)(errors="replace")
        )

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._dec is not None:
            return str(self._dec.decode(data, final))
        if self._enc == "hex":
            return data.hex()
        buf = self._pending + data
        if final:
            self._pending = b""
        else:
            cut = len(buf) - len(buf) % 3
            buf, self._pending = buf[:cut], buf[cut:]
        out = base64.b64encode(buf)
        if self._enc == "base64url":
            out = base64.urlsafe_b64encode(buf).rstrip(b"=")
        return out.decode("ascii")
