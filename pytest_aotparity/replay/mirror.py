"""Mirroring the suite's own httpx traffic to the other builds.

While a run is on, :class:`Mirror` wraps ``httpx.HTTPTransport.handle_request`` and
``httpx.AsyncHTTPTransport.handle_async_request`` (so sync and async clients, and the
top-level ``httpx.get``/``httpx.post`` functions, are all covered). A request whose origin is
the app's (the JIT target's base URL, or the origin given with ``--aot-parity-app-url``) is

1. rerouted to the JIT build if it was addressed to ``--aot-parity-app-url``;
2. sent to the AOT build (and the noise instance) through the plugin's own clients
   *while* the JIT request is in flight, with JIT ids rewritten to each build's ids
   (:class:`~pytest_aotparity.replay.idmap.IdMap`);
3. answered with the JIT response, byte for byte, so the test's own assertions run as
   before;
4. recorded as an :class:`~pytest_aotparity.exchange.Exchange` handed to ``sink``.

Every other request goes through untouched. The plugin's own clients use transports
marked ``_aotparity_direct`` so they are never mirrored themselves.

How the requests travel. When every build is a plain ``http://`` target and the test's
transport is an ordinary one (no proxy, Unix socket, local address, retries, socket
options, HTTP/2-only or substituted network layer — a mocking library's, say), the sync
path sends *all* the requests, the JIT one included, over the lean
:class:`~pytest_aotparity.replay.wire.WireClient` from the test's own thread and reads
each answer as it arrives (:func:`~pytest_aotparity.replay.wire.send_together`): no
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

import concurrent.futures
import contextlib
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import httpcore
import httpx

from pytest_aotparity.exchange import BuildName, Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.replay.idmap import IdMap, is_create, location_ids
from pytest_aotparity.replay.wire import (
    Outcome,
    Pending,
    WireCall,
    WireClient,
    WireClients,
    WireError,
    WireResponse,
    WireStream,
    WireTimeout,
    forwardable,
    is_event_stream,
    send_together,
)

LearnIds = Callable[[bytes, bytes], Mapping[str, str]]
"""``learn_ids(jit_body, other_body)`` → JIT id → other id (from the diff engine)."""

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_DEFAULT_TIMEOUT_EXT = DEFAULT_TIMEOUT.as_dict()


class DirectTransport(httpx.HTTPTransport):
    """An ordinary transport that the mirror never touches (the plugin's own clients)."""

    _aotparity_direct = True


def direct_client(base_url: str, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` on ``base_url`` whose requests are not mirrored."""
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    return httpx.Client(base_url=base_url, transport=DirectTransport(), trust_env=False, **kwargs)


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


@dataclass(frozen=True)
class Peer:
    """Another build that mirrored requests go to."""

    build: BuildName
    base_url: str
    ids: IdMap


def _recorded_request(request: httpx.Request, body: bytes) -> RecordedRequest:
    headers = tuple(
        (key, value)
        for key, value in request.headers.multi_items()
        if key.lower() not in ("host", "transfer-encoding")
    )
    return RecordedRequest(
        method=request.method, path=path_and_query(request.url), headers=headers, body=body
    )


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


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def failed_answer(build: BuildName, started: float, exc: BaseException) -> RecordedResponse:
    """What a build "answered" when the request failed: no status, the error said."""
    return _failed(build, exc, _since(started))


def wire_answer(build: BuildName, answer: WireResponse, started: float) -> RecordedResponse:
    """A :class:`WireClient` answer as recorded (body decoded, time since ``started``)."""
    return _answered(build, answer, _since(started))


def recorded_outcome(build: BuildName, outcome: Outcome) -> RecordedResponse:
    """One build's :func:`send_together` outcome as recorded."""
    if outcome.response is None:
        return _failed(build, outcome.error or WireError("no answer"), outcome.elapsed_ms)
    return _answered(build, outcome.response, outcome.elapsed_ms)


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
    pool = getattr(transport, "_pool", None)
    if type(pool) is not httpcore.ConnectionPool:
        return False
    try:
        if (
            pool._uds is not None
            or pool._local_address is not None
            or pool._retries
            or not pool._http1
            or pool._socket_options
            or type(pool._network_backend) is not httpcore.SyncBackend
        ):
            return False
    except AttributeError:  # pragma: no cover - another httpcore
        return False
    handler = type(pool).handle_request
    if getattr(handler, "__module__", "") != "httpcore._sync.connection_pool":
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


class Mirror:
    """Sends the suite's requests to the other builds and records each exchange.

    ``sink(exchange)`` receives every recorded exchange (called in the thread or task that
    made the request); ``active()`` says whether the current test is mirrored at all
    (``@pytest.mark.aot_parity(skip=True)`` turns it off, requests then go to JIT only).
    """

    def __init__(
        self,
        *,
        jit_url: str,
        peers: Sequence[Peer],
        app_origins: Sequence[str] = (),
        sink: Callable[[Exchange], None],
        active: Callable[[], bool],
        nodeid: Callable[[], str | None],
        learn_ids: LearnIds,
    ) -> None:
        self.jit_url = jit_url.rstrip("/")
        self.peers = list(peers)
        self._jit_origin = origin_key(self.jit_url)
        self._jit_httpx_url = httpx.URL(self.jit_url)
        self._all_plain = self.jit_url.startswith("http://") and all(
            peer.base_url.startswith("http://") for peer in self.peers
        )
        self._reroute = {origin_key(o) for o in app_origins} - {self._jit_origin}
        self._origins = {self._jit_origin, *self._reroute}
        self._sink = sink
        self._active = active
        self._nodeid = nodeid
        self._learn_ids = learn_ids
        self._transports: dict[BuildName, DirectTransport] = {}
        self._wires = WireClients()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
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
        """Restore the transports and close the plugin's clients (idempotent)."""
        if self._installed and self._saved is not None:
            setattr(httpx.HTTPTransport, "handle_request", self._saved[0])  # noqa: B010
            setattr(httpx.AsyncHTTPTransport, "handle_async_request", self._saved[1])  # noqa: B010
        self._installed = False
        self._saved = None
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._wires.close()
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            with contextlib.suppress(Exception):
                transport.close()

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

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=max(4, 4 * len(self.peers)),
                        thread_name_prefix="aotparity-mirror",
                    )
                pool = self._pool
        return pool

    def _wire(self, peer: Peer) -> WireClient:
        return self._wires.get(peer.build, peer.base_url)

    def _wire_send(
        self, peer: Peer, request: RecordedRequest, timeouts: Mapping[str, Any]
    ) -> Pending:
        """Send a copy over the wire client; its answer is read with :meth:`_read_peer`."""
        return self._wire(peer).send(
            request.method,
            request.path,
            forwardable(request.headers),
            request.body,
            connect_timeout=timeouts.get("connect") or 10.0,
        )

    def _transport(self, peer: Peer) -> DirectTransport:
        transport = self._transports.get(peer.build)
        if transport is None:
            with self._lock:
                transport = self._transports.get(peer.build)
                if transport is None:
                    transport = DirectTransport(
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16)
                    )
                    self._transports[peer.build] = transport
        return transport

    def _read_peer(
        self, peer: Peer, pending: Pending, started: float, read_timeout: float
    ) -> RecordedResponse:
        """The answer to a copy :meth:`_start_peers` already sent over the wire client."""
        try:
            answer = self._wire(peer).receive(pending, read_timeout=read_timeout)
        except (WireError, OSError) as exc:
            return failed_answer(peer.build, started, exc)
        return wire_answer(peer.build, answer, started)

    def _send_peer(self, peer: Peer, request: RecordedRequest, timeout: Any) -> RecordedResponse:
        """Send ``request`` to one other build: over :class:`WireClient` for ``http://``
        (the plugin's own local targets; far less CPU than a general client, which is
        what mirroring costs on a busy runner), over an httpx transport for ``https://``.
        Never raises for a failed request: the error is the recorded answer."""
        timeouts = timeout if isinstance(timeout, dict) else _DEFAULT_TIMEOUT_EXT
        started = time.perf_counter()
        try:
            if peer.base_url.startswith("http://"):
                pending = self._wire_send(peer, request, timeouts)
                return self._read_peer(peer, pending, started, timeouts.get("read") or 300.0)
            else:
                outgoing = httpx.Request(
                    request.method,
                    peer.base_url + request.path,
                    headers=forwardable(request.headers),
                    content=request.body,
                    extensions={"timeout": timeouts},
                )
                response = self._transport(peer).handle_request(outgoing)
                try:
                    body = b"" if _is_event_stream(response.headers) else response.read()
                finally:
                    response.close()
                status, response_headers = response.status_code, response.headers.multi_items()
        except (httpx.HTTPError, WireError, OSError) as exc:
            return failed_answer(peer.build, started, exc)
        return RecordedResponse(
            build=peer.build,
            status=status,
            headers=tuple(response_headers),
            body=body,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def _start_peers(
        self, recorded: RecordedRequest, timeout: Any
    ) -> list[tuple[Peer, RecordedRequest, concurrent.futures.Future[RecordedResponse]]]:
        pool = self._executor()
        started = []
        timeouts = timeout if isinstance(timeout, dict) else _DEFAULT_TIMEOUT_EXT
        for peer in self.peers:
            peer_request = peer.ids.rewrite(recorded)
            future: concurrent.futures.Future[RecordedResponse] | None = None
            if peer.base_url.startswith("http://"):
                # Sent from this thread, before the JIT request: a pool thread would first
                # have to get the GIL from this one, and the copy would leave late. Only
                # the answer is read in the pool (it times each build's own answer).
                sent_at = time.perf_counter()
                try:
                    pending = self._wire_send(peer, peer_request, timeouts)
                except (WireError, OSError):
                    pass  # sent again, and its failure recorded, the ordinary way below
                else:
                    future = pool.submit(
                        self._read_peer,
                        peer,
                        pending,
                        sent_at,
                        timeouts.get("read") or 300.0,
                    )
            if future is None:
                future = pool.submit(self._send_peer, peer, peer_request, timeout)
            started.append((peer, peer_request, future))
        return started

    def _finish(
        self,
        recorded: RecordedRequest,
        jit: RecordedResponse,
        peers: Sequence[tuple[Peer, RecordedRequest, RecordedResponse]],
        nodeid: str | None,
    ) -> None:
        aot_request: RecordedRequest | None = None
        answers: dict[BuildName, RecordedResponse] = {}
        for peer, peer_request, answer in peers:
            answers[peer.build] = answer
            if peer.build == "aot" and peer_request is not recorded:
                aot_request = peer_request
            if (
                jit.status is not None
                and answer.status is not None
                and 200 <= jit.status < 300
                and 200 <= answer.status < 300
                and is_create(recorded, jit)
            ):  # a create that failed on either side created nothing to map
                pairs = dict(location_ids(jit.header("location"), answer.header("location")))
                if jit.body and answer.body:
                    with contextlib.suppress(Exception):
                        pairs.update(self._learn_ids(jit.body, answer.body))
                if pairs:
                    peer.ids.learn(pairs)
        aot = answers.get("aot")
        if aot is None:  # pragma: no cover - the aot peer is always configured
            return
        self._sink(
            Exchange(
                request=recorded,
                jit=jit,
                aot=aot,
                noise=answers.get("noise"),
                aot_request=aot_request,
                origin="suite",
                nodeid=nodeid,
            )
        )

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
        if self._all_plain and transport is not None and wire_eligible(transport, request):
            return self._handle_on_wire(jit_request, recorded, nodeid)
        pending = self._start_peers(recorded, request.extensions.get("timeout"))
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
            for _, _, future in pending:
                with contextlib.suppress(BaseException):
                    future.result()
            raise
        elapsed = (time.perf_counter() - started) * 1000
        jit = RecordedResponse(
            build="jit",
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=decoded_body(response.status_code, response.headers, raw),
            elapsed_ms=elapsed,
        )
        peers = [(peer, req, future.result()) for peer, req, future in pending]
        self._finish(recorded, jit, peers, nodeid)
        if passthrough is not None:
            return passthrough
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    def _handle_on_wire(
        self, jit_request: httpx.Request, recorded: RecordedRequest, nodeid: str | None
    ) -> httpx.Response:
        """Every build over the wire client, from this thread (see the module's doc)."""
        timeouts = jit_request.extensions.get("timeout") or _DEFAULT_TIMEOUT_EXT
        calls: list[WireCall[BuildName]] = [
            WireCall(
                "jit",
                self._wires.get("jit", self.jit_url),
                recorded.method,
                recorded.path,
                forwardable(recorded.headers),
                recorded.body,
                host=jit_request.headers.get("host"),
                events="stream",
            )
        ]
        peer_requests: list[tuple[Peer, RecordedRequest]] = []
        for peer in self.peers:
            peer_request = peer.ids.rewrite(recorded)
            peer_requests.append((peer, peer_request))
            calls.append(
                WireCall(
                    peer.build,
                    self._wire(peer),
                    peer_request.method,
                    peer_request.path,
                    forwardable(peer_request.headers),
                    peer_request.body,
                )
            )
        outcomes = send_together(
            calls,
            connect_timeout=timeouts.get("connect"),
            read_timeout=timeouts.get("read"),
        )
        jit_outcome = outcomes["jit"]
        answer = jit_outcome.response
        if answer is None:
            raise httpx_error(jit_outcome, jit_request)
        jit = recorded_outcome("jit", jit_outcome)
        peers = [
            (peer, peer_request, recorded_outcome(peer.build, outcomes[peer.build]))
            for peer, peer_request in peer_requests
        ]
        self._finish(recorded, jit, peers, nodeid)
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
        pending = self._start_peers(recorded, request.extensions.get("timeout"))
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
            for _, _, future in pending:
                with contextlib.suppress(BaseException):
                    await _wait(future)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        jit = RecordedResponse(
            build="jit",
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=decoded_body(response.status_code, response.headers, raw),
            elapsed_ms=elapsed,
        )
        peers = [(peer, req, await _wait(future)) for peer, req, future in pending]
        self._finish(recorded, jit, peers, nodeid)
        if passthrough is not None:
            return passthrough
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )


async def _wait(future: concurrent.futures.Future[RecordedResponse]) -> RecordedResponse:
    """The result of a thread-pool future without blocking the event loop (asyncio or
    trio, through anyio)."""
    if future.done():
        return future.result()
    return await anyio.to_thread.run_sync(future.result)
