"""cmd: targets, run for real with the fake players app."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
import pytest

from pytest_aotparity.targets import TargetOptions, TargetStartError, parse_target
from pytest_aotparity.targets.process import (
    ProcessRecord,
    ProcessTarget,
    artifact_directory,
    directory_size,
    needs_shell,
    sweep_orphan_processes,
    write_record,
)

FAKEAPPS = Path(__file__).parent / "fakeapps"
PLAYERS = FAKEAPPS / "players.py"


def fake_cmd(*extra: str, flavour: str = "jit") -> str:
    words = [sys.executable, str(PLAYERS), "--flavour", flavour, "--port", "{port}", *extra]
    return "cmd:" + " ".join(shlex.quote(word) if word != "{port}" else word for word in words)


@pytest.fixture
def options(tmp_path: Path) -> TargetOptions:
    return TargetOptions(state_dir=str(tmp_path / "state"), start_timeout=30, session_id="t")


@pytest.fixture
def started(options: TargetOptions) -> Iterator[ProcessTarget]:
    target = ProcessTarget(parse_target(fake_cmd(), "jit"), options)
    target.start()
    yield target
    target.stop()


def _gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


def test_ready_process_answers_and_reports_figures(
    started: ProcessTarget, options: TargetOptions
) -> None:
    assert started.base_url.startswith("http://127.0.0.1:")
    response = httpx.get(started.base_url + "/players", trust_env=False)
    assert response.status_code == 200
    assert any(player["squadNumber"] == 10 for player in response.json())
    assert started.ready_seconds is not None
    assert started.ready_seconds > 0
    assert started.exit_code() is None
    memory = started.memory_rss_bytes()
    assert memory is not None
    assert memory > 10 * 1024 * 1024
    assert started.artifact_size_bytes() == directory_size(FAKEAPPS)
    assert started.artifact_size_bytes() >= PLAYERS.stat().st_size  # type: ignore[operator]
    port = started.base_url.rsplit(":", 1)[1]
    assert any(f"starting on 127.0.0.1:{port}" in line for line in started.log_tail())
    assert started.command is not None
    assert f"--port {port}" in started.command
    pid_files = list(Path(options.resolved_state_dir()).glob("proc-*.json"))
    assert len(pid_files) == 1
    record = ProcessRecord.from_json(pid_files[0].read_text())
    assert (record.pid, record.owner_pid, record.build) == (started.pid, os.getpid(), "jit")


def test_environment_reaches_the_process(tmp_path: Path) -> None:
    out = tmp_path / "env.txt"
    script = (
        "import os,sys; open(sys.argv[1],'w').write(os.environ['ASPNETCORE_URLS']+' '"
        "+os.environ['PLAYERS_MODE']); sys.exit(7)"
    )
    spec = parse_target(
        f"cmd:{shlex.quote(sys.executable)} -c {shlex.quote(script)} {out} {{port}}", "aot"
    )
    target = ProcessTarget(
        spec, TargetOptions(env={"PLAYERS_MODE": "strict"}, state_dir=str(tmp_path / "s"))
    )
    with pytest.raises(TargetStartError) as info:
        target.start()
    assert info.value.exit_code == 7
    port = target.base_url.rsplit(":", 1)[1]
    assert out.read_text() == f"http://127.0.0.1:{port} strict"


def test_exit_at_start_reports_exit_code_and_log(options: TargetOptions) -> None:
    target = ProcessTarget(
        parse_target(fake_cmd("--exit-at-start", "3", flavour="aot"), "aot"), options
    )
    with pytest.raises(TargetStartError) as info:
        target.start()
    error = info.value
    assert error.build == "aot"
    assert error.exit_code == 3
    assert any("FileNotFoundException: players.db" in line for line in error.log_tail)
    message = str(error)
    assert message.startswith("aot-parity: the AOT build exited at start (exit 3)")
    assert "exit code: 3" in message
    assert "run it by hand" in message
    assert target.exit_code() == 3
    assert not list(Path(options.resolved_state_dir()).glob("proc-*.json"))
    assert any("FileNotFoundException" in line for line in target.log_tail())  # kept after stop


def test_never_ready_times_out_with_last_status(tmp_path: Path) -> None:
    options = TargetOptions(state_dir=str(tmp_path), start_timeout=2)
    target = ProcessTarget(parse_target(fake_cmd("--never-ready"), "jit"), options)
    with pytest.raises(TargetStartError) as info:
        target.start()
    message = str(info.value)
    assert "the JIT build was not healthy after 2 s on http://127.0.0.1:" in message
    assert "/health (last status 503)" in message
    assert info.value.exit_code is None
    assert target.pid is not None
    assert _wait_gone(target.pid)


def test_missing_executable(options: TargetOptions) -> None:
    target = ProcessTarget(parse_target("cmd:./no/such/PlayersApi --urls {port}", "aot"), options)
    with pytest.raises(TargetStartError, match="could not be started: No such file"):
        target.start()


def test_stop_kills_the_whole_group_even_children_ignoring_sigterm(
    options: TargetOptions,
) -> None:
    app = f"{shlex.quote(sys.executable)} {shlex.quote(str(PLAYERS))} --port {{port}}"
    command = f"cmd:sh -c \"trap '' TERM; sleep 300\" & exec {app}"
    assert needs_shell(command)
    target = ProcessTarget(parse_target(command, "jit"), options)
    target.start()
    assert target.pid is not None
    group = [p for p in psutil.process_iter() if _pgid(p.pid) == target.pid]
    assert len(group) >= 3  # python (exec'd shell), the subshell, sleep
    assert any(p.name() == "sleep" for p in group)
    target.stop()
    assert target.exit_code() is not None
    for member in group:
        assert _wait_gone(member.pid), f"{member} survived stop()"
    target.stop()  # idempotent


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def test_concurrent_stops_are_safe(started: ProcessTarget) -> None:
    errors: list[BaseException] = []

    def stop() -> None:
        try:
            started.stop()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=stop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert started.pid is not None
    assert _wait_gone(started.pid)
    assert started.memory_rss_bytes() is None


def test_stop_during_start_aborts_the_start(options: TargetOptions) -> None:
    target = ProcessTarget(parse_target(fake_cmd("--never-ready"), "jit"), options)
    errors: list[TargetStartError] = []

    def start() -> None:
        try:
            target.start()
        except TargetStartError as exc:
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    while target.pid is None:
        time.sleep(0.01)
    target.stop()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert len(errors) == 1
    assert "was stopped before it was ready" in str(errors[0])
    assert _wait_gone(target.pid)


def test_sweep_kills_orphan_whose_owner_is_dead(tmp_path: Path) -> None:
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True
    )
    live = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True
    )
    dead_owner = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner.wait()
    try:

        def record(pid: int, owner: int, **changes: object) -> ProcessRecord:
            base = {
                "pid": pid,
                "pgid": pid,
                "create_time": psutil.Process(pid).create_time(),
                "owner_pid": owner,
                "owner_create_time": None,
                "owner_host": os.uname().nodename,
                "session_id": "old",
                "build": "aot",
                "command": "python -c sleep",
                "log_dir": None,
            }
            base.update(changes)
            return ProcessRecord(**base)

        state = tmp_path / "state"
        orphan_file = write_record(state, record(orphan.pid, dead_owner.pid))
        live_file = write_record(state, record(live.pid, os.getpid(), build="jit"))
        # A pid file whose process is gone and whose pid now belongs to someone else:
        reused_file = write_record(
            state, record(live.pid, dead_owner.pid, build="noise", create_time=1.0)
        )
        other_host = write_record(
            state, record(live.pid, dead_owner.pid, owner_host="elsewhere", build="x")
        )

        swept = sweep_orphan_processes(state)

        assert orphan.wait(timeout=10) == -signal.SIGTERM
        assert live.poll() is None, "a process of a live session was killed"
        assert not orphan_file.exists()
        assert not reused_file.exists()
        assert live_file.exists()
        assert other_host.exists()
        by_build = {item.build: item for item in swept}
        assert set(by_build) == {"aot", "noise"}
        assert by_build["aot"].killed
        assert by_build["aot"].pid == orphan.pid
        assert not by_build["noise"].killed
    finally:
        for proc in (orphan, live):
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python app.py --port {port}", False),
        ("./out/aot/PlayersApi --urls http://127.0.0.1:{port}", False),
        ("dotnet out/jit/PlayersApi.dll --urls 'http://127.0.0.1:{port}'", False),
        ("ASPNETCORE_ENVIRONMENT=Test ./app --urls http://127.0.0.1:{port}", True),
        ("./app --port {port} | tee log", True),
        ("./app --port {port} > log 2>&1", True),
        ("./app --port {port} --root $HOME", True),
        ("~/bin/app --port {port}", True),
    ],
)
def test_needs_shell(command: str, expected: bool) -> None:
    assert needs_shell(command) is expected


def test_artifact_directory(tmp_path: Path) -> None:
    publish = tmp_path / "out" / "aot"
    publish.mkdir(parents=True)
    (publish / "PlayersApi").write_bytes(b"x" * 1000)
    (publish / "PlayersApi.dll").write_bytes(b"y" * 500)
    (publish / "sub").mkdir()
    (publish / "sub" / "data.json").write_bytes(b"z" * 24)
    assert artifact_directory("./out/aot/PlayersApi --urls {port}", tmp_path) == publish
    assert artifact_directory("dotnet out/aot/PlayersApi.dll --urls {port}", tmp_path) == publish
    assert artifact_directory("/usr/bin/python3 out/aot/PlayersApi.dll", tmp_path) == publish
    assert artifact_directory("python -m players --port {port}", tmp_path) is None
    assert artifact_directory("./missing --port {port}", tmp_path) is None
    assert directory_size(publish) == 1524
