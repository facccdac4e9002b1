"""Every way out of a run stops every build: builds that cannot start, Ctrl-C while a test
runs, a build that crashes in the middle of the run. Checked with psutil on the real
processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from tests.conftest import broken_target, fake_target, parity_args, player_processes


def _gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_build_that_exits_at_start_ends_the_session_with_its_log(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_never_runs(): pass")
    result = pytester.runpytest(*parity_args(aot=fake_target("aot", "--exit-at-start", "3")))
    # the build's failure is the run's verdict (test_plugin_start_judged.py), not a usage error
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    err = result.stdout.str()
    assert "the AOT build exited at start (exit 3)" in err
    assert "exit code: 3" in err
    assert "System.IO.FileNotFoundException: players.db" in err  # its last log lines
    assert "1 collected test was not run" in err
    result.stdout.no_fnmatch_line("*test_never_runs*")
    # the jit build had started fine: it was stopped (checked by the autouse fixture too)
    assert player_processes() == []


def test_a_build_that_never_gets_ready_times_out(pytester: pytest.Pytester) -> None:
    # A build that answers 503 is judged by its answers (test_plugin_start_judged.py); the
    # timeout is for one that does not answer at all.
    pytester.makepyfile("def test_never_runs(): pass")
    result = pytester.runpytest(
        *parity_args(aot=broken_target("slow", "--delay", "300"), start_timeout=3)
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "the AOT build was not healthy after 3 s" in err
    assert "last error: connection refused" in err
    assert "allow more time with --aot-parity-start-timeout" in err


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"pytest ended early ({proc.returncode}):\n{out}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def test_ctrl_c_while_a_test_runs_stops_every_build(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    started = pytester.path / "started"
    players_suite(
        f"""
        import time


        def test_sleeps(client):
            assert client.get("/players").status_code == 200
            open({str(started)!r}, "w").close()
            time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *parity_args(noise="auto")],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(started, proc)
        apps = player_processes(psutil.Process(proc.pid))
        assert len(apps) == 3, [a.cmdline() for a in apps]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "KeyboardInterrupt" in out
    deadline = time.monotonic() + 10
    while not all(_gone(app) for app in apps) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(app) for app in apps), [app.pid for app in apps if not _gone(app)]


def test_a_build_that_crashes_mid_run_is_reported_and_cleaned_up(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    # Request 1 is the health check; the suite's third request kills the AOT build.
    players_suite(
        """
        def test_one(client):
            assert client.get("/players").status_code == 200


        def test_two(client):
            assert client.get("/players").status_code == 200


        def test_three_crashes_the_aot_build(client):
            assert client.get("/players").status_code == 200


        def test_four_after_the_crash(client):
            assert client.get("/players").status_code == 200
        """
    )
    result = pytester.runpytest(*parity_args(aot=fake_target("jit", "--crash-after", "4")), "-rA")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "the aot build exited during the run with code 134; its last log lines:",
            "*fatal: crashing on request 4 as asked*",
            "FAILED test_suite.py::test_three_crashes_the_aot_build - ParityFailure: "
            "GET /players: AOT failure*",
            "FAILED test_suite.py::test_four_after_the_crash - ParityFailure: "
            "GET /players: AOT failure*",
        ],
        consecutive=False,
    )
    after = result.stdout.str().split("___ test_four_after_the_crash ___", 1)[1]
    assert "note: the aot build has exited (exit code 134)." in after
    assert player_processes() == []
