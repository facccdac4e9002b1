"""One JSON-path grammar: the option check, the marker, the value rules and the diff engine
accept and refuse the same paths."""

from __future__ import annotations

import pytest

from pytest_aotparity.config import validate_json_paths
from pytest_aotparity.diff.compare import CompareRules
from pytest_aotparity.generate.options import parse_path_value_rule
from pytest_aotparity.jsonpath import JsonPathError, parse, problem, select

GOOD = [
    "$",
    "$.a",
    "$.items[*].id",
    "$..requestId",
    "$['odd key'].x",
    '$["odd key"]',
    "$[0]",
    "$.a.*",
    "$..[*]",
    "$..*",
    "$.items[*]..id",
]
BAD = ["requestId", "$.items[", "$.a b", "$items", "$.[0]", "$[x]", ".a"]

DOC = {
    "items": [{"id": 1, "tags": ["a"]}, {"id": 2, "inner": {"id": 3}}],
    "odd key": 5,
    "requestId": "r",
}


def _engine_accepts(path: str) -> bool:
    try:
        CompareRules(ignore_paths=(path,))
    except ValueError:
        return False
    return True


def _option_accepts(path: str) -> bool:
    try:
        validate_json_paths([path], "--aot-parity-ignore")
    except pytest.UsageError:
        return False
    return True


def _value_rule_accepts(path: str) -> bool:
    try:
        parse_path_value_rule(f"id=/players:{path}")
    except pytest.UsageError:
        return False
    return True


@pytest.mark.parametrize("path", GOOD)
def test_every_user_accepts_a_path_of_the_grammar(path: str) -> None:
    assert problem(path) is None
    assert _engine_accepts(path)
    assert _option_accepts(path)
    if path.startswith("$"):
        assert _value_rule_accepts(path)
    select(DOC, path)  # never raises on a valid path


@pytest.mark.parametrize("path", BAD)
def test_every_user_refuses_a_path_outside_it(path: str) -> None:
    assert problem(path) is not None
    with pytest.raises(JsonPathError):
        parse(path)
    assert not _engine_accepts(path)
    assert not _option_accepts(path)


def test_select_walks_the_document_in_order() -> None:
    assert select(DOC, "$.items[*].id") == [1, 2]
    assert select(DOC, "$..id") == [1, 2, 3]
    assert select(DOC, "$['odd key']") == [5]
    assert select(DOC, "$.items[1].inner.id") == [3]
    assert select(DOC, "$.items[5]") == []
    below_root = select(DOC, "$..[*]")  # every value but the document itself
    assert len(below_root) == 11
    assert DOC["items"] in below_root
    assert {"id": 3} in below_root
    assert DOC not in below_root
