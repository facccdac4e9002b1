"""Waiting for a build to answer its health endpoint, shared by every kind of target."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import httpx

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets.base import TargetStartError

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


def wait_until_healthy(
    build: BuildName,
    url: str,
    *,
    timeout: float,
    started_at: float,
    exit_code: Callable[[], int | None],
    log_tail: Callable[[], Sequence[str]],
    stopped: Callable[[], bool],
    exit_hint: str = "",
    timeout_hint: str = "",
    trust_env: bool = False,
) -> float:
    """Poll ``GET url`` until it answers 2xx and return the seconds since ``started_at``
    (a :func:`time.monotonic` value).

    Raises :class:`TargetStartError` as soon as ``exit_code()`` is not None (the build
    exited), when ``stopped()`` turns true (someone stopped the target, e.g. Ctrl-C), or
    after ``timeout`` seconds without a 2xx answer.
    """
    deadline = started_at + timeout
    last_status: int | None = None
    last_error: str | None = None
    interval = 0.05
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
                raise TargetStartError(
                    build, "exited before it was ready", exit_code=code, log_tail=tail, hint=hint
                )
            now = time.monotonic()
            if now >= deadline:
                if last_status is not None:
                    detail = f"last status {last_status}"
                elif last_error is not None:
                    detail = f"last error: {last_error}"
                else:
                    detail = "no answer"
                raise TargetStartError(
                    build,
                    f"was not healthy after {timeout:g} s on {url} ({detail})",
                    log_tail=log_tail(),
                    hint=timeout_hint,
                )
            try:
                response = client.get(url, timeout=max(0.2, min(2.0, deadline - now)))
            except httpx.HTTPError as exc:
                last_error, last_status = describe_http_error(exc), None
            else:
                last_status, last_error = response.status_code, None
                if 200 <= response.status_code < 300:
                    return time.monotonic() - started_at
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.5, 0.25)


STOPPED = "was stopped before it was ready"


def explain_stopped_start(
    error: TargetStartError,
    exit_code_at_stop: int | None,
    log_tail: Sequence[str],
    exit_hint: str,
) -> TargetStartError:
    """A start that ended with "was stopped" because another build failed may have failed
    on its own first: if the build had already exited when the stop began, report that."""
    if error.what != STOPPED or exit_code_at_stop is None:
        return error
    return TargetStartError(
        error.build,
        "exited before it was ready",
        exit_code=exit_code_at_stop,
        log_tail=log_tail,
        hint=exit_hint,
    )
