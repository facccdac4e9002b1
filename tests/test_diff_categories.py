"""The category of a divergence, and the precedence between categories."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_aotparity.diff.compare import CompareRules, categorize, compare
from pytest_aotparity.diff.model import Category, Difference, DiffKind
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse

JSON = (("Content-Type", "application/json"),)


def answer(
    build: str,
    body: Any = None,
    status: int | None = 200,
    *,
    headers: tuple[tuple[str, str], ...] = JSON,
    error: str | None = None,
) -> RecordedResponse:
    raw = b"" if body is None else json.dumps(body).encode()
    return RecordedResponse(build, status, headers, raw, error=error)  # type: ignore[arg-type]


def category(jit: RecordedResponse, aot: RecordedResponse) -> Category | None:
    return compare(Exchange(RecordedRequest("GET", "/p"), jit, aot), CompareRules()).category


def body_category(jit: Any, aot: Any) -> Category | None:
    return category(answer("jit", jit), answer("aot", aot))


# -- statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jit", "aot", "expected"),
    [
        (400, 201, Category.VALIDATOR_BYPASSED),
        (422, 200, Category.VALIDATOR_BYPASSED),
        (400, 204, Category.VALIDATOR_BYPASSED),
        (200, 500, Category.AOT_FAILURE),
        (201, 503, Category.AOT_FAILURE),
        (400, 500, Category.AOT_FAILURE),
        (200, 404, Category.STATUS_DIFFERS),
        (404, 400, Category.STATUS_DIFFERS),
        (500, 200, Category.STATUS_DIFFERS),
        (500, 502, Category.STATUS_DIFFERS),
        (200, 201, Category.STATUS_DIFFERS),
        (302, 200, Category.STATUS_DIFFERS),
    ],
)
def test_status_categories(jit: int, aot: int, expected: Category) -> None:
    assert category(answer("jit", {"a": 1}, jit), answer("aot", {"a": 1}, aot)) is expected


def test_no_aot_answer_is_an_aot_failure() -> None:
    aot = answer("aot", status=None, error="RemoteProtocolError: peer closed connection")
    assert category(answer("jit", {"a": 1}), aot) is Category.AOT_FAILURE
    assert category(answer("jit", {"a": 1}, 400), aot) is Category.AOT_FAILURE


def test_no_jit_answer_is_a_status_difference() -> None:
    jit = answer("jit", status=None, error="ReadTimeout")
    assert category(jit, answer("aot", {"a": 1})) is Category.STATUS_DIFFERS


# -- bodies -------------------------------------------------------------------------------


def test_missing_field_is_mapping_lost_data() -> None:
    assert body_category({"fullName": "x", "n": 1}, {"n": 1}) is Category.MAPPING_LOST_DATA


def test_null_only_in_aot_is_mapping_lost_data() -> None:
    assert body_category({"team": "x"}, {"team": None}) is Category.MAPPING_LOST_DATA


def test_null_only_in_jit_is_behaviour() -> None:
    assert body_category({"team": None}, {"team": "x"}) is Category.BEHAVIOUR_DIFFERS


@pytest.mark.parametrize(
    ("jit", "aot"),
    [
        ("Goalkeeper", 0),  # enum as a number
        ("7", 7),
        (True, "true"),
        ("2000-01-01", "2000-01-01T00:00:00"),  # date formats
        ("2000-01-01T10:00:00Z", "2000-01-01T10:00:00+00:00"),
        ("2000-01-01T10:00:00.1234567Z", "2000-01-01T10:00:00.123Z"),
        ("Goalkeeper", "goalkeeper"),  # enum naming policy
        ("CentreBack", "centre_back"),
        ("1.50", "1.5"),
        ("00:01:30", "00:01:30.0000000"),
        ("0D9F2C44-5B8E-4D7E-9A36-1F6C2B7D8E10", "0d9f2c44-5b8e-4d7e-9a36-1f6c2b7d8e10"),
    ],
)
def test_representation_changes_are_serialization(jit: Any, aot: Any) -> None:
    assert body_category({"v": jit}, {"v": aot}) is Category.SERIALIZATION_DIFFERS


def test_key_renamed_only_in_case_is_serialization_not_lost_data() -> None:
    jit = {"fullName": "Lionel Messi", "squadNumber": 10}
    aot = {"FullName": "Lionel Messi", "SquadNumber": 10}
    comparison = compare(
        Exchange(RecordedRequest("GET", "/p"), answer("jit", jit), answer("aot", aot)),
        CompareRules(),
    )
    kinds = sorted(d.kind.value for d in comparison.differences)
    assert kinds == ["extra field"] * 2 + ["missing field"] * 2
    assert comparison.category is Category.SERIALIZATION_DIFFERS


def test_null_field_omitted_or_added_is_serialization() -> None:
    assert body_category({"middleName": None, "n": 1}, {"n": 1}) is Category.SERIALIZATION_DIFFERS
    assert body_category({"n": 1}, {"n": 1, "middleName": None}) is Category.SERIALIZATION_DIFFERS


@pytest.mark.parametrize(
    ("jit", "aot"),
    [
        ({"league": "La Liga"}, {"league": "Serie A"}),  # other value
        ({"at": "2000-01-01"}, {"at": "2000-01-02"}),  # another date, same format
        ({"n": 1}, {"n": 1, "extra": "x"}),  # extra non-null field
        ([1, 2, 3], [3, 2, 1]),  # order
        ([{"n": 1}, {"n": 2}], [{"n": 1}]),  # an array item missing
    ],
)
def test_other_body_differences_are_behaviour(jit: Any, aot: Any) -> None:
    assert body_category(jit, aot) is Category.BEHAVIOUR_DIFFERS


def test_header_only_is_behaviour() -> None:
    jit = answer("jit", {"a": 1}, headers=(("Content-Type", "text/plain"),))
    aot = answer("aot", {"a": 1}, headers=(("Content-Type", "text/html"),))
    assert category(jit, aot) is Category.BEHAVIOUR_DIFFERS


def test_text_body_is_behaviour() -> None:
    text = (("Content-Type", "text/plain"),)
    jit = RecordedResponse("jit", 200, text, b"one")
    aot = RecordedResponse("aot", 200, text, b"two")
    assert category(jit, aot) is Category.BEHAVIOUR_DIFFERS


# -- precedence ---------------------------------------------------------------------------


def test_lost_data_outranks_serialization_and_behaviour() -> None:
    jit = {"team": "x", "position": "Goalkeeper", "league": "a"}
    aot = {"team": None, "position": 0, "league": "b"}
    assert body_category(jit, aot) is Category.MAPPING_LOST_DATA


def test_serialization_outranks_behaviour() -> None:
    assert (
        body_category({"position": "Goalkeeper", "league": "a"}, {"position": 0, "league": "b"})
        is Category.SERIALIZATION_DIFFERS
    )


def test_status_outranks_bodies() -> None:
    exchange = Exchange(RecordedRequest("GET", "/p"), answer("jit", {"a": 1}), answer("aot", {}))
    differences = [
        Difference("status", DiffKind.STATUS, 200, 500),
        Difference("$.a", DiffKind.MISSING, 1, None),
    ]
    exchange.aot = answer("aot", {}, 500)
    assert categorize(differences, exchange) is Category.AOT_FAILURE


def test_connection_error_outranks_everything() -> None:
    exchange = Exchange(
        RecordedRequest("GET", "/p"), answer("jit", {"a": 1}), answer("aot", status=None, error="x")
    )
    differences = [
        Difference("status", DiffKind.ERROR, 200, "x"),
        Difference("$.a", DiffKind.TYPE, 1, "1"),
    ]
    assert categorize(differences, exchange) is Category.AOT_FAILURE


def test_a_null_array_item_missing_is_behaviour() -> None:
    assert body_category([1, None], [1]) is Category.BEHAVIOUR_DIFFERS
