"""One build's answer as recorded (:class:`~pytest_aotparity.exchange.RecordedResponse`),
whichever client fetched it, and the plugin's own httpx clients that are never mirrored."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from pytest_aotparity.exchange import BuildName, RecordedResponse
from pytest_aotparity.transport.wire import Outcome, WireError, WireResponse, WireTimeout

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class DirectTransport(httpx.HTTPTransport):
    """An ordinary transport that the mirror never touches (the plugin's own clients)."""

    _aotparity_direct = True


def direct_client(base_url: str, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` on ``base_url`` whose requests are not mirrored."""
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    return httpx.Client(base_url=base_url, transport=DirectTransport(), trust_env=False, **kwargs)


def decoded_body(
    status: int, headers: httpx.Headers | Sequence[tuple[str, str]], raw: bytes
) -> bytes:
    """``raw`` without its content encoding (gzip, deflate, br…), as far as httpx knows it."""
    if isinstance(headers, httpx.Headers):
        if not headers.get("content-encoding"):
            return raw
    elif not any(key.lower() == "content-encoding" and value for key, value in headers):
        return raw
    try:
        return httpx.Response(status, headers=headers, content=raw).read()
    except httpx.DecodingError:
        return raw


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return f"connection refused ({exc})" if str(exc) else "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return f"connection reset ({exc})"
    if isinstance(exc, httpx.TimeoutException | WireTimeout | TimeoutError):
        return f"no answer in time ({exc or type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError | WireError):
        return f"connection closed without a complete answer ({exc})"
    return f"{type(exc).__name__}: {exc}"


def _failed(build: BuildName, exc: BaseException, elapsed_ms: float) -> RecordedResponse:
    return RecordedResponse(
        build=build, status=None, elapsed_ms=elapsed_ms, error=describe_error(exc)
    )


def _answered(build: BuildName, answer: WireResponse, elapsed_ms: float) -> RecordedResponse:
    return RecordedResponse(
        build=build,
        status=answer.status,
        headers=tuple(answer.headers),
        body=decoded_body(answer.status, answer.headers, answer.body),
        elapsed_ms=elapsed_ms,
    )


def since_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def failed_answer(build: BuildName, started: float, exc: BaseException) -> RecordedResponse:
    """What a build "answered" when the request failed: no status, the error said."""
    return _failed(build, exc, since_ms(started))


def wire_answer(build: BuildName, answer: WireResponse, started: float) -> RecordedResponse:
    """A :class:`~.wire.WireClient` answer as recorded (body decoded, time since ``started``)."""
    return _answered(build, answer, since_ms(started))


def recorded_outcome(build: BuildName, outcome: Outcome) -> RecordedResponse:
    """One build's :func:`~.wire.send_together` outcome as recorded."""
    if outcome.response is None:
        return _failed(build, outcome.error or WireError("no answer"), outcome.elapsed_ms)
    return _answered(build, outcome.response, outcome.elapsed_ms)
