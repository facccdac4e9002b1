"""A start is judged, not waited out: builds that exit, answer their health path with non-2xx
or share a wrong health path fail as soon as that is clear, with a typed record.

Each test sets the start timeout far above its own pytest timeout, so a start that waited
the timeout out fails the test instead of passing slowly; no test times anything.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets import (
    GRACE_ANSWERS,
    HealthPathError,
    StartFailedError,
    Target,
    TargetOptions,
    TargetSpec,
    TargetsStartError,
    parse_target,
    start_targets,
    stop_targets,
)
from pytest_aotparity.targets.health import find_exception
from pytest_aotparity.targets.process import ProcessTarget

BROKEN = Path(__file__).parent / "fakeapps" / "broken.py"
NEVER = 600.0
"""A start timeout no test may wait out (the tests' own timeout is far lower)."""

pytestmark = pytest.mark.timeout(120)


def broken(build: BuildName, mode: str, *extra: str) -> TargetSpec:
    words = [shlex.quote(sys.executable), shlex.quote(str(BROKEN)), "--mode", mode]
    words += ["--port", "{port}", *(shlex.quote(word) for word in extra)]
    return parse_target("cmd:" + " ".join(words), build)


def broken_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.status() != psutil.STATUS_ZOMBIE and any(
                "broken.py" in part for part in child.cmdline()
            ):
                found.append(child)
    return found


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    yield
    left = broken_processes()
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    assert left == [], "fake apps left running"


class Tracked:
    """A factory that remembers the targets it made, to check each was stopped."""

    def __init__(self) -> None:
        self.made: list[ProcessTarget] = []

    def __call__(self, spec: TargetSpec, options: TargetOptions) -> Target:
        target = ProcessTarget(spec, options)
        self.made.append(target)
        return target

    def all_stopped(self) -> bool:
        return all(target.exit_code() is not None for target in self.made if target.pid)


def _start(
    tmp_path: Path, specs: list[TargetSpec], **options: object
) -> tuple[StartFailedError, Tracked]:
    opts = TargetOptions(state_dir=str(tmp_path / "state"), start_timeout=NEVER, **options)  # type: ignore[arg-type]
    tracked = Tracked()
    with pytest.raises(StartFailedError) as info:
        start_targets(specs, opts, factory=tracked)
    assert tracked.all_stopped()
    assert not list((tmp_path / "state").glob("proc-*.json"))
    return info.value, tracked


def _polls(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_aot_build_that_exits_is_judged_at_once_with_its_exception(tmp_path: Path) -> None:
    error, _ = _start(tmp_path, [broken("jit", "ok"), broken("aot", "exit")])
    assert isinstance(error, TargetsStartError)  # existing handling still catches it
    failure = error.failure
    assert failure is not None
    assert [f.build for f in error.failures] == ["aot"]
    assert failure.kind == "exited"
    assert failure.about_aot
    assert failure.summary == "the AOT build exited at start (exit 134: SIGABRT)"
    assert failure.exit_code == 134
    assert failure.signal == "SIGABRT"
    assert failure.exception_type == "System.InvalidOperationException"
    assert failure.exception_message is not None
    assert failure.exception_message.startswith("Unable to resolve the Serilog sink 'Console'")
    assert failure.frames[0].startswith(
        "Serilog.Settings.Configuration.ConfigurationReader.LoadSinks("
    )
    assert failure.frames[-1] == "Program.<Main>$(String[] args) + 0x213"
    assert len(failure.frames) == 3
    assert failure.start_timeout == NEVER
    assert failure.elapsed_seconds is not None
    message = str(error)
    assert message.startswith("aot-parity: the AOT build exited at start (exit 134: SIGABRT)\n")
    assert "  exception: System.InvalidOperationException: Unable to resolve" in message
    assert "  exit code: 134" in message
    assert "log lines of the AOT build:" in message
    assert "run it by hand" in message
    record = json.loads(json.dumps(error.to_dict()))
    assert record["failures"][0]["kind"] == "exited"
    assert record["failures"][0]["exception_type"] == "System.InvalidOperationException"
    assert record["failures"][0]["frames"] == list(failure.frames)


def test_a_native_crash_without_a_managed_exception_names_the_signal(tmp_path: Path) -> None:
    error, _ = _start(tmp_path, [broken("jit", "ok"), broken("aot", "segv")])
    failure = error.failure
    assert failure is not None
    assert failure.kind == "exited"
    assert failure.exit_code == -11  # a process killed by the signal; a container says 139
    assert failure.signal == "SIGSEGV"
    assert failure.summary == "the AOT build exited at start (exit -11: SIGSEGV)"
    assert failure.exception_type is None
    assert failure.frames == ()
    assert "no .NET exception in its log: SIGSEGV is a crash in native code" in failure.hint


def test_the_jit_build_exiting_is_stated_as_the_reference_failing(tmp_path: Path) -> None:
    error, _ = _start(tmp_path, [broken("jit", "exit", "--exit-code", "3"), broken("aot", "ok")])
    failure = error.failure
    assert failure is not None
    assert failure.build == "jit"
    assert not failure.about_aot
    assert failure.summary == "the JIT build exited at start (exit 3)"
    assert failure.signal is None
    assert "the JIT build is the reference: this says nothing about the AOT build" in failure.hint


def test_aot_answering_500_where_jit_answers_200_is_judged_after_the_grace(
    tmp_path: Path,
) -> None:
    polls = tmp_path / "aot-polls"
    error, _ = _start(
        tmp_path, [broken("jit", "ok"), broken("aot", "health500", "--count-file", str(polls))]
    )
    failure = error.failure
    assert failure is not None
    assert failure.kind == "unhealthy"
    assert failure.summary == (
        "the AOT build answers 500 on /health where the JIT build answers 200"
    )
    aot, jit = failure.answer_of("aot"), failure.answer_of("jit")
    assert aot is not None
    assert jit is not None
    assert (aot.status, aot.content_type) == (500, "application/problem+json")
    assert any("An error occurred while processing your request." in line for line in aot.body)
    assert (jit.status, jit.content_type, jit.body) == (
        200,
        "application/json",
        ('{"status":"Healthy"}',),
    )
    assert aot.count >= GRACE_ANSWERS
    assert aot.seconds >= failure.start_grace  # type: ignore[operator]
    # judged on what it answered, not after the timeout: a few grace seconds of polls
    assert GRACE_ANSWERS <= _polls(polls) == aot.count
    assert failure.exception_type == "System.NotSupportedException"
    assert failure.exception_message is not None
    assert failure.exception_message.startswith("JsonTypeInfo metadata for type 'HealthReport'")
    assert failure.frames[0].startswith("System.Text.Json.ThrowHelper.")
    message = str(error)
    assert message.startswith(
        "aot-parity: the AOT build answers 500 on /health where the JIT build answers 200\n"
    )
    assert "  exception in the AOT log: System.NotSupportedException: JsonTypeInfo" in message
    assert "  AOT build on /health: 500 application/problem+json" in message
    assert "  JIT build on /health: 200 application/json" in message
    assert "--aot-parity-start-grace" in message


def test_the_grace_is_configurable(tmp_path: Path) -> None:
    polls = tmp_path / "aot-polls"
    error, _ = _start(
        tmp_path,
        [broken("jit", "ok"), broken("aot", "health500", "--count-file", str(polls))],
        start_grace=0,
    )
    failure = error.failure
    assert failure is not None
    assert failure.kind == "unhealthy"
    assert failure.start_grace == 0
    # with no grace seconds, judged on the answers alone once the JIT build is healthy
    answer = failure.answer_of("aot")
    assert answer is not None
    assert answer.count >= GRACE_ANSWERS
    assert _polls(polls) == answer.count


def test_the_noise_build_is_judged_like_any_jit_build(tmp_path: Path) -> None:
    error, _ = _start(
        tmp_path, [broken("jit", "ok"), broken("aot", "ok"), broken("noise", "health500")]
    )
    failure = error.failure
    assert failure is not None
    assert failure.build == "noise"
    assert failure.summary == (
        "the noise JIT build answers 500 on /health where the JIT build answers 200"
    )
    assert "about the reference, not the AOT build" in failure.hint


def test_no_build_answering_2xx_is_a_health_path_error(tmp_path: Path) -> None:
    polls = tmp_path / "jit-polls"
    error, tracked = _start(
        tmp_path,
        [broken("jit", "health404", "--count-file", str(polls)), broken("aot", "health404")],
    )
    assert isinstance(error, HealthPathError)
    assert len(tracked.made) == 2
    failure = error.failure
    assert failure is not None
    assert failure.kind == "health_path"
    assert failure.summary == (
        "no build answers 2xx on the health path /health "
        "(the JIT build answers 404, the AOT build answers 404)"
    )
    assert {a.build: a.status for a in failure.answers} == {"jit": 404, "aot": 404}
    assert _polls(polls) >= GRACE_ANSWERS
    message = str(error)
    assert "--aot-parity-health PATH (ini aot_parity_health)" in message
    assert "  JIT build on /health: 404 text/plain" in message
    assert "  AOT build on /health: 404 text/plain" in message


def test_the_health_path_setting_is_what_is_judged(tmp_path: Path) -> None:
    targets = start_targets(
        [broken("jit", "health404"), broken("aot", "health404")],
        TargetOptions(state_dir=str(tmp_path), start_timeout=NEVER, health_path="/ready"),
    )
    try:
        assert set(targets) == {"jit", "aot"}
    finally:
        assert stop_targets(targets.values())


def test_a_build_that_does_not_answer_at_all_still_times_out(tmp_path: Path) -> None:
    opts = TargetOptions(state_dir=str(tmp_path), start_timeout=2)
    with pytest.raises(StartFailedError) as info:
        start_targets([broken("jit", "ok"), broken("aot", "slow", "--delay", "300")], opts)
    failure = info.value.failure
    assert failure is not None
    assert failure.kind == "timeout"
    assert failure.summary.startswith(
        "the AOT build was not healthy after 2 s on http://127.0.0.1:"
    )
    own = failure.answer_of("aot")
    assert own is not None
    assert own.status is None
    assert own.error == "connection refused"
    assert "raise the start timeout" in failure.hint


def test_a_slow_build_that_gets_healthy_is_not_judged(tmp_path: Path) -> None:
    targets = start_targets(
        [broken("jit", "ok"), broken("aot", "slow", "--delay", "4")],
        TargetOptions(state_dir=str(tmp_path), start_timeout=NEVER),
    )
    try:
        assert all(target.exit_code() is None for target in targets.values())
    finally:
        assert stop_targets(targets.values())


# -- the log parser, on real .NET output --------------------------------------------------

AOT_CRASH = """\
Unhandled exception. System.InvalidOperationException: Unrecognized scheme in server address 'ftp://0.0.0.0:8080'. Only 'http://' and 'https://' are supported.
   at Microsoft.AspNetCore.Server.Kestrel.Core.Internal.AddressBinder.ParseAddress(String, Boolean&) + 0x26a
   at Microsoft.AspNetCore.Server.Kestrel.Core.Internal.AddressBinder.AddressesStrategy.<BindAsync>d__3.MoveNext() + 0xdb
--- End of stack trace from previous location ---
   at Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerImpl.<BindAsync>d__31.MoveNext() + 0x157
fail: Microsoft.Extensions.Hosting.Internal.Host[11]
      Hosting failed to start
      System.InvalidOperationException: Unrecognized scheme in server address 'ftp://0.0.0.0:8080'.
         at Microsoft.AspNetCore.Server.Kestrel.Core.Internal.AddressBinder.ParseAddress(String, Boolean&) + 0x26a
""".splitlines()  # noqa: E501 - as the sample app's AOT image prints it


def test_the_unhandled_exception_and_its_first_frames_are_found() -> None:
    found = find_exception(AOT_CRASH, at_start=True)
    assert found is not None
    assert found.unhandled
    assert found.type == "System.InvalidOperationException"
    assert found.message.startswith("Unrecognized scheme in server address 'ftp://0.0.0.0:8080'.")
    assert found.frames == (
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.AddressBinder.ParseAddress"
        "(String, Boolean&) + 0x26a",
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.AddressBinder.AddressesStrategy"
        ".<BindAsync>d__3.MoveNext() + 0xdb",
        "Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerImpl.<BindAsync>d__31.MoveNext()"
        " + 0x157",
    )
    later = find_exception(AOT_CRASH, at_start=False)
    assert later is not None
    assert not later.unhandled  # the logged one, as a failing request's would be
    assert find_exception(["info: Now listening on: http://[::]:8080"], at_start=True) is None


def test_an_hresult_after_the_exception_type_is_skipped() -> None:
    found = find_exception(
        [
            "Unhandled exception. Microsoft.Data.Sqlite.SqliteException (0x80004005): SQLite "
            "Error 14: 'unable to open database file'.",
            "   at Microsoft.Data.Sqlite.SqliteException.ThrowExceptionForRC(Int32, sqlite3) "
            "+ 0x135",
            "   at Players!<BaseAddress>+0x838042",
        ],
        at_start=True,
    )
    assert found is not None
    assert found.type == "Microsoft.Data.Sqlite.SqliteException"
    assert found.message == "SQLite Error 14: 'unable to open database file'."
    assert found.frames == (
        "Microsoft.Data.Sqlite.SqliteException.ThrowExceptionForRC(Int32, sqlite3) + 0x135",
        "Players!<BaseAddress>+0x838042",
    )
