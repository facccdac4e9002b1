"""Findings from divergence records: grouping by cause, consequences, titles, fix hints.

Records are built the way the JSON report builds them (see report/json_report.py), small
enough to read; the end-to-end checks against real builds are in test_report_fakeapps.py
and test_report_sample_app.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_aotparity.report.findings import (
    build_findings,
    consequences,
    difference_class,
    render_findings,
)
from pytest_aotparity.report.fixhints import HINTS, hint_for

PLAYERS = [
    {"id": n, "position": pos, "positionName": name, "team": team, "squadNumber": n}
    for n, (pos, name, team) in enumerate(
        [
            ("GK", "Goalkeeper", "River"),
            ("CB", "Centre-Back", "Boca"),
            ("GK", "Goalkeeper", "Racing"),
            ("CB", "Centre-Back", "Velez"),
            ("RW", "Right Winger", "Lanus"),
            ("RW", "Right Winger", "Talleres"),
        ],
        start=1,
    )
]


def record(  # noqa: PLR0917 - reads like the report's own records: id, request, statuses
    rid: str,
    method: str,
    path: str,
    template: str,
    jit: int,
    aot: int,
    *,
    differences: list[dict[str, Any]] | None = None,
    category: str = "mapping lost data",
    body: Any = None,
    jit_body: Any = None,
    headers: list[list[str]] | None = None,
    log: list[str] | None = None,
    origin: str = "suite",
    nodeid: str = "test_x.py::test_x",
) -> dict[str, Any]:
    if differences is None:
        differences = [
            {
                "path": "status",
                "generic_path": "status",
                "member": None,
                "kind": "status",
                "jit": jit,
                "aot": aot,
            }
        ]
    return {
        "id": rid,
        "nodeid": nodeid,
        "origin": origin,
        "method": method,
        "path": path,
        "path_template": template,
        "request": {
            "method": method,
            "path": path,
            "headers": [],
            "body": json.dumps(body) if body is not None else None,
        },
        "aot_request": None,
        "status": {"jit": jit, "aot": aot, "noise": None},
        "responses": {
            "jit": {
                "status": jit,
                "body": json.dumps(jit_body) if jit_body is not None else None,
                "body_encoding": "utf-8",
                "body_truncated": False,
                "headers": headers or [],
            },
            "aot": {"status": aot, "body": None, "headers": []},
        },
        "category": category,
        "differences": differences,
        "aot_log_tail": log,
        "baseline": "new",
        "curl": {"jit": f"curl {path}", "aot": f"curl {path}"},
    }


def lost(path: str, member: str | None, jit: Any, aot: Any = None, kind: str = "null vs value"):
    generic = path
    for i in range(10):
        generic = generic.replace(f"[{i}]", "[*]")
    return {
        "path": path,
        "generic_path": generic,
        "member": member,
        "kind": kind,
        "jit": jit,
        "aot": aot,
    }


def players_list(rid: str, *, template: str = "/players", origin: str = "suite") -> dict[str, Any]:
    diffs = []
    for i, p in enumerate(PLAYERS):
        diffs.append(lost(f"$[{i}].team", "PlayerResponse.team", p["team"]))
        diffs.append(
            lost(
                f"$[{i}].squadNumber",
                "PlayerResponse.squadNumber",
                p["squadNumber"],
                0,
                kind="value change",
            )
        )
        diffs.append(lost(f"$[{i}].positionName", "PlayerResponse.positionName", p["positionName"]))
    return record(
        rid,
        "GET",
        "/players",
        template,
        200,
        200,
        differences=diffs,
        jit_body=PLAYERS,
        origin=origin,
    )


def single(rid: str, path: str, template: str, player: dict[str, Any]) -> dict[str, Any]:
    return record(
        rid,
        "GET",
        path,
        template,
        200,
        200,
        jit_body=player,
        differences=[
            lost("$.team", "PlayerResponse.team", player["team"]),
            lost(
                "$.squadNumber",
                "PlayerResponse.squadNumber",
                player["squadNumber"],
                0,
                kind="value change",
            ),
            lost("$.positionName", "PlayerResponse.positionName", player["positionName"]),
        ],
    )


def test_one_lost_member_set_across_endpoints_and_lists_is_one_finding() -> None:
    records = [
        players_list("d1"),
        single("d2", "/players/1", "/players/{squadNumber}", PLAYERS[0]),
        single("d3", "/players/by-id/1", "/players/by-id/{id}", PLAYERS[0]),
        players_list("d4", origin="generated"),
    ]
    findings = build_findings(records)
    members = [f for f in findings if f["kind"] == "members"]
    assert len(members) == 1
    finding = members[0]
    assert finding["divergences"] == ["d1", "d2", "d3", "d4"]
    assert [m["member"] for m in finding["members"]] == [
        "PlayerResponse.team",
        "PlayerResponse.squadNumber",
    ]
    assert finding["category"] == "mapping lost data"
    assert finding["severity"] == "major"
    assert finding["sources"] == {"generated": 1, "suite": 3}
    assert finding["title"] == (
        "The AOT build loses team, squadNumber of PlayerResponse (sent as null, 0) on "
        "GET /players, GET /players/{squadNumber}, GET /players/by-id/{id}"
    )
    team = finding["members"][0]
    assert team["paths"] == ["$.team", "$[*].team"]
    assert team["count"] == 6 * 2 + 2
    assert team["examples"] == [{"jit": "River", "aot": None}, {"jit": "Boca", "aot": None}]
    # the smallest request is the example to reproduce with
    assert finding["example"]["divergence"] == "d1"
    assert finding["example"]["request"] == "GET /players"


def test_a_member_looked_up_from_a_surviving_sibling_is_its_own_finding() -> None:
    records = [players_list("d1"), single("d2", "/players/1", "/players/{n}", PLAYERS[0])]
    findings = build_findings(records)
    lookup = next(f for f in findings if f["kind"] == "lookup")
    assert [m["member"] for m in lookup["members"]] == ["PlayerResponse.positionName"]
    assert lookup["derived_from"] == "position"
    assert lookup["title"] == (
        "PlayerResponse.positionName is null on the AOT build where the JIT build looks it up "
        'from position ("GK" → "Goalkeeper")'
    )
    assert lookup["fix"]["id"] == "enumeration-lookup"
    assert lookup["divergences"] == ["d1", "d2"]
    others = [f for f in findings if f["kind"] == "members"]
    assert len(others) == 1
    assert "positionName" not in others[0]["title"]


def test_no_lookup_is_claimed_without_a_repeating_sibling() -> None:
    # two players: no sibling repeats, so nothing says positionName is looked up
    small = players_list("d1")
    small["responses"]["jit"]["body"] = json.dumps(PLAYERS[:2])
    findings = build_findings([small])
    assert [f["kind"] for f in findings] == ["members"]


def test_without_a_document_members_are_generic_paths_per_endpoint() -> None:
    one = players_list("d1")
    two = single("d2", "/players/1", "/players/{id}", PLAYERS[0])
    for rec in (one, two):
        for diff in rec["differences"]:
            diff["member"] = None
    findings = build_findings([one, two])
    titles = sorted(f["title"] for f in findings if f["kind"] in ("members", "lookup"))
    assert any(t.endswith("on GET /players") for t in titles)
    assert any(t.endswith("on GET /players/{id}") for t in titles)
    members = {m["member"] for f in findings for m in f["members"]}
    assert "GET /players $[*].team" in members


def validation_body(*fields: str) -> dict[str, Any]:
    return {"status": 400, "errors": {name: ["invalid"] for name in fields}}


def test_validator_bypassed_on_two_operations_is_one_finding_with_the_rules() -> None:
    records = [
        record(
            "d1",
            "POST",
            "/players",
            "/players",
            400,
            201,
            category="validator bypassed",
            body={"squadNumber": 120},
            jit_body=validation_body("SquadNumber"),
        ),
        record(
            "d2",
            "PUT",
            "/players/1",
            "/players/{n}",
            400,
            204,
            category="validator bypassed",
            body={"position": "XX"},
            jit_body=validation_body("Position", "SquadNumber"),
        ),
        # the same requests answered otherwise by the AOT build: a second finding
        record(
            "d3",
            "POST",
            "/players",
            "/players",
            400,
            500,
            category="AOT failure",
            body={},
            jit_body=validation_body("FirstName"),
            log=[
                "System.NullReferenceException: Object reference not set",
                "   at Players.Api.Endpoints.PlayerEndpoints.CreateAsync() + 0x2a",
            ],
        ),
        record(
            "d4",
            "PUT",
            "/players/99",
            "/players/{n}",
            400,
            404,
            category="status differs",
            body={},
            jit_body=validation_body("FirstName"),
        ),
    ]
    findings = build_findings(records)
    assert [f["kind"] for f in findings] == ["jit-rejects", "validator"]
    rejects, bypassed = findings
    assert bypassed["divergences"] == ["d1", "d2"]
    assert bypassed["category"] == "validator bypassed"
    assert bypassed["request_fields"] == ["SquadNumber", "Position"]
    assert bypassed["title"].startswith(
        "The AOT build accepts requests the JIT build rejects with 400 (POST /players, "
        "PUT /players/{n})"
    )
    assert bypassed["fix"]["id"] == "explicit-validators"
    assert rejects["divergences"] == ["d3", "d4"]
    assert rejects["category"] == "AOT failure"  # the most severe of its divergences
    assert "get 500, 404" in rejects["title"]
    assert rejects["exception"] == {
        "type": "System.NullReferenceException",
        "message": "Object reference not set",
        "frame": "Players.Api.Endpoints.PlayerEndpoints.CreateAsync()",
    }


def test_aot_failures_group_per_operation_and_exception() -> None:
    json_log = [
        "fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]",
        "      System.NotSupportedException: JsonTypeInfo metadata for type "
        "'System.Collections.Generic.IEnumerable`1[Players.Api.LeagueSummary]' was not provided",
        "         at System.Text.Json.ThrowHelper.ThrowNotSupportedException() + 0x67",
    ]
    records = [
        record(
            "d1",
            "GET",
            "/players/leagues",
            "/players/leagues",
            200,
            500,
            category="AOT failure",
            log=json_log,
        ),
        record(
            "d2",
            "GET",
            "/players/leagues",
            "/players/leagues",
            200,
            500,
            category="AOT failure",
            log=json_log,
            origin="generated",
        ),
        record(
            "d3",
            "GET",
            "/players/starting11",
            "/players/starting11",
            200,
            500,
            category="AOT failure",
            log=[
                "System.ArgumentOutOfRangeException: Cannot find member GetEnumerator",
                "   at AutoMapper.Internal.TypeExtensions.GetInheritedMethod() + 0x1a0",
            ],
        ),
    ]
    findings = build_findings(records)
    assert [f["divergences"] for f in findings] == [["d1", "d2"], ["d3"]]
    leagues, starting = findings
    assert leagues["fix"]["id"] == "json-serializer-context"
    assert "[JsonSerializable(typeof(IEnumerable<LeagueSummary>))]" in leagues["fix"]["summary"]
    assert leagues["title"].startswith(
        "GET /players/leagues fails on the AOT build (500, System.NotSupportedException: "
    )
    assert starting["fix"]["id"] == "reflection-mapping"
    assert (
        starting["exception"]["frame"] == "AutoMapper.Internal.TypeExtensions.GetInheritedMethod()"
    )


def test_a_later_answer_that_follows_from_a_stored_invalid_write_is_a_consequence() -> None:
    records = [
        # the AOT build stored squad number 77 (its validator did not run)
        record(
            "d1",
            "POST",
            "/players",
            "/players",
            400,
            201,
            category="validator bypassed",
            body={"squadNumber": 77, "lastName": ""},
            nodeid="t.py::test_rejects",
        ),
        # so a later valid create of 77 conflicts on the AOT build only...
        record(
            "d2",
            "POST",
            "/players",
            "/players",
            201,
            409,
            category="status differs",
            body={"squadNumber": 77, "lastName": "Barco"},
            nodeid="t.py::test_lifecycle",
            jit_body={"id": "f00d", "squadNumber": 77},
            headers=[["Location", "/players/77"]],
        ),
        # ...and the player the JIT build created is not there on the AOT build
        record(
            "d3",
            "GET",
            "/players/by-id/f00d",
            "/players/by-id/{id}",
            200,
            404,
            category="status differs",
            nodeid="t.py::test_lifecycle",
        ),
        # an unrelated status change is not a consequence
        record(
            "d4", "GET", "/players/5", "/players/{squadNumber}", 200, 404, category="status differs"
        ),
    ]
    assert consequences(records) == {"d2": "d1", "d3": "d1"}
    findings = build_findings(records)
    bypassed = next(f for f in findings if f["kind"] == "validator")
    assert bypassed["divergences"] == ["d1"]
    assert [c["divergence"] for c in bypassed["consequences"]] == ["d2", "d3"]
    assert all(d not in ("d2", "d3") for f in findings for d in f["divergences"])
    assert {f["kind"] for f in findings} == {"validator", "status"}


def test_no_consequence_without_a_shared_identity() -> None:
    records = [
        record(
            "d1",
            "POST",
            "/players",
            "/players",
            400,
            201,
            category="validator bypassed",
            body={"squadNumber": 77},
        ),
        record(
            "d2",
            "POST",
            "/players",
            "/players",
            400,
            409,
            category="status differs",
            body={"squadNumber": 1},
        ),
    ]
    assert consequences(records) == {}


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        ({"kind": "null vs value", "jit": "x", "aot": None}, "lost"),
        ({"kind": "missing field", "jit": "x", "aot": None}, "lost"),
        ({"kind": "value change", "jit": 7, "aot": 0}, "lost"),
        ({"kind": "value change", "jit": True, "aot": False}, "lost"),
        ({"kind": "value change", "jit": 7, "aot": 8}, "value"),
        ({"kind": "value change", "jit": 0, "aot": 7}, "value"),
        ({"kind": "type change", "jit": "RW", "aot": 7}, "type"),
        ({"kind": "extra field", "jit": None, "aot": 1}, "extra"),
        ({"kind": "header", "jit": "a", "aot": "b"}, "header"),
    ],
)
def test_difference_classes(diff: dict[str, Any], expected: str) -> None:
    assert difference_class(diff) == expected


def test_a_findings_category_does_not_depend_on_the_order_of_differences() -> None:
    diffs = [
        lost("$.team", "PlayerResponse.team", "River"),
        {
            "path": "$.position",
            "generic_path": "$.position",
            "member": "PlayerResponse.position",
            "kind": "type change",
            "jit": "RW",
            "aot": 7,
        },
    ]
    a = build_findings([record("d1", "GET", "/p/1", "/p/{id}", 200, 200, differences=diffs)])
    b = build_findings([record("d1", "GET", "/p/1", "/p/{id}", 200, 200, differences=diffs[::-1])])
    assert [(f["kind"], f["category"]) for f in a] == [(f["kind"], f["category"]) for f in b]
    assert {f["category"] for f in a} == {"mapping lost data", "serialization differs"}


def test_api_description_differs_is_its_own_finding() -> None:
    rec = record(
        "d1",
        "GET",
        "/openapi/v1.json",
        "/openapi/v1.json",
        200,
        200,
        category="API description differs",
        differences=[
            {
                "path": "$.paths['/players'].post",
                "generic_path": "$.paths['/players'].post",
                "member": None,
                "kind": "missing field",
                "jit": {},
                "aot": None,
            }
        ],
    )
    (finding,) = build_findings([rec])
    assert finding["kind"] == "document"
    assert finding["category"] == "API description differs"
    assert finding["fix"]["id"] == "openapi-document"


def test_start_failures_come_first_as_one_finding() -> None:
    failure = {
        "build": "aot",
        "summary": "the aot build exited at start with code 134: System.InvalidOperationException",
        "exception_type": "System.InvalidOperationException",
        "exception_message": "Model building is not supported when publishing with NativeAOT.",
        "frames": ["Microsoft.EntityFrameworkCore.Metadata.Internal.Model..ctor()"],
        "log_tail": [],
    }
    findings = build_findings([], start_failures=[failure])
    assert [f["id"] for f in findings] == ["F1"]
    assert findings[0]["kind"] == "start"
    assert findings[0]["severity"] == "critical"
    assert findings[0]["fix"]["id"] == "ef-core-compiled-model"


def test_findings_are_ordered_by_severity_and_numbered() -> None:
    records = [
        players_list("d1"),
        record("d2", "GET", "/x", "/x", 200, 500, category="AOT failure"),
    ]
    findings = build_findings(records)
    assert [f["id"] for f in findings] == ["F1", "F2", "F3"]
    assert findings[0]["severity"] == "critical"


def test_render_collapses_elements_with_counts_and_two_examples() -> None:
    lines = render_findings(build_findings([players_list("d1")]))
    assert lines[0] == "2 findings (2 major):"
    assert (
        '    PlayerResponse.team ($[*].team)  null vs value  ×6  e.g. "River" → null, "Boca" → null'
        in lines
    )
    assert any(line.startswith("    fix: ") for line in lines)
    assert any(line.startswith("      see https://") for line in lines)


def test_every_fix_hint_has_an_official_page() -> None:
    assert len({h.id for h in HINTS}) == len(HINTS)
    for hint in HINTS:
        assert hint.docs, hint.id
        assert all(d.url.startswith("https://") for d in hint.docs)
    assert hint_for("members", "mapping lost data", "AutoMapper.Internal.TypeDetails")["id"] == (
        "reflection-mapping"
    )
    assert hint_for("members", "mapping lost data", "")["id"] == "trimmed-members"
