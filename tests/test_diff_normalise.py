"""Body decoding, content types, JSON path patterns, fingerprints and representations."""

from __future__ import annotations

import math

import pytest

from pytest_aotparity.diff.normalise import (
    PathMatcher,
    Token,
    canonical_copy,
    content_types_differ,
    decode_body,
    fingerprint,
    format_path,
    is_guid,
    is_id_key,
    json_loads,
    parse_content_type,
    parse_path_pattern,
    same_representation,
    sorted_fingerprint,
    text_excerpt,
)
from pytest_aotparity.exchange import RecordedResponse


def response(body: bytes, content_type: str | None) -> RecordedResponse:
    headers = (("Content-Type", content_type),) if content_type is not None else ()
    return RecordedResponse("jit", 200, headers, body)


# -- content types ------------------------------------------------------------------------


def test_parse_content_type() -> None:
    assert parse_content_type('Application/JSON; Charset="UTF8"; v=2') == (
        "application/json",
        {"charset": "utf-8", "v": "2"},
    )
    assert parse_content_type(None) == ("", {})
    assert parse_content_type("text/plain;;bad") == ("text/plain", {})


def test_content_types_differ() -> None:
    assert not content_types_differ("application/json", "application/json; charset=utf-8")
    assert not content_types_differ("text/plain; charset=latin1", "text/plain;charset=ISO-8859-1")
    assert content_types_differ("text/plain; charset=utf-8", "text/plain; charset=utf-16")
    assert content_types_differ("text/plain", "text/html")
    assert content_types_differ("text/plain", None)
    assert not content_types_differ(None, None)
    assert content_types_differ("application/json", "application/json; charset=utf-8", strict=True)
    assert not content_types_differ(
        "application/json;charset=utf-8", "application/json; charset=UTF-8", strict=True
    )


# -- bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b"", "application/json", "empty"),
        (b'{"a": 1}', "application/json", "json"),
        (b'{"title": "x"}', "application/problem+json", "json"),
        (b"[1]", "application/vnd.players.v2+json", "json"),
        (b'{"a": 1}', "text/plain", "json"),  # by parse
        (b'{"a": 1}', None, "json"),
        (b"Lionel Messi (RW)", "text/plain; charset=utf-8", "text"),
        (b"<p>x</p>", "text/html", "text"),
        (b"{not json", "application/json", "text"),  # declared JSON, but not JSON
        (b"\x89PNG\r\n\x1a\n\x00", "image/png", "binary"),
        (b"abc", "application/octet-stream", "binary"),
        (b"\xff\xfe\x00\x00", None, "binary"),
        (b"caf\xe9", "text/plain; charset=iso-8859-1", "text"),
    ],
)
def test_decode_body(body: bytes, content_type: str | None, kind: str) -> None:
    assert decode_body(response(body, content_type)).kind == kind


def test_decoded_values() -> None:
    assert decode_body(response(b'{"a": [1, null]}', "application/json")).value == {"a": [1, None]}
    assert decode_body(response(b"caf\xe9", "text/plain; charset=latin-1")).value == "café"
    binary = decode_body(response(b"\x00\x01", "image/png")).describe()
    assert binary == {
        "length": 2,
        "sha256": "b413f47d13ee2fe6c845b2ee141af81de858df4ec549a58b7970bb96645bc8d2",
    }


def test_json_loads_falls_back_for_what_orjson_refuses() -> None:
    assert math.isnan(json_loads(b'{"a": NaN}')["a"])
    with pytest.raises(ValueError, match="line 1"):
        json_loads(b"{")


def test_fingerprints_are_type_exact() -> None:
    assert fingerprint({"a": True}) != fingerprint({"a": 1})
    assert fingerprint([1]) != fingerprint([1.0])
    assert fingerprint({"a": 1, "b": 2}) != fingerprint({"b": 2, "a": 1})
    assert sorted_fingerprint({"a": 1, "b": 2}) == sorted_fingerprint({"b": 2, "a": 1})
    assert fingerprint(2**70) == b"1180591620717411303424"  # beyond orjson: json fallback


def test_text_excerpt() -> None:
    assert text_excerpt("short", "other") == ("short", "other")
    jit, aot = text_excerpt("x" * 3000 + "A" + "y" * 3000, "x" * 3000 + "B" + "y" * 3000, 100)
    assert jit.startswith("…")
    assert jit.endswith("…")
    assert "A" in jit
    assert "B" in aot
    assert len(jit) == 102


# -- paths --------------------------------------------------------------------------------


def test_format_path() -> None:
    assert format_path(("players", 3, "fullName")) == "$.players[3].fullName"
    assert format_path(("players", 3, "fullName"), generic=True) == "$.players[*].fullName"
    assert format_path(()) == "$"
    assert format_path(("odd key", "$type", "a-b", "3x")) == "$['odd key'].$type.a-b['3x']"


def test_parse_path_pattern() -> None:
    assert parse_path_pattern("$") == ()
    assert parse_path_pattern("$.items[*].id") == (
        Token("key", "items"),
        Token("any"),
        Token("key", "id"),
    )
    assert parse_path_pattern("$..requestId") == (Token("descend"), Token("key", "requestId"))
    assert parse_path_pattern("$['odd key'][2].*") == (
        Token("key", "odd key"),
        Token("index", 2),
        Token("any"),
    )
    assert parse_path_pattern('$["a.b"]..[0]') == (
        Token("key", "a.b"),
        Token("descend"),
        Token("index", 0),
    )


@pytest.mark.parametrize("bad", ["servedAt", ".servedAt", "$.a[", "$.a[b]", "$ .a", "$.a b"])
def test_bad_patterns(bad: str) -> None:
    with pytest.raises(ValueError, match="not a JSON path"):
        parse_path_pattern(bad)


@pytest.mark.parametrize(
    ("pattern", "path", "ignored"),
    [
        ("$.id", ("id",), True),
        ("$.id", ("x", "id"), False),
        ("$.id", ("id", "deeper"), True),  # a subtree
        ("$[*].id", (3, "id"), True),
        ("$[*].id", ("id",), False),
        ("$..requestId", ("requestId",), True),
        ("$..requestId", ("a", 2, "b", "requestId"), True),
        ("$..requestId", ("a", "requestIds"), False),
        ("$.items[*].updatedAt", ("items", 0, "updatedAt"), True),
        ("$.items[*].updatedAt", ("items", "k", "updatedAt"), True),  # [*]: any child
        ("$.items[*].updatedAt", ("items", "updatedAt"), False),
        ("$.items[*].updatedAt", ("other", 0, "updatedAt"), False),
        ("$.items[1]", ("items", 1, "x"), True),
        ("$.items[1]", ("items", 2, "x"), False),
        ("$.a.*", ("a", "b"), True),
        ("$.a.*", ("a",), False),
        ("$..*", ("anything",), True),
        ("$", ("anything",), True),
        ("$['odd key']", ("odd key",), True),
        ("$.a..b", ("a", "x", "y", "b"), True),
        ("$.a..b", ("b",), False),
    ],
)
def test_matcher(pattern: str, path: tuple[str | int, ...], ignored: bool) -> None:
    assert PathMatcher([pattern]).ignores(path) is ignored


def test_matcher_states_and_memo() -> None:
    matcher = PathMatcher(["$.a[*].b", "$..c"])
    state = matcher.step(matcher.initial, "a")
    assert state
    assert not matcher.accepts(state)
    first = matcher.step(state, 0)
    assert matcher.step(state, 99) is first  # indices share one memo entry
    assert matcher.accepts(matcher.step(first, "b"))
    assert matcher.accepts(matcher.step(first, "c"))
    empty = PathMatcher([])
    assert not empty
    assert not empty.initial
    assert not empty.ignores(("a",))


def test_canonical_copy_prunes_and_substitutes() -> None:
    matcher = PathMatcher(["$[*].updatedAt", "$..etag"])
    value = [{"id": "j1", "updatedAt": "t", "x": {"etag": "e", "y": 1}}, "j1"]
    assert canonical_copy(value, matcher, matcher.initial, {"a1": "j1"}) == [
        {"id": "j1", "x": {"y": 1}},
        "j1",
    ]
    assert canonical_copy(["a1", {"k": "a1"}], matcher, frozenset(), {"a1": "j1"}) == [
        "j1",
        {"k": "j1"},
    ]
    assert canonical_copy(value, matcher, frozenset()) is value


# -- ids and representations --------------------------------------------------------------


def test_id_keys_and_guids() -> None:
    assert all(map(is_id_key, ["id", "Id", "ID", "playerId", "player_id", "PlayerID", "x-id"]))
    assert not any(map(is_id_key, ["idea", "valid", "paid", "", 3]))
    assert is_guid("0d9f2c44-5b8e-4d7e-9a36-1f6c2b7d8e10")
    assert is_guid("{0D9F2C44-5B8E-4D7E-9A36-1F6C2B7D8E10}")
    assert is_guid("0d9f2c445b8e4d7e9a361f6c2b7d8e10")
    assert not is_guid("0d9f2c44-5b8e-4d7e-9a36")
    assert not is_guid(12)


@pytest.mark.parametrize(
    ("jit", "aot", "same"),
    [
        ("2000-01-01", "2000-01-01T00:00:00", True),
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00+00:00", True),
        ("2000-01-01", "2000-01-02", False),
        ("2000-01-01T10:00:00Z", "2000-01-01T11:00:00Z", False),
        ("Goalkeeper", "goalkeeper", True),
        ("RightWinger", "Right Winger", True),
        ("Right-Back", "right_back", True),
        ("Goalkeeper", "Defender", False),
        ("1.50", "1.5", True),
        ("1.50", "1.6", False),
        ("10:00", "10:00:00", True),
        ("same", "same", False),
        ("", "", False),
        ("---", "___", False),
        (1, "1", False),
    ],
)
def test_same_representation(jit: object, aot: object, same: bool) -> None:
    assert same_representation(jit, aot) is same
