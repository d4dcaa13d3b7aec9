"""Header rules (trio_nodehttp._headers) and module constants (trio_nodehttp._constants).

Each test states one Node rule and cites its inventory ID. Tests marked
``interop`` compare with a live Node v20 (``node`` on PATH).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_nodehttp._constants import MAX_HEADER_SIZE, METHODS, STATUS_CODES
from trio_nodehttp._headers import (
    DISCARD_DUPLICATES,
    OutgoingHeaders,
    build_headers,
    build_headers_distinct,
    check_invalid_header_char,
    check_is_http_token,
    expand_header_value,
    header_value_to_str,
    parse_unique_headers_option,
    validate_header_name,
    validate_header_value,
)
from trio_nodehttp.errors import InvalidCharError, InvalidHeaderValueError, InvalidHttpTokenError

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

SEED_RAW = [
    "ConTent-Length",
    "123456",
    "content-LENGTH",
    "123",
    "content-type",
    "text/plain",
    "CONNECTION",
    "keep-alive",
    "Host",
    "example.com",
    "accepT",
    "*/*",
]

THE_18 = [
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
]


# --- incoming: message.headers --------------------------------------------------------


def test_seed_raw_headers_first_value_wins() -> None:
    # R1-001, R1-002, R1-008: keys lowercased, values untouched, first content-length kept.
    assert build_headers(SEED_RAW) == {
        "content-length": "123456",
        "content-type": "text/plain",
        "connection": "keep-alive",
        "host": "example.com",
        "accept": "*/*",
    }


def test_discard_list_is_exactly_the_18_names() -> None:
    # R1-003 (1)
    assert sorted(DISCARD_DUPLICATES) == THE_18


@pytest.mark.parametrize("name", THE_18)
def test_each_discard_list_name_keeps_its_first_value(name: str) -> None:
    # R1-003 (1), R1-008: duplicates dropped, first wins, whatever the casing.
    raw = [name.upper(), "first", name, "second", name.title(), "third"]
    assert build_headers(raw) == {name: "first"}


@pytest.mark.parametrize("name", THE_18)
def test_join_duplicate_headers_joins_the_discard_list(name: str) -> None:
    # R1-004, H1-197: with joinDuplicateHeaders the 18 names are joined with ', '.
    raw = [name, "a", name.upper(), "b", name, "c"]
    assert build_headers(raw, join_duplicate_headers=True) == {name: "a, b, c"}


def test_set_cookie_is_always_a_list() -> None:
    # R1-003 (2): even a single set-cookie is a list; duplicates are appended.
    assert build_headers(["Set-Cookie", "a=1"]) == {"set-cookie": ["a=1"]}
    assert build_headers(["Set-Cookie", "a=1", "set-COOKIE", "b=2"]) == {
        "set-cookie": ["a=1", "b=2"]
    }


def test_cookie_duplicates_are_joined_with_semicolon() -> None:
    # R1-003 (3)
    assert build_headers(["Cookie", "a=1", "cookie", "b=2", "COOKIE", "c=3"]) == {
        "cookie": "a=1; b=2; c=3"
    }


def test_cookie_rules_survive_join_duplicate_headers() -> None:
    # R1-004 [BEYOND-SEED]: upstream keeps cookie/set-cookie handling under the option.
    raw = ["cookie", "a=1", "cookie", "b=2", "set-cookie", "x", "set-cookie", "y"]
    assert build_headers(raw, join_duplicate_headers=True) == {
        "cookie": "a=1; b=2",
        "set-cookie": ["x", "y"],
    }


@pytest.mark.parametrize("name", ["accept", "x-forwarded-for", "vary", "x-custom", "foo", "Date"])
def test_every_other_header_is_joined_with_comma(name: str) -> None:
    # R1-003 (4): known comma-joined names and unknown names alike.
    raw = [name, "a", name.upper(), "b"]
    assert build_headers(raw) == {name.lower(): "a, b"}


def test_values_are_not_modified() -> None:
    # R1-001: no trimming, empty values kept and joined verbatim.
    assert build_headers(["X-A", "  spaced  ", "x-a", ""]) == {"x-a": "  spaced  , "}
    assert build_headers(["Host", "", "host", "h"]) == {"host": ""}


def test_max_count_drops_pairs_past_the_limit() -> None:
    # DESIGN §11: headers past maxHeadersCount are dropped silently; 0 = unlimited.
    raw = ["a", "1", "b", "2", "c", "3"]
    assert build_headers(raw, max_count=2) == {"a": "1", "b": "2"}
    assert build_headers(raw, max_count=0) == {"a": "1", "b": "2", "c": "3"}
    assert build_headers(raw, max_count=10) == {"a": "1", "b": "2", "c": "3"}
    assert build_headers_distinct(raw, max_count=1) == {"a": ["1"]}


def test_headers_distinct_never_joins() -> None:
    # R1-005: every value a list of str, even single ones; keys lowercased.
    raw = ["User-Agent", "curl/7.22.0", "Host", "127.0.0.1:8000", "ACCEPT", "*/*"]
    assert build_headers_distinct(raw) == {
        "user-agent": ["curl/7.22.0"],
        "host": ["127.0.0.1:8000"],
        "accept": ["*/*"],
    }
    assert build_headers_distinct(SEED_RAW)["content-length"] == ["123456", "123"]


# --- validation -----------------------------------------------------------------------


def test_token_and_header_char_checks() -> None:
    assert check_is_http_token("X-Foo_Bar.baz!#$%&'*+^`|~09")
    for bad in ["", "a b", "a:b", "a\r", "é", "a(b)", 'a"']:
        assert not check_is_http_token(bad)
    assert not check_invalid_header_char("text/plain; q=\t1 \x80\xff~")
    for bad in ["a\rb", "a\nb", "\x00", "\x7f", "\x1f", "ʊ", "🎵"]:
        assert check_invalid_header_char(bad)


def test_validate_header_name_empty() -> None:
    # H1-240: '' → TypeError ERR_INVALID_HTTP_TOKEN, upstream label 'Header name'.
    with pytest.raises(InvalidHttpTokenError) as info:
        validate_header_name("")
    assert isinstance(info.value, TypeError)
    assert info.value.code == "ERR_INVALID_HTTP_TOKEN"
    assert str(info.value) == 'Header name must be a valid HTTP token [""]'


@pytest.mark.parametrize("name", ["a b", "x:y", "ünï", "a\r\nb"])
def test_validate_header_name_non_token(name: str) -> None:
    # H1-240, R1-012
    with pytest.raises(InvalidHttpTokenError, match="must be a valid HTTP token"):
        validate_header_name(name)


def test_validate_header_name_non_str_and_label() -> None:
    # H1-240: non-strings are rejected; label replaces 'Header name' (R1-012).
    with pytest.raises(InvalidHttpTokenError):
        validate_header_name(42)
    with pytest.raises(InvalidHttpTokenError) as info:
        validate_header_name("a b", "Trailer name")
    assert str(info.value) == 'Trailer name must be a valid HTTP token ["a b"]'
    validate_header_name("X-My-Header")


def test_validate_header_value_undefined() -> None:
    # H1-241: None (undefined) → ERR_HTTP_INVALID_HEADER_VALUE.
    with pytest.raises(InvalidHeaderValueError) as info:
        validate_header_value("x-my-header", None)
    assert isinstance(info.value, TypeError)
    assert info.value.code == "ERR_HTTP_INVALID_HEADER_VALUE"
    assert str(info.value) == 'Invalid value "undefined" for header "x-my-header"'


def test_validate_header_value_invalid_char() -> None:
    # H1-241, R1-011, R1-123: characters outside latin-1 → ERR_INVALID_CHAR.
    with pytest.raises(InvalidCharError) as info:
        validate_header_value("x-my-header", "o\u028am\u026a\u0261\u0259")  # the seed's IPA 'omega'
    assert isinstance(info.value, TypeError)
    assert info.value.code == "ERR_INVALID_CHAR"
    assert str(info.value) == 'Invalid character in header content ["x-my-header"]'


def test_validate_header_value_lists_and_numbers() -> None:
    # H1-241: lists are checked element by element, numbers as their string form.
    validate_header_value("x", ["a", "b\t c", 1, 2.5])
    validate_header_value("content-length", 123)
    validate_header_value("x", "caf\xe9")  # latin-1 is fine
    with pytest.raises(InvalidCharError):
        validate_header_value("set-cookie", ["ok", "bad\r\nInjected: 1"])


# --- outgoing store -------------------------------------------------------------------


def test_outgoing_lookup_is_case_insensitive_and_raw_names_keep_casing() -> None:
    # R1-009
    h = OutgoingHeaders()
    h.set("Foo", "bar")
    h.set("Set-Cookie", ["foo=bar", "bar=baz"])
    assert h.get("foo") == "bar" and h.get("FOO") == "bar"
    assert h.has("set-cookie") and "SET-COOKIE" in h and "nope" not in h
    assert h.names() == ["foo", "set-cookie"]
    assert h.raw_names() == ["Foo", "Set-Cookie"]
    assert len(h) == 2
    h.remove("FOO")
    assert h.get("foo") is None and not h.has("foo")
    h.remove("absent")
    assert h.raw_names() == ["Set-Cookie"]


def test_outgoing_set_replaces_and_stores_values_unmodified() -> None:
    # R1-010: set replaces, keeps position; non-strings stored as-is.
    h = OutgoingHeaders()
    h.set("content-length", 42)
    h.set("X-A", "1")
    h.set("Content-Length", 7)
    assert h.get("content-length") == 7
    assert h.raw_names() == ["Content-Length", "X-A"]
    assert list(h.items_raw()) == [("Content-Length", 7), ("X-A", "1")]
    assert "Content-Length" in repr(h)


def test_outgoing_set_validates_name_then_value() -> None:
    # R1-012
    h = OutgoingHeaders()
    with pytest.raises(InvalidHttpTokenError):
        h.set("bad name", None)
    with pytest.raises(InvalidHeaderValueError):
        h.set("x", None)
    with pytest.raises(InvalidCharError):
        h.set("x", "a\nb")
    assert len(h) == 0


def test_outgoing_to_dict_shares_lists() -> None:
    # R1-016: shallow copy, list values are the stored objects.
    h = OutgoingHeaders()
    cookies = ["a=1"]
    h.set("Set-Cookie", cookies)
    copy = h.to_dict()
    copy["set-cookie"].append("b=2")
    copy["new"] = "x"
    assert h.get("set-cookie") == ["a=1", "b=2"]
    assert h.get("set-cookie") is cookies
    assert not h.has("new")


def test_outgoing_append() -> None:
    # R1-017: no previous value ≡ set; else becomes a list; a list appends each element.
    h = OutgoingHeaders()
    h.append("X-Multi", "a")
    assert h.get("x-multi") == "a"
    h.append("x-multi", "b")
    assert h.get("x-multi") == ["a", "b"]
    h.append("X-MULTI", ["c", "d"])
    assert h.get("x-multi") == ["a", "b", "c", "d"]
    assert h.raw_names() == ["X-Multi"]
    with pytest.raises(InvalidCharError):
        h.append("x-multi", "\x00")


# --- wire rendering -------------------------------------------------------------------


def test_header_value_to_str_like_js_string() -> None:
    # R1-010: non-strings are stringified on the wire as JavaScript's String() does.
    assert header_value_to_str("x") == "x"
    assert header_value_to_str(123) == "123"
    assert header_value_to_str(1.0) == "1"
    assert header_value_to_str(1.5) == "1.5"
    assert header_value_to_str(True) == "true"
    assert header_value_to_str(False) == "false"
    assert header_value_to_str(1e21) == "1e+21"
    assert header_value_to_str(1e-7) == "1e-7"
    assert header_value_to_str(0.000001) == "0.000001"
    assert header_value_to_str(-0.0) == "0"
    assert header_value_to_str(float("nan")) == "NaN"
    assert header_value_to_str(float("-inf")) == "-Infinity"


def test_expand_header_value_lines() -> None:
    # R1-010, R1-017, R1-018: processHeader's rule.
    assert expand_header_value("set-cookie", ["a=1", "b=2"], None) == ["a=1", "b=2"]
    assert expand_header_value("cookie", ["a=1", "b=2"], None) == ["a=1; b=2"]
    assert expand_header_value("cookie", ["a=1"], None) == ["a=1"]
    assert expand_header_value("x-u", ["a", 1], frozenset({"x-u"})) == ["a; 1"]
    assert expand_header_value("x-u", ["a", 1], frozenset({"x-other"})) == ["a", "1"]
    assert expand_header_value("content-length", 5, None) == ["5"]
    assert expand_header_value("x", [], None) == []


def test_parse_unique_headers_option() -> None:
    # R1-018: names lowercased; not a list → None.
    assert parse_unique_headers_option(None) is None
    assert parse_unique_headers_option("X-Foo") is None
    assert parse_unique_headers_option(["X-Foo", "x-bar"]) == frozenset({"x-foo", "x-bar"})


# --- constants and parity with a live Node ----------------------------------------------

NODE_SCRIPT = r"""
const { IncomingMessage, METHODS, STATUS_CODES } = require('http');
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const q = JSON.parse(line);
  let out;
  if (q.op === 'constants') {
    out = { methods: METHODS, statusCodes: STATUS_CODES };
  } else if (q.op === 'string') {
    out = q.values.map((v) => String(v));
  } else {
    const m = new IncomingMessage(null);
    if (q.join) m.joinDuplicateHeaders = true;
    m._addHeaderLines(q.raw, q.raw.length);
    out = { headers: m.headers, distinct: m.headersDistinct };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


class NodePeer:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def ask(self, query: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(query) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "node exited"
        return json.loads(line)


@pytest.fixture(scope="module")
def node_peer() -> Iterator[NodePeer]:
    if NODE is None:
        pytest.skip("node is not installed")
    proc = subprocess.Popen(
        [NODE, "-e", NODE_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        yield NodePeer(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_constants_basics() -> None:
    # H1-189, H1-190, R1-121
    assert STATUS_CODES[404] == "Not Found"
    assert all(isinstance(code, int) for code in STATUS_CODES)
    assert METHODS == sorted(METHODS)
    assert {"GET", "HEAD", "CONNECT", "ACL", "M-SEARCH", "QUERY"} <= set(METHODS)
    assert MAX_HEADER_SIZE == 16384


@pytest.mark.interop
@needs_node
def test_constants_equal_node_v20() -> None:
    # H1-189, H1-190: exactly Node's http.METHODS and http.STATUS_CODES.
    assert NODE is not None
    script = (
        "const h = require('http');"
        "console.log(JSON.stringify([h.METHODS, h.STATUS_CODES, h.maxHeaderSize]))"
    )
    out = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    methods, codes, max_header_size = json.loads(out)
    assert methods == METHODS
    assert {int(k): v for k, v in codes.items()} == STATUS_CODES
    assert list(STATUS_CODES) == [int(k) for k in codes]
    assert max_header_size == MAX_HEADER_SIZE


@pytest.mark.interop
def test_node_peer_agrees_on_seed_example(node_peer: NodePeer) -> None:
    # R1-008: Node itself keeps the first content-length.
    answer = node_peer.ask({"op": "headers", "raw": SEED_RAW, "join": False})
    assert answer["headers"]["content-length"] == "123456"
    assert answer["headers"] == build_headers(SEED_RAW)


NAME_POOL = [
    *THE_18,
    "set-cookie",
    "cookie",
    "accept",
    "date",
    "connection",
    "x-forwarded-for",
    "transfer-encoding",
    "x-custom",
    "foo",
    "constructor",
]


@st.composite
def raw_header_lists(draw: st.DrawFn) -> list[str]:
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(NAME_POOL),
                st.lists(st.booleans(), min_size=32, max_size=32),
                st.text(
                    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF).filter(
                        lambda c: c != "\x7f"
                    ),
                    max_size=8,
                ),
            ),
            max_size=12,
        )
    )
    raw: list[str] = []
    for name, upper, value in pairs:
        raw.append("".join(c.upper() if u else c for c, u in zip(name, upper, strict=False)))
        raw.append(value)
    return raw


@pytest.mark.interop
@settings(max_examples=150, deadline=None)
@given(raw=raw_header_lists(), join=st.booleans())
def test_build_headers_parity_with_node(node_peer: NodePeer, raw: list[str], join: bool) -> None:
    # R1-001…R1-005: same merge as Node's _addHeaderLine / _addHeaderLineDistinct.
    answer = node_peer.ask({"op": "headers", "raw": raw, "join": join})
    assert build_headers(raw, join_duplicate_headers=join) == answer["headers"]
    assert build_headers_distinct(raw) == answer["distinct"]


@pytest.mark.interop
@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(min_value=-(2**53), max_value=2**53),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_number_rendering_parity_with_node(node_peer: NodePeer, values: list[float]) -> None:
    # R1-010: numbers go on the wire as JavaScript's String(n).
    answer = node_peer.ask({"op": "string", "values": values})
    assert [header_value_to_str(v) for v in values] == answer
