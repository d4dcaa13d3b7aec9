"""Header rules shared by HTTP/1.1 and HTTP/2: validation, incoming merge, outgoing store.

This module is the one home of Node's header rules (DESIGN §2):

- name and value validation, as ``http.validateHeaderName`` /
  ``http.validateHeaderValue`` (H1-240, H1-241, R1-012, R1-123);
- how a received ``raw_headers`` list becomes ``message.headers`` and
  ``message.headers_distinct`` (R1-001 … R1-008, Node's ``_addHeaderLine`` and
  ``_addHeaderLineDistinct`` in ``lib/_http_incoming.js``);
- the outgoing header store behind ``set_header``/``get_header``/
  ``append_header``/``get_headers``/``get_raw_header_names`` (R1-009, R1-010,
  R1-016, R1-017, R1-020, Node's ``kOutHeaders`` in ``lib/_http_outgoing.js``);
- how one stored value is put on the wire (Node's ``processHeader``, R1-010,
  R1-017, R1-018).

Everything here runs per request on a server's hot path: the patterns and
tables are built once at import time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

from trio_nodehttp.errors import InvalidCharError, InvalidHeaderValueError, InvalidHttpTokenError

__all__ = [
    "DISCARD_DUPLICATES",
    "OutgoingHeaders",
    "build_headers",
    "build_headers_distinct",
    "check_invalid_header_char",
    "check_is_http_token",
    "expand_header_value",
    "header_value_to_str",
    "parse_unique_headers_option",
    "validate_header_name",
    "validate_header_value",
]

# RFC 9110 §5.6.2 tchar, as Node's ``tokenRegExp`` in lib/_http_common.js.
_TOKEN_FULLMATCH: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
# Node's ``headerCharRegex`` in lib/_http_common.js: anything but HTAB, VCHAR, SP, obs-text.
_INVALID_HEADER_CHAR_SEARCH: Final = re.compile(r"[^\t\x20-\x7e\x80-\xff]").search

#: R1-003 (1): the 18 header names whose duplicates are discarded (first value wins,
#: R1-008) unless ``join_duplicate_headers`` is set (R1-004).
DISCARD_DUPLICATES: Final[frozenset[str]] = frozenset(
    {
        "age",
        "authorization",
        "content-length",
        "content-type",
        "etag",
        "expires",
        "from",
        "host",
        "if-modified-since",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "proxy-authorization",
        "referer",
        "retry-after",
        "server",
        "user-agent",
    }
)


def check_is_http_token(s: str) -> bool:
    """Return True if ``s`` is a non-empty RFC 9110 token (Node's ``checkIsHttpToken``).

    Used for header names (H1-240) and methods.
    """
    return _TOKEN_FULLMATCH(s) is not None


def check_invalid_header_char(s: str) -> bool:
    """Return True if ``s`` holds a character outside ``[\\t\\x20-\\x7e\\x80-\\xff]``.

    Node's ``checkInvalidHeaderChar``: CR, LF, NUL, other controls, DEL and every
    character beyond latin-1 are invalid in a header value (H1-241, R1-011).
    """
    return _INVALID_HEADER_CHAR_SEARCH(s) is not None


def validate_header_name(name: object, label: str = "Header name") -> None:
    """Raise unless ``name`` is a non-empty ``str`` that is an HTTP token (H1-240, R1-012).

    The error is ``InvalidHttpTokenError`` (a ``TypeError``, code
    ``ERR_INVALID_HTTP_TOKEN``) with the message
    ``'<label> must be a valid HTTP token ["<name>"]'``; ``label`` defaults to
    Node's upstream ``'Header name'`` (inventory §7 item 11).
    """
    if not isinstance(name, str) or _TOKEN_FULLMATCH(name) is None:
        raise InvalidHttpTokenError(label, name)


def validate_header_value(name: str, value: object) -> None:
    """Raise unless ``value`` may be sent as the value of header ``name`` (H1-241, R1-012).

    - ``None`` (Node's ``undefined``) raises ``InvalidHeaderValueError``
      (``ERR_HTTP_INVALID_HEADER_VALUE``,
      ``'Invalid value "undefined" for header "<name>"'``).
    - A value whose string form (a ``str`` as is; anything else as JavaScript's
      ``String()`` renders it, see ``header_value_to_str``, so each element of a
      list is checked) holds a character outside ``[\\t\\x20-\\x7e\\x80-\\xff]``
      raises ``InvalidCharError`` (``ERR_INVALID_CHAR``,
      ``'Invalid character in header content ["<name>"]'``). That includes
      every character outside latin-1 (R1-011, R1-123).
    """
    if value is None:
        raise InvalidHeaderValueError(None, name)
    text = value if type(value) is str else header_value_to_str(value)
    if _INVALID_HEADER_CHAR_SEARCH(text) is not None:
        raise InvalidCharError("header content", name)


def _js_number_to_str(x: float) -> str:
    """Render ``x`` as JavaScript's ``Number.prototype.toString()`` does (ECMA-262 §6.1.6.1.20)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr() gives the shortest round-tripping digits, as ECMAScript requires.
    mantissa, _, exp_text = repr(abs(x)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    all_digits = int_part + frac_part
    significant = all_digits.lstrip("0")
    # ECMAScript's n: the value is 0.<digits> * 10**n.
    n = len(int_part) + int(exp_text or "0") - (len(all_digits) - len(significant))
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + exp
    return sign + digits[0] + "." + digits[1:] + "e" + exp


def header_value_to_str(value: object) -> str:
    """Return the text that an outgoing header value puts on the wire (R1-010).

    Node stores non-string values as given and stringifies them only when the
    head is written, with JavaScript's ``String()``. The same rendering here:
    ``str`` as is; ``True``/``False`` → ``"true"``/``"false"``; ``int`` →
    decimal; ``float`` as a JS number (``1.0`` → ``"1"``, ``1.5`` → ``"1.5"``,
    ``1e21`` → ``"1e+21"``, ``nan`` → ``"NaN"``); ``None`` (``undefined``) →
    ``"undefined"``; a list or tuple → its elements rendered and joined with
    ``","`` (``None`` elements render as ``""``, as in ``Array.prototype.join``);
    anything else → ``str(value)``.
    """
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _js_number_to_str(value)
    if value is None:
        return "undefined"
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else header_value_to_str(v) for v in value)
    return str(value)


# Incoming merge (R1-003): Node's ``matchKnownFields`` sorts every lowercased name
# into one of four kinds. ``set-cookie`` → array, ``cookie`` → joined with '; ',
# the discard list → first wins, every other name (known or not) → joined with ', '.


def build_headers(
    raw: list[str], join_duplicate_headers: bool = False, max_count: int = 0
) -> dict[str, str | list[str]]:
    """Merge a flat ``raw_headers`` list into Node's ``message.headers`` object.

    ``raw`` is ``[name, value, name, value, ...]`` (R1-002). Follows Node v20's
    ``_addHeaderLine`` (lib/_http_incoming.js) exactly, pair by pair in arrival
    order:

    - keys are lowercased; values are not modified (R1-001);
    - ``set-cookie`` is always a list, every occurrence appended (R1-003.2);
    - repeated ``cookie`` values are joined with ``"; "`` (R1-003.3);
    - a name in ``DISCARD_DUPLICATES`` keeps its first value and later ones are
      dropped (R1-003.1, R1-008), unless ``join_duplicate_headers`` is true, in
      which case they are joined with ``", "`` (R1-004, H1-197);
    - every other name, whether Node knows it (``accept``, ``date``,
      ``connection``, ...) or not (``x-foo``, ``foo``), has its values joined
      with ``", "`` (R1-003.4). ``cookie`` and ``set-cookie`` keep their rules
      under ``join_duplicate_headers``.

    Name matching is case-insensitive, as Node's ``matchKnownFields`` falls back
    to the lowercased name. ``max_count`` > 0 counts only the first
    ``max_count`` pairs, as Node applies ``maxHeadersCount`` (the rest are
    dropped silently, DESIGN §11); 0 means no limit.
    """
    end = len(raw) - 1
    if max_count > 0 and 2 * max_count < end:
        end = 2 * max_count
    dest: dict[str, Any] = {}
    discard = DISCARD_DUPLICATES
    for i in range(0, end, 2):
        field = raw[i].lower()
        value = raw[i + 1]
        prev = dest.get(field)
        if prev is None:
            dest[field] = [value] if field == "set-cookie" else value
        elif field == "set-cookie":
            prev.append(value)
        elif field == "cookie":
            dest[field] = prev + "; " + value
        elif field not in discard or join_duplicate_headers:
            dest[field] = prev + ", " + value
    return dest


def build_headers_distinct(raw: list[str], max_count: int = 0) -> dict[str, list[str]]:
    """Build Node's ``message.headersDistinct`` from a flat ``raw_headers`` list (R1-005).

    No joining at all: every lowercased name maps to the list of its values in
    arrival order, even a single one (Node's ``_addHeaderLineDistinct``).
    ``max_count`` limits the pairs counted, as in ``build_headers``.
    """
    end = len(raw) - 1
    if max_count > 0 and 2 * max_count < end:
        end = 2 * max_count
    dest: dict[str, list[str]] = {}
    for i in range(0, end, 2):
        field = raw[i].lower()
        values = dest.get(field)
        if values is None:
            dest[field] = [raw[i + 1]]
        else:
            values.append(raw[i + 1])
    return dest


class OutgoingHeaders:
    """The headers an outgoing message will send, before they are sent (Node's ``kOutHeaders``).

    Maps each lowercased name to ``[raw_name, value]`` in insertion order.
    Values are stored unmodified (``str``, ``int``, ``float``, list, ...) and
    stringified only on the wire (R1-010, ``header_value_to_str``). Lookups are
    case-insensitive; ``names()`` is lowercase; ``raw_names()`` keeps the casing
    of the last ``set`` for each name, without duplicates (R1-009).
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, list[Any]] = {}

    @classmethod
    def _validated(cls, entries: dict[str, list[Any]]) -> OutgoingHeaders:
        """A store holding ``entries`` (lowercased name → ``[raw_name, value]``), which
        were validated when first set."""
        self = cls.__new__(cls)
        self._entries = entries
        return self

    def set(self, name: str, value: object) -> None:
        """Validate ``name`` (H1-240) then ``value`` (H1-241) and replace the header (R1-010).

        A header that existed keeps its position; its raw name becomes ``name``.
        """
        validate_header_name(name)
        validate_header_value(name, value)
        self._entries[name.lower()] = [name, value]

    def append(self, name: str, value: object) -> None:
        """Add ``value`` to header ``name`` (Node's ``appendHeader``, R1-017).

        With no previous value this is ``set``. Otherwise the stored value
        becomes a list (a stored list is extended in place) and ``value`` is
        appended to it; a list ``value`` appends each element. Name and value
        are validated first, as in ``set``.
        """
        validate_header_name(name)
        validate_header_value(name, value)
        entry = self._entries.get(name.lower())
        if entry is None:
            self._entries[name.lower()] = [name, value]
            return
        existing = entry[1]
        if type(existing) is not list:
            existing = list(existing) if isinstance(existing, tuple) else [existing]
            entry[1] = existing
        if isinstance(value, (list, tuple)):
            existing.extend(value)
        else:
            existing.append(value)

    def get(self, name: str) -> Any | None:
        """Return the stored value of ``name`` (case-insensitive, R1-009), or ``None``."""
        entry = self._entries.get(name.lower())
        return None if entry is None else entry[1]

    def has(self, name: str) -> bool:
        """Return True if header ``name`` is set (case-insensitive, R1-009)."""
        return name.lower() in self._entries

    def remove(self, name: str) -> None:
        """Remove header ``name`` if it is set (case-insensitive, R1-009)."""
        self._entries.pop(name.lower(), None)

    def names(self) -> list[str]:
        """Return the lowercased names in insertion order (``getHeaderNames``, R1-009)."""
        return list(self._entries)

    def raw_names(self) -> list[str]:
        """Return the names as given to ``set`` (``getRawHeaderNames``, R1-009).

        E.g. ``['Foo', 'Set-Cookie']``, one per header, in insertion order.
        """
        return [entry[0] for entry in self._entries.values()]

    def to_dict(self) -> dict[str, Any]:
        """Return a shallow copy keyed by lowercased names (``getHeaders``, R1-016).

        List values are the stored list objects themselves, so mutating one
        changes the stored header, as in Node.
        """
        return {key: entry[1] for key, entry in self._entries.items()}

    def items_raw(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(raw_name, value)`` pairs in insertion order, values unmodified."""
        for entry in self._entries.values():
            yield entry[0], entry[1]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __repr__(self) -> str:
        inner = ", ".join(f"{entry[0]!r}: {entry[1]!r}" for entry in self._entries.values())
        return f"OutgoingHeaders({{{inner}}})"


def parse_unique_headers_option(headers: Iterable[str] | None) -> frozenset[str] | None:
    """Turn the ``unique_headers`` option into a set of lowercased names (R1-018).

    Node's ``parseUniqueHeadersOption`` returns ``null`` for anything that is
    not an array; here ``None`` and a bare ``str`` (not a list of names) give
    ``None``, any other iterable its names lowercased.
    """
    if headers is None or isinstance(headers, str):
        return None
    return frozenset(h.lower() for h in headers)


def expand_header_value(name_lower: str, value: object, unique: frozenset[str] | None) -> list[str]:
    """Return the field-line values that one stored header value puts on the wire.

    Node's ``processHeader`` (lib/_http_outgoing.js): a list (or tuple) is sent
    as one line per element (R1-010), unless it has two or more elements and the
    field is ``cookie``, or the field is in ``unique`` (``uniqueHeaders``,
    R1-017, R1-018): then it is one line, the elements joined with ``"; "``
    (``None`` elements as ``""``). A scalar is one line. Every value is rendered
    by ``header_value_to_str``.
    """
    if isinstance(value, (list, tuple)):
        if (len(value) < 2 or name_lower != "cookie") and (
            unique is None or name_lower not in unique
        ):
            return [header_value_to_str(v) for v in value]
        return ["; ".join("" if v is None else header_value_to_str(v) for v in value)]
    return [header_value_to_str(value)]


# -- the Connection header and h11's header pairs, for both HTTP/1.1 sides ---------


def comma_tokens(value: str) -> list[str]:
    """The lower-cased, stripped tokens of a comma-separated header value."""
    return [t.strip().lower() for t in value.split(",")]


def keeps_alive(major: int, minor: int, connection: str | None) -> bool:
    """Whether a message keeps its connection open, as llhttp decides it: HTTP/1.1
    unless ``Connection`` says ``close``, HTTP/1.0 only with ``keep-alive``."""
    if major == 1 and minor == 1:
        # A "close" token needs "close" in the lower-cased value: most values skip the split.
        return (
            connection is None
            or "close" not in connection.lower()
            or "close" not in comma_tokens(connection)
        )
    return connection is not None and "keep-alive" in comma_tokens(connection)


def raw_list(pairs: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """h11's ``(raw name, value)`` pairs as Node's flat ``rawHeaders`` list (latin-1, R1-002)."""
    raw: list[str] = []
    for name, value in pairs:
        raw.append(name.decode("latin-1"))
        raw.append(value.decode("latin-1"))
    return raw
