"""Sending one generated request to every build at once, in id lockstep.

The JIT build gets the request as generated; the AOT build (and the noise instance) get it
with JIT ids rewritten to their own through the run's :class:`~pytest_aotparity.replay.idmap.IdMap`
— the same maps the mirrored suite uses, so ids learned by either are known to both. A
create (POST, 201 or a ``Location``) teaches the maps the ids it produced. The builds are
asked concurrently, so a pair costs about as long as the slower build takes. Plain
``http://`` builds (the ones the plugin starts) are asked over the lean
:class:`~pytest_aotparity.replay.wire.WireClient`, like the mirrored suite's copies: on a
small CI runner the client's CPU per request is what limits how many pairs go out per
second. ``https://`` builds go through httpx.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

from pytest_aotparity.exchange import BuildName, Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.replay.idmap import IdMap, is_create, location_ids
from pytest_aotparity.replay.mirror import (
    direct_client,
    failed_answer,
    recorded_outcome,
    wire_answer,
)
from pytest_aotparity.replay.wire import (
    Flight,
    WireCall,
    WireClient,
    WireClients,
    WireError,
    forwardable,
    start_together,
)

LearnIds = Callable[[bytes, bytes], Mapping[str, str]]
Origin = Literal["suite", "generated", "stateful"]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Build:
    """One build requests go to: its name, base URL and (for aot/noise) its id map."""

    name: BuildName
    base_url: str
    ids: IdMap | None = None


class PendingPair:
    """A pair :meth:`PairSender.start` sent; :meth:`finish` reads the answers (once)."""

    def __init__(
        self,
        sender: PairSender,
        request: RecordedRequest,
        peers: list[tuple[Build, RecordedRequest]],
        origin: Origin,
        *,
        flight: Flight[BuildName] | None = None,
        answers: Mapping[BuildName, RecordedResponse] | None = None,
    ) -> None:
        self._sender = sender
        self.request = request
        self._peers = peers
        self._origin = origin
        self._flight = flight
        self._answers = answers

    def finish(self) -> Exchange:
        """The exchange of all answers, once they are read; created ids learned."""
        if self._flight is not None:
            timeout = self._sender.read_timeout
            outcomes = self._flight.finish(timeout)
            self._flight = None
            self._answers = {name: recorded_outcome(name, o) for name, o in outcomes.items()}
        assert self._answers is not None
        return self._sender._exchange(self.request, self._peers, self._origin, self._answers)

    def abandon(self) -> None:
        """Never read the answers (the run was interrupted)."""
        if self._flight is not None:
            self._flight.abandon()
            self._flight = None


class PairSender:
    """Sends a :class:`RecordedRequest` to the JIT build and the others; thread-safe."""

    def __init__(
        self,
        jit: Build,
        others: list[Build],
        *,
        learn_ids: LearnIds | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.jit = jit
        self.others = others
        self._learn_ids = learn_ids
        self._timeout = timeout
        self._clients: dict[BuildName, httpx.Client] = {}
        self._wires = WireClients()
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(2, len(others) + 1), thread_name_prefix="aotparity-generate"
        )
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

    def _client(self, build: Build) -> httpx.Client:
        client = self._clients.get(build.name)
        if client is None:
            with self._lock:
                client = self._clients.get(build.name)
                if client is None:
                    client = direct_client(
                        build.base_url, follow_redirects=False, timeout=self._timeout
                    )
                    self._clients[build.name] = client
        return client

    def _wire(self, build: Build) -> WireClient:
        return self._wires.get(build.name, build.base_url)

    def send_one(self, build: Build, request: RecordedRequest) -> RecordedResponse:
        """``request`` to one build, as is (no id rewriting)."""
        headers = forwardable(request.headers)
        started = time.perf_counter()
        try:
            if build.base_url.startswith("http://"):
                answer = self._wire(build).request(
                    request.method,
                    request.path,
                    headers,
                    request.body,
                    connect_timeout=self._timeout.connect or 10.0,
                    read_timeout=self._timeout.read or 300.0,
                )
                return wire_answer(build.name, answer, started)
            else:
                response = self._client(build).request(
                    request.method, request.path, headers=headers, content=request.body or None
                )
                status, body = response.status_code, response.content
                response_headers = tuple(response.headers.multi_items())
        except (httpx.HTTPError, WireError, OSError) as exc:
            return failed_answer(build.name, started, exc)
        return RecordedResponse(
            build=build.name,
            status=status,
            headers=response_headers,
            body=body,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def send(self, request: RecordedRequest, origin: Origin = "generated") -> Exchange:
        """Send to every build at once; learn created ids; the exchange of all answers."""
        return self.start(request, origin).finish()

    def start(self, request: RecordedRequest, origin: Origin = "generated") -> PendingPair:
        """Send to every build at once and return before the answers are read (plain-http
        builds; others are answered already): the caller can prepare its next request
        while the builds work, then :meth:`PendingPair.finish` — before anything else is
        sent to them, so the builds still see one request after another."""
        self.sent += 1
        peers = [
            (build, build.ids.rewrite(request) if build.ids is not None else request)
            for build in self.others
        ]
        if all(b.base_url.startswith("http://") for b in (self.jit, *self.others)):
            flight = start_together(
                self._wire_calls([(self.jit, request), *peers]),
                connect_timeout=self._timeout.connect or 10.0,
            )
            return PendingPair(self, request, peers, origin, flight=flight)
        futures = [
            (build, self._pool.submit(self.send_one, build, peer_request))
            for build, peer_request in peers
        ]
        answers = {self.jit.name: self.send_one(self.jit, request)}
        answers.update((build.name, future.result()) for build, future in futures)
        return PendingPair(self, request, peers, origin, answers=answers)

    def _exchange(
        self,
        request: RecordedRequest,
        peers: list[tuple[Build, RecordedRequest]],
        origin: Origin,
        answers: Mapping[BuildName, RecordedResponse],
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
        )

    def _wire_calls(
        self, requests: list[tuple[Build, RecordedRequest]]
    ) -> list[WireCall[BuildName]]:
        """Plain-http builds, asked from this thread (:func:`start_together`)."""
        return [
            WireCall(
                build.name,
                self._wire(build),
                request.method,
                request.path,
                forwardable(request.headers),
                request.body,
            )
            for build, request in requests
        ]

    def _learn(
        self,
        build: Build,
        request: RecordedRequest,
        jit: RecordedResponse,
        answer: RecordedResponse,
    ) -> None:
        if build.ids is None or jit.status is None or answer.status is None:
            return
        if not is_create(request, jit):
            return
        pairs = dict(location_ids(jit.header("location"), answer.header("location")))
        if self._learn_ids is not None and jit.body and answer.body:
            with contextlib.suppress(Exception):
                pairs.update(self._learn_ids(jit.body, answer.body))
        if pairs:
            build.ids.learn(pairs)

    def get_jit(self, path: str) -> RecordedResponse:
        """A plain GET on the JIT build (harvesting values, reading the document)."""
        return self.send_one(self.jit, RecordedRequest(method="GET", path=path))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        clients, self._clients = self._clients, {}
        for client in clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._wires.close()
