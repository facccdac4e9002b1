"""Bringing the builds of a run up and down together, and cleaning up after killed runs.

This is the API the plugin calls::

    specs = [parse_target(raw, build) for build, raw in ...]
    sweep_orphans(options.resolved_state_dir())          # what killed runs left behind
    targets = start_targets(specs, options)              # concurrently; all or nothing
    cleanup = register_emergency_cleanup(targets.values())  # atexit + SIGTERM
    ...
    stop_targets(targets.values())                       # never raises before trying all
    cleanup.unregister()

Only :func:`create_target` imports the container module (testcontainers, docker), and only
for ``image:`` specs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets.base import (
    HealthPathError,
    StartFailedError,
    Target,
    TargetOptions,
    TargetSpec,
    TargetStartError,
)


def create_target(spec: TargetSpec, options: TargetOptions) -> Target:
    """The target object for a spec (not started)."""
    if spec.kind == "image":
        from pytest_aotparity.targets.container import ContainerTarget

        return ContainerTarget(spec, options)
    if spec.kind == "cmd":
        from pytest_aotparity.targets.process import ProcessTarget

        return ProcessTarget(spec, options)
    from pytest_aotparity.targets.url import UrlTarget

    return UrlTarget(spec, options)


def _as_start_error(build: BuildName, exc: BaseException) -> TargetStartError:
    if isinstance(exc, TargetStartError):
        return exc
    return TargetStartError(
        build,
        f"could not be started: {type(exc).__name__}: {exc}",
        hint="this is unexpected; please report it with the traceback (pytest --tb=long)",
    )


def start_targets(
    specs: Sequence[TargetSpec],
    options: TargetOptions,
    *,
    factory: Callable[[TargetSpec, TargetOptions], Target] = create_target,
    emergency: EmergencyCleanup | None = None,
) -> dict[BuildName, Target]:
    """Start every spec at the same time (one thread each) and wait until all are healthy.

    The starts share a :class:`~pytest_aotparity.targets.health.StartBoard` (through
    :attr:`TargetOptions.start_board`), so a build that answers its health path with non-2xx
    while another answers 2xx is judged after the grace instead of waited out (see
    :mod:`pytest_aotparity.targets.health`).

    If any build fails, every other one is stopped (including those still starting) and a
    :class:`StartFailedError` naming all failed builds, with a
    :class:`~pytest_aotparity.targets.base.StartFailure` for each, is raised (a
    :class:`HealthPathError`, which is a usage error, when no build answers 2xx on the
    health path). On Ctrl-C while waiting,
    everything is stopped and the KeyboardInterrupt propagates. With ``emergency`` (from
    :func:`register_emergency_cleanup`), the targets are added to it before they start, so
    a SIGTERM during the start already stops them.
    """
    builds = [spec.build for spec in specs]
    duplicates = sorted({build for build in builds if builds.count(build) > 1})
    if duplicates:
        raise ValueError(f"more than one target for build(s) {', '.join(duplicates)}")
    from pytest_aotparity.targets.health import StartBoard  # httpx: only when starting

    board = StartBoard(
        builds,
        health_path=options.health_path,
        grace=options.start_grace,
        start_timeout=options.start_timeout,
    )
    options = replace(options, start_board=board)
    targets: dict[BuildName, Target] = {spec.build: factory(spec, options) for spec in specs}
    if not targets:
        return targets
    if emergency is not None:
        emergency.add(targets.values())
    executor = ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="aotparity-start")
    futures: dict[Future[None], BuildName] = {}
    try:
        for build, target in targets.items():
            futures[executor.submit(target.start)] = build
        pending = set(futures)
        failed = False
        while pending and not failed:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            failed = any(future.exception() is not None for future in done)
        if failed:
            # Stop the others now instead of letting them finish starting; their start()
            # sees the stop and returns with "stopped before it was ready".
            stop_targets(targets.values())
            wait(pending)
            errors = [
                _as_start_error(futures[future], exc)
                for future in futures
                if (exc := future.exception()) is not None
            ]
            # Those only stopped because another failed are not failures of their own.
            own = [error for error in errors if not error.what.startswith("was stopped")]
            raise start_failed(own or errors)
    except BaseException:
        stop_targets(targets.values())
        executor.shutdown(wait=True, cancel_futures=True)
        stop_targets(targets.values())
        raise
    executor.shutdown(wait=True)
    return targets


def start_failed(errors: Sequence[TargetStartError]) -> StartFailedError:
    """The error for the failed builds of one start: when each says the health path gets no
    2xx answer from any build, one :class:`HealthPathError` (each carries every answer)."""
    failures = [error.as_failure() for error in errors]
    if failures and all(failure.kind == "health_path" for failure in failures):
        return HealthPathError(errors[:1])
    return StartFailedError(errors)


_WAITED = ("timeout", "not_started")


def start_error_note(error: TargetStartError) -> str:
    """The line a run adds below a start error: what to check, and the start timeout only
    when the start was waited out (a judged start says itself what went wrong)."""
    failures = error.failures if isinstance(error, StartFailedError) else (error.as_failure(),)
    if any(failure.kind in _WAITED for failure in failures):
        return (
            "(aot-parity could not start the builds, so no test ran. Check the targets given "
            "with --aot-parity-jit/--aot-parity-aot/--aot-parity-noise, or allow more time "
            "with --aot-parity-start-timeout.)"
        )
    return "(aot-parity could not start the builds, so no test ran.)"


@dataclass
class StopReport:
    """What :func:`stop_targets` could not do."""

    errors: dict[BuildName, BaseException] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return not self.errors

    def render(self) -> str:
        return "\n".join(
            f"aot-parity: stopping the {build} build failed: {type(exc).__name__}: {exc}"
            for build, exc in self.errors.items()
        )


def stop_targets(targets: Iterable[Target]) -> StopReport:
    """Stop every target (concurrently), trying all of them even when some fail. Returns a
    report of the failures instead of raising (KeyboardInterrupt excepted: it is re-raised
    once every stop has been attempted)."""
    items = list(targets)
    report = StopReport()
    if not items:
        return report
    interrupted: BaseException | None = None
    threads: list[threading.Thread] = []

    def stop_one(target: Target) -> None:
        try:
            target.stop()
        except BaseException as exc:
            report.errors[target.build] = exc

    for target in items[1:]:
        thread = threading.Thread(target=stop_one, args=(target,), name="aotparity-stop")
        thread.start()
        threads.append(thread)
    try:
        stop_one(items[0])
    except BaseException as exc:  # pragma: no cover - Ctrl-C in the middle of the stop
        interrupted = exc
    for thread in threads:
        while thread.is_alive():
            try:
                thread.join()
            except BaseException as exc:  # Ctrl-C: finish stopping first
                interrupted = exc
    if interrupted is not None:
        raise interrupted
    return report


# -- orphans -------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What :func:`sweep_orphans` removed."""

    containers: list[Any] = field(default_factory=list)
    """:class:`~pytest_aotparity.targets.container.SweptContainer` items."""
    processes: list[Any] = field(default_factory=list)
    """:class:`~pytest_aotparity.targets.process.SweptProcess` items."""
    docker_error: str | None = None
    """Why containers could not be swept (no Docker engine), when asked to."""

    def render(self) -> str:
        lines = []
        for item in self.containers:
            lines.append(
                f"aot-parity: removed container {item.name} ({item.build} build) left by "
                f"pytest pid {item.owner_pid}"
            )
        for item in self.processes:
            what = "killed" if item.killed else "forgot"
            lines.append(
                f"aot-parity: {what} process {item.pid} ({item.build} build: {item.command}) "
                f"left by pytest pid {item.owner_pid}"
            )
        return "\n".join(lines)


def sweep_orphans(state_dir: Path, *, containers: bool = True) -> SweepReport:
    """Remove what earlier runs whose pytest died (SIGKILL, crash) left behind on this host:
    ``cmd:`` processes recorded under ``state_dir`` and, with ``containers``, containers
    labelled by aot-parity. The containers and processes of live sessions (parallel
    xdist workers, another pytest) are never touched. Without a reachable Docker engine the
    container sweep is skipped and :attr:`SweepReport.docker_error` says why."""
    from pytest_aotparity.targets.process import sweep_orphan_processes

    report = SweepReport(processes=list(sweep_orphan_processes(state_dir)))
    if containers:
        try:
            import docker.errors

            from pytest_aotparity.targets.container import (
                sweep_orphan_containers,
            )
        except ImportError as exc:  # pragma: no cover - dependencies are required
            report.docker_error = str(exc)
            return report
        try:
            report.containers = list(sweep_orphan_containers())
        except docker.errors.DockerException as exc:
            report.docker_error = str(exc)
    return report


# -- emergency cleanup ------------------------------------------------------------------

_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class EmergencyCleanup:
    """Stops the targets at interpreter exit and on SIGTERM (see
    :func:`register_emergency_cleanup`); :meth:`unregister` undoes both."""

    def __init__(self, targets: Iterable[Target] = ()) -> None:
        self.targets = list(targets)
        self._previous: _SignalHandler = None
        self._installed_signal = False
        self._done = threading.Event()
        self._owner_pid = os.getpid()

    def add(self, targets: Iterable[Target]) -> None:
        """Also stop these targets (e.g. started later)."""
        self.targets.extend(target for target in targets if target not in self.targets)

    def run(self) -> None:
        """Stop every target once (later calls do nothing)."""
        if self._done.is_set() or os.getpid() != self._owner_pid:
            return  # already done, or a forked child: the parent owns the targets
        self._done.set()
        report = stop_targets(self.targets)
        if not report:
            print(report.render(), file=sys.stderr)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.run()
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_IGN:
            return
        else:  # SIG_DFL (or unknown): die of SIGTERM as if we had never been here
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def install(self) -> EmergencyCleanup:
        atexit.register(self.run)
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._on_sigterm)
            self._installed_signal = True
        return self

    def unregister(self) -> None:
        atexit.unregister(self.run)
        if self._installed_signal:
            with contextlib.suppress(ValueError):  # not in the main thread any more
                if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                    signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)
            self._installed_signal = False


def register_emergency_cleanup(targets: Iterable[Target] = ()) -> EmergencyCleanup:
    """Make ``kill -TERM <pytest>`` and interpreter exit stop the targets too.

    Installs an :mod:`atexit` hook and, when called from the main thread, a SIGTERM handler
    that stops the targets and then hands over to the previous handler (or, if there was
    none, lets the process die of SIGTERM). Stopping is idempotent, so the plugin's own
    stop in ``pytest_unconfigure`` and this hook can both run. SIGKILL cannot be caught:
    :func:`sweep_orphans` on the next run handles that.
    """
    return EmergencyCleanup(targets).install()
