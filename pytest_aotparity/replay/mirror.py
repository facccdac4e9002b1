"""Mirroring the suite's own httpx traffic to the other builds.

While a run is on, :class:`Mirror` wraps ``httpx.HTTPTransport.handle_request`` and
``httpx.AsyncHTTPTransport.handle_async_request`` (so sync and async clients, and the
top-level ``httpx.get``/``httpx.post`` functions, are all covered). A request whose origin is
the app's (the JIT target's base URL, or the origin given with ``--aot-parity-app-url``) is

1. rerouted to the JIT build if it was addressed to ``--aot-parity-app-url``;
2. sent to the AOT build (and the noise instance) through the plugin's own clients
   *while* the JIT request is in flight, with JIT ids rewritten to each build's ids
   (:class:`~pytest_aotparity.transport.idmap.IdMap`);
3. answered with the JIT response, byte for byte, so the test's own assertions run as
   before;
4. recorded as an :class:`~pytest_aotparity.exchange.Exchange` handed to ``sink``.

Every other request goes through untouched. The plugin's own clients use transports
marked ``_aotparity_direct`` so they are never mirrored themselves.

How the requests travel. When every build is a plain ``http://`` target and the test's
transport is an ordinary one (no proxy, Unix socket, local address, retries, socket
options, HTTP/2-only or substituted network layer — a mocking library's, say), the sync
path sends *all* the requests, the JIT one included, over the lean
:class:`~pytest_aotparity.transport.wire.WireClient` from the test's own thread and reads
each answer as it arrives (:class:`~pytest_aotparity.transport.pair.PairSender`): no
thread hand-off, each build timed the same way, and a fraction of a general client's CPU
per request — on a two-core runner that CPU is what mirroring costs. The test still gets
an ``httpx.Response`` (status, headers in order, raw body decoded by httpx, HTTP version
and reason phrase; an event stream is read as the test iterates it), and a failure is
raised as the ``httpx`` exception the transport would raise. Otherwise — async clients,
``https://`` builds, a special transport — the JIT request goes through the test's own
transport and the copies through the plugin's clients, their answers read on a thread
pool.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from pytest_aotparity._compat.httpcore import ordinary_pool
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.transport.answers import DEFAULT_TIMEOUT, decoded_body
from pytest_aotparity.transport.pair import PairSender
from pytest_aotparity.transport.wire import (
    Outcome,
    WireError,
    WireStream,
    WireTimeout,
    is_event_stream,
)

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_DEFAULT_TIMEOUT_EXT = DEFAULT_TIMEOUT.as_dict()


def origin_key(url: httpx.URL | str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` with the default port filled in and every loopback spelling
    (``localhost``, ``127.0.0.1``, ``::1``) folded into one."""
    if isinstance(url, str):
        parts = urllib.parse.urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port
    else:
        scheme, host, port = url.scheme.lower(), url.host.lower(), url.port
    if port is None:
        port = 443 if scheme == "https" else 80
    if host in _LOOPBACK:
        host = "loopback"
    return scheme, host, port


def path_and_query(url: httpx.URL) -> str:
    raw = url.raw_path.decode("ascii")
    return raw or "/"


def _recorded_request(request: httpx.Request, body: bytes) -> RecordedRequest:
    headers = tuple(
        (key, value)
        for key, value in request.headers.multi_items()
        if key.lower() not in ("host", "transfer-encoding")
    )
    return RecordedRequest(
        method=request.method, path=path_and_query(request.url), headers=headers, body=body
    )


def httpx_error(outcome: Outcome, request: httpx.Request) -> httpx.TransportError:
    """The exception httpx's own transport would have raised for a failed wire request."""
    exc = outcome.error or WireError("no answer")
    text = str(exc) or type(exc).__name__
    cls: type[httpx.TransportError]
    if not outcome.sent:
        if isinstance(exc, TimeoutError):
            cls = httpx.ConnectTimeout
        elif isinstance(exc, BrokenPipeError | ConnectionResetError):
            cls = httpx.WriteError
        else:
            cls = httpx.ConnectError
    elif isinstance(exc, WireTimeout | TimeoutError):
        cls = httpx.ReadTimeout
    elif isinstance(exc, WireError):
        cls = httpx.RemoteProtocolError
    else:
        cls = httpx.ReadError
    error = cls(text, request=request)
    error.__cause__ = exc
    return error


def wire_eligible(transport: httpx.BaseTransport, request: httpx.Request) -> bool:
    """Whether the JIT request may go over the wire client instead of ``transport``: the
    transport is httpx's ordinary connection pool with nothing that changes how it
    connects (proxy, Unix socket, local address, retries, socket options, HTTP/2 only, a
    substituted network backend or a patched pool, as mocking libraries do), and the
    request neither asks to switch protocols nor carries a ``trace`` callback."""
    if not ordinary_pool(getattr(transport, "_pool", None)):  # httpx keeps it private too
        return False
    # a trace callback watches httpcore's own steps; a protocol switch needs its connection
    return "trace" not in request.extensions and "upgrade" not in request.headers


class _StreamBody(httpx.SyncByteStream):
    """An event stream's body, handed to the test as it arrives."""

    def __init__(self, stream: WireStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        self._stream.close()


def _is_event_stream(headers: httpx.Headers) -> bool:
    return is_event_stream(headers.get("content-type", ""))


class Mirror:
    """Sends the suite's requests to the other builds and records each exchange.

    ``sink(exchange)`` receives every recorded exchange (called in the thread or task that
    made the request); ``active()`` says whether the current test is mirrored at all
    (``@pytest.mark.aot_parity(skip=True)`` turns it off, requests then go to JIT only).
    """

    def __init__(
        self,
        *,
        sender: PairSender,
        app_origins: Sequence[str] = (),
        sink: Callable[[Exchange], None],
        active: Callable[[], bool],
        nodeid: Callable[[], str | None],
    ) -> None:
        self.sender = sender
        self.jit_url = sender.jit.base_url.rstrip("/")
        self._jit_origin = origin_key(self.jit_url)
        self._jit_httpx_url = httpx.URL(self.jit_url)
        self._reroute = {origin_key(o) for o in app_origins} - {self._jit_origin}
        self._origins = {self._jit_origin, *self._reroute}
        self._sink = sink
        self._active = active
        self._nodeid = nodeid
        self._installed = False
        self._saved: tuple[Any, Any] | None = None
        self.requests_seen = 0

    # -- patching -------------------------------------------------------------------------

    def install(self) -> None:
        """Wrap the httpx transports (idempotent)."""
        if self._installed:
            return
        sync_original = httpx.HTTPTransport.handle_request
        async_original = httpx.AsyncHTTPTransport.handle_async_request
        mirror = self

        def handle_request(
            transport: httpx.HTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            if getattr(transport, "_aotparity_direct", False) or not mirror.matches(request.url):
                return sync_original(transport, request)
            return mirror.handle_sync(
                lambda req: sync_original(transport, req), request, transport=transport
            )

        async def handle_async_request(
            transport: httpx.AsyncHTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            if getattr(transport, "_aotparity_direct", False) or not mirror.matches(request.url):
                return await async_original(transport, request)
            return await mirror.handle_async(lambda req: async_original(transport, req), request)

        handle_request.__wrapped__ = sync_original  # type: ignore[attr-defined]
        handle_async_request.__wrapped__ = async_original  # type: ignore[attr-defined]
        self._saved = (sync_original, async_original)
        setattr(httpx.HTTPTransport, "handle_request", handle_request)  # noqa: B010
        setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)  # noqa: B010
        self._installed = True

    def uninstall(self) -> None:
        """Restore the transports (idempotent; the sender is the run's to close)."""
        if self._installed and self._saved is not None:
            setattr(httpx.HTTPTransport, "handle_request", self._saved[0])  # noqa: B010
            setattr(httpx.AsyncHTTPTransport, "handle_async_request", self._saved[1])  # noqa: B010
        self._installed = False
        self._saved = None

    @property
    def installed(self) -> bool:
        return self._installed

    # -- routing --------------------------------------------------------------------------

    def matches(self, url: httpx.URL) -> bool:
        return origin_key(url) in self._origins

    def _jit_request(self, request: httpx.Request) -> httpx.Request:
        """The request readdressed to the JIT build when it went to the app URL."""
        if origin_key(request.url) not in self._reroute:
            return request
        target = self._jit_httpx_url
        url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        headers = httpx.Headers(
            [("Host", url.netloc.decode("ascii"))]
            + [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
        )
        rerouted = httpx.Request(
            request.method,
            url,
            headers=headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return rerouted

    # -- the other builds -----------------------------------------------------------------

    # -- sync -----------------------------------------------------------------------------

    def handle_sync(
        self,
        send: Callable[[httpx.Request], httpx.Response],
        request: httpx.Request,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> httpx.Response:
        body = request.read()  # before rerouting: a streamed body becomes replayable
        jit_request = self._jit_request(request)
        if not self._active():
            return send(jit_request)
        self.requests_seen += 1
        nodeid = self._nodeid()
        recorded = _recorded_request(request, body)
        timeouts = request.extensions.get("timeout") or _DEFAULT_TIMEOUT_EXT
        if self.sender.plain and transport is not None and wire_eligible(transport, request):
            return self._handle_on_wire(jit_request, recorded, nodeid, timeouts)
        others = self.sender.start_others(recorded, timeouts)
        started = time.perf_counter()
        try:
            response = send(jit_request)
            if _is_event_stream(response.headers):
                raw = b""
                passthrough: httpx.Response | None = response
            else:
                try:
                    raw = b"".join(response.iter_raw())
                finally:
                    response.close()
                passthrough = None
        except BaseException:
            others.drain()
            raise
        elapsed = (time.perf_counter() - started) * 1000
        jit = RecordedResponse(
            build="jit",
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=decoded_body(response.status_code, response.headers, raw),
            elapsed_ms=elapsed,
        )
        exchange = self.sender.complete(
            others, jit, others.answers(), origin="suite", nodeid=nodeid
        )
        self._sink(exchange)
        if passthrough is not None:
            return passthrough
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    def _handle_on_wire(
        self,
        jit_request: httpx.Request,
        recorded: RecordedRequest,
        nodeid: str | None,
        timeouts: Any,
    ) -> httpx.Response:
        """Every build over the wire client, from this thread (see the module's doc)."""
        pending = self.sender.start(
            recorded,
            "suite",
            nodeid=nodeid,
            timeouts=timeouts,
            jit_host=jit_request.headers.get("host"),
            jit_events="stream",
        )
        jit_outcome = pending.read()["jit"]
        answer = jit_outcome.response
        if answer is None:
            raise httpx_error(jit_outcome, jit_request)
        self._sink(pending.exchange())
        stream: httpx.SyncByteStream = (
            httpx.ByteStream(answer.body) if answer.stream is None else _StreamBody(answer.stream)
        )
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=stream,
            extensions={
                "http_version": answer.version.encode("ascii", "replace"),
                "reason_phrase": answer.reason.encode("latin-1", "replace"),
            },
        )

    # -- async ----------------------------------------------------------------------------

    async def handle_async(
        self,
        send: Callable[[httpx.Request], Any],
        request: httpx.Request,
    ) -> httpx.Response:
        body = await request.aread()  # before rerouting: a streamed body becomes replayable
        jit_request = self._jit_request(request)
        if not self._active():
            result: httpx.Response = await send(jit_request)
            return result
        self.requests_seen += 1
        nodeid = self._nodeid()
        recorded = _recorded_request(request, body)
        timeouts = request.extensions.get("timeout") or _DEFAULT_TIMEOUT_EXT
        others = self.sender.start_others(recorded, timeouts)
        started = time.perf_counter()
        try:
            response: httpx.Response = await send(jit_request)
            if _is_event_stream(response.headers):
                raw = b""
                passthrough: httpx.Response | None = response
            else:
                try:
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                finally:
                    await response.aclose()
                passthrough = None
        except BaseException:
            await others.drain_async()
            raise
        elapsed = (time.perf_counter() - started) * 1000
        jit = RecordedResponse(
            build="jit",
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=decoded_body(response.status_code, response.headers, raw),
            elapsed_ms=elapsed,
        )
        answers = await others.answers_async()
        exchange = self.sender.complete(others, jit, answers, origin="suite", nodeid=nodeid)
        self._sink(exchange)
        if passthrough is not None:
            return passthrough
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )
