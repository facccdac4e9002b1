"""Naming by the OpenAPI document: operations for requests, schema members for fields."""

from __future__ import annotations

from typing import Any

from pytest_aotparity.endpoints import Operations, template_of
from pytest_aotparity.exchange import RecordedRequest


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: Any) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


DOCUMENT: dict[str, Any] = {
    "paths": {
        "/players": {
            "get": {"responses": {"200": json_response({"type": "array", "items": ref("Player")})}},
            "post": {
                "responses": {
                    "2XX": json_response(ref("Player")),
                    "default": json_response(ref("Problem")),
                }
            },
        },
        "/players/{squadNumber}": {"get": {"responses": {"200": json_response(ref("Player"))}}},
        "/players/starting11": {"get": {"responses": {"200": json_response(ref("Squad"))}}},
    },
    "components": {
        "schemas": {
            "Player": {
                "allOf": [ref("Person")],
                "properties": {"team": {"type": "string"}, "club": ref("Club")},
            },
            "Person": {"properties": {"firstName": {"type": "string"}}},
            "Club": {"properties": {"league": {"type": "string"}}},
            "Squad": {"properties": {"players": {"type": "array", "items": ref("Player")}}},
            "Problem": {"properties": {"title": {"type": "string"}}},
        }
    },
}


def test_a_literal_route_wins_over_a_parameter() -> None:
    operations = Operations(DOCUMENT)
    assert operations.template("GET", "/players/starting11") == "/players/starting11"
    assert operations.template("get", "/players/10?x=1") == "/players/{squadNumber}"
    assert operations.template("DELETE", "/players/10") is None
    assert operations.template("GET", "/teams") is None


def test_requests_are_named_by_operation_and_guessed_only_without_one() -> None:
    operations = Operations(DOCUMENT)
    assert template_of(RecordedRequest("GET", "/players/10"), (), operations) == (
        "/players/{squadNumber}"
    )
    assert template_of(RecordedRequest("GET", "/players/10")) == "/players/{id}"
    assert template_of(RecordedRequest("GET", "/teams/7"), (), operations) == "/teams/{id}"


def test_members_are_reached_through_refs_items_and_all_of() -> None:
    operations = Operations(DOCUMENT)
    member = operations.member
    assert member("GET", "/players", 200, "$[*].team") == "Player.team"
    assert member("GET", "/players", 200, "$[3].team") == "Player.team"
    assert member("GET", "/players/{squadNumber}", 200, "$.firstName") == "Person.firstName"
    assert member("GET", "/players/{squadNumber}", 200, "$.club.league") == "Club.league"
    assert member("GET", "/players/starting11", 200, "$.players[*].team") == "Player.team"
    assert member("GET", "/players/{squadNumber}", 200, "$.unknown") is None
    assert member("GET", "/players/{squadNumber}", 404, "$.team") is None


def test_a_status_range_comes_before_default() -> None:
    operations = Operations(DOCUMENT)
    assert operations.member("POST", "/players", 201, "$.team") == "Player.team"
    assert operations.member("POST", "/players", 400, "$.title") == "Problem.title"
