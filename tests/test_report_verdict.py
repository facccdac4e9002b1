"""The verdict rule (proceed / defer / reject) and the verdict options' usage errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.report.verdict import (
    OPT_BASELINE,
    OPT_HTML,
    OPT_UPDATE_BASELINE,
    OPT_WARNINGS,
    VERDICT_RULE,
    decide,
    parity_by_endpoint,
)

JIT = "http://127.0.0.1:9"
AOT = "http://127.0.0.1:10"


def div(category: str, baseline: str = "new", endpoint: str = "GET /p") -> dict[str, Any]:
    method, template = endpoint.split(" ", 1)
    return {"category": category, "baseline": baseline, "method": method, "path_template": template}


@pytest.mark.parametrize(
    ("records", "exited", "decision", "in_reason"),
    [
        ([], [], "proceed", "12 requests compared, no new divergence"),
        (
            [div("AOT failure", "known"), div("validator bypassed", "accepted")],
            [],
            "proceed",
            "2 known divergences accepted",
        ),
        ([div("AOT failure")], [], "reject", "fails requests the JIT build answers"),
        ([div("validator bypassed")], [], "reject", "accepts requests the JIT build rejects"),
        (
            [div("mapping lost data"), div("validator bypassed"), div("AOT failure")],
            [],
            "reject",
            "(AOT failure x1, validator bypassed x1)",
        ),
        (
            [div("mapping lost data"), div("mapping lost data"), div("behaviour differs")],
            [],
            "defer",
            "3 new divergences (mapping lost data x2, behaviour differs x1)",
        ),
        ([div("serialization differs"), div("AOT failure", "known")], [], "defer", "1 new"),
        ([], [{"build": "aot", "exit_code": 134}], "reject", "the AOT build exited"),
        ([], [{"build": "jit", "exit_code": 1}], "defer", "JIT build exited"),
    ],
)
def test_the_verdict_rule(
    records: list[dict[str, Any]], exited: list[dict[str, Any]], decision: str, in_reason: str
) -> None:
    verdict = decide(records, requests_compared=12, exited=exited)
    assert verdict.decision == decision
    assert in_reason in verdict.reason
    data = verdict.to_dict()
    assert data["rule"] == VERDICT_RULE
    assert data["new_divergences"] + data["known_divergences"] == len(records)
    assert verdict.render_line().startswith(f"verdict: {decision.upper()}: ")


def test_no_request_compared_is_no_evidence() -> None:
    verdict = decide([], requests_compared=0)
    assert verdict.decision == "defer"
    assert "no request was compared" in verdict.reason


def test_parity_by_endpoint_lists_endpoints_that_answered_alike() -> None:
    rows = parity_by_endpoint(
        [div("AOT failure", endpoint="GET /a"), div("mapping lost data", "known", "GET /b")],
        {"GET /a": 3, "GET /b": 2, "GET /c": 5},
    )
    assert [r["endpoint"] for r in rows] == ["GET /a", "GET /b", "GET /c"]
    assert rows[0] == {
        "endpoint": "GET /a",
        "compared": 3,
        "divergent": 1,
        "new": 1,
        "known": 0,
        "categories": {"AOT failure": 1},
    }
    assert rows[1]["known"] == 1
    assert rows[2]["divergent"] == 0


# -- options ------------------------------------------------------------------------------


def run_usage(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    return pytester.runpytest(
        "--aot-parity", f"--aot-parity-jit={JIT}", f"--aot-parity-aot={AOT}", *args
    )


def test_update_without_a_baseline_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run_usage(pytester, OPT_UPDATE_BASELINE.flag)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--aot-parity-update-baseline rewrites the baseline file, but no baseline file is set*"]
    )


def test_a_missing_baseline_says_how_to_create_it(pytester: pytest.Pytester) -> None:
    result = run_usage(pytester, f"{OPT_BASELINE.flag}=accepted.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--aot-parity-baseline (ini aot_parity_baseline)*accepted.json: no such baseline file*"]
    )


def test_a_broken_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "b.json").write_text("{")
    result = run_usage(pytester, f"{OPT_BASELINE.flag}=b.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*b.json: not valid JSON*"])


def test_a_bad_warnings_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run_usage(pytester, f"{OPT_WARNINGS.flag}=nope.log")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--aot-parity-warnings (ini aot_parity_warnings)*no such file*"])
    (pytester.path / "w.json").write_text(json.dumps({"warnings": 3}))
    result = run_usage(pytester, f"{OPT_WARNINGS.flag}=w.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'warnings' list*"])


def test_a_directory_is_not_an_html_file(pytester: pytest.Pytester) -> None:
    (pytester.path / "out").mkdir()
    result = run_usage(pytester, f"{OPT_HTML.flag}=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--aot-parity-html (ini aot_parity_html) = 'out': this is a directory*"]
    )


def test_ini_paths_are_relative_to_the_ini_file(pytester: pytest.Pytester) -> None:
    (pytester.path / "ci").mkdir()
    (pytester.path / "ci" / "baseline.json").write_text('{"version": 1, "entries": []}')
    pytester.makeini(
        f"""
        [pytest]
        aot_parity = true
        aot_parity_jit = {JIT}
        aot_parity_aot = {AOT}
        aot_parity_baseline = ci/baseline.json
        aot_parity_html = out/report.html
        """
    )
    sub = pytester.path / "sub"
    sub.mkdir()
    config = pytester.parseconfigure(sub)
    from pytest_aotparity.keys import RUN_KEY

    try:
        gate = config.stash[RUN_KEY].gate
        assert gate.settings.baseline_path == pytester.path / "ci" / "baseline.json"
        assert gate.settings.html_path == pytester.path / "out" / "report.html"
        assert gate.baseline is not None
        assert len(gate.baseline) == 0
    finally:
        config._ensure_unconfigure()


def test_the_options_are_in_the_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    for option in (OPT_HTML, OPT_WARNINGS, OPT_BASELINE, OPT_UPDATE_BASELINE):
        result.stdout.fnmatch_lines([f"*{option.flag}*"])
        result.stdout.fnmatch_lines([f"*{option.ini}*"])


def test_paths_on_the_command_line_are_relative_to_the_invocation_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = pytester.path / "sub"
    sub.mkdir()
    (sub / "b.json").write_text('{"version": 1, "entries": []}')
    monkeypatch.chdir(sub)
    config = pytester.parseconfigure(
        "--aot-parity",
        f"--aot-parity-jit={JIT}",
        f"--aot-parity-aot={AOT}",
        "--aot-parity-baseline=b.json",
    )
    from pytest_aotparity.keys import RUN_KEY

    try:
        assert config.stash[RUN_KEY].gate.settings.baseline_path == Path(sub / "b.json")
    finally:
        config._ensure_unconfigure()
