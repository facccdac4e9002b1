"""Starting builds together, stopping them all, SIGTERM/atexit cleanup and the orphan sweep."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets import (
    Target,
    TargetOptions,
    TargetSpec,
    TargetsStartError,
    create_target,
    parse_target,
    start_targets,
    stop_targets,
    sweep_orphans,
)
from pytest_aotparity.targets.process import ProcessRecord, ProcessTarget

PLAYERS = Path(__file__).parent / "fakeapps" / "players.py"


def fake(build: BuildName, *extra: str) -> TargetSpec:
    words = [shlex.quote(sys.executable), shlex.quote(str(PLAYERS)), "--flavour"]
    words += ["aot" if build == "aot" else "jit", "--port", "{port}", *extra]
    return parse_target("cmd:" + " ".join(words), build)


def _gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_start_targets_starts_all_at_once(tmp_path: Path) -> None:
    options = TargetOptions(state_dir=str(tmp_path), start_timeout=30)
    events: list[tuple[str, BuildName]] = []
    lock = threading.Lock()

    class Recording(ProcessTarget):
        def start(self) -> None:
            with lock:
                events.append(("enter", self.build))
            super().start()
            with lock:
                events.append(("ready", self.build))

    targets = start_targets([fake("jit"), fake("aot")], options, factory=Recording)
    try:
        assert set(targets) == {"jit", "aot"}
        # both starts began before either was ready: they ran concurrently
        assert [kind for kind, _ in events[:2]] == ["enter", "enter"]
        for target in targets.values():
            assert isinstance(target, Target)
            assert target.ready_seconds is not None
            assert target.ready_seconds > 0
            assert target.exit_code() is None
        assert targets["jit"].base_url != targets["aot"].base_url
    finally:
        report = stop_targets(targets.values())
    assert report
    assert all(target.exit_code() is not None for target in targets.values())
    assert not list(tmp_path.glob("proc-*.json"))


def test_one_failure_stops_the_others_at_once(tmp_path: Path) -> None:
    options = TargetOptions(state_dir=str(tmp_path), start_timeout=120)
    created: list[ProcessTarget] = []

    def factory(spec: TargetSpec, opts: TargetOptions) -> Target:
        target = ProcessTarget(spec, opts)
        created.append(target)
        return target

    specs = [fake("jit", "--never-ready"), fake("aot", "--exit-at-start", "3")]
    with pytest.raises(TargetsStartError) as info:
        start_targets(specs, options, factory=factory)
    error = info.value
    assert [e.build for e in error.errors] == ["aot"]  # jit was only stopped, not failed
    assert error.exit_code == 3
    assert str(error).startswith("aot-parity: the AOT build exited at start (exit 3)")
    jit = next(t for t in created if t.build == "jit")
    assert jit.pid is not None
    assert _gone(jit.pid)
    assert not list(tmp_path.glob("proc-*.json"))


def test_every_failure_is_reported(tmp_path: Path) -> None:
    options = TargetOptions(state_dir=str(tmp_path), start_timeout=30)
    specs = [fake("jit", "--exit-at-start", "4"), fake("aot", "--exit-at-start", "5")]
    # Once one build fails the others are stopped at once; hold both failures back until
    # both have happened, so neither is stopped before it fails on its own.
    both_failed = threading.Barrier(2, timeout=60)

    class Synchronised(ProcessTarget):
        def start(self) -> None:
            try:
                super().start()
            finally:
                both_failed.wait()

    with pytest.raises(TargetsStartError) as info:
        start_targets(specs, options, factory=Synchronised)
    codes = {e.build: e.exit_code for e in info.value.errors}
    assert codes == {"jit": 4, "aot": 5}
    message = str(info.value)
    assert "2 builds could not be started" in message
    assert "exit code: 4" in message
    assert "exit code: 5" in message


def test_unexpected_exception_in_a_start_becomes_a_start_error(tmp_path: Path) -> None:
    class Broken(ProcessTarget):
        def start(self) -> None:
            raise OSError("disk full")

    with pytest.raises(TargetsStartError, match="could not be started: OSError: disk full"):
        start_targets(
            [fake("noise")],
            TargetOptions(state_dir=str(tmp_path)),
            factory=Broken,
        )


def test_stop_targets_tries_every_target(tmp_path: Path) -> None:
    class FailingStop(ProcessTarget):
        def stop(self) -> None:
            super().stop()
            raise RuntimeError("docker went away")

    options = TargetOptions(state_dir=str(tmp_path), start_timeout=30)
    failing = FailingStop(fake("jit"), options)
    healthy = ProcessTarget(fake("aot"), options)
    failing.start()
    healthy.start()
    report = stop_targets([failing, healthy])
    assert not report
    assert list(report.errors) == ["jit"]
    assert "stopping the jit build failed: RuntimeError: docker went away" in report.render()
    assert healthy.pid is not None
    assert _gone(healthy.pid)


def test_duplicate_builds_are_refused() -> None:
    with pytest.raises(ValueError, match="more than one target for build"):
        start_targets([fake("jit"), fake("jit")], TargetOptions())


def test_create_target_picks_the_kind() -> None:
    assert type(create_target(fake("jit"), TargetOptions())).__name__ == "ProcessTarget"
    url = parse_target("http://127.0.0.1:1", "aot")
    assert type(create_target(url, TargetOptions())).__name__ == "UrlTarget"
    image = parse_target("image:aotparity-sample:aot", "aot")
    assert type(create_target(image, TargetOptions())).__name__ == "ContainerTarget"


# -- a pytest that is killed ---------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import signal, sys, time
    from pytest_aotparity.targets import (
        TargetOptions, parse_target, register_emergency_cleanup, start_targets)

    state_dir, mode, app = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "chain":
        def previous(signum, frame):
            print("previous handler ran", flush=True)
            sys.exit(42)
        signal.signal(signal.SIGTERM, previous)
    spec = parse_target("cmd:" + " ".join(app), "aot")
    cleanup = register_emergency_cleanup() if mode != "none" else None
    targets = start_targets([spec], TargetOptions(state_dir=state_dir), emergency=cleanup)
    print("READY", targets["aot"].pid, flush=True)
    time.sleep(300)
    """
)


def _run_child(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], int]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    app = [shlex.quote(sys.executable), shlex.quote(str(PLAYERS)), "--port", "{port}"]
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "state"), mode, *app],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("READY "), line
    return child, int(line.split()[1])


@pytest.mark.parametrize(("mode", "expected"), [("default", -signal.SIGTERM), ("chain", 42)])
def test_sigterm_stops_the_targets_then_runs_the_previous_handler(
    tmp_path: Path, mode: str, expected: int
) -> None:
    child, app_pid = _run_child(tmp_path, mode)
    try:
        assert psutil.pid_exists(app_pid)
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == expected
        assert child.stdout is not None
        rest = child.stdout.read()
        assert ("previous handler ran" in rest) == (mode == "chain")
        assert _gone(app_pid)
        assert not list((tmp_path / "state").glob("proc-*.json"))
    finally:
        child.kill()
        child.wait()
        if not _gone(app_pid, 0):
            os.killpg(app_pid, signal.SIGKILL)


def test_orphans_of_a_killed_pytest_are_swept_on_the_next_run(tmp_path: Path) -> None:
    child, app_pid = _run_child(tmp_path, "none")
    try:
        child.kill()  # SIGKILL: no cleanup can run
        child.wait(timeout=10)
        time.sleep(0.2)
        assert not _gone(app_pid, 0), "the app should have outlived its killed owner"
        assert len(list((tmp_path / "state").glob("proc-*.json"))) == 1
        report = sweep_orphans(tmp_path / "state", containers=False)
        assert [p.pid for p in report.processes] == [app_pid]
        assert report.processes[0].killed
        assert f"killed process {app_pid} (aot build" in report.render()
        assert _gone(app_pid)
        assert not list((tmp_path / "state").glob("proc-*.json"))
        assert sweep_orphans(tmp_path / "state", containers=False).processes == []
    finally:
        if not _gone(app_pid, 0):
            os.killpg(app_pid, signal.SIGKILL)


def test_sweep_leaves_live_sessions_alone(tmp_path: Path) -> None:
    options = TargetOptions(state_dir=str(tmp_path), start_timeout=30)
    live = ProcessTarget(fake("jit"), options)
    live.start()
    try:
        report = sweep_orphans(tmp_path, containers=False)
        assert report.processes == []
        assert live.exit_code() is None
        assert len(list(tmp_path.glob("proc-*.json"))) == 1
    finally:
        live.stop()


CTRL_C_CHILD = textwrap.dedent(
    """
    import sys
    from pytest_aotparity.targets import TargetOptions, parse_target, start_targets

    state_dir, app = sys.argv[1], " ".join(sys.argv[2:])
    specs = [parse_target("cmd:" + app, build) for build in ("jit", "aot")]
    print("STARTING", flush=True)
    try:
        start_targets(specs, TargetOptions(state_dir=state_dir, start_timeout=300))
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        raise
    """
)


def test_ctrl_c_during_start_stops_everything(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CTRL_C_CHILD)
    state = tmp_path / "state"
    app = [shlex.quote(sys.executable), shlex.quote(str(PLAYERS)), "--port", "{port}"]
    child = subprocess.Popen(
        [sys.executable, str(script), str(state), *app, "--never-ready"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    pids: list[int] = []
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "STARTING\n"
        deadline = time.monotonic() + 60
        while len(list(state.glob("proc-*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = [ProcessRecord.from_json(path.read_text()).pid for path in state.glob("proc-*.json")]
        assert len(pids) == 2
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) != 0
        assert "INTERRUPTED" in child.stdout.read()
        for pid in pids:
            assert _gone(pid)
        assert not list(state.glob("proc-*.json"))
    finally:
        child.kill()
        child.wait()
        for pid in pids:
            if not _gone(pid, 0):
                os.killpg(pid, signal.SIGKILL)
