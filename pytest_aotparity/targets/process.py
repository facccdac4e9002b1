"""``cmd:`` targets: the build runs as a local process on a free port of 127.0.0.1.

The command is split with :mod:`shlex` and executed directly; only a command that uses
shell syntax (pipes, redirections, ``$VAR``, globs, ``NAME=value`` prefixes, …) runs
through ``/bin/sh -c``. It runs in its own session (so its own process group), with
stdout and stderr merged into a log file in a private temporary directory, and gets the
environment of pytest plus :attr:`TargetOptions.env` plus
``ASPNETCORE_URLS=http://127.0.0.1:PORT`` (harmless for anything that is not ASP.NET Core).

While it runs, a pid file under the state directory records the process (pid, process
group, create time) and its owner (the pytest pid and its create time, the host name), so
that :func:`sweep_orphan_processes` in a later run can kill what a killed pytest left
behind, and only that.

Measurements:

- memory: the resident set size (psutil ``rss``) of the process plus all its descendants;
- artifact size: the size of the directory that holds the executable when the command
  names it by path (``./out/aot/PlayersApi`` → ``out/aot``, i.e. the publish output); when
  the executable is a launcher (``dotnet``, ``python``, ``node``, ``java``, ``sh``, … by
  path or not) or is found on PATH, the directory of the first argument that is an
  existing file (``dotnet out/jit/PlayersApi.dll`` → ``out/jit``, ``python app.py``);
  None when neither applies.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets.base import TargetOptions, TargetSpec, TargetStartError
from pytest_aotparity.targets.health import (
    explain_stopped_start,
    health_url,
    wait_until_healthy,
)

STOP_GRACE_SECONDS = 5.0
"""How long :meth:`ProcessTarget.stop` waits after SIGTERM before SIGKILL."""

PID_FILE_PREFIX = "proc-"
_LOG_DIR_PREFIX = "aotparity-log-"
_LOG_TAIL_BYTES = 64 * 1024
_SIZE_WALK_LIMIT = 50_000
_LAUNCHERS = re.compile(
    r"^(python[0-9.]*|pypy[0-9.]*|dotnet|node|java|bash|sh|env|uv|uvx|exec)(\.exe)?$"
)
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?\n]|(^|\s)~|^\s*[A-Za-z_][A-Za-z0-9_]*=")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free on ``host`` a moment ago (bind to port 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def needs_shell(command: str) -> bool:
    """Whether the command uses shell syntax, so that splitting it into words and running it
    directly would change its meaning."""
    return bool(_SHELL_SYNTAX.search(command))


def process_create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def same_process(pid: int, create_time: float | None) -> bool:
    """Whether ``pid`` is alive and is the process that had ``create_time`` (pids are reused)."""
    actual = process_create_time(pid)
    if actual is None:
        return False
    return create_time is None or abs(actual - create_time) < 1.0


def directory_size(path: Path) -> int | None:
    """Total size of the regular files under ``path`` (symlinks not followed); None when
    the tree is implausibly large for a publish output."""
    total = 0
    seen = 0
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > _SIZE_WALK_LIMIT:
                return None
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def artifact_directory(command: str, workdir: Path) -> Path | None:
    """The directory whose size stands for the build's artifact (see the module docstring)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)
    if not words:
        return None
    executable = words[0]
    launcher = _LAUNCHERS.match(Path(executable).name) is not None
    if not launcher and ("/" in executable or os.sep in executable):
        candidate = workdir / executable
        return candidate.parent.resolve() if candidate.is_file() else None
    for word in words[1:]:
        if word.startswith("-") or "{port}" in word:
            continue
        candidate = workdir / word
        if candidate.is_file():
            return candidate.parent.resolve()
    return None


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file says about one ``cmd:`` target process."""

    pid: int
    pgid: int
    create_time: float
    owner_pid: int
    owner_create_time: float | None
    owner_host: str
    session_id: str
    build: str
    command: str
    log_dir: str | None

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ProcessRecord:
        data: dict[str, Any] = json.loads(text)
        return cls(
            pid=int(data["pid"]),
            pgid=int(data["pgid"]),
            create_time=float(data["create_time"]),
            owner_pid=int(data["owner_pid"]),
            owner_create_time=(
                None if data.get("owner_create_time") is None else float(data["owner_create_time"])
            ),
            owner_host=str(data["owner_host"]),
            session_id=str(data.get("session_id", "")),
            build=str(data.get("build", "")),
            command=str(data.get("command", "")),
            log_dir=None if data.get("log_dir") is None else str(data["log_dir"]),
        )


def write_record(state_dir: Path, record: ProcessRecord) -> Path:
    """Write the pid file atomically and return its path."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / f"{PID_FILE_PREFIX}{record.owner_pid}-{record.build}-{record.pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    tmp.replace(path)
    return path


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Send ``sig`` to a process group; False when the group does not exist (any more)."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def _group_has_members(pgid: int) -> bool:
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.Error, OSError):
            continue
    return False


def kill_recorded_group(record: ProcessRecord, grace: float = STOP_GRACE_SECONDS) -> bool:
    """Kill the process group of a recorded (orphaned) process, if it is still ours.

    Safe against pid reuse: the kernel never hands out a pid that is still in use as a
    process group id, so when the leader pid is alive it must have the recorded create
    time, and when it is gone any process still in that group is one of ours.
    Returns True when something was signalled.
    """
    leader_time = process_create_time(record.pgid)
    if leader_time is not None and abs(leader_time - record.create_time) >= 1.0:
        return False  # the pid now belongs to an unrelated process
    if leader_time is None and not _group_has_members(record.pgid):
        return False
    if not _signal_group(record.pgid, signal.SIGTERM):
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_has_members(record.pgid):
        time.sleep(0.05)
    _signal_group(record.pgid, signal.SIGKILL)
    return True


@dataclass(frozen=True)
class SweptProcess:
    pid: int
    build: str
    command: str
    owner_pid: int
    killed: bool
    """False when the process had already gone and only its pid file was removed."""


def owner_alive(pid: int, create_time: float | None) -> bool:
    return same_process(pid, create_time)


def sweep_orphan_processes(state_dir: Path) -> list[SweptProcess]:
    """Kill the ``cmd:`` processes recorded under ``state_dir`` whose owning pytest (on this
    host) is dead, and remove their pid files and log directories. Processes of live
    sessions, and records written on another host, are left alone."""
    swept: list[SweptProcess] = []
    if not state_dir.is_dir():
        return swept
    host = socket.gethostname()
    for path in sorted(state_dir.glob(f"{PID_FILE_PREFIX}*.json")):
        try:
            record = ProcessRecord.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if record.owner_host != host or owner_alive(record.owner_pid, record.owner_create_time):
            continue
        killed = kill_recorded_group(record)
        if record.log_dir and Path(record.log_dir).name.startswith(_LOG_DIR_PREFIX):
            shutil.rmtree(record.log_dir, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        swept.append(
            SweptProcess(
                pid=record.pid,
                build=record.build,
                command=record.command,
                owner_pid=record.owner_pid,
                killed=killed,
            )
        )
    return swept


def _read_tail(path: Path, lines: int) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - _LOG_TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    result = text.splitlines()
    if size > _LOG_TAIL_BYTES and result:
        result = result[1:]  # the first line is probably cut
    return result[-lines:] if lines > 0 else []


class ProcessTarget:
    """A build started from a ``cmd:`` spec. See the module docstring."""

    def __init__(self, spec: TargetSpec, options: TargetOptions) -> None:
        if spec.kind != "cmd":
            raise ValueError(f"ProcessTarget needs a cmd: spec, got {spec.kind}")
        self.build: BuildName = spec.build
        self.spec = spec
        self.options = options
        self._lock = threading.RLock()
        self._stop_requested = False
        self._stopped = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._returncode: int | None = None
        self._exit_code_at_stop: int | None = None
        self._port: int | None = None
        self._command: str | None = None
        self._ready_seconds: float | None = None
        self._log_dir: Path | None = None
        self._log_path: Path | None = None
        self._final_tail: list[str] = []
        self._pid_file: Path | None = None
        self._workdir = Path(options.workdir or os.getcwd())

    def __repr__(self) -> str:
        return f"<ProcessTarget {self.build} {self.spec.value!r} port={self._port}>"

    # -- protocol -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError(f"the {self.build} target has not been started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def ready_seconds(self) -> float | None:
        return self._ready_seconds

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def command(self) -> str | None:
        """The command as run, with ``{port}`` substituted."""
        return self._command

    @property
    def log_path(self) -> Path | None:
        """The merged stdout/stderr log while the process runs (removed at stop)."""
        return self._log_path

    def start(self) -> None:
        started_at = time.monotonic()
        with self._lock:
            if self._stop_requested:
                raise TargetStartError(self.build, "was stopped before it was started")
            if self._proc is not None:
                raise RuntimeError(f"the {self.build} target was already started")
            self._port = free_port()
            command = self.spec.value.replace("{port}", str(self._port))
            self._command = command
            env = dict(os.environ)
            env.update(self.options.env)
            env["ASPNETCORE_URLS"] = f"http://127.0.0.1:{self._port}"
            self._log_dir = Path(tempfile.mkdtemp(prefix=f"{_LOG_DIR_PREFIX}{self.build}-"))
            self._log_path = self._log_dir / f"{self.build}.log"
            args: str | list[str] = command if needs_shell(command) else shlex.split(command)
            try:
                with self._log_path.open("wb") as log:
                    self._proc = subprocess.Popen(
                        args,
                        shell=isinstance(args, str),
                        cwd=self._workdir,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
            except OSError as exc:
                self._cleanup_files()
                raise TargetStartError(
                    self.build,
                    f"could not be started: {exc.strerror or exc} ({command})",
                    hint=f"check the command and that it runs from {self._workdir}",
                ) from exc
            self._write_pid_file()
        exit_hint = f"run it by hand to see why: cd {self._workdir} && {command}"
        try:
            self._ready_seconds = wait_until_healthy(
                self.build,
                health_url(self.base_url, self.options.health_path),
                timeout=self.options.start_timeout,
                started_at=started_at,
                exit_code=self.exit_code,
                log_tail=self.log_tail,
                stopped=lambda: self._stop_requested,
                board=self.options.start_board,
                health_path=self.options.health_path,
                exit_hint=exit_hint,
                timeout_hint=(
                    "if the build is only slow, raise the start timeout; if it serves its "
                    f"health check elsewhere, set the health path (now "
                    f"{self.options.health_path}); check that it listens on the port given "
                    "in place of {port}"
                ),
            )
        except TargetStartError as exc:
            self.stop()
            raise explain_stopped_start(
                exc,
                self._exit_code_at_stop,
                self.log_tail(),
                exit_hint,
                health_path=self.options.health_path,
            ) from None
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._stop_requested = True
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            proc = self._proc
            if proc is not None:
                self._exit_code_at_stop = self.exit_code()
                self._terminate(proc)
            self._final_tail = list(self.log_tail(200))
            self._cleanup_files()

    def exit_code(self) -> int | None:
        with self._lock:
            if self._returncode is not None:
                return self._returncode
            proc = self._proc
            if proc is None:
                return None
            if not hasattr(os, "waitid"):  # pragma: no cover - macOS
                code = proc.poll()
                self._returncode = code
                return code
            try:
                info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                self._returncode = proc.wait()
                return self._returncode
            if info is None:
                return None
            if info.si_code == os.CLD_EXITED:
                return int(info.si_status)
            return -int(info.si_status)

    def log_tail(self, lines: int = 40) -> Sequence[str]:
        if self._log_path is not None and self._log_path.exists():
            return _read_tail(self._log_path, lines)
        return self._final_tail[-lines:] if lines > 0 else []

    def memory_rss_bytes(self) -> int | None:
        proc = self._proc
        if proc is None or self.exit_code() is not None:
            return None
        try:
            root = psutil.Process(proc.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        total = 0
        for member in members:
            with contextlib.suppress(psutil.Error):
                total += int(member.memory_info().rss)
        return total or None

    def artifact_size_bytes(self) -> int | None:
        directory = artifact_directory(self.spec.value, self._workdir)
        return directory_size(directory) if directory is not None else None

    # -- internals ------------------------------------------------------------------
    def _write_pid_file(self) -> None:
        proc = self._proc
        assert proc is not None
        owner = os.getpid()
        record = ProcessRecord(
            pid=proc.pid,
            pgid=proc.pid,  # start_new_session: the process leads its own group
            create_time=process_create_time(proc.pid) or time.time(),
            owner_pid=owner,
            owner_create_time=process_create_time(owner),
            owner_host=socket.gethostname(),
            session_id=self.options.session_id,
            build=self.build,
            command=self._command or self.spec.value,
            log_dir=str(self._log_dir) if self._log_dir else None,
        )
        try:
            self._pid_file = write_record(self.options.resolved_state_dir(), record)
        except OSError as exc:  # the sweep is a safety net; running without it is allowed
            print(
                f"aot-parity: could not record the {self.build} process for the orphan "
                f"sweep: {exc}",
                file=sys.stderr,
            )

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM the group, wait up to STOP_GRACE_SECONDS for the leader, SIGKILL the
        group, reap. The leader is reaped last so its pid (the group id) cannot be reused
        by another process while the group is signalled."""
        pgid = proc.pid
        if self._returncode is None:
            _signal_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while self.exit_code() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            _signal_group(pgid, signal.SIGKILL)
            try:
                self._returncode = proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
                self._returncode = proc.poll()

    def _cleanup_files(self) -> None:
        if self._pid_file is not None:
            with contextlib.suppress(FileNotFoundError):
                self._pid_file.unlink()
            self._pid_file = None
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None
            self._log_path = None
