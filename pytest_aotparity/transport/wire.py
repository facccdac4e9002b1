"""A lean HTTP/1.1 client for the mirrored side of each request.

Every request of the suite is sent a second (and with a noise instance a third) time, to a
build the plugin started on 127.0.0.1. That copy needs none of what a general client does
(redirects, cookies, auth, proxies, HTTP/2, TLS to the internet), and on a busy two-core CI
runner the Python work per request decides how much mirroring costs: httpx's transport
spends ~600 µs of CPU per small request, this client ~40 µs. It keeps connections alive
(a small pool per build), sends the request as given, and reads a response with
``Content-Length``, ``Transfer-Encoding: chunked`` or read-until-close framing. Bodies come
back raw (still content-encoded); the caller decodes them.

An event stream (``text/event-stream``) never ends by itself: its body is either not read at
all (``events="skip"``, for a copy whose stream is not compared) or handed over as a
:class:`WireStream` that reads it as the caller iterates (``events="stream"``, for the JIT
answer the test itself reads).

:func:`send_together` sends to several builds from one thread and reads each answer as it
arrives: the builds work on the request at the same time, each timed on its own.

Only plain ``http://`` is handled here; the mirror uses httpx for ``https://`` targets.
"""

from __future__ import annotations

import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

MAX_LINE = 64 * 1024
MAX_HEADERS = 200


class WireError(Exception):
    """The build did not answer with a complete response."""


class WireTimeout(WireError):
    """No answer within the timeout."""


class _Closed(WireError):
    """The connection closed before the first byte of the response (a stale keep-alive
    connection: the request may be retried once on a fresh one)."""


Events = Literal["skip", "stream"]
"""What to do with an event stream's body: leave it unread, or hand it over as a stream."""


@dataclass
class WireResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    """As received: still content-encoded. Empty for an event stream."""
    version: str = "HTTP/1.1"
    stream: WireStream | None = None
    """The body of an event stream received with ``events="stream"``, read as iterated."""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


class _Connection:
    def __init__(self, host: str, port: int, connect_timeout: float | None) -> None:
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.used = False
        self.timeout = connect_timeout
        """The socket's timeout now (``settimeout`` costs two system calls: skipped when
        it would not change)."""

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


def _encode(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class WireClient:
    """Keep-alive HTTP/1.1 to one ``http://host:port`` origin. Thread-safe: each request
    takes a connection from the pool (or opens one) and gives it back when reusable."""

    def __init__(self, base_url: str, *, max_idle: int = 16) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"WireClient speaks plain http only, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.host_header = parts.netloc
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self, connect_timeout: float | None) -> _Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Connection(self.host, self.port, connect_timeout)

    def _give_back(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes = b"",
        *,
        connect_timeout: float | None = 10.0,
        read_timeout: float | None = 60.0,
    ) -> WireResponse:
        """Send one request (``target`` is the path and query) and read the whole answer."""
        pending = self.send(method, target, headers, body, connect_timeout=connect_timeout)
        return self.receive(pending, read_timeout=read_timeout)

    def send(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes = b"",
        *,
        connect_timeout: float | None = 10.0,
        host: str | None = None,
    ) -> Pending:
        """The first half of :meth:`request`: the request is on its way, the answer not read
        yet. Several builds can be sent to this way from one thread, then read in turn
        (:meth:`receive`): they work on the request at the same time, with no thread to
        wake between them. ``host`` is the ``Host`` header (the origin's by default)."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host or self.host_header}"]
        lines.extend(f"{key}: {value}" for key, value in headers)
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        payload = _encode("\r\n".join(lines)) + b"\r\n\r\n" + body
        conn = self._take(connect_timeout)
        pending = Pending(method, payload, conn, conn.used, connect_timeout)
        try:
            if conn.timeout != connect_timeout:
                conn.sock.settimeout(connect_timeout)
                conn.timeout = connect_timeout
            conn.sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            conn.close()
            if not pending.reused:
                raise
            # the server had closed the idle connection: a fresh one
            pending.conn = self._fresh(pending)
        except BaseException:
            conn.close()
            raise
        return pending

    def _fresh(self, pending: Pending) -> _Connection:
        conn = _Connection(self.host, self.port, pending.connect_timeout)
        pending.reused = False
        try:
            conn.sock.sendall(pending.payload)
        except BaseException:
            conn.close()
            raise
        return conn

    def receive(
        self, pending: Pending, *, read_timeout: float | None = 60.0, events: Events = "skip"
    ) -> WireResponse:
        """The second half of :meth:`request`: read the answer to what :meth:`send` sent
        (``None``: no read timeout)."""
        for attempt in (0, 1):
            conn = pending.conn
            try:
                if read_timeout != conn.timeout:
                    conn.sock.settimeout(read_timeout)
                    conn.timeout = read_timeout
                response, reusable = _read_response(conn, pending.method, events)
            except _Closed:
                conn.close()
                if pending.reused and attempt == 0:
                    pending.conn = self._fresh(pending)  # a stale keep-alive connection
                    continue
                raise WireError("the connection closed without an answer") from None
            except TimeoutError:
                conn.close()
                raise WireTimeout(f"no answer within {read_timeout:g} s") from None
            except (BrokenPipeError, ConnectionResetError):
                conn.close()
                if pending.reused and attempt == 0:
                    pending.conn = self._fresh(pending)
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            conn.used = True
            if response.stream is not None:
                pass  # the stream owns the connection now and closes it
            elif reusable:
                self._give_back(conn)
            else:
                conn.close()
            return response
        raise WireError("the connection closed without an answer")  # pragma: no cover


@dataclass
class Pending:
    """A request :meth:`WireClient.send` sent, whose answer is not read yet."""

    method: str
    payload: bytes
    conn: _Connection
    reused: bool
    """Sent over a kept-alive connection (which the server may have closed meanwhile: then
    it is sent once more, on a fresh one)."""
    connect_timeout: float | None


class WireClients:
    """One :class:`WireClient` per build, made on first use; thread-safe."""

    def __init__(self) -> None:
        self._clients: dict[str, WireClient] = {}
        self._lock = threading.Lock()

    def get(self, name: str, base_url: str) -> WireClient:
        client = self._clients.get(name)
        if client is None:
            with self._lock:
                client = self._clients.get(name)
                if client is None:
                    client = WireClient(base_url)
                    self._clients[name] = client
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()


def _readline(conn: _Connection) -> bytes:
    line = conn.reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise WireError("a response line is too long")
    return line


def _read_head(conn: _Connection) -> tuple[str, int, str, list[tuple[str, str]]]:
    first = _readline(conn)
    if not first:
        raise _Closed()
    parts = first.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise WireError(f"not an HTTP response: {first[:80]!r}")
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers: list[tuple[str, str]] = []
    while True:
        line = _readline(conn)
        if not line:
            raise WireError("the connection closed in the middle of the headers")
        if line in (b"\r\n", b"\n"):
            break
        if len(headers) >= MAX_HEADERS:
            raise WireError("too many response headers")
        key, sep, value = line.decode("latin-1").partition(":")
        if sep:
            headers.append((key.strip(), value.strip()))
    return version, status, reason, headers


def _read_exact(conn: _Connection, size: int) -> bytes:
    data = conn.reader.read(size)
    if len(data) != size:
        raise WireError("the connection closed in the middle of the body")
    return data


def _read_chunked(conn: _Connection) -> bytes:
    return b"".join(_iter_chunked(conn))


def _iter_chunked(conn: _Connection) -> Iterator[bytes]:
    while True:
        line = _readline(conn)
        if not line:
            raise WireError("the connection closed in the middle of a chunked body")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise WireError(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            while _readline(conn) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        yield _read_exact(conn, size)
        _readline(conn)  # the CRLF after the chunk


def _iter_sized(conn: _Connection, length: int | None) -> Iterator[bytes]:
    """``length`` bytes (``None``: until the server closes), as they arrive."""
    left = length
    while left is None or left > 0:
        data = conn.reader.read1(65536 if left is None else min(left, 65536))
        if not data:
            if left is None:
                return
            raise WireError("the connection closed in the middle of the body")
        if left is not None:
            left -= len(data)
        yield data


class WireStream:
    """The body of a response read as it is iterated (an event stream); owns the
    connection, which is closed when the body ends or :meth:`close` is called."""

    def __init__(self, conn: _Connection, chunks: Iterator[bytes]) -> None:
        self._conn: _Connection | None = conn
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        if self._conn is None:
            return
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def is_event_stream(content_type: str) -> bool:
    """Whether a ``Content-Type`` value names an event stream (``text/event-stream``)."""
    return content_type.split(";", 1)[0].strip().lower() == "text/event-stream"


HOP_BY_HOP = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"}
)
"""Headers of the connection itself, which every send sets anew (the body's framing, Host)."""


def forwardable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers of a recorded request that are sent again as they were."""
    return [(key, value) for key, value in headers if key.lower() not in HOP_BY_HOP]


def _read_response(
    conn: _Connection, method: str, events: Events = "skip"
) -> tuple[WireResponse, bool]:
    version, status, reason, headers = _read_head(conn)
    while 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints
        version, status, reason, headers = _read_head(conn)
    lowered = {key.lower(): value for key, value in headers}
    connection = lowered.get("connection", "").lower()
    reusable = "close" not in connection if version != "HTTP/1.0" else "keep-alive" in connection
    chunked = "chunked" in lowered.get("transfer-encoding", "").lower()
    length: int | None = None
    if not chunked and "content-length" in lowered:
        try:
            length = int(lowered["content-length"].split(",")[0].strip())
        except ValueError:
            raise WireError("bad Content-Length") from None
    response = WireResponse(
        status=status, reason=reason, headers=headers, body=b"", version=version
    )
    if method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200:
        pass
    elif is_event_stream(lowered.get("content-type", "")):
        # never ends by itself: handed over, or left unread (and the connection with it)
        reusable = False
        if events == "stream":
            response.stream = WireStream(
                conn, _iter_chunked(conn) if chunked else _iter_sized(conn, length)
            )
    elif chunked:
        response.body = _read_chunked(conn)
    elif length is not None:
        response.body = _read_exact(conn, length)
    else:
        response.body = conn.reader.read()
        reusable = False
    return response, reusable


# -- several builds at once ---------------------------------------------------------------

K = TypeVar("K", bound=Hashable)


@dataclass
class WireCall(Generic[K]):
    """One request of :func:`send_together`: to ``client``, answered under ``key``."""

    key: K
    client: WireClient
    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes = b""
    host: str | None = None
    events: Events = "skip"


@dataclass
class Outcome:
    """How one request of :func:`send_together` went."""

    started: float
    finished: float
    response: WireResponse | None = None
    error: BaseException | None = None
    sent: bool = field(default=True)
    """False when the request never left (connecting or sending failed)."""

    @property
    def elapsed_ms(self) -> float:
        return (self.finished - self.started) * 1000


def _wait_readable(socks: list[socket.socket], timeout: float | None) -> list[socket.socket]:
    if hasattr(select, "poll"):
        poller = select.poll()
        by_fd = {}
        for sock in socks:
            poller.register(sock, select.POLLIN | select.POLLPRI)
            by_fd[sock.fileno()] = sock
        events = poller.poll(None if timeout is None else timeout * 1000)
        return [by_fd[fd] for fd, _ in events]
    ready, _, _ = select.select(socks, [], [], timeout)  # pragma: no cover - Windows
    return ready


def send_together(
    calls: Sequence[WireCall[K]],
    *,
    connect_timeout: float | None = 10.0,
    read_timeout: float | None = 60.0,
) -> dict[K, Outcome]:
    """Send every call first, from this thread, then read each answer as it arrives, so
    the builds work at the same time and each one's time is its own (not the time spent
    reading another's answer). ``read_timeout`` bounds each wait for data, as a socket
    timeout does. Failures are outcomes, never raised."""
    return start_together(calls, connect_timeout=connect_timeout).finish(read_timeout)


def start_together(
    calls: Sequence[WireCall[K]], *, connect_timeout: float | None = 10.0
) -> Flight[K]:
    """Send every call, from this thread, and return without reading the answers: the
    caller does other work while the builds answer, then :meth:`Flight.finish`."""
    outcomes: dict[K, Outcome] = {}
    waiting: dict[socket.socket, tuple[WireCall[K], Pending, float]] = {}
    for call in calls:
        started = time.perf_counter()
        try:
            pending = call.client.send(
                call.method,
                call.target,
                call.headers,
                call.body,
                connect_timeout=connect_timeout,
                host=call.host,
            )
        except (WireError, OSError) as exc:
            outcomes[call.key] = Outcome(started, time.perf_counter(), error=exc, sent=False)
            continue
        waiting[pending.conn.sock] = (call, pending, started)
    return Flight(outcomes, waiting)


class Flight(Generic[K]):
    """Requests :func:`start_together` sent; their answers not read yet. Until
    :meth:`finish` (or :meth:`abandon`), the clients' connections are busy.

    An answer read late (the caller was busy) is timed when it is read: its elapsed time
    is an upper bound."""

    def __init__(
        self,
        outcomes: dict[K, Outcome],
        waiting: dict[socket.socket, tuple[WireCall[K], Pending, float]],
    ) -> None:
        self._outcomes = outcomes
        self._waiting = waiting

    def finish(self, read_timeout: float | None = 60.0) -> dict[K, Outcome]:
        """Read each answer as it arrives; every call's outcome. Failures are outcomes,
        never raised."""
        outcomes, waiting = self._outcomes, self._waiting
        try:
            while waiting:
                ready = _wait_readable(list(waiting), read_timeout)
                if not ready:  # nothing at all within the read timeout
                    for call, pending, started in waiting.values():
                        pending.conn.close()
                        outcomes[call.key] = Outcome(
                            started,
                            time.perf_counter(),
                            error=WireTimeout(f"no answer within {read_timeout:g} s"),
                        )
                    waiting.clear()
                    break
                for sock in ready:
                    call, pending, started = waiting.pop(sock)
                    try:
                        response = call.client.receive(
                            pending, read_timeout=read_timeout, events=call.events
                        )
                    except (WireError, OSError) as exc:
                        outcomes[call.key] = Outcome(started, time.perf_counter(), error=exc)
                        continue
                    outcomes[call.key] = Outcome(started, time.perf_counter(), response=response)
        except BaseException:  # interrupted while waiting: the unread connections are useless
            self.abandon()
            raise
        return outcomes

    def abandon(self) -> None:
        """Close the connections whose answers were never read."""
        for _, pending, _ in self._waiting.values():
            pending.conn.close()
        self._waiting.clear()
