"""The protocol every target implements, how a TARGET string is parsed, the start error and
the typed record of a start failure (:class:`StartFailure`)."""

from __future__ import annotations

import os
import re
import shlex
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import pytest

from pytest_aotparity.exchange import BuildName

if TYPE_CHECKING:
    import httpx

TargetKind = Literal["image", "cmd", "url"]

DEFAULT_START_GRACE = 3.0
"""Seconds a build may answer its health path with something else than 2xx before its start is
judged (see :class:`~pytest_aotparity.targets.health.StartBoard`)."""
GRACE_ANSWERS = 3
"""Consecutive non-2xx answers needed, besides the grace seconds, before a start is judged."""


@dataclass(frozen=True)
class TargetSpec:
    """A parsed ``--aot-parity-jit`` / ``--aot-parity-aot`` / ``--aot-parity-noise`` value.

    ``image:NAME[:TAG]`` → kind ``image``, value ``NAME[:TAG]``;
    ``cmd:COMMAND`` → kind ``cmd``, value ``COMMAND`` (``{port}`` is replaced by a free port);
    ``http(s)://…`` → kind ``url``, value the URL.
    """

    build: BuildName
    kind: TargetKind
    value: str


class StartJudge(Protocol):
    """What a target's start needs of the board the builds starting together share
    (:class:`~pytest_aotparity.targets.health.StartBoard`); a protocol here, so this module
    does not import the health module that imports it."""

    grace: float

    def record(
        self,
        build: str,
        url: str,
        now: float,
        *,
        response: httpx.Response | None = None,
        error: str | None = None,
    ) -> HealthAnswer: ...

    def answers(self, first: str) -> tuple[HealthAnswer, ...]: ...

    def judge(
        self, build: str, now: float, *, elapsed: float, at_deadline: bool = False
    ) -> StartFailure | None: ...


@dataclass(frozen=True)
class TargetOptions:
    """Settings shared by every target of a run."""

    container_port: int = 8080
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    start_timeout: float = 60.0
    start_grace: float = DEFAULT_START_GRACE
    """How long a build may answer its health path with non-2xx before its start is judged."""
    session_id: str = ""
    """Labels containers and names pid files so orphans of earlier runs can be swept."""
    workdir: str | None = None
    """Working directory for ``cmd:`` targets (default: the rootdir)."""
    state_dir: str | None = None
    """Where ``cmd:`` targets record pid files for :func:`sweep_orphans` (default:
    :func:`default_state_dir`). Must be the same directory run after run for the sweep to
    find what a killed run left behind."""

    start_board: StartJudge | None = field(default=None, compare=False, repr=False)
    """Set by :func:`~pytest_aotparity.targets.start_targets` for the builds it starts
    together: what each has answered so far, so each build's start is judged against the
    others'. Without it (a target started on its own) a start only ends healthy, exited or
    timed out."""

    def resolved_state_dir(self) -> Path:
        return Path(self.state_dir) if self.state_dir else default_state_dir()


def default_state_dir() -> Path:
    """``$TMPDIR/aotparity-<uid>``: stable across runs of one user, private to that user."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"aotparity-{uid}"


@runtime_checkable
class Target(Protocol):
    """A running build the plugin can send requests to."""

    build: BuildName
    spec: TargetSpec

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""

    @property
    def ready_seconds(self) -> float | None:
        """Time from start to the first successful health response, or None (url targets)."""

    def start(self) -> None:
        """Start and wait until healthy; raise :class:`TargetStartError` if it exits or never
        gets ready (after stopping whatever was started)."""

    def stop(self) -> None:
        """Stop and remove everything started; safe to call twice and after a failed start."""

    def exit_code(self) -> int | None:
        """The exit code if the build has exited, else None."""

    def log_tail(self, lines: int = 40) -> Sequence[str]:
        """The last lines the build wrote (stdout and stderr merged)."""

    def memory_rss_bytes(self) -> int | None:
        """Resident memory of the build now, if it can be measured."""

    def artifact_size_bytes(self) -> int | None:
        """Image size for containers, size of the executable plus its directory for processes."""


BUILD_LABELS: Mapping[str, str] = {"jit": "JIT", "aot": "AOT", "noise": "noise JIT"}


def build_label(build: str) -> str:
    """How messages name a build: "JIT", "AOT", "noise JIT" (the noise build is a second
    JIT instance)."""
    return BUILD_LABELS.get(build, build)


StartFailureKind = Literal["exited", "unhealthy", "health_path", "timeout", "not_started"]
"""``exited``: the build's process/container ended during the start; ``unhealthy``: it answers
its health path with non-2xx while another build answers 2xx; ``health_path``: no build
answers 2xx there (the health path is probably wrong); ``timeout``: it did not become healthy
within the start timeout; ``not_started``: it could not be launched at all (missing image,
bad command, no Docker engine)."""


@dataclass(frozen=True)
class HealthAnswer:
    """What one build last answered on its health path during the start."""

    build: str
    url: str
    status: int | None = None
    """None: no HTTP answer (see :attr:`error`)."""
    content_type: str | None = None
    body: tuple[str, ...] = ()
    """The first lines of the body (shortened)."""
    error: str | None = None
    """Why there was no answer, e.g. "connection refused"."""
    count: int = 0
    """Consecutive answers of the same kind (2xx, non-2xx, no answer) up to this one."""
    seconds: float = 0.0
    """Seconds from the first of those answers to the last."""

    @property
    def healthy(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        """``500 application/problem+json`` or ``no answer (connection refused)``."""
        if self.status is None:
            return f"no answer ({self.error or 'none yet'})"
        return f"{self.status} {self.content_type}" if self.content_type else str(self.status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "build": self.build,
            "url": self.url,
            "status": self.status,
            "content_type": self.content_type,
            "body": list(self.body),
            "error": self.error,
            "count": self.count,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class StartFailure:
    """Why one build's start failed, as data: what the report's start finding is made of.

    :attr:`summary` is the finding in one sentence ("the AOT build exited at start (exit 139:
    SIGSEGV)", "the AOT build answers 500 on /health where the JIT build answers 200"). A
    failure of the JIT (or noise) build is about the reference, not a verdict on the AOT build.
    """

    build: str
    kind: StartFailureKind
    summary: str
    health_path: str = "/health"
    exit_code: int | None = None
    signal: str | None = None
    """The signal behind the exit code (``SIGSEGV`` for exit 139 or -11), if any."""
    exception_type: str | None = None
    """The .NET exception found in the build's log, e.g. ``System.InvalidOperationException``."""
    exception_message: str | None = None
    frames: tuple[str, ...] = ()
    """The first stack frames of that exception (``at …`` lines, without the ``at``)."""
    answers: tuple[HealthAnswer, ...] = ()
    """The last health answer of every build that answered, this build's first."""
    log_tail: tuple[str, ...] = ()
    elapsed_seconds: float | None = None
    """Seconds from this build's launch to the judgement."""
    start_timeout: float | None = None
    start_grace: float | None = None
    hint: str = ""

    @property
    def label(self) -> str:
        return build_label(self.build)

    @property
    def about_aot(self) -> bool:
        """Whether this says something about the AOT build (else the reference failed)."""
        return self.build == "aot"

    def answer_of(self, build: str) -> HealthAnswer | None:
        return next((answer for answer in self.answers if answer.build == build), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "build": self.build,
            "kind": self.kind,
            "summary": self.summary,
            "health_path": self.health_path,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
            "frames": list(self.frames),
            "answers": [answer.to_dict() for answer in self.answers],
            "log_tail": list(self.log_tail),
            "elapsed_seconds": (
                round(self.elapsed_seconds, 3) if self.elapsed_seconds is not None else None
            ),
            "start_timeout": self.start_timeout,
            "start_grace": self.start_grace,
            "hint": self.hint,
        }

    def render(self) -> str:
        """The testcontainers-style text: the finding, then exception, answers, exit code,
        the last log lines and the hint."""
        lines = [f"aot-parity: {self.summary}"]
        if self.exception_type:
            where = "exception" if self.kind == "exited" else f"exception in the {self.label} log"
            text = (
                f"{self.exception_type}: {self.exception_message}"
                if self.exception_message
                else self.exception_type
            )
            lines.append(f"  {where}: {text}")
            lines.extend(f"      at {frame}" for frame in self.frames)
        for answer in self.answers:
            lines.append(
                f"  {build_label(answer.build)} build on {self.health_path}: {answer.describe()}"
                + (
                    f" ({answer.count} {'answers' if answer.status else 'tries'} in "
                    f"{answer.seconds:.1f} s)"
                    if answer.count > 1
                    else ""
                )
            )
            lines.extend(f"    > {line}" for line in answer.body)
        if self.exit_code is not None:
            lines.append(f"  exit code: {self.exit_code}")
        if self.log_tail:
            lines.append(f"  last {len(self.log_tail)} log lines of the {self.label} build:")
            lines.extend(f"    | {line}" for line in self.log_tail)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class TargetStartError(Exception):
    """A build that could not be brought up. The message names the build, the exit code,
    the last log lines and a hint, so a CI log alone tells what went wrong. With
    :attr:`failure`, the same as data (and the message is the record's)."""

    def __init__(
        self,
        build: str,
        what: str,
        *,
        exit_code: int | None = None,
        log_tail: Sequence[str] = (),
        hint: str = "",
        failure: StartFailure | None = None,
    ) -> None:
        self.build = build
        self.what = what
        self.exit_code = exit_code
        self.log_tail = list(log_tail)
        self.hint = hint
        self.failure = failure
        super().__init__(self.render())

    def render(self) -> str:
        if self.failure is not None:
            return self.failure.render()
        lines = [f"aot-parity: the {build_label(self.build)} build {self.what}"]
        if self.exit_code is not None:
            lines.append(f"  exit code: {self.exit_code}")
        if self.log_tail:
            lines.append(
                f"  last {len(self.log_tail)} log lines of the {build_label(self.build)} build:"
            )
            lines.extend(f"    | {line}" for line in self.log_tail)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def as_failure(self) -> StartFailure:
        """:attr:`failure`, or a ``not_started`` record made of the message's parts."""
        if self.failure is not None:
            return self.failure
        return StartFailure(
            build=self.build,
            kind="not_started",
            summary=f"the {build_label(self.build)} build {self.what}",
            exit_code=self.exit_code,
            log_tail=tuple(self.log_tail),
            hint=self.hint,
        )


class TargetsStartError(TargetStartError):
    """One or more builds of a run could not be brought up; :attr:`errors` holds each one.
    Everything that had started was stopped before this is raised."""

    def __init__(self, errors: Sequence[TargetStartError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(
            first.build if first else "?",
            first.what if first else "could not start",
            exit_code=first.exit_code if first else None,
            log_tail=first.log_tail if first else (),
            hint=first.hint if first else "",
            failure=first.failure if first else None,
        )

    def render(self) -> str:
        if len(self.errors) == 1:
            return self.errors[0].render()
        builds = " and ".join(build_label(error.build) for error in self.errors)
        parts = [f"aot-parity: {len(self.errors)} builds could not be started ({builds})"]
        parts.extend(error.render() for error in self.errors)
        return "\n".join(parts)


class StartFailedError(TargetsStartError):
    """What :func:`~pytest_aotparity.targets.start_targets` raises when a start fails: a
    :class:`TargetsStartError` whose every error carries its :class:`StartFailure`.

    :attr:`failures` lists them in the order of the builds; :attr:`failure` is the first.
    """

    def __init__(self, errors: Sequence[TargetStartError]) -> None:
        self.failures: tuple[StartFailure, ...] = tuple(error.as_failure() for error in errors)
        super().__init__(errors)
        self.failure: StartFailure | None = self.failures[0] if self.failures else None

    def to_dict(self) -> dict[str, Any]:
        return {"failures": [failure.to_dict() for failure in self.failures]}


class HealthPathError(StartFailedError):
    """No build answers 2xx on the health path: the path is wrong (or every build is broken
    the same way). The run reports it as a usage error (:class:`pytest.UsageError`); it says
    what each build answered and how to set the path."""


_KIND_HELP = (
    "Use one of:\n"
    "  image:NAME[:TAG]   a local Docker image, e.g. image:aotparity-sample:aot\n"
    "  cmd:COMMAND        a local command; {port} is replaced by a free port, e.g.\n"
    "                     cmd:./out/aot/PlayersApi --urls http://127.0.0.1:{port}\n"
    "  http(s)://HOST:PORT  an instance that is already running, e.g. http://127.0.0.1:5080"
)
_IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$")


def parse_target(raw: str, build: BuildName) -> TargetSpec:
    """Parse a TARGET string (see :class:`TargetSpec`); raise :class:`pytest.UsageError`
    saying what to write instead when it is not one.

    A ``cmd:`` target must contain ``{port}``: aot-parity picks a free port on 127.0.0.1 and
    puts it there (it is also exported as ``ASPNETCORE_URLS=http://127.0.0.1:PORT``, but a
    command that ignored it would be health-checked on a port it never opened).
    """
    option = f"--aot-parity-{build}"
    text = raw.strip()

    def usage(problem: str, advice: str = _KIND_HELP) -> pytest.UsageError:
        return pytest.UsageError(f"{option}={raw!r}: {problem}\n{advice}")

    if not text:
        raise usage("the target is empty.")
    if text.startswith("image:"):
        image = text[len("image:") :].strip()
        if not image:
            raise usage(
                "the image name is empty.",
                "Write the image as image:NAME[:TAG], e.g. image:aotparity-sample:aot "
                "(see `docker images`).",
            )
        if not _IMAGE_REF.match(image):
            raise usage(
                f"{image!r} is not a Docker image reference.",
                "Write the image as image:NAME[:TAG], e.g. image:aotparity-sample:aot "
                "(see `docker images`).",
            )
        return TargetSpec(build=build, kind="image", value=image)
    if text.startswith("cmd:"):
        command = text[len("cmd:") :].strip()
        example = (
            "e.g. cmd:./out/aot/PlayersApi --urls http://127.0.0.1:{port}  or\n"
            "     cmd:python app.py --port {port}"
        )
        if not command:
            raise usage("the command is empty.", f"Write the command after cmd:, {example}")
        if "{port}" not in command:
            raise usage(
                "the command has no {port}.",
                "aot-parity picks a free port and substitutes it for {port}; put {port} where "
                "the app takes its port (an ASP.NET Core app takes --urls), "
                f"{example}\nTo test an instance you started yourself, give its URL instead "
                "(http://127.0.0.1:PORT).",
            )
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise usage(
                f"the command cannot be split into words ({exc}).",
                "Check the quoting of the command.",
            ) from None
        if not argv:
            raise usage("the command is empty.", f"Write the command after cmd:, {example}")
        return TargetSpec(build=build, kind="cmd", value=command)
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        parsed = urllib.parse.urlsplit(text)
        try:
            port = parsed.port
        except ValueError:
            port = -1
        if not parsed.hostname or port == -1:
            raise usage(
                "this is not a usable URL (no host, or a bad port).",
                "Give the base URL of the running instance, e.g. http://127.0.0.1:5080",
            )
        if parsed.query or parsed.fragment:
            raise usage(
                "the URL has a query or fragment.",
                "Give the base URL of the running instance, e.g. http://127.0.0.1:5080",
            )
        return TargetSpec(build=build, kind="url", value=text.rstrip("/"))
    kind = text.split(":", 1)[0] if ":" in text else ""
    if kind and kind.lower() in {"docker", "container", "img"}:
        raise usage(f"unknown target kind {kind!r}; did you mean image:{text.split(':', 1)[1]}?")
    if kind.lower() in {"command", "process", "exec", "run"}:
        raise usage(f"unknown target kind {kind!r}; did you mean cmd:{text.split(':', 1)[1]}?")
    if re.match(r"^[A-Za-z0-9.\-]+:\d+(/.*)?$", text):
        raise usage(f"no scheme; did you mean http://{text}?")
    if _IMAGE_REF.match(text) and ":" in text and "://" not in text:
        raise usage(f"unknown target kind {kind!r}; did you mean image:{text}?")
    if "://" in text:
        raise usage(f"unsupported URL scheme {text.split('://', 1)[0]!r}.")
    raise usage("this is not a target (no image:, cmd: or http(s):// prefix).")
