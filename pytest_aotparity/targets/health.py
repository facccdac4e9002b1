"""Waiting for a build to answer its health endpoint, shared by every kind of target, and
judging a start from what the builds answer (:class:`StartBoard`).

How a start is judged, when the builds start together (:func:`start_targets`):

- a build that exits fails at once ("exited"), with the exception and frames of its log;
- a build that answers its health path, but not 2xx, for :data:`GRACE_ANSWERS` answers in a
  row over at least the grace seconds (:attr:`TargetOptions.start_grace`) fails "unhealthy"
  as soon as another build answers 2xx;
- when no build answers 2xx and every build has answered non-2xx that long, the health path
  is judged wrong ("health_path", a usage error);
- only a build that does not answer at all waits out the start timeout ("timeout"); at the
  timeout, a build that answers non-2xx is judged by what it answers.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import httpx

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets.base import (
    GRACE_ANSWERS,
    HealthAnswer,
    StartFailure,
    StartFailureKind,
    StartJudge,
    TargetStartError,
    build_label,
)

PORT_TAKEN_MARKERS = (
    "address already in use",
    "port is already allocated",
    "eaddrinuse",
    "only one usage of each socket address",
)


def mentions_port_taken(lines: Sequence[str]) -> bool:
    """Whether log lines (or an error text) say a port was already taken."""
    return any(marker in line.lower() for line in lines for marker in PORT_TAKEN_MARKERS)


def health_url(base_url: str, health_path: str) -> str:
    path = health_path if health_path.startswith("/") else "/" + health_path
    return base_url.rstrip("/") + path


def describe_http_error(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        return "connection refused" if not text or "refused" in text.lower() else text
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the request timeout"
    return f"{type(exc).__name__}: {exc}"


# -- what a log says ---------------------------------------------------------------------

_EXCEPTION = re.compile(
    r"^\s*(?:(?:fail|crit|error):\s*)?(?P<unhandled>Unhandled exception\.\s*)?"
    r"(?P<type>(?:[A-Za-z_][\w`]*\.)+[A-Za-z_][\w`]*Exception)"
    # an HRESULT may follow: "SqliteException (0x80004005): SQLite Error 14: ..."
    r"(?:\s\(0x[0-9A-Fa-f]+\))?(?::\s?(?P<message>.*))?$"
)
_TERMINATING = re.compile(r"Process is terminating due to (?P<type>[\w.`]+)\.?")
_FRAME = re.compile(r"^\s+at (?P<frame>.+)$")
FRAMES_KEPT = 5


@dataclass(frozen=True)
class LoggedException:
    """A .NET exception found in a build's log."""

    type: str
    message: str
    frames: tuple[str, ...]
    unhandled: bool


def _exceptions(lines: Sequence[str]) -> list[LoggedException]:
    found: list[LoggedException] = []
    for index, line in enumerate(lines):
        match = _EXCEPTION.match(line)
        terminating = None if match else _TERMINATING.search(line)
        if match is None and terminating is None:
            continue
        frames: list[str] = []
        for following in lines[index + 1 : index + 1 + 40]:
            frame = _FRAME.match(following)
            if frame is not None:
                if len(frames) < FRAMES_KEPT:
                    frames.append(frame.group("frame").strip())
                continue
            if following.strip().startswith(("---", "--->")):
                continue  # "--- End of stack trace from previous location ---", inner ones
            break
        if match is not None:
            found.append(
                LoggedException(
                    type=match.group("type"),
                    message=(match.group("message") or "").strip(),
                    frames=tuple(frames),
                    unhandled=bool(match.group("unhandled")),
                )
            )
        elif terminating is not None:
            found.append(
                LoggedException(
                    type=terminating.group("type"), message="", frames=(), unhandled=True
                )
            )
    return found


def find_exception(lines: Sequence[str], *, at_start: bool) -> LoggedException | None:
    """The exception a log shows: for a build that exited, the unhandled one (``Unhandled
    exception. System.X: message`` and its ``at`` lines) if any, else the first one logged;
    for a build that runs but fails its requests, the last one logged (the newest request)."""
    found = _exceptions(lines)
    if not found:
        return None
    if at_start:
        unhandled = [item for item in found if item.unhandled]
        return (unhandled or found)[0]
    return found[-1]


_SIGNAL_NOTES = {
    signal.SIGABRT: "the runtime aborted the process, as .NET does on an unhandled exception",
    signal.SIGSEGV: "a crash in native code",
    signal.SIGKILL: "killed from outside, often by the out-of-memory killer",
    signal.SIGBUS: "a crash in native code (bus error)",
    signal.SIGILL: "a crash in native code (illegal instruction)",
    signal.SIGFPE: "a crash in native code (arithmetic error)",
}


def exit_signal(code: int | None) -> signal.Signals | None:
    """The signal behind an exit code: ``-N`` (a process killed by signal N) or ``128+N``
    (what a container or a shell reports for it)."""
    if code is None:
        return None
    number = -code if code < 0 else code - 128 if 128 < code < 160 else 0
    try:
        return signal.Signals(number) if number else None
    except ValueError:
        return None


# -- what the builds answer ---------------------------------------------------------------

_BODY_LINES = 5
_BODY_LINE_CHARS = 160


def body_head(response: httpx.Response) -> tuple[str, ...]:
    """The first lines of a body, each shortened: enough to recognise a problem document or
    an error page."""
    try:
        text = response.content[:4096].decode("utf-8", errors="replace")
    except httpx.HTTPError:
        return ()
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return tuple(
        line if len(line) <= _BODY_LINE_CHARS else line[: _BODY_LINE_CHARS - 1] + "…"
        for line in lines[:_BODY_LINES]
    )


@dataclass
class _Streak:
    answer: HealthAnswer
    since: float
    healthy_at: float | None = None


class StartBoard:
    """What the builds starting together have answered on their health path, shared by
    their waits (one thread each) so each can judge its own start against the others'.

    See the module docstring for the rules; :meth:`judge` applies them.
    """

    def __init__(
        self,
        builds: Iterable[str],
        *,
        health_path: str,
        grace: float,
        start_timeout: float,
        answers: int = GRACE_ANSWERS,
    ) -> None:
        self.builds = tuple(builds)
        self.health_path = health_path
        self.grace = grace
        self.start_timeout = start_timeout
        self.grace_answers = answers
        self.polls: dict[str, int] = dict.fromkeys(self.builds, 0)
        """Health requests sent per build (tests count them instead of timing a start)."""
        self._lock = threading.Lock()
        self._streaks: dict[str, _Streak] = {}

    def record(
        self,
        build: str,
        url: str,
        now: float,
        *,
        response: httpx.Response | None = None,
        error: str | None = None,
    ) -> HealthAnswer:
        """Note one health poll of ``build``: its answer, or why there was none."""
        if response is not None:
            answer = HealthAnswer(
                build=build,
                url=url,
                status=response.status_code,
                content_type=response.headers.get("content-type"),
                body=body_head(response),
            )
        else:
            answer = HealthAnswer(build=build, url=url, error=error or "no answer")
        with self._lock:
            self.polls[build] = self.polls.get(build, 0) + 1
            previous = self._streaks.get(build)
            if previous is not None and _same_kind(previous.answer, answer):
                answer = replace(
                    answer, count=previous.answer.count + 1, seconds=now - previous.since
                )
                since = previous.since
            else:
                answer = replace(answer, count=1, seconds=0.0)
                since = now
            self._streaks[build] = _Streak(
                answer=answer, since=since, healthy_at=now if answer.healthy else None
            )
        return answer

    def answers(self, first: str) -> tuple[HealthAnswer, ...]:
        """The last answer of every build that answered (or tried), ``first`` first."""
        with self._lock:
            streaks = dict(self._streaks)
        order = [first, *(build for build in self.builds if build != first)]
        order += [build for build in streaks if build not in order]
        return tuple(streaks[build].answer for build in order if build in streaks)

    def _judged(self, streak: _Streak | None, now: float, *, at_deadline: bool) -> bool:
        """Whether a build has answered non-2xx long enough to be judged by it."""
        if streak is None or streak.answer.status is None or streak.answer.healthy:
            return False
        if at_deadline:
            return True
        return streak.answer.count >= self.grace_answers and now - streak.since >= self.grace

    def judge(
        self, build: str, now: float, *, elapsed: float, at_deadline: bool = False
    ) -> StartFailure | None:
        """The failure of ``build``'s start if its answers decide it now, else None."""
        with self._lock:
            streaks = dict(self._streaks)
        own = streaks.get(build)
        if own is None or not self._judged(own, now, at_deadline=at_deadline):
            return None
        healthy = [
            b
            for b in _reference_order(self.builds)
            if b != build and b in streaks and streaks[b].answer.healthy
        ]
        label = build_label(build)
        if healthy:
            reference = streaks[healthy[0]].answer
            summary = (
                f"the {label} build answers {own.answer.status} on {self.health_path} where "
                f"the {build_label(reference.build)} build answers {reference.status}"
            )
            hint = (
                f"the {label} build runs but its health endpoint fails"
                + (" (so this is about the reference, not the AOT build)" if build != "aot" else "")
                + "; its log says why. If it is only slow to report healthy, give it longer "
                "with --aot-parity-start-grace SECONDS (ini aot_parity_start_grace, now "
                f"{self.grace:g} s)"
            )
            return self._failure(
                build,
                kind="unhealthy",
                summary=summary,
                hint=hint,
                answers=self.answers(build),
                elapsed=elapsed,
            )
        others = [b for b in self.builds if b != build]
        if not all(self._judged(streaks.get(b), now, at_deadline=at_deadline) for b in others):
            return None
        # About every build alike: in the builds' order, not this build's first.
        answers = tuple(streaks[b].answer for b in _reference_order(self.builds) if b in streaks)
        said = ", ".join(f"the {build_label(a.build)} build answers {a.status}" for a in answers)
        summary = f"no build answers 2xx on the health path {self.health_path} ({said})"
        hint = (
            "aot-parity starts the tests once each build answers 2xx on its health path. Set "
            "the path of an endpoint that answers 2xx when the app is up with "
            "--aot-parity-health PATH (ini aot_parity_health), e.g. /health after "
            'app.MapHealthChecks("/health"); if the builds only report unhealthy for a while '
            "at start, give them longer with --aot-parity-start-grace SECONDS (ini "
            f"aot_parity_start_grace, now {self.grace:g} s)"
        )
        return self._failure(
            build, kind="health_path", summary=summary, hint=hint, answers=answers, elapsed=elapsed
        )

    def _failure(
        self,
        build: str,
        *,
        kind: StartFailureKind,
        summary: str,
        hint: str,
        answers: tuple[HealthAnswer, ...],
        elapsed: float,
    ) -> StartFailure:
        return StartFailure(
            build=build,
            kind=kind,
            summary=summary,
            health_path=self.health_path,
            answers=answers,
            elapsed_seconds=elapsed,
            start_timeout=self.start_timeout,
            start_grace=self.grace,
            hint=hint,
        )


def _same_kind(a: HealthAnswer, b: HealthAnswer) -> bool:
    if a.status is None or b.status is None:
        return a.status is None and b.status is None
    return a.healthy == b.healthy


def _reference_order(builds: Sequence[str]) -> list[str]:
    """Which healthy build an unhealthy one is compared with: the JIT build first."""
    order = [b for b in ("jit", "aot", "noise") if b in builds]
    return order + [b for b in builds if b not in order]


def exited_failure(
    build: str,
    code: int,
    *,
    log_tail: Sequence[str],
    log: Sequence[str],
    hint: str,
    health_path: str,
    answers: tuple[HealthAnswer, ...] = (),
    elapsed: float | None = None,
    start_timeout: float | None = None,
    start_grace: float | None = None,
) -> StartFailure:
    """The record of a build that exited during its start, with what its log says."""
    sig = exit_signal(code)
    found = find_exception(log, at_start=True)
    label = build_label(build)
    shown = f"exit {code}: {sig.name}" if sig is not None else f"exit {code}"
    summary = f"the {label} build exited at start ({shown})"
    notes: list[str] = []
    if build != "aot":
        notes.append(
            f"the {label} build is the reference: this says nothing about the AOT build; "
            "fix the JIT build (or its target) first"
        )
    if sig is not None and found is None:
        notes.append(
            f"no .NET exception in its log: {sig.name} is {_SIGNAL_NOTES.get(sig, 'a signal')}"
        )
    if hint:
        notes.append(hint)
    return StartFailure(
        build=build,
        kind="exited",
        summary=summary,
        health_path=health_path,
        exit_code=code,
        signal=sig.name if sig is not None else None,
        exception_type=found.type if found else None,
        exception_message=found.message if found else None,
        frames=found.frames if found else (),
        answers=answers,
        log_tail=tuple(log_tail),
        elapsed_seconds=elapsed,
        start_timeout=start_timeout,
        start_grace=start_grace,
        hint="; ".join(notes),
    )


def with_logged_exception(failure: StartFailure, log: Sequence[str]) -> StartFailure:
    """An unhealthy build's record with the exception its log shows for the failed answers."""
    found = find_exception(log, at_start=False)
    if found is None:
        return failure
    return replace(
        failure,
        exception_type=found.type,
        exception_message=found.message,
        frames=found.frames,
    )


def wait_until_healthy(
    build: BuildName,
    url: str,
    *,
    timeout: float,
    started_at: float,
    exit_code: Callable[[], int | None],
    log_tail: Callable[..., Sequence[str]],
    stopped: Callable[[], bool],
    exit_hint: str = "",
    timeout_hint: str = "",
    trust_env: bool = False,
    board: StartJudge | None = None,
    health_path: str = "/health",
) -> float:
    """Poll ``GET url`` until it answers 2xx and return the seconds since ``started_at``
    (a :func:`time.monotonic` value).

    Raises :class:`TargetStartError` (with its :class:`StartFailure`) as soon as
    ``exit_code()`` is not None (the build exited), when ``stopped()`` turns true (someone
    stopped the target, e.g. Ctrl-C), when ``board`` judges the answers (see the module
    docstring), or after ``timeout`` seconds without a 2xx answer.
    """
    deadline = started_at + timeout
    last: HealthAnswer | None = None
    interval = 0.05

    def others() -> tuple[HealthAnswer, ...]:
        return board.answers(build) if board is not None else ((last,) if last else ())

    def judged(failure: StartFailure) -> TargetStartError:
        if failure.kind == "unhealthy":
            failure = with_logged_exception(failure, log_tail(200))
        tail = tuple(log_tail(20))
        failure = replace(failure, log_tail=tail)
        return TargetStartError(
            build,
            failure.summary.split(" build ", 1)[-1],
            log_tail=tail,
            hint=failure.hint,
            failure=failure,
        )

    with httpx.Client(trust_env=trust_env, follow_redirects=False) as client:
        while True:
            if stopped():
                raise TargetStartError(build, STOPPED)
            code = exit_code()
            if code is not None and stopped():
                raise TargetStartError(build, STOPPED)
            if code is not None:
                tail = log_tail()
                hint = exit_hint
                if mentions_port_taken(tail):
                    hint = (
                        "its port was already in use (see the log); another process took it "
                        "between aot-parity choosing it and the build binding it — run again, "
                        "and look for leftover servers (`ss -ltnp`)"
                    )
                failure = exited_failure(
                    build,
                    code,
                    log_tail=tail,
                    log=log_tail(400),
                    hint=hint,
                    health_path=health_path,
                    answers=tuple(a for a in others() if a.build != build),
                    elapsed=time.monotonic() - started_at,
                    start_timeout=timeout,
                    start_grace=board.grace if board is not None else None,
                )
                raise TargetStartError(
                    build,
                    failure.summary.split(" build ", 1)[-1],
                    exit_code=code,
                    log_tail=tail,
                    hint=failure.hint,
                    failure=failure,
                )
            now = time.monotonic()
            if now >= deadline:
                if board is not None:
                    verdict = board.judge(build, now, elapsed=now - started_at, at_deadline=True)
                    if verdict is not None:
                        raise judged(verdict)
                if last is not None and last.status is not None:
                    detail = f"last status {last.status}"
                elif last is not None:
                    detail = f"last error: {last.error}"
                else:
                    detail = "no answer"
                what = f"was not healthy after {timeout:g} s on {url} ({detail})"
                tail = tuple(log_tail())
                raise TargetStartError(
                    build,
                    what,
                    log_tail=tail,
                    hint=timeout_hint,
                    failure=StartFailure(
                        build=build,
                        kind="timeout",
                        summary=f"the {build_label(build)} build {what}",
                        health_path=health_path,
                        answers=others(),
                        log_tail=tail,
                        elapsed_seconds=now - started_at,
                        start_timeout=timeout,
                        start_grace=board.grace if board is not None else None,
                        hint=timeout_hint,
                    ),
                )
            try:
                response = client.get(url, timeout=max(0.2, min(2.0, deadline - now)))
            except httpx.HTTPError as exc:
                error = describe_http_error(exc)
                if board is not None:
                    last = board.record(build, url, time.monotonic(), error=error)
                else:
                    last = HealthAnswer(build=build, url=url, error=error, count=1)
            else:
                if board is not None:
                    last = board.record(build, url, time.monotonic(), response=response)
                else:
                    last = HealthAnswer(
                        build=build,
                        url=url,
                        status=response.status_code,
                        content_type=response.headers.get("content-type"),
                        body=body_head(response),
                        count=1,
                    )
                if last.healthy:
                    return time.monotonic() - started_at
                if board is not None:
                    now = time.monotonic()
                    verdict = board.judge(build, now, elapsed=now - started_at)
                    if verdict is not None:
                        raise judged(verdict)
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.5, 0.25)


STOPPED = "was stopped before it was ready"


def explain_stopped_start(
    error: TargetStartError,
    exit_code_at_stop: int | None,
    log_tail: Sequence[str],
    exit_hint: str,
    health_path: str = "/health",
) -> TargetStartError:
    """A start that ended with "was stopped" because another build failed may have failed
    on its own first: if the build had already exited when the stop began, report that."""
    if error.what != STOPPED or exit_code_at_stop is None:
        return error
    failure = exited_failure(
        error.build,
        exit_code_at_stop,
        log_tail=log_tail,
        log=log_tail,
        hint=exit_hint,
        health_path=health_path,
    )
    return TargetStartError(
        error.build,
        failure.summary.split(" build ", 1)[-1],
        exit_code=exit_code_at_stop,
        log_tail=log_tail,
        hint=failure.hint,
        failure=failure,
    )
