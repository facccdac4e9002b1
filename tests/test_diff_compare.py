"""The diff engine's comparison: every kind of difference, ignore rules, order, id mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_aotparity.diff import compare as compare_module
from pytest_aotparity.diff.compare import CompareRules, Comparison, compare, learn_ids
from pytest_aotparity.diff.model import Category, DiffKind, Divergence
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse

JSON = (("Content-Type", "application/json; charset=utf-8"),)


def answer(
    build: str,
    body: Any = None,
    *,
    status: int | None = 200,
    headers: tuple[tuple[str, str], ...] = JSON,
    raw: bytes | None = None,
    error: str | None = None,
) -> RecordedResponse:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return RecordedResponse(build, status, headers, data, error=error)  # type: ignore[arg-type]


def pair(jit: Any, aot: Any, **kwargs: Any) -> Exchange:
    return Exchange(
        request=RecordedRequest("GET", "/players"),
        jit=answer("jit", jit, **kwargs),
        aot=answer("aot", aot, **kwargs),
    )


def run(
    jit: Any,
    aot: Any,
    rules: CompareRules | None = None,
    id_map: dict[str, str] | None = None,
) -> Comparison:
    return compare(pair(jit, aot), rules or CompareRules(), id_map=id_map)


def found(comparison: Comparison) -> list[tuple[str, DiffKind]]:
    return [(d.path, d.kind) for d in comparison.differences]


# -- kinds --------------------------------------------------------------------------------


def test_equal_bodies_have_no_difference() -> None:
    comparison = run({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
    assert comparison.differences == []
    assert not comparison.diverged
    assert comparison.category is None


def test_status_difference_is_the_only_difference() -> None:
    exchange = Exchange(
        RecordedRequest("POST", "/players"),
        answer("jit", {"title": "bad"}, status=400),
        answer("aot", {"id": "x"}, status=201),
    )
    comparison = compare(exchange, CompareRules())
    assert found(comparison) == [("status", DiffKind.STATUS)]
    assert (comparison.differences[0].jit, comparison.differences[0].aot) == (400, 201)


def test_missing_and_extra_fields_with_nested_paths() -> None:
    jit = {"players": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4, "fullName": "Lionel Messi"}]}
    aot = {"players": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4, "nickname": "Leo"}]}
    comparison = run(jit, aot)
    assert found(comparison) == [
        ("$.players[3].fullName", DiffKind.MISSING),
        ("$.players[3].nickname", DiffKind.EXTRA),
    ]
    missing, extra = comparison.differences
    assert (missing.jit, missing.aot) == ("Lionel Messi", None)
    assert (extra.jit, extra.aot) == (None, "Leo")


@pytest.mark.parametrize(
    ("jit", "aot"),
    [("Inter Miami", None), (None, "Inter Miami"), ({"a": 1}, None), (None, [1])],
)
def test_null_vs_value_either_side(jit: Any, aot: Any) -> None:
    comparison = run({"team": jit}, {"team": aot})
    assert found(comparison) == [("$.team", DiffKind.NULL)]
    assert (comparison.differences[0].jit, comparison.differences[0].aot) == (jit, aot)


@pytest.mark.parametrize(
    ("jit", "aot"),
    [
        ("Goalkeeper", 0),
        ("1", 1),
        (True, 1),
        (False, 0),
        (1, True),
        ({"a": 1}, [1]),
        ("x", ["x"]),
        (True, "true"),
    ],
)
def test_type_changes(jit: Any, aot: Any) -> None:
    assert found(run({"v": jit}, {"v": aot})) == [("$.v", DiffKind.TYPE)]


def test_boolean_vs_number_is_found_even_where_python_says_equal() -> None:
    # True == 1 in Python: the fast path and the walker must not be fooled, also deep
    # inside array items that compare equal with ==.
    jit = {"players": [{"n": i, "starting11": True} for i in range(50)]}
    aot = {"players": [{"n": i, "starting11": True} for i in range(50)]}
    aot["players"][17]["starting11"] = 1
    assert found(run(jit, aot)) == [("$.players[17].starting11", DiffKind.TYPE)]


def test_int_and_float_that_are_equal_are_equal() -> None:
    assert run({"v": 1, "w": [2.0]}, {"v": 1.0, "w": [2]}).differences == []
    assert found(run({"v": 1}, {"v": 1.5})) == [("$.v", DiffKind.VALUE)]


def test_value_change() -> None:
    comparison = run({"league": "La Liga", "n": 7}, {"league": "Serie A", "n": 7})
    assert found(comparison) == [("$.league", DiffKind.VALUE)]
    assert (comparison.differences[0].jit, comparison.differences[0].aot) == (
        "La Liga",
        "Serie A",
    )


def test_top_level_scalars_and_arrays() -> None:
    assert found(run(1, 2)) == [("$", DiffKind.VALUE)]
    assert found(run([1, 2], [1, 3])) == [("$[1]", DiffKind.VALUE)]
    assert found(run("a", None)) == [("$", DiffKind.BODY)]  # JSON vs an empty body


def test_odd_keys_are_quoted_in_paths() -> None:
    comparison = run({"odd key": 1, "it's": 1, "$type": 1}, {"odd key": 2, "it's": 2, "$type": 2})
    assert [d.path for d in comparison.differences] == [
        "$['odd key']",
        '$["it\'s"]',
        "$.$type",
    ]


def test_text_bodies_compare_by_value() -> None:
    text = (("Content-Type", "text/plain"),)
    same = compare(
        Exchange(
            RecordedRequest("GET", "/s"),
            answer("jit", raw=b"Lionel Messi (RW)", headers=text),
            answer("aot", raw=b"Lionel Messi (RW)", headers=text),
        ),
        CompareRules(),
    )
    assert same.differences == []
    other = compare(
        Exchange(
            RecordedRequest("GET", "/s"),
            answer("jit", raw=b"Lionel Messi (RW)", headers=text),
            answer("aot", raw=b"Lionel Messi (LW)", headers=text),
        ),
        CompareRules(),
    )
    assert found(other) == [("$", DiffKind.BODY)]
    assert (other.differences[0].jit, other.differences[0].aot) == (
        "Lionel Messi (RW)",
        "Lionel Messi (LW)",
    )


def test_long_text_bodies_show_the_region_that_differs() -> None:
    text = (("Content-Type", "text/plain"),)
    jit_text = "a" * 5000 + "JIT" + "b" * 5000
    aot_text = "a" * 5000 + "AOT" + "b" * 5000
    comparison = compare(
        Exchange(
            RecordedRequest("GET", "/s"),
            answer("jit", raw=jit_text.encode(), headers=text),
            answer("aot", raw=aot_text.encode(), headers=text),
        ),
        CompareRules(),
    )
    (difference,) = comparison.differences
    assert "JIT" in difference.jit
    assert "AOT" in difference.aot
    assert len(difference.jit) < 1100
    assert difference.jit.startswith("…")


def test_binary_bodies_compare_by_length_and_digest() -> None:
    png = (("Content-Type", "image/png"),)
    comparison = compare(
        Exchange(
            RecordedRequest("GET", "/photo"),
            answer("jit", raw=b"\x89PNG\x00\x01", headers=png),
            answer("aot", raw=b"\x89PNG\x00\x02\x03", headers=png),
        ),
        CompareRules(),
    )
    (difference,) = comparison.differences
    assert (difference.path, difference.kind) == ("$", DiffKind.BODY)
    assert difference.jit["length"] == 6
    assert difference.aot["length"] == 7
    assert difference.jit["sha256"] != difference.aot["sha256"]
    assert len(difference.jit["sha256"]) == 64


def test_json_vs_html_error_page_is_a_body_difference() -> None:
    comparison = compare(
        Exchange(
            RecordedRequest("GET", "/p"),
            answer("jit", {"a": 1}),
            answer("aot", raw=b"<html>oops</html>", headers=(("Content-Type", "text/html"),)),
        ),
        CompareRules(),
    )
    assert found(comparison) == [
        ("header:content-type", DiffKind.HEADER),
        ("$", DiffKind.BODY),
    ]
    assert comparison.differences[1].aot == "<html>oops</html>"


def test_json_detected_by_parse_without_json_content_type() -> None:
    plain = (("Content-Type", "text/plain"),)
    comparison = compare(
        Exchange(
            RecordedRequest("GET", "/p"),
            answer("jit", raw=b'{"a": 1, "b": 2}', headers=plain),
            answer("aot", raw=b'{"b": 2, "a": 3}', headers=plain),
        ),
        CompareRules(),
    )
    assert found(comparison) == [("$.a", DiffKind.VALUE)]


@pytest.mark.parametrize("media", ["application/problem+json", "application/vnd.players+json"])
def test_json_media_types(media: str) -> None:
    headers = (("Content-Type", media),)
    comparison = compare(
        Exchange(
            RecordedRequest("GET", "/p"),
            answer("jit", raw=b'{"title": "x"}', headers=headers),
            answer("aot", raw=b'{"title": "x", "detail": null}', headers=headers),
        ),
        CompareRules(),
    )
    assert found(comparison) == [("$.detail", DiffKind.EXTRA)]


def test_connection_error_on_the_aot_side() -> None:
    exchange = Exchange(
        RecordedRequest("GET", "/players/10/stats"),
        answer("jit", {"goals": 20}),
        answer("aot", status=None, error="ConnectError: connection refused"),
    )
    comparison = compare(exchange, CompareRules())
    assert found(comparison) == [("status", DiffKind.ERROR)]
    assert comparison.differences[0].jit == 200
    assert comparison.differences[0].aot == "ConnectError: connection refused"
    assert comparison.category is Category.AOT_FAILURE


def test_connection_error_on_the_jit_side() -> None:
    exchange = Exchange(
        RecordedRequest("GET", "/p"),
        answer("jit", status=None, error="ReadTimeout"),
        answer("aot", {"a": 1}),
    )
    comparison = compare(exchange, CompareRules())
    assert found(comparison) == [("status", DiffKind.ERROR)]
    assert (comparison.differences[0].jit, comparison.differences[0].aot) == ("ReadTimeout", 200)
    assert comparison.category is Category.STATUS_DIFFERS


def test_no_answer_from_either_build_is_not_a_divergence() -> None:
    exchange = Exchange(
        RecordedRequest("GET", "/p"),
        answer("jit", status=None, error="ReadTimeout"),
        answer("aot", status=None, error="ConnectError"),
    )
    assert not compare(exchange, CompareRules()).diverged


# -- headers ------------------------------------------------------------------------------


def headers_pair(jit: tuple[tuple[str, str], ...], aot: tuple[tuple[str, str], ...]) -> Exchange:
    return Exchange(
        RecordedRequest("GET", "/p"),
        answer("jit", {"a": 1}, headers=jit),
        answer("aot", {"a": 1}, headers=aot),
    )


@pytest.mark.parametrize(
    ("jit", "aot", "differs"),
    [
        ("application/json; charset=utf-8", "application/json", False),
        ("application/json; charset=utf-8", "Application/JSON; charset=UTF-8", False),
        ("application/json; charset=utf-8", 'application/json;charset="utf8"', False),
        ("application/json; charset=utf-8", "application/json; charset=iso-8859-1", True),
        ("application/json", "text/plain", True),
        ("application/json", "application/problem+json", True),
    ],
)
def test_content_type_compares_media_type_and_charset(jit: str, aot: str, differs: bool) -> None:
    comparison = compare(
        headers_pair((("Content-Type", jit),), (("content-type", aot),)), CompareRules()
    )
    assert found(comparison) == ([("header:content-type", DiffKind.HEADER)] if differs else [])


def test_strict_content_type_counts_a_charset_on_one_side() -> None:
    exchange = headers_pair(
        (("Content-Type", "application/json; charset=utf-8"),),
        (("Content-Type", "application/json"),),
    )
    assert not compare(exchange, CompareRules()).diverged
    strict = compare(exchange, CompareRules(strict_content_type=True))
    assert found(strict) == [("header:content-type", DiffKind.HEADER)]
    assert (strict.differences[0].jit, strict.differences[0].aot) == (
        "application/json; charset=utf-8",
        "application/json",
    )


def test_only_configured_headers_are_compared() -> None:
    jit = (*JSON, ("X-Api-Version", "1"), ("Date", "Mon"), ("Cache-Control", "no-cache"))
    aot = (*JSON, ("x-api-version", "2"), ("Date", "Tue"))
    assert not compare(headers_pair(jit, aot), CompareRules()).diverged
    rules = CompareRules(headers=("content-type", "X-API-Version", "cache-control"))
    comparison = compare(headers_pair(jit, aot), rules)
    assert found(comparison) == [
        ("header:x-api-version", DiffKind.HEADER),
        ("header:cache-control", DiffKind.HEADER),
    ]
    assert (comparison.differences[1].jit, comparison.differences[1].aot) == ("no-cache", None)
    ignoring = rules.merged(ignore_headers=("Cache-Control",))
    assert found(compare(headers_pair(jit, aot), ignoring)) == [
        ("header:x-api-version", DiffKind.HEADER)
    ]


def test_ignored_content_type_header() -> None:
    exchange = headers_pair((("Content-Type", "text/plain"),), (("Content-Type", "text/html"),))
    assert found(compare(exchange, CompareRules())) == [("header:content-type", DiffKind.HEADER)]
    assert not compare(exchange, CompareRules(ignore_headers=("content-type",))).diverged


# -- ignore rules -------------------------------------------------------------------------


def test_ignore_top_level_field() -> None:
    rules = CompareRules(ignore_paths=("$.servedAt",))
    comparison = run({"servedAt": "a", "n": 1}, {"servedAt": "b", "n": 2}, rules)
    assert found(comparison) == [("$.n", DiffKind.VALUE)]


def test_ignore_in_every_array_item() -> None:
    jit = [{"id": "a", "n": 1}, {"id": "b", "n": 2}]
    aot = [{"id": "x", "n": 1}, {"id": "y", "n": 3}]
    comparison = run(jit, aot, CompareRules(ignore_paths=("$[*].id",)))
    assert found(comparison) == [("$[1].n", DiffKind.VALUE)]


def test_ignore_at_any_depth() -> None:
    jit = {"requestId": "1", "data": {"requestId": "2", "items": [{"requestId": "3", "v": 1}]}}
    aot = {"requestId": "9", "data": {"requestId": "8", "items": [{"requestId": "7", "v": 1}]}}
    assert len(run(jit, aot).differences) == 3
    assert not run(jit, aot, CompareRules(ignore_paths=("$..requestId",))).diverged


def test_ignore_nested_wildcard_and_missing_fields_under_it() -> None:
    jit = {"items": [{"updatedAt": "t1", "v": 1}, {"updatedAt": "t2", "v": 2}], "updatedAt": "x"}
    aot = {"items": [{"updatedAt": "t3", "v": 1}, {"v": 2}], "updatedAt": "y"}
    comparison = run(jit, aot, CompareRules(ignore_paths=("$.items[*].updatedAt",)))
    assert found(comparison) == [("$.updatedAt", DiffKind.VALUE)]


def test_ignore_a_whole_subtree_and_specific_index() -> None:
    jit = {"meta": {"a": 1, "b": [1, 2]}, "items": [1, 2, 3]}
    aot = {"meta": {"a": 2, "c": None}, "items": [1, 9, 4]}
    comparison = run(jit, aot, CompareRules(ignore_paths=("$.meta", "$.items[1]")))
    assert found(comparison) == [("$.items[2]", DiffKind.VALUE)]


def test_ignore_any_key_and_quoted_keys() -> None:
    jit = {"links": {"self": "/a", "next": "/b"}, "odd key": 1, "x": 1}
    aot = {"links": {"self": "/c", "next": "/d"}, "odd key": 2, "x": 1}
    rules = CompareRules(ignore_paths=("$.links.*", "$['odd key']"))
    assert not run(jit, aot, rules).diverged


def test_ignore_dollar_ignores_the_body_but_not_status_or_headers() -> None:
    rules = CompareRules(ignore_paths=("$",))
    assert not run({"a": 1}, {"a": 2}, rules).diverged
    exchange = Exchange(
        RecordedRequest("GET", "/p"),
        answer("jit", raw=b"one", headers=(("Content-Type", "text/plain"),)),
        answer("aot", raw=b"two", headers=(("Content-Type", "text/html"),)),
    )
    assert found(compare(exchange, rules)) == [("header:content-type", DiffKind.HEADER)]


def test_bad_ignore_path_is_rejected() -> None:
    with pytest.raises(ValueError, match="start with"):
        CompareRules(ignore_paths=("servedAt",))
    with pytest.raises(ValueError, match="cannot read"):
        CompareRules(ignore_paths=("$.items[x]",))


def test_merged_rules_combine_ignores_and_override_order() -> None:
    base = CompareRules(ignore_paths=("$.a",), ignore_headers=("etag",), ignore_order=True)
    merged = base.merged(ignore_paths=("$.b", "$.a"), ignore_headers=("date",))
    assert merged.ignore_paths == ("$.a", "$.b")
    assert merged.ignore_headers == ("etag", "date")
    assert merged.ignore_order is True
    assert base.merged(ignore_order=False).ignore_order is False
    assert base.merged() == base
    assert not run({"a": 1, "b": 1}, {"a": 2, "b": 2}, merged).diverged


# -- array order --------------------------------------------------------------------------


def test_only_order_differs_gives_one_order_difference() -> None:
    comparison = run({"tags": ["a", "b", "c"]}, {"tags": ["c", "b", "a"]})
    assert found(comparison) == [("$.tags", DiffKind.ORDER)]
    assert (comparison.differences[0].jit, comparison.differences[0].aot) == (
        ["a", "b", "c"],
        ["c", "b", "a"],
    )


def test_order_of_a_long_array_of_objects_shows_the_first_out_of_place_items() -> None:
    players = [{"squadNumber": n, "name": f"p{n}"} for n in range(40)]
    comparison = run(players, list(reversed(players)))
    assert found(comparison) == [("$", DiffKind.ORDER)]
    assert comparison.differences[0].jit == {"squadNumber": 0, "name": "p0"}
    assert comparison.differences[0].aot == {"squadNumber": 39, "name": "p39"}


def test_order_and_a_value_change_is_not_just_order() -> None:
    comparison = run([1, 2, 3], [3, 2, 4])
    assert found(comparison) == [("$[0]", DiffKind.VALUE), ("$[2]", DiffKind.VALUE)]


def test_ignore_order_compares_arrays_as_multisets() -> None:
    rules = CompareRules(ignore_order=True)
    players = [{"squadNumber": n, "tags": ["a", "b"]} for n in range(10)]
    shuffled = [dict(p, tags=["b", "a"]) for p in reversed(players)]
    assert not run(players, shuffled, rules).diverged
    # Multisets: duplicates count.
    assert run([1, 1, 2], [1, 2, 2], rules).diverged


def test_ignore_order_pairs_changed_items_and_reports_inside_them() -> None:
    rules = CompareRules(ignore_order=True)
    jit = [
        {"squadNumber": 1, "team": "Aston Villa", "league": "Premier League"},
        {"squadNumber": 4, "team": "Tottenham", "league": "Premier League"},
        {"squadNumber": 7, "team": "Atletico Madrid", "league": "La Liga"},
    ]
    aot = [dict(jit[2]), dict(jit[0], team=None), dict(jit[1])]
    comparison = run(jit, aot, rules)
    assert found(comparison) == [("$[0].team", DiffKind.NULL)]


def test_ignore_order_reports_missing_and_extra_items() -> None:
    rules = CompareRules(ignore_order=True)
    jit = [{"n": 1, "name": "alpha"}, {"n": 2, "name": "beta"}]
    aot = [{"n": 2, "name": "beta"}, {"n": 1, "name": "alpha"}, {"n": 3, "name": "gamma"}]
    assert found(run(jit, aot, rules)) == [("$[2]", DiffKind.EXTRA)]
    assert found(run(aot, jit, rules)) == [("$[2]", DiffKind.MISSING)]


def test_ignore_order_with_ignored_fields_still_matches_items() -> None:
    rules = CompareRules(ignore_order=True, ignore_paths=("$[*].id",))
    jit = [{"id": "a", "n": 1}, {"id": "b", "n": 2}]
    aot = [{"id": "y", "n": 2}, {"id": "x", "n": 1}]
    assert not run(jit, aot, rules).diverged


def test_ignore_order_large_residue_is_paired_by_id_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_module, "PAIRWISE_LIMIT", 4)
    rules = CompareRules(ignore_order=True)
    jit = [{"id": f"p{n}", "team": f"t{n}", "goals": n} for n in range(6)]
    aot = [dict(p, team=None) for p in reversed(jit)]
    comparison = run(jit, aot, rules)
    assert sorted(found(comparison)) == [(f"$[{n}].team", DiffKind.NULL) for n in range(6)]
    assert [d.jit for d in comparison.differences] == [f"t{n}" for n in range(6)]


def test_arrays_of_different_length_are_aligned() -> None:
    jit = [{"n": n} for n in range(10)]
    aot = [p for p in jit if p["n"] != 4]
    comparison = run(jit, aot)
    assert found(comparison) == [("$[4]", DiffKind.MISSING)]
    assert comparison.differences[0].jit == {"n": 4}
    aot_longer = [*jit[:3], {"n": 99}, *jit[3:]]
    assert found(run(jit, aot_longer)) == [("$[3]", DiffKind.EXTRA)]


def test_aligned_arrays_still_report_changes_inside_items() -> None:
    jit = [{"n": n, "team": "x"} for n in range(8)]
    aot = [dict(p) for p in jit] + [{"n": 8, "team": "x"}]
    aot[2]["team"] = None
    assert found(run(jit, aot)) == [("$[2].team", DiffKind.NULL), ("$[8]", DiffKind.EXTRA)]


# -- id mapping ---------------------------------------------------------------------------

JIT_ID = "0d9f2c44-5b8e-4d7e-9a36-1f6c2b7d8e10"
AOT_ID = "c21b7a55-3e1f-4f0a-8b47-9d2e6a1c4f02"


def test_mapped_ids_are_not_differences() -> None:
    jit = {"id": JIT_ID, "self": f"/players/by-id/{JIT_ID}", "ownerId": "u1"}
    aot = {"id": AOT_ID, "self": f"/players/by-id/{AOT_ID}", "ownerId": "u2"}
    assert len(run(jit, aot).differences) == 3
    comparison = run(jit, aot, id_map={JIT_ID: AOT_ID})
    assert found(comparison) == [("$.ownerId", DiffKind.VALUE)]


def test_a_mapped_id_in_the_wrong_place_is_still_a_difference() -> None:
    other = "e5f1d3a2-0000-4000-8000-000000000001"
    comparison = run({"id": JIT_ID}, {"id": other}, id_map={JIT_ID: AOT_ID})
    assert found(comparison) == [("$.id", DiffKind.VALUE)]


def test_integer_ids_are_mapped_only_under_id_keys() -> None:
    jit = {"playerId": 7, "goals": 7}
    aot = {"playerId": 8, "goals": 8}
    assert found(run(jit, aot, id_map={"7": "8"})) == [("$.goals", DiffKind.VALUE)]


def test_objects_keyed_by_id_are_mapped() -> None:
    jit = {"byId": {JIT_ID: {"name": "a"}}}
    aot = {"byId": {AOT_ID: {"name": "b"}}}
    comparison = run(jit, aot, id_map={JIT_ID: AOT_ID})
    assert found(comparison) == [(f"$.byId['{JIT_ID}'].name", DiffKind.VALUE)]


def test_id_mapping_helps_ignore_order_match_items() -> None:
    rules = CompareRules(ignore_order=True)
    jit = [{"id": JIT_ID, "n": 1}, {"id": "seed", "n": 2}]
    aot = [{"id": "seed", "n": 2}, {"id": AOT_ID, "n": 1}]
    assert not run(jit, aot, rules, id_map={JIT_ID: AOT_ID}).diverged


# -- learning ids -------------------------------------------------------------------------


def test_learn_ids_from_id_like_keys_and_guids() -> None:
    jit = {
        "id": JIT_ID,
        "squadNumber": 10,
        "team": {"teamId": 3, "name": "x"},
        "owner_id": "u-1",
        "ref": "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "ID": "A1",
        "links": [{"playerId": "p1"}],
        "starting11": True,
        "same": "5",
    }
    aot = {
        "id": AOT_ID,
        "squadNumber": 11,
        "team": {"teamId": 4, "name": "y"},
        "owner_id": "u-2",
        "ref": "7f9619ff-8b86-d011-b42d-00c04fc964ff",
        "ID": "B1",
        "links": [{"playerId": "p2"}],
        "starting11": False,
        "same": "5",
    }
    assert learn_ids(jit, aot) == {
        JIT_ID: AOT_ID,
        "3": "4",
        "u-1": "u-2",
        "6f9619ff-8b86-d011-b42d-00c04fc964ff": "7f9619ff-8b86-d011-b42d-00c04fc964ff",
        "A1": "B1",
        "p1": "p2",
    }


def test_learn_ids_accepts_bytes_and_ignores_what_does_not_parse() -> None:
    assert learn_ids(json.dumps({"id": 1}).encode(), b'{"id": 2}') == {"1": "2"}
    assert learn_ids(f'"{JIT_ID}"', f'"{AOT_ID}"') == {JIT_ID: AOT_ID}
    assert learn_ids(b"<html>", b'{"id": 2}') == {}
    assert learn_ids(b"", b"") == {}
    assert learn_ids({"id": 1}, {"id": "1"}) == {}  # different types: not an id pair
    assert learn_ids({"id": True}, {"id": False}) == {}


# -- the Comparison record ----------------------------------------------------------------


def test_divergence_record() -> None:
    exchange = pair({"a": 1}, {"a": 2})
    comparison = compare(exchange, CompareRules())
    divergence = comparison.divergence(exchange)
    assert isinstance(divergence, Divergence)
    assert divergence.category is Category.BEHAVIOUR_DIFFERS
    assert divergence.differences == comparison.differences
    assert divergence.noise_cancelled == 0
    with pytest.raises(ValueError, match="did not diverge"):
        compare(pair(1, 1), CompareRules()).divergence(exchange)


def test_differences_beyond_the_limit_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_module, "MAX_DIFFERENCES", 3)
    exchange = pair({f"k{n}": n for n in range(10)}, {f"k{n}": -n - 1 for n in range(10)})
    comparison = compare(exchange, CompareRules())
    assert len(comparison.differences) == 3
    assert comparison.omitted == 7
    assert comparison.divergence(exchange).extra == {"omitted_differences": 7}


# -- the fast paths -----------------------------------------------------------------------


def test_byte_equal_bodies_are_not_even_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise AssertionError("decoded a byte-equal body")

    monkeypatch.setattr(compare_module, "decode_body", boom)
    assert not run({"a": [1, 2, 3]}, {"a": [1, 2, 3]}).diverged


def test_bodies_that_parse_equal_are_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    import deepdiff

    def boom(*_: object, **__: object) -> None:
        raise AssertionError("structural diff of equal values")

    monkeypatch.setattr(compare_module, "_Walker", boom)
    monkeypatch.setattr(deepdiff, "DeepDiff", boom)
    exchange = Exchange(
        RecordedRequest("GET", "/p"),
        answer("jit", raw=b'{"a": [1, 2], "b": {"c": null}}'),
        answer("aot", raw=b'{"b":{"c":null},\n "a":[1,2]}'),
    )
    assert not compare(exchange, CompareRules()).diverged


def test_deepdiff_is_used_for_pairing_unordered_items(monkeypatch: pytest.MonkeyPatch) -> None:
    import deepdiff

    calls: list[int] = []
    real = deepdiff.DeepDiff

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(deepdiff, "DeepDiff", spy)
    rules = CompareRules(ignore_order=True)
    assert found(run(["Goalkeeper", "Centre-Back"], ["Centre-Back", "goalkeeper"], rules)) == [
        ("$[0]", DiffKind.VALUE)
    ]
    assert calls == [1]
    # Objects with fewer than half of their fields equal are paired by distance too.
    jit = [{"a": 1, "b": 2, "c": 3}, 7]
    aot = [7, {"a": 1, "b": 9, "c": 8}]
    assert found(run(jit, aot, rules)) == [("$[0].b", DiffKind.VALUE), ("$[0].c", DiffKind.VALUE)]
    assert calls == [1, 1]


def test_ignore_order_pairs_objects_by_their_equal_fields() -> None:
    # Null vs value makes DeepDiff's distance large; equal fields still tell the pairs.
    rules = CompareRules(ignore_order=True)
    jit = [{"n": 2, "at": None}, {"n": 5, "at": None}]
    aot = [{"n": 5, "at": "s"}, {"n": 2, "at": "x"}, {"n": 3}]
    comparison = run(jit, aot, rules)
    assert found(comparison) == [
        ("$[0].at", DiffKind.NULL),
        ("$[1].at", DiffKind.NULL),
        ("$[2]", DiffKind.EXTRA),
    ]
    assert [d.aot for d in comparison.differences[:2]] == ["x", "s"]


def test_residues_too_large_for_distances_are_paired_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import deepdiff

    def boom(*_: object, **__: object) -> None:
        raise AssertionError("DeepDiff on a residue over the limit")

    monkeypatch.setattr(compare_module, "DISTANCE_LIMIT", 1)
    monkeypatch.setattr(deepdiff, "DeepDiff", boom)
    rules = CompareRules(ignore_order=True)
    # PascalCase keys: no field is equal, so only order can pair the items.
    jit = [{"name": "a", "team": "x"}, {"name": "b", "team": "y"}, {"name": "c", "team": "z"}]
    aot = [{"Name": "a", "Team": "x"}, {"Name": "b", "Team": "y"}]
    comparison = run(jit, aot, rules)
    assert found(comparison) == [
        ("$[0].name", DiffKind.MISSING),
        ("$[0].team", DiffKind.MISSING),
        ("$[0].Name", DiffKind.EXTRA),
        ("$[0].Team", DiffKind.EXTRA),
        ("$[1].name", DiffKind.MISSING),
        ("$[1].team", DiffKind.MISSING),
        ("$[1].Name", DiffKind.EXTRA),
        ("$[1].Team", DiffKind.EXTRA),
        ("$[2]", DiffKind.MISSING),
    ]


def test_short_ids_are_mapped_whole_but_not_inside_other_strings() -> None:
    jit = {"id": "7", "code": "7", "link": "/players/7", "year": "2017"}
    aot = {"id": "8", "code": "8", "link": "/players/8", "year": "2018"}
    comparison = run(jit, aot, id_map={"7": "8"})
    # Whole strings map; ids shorter than 8 characters are not searched inside strings,
    # where "7" would also match "2017".
    assert found(comparison) == [("$.link", DiffKind.VALUE), ("$.year", DiffKind.VALUE)]
