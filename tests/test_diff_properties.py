"""Properties of the comparison over arbitrary JSON (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_aotparity.diff.compare import CompareRules, compare, learn_ids
from pytest_aotparity.diff.model import DiffKind
from pytest_aotparity.diff.normalise import PathSegment, format_path
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse

JSON = (("Content-Type", "application/json"),)
MUTATED = "__mutated__"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=30,
)
documents = st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=6)


def exchange(jit: bytes, aot: bytes) -> Exchange:
    return Exchange(
        RecordedRequest("GET", "/p"),
        RecordedResponse("jit", 200, JSON, jit),
        RecordedResponse("aot", 200, JSON, aot),
    )


def leaves(value: Any, path: tuple[PathSegment, ...] = ()) -> list[tuple[PathSegment, ...]]:
    if isinstance(value, dict):
        out = [path] if not value else []
        for key, item in value.items():
            out += leaves(item, (*path, key))
        return out
    if isinstance(value, list):
        out = [path] if not value else []
        for index, item in enumerate(value):
            out += leaves(item, (*path, index))
        return out
    return [path]


def replace(value: Any, path: tuple[PathSegment, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: replace(v, rest, new) if k == head else v for k, v in value.items()}
    return [replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


def get(value: Any, path: tuple[PathSegment, ...]) -> Any:
    for segment in path:
        value = value[segment]
    return value


@settings(max_examples=100, deadline=None)
@given(documents, st.booleans())
def test_a_document_equals_itself_however_it_is_written(doc: dict[str, Any], order: bool) -> None:
    jit = json.dumps(doc).encode()
    aot = json.dumps(doc, indent=2, sort_keys=True).encode()
    comparison = compare(exchange(jit, aot), CompareRules(ignore_order=order))
    assert comparison.differences == []


@settings(max_examples=120, deadline=None)
@given(documents, st.data())
def test_one_changed_leaf_is_one_difference_at_its_path(doc: dict[str, Any], data: Any) -> None:
    path = data.draw(st.sampled_from(leaves(doc)))
    old = get(doc, path)
    new = MUTATED + "!" if old == MUTATED else MUTATED
    changed = replace(doc, path, new)
    comparison = compare(
        exchange(json.dumps(doc).encode(), json.dumps(changed).encode()), CompareRules()
    )
    if old is None:
        kind = DiffKind.NULL
    elif isinstance(old, str):
        kind = DiffKind.VALUE
    else:
        kind = DiffKind.TYPE
    assert [(d.path, d.kind) for d in comparison.differences] == [(format_path(path), kind)]
    assert comparison.differences[0].jit == old
    assert comparison.differences[0].aot == new


@settings(max_examples=100, deadline=None)
@given(documents, st.data())
def test_a_removed_key_is_one_missing_field(doc: dict[str, Any], data: Any) -> None:
    key = data.draw(st.sampled_from(sorted(doc)))
    changed = {k: v for k, v in doc.items() if k != key}
    comparison = compare(
        exchange(json.dumps(doc).encode(), json.dumps(changed).encode()), CompareRules()
    )
    assert [(d.path, d.kind) for d in comparison.differences] == [
        (format_path((key,)), DiffKind.MISSING)
    ]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from("abc"), scalars, min_size=1), max_size=8), st.randoms()
)
def test_ignore_order_ignores_any_permutation(items: list[Any], rnd: Any) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    comparison = compare(
        exchange(json.dumps(items).encode(), json.dumps(shuffled).encode()),
        CompareRules(ignore_order=True),
    )
    assert comparison.differences == []


@settings(max_examples=100, deadline=None)
@given(documents)
def test_learn_ids_of_equal_documents_is_empty(doc: dict[str, Any]) -> None:
    assert learn_ids(doc, json.loads(json.dumps(doc))) == {}
