"""A run whose builds cannot start well stops as soon as that is clear, says why, and leaves
nothing running (the autouse fixture of conftest.py checks every fake app is gone).

The start timeout is 600 s, far above these tests' own timeout: a run that waited it out
would fail the test. Nothing here measures time.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import broken_target, parity_args, player_processes

pytestmark = pytest.mark.timeout(180)
NEVER = 600


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, str]:
    pytester.makepyfile("def test_never_runs(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.no_fnmatch_line("*test_never_runs*")
    assert player_processes() == []
    return result, result.stderr.str()


def _run_reported(
    pytester: pytest.Pytester, *args: str
) -> tuple[str, dict[str, Any], str, ET.Element]:
    """A run whose start fails on a build: it ends with one failure, not a usage error, and
    still writes the JSON, HTML and JUnit reports."""
    pytester.makepyfile(
        "def test_never_runs(): pass\ndef test_nor_this(): pass\ndef test_nor_that(): pass"
    )
    report, html, junit = (pytester.path / name for name in ("r.json", "r.html", "j.xml"))
    result = pytester.runpytest(
        *args,
        f"--aot-parity-report={report}",
        f"--aot-parity-html={html}",
        f"--junitxml={junit}",
    )
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out[-3000:] + result.stderr.str()[-2000:]
    result.stdout.no_fnmatch_line("*test_never_runs*")
    # once, with the reason, not one error per test
    result.stdout.fnmatch_lines(["*FAILED aot-parity::start*", "*1 failed*"])
    assert "3 collected tests were not run: the builds could not be started." in out
    assert player_processes() == []
    document = json.loads(report.read_text(encoding="utf-8"))
    tree = ET.parse(junit).getroot()
    return out, document, html.read_text(encoding="utf-8"), tree


def _assert_junit_says(tree: ET.Element, summary: str) -> None:
    cases = tree.findall(".//testcase")
    assert len(cases) == 1, ET.tostring(tree, encoding="unicode")
    failure = cases[0].find("failure")
    assert failure is not None
    assert summary in (failure.text or "") + (failure.get("message") or "")


def test_an_aot_build_that_exits_at_start_is_a_reject_with_every_report(
    pytester: pytest.Pytester,
) -> None:
    out, document, html, junit = _run_reported(
        pytester,
        *parity_args(jit=broken_target("ok"), aot=broken_target("exit"), start_timeout=NEVER),
    )
    summary = "the AOT build exited at start (exit 134: SIGABRT)"
    assert f"aot-parity: {summary}; no test will run" in out
    assert "exception: System.InvalidOperationException: Unable to resolve the Serilog" in out
    assert "at Serilog.Settings.Configuration.ConfigurationReader.LoadSinks(" in out
    assert "--aot-parity-start-timeout" not in out  # nothing to wait longer for
    assert f"verdict: REJECT: {summary}, so nothing could be compared" in out
    verdict = document["verdict"]
    assert verdict["decision"] == "reject"
    assert summary in verdict["reason"]
    [failure] = document["start"]["failures"]
    assert failure["build"] == "aot"
    assert failure["kind"] == "exited"
    assert failure["exit_code"] == 134
    assert failure["exception_type"] == "System.InvalidOperationException"
    assert any("ConfigurationReader.LoadSinks" in frame for frame in failure["frames"])
    assert document["start"]["tests_not_run"] == 3
    assert document["summary"]["requests_compared"] == 0
    assert 'data-decision="reject"' in html
    assert "The builds could not be started" in html
    assert summary in html
    _assert_junit_says(junit, summary)


def test_a_jit_build_that_exits_at_start_is_stated_as_the_references_failure(
    pytester: pytest.Pytester,
) -> None:
    _, document, html, junit = _run_reported(
        pytester,
        *parity_args(jit=broken_target("exit"), aot=broken_target("ok"), start_timeout=NEVER),
    )
    summary = "the JIT build exited at start (exit 134: SIGABRT)"
    verdict = document["verdict"]
    assert verdict["decision"] == "defer"
    assert verdict["reason"].startswith(f"the reference failed, not the AOT build: {summary}")
    assert document["start"]["failures"][0]["build"] == "jit"
    assert 'data-decision="defer"' in html
    _assert_junit_says(junit, summary)


def test_an_aot_build_answering_500_on_its_health_path_is_judged(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    polls = tmp_path / "polls"
    out, document, html, junit = _run_reported(
        pytester,
        *parity_args(
            jit=broken_target("ok"),
            aot=broken_target("health500", "--count-file", str(polls)),
            start_timeout=NEVER,
            extra=("--aot-parity-start-grace=1",),
        ),
    )
    summary = "the AOT build answers 500 on /health where the JIT build answers 200"
    assert summary in out
    assert "AOT build on /health: 500 application/problem+json" in out
    assert '> {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.1"' in out
    assert "JIT build on /health: 200 application/json" in out
    assert "exception in the AOT log: System.NotSupportedException: JsonTypeInfo" in out
    assert "now 1 s" in out  # the grace given
    assert len(polls.read_text().splitlines()) >= 3
    assert document["verdict"]["decision"] == "reject"
    [failure] = document["start"]["failures"]
    assert failure["kind"] == "unhealthy"
    assert {a["build"]: a["status"] for a in failure["answers"]} == {"aot": 500, "jit": 200}
    assert summary in html
    _assert_junit_says(junit, summary)


def test_no_build_answering_2xx_on_the_health_path_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _, err = _run(
        pytester,
        *parity_args(
            jit=broken_target("health404"), aot=broken_target("health404"), start_timeout=NEVER
        ),
    )
    assert (
        "no build answers 2xx on the health path /health "
        "(the JIT build answers 404, the AOT build answers 404)"
    ) in err
    assert "--aot-parity-health PATH (ini aot_parity_health)" in err


def test_the_ini_grace_and_health_path_are_used(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naot_parity_health = /ready\naot_parity_start_grace = 0\n")
    pytester.makepyfile("def test_runs(): pass")
    result = pytester.runpytest(
        *parity_args(
            jit=broken_target("health404"), aot=broken_target("health404"), start_timeout=NEVER
        )
    )
    result.assert_outcomes(passed=1)
    assert player_processes() == []
