"""Noise cancellation: a second JIT answer explains JIT-vs-AOT differences of the same kind
at the same generic path, and nothing else."""

from __future__ import annotations

import json
from typing import Any

from pytest_aotparity.diff.compare import CompareRules, Comparison, NoiseMemory, compare
from pytest_aotparity.diff.model import Category, DiffKind
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse

JSON = (("Content-Type", "application/json"),)


def answer(build: str, body: Any, status: int | None = 200, **kwargs: Any) -> RecordedResponse:
    raw = kwargs.pop("raw", None)
    data = raw if raw is not None else json.dumps(body).encode()
    headers = kwargs.pop("headers", JSON)
    return RecordedResponse(build, status, headers, data, **kwargs)  # type: ignore[arg-type]


def run(jit: Any, aot: Any, noise: Any, *, noise_status: int | None = 200, **kw: Any) -> Comparison:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players/10"),
        jit=answer("jit", jit),
        aot=answer("aot", aot),
        noise=answer("noise", noise, status=noise_status, **kw),
    )
    return compare(exchange, CompareRules())


def found(comparison: Comparison) -> list[tuple[str, DiffKind]]:
    return [(d.path, d.kind) for d in comparison.differences]


def test_value_noise_is_cancelled_and_counted() -> None:
    comparison = run(
        {"requestId": "r1", "servedAt": "t1", "n": 10},
        {"requestId": "r2", "servedAt": "t2", "n": 10},
        {"requestId": "r3", "servedAt": "t3", "n": 10},
    )
    assert not comparison.diverged
    assert comparison.category is None
    assert sorted(d.path for d in comparison.cancelled) == ["$.requestId", "$.servedAt"]


def test_noise_leaves_real_differences_alone() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players/10"),
        jit=answer("jit", {"requestId": "r1", "fullName": "Lionel Messi", "team": "Inter Miami"}),
        aot=answer("aot", {"requestId": "r2", "team": None}),
        noise=answer(
            "noise", {"requestId": "r3", "fullName": "Lionel Messi", "team": "Inter Miami"}
        ),
    )
    comparison = compare(exchange, CompareRules())
    assert found(comparison) == [("$.fullName", DiffKind.MISSING), ("$.team", DiffKind.NULL)]
    assert [d.path for d in comparison.cancelled] == ["$.requestId"]
    assert comparison.category is Category.MAPPING_LOST_DATA
    divergence = comparison.divergence(exchange)
    assert divergence.noise_cancelled == 1
    assert divergence.category is Category.MAPPING_LOST_DATA


def test_type_change_is_never_cancelled_by_a_value_change() -> None:
    comparison = run({"position": "Goalkeeper"}, {"position": 0}, {"position": "Right-Back"})
    assert found(comparison) == [("$.position", DiffKind.TYPE)]
    assert comparison.cancelled == []
    assert comparison.category is Category.SERIALIZATION_DIFFERS


def test_missing_field_is_never_cancelled_by_a_value_change() -> None:
    comparison = run({"servedAt": "t1", "n": 1}, {"n": 1}, {"servedAt": "t2", "n": 1})
    assert found(comparison) == [("$.servedAt", DiffKind.MISSING)]
    assert comparison.cancelled == []


def test_extra_field_is_never_cancelled_by_a_value_change() -> None:
    comparison = run({"a": "x"}, {"a": "x", "b": 1}, {"a": "y"})
    assert found(comparison) == [("$.b", DiffKind.EXTRA)]


def test_null_is_not_cancelled_by_a_value_change() -> None:
    comparison = run({"team": "a"}, {"team": None}, {"team": "b"})
    assert found(comparison) == [("$.team", DiffKind.NULL)]


def test_same_kind_at_the_same_generic_path_cancels() -> None:
    # A field the JIT build itself sometimes omits; an optional null.
    comparison = run(
        {"items": [{"n": 1, "hint": "h"}, {"n": 2, "at": None}]},
        {"items": [{"n": 1}, {"n": 2, "at": "t"}]},
        {"items": [{"n": 1, "hint": "h"}, {"n": 2, "at": "s"}, {"n": 3}]},
    )
    # noise: extra item (different length) -> aligned; item [1].at is null vs value.
    assert ("$.items[0].hint", DiffKind.MISSING) in found(comparison)
    assert [d.path for d in comparison.cancelled] == ["$.items[1].at"]


def test_generic_paths_match_across_indices() -> None:
    jit = [{"n": n, "servedAt": "t"} for n in range(5)]
    aot = [dict(p) for p in jit]
    aot[3]["servedAt"] = "other"
    noise = [dict(p) for p in jit]
    noise[0]["servedAt"] = "noise"
    comparison = run(jit, aot, noise)
    assert not comparison.diverged
    assert [d.path for d in comparison.cancelled] == ["$[3].servedAt"]


def test_a_noise_answer_with_another_status_cancels_nothing() -> None:
    comparison = run({"requestId": "a"}, {"requestId": "b"}, {"requestId": "c"}, noise_status=500)
    assert found(comparison) == [("$.requestId", DiffKind.VALUE)]
    assert comparison.cancelled == []


def test_a_noise_build_that_did_not_answer_cancels_nothing() -> None:
    comparison = run(
        {"requestId": "a"}, {"requestId": "b"}, None, noise_status=None, raw=b"", error="reset"
    )
    assert found(comparison) == [("$.requestId", DiffKind.VALUE)]


def test_status_differences_are_never_noise() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players/10/stats"),
        jit=answer("jit", {"goals": 1}),
        aot=answer("aot", {"title": "error"}, status=500),
        noise=answer("noise", {"goals": 1}, status=500),
    )
    comparison = compare(exchange, CompareRules())
    assert found(comparison) == [("status", DiffKind.STATUS)]
    assert comparison.category is Category.AOT_FAILURE


def test_header_noise_cancels_a_header_difference() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players"),
        jit=answer("jit", 1, headers=(*JSON, ("ETag", "a"))),
        aot=answer("aot", 1, headers=(*JSON, ("ETag", "b"))),
        noise=answer("noise", 1, headers=(*JSON, ("ETag", "c"))),
    )
    rules = CompareRules(headers=("content-type", "etag"))
    comparison = compare(exchange, rules)
    assert not comparison.diverged
    assert [(d.path, d.kind) for d in comparison.cancelled] == [("header:etag", DiffKind.HEADER)]


def test_noise_uses_the_same_ignore_rules() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players"),
        jit=answer("jit", {"tags": ["a", "b"], "requestId": "1"}),
        aot=answer("aot", {"tags": ["b", "a"], "requestId": "2"}),
        noise=answer("noise", {"tags": ["a", "b"], "requestId": "3"}),
    )
    comparison = compare(exchange, CompareRules(ignore_paths=("$.requestId",)))
    assert [(d.path, d.kind) for d in comparison.differences] == [("$.tags", DiffKind.ORDER)]
    assert comparison.cancelled == []


def test_noise_seen_on_an_endpoint_is_remembered_for_the_run() -> None:
    """Two instances of the same build agree now and then by chance (two timestamps taken in
    the same microsecond): the field is still noise, because it was noise before."""
    memory = NoiseMemory()

    def exchange(jit: Any, aot: Any, noise: Any, path: str = "/players/10") -> Exchange:
        return Exchange(
            request=RecordedRequest("GET", path, path_template="/players/{squadNumber}"),
            jit=answer("jit", jit),
            aot=answer("aot", aot),
            noise=answer("noise", noise),
        )

    endpoint = "GET /players/{squadNumber}"
    first = exchange(
        {"servedAt": "t1", "n": 1}, {"servedAt": "t2", "n": 1}, {"servedAt": "t3", "n": 1}
    )
    assert not compare(first, CompareRules(), memory=memory, endpoint=endpoint).diverged
    assert memory.known(endpoint) == {("$.servedAt", DiffKind.VALUE)}

    # the noise instance happened to answer the same servedAt as the jit build
    by_chance = exchange(
        {"servedAt": "t5", "n": 1}, {"servedAt": "t4", "n": 1}, {"servedAt": "t5", "n": 1}
    )
    assert compare(by_chance, CompareRules()).diverged  # on its own: reported
    remembered = compare(by_chance, CompareRules(), memory=memory, endpoint=endpoint)
    assert not remembered.diverged
    assert [d.path for d in remembered.cancelled] == ["$.servedAt"]

    # only the same kind at the same place, and only on that endpoint
    typed = exchange({"servedAt": "t6"}, {"servedAt": 6}, {"servedAt": "t6"})
    assert found(compare(typed, CompareRules(), memory=memory, endpoint=endpoint)) == [
        ("$.servedAt", DiffKind.TYPE)
    ]
    other = compare(by_chance, CompareRules(), memory=memory, endpoint="GET /players")
    assert found(other) == [("$.servedAt", DiffKind.VALUE)]


# -- ASP.NET Core's per-request ids: noise by default -------------------------------------

TRACE_A = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_B = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def problem(trace: Any, **extra: Any) -> dict[str, Any]:
    return {"title": "Not Found", "status": 404, "traceId": trace, **extra}


def alone(jit: Any, aot: Any, rules: CompareRules | None = None) -> Comparison:
    """Compared without a noise instance."""
    exchange = Exchange(
        request=RecordedRequest("GET", "/players/98"),
        jit=answer("jit", jit),
        aot=answer("aot", aot),
    )
    return compare(exchange, rules or CompareRules())


def test_problem_details_trace_ids_are_noise_without_a_noise_instance() -> None:
    comparison = alone(problem(TRACE_A), problem(TRACE_B))
    assert not comparison.diverged
    assert [d.path for d in comparison.cancelled] == ["$.traceId"]


def test_every_shape_of_a_per_request_id_and_any_depth_and_case() -> None:
    pairs = [
        ("0HN7GRQ2L2V5K:00000001", "0HN7GRQ2L2V5L:00000003"),  # HttpContext.TraceIdentifier
        ("|a000b421-5d183ab6.1.", "|b000c532-6e294bc7.1."),  # hierarchical Activity id
    ]
    for jit, aot in pairs:
        assert not alone({"requestId": jit}, {"requestId": aot}).diverged, (jit, aot)
    nested = alone({"error": {"TraceId": TRACE_A}}, {"error": {"TraceId": TRACE_B}})
    assert not nested.diverged


def test_a_real_difference_in_a_trace_id_member_is_still_reported() -> None:
    assert found(alone(problem(TRACE_A), problem(None))) == [("$.traceId", DiffKind.NULL)]
    assert found(alone(problem(TRACE_A), {"title": "Not Found", "status": 404})) == [
        ("$.traceId", DiffKind.MISSING)
    ]
    assert found(alone({"traceId": "abc"}, {"traceId": "abd"})) == [("$.traceId", DiffKind.VALUE)]
    # another member with an id's shape is the app's own business
    assert found(alone({"id": TRACE_A}, {"id": TRACE_B})) == [("$.id", DiffKind.VALUE)]


def test_default_noise_can_be_turned_off() -> None:
    comparison = alone(problem(TRACE_A), problem(TRACE_B), CompareRules(default_noise=False))
    assert found(comparison) == [("$.traceId", DiffKind.VALUE)]
    assert CompareRules(default_noise=False).merged(ignore_paths=("$.x",)).default_noise is False
