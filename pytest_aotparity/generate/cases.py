"""Hypothesis strategies for one operation (from schemathesis), and generated cases turned
into :class:`~pytest_aotparity.exchange.RecordedRequest`.

Strategies are schemathesis' ``operation.as_strategy``: positive cases conform to the
schema, negative ones violate it (wrong types, missing required members, values out of
range, bad formats, malformed bodies) — the requests a validator the trimmer removed lets
through. Positive comes first in ``one_of``, so hypothesis shrinks a failure towards a
valid request when a valid request shows it too.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from pytest_aotparity._compat import schemathesis as _schemathesis
from pytest_aotparity.exchange import RecordedRequest

PLACEHOLDER_ORIGIN = "http://aotparity.invalid"
"""The base URL cases are serialised against; only path and query are kept."""


DROPPED_HEADERS = frozenset(
    {"x-schemathesis-testcaseid", "user-agent", "content-length", "host", "connection"}
)
"""Headers schemathesis adds that carry nothing (a random case id would also make two runs
with the same seed send different requests)."""


def mode_name(case: Any) -> str:
    """``positive`` or ``negative``."""
    return _schemathesis.mode_value(case) or "positive"


def negative_at_path(case: Any) -> bool:
    """Whether the case's path parameters were generated to violate the schema (then
    they are not replaced with real values: the violation is the point)."""
    return _schemathesis.negative_at_path(case)


def has_inputs(operation: Any) -> bool:
    """Whether the operation has anything negative generation can violate."""
    if list(getattr(operation, "path_parameters", ()) or ()):
        return True
    for name in ("query", "headers", "cookies"):
        if list(getattr(operation, name, ()) or ()):
            return True
    return bool(list(getattr(operation, "body", ()) or ()))


def operation_strategy(operation: Any, *, negative: bool = True) -> st.SearchStrategy[Any]:
    """Positive cases, or positive and negative ones, for a schemathesis operation."""
    from schemathesis import GenerationMode

    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if not negative or not has_inputs(operation):
        return positive  # type: ignore[no-any-return]
    negative_cases = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    return st.one_of(positive, negative_cases)


def valid_requests(operation: Any) -> st.SearchStrategy[Any]:
    """Valid requests for the stateful test: the valid boundary cases of the schema first
    (cheap to draw, so replaying a sequence while shrinking is fast, and hypothesis
    shrinks towards them), then anything schemathesis generates."""
    valid = [case for case in coverage_cases(operation) if mode_name(case) == "positive"]
    generated = operation_strategy(operation, negative=False)
    if not valid:
        return generated
    return st.one_of(pick_from(valid), generated)


def pick_from(cases: Sequence[Any]) -> st.SearchStrategy[Any]:
    """One of ``cases``, shrinking towards the first — like ``st.sampled_from``, but by
    index: ``sampled_from`` labels itself with the hash of its elements, and hashing a
    schemathesis case prepares a whole HTTP request (milliseconds each, for every case, for
    every new strategy)."""
    items = list(cases)
    return st.integers(min_value=0, max_value=len(items) - 1).map(items.__getitem__)


def with_real_values(
    strategy: st.SearchStrategy[Any], values: Mapping[str, Sequence[str | int]]
) -> st.SearchStrategy[Any]:
    """Cases whose path parameters are, most of the time, values the builds hold.

    For each parameter with harvested values, the draw picks one of them or keeps the
    generated value; the real values come first, so shrinking prefers a real record.
    """
    usable = {name: tuple(vals) for name, vals in values.items() if vals}
    if not usable:
        return strategy
    choices = {
        name: st.one_of(st.sampled_from(options), st.none()) for name, options in usable.items()
    }

    @st.composite
    def draw_case(draw: st.DrawFn) -> Any:
        case = draw(strategy)
        if negative_at_path(case):
            return case
        picks: dict[str, str] = {}
        for name, choice in choices.items():
            if name not in case.path_parameters:
                continue
            pick = draw(choice)
            if pick is not None:
                picks[name] = urllib.parse.quote(str(pick), safe="")
        if picks:
            case = case.derive()  # the drawn case may be shared (sampled from a list)
            case.path_parameters.update(picks)
        return case

    return draw_case()


def coverage_cases(operation: Any) -> list[Any]:
    """:func:`iter_coverage_cases`, least severe first (:func:`severity`)."""
    return sorted(iter_coverage_cases(operation), key=severity)


def iter_coverage_cases(operation: Any) -> Iterator[Any]:
    """schemathesis' coverage cases of ``operation``, as it makes them: valid boundary
    values, and each constraint violated once (a value just out of range, a string just
    too long, a wrong type, a missing required member) on an otherwise valid request.
    Cases that change the HTTP method are left out: they would test another operation."""
    from schemathesis import GenerationMode

    method = str(operation.method).upper()
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for case in _schemathesis.coverage_cases(operation, modes):
        if str(case.method).upper() == method:
            yield case


_SEVERITY = {
    # a value just outside a range or a length limit: the smallest step out of the schema
    "value_above_maximum": 1,
    "value_below_minimum": 1,
    "string_above_max_length": 1,
    "string_below_min_length": 1,
    "array_above_max_items": 1,
    "array_below_min_items": 1,
    "object_above_max_properties": 1,
    "object_below_min_properties": 1,
    "invalid_enum_value": 2,
    "invalid_format": 2,
    "object_missing_required_property": 3,
    "object_unexpected_properties": 3,
    "object_invalid_property_name": 3,
    "incorrect_type": 4,
}


def severity(case: Any) -> int:
    """How far a coverage case is from a valid request: valid cases 0, a boundary just
    crossed 1, a bad enum or format 2, a missing or unexpected member 3, a wrong type 4,
    anything else (wrong content type, malformed body) 5. Boundary cases are ordered by it,
    and hypothesis, which shrinks towards earlier cases, reports the least severe request
    that still diverges."""
    if mode_name(case) == "positive":
        return 0
    return _SEVERITY.get(str(_schemathesis.coverage_scenario(case)), 5)


def with_real_values_cycled(
    cases: Iterable[Any], values: Mapping[str, Sequence[str | int]]
) -> Iterator[Any]:
    """Coverage cases with their path parameters replaced by real values, taking the
    values in turn (cases whose path parameters are the violation are kept as they are)."""
    usable = {name: tuple(vals) for name, vals in values.items() if vals}
    for index, case in enumerate(cases):
        names = [n for n in usable if n in case.path_parameters]
        if not names or negative_at_path(case):
            yield case
            continue
        derived = case.derive()
        for name in names:
            options = usable[name]
            derived.path_parameters[name] = urllib.parse.quote(
                str(options[index % len(options)]), safe=""
            )
        yield derived


def trimmed_variants(
    cases: Sequence[Any], required: frozenset[str], *, simplify: Collection[int] = ()
) -> st.SearchStrategy[Any]:
    """Cases drawn from ``cases`` (earlier ones first when shrinking), each with a drawn
    subset of its body members that are not ``required`` and of its optional query
    parameters kept. Hypothesis shrinks the choices towards dropping them, so a divergence
    that does not need a member is reported without it.

    The cases at the indices in ``simplify`` (requests schemathesis drew at random, not
    boundary cases) also get their kept values simplified: numbers towards 0, strings and
    arrays to shorter prefixes, booleans to false — as far as the builds still diverge.

    Every draw makes the same choices whatever they decide (hypothesis' shrinker lowers
    choices, it cannot insert one), and the choice that keeps a value comes first, so
    the shrinker tries "simplified" before it lowers the simplified value itself."""

    items = list(cases)
    index = st.integers(min_value=0, max_value=len(items) - 1)
    simplified = frozenset(simplify)

    @st.composite
    def draw_variant(draw: st.DrawFn) -> Any:
        at = draw(index)
        case = items[at]
        body = case.body
        query = case.query or {}
        droppable_body = (
            sorted(k for k in body if k not in required) if isinstance(body, dict) else []
        )
        required_query = {
            p.name for p in getattr(case.operation, "query", ()) if getattr(p, "is_required", False)
        }
        droppable_query = sorted(k for k in query if k not in required_query)
        simplify_values = at in simplified
        if not droppable_body and not droppable_query and not simplify_values:
            return case
        keep_body = {k for k in droppable_body if draw(st.booleans())}
        keep_query = {k for k in droppable_query if draw(st.booleans())}
        kept_query = {k: v for k, v in query.items() if k not in droppable_query or k in keep_query}
        if simplify_values:
            kept_query = {k: _simpler(draw, v) for k, v in kept_query.items()}
        variant = case.derive(query=kept_query)
        if isinstance(body, dict) and (droppable_body or simplify_values):
            kept_body = {k: v for k, v in body.items() if k not in droppable_body or k in keep_body}
            if simplify_values:
                kept_body = {k: _simpler(draw, v) for k, v in kept_body.items()}
            variant.body = kept_body
        elif isinstance(body, list) and simplify_values:
            variant.body = _simpler(draw, body)
        return variant

    return draw_variant()


_KEEP = st.integers(min_value=0, max_value=3)
"""Whether a value stays as it was: 3 draws in 4 keep it; shrinking goes to 0, simplify."""

_SIMPLIFY_DEPTH = 4


def _simpler(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value``, or (drawn) a simpler value of the same JSON type."""
    if depth >= _SIMPLIFY_DEPTH or value is None:
        return value
    if isinstance(value, dict):
        return {k: _simpler(draw, v, depth + 1) for k, v in value.items()}
    keep = draw(_KEEP) != 0
    if isinstance(value, bool):
        return value if keep else False
    if isinstance(value, int):
        lower = draw(st.integers(min_value=min(0, value), max_value=max(0, value)))
        return value if keep else lower
    if isinstance(value, float):
        whole = int(value) if math.isfinite(value) else 0
        lower = draw(st.integers(min_value=min(0, whole), max_value=max(0, whole)))
        return value if keep else float(lower)
    if isinstance(value, str):
        length = draw(st.integers(min_value=0, max_value=len(value)))
        return value if keep else value[:length]
    if isinstance(value, list):
        length = draw(st.integers(min_value=0, max_value=len(value)))
        return [_simpler(draw, v, depth + 1) for v in (value if keep else value[:length])]
    return value


def case_to_request(case: Any) -> RecordedRequest:
    """The request a schemathesis case describes, addressed relative to the app."""
    import requests

    kwargs = case.as_transport_kwargs(base_url=PLACEHOLDER_ORIGIN)
    kwargs.pop("auth", None)
    for unsupported in ("allow_redirects", "verify", "timeout", "stream", "cert", "proxies"):
        kwargs.pop(unsupported, None)
    prepared = requests.Request(**kwargs).prepare()
    headers = tuple(
        (str(k), str(v))
        for k, v in (prepared.headers or {}).items()
        if str(k).lower() not in DROPPED_HEADERS
    )
    body = prepared.body
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = bytes(body)
    path = prepared.path_url or "/"
    return RecordedRequest(
        method=str(prepared.method or case.method).upper(),
        path=path,
        headers=headers,
        body=data,
        path_template=str(case.path),
    )


def request_signature(request: RecordedRequest) -> tuple[str, str, bytes, tuple[str, ...]]:
    """What makes two generated requests the same request."""
    headers = tuple(sorted(f"{k.lower()}:{v}" for k, v in request.headers))
    return (request.method, request.path, request.body, headers)
