"""A lean HTTP/1.1 client for the mirrored side of each request.

Every request of the suite is sent a second (and with a noise instance a third) time, to a
build the plugin started on 127.0.0.1. That copy needs none of what a general client does
(redirects, cookies, auth, proxies, HTTP/2, TLS to the internet), and on a busy two-core CI
runner the Python work per request decides how much mirroring costs: httpx's transport
spends ~600 µs of CPU per small request, this client ~40 µs. It keeps connections alive
(a small pool per build), sends the request as given, and reads a response with
``Content-Length``, ``Transfer-Encoding: chunked`` or read-until-close framing. Bodies come
back raw (still content-encoded); the caller decodes them.

Only plain ``http://`` is handled here; the mirror uses httpx for ``https://`` targets.
"""

from __future__ import annotations

import socket
import threading
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

MAX_LINE = 64 * 1024
MAX_HEADERS = 200


class WireError(Exception):
    """The build did not answer with a complete response."""


class WireTimeout(WireError):
    """No answer within the timeout."""


class _Closed(WireError):
    """The connection closed before the first byte of the response (a stale keep-alive
    connection: the request may be retried once on a fresh one)."""


@dataclass
class WireResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    """As received: still content-encoded."""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


class _Connection:
    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.used = False

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

    def _take(self, connect_timeout: float) -> _Connection:
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
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
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
        connect_timeout: float = 10.0,
    ) -> Pending:
        """The first half of :meth:`request`: the request is on its way, the answer not read
        yet. Several builds can be sent to this way from one thread, then read in turn
        (:meth:`receive`): they work on the request at the same time, with no thread to
        wake between them."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}"]
        lines.extend(f"{key}: {value}" for key, value in headers)
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        payload = _encode("\r\n".join(lines)) + b"\r\n\r\n" + body
        conn = self._take(connect_timeout)
        pending = Pending(method, payload, conn, conn.used, connect_timeout)
        try:
            conn.sock.settimeout(connect_timeout)
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
            conn.sock.settimeout(pending.connect_timeout)
            conn.sock.sendall(pending.payload)
        except BaseException:
            conn.close()
            raise
        return conn

    def receive(self, pending: Pending, *, read_timeout: float = 60.0) -> WireResponse:
        """The second half of :meth:`request`: read the answer to what :meth:`send` sent."""
        for attempt in (0, 1):
            conn = pending.conn
            try:
                conn.sock.settimeout(read_timeout)
                response, reusable = _read_response(conn, pending.method)
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
            if reusable:
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
    connect_timeout: float


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
    chunks: list[bytes] = []
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
            return b"".join(chunks)
        chunks.append(_read_exact(conn, size))
        _readline(conn)  # the CRLF after the chunk


def _read_response(conn: _Connection, method: str) -> tuple[WireResponse, bool]:
    version, status, reason, headers = _read_head(conn)
    while 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints
        version, status, reason, headers = _read_head(conn)
    lowered = {key.lower(): value for key, value in headers}
    connection = lowered.get("connection", "").lower()
    reusable = "close" not in connection if version != "HTTP/1.0" else "keep-alive" in connection
    if method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in lowered.get("transfer-encoding", "").lower():
        body = _read_chunked(conn)
    elif "content-length" in lowered:
        try:
            length = int(lowered["content-length"].split(",")[0].strip())
        except ValueError:
            raise WireError("bad Content-Length") from None
        body = _read_exact(conn, length)
    else:
        body = conn.reader.read()
        reusable = False
    return WireResponse(status=status, reason=reason, headers=headers, body=body), reusable
