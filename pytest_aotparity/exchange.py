"""The data that flows between the layers: one request, and what one build answered.

Every layer speaks in these types: replay and generation produce them, the diff
engine compares them, the report serialises them. They hold bytes and plain
values only, so they are cheap to build and safe to pickle (pytest-xdist).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BuildName = Literal["jit", "aot", "noise"]
"""The role of a target: the runtime build, the Native AOT build, a second runtime build."""

BUILDS: tuple[BuildName, ...] = ("jit", "aot", "noise")


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the test sent it, addressed relative to the app's base URL."""

    method: str
    path: str
    """Path plus query string, e.g. ``/players/7?expand=team``."""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    path_template: str | None = None
    """The route template when known (``/players/{squadNumber}``), else None."""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True)
class RecordedResponse:
    """What one build answered; ``error`` is set instead when no response came back."""

    build: BuildName
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None
    """A connection error, timeout or reset, as text; status is None then."""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


@dataclass
class Exchange:
    """One request sent to every build, and their answers (``noise`` only with a noise target)."""

    request: RecordedRequest
    jit: RecordedResponse
    aot: RecordedResponse
    noise: RecordedResponse | None = None
    aot_request: RecordedRequest | None = None
    """The request as actually sent to the AOT build, when ids were rewritten."""
    origin: Literal["suite", "generated", "stateful"] = "suite"
    nodeid: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
