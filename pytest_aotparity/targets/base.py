"""The protocol every target implements, how a TARGET string is parsed, and the start error."""

from __future__ import annotations

import os
import re
import shlex
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import pytest

from pytest_aotparity.exchange import BuildName

TargetKind = Literal["image", "cmd", "url"]


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


@dataclass(frozen=True)
class TargetOptions:
    """Settings shared by every target of a run."""

    container_port: int = 8080
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    start_timeout: float = 60.0
    session_id: str = ""
    """Labels containers and names pid files so orphans of earlier runs can be swept."""
    workdir: str | None = None
    """Working directory for ``cmd:`` targets (default: the rootdir)."""
    state_dir: str | None = None
    """Where ``cmd:`` targets record pid files for :func:`sweep_orphans` (default:
    :func:`default_state_dir`). Must be the same directory run after run for the sweep to
    find what a killed run left behind."""

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


class TargetStartError(Exception):
    """A build that could not be brought up. The message names the build, the exit code,
    the last log lines and a hint, so a CI log alone tells what went wrong."""

    def __init__(
        self,
        build: str,
        what: str,
        *,
        exit_code: int | None = None,
        log_tail: Sequence[str] = (),
        hint: str = "",
    ) -> None:
        self.build = build
        self.what = what
        self.exit_code = exit_code
        self.log_tail = list(log_tail)
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"aot-parity: the {self.build} build {self.what}"]
        if self.exit_code is not None:
            lines.append(f"  exit code: {self.exit_code}")
        if self.log_tail:
            lines.append(f"  last {len(self.log_tail)} log lines of the {self.build} build:")
            lines.extend(f"    | {line}" for line in self.log_tail)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


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
        )

    def render(self) -> str:
        if len(self.errors) == 1:
            return self.errors[0].render()
        builds = " and ".join(error.build for error in self.errors)
        parts = [f"aot-parity: {len(self.errors)} builds could not be started ({builds})"]
        parts.extend(error.render() for error in self.errors)
        return "\n".join(parts)


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
