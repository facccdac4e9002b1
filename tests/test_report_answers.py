"""The spike's four questions answered from findings, warnings and totals."""

from __future__ import annotations

from typing import Any

from pytest_aotparity.report.answers import render_answers, spike_answers

WARNINGS: dict[str, Any] = {
    "count": 5,
    "by_code": [{"code": "IL2026", "count": 2}, {"code": "IL3050", "count": 3}],
    "by_library": {"AutoMapper": 3, "FluentValidation": 2},
}


def finding(fid: str, kind: str, fix: str | None, warnings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": fid,
        "kind": kind,
        "fix": {"id": fix} if fix else None,
        "warnings": warnings,
        "endpoints": [{"endpoint": "POST /players", "divergences": 1}],
        "tests": ["t.py::test_a"],
        "aot_log": None,
    }


FINDINGS = [
    finding(
        "F1",
        "validator",
        "explicit-validators",
        [{"code": "IL2026", "type": "FluentValidation.AssemblyScanner", "member": None}],
    ),
    finding("F2", "aot-fails", "json-serializer-context", []),
    finding(
        "F3",
        "members",
        "reflection-mapping",
        [{"code": "IL3050", "type": "AutoMapper.Internal.TypeDetails", "member": None}],
    ),
]


def answers(findings: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, str]:
    settings: dict[str, Any] = {
        "warnings": WARNINGS,
        "summary": {"tests_mirrored": 10, "tests_diverged": 3},
        "tradeoffs": {"figures": []},
        **kw,
    }
    result = spike_answers(FINDINGS if findings is None else findings, **settings)
    return {a["question"]: a["answer"] for a in result}


def test_each_question_gets_its_answer_with_evidence() -> None:
    got = answers()
    assert got["Does the AOT publish succeed without blocking warnings?"] == (
        "5 trim/AOT warnings (IL3050 ×3, IL2026 ×2); 2 of 3 findings linked to them; "
        "predicted by no warning: F2"
    )
    assert got["Do the tests pass against the AOT build?"].startswith(
        "3 of 10 tests got different answers from the AOT build"
    )
    assert got["Is the build time acceptable?"].startswith("not measured: ")
    assert got["Do the mappers and validators work at run time?"] == (
        "AutoMapper: mapping does not work on AOT (F3); FluentValidation: the validators did "
        "not run on AOT — 1 operation accepted what JIT rejected (F1); System.Text.Json: "
        "serialization differs or fails on AOT (F2)"
    )


def test_without_warnings_the_answers_say_how_to_measure() -> None:
    got = answers(warnings=None, findings=[])
    assert got["Does the AOT publish succeed without blocking warnings?"].startswith(
        "not measured: give the AOT publish log"
    )
    assert got["Do the mappers and validators work at run time?"].startswith("not measured: ")


def test_a_warned_library_without_findings_is_said_to_have_held() -> None:
    got = answers(findings=[], summary={"tests_mirrored": 4, "tests_diverged": 0})
    assert got["Do the tests pass against the AOT build?"] == (
        "every one of 4 tests got the same answers from both builds"
    )
    assert (
        "AutoMapper: warned at publish, no divergence on the requests compared"
        in got["Do the mappers and validators work at run time?"]
    )
    lines = render_answers(spike_answers([], warnings=WARNINGS, summary={}, tradeoffs={}))
    assert lines[0] == "the spike's questions:"
    assert len(lines) == 5


def test_a_build_that_could_not_start_answers_nothing_it_did_not_measure() -> None:
    start = {**finding("F1", "start", "ef-core-compiled-model", [{"code": "IL3050"}])}
    got = answers(findings=[start], summary={"tests_mirrored": 0, "tests_diverged": 0})
    assert got["Does the AOT publish succeed without blocking warnings?"] == (
        "5 trim/AOT warnings (IL3050 ×3, IL2026 ×2); the AOT build could not be started (F1), "
        "1 warning linked to its failure"
    )
    assert got["Do the tests pass against the AOT build?"].startswith("not measured: ")
    assert got["Do the mappers and validators work at run time?"] == (
        "not measured: the builds could not be started (F1)"
    )
