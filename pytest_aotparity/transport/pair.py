"""The one pair sender: a request to every build at once, in id lockstep.

Every request source uses it — the mirrored suite (:mod:`pytest_aotparity.replay.mirror`),
generated requests and stateful sequences. The JIT build gets the request as it was made;
the AOT build (and the noise instance) get it with JIT ids rewritten to their own through
the run's :class:`~pytest_aotparity.transport.idmap.IdMap`s. A create both builds answered
2xx teaches the maps the ids it produced (a create that failed on either side created
nothing to map), before anything else is sent, so the next request finds them.

Plain ``http://`` builds (the ones the plugin starts) are asked over the lean
:class:`~pytest_aotparity.transport.wire.WireClient` from the caller's thread, each answer
read as it arrives: on a small CI runner a general client's CPU per request is what limits
how many pairs go out per second. ``https://`` builds go through httpx, on a thread pool.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from pytest_aotparity.exchange import BuildName, Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.transport.answers import (
    DirectTransport,
    failed_answer,
    recorded_outcome,
    wire_answer,
)
from pytest_aotparity.transport.idmap import IdMap, is_create, location_ids
from pytest_aotparity.transport.wire import (
    Events,
    Flight,
    Outcome,
    Pending,
    WireCall,
    WireClient,
    WireClients,
    WireError,
    forwardable,
    is_event_stream,
    start_together,
)

LearnIds = Callable[[bytes, bytes], Mapping[str, str]]
"""``learn_ids(jit_body, other_body)`` → JIT id → other id (from the diff engine)."""
Origin = Literal["suite", "generated", "stateful"]
Timeouts = Mapping[str, Any]
"""httpx's ``timeout`` request extension: ``connect``, ``read``, ``write``, ``pool`` seconds."""

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Build:
    """One build requests go to: its name, base URL and (for aot/noise) its id map."""

    name: BuildName
    base_url: str
    ids: IdMap | None = None

    @property
    def plain(self) -> bool:
        return self.base_url.startswith("http://")


class PendingPair:
    """A pair :meth:`PairSender.start` sent: :meth:`read` the answers, then
    :meth:`exchange`; :meth:`finish` does both."""

    def __init__(
        self,
        sender: PairSender,
        request: RecordedRequest,
        peers: list[tuple[Build, RecordedRequest]],
        origin: Origin,
        nodeid: str | None,
        *,
        flight: Flight[BuildName] | None = None,
        read_timeout: float | None = None,
        answers: Mapping[BuildName, RecordedResponse] | None = None,
    ) -> None:
        self._sender = sender
        self.request = request
        self._peers = peers
        self._origin = origin
        self._nodeid = nodeid
        self._flight = flight
        self._read_timeout = read_timeout
        self._answers = answers
        self._outcomes: dict[BuildName, Outcome] = {}

    def read(self) -> Mapping[BuildName, Outcome]:
        """Wait for the answers; the wire outcomes (empty when httpx asked the builds)."""
        if self._flight is not None:
            outcomes = self._flight.finish(self._read_timeout)
            self._flight = None
            self._outcomes = outcomes
            self._answers = {name: recorded_outcome(name, o) for name, o in outcomes.items()}
        return self._outcomes

    def exchange(self) -> Exchange:
        """The exchange of all answers; ids the pair created are learned."""
        self.read()
        assert self._answers is not None
        return self._sender.exchange(
            self.request, self._peers, self._answers, origin=self._origin, nodeid=self._nodeid
        )

    def finish(self) -> Exchange:
        return self.exchange()

    def abandon(self) -> None:
        """Never read the answers (the run was interrupted)."""
        if self._flight is not None:
            self._flight.abandon()
            self._flight = None


class OthersInFlight:
    """The other builds' copies of a request whose JIT request the caller sends itself
    (through the test's own transport): sent, their answers read on the sender's pool."""

    def __init__(
        self,
        request: RecordedRequest,
        peers: list[tuple[Build, RecordedRequest, concurrent.futures.Future[RecordedResponse]]],
    ) -> None:
        self.request = request
        self.peers = peers

    @property
    def requests(self) -> list[tuple[Build, RecordedRequest]]:
        return [(build, request) for build, request, _ in self.peers]

    def answers(self) -> dict[BuildName, RecordedResponse]:
        return {build.name: future.result() for build, _, future in self.peers}

    async def answers_async(self) -> dict[BuildName, RecordedResponse]:
        """:meth:`answers` without blocking the event loop (asyncio or trio, through anyio)."""
        return {build.name: await _wait(future) for build, _, future in self.peers}

    def drain(self) -> None:
        """Wait for every copy, whatever became of it (the JIT request failed)."""
        for _, _, future in self.peers:
            with contextlib.suppress(BaseException):
                future.result()

    async def drain_async(self) -> None:
        for _, _, future in self.peers:
            with contextlib.suppress(BaseException):
                await _wait(future)


async def _wait(future: concurrent.futures.Future[RecordedResponse]) -> RecordedResponse:
    if future.done():
        return future.result()
    import anyio.to_thread

    return await anyio.to_thread.run_sync(future.result)


class PairSender:
    """Sends a :class:`RecordedRequest` to the JIT build and the others; thread-safe."""

    def __init__(
        self,
        jit: Build,
        others: Sequence[Build],
        *,
        learn_ids: LearnIds | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.jit = jit
        self.others = list(others)
        self._learn_ids = learn_ids
        self._timeout = timeout
        self._timeouts: Timeouts = timeout.as_dict()
        self.plain = jit.plain and all(build.plain for build in self.others)
        """Every build is plain ``http://``: whole pairs can go over the wire client."""
        self._transports: dict[BuildName, DirectTransport] = {}
        self._wires = WireClients()
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.sent = 0

    @property
    def read_timeout(self) -> float:
        return self._timeout.read or 300.0

    def build(self, name: str) -> Build | None:
        """The build called ``name`` (jit, aot or noise), if it is running."""
        for build in (self.jit, *self.others):
            if build.name == name:
                return build
        return None

    def wire(self, build: Build) -> WireClient:
        return self._wires.get(build.name, build.base_url)

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=max(4, 4 * len(self.others)),
                        thread_name_prefix="aotparity-pair",
                    )
                pool = self._pool
        return pool

    def _transport(self, build: Build) -> DirectTransport:
        transport = self._transports.get(build.name)
        if transport is None:
            with self._lock:
                transport = self._transports.get(build.name)
                if transport is None:
                    transport = DirectTransport(
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16)
                    )
                    self._transports[build.name] = transport
        return transport

    # -- one build ------------------------------------------------------------------------

    def _wire_send(self, build: Build, request: RecordedRequest, timeouts: Timeouts) -> Pending:
        return self.wire(build).send(
            request.method,
            request.path,
            forwardable(request.headers),
            request.body,
            connect_timeout=timeouts.get("connect") or 10.0,
        )

    def _wire_read(
        self, build: Build, pending: Pending, started: float, read_timeout: float
    ) -> RecordedResponse:
        try:
            answer = self.wire(build).receive(pending, read_timeout=read_timeout)
        except (WireError, OSError) as exc:
            return failed_answer(build.name, started, exc)
        return wire_answer(build.name, answer, started)

    def send_one(
        self, build: Build, request: RecordedRequest, timeouts: Timeouts | None = None
    ) -> RecordedResponse:
        """``request`` to one build, as is (no id rewriting). Never raises for a failed
        request: the error is the recorded answer."""
        timeouts = timeouts or self._timeouts
        started = time.perf_counter()
        try:
            if build.plain:
                pending = self._wire_send(build, request, timeouts)
                return self._wire_read(build, pending, started, timeouts.get("read") or 300.0)
            outgoing = httpx.Request(
                request.method,
                build.base_url.rstrip("/") + request.path,
                headers=forwardable(request.headers),
                content=request.body,
                extensions={"timeout": dict(timeouts)},
            )
            response = self._transport(build).handle_request(outgoing)
            try:
                event_stream = is_event_stream(response.headers.get("content-type", ""))
                body = b"" if event_stream else response.read()
            finally:
                response.close()
            status, headers = response.status_code, tuple(response.headers.multi_items())
        except (httpx.HTTPError, WireError, OSError) as exc:
            return failed_answer(build.name, started, exc)
        return RecordedResponse(
            build=build.name,
            status=status,
            headers=headers,
            body=body,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def get_jit(self, path: str) -> RecordedResponse:
        """A plain GET on the JIT build (harvesting values, reading the document)."""
        return self.send_one(self.jit, RecordedRequest(method="GET", path=path))

    # -- a pair ---------------------------------------------------------------------------

    def _rewritten(self, request: RecordedRequest) -> list[tuple[Build, RecordedRequest]]:
        return [
            (build, build.ids.rewrite(request) if build.ids is not None else request)
            for build in self.others
        ]

    def send(self, request: RecordedRequest, origin: Origin = "generated") -> Exchange:
        """Send to every build at once; learn created ids; the exchange of all answers."""
        return self.start(request, origin).finish()

    def start(
        self,
        request: RecordedRequest,
        origin: Origin = "generated",
        *,
        nodeid: str | None = None,
        timeouts: Timeouts | None = None,
        jit_host: str | None = None,
        jit_events: Events = "skip",
    ) -> PendingPair:
        """Send to every build at once and return before the answers are read (plain-http
        builds; others are answered already): the caller can prepare its next request
        while the builds work, then :meth:`PendingPair.finish` — before anything else is
        sent to them, so the builds still see one request after another.

        ``timeouts`` are the caller's (a test's client); without them the sender's.
        ``jit_host`` and ``jit_events`` are how the JIT request is sent and its event
        stream read, when the caller hands the JIT answer on (the mirror)."""
        self.sent += 1
        peers = self._rewritten(request)
        if self.plain:
            if timeouts is None:
                connect: float | None = self._timeout.connect or 10.0
                read: float | None = self.read_timeout
            else:
                connect, read = timeouts.get("connect"), timeouts.get("read")
            calls = [
                WireCall(
                    self.jit.name,
                    self.wire(self.jit),
                    request.method,
                    request.path,
                    forwardable(request.headers),
                    request.body,
                    host=jit_host,
                    events=jit_events,
                ),
                *(
                    WireCall(
                        build.name,
                        self.wire(build),
                        peer_request.method,
                        peer_request.path,
                        forwardable(peer_request.headers),
                        peer_request.body,
                    )
                    for build, peer_request in peers
                ),
            ]
            flight = start_together(calls, connect_timeout=connect)
            return PendingPair(
                self, request, peers, origin, nodeid, flight=flight, read_timeout=read
            )
        others = self._send_others(request, peers, timeouts)
        answers = {self.jit.name: self.send_one(self.jit, request, timeouts)}
        answers.update(others.answers())
        return PendingPair(self, request, peers, origin, nodeid, answers=answers)

    def start_others(
        self, request: RecordedRequest, timeouts: Timeouts | None = None
    ) -> OthersInFlight:
        """Send the other builds their copies of a request the caller sends the JIT build
        itself; :meth:`complete` with the JIT answer once they are read."""
        self.sent += 1
        return self._send_others(request, self._rewritten(request), timeouts)

    def _send_others(
        self,
        request: RecordedRequest,
        peers: list[tuple[Build, RecordedRequest]],
        timeouts: Timeouts | None,
    ) -> OthersInFlight:
        timeouts = timeouts or self._timeouts
        pool = self._executor()
        started = []
        for build, peer_request in peers:
            future: concurrent.futures.Future[RecordedResponse] | None = None
            if build.plain:
                # Sent from this thread, before the JIT request: a pool thread would first
                # have to get the GIL from this one, and the copy would leave late. Only
                # the answer is read in the pool (it times each build's own answer).
                sent_at = time.perf_counter()
                try:
                    pending = self._wire_send(build, peer_request, timeouts)
                except (WireError, OSError):
                    pass  # sent again, and its failure recorded, the ordinary way below
                else:
                    future = pool.submit(
                        self._wire_read, build, pending, sent_at, timeouts.get("read") or 300.0
                    )
            if future is None:
                future = pool.submit(self.send_one, build, peer_request, timeouts)
            started.append((build, peer_request, future))
        return OthersInFlight(request, started)

    def complete(
        self,
        others: OthersInFlight,
        jit: RecordedResponse,
        answers: Mapping[BuildName, RecordedResponse],
        *,
        origin: Origin,
        nodeid: str | None = None,
    ) -> Exchange:
        """The exchange of a request :meth:`start_others` sent, with the JIT answer."""
        return self.exchange(
            others.request,
            others.requests,
            {**answers, self.jit.name: jit},
            origin=origin,
            nodeid=nodeid,
        )

    def exchange(
        self,
        request: RecordedRequest,
        peers: Sequence[tuple[Build, RecordedRequest]],
        answers: Mapping[BuildName, RecordedResponse],
        *,
        origin: Origin,
        nodeid: str | None = None,
    ) -> Exchange:
        jit = answers[self.jit.name]
        aot_request: RecordedRequest | None = None
        for build, peer_request in peers:
            if build.name == "aot" and peer_request is not request:
                aot_request = peer_request
            self._learn(build, request, jit, answers[build.name])
        return Exchange(
            request=request,
            jit=jit,
            aot=answers["aot"],
            noise=answers.get("noise"),
            aot_request=aot_request,
            origin=origin,
            nodeid=nodeid,
        )

    def _learn(
        self,
        build: Build,
        request: RecordedRequest,
        jit: RecordedResponse,
        answer: RecordedResponse,
    ) -> None:
        """Ids a create taught: only when both builds answered it 2xx (a create that failed
        on either side created nothing to map)."""
        if build.ids is None or jit.status is None or answer.status is None:
            return
        if not (200 <= jit.status < 300 and 200 <= answer.status < 300):
            return
        if not is_create(request, jit):
            return
        pairs = dict(location_ids(jit.header("location"), answer.header("location")))
        if self._learn_ids is not None and jit.body and answer.body:
            with contextlib.suppress(Exception):
                pairs.update(self._learn_ids(jit.body, answer.body))
        if pairs:
            build.ids.learn(pairs)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            with contextlib.suppress(Exception):
                transport.close()
        self._wires.close()
