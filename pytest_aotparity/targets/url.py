"""``http(s)://`` targets: an instance somebody else started; aot-parity only talks to it.

:meth:`UrlTarget.start` checks the health endpoint (retrying for a few seconds, so an
instance that is just coming up is not refused) and :meth:`UrlTarget.stop` does nothing.
There is no start time, memory figure, artifact size, exit code or log for such a target.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets.base import TargetOptions, TargetSpec, TargetStartError
from pytest_aotparity.targets.health import describe_http_error, health_url

URL_CHECK_SECONDS = 3.0
"""How long :meth:`UrlTarget.start` keeps retrying the health check."""

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class UrlTarget:
    """A build that is already running at a URL."""

    def __init__(
        self, spec: TargetSpec, options: TargetOptions, *, check_seconds: float = URL_CHECK_SECONDS
    ) -> None:
        if spec.kind != "url":
            raise ValueError(f"UrlTarget needs a URL spec, got {spec.kind}")
        self.build: BuildName = spec.build
        self.spec = spec
        self.options = options
        self.check_seconds = check_seconds
        self._base_url = spec.value.rstrip("/")

    def __repr__(self) -> str:
        return f"<UrlTarget {self.build} {self._base_url}>"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def ready_seconds(self) -> float | None:
        return None

    def start(self) -> None:
        url = health_url(self._base_url, self.options.health_path)
        host = urlsplit(self._base_url).hostname or ""
        deadline = time.monotonic() + self.check_seconds
        last = "no answer"
        board = self.options.start_board
        started_at = time.monotonic()
        with httpx.Client(trust_env=host not in _LOOPBACK) as client:
            while True:
                try:
                    response = client.get(url, timeout=2.0)
                except httpx.HTTPError as exc:
                    last = describe_http_error(exc)
                    if board is not None:
                        board.record(self.build, url, time.monotonic(), error=last)
                else:
                    # The others' starts are judged against this build's answers too.
                    if board is not None:
                        board.record(self.build, url, time.monotonic(), response=response)
                    if 200 <= response.status_code < 300:
                        return
                    last = f"status {response.status_code}"
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.2)
        if board is not None:
            now = time.monotonic()
            failure = board.judge(self.build, now, elapsed=now - started_at, at_deadline=True)
            if failure is not None:
                raise TargetStartError(
                    self.build, failure.summary, hint=failure.hint, failure=failure
                )
        raise TargetStartError(
            self.build,
            f"is not healthy at {url} ({last})",
            hint=(
                "a URL target is used as it is: start the build yourself and check the URL "
                "and port (is something else listening there?), or let aot-parity start it "
                "with image:NAME[:TAG] or cmd:COMMAND; if the build has no "
                f"{self.options.health_path} endpoint, set the health path"
            ),
        )

    def stop(self) -> None:
        """Nothing to stop: aot-parity did not start this build."""

    def exit_code(self) -> int | None:
        return None

    def log_tail(self, lines: int = 40) -> Sequence[str]:
        return []

    def memory_rss_bytes(self) -> int | None:
        return None

    def artifact_size_bytes(self) -> int | None:
        return None
