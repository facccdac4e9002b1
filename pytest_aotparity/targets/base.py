"""The protocol every target implements, how a TARGET string is parsed, and the start error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

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
