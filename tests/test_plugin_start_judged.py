"""A run whose builds cannot start well stops as soon as that is clear, says why, and leaves
nothing running (the autouse fixture of conftest.py checks every fake app is gone).

The start timeout is 600 s, far above these tests' own timeout: a run that waited it out
would fail the test. Nothing here measures time.
"""

from __future__ import annotations

from pathlib import Path

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


def test_an_aot_build_that_exits_at_start_is_reported_with_its_exception(
    pytester: pytest.Pytester,
) -> None:
    _, err = _run(
        pytester,
        *parity_args(jit=broken_target("ok"), aot=broken_target("exit"), start_timeout=NEVER),
    )
    assert "aot-parity: the AOT build exited at start (exit 134: SIGABRT)" in err
    assert "exception: System.InvalidOperationException: Unable to resolve the Serilog" in err
    assert "at Serilog.Settings.Configuration.ConfigurationReader.LoadSinks(" in err
    assert "so no test ran" in err
    assert "--aot-parity-start-timeout" not in err  # nothing to wait longer for


def test_an_aot_build_answering_500_on_its_health_path_is_judged(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    polls = tmp_path / "polls"
    _, err = _run(
        pytester,
        *parity_args(
            jit=broken_target("ok"),
            aot=broken_target("health500", "--count-file", str(polls)),
            start_timeout=NEVER,
            extra=("--aot-parity-start-grace=1",),
        ),
    )
    assert "the AOT build answers 500 on /health where the JIT build answers 200" in err
    assert "AOT build on /health: 500 application/problem+json" in err
    assert '> {"type": "https://tools.ietf.org/html/rfc9110#section-15.6.1"' in err
    assert "JIT build on /health: 200 application/json" in err
    assert "exception in the AOT log: System.NotSupportedException: JsonTypeInfo" in err
    assert "now 1 s" in err  # the grace given
    assert len(polls.read_text().splitlines()) >= 3


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
