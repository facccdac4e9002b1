"""The lean HTTP/1.1 client the mirror uses for the other builds: framing, keep-alive,
stale connections, timeouts, against a scripted socket server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from pytest_aotparity.transport.wire import (
    WireCall,
    WireClient,
    WireError,
    WireTimeout,
    send_together,
)

Script = Callable[[socket.socket, int], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            size = int(line.split(b":", 1)[1])
            while len(rest) < size:
                rest += conn.recv(65536)
    return data


class ScriptedServer:
    """Accepts connections; ``script(conn, n)`` answers the n-th request (counted over all
    connections)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.connections = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn: socket.socket) -> None:
        with conn:
            while True:
                request = _read_request(conn)
                if not request:
                    return
                self.requests.append(request)
                try:
                    self.script(conn, len(self.requests))
                except OSError:
                    return
                if conn.fileno() == -1:
                    return

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_content_length_keep_alive_and_request_shape(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> None:
        body = f'{{"n": {n}}}'.encode()
        conn.sendall(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            b"Location: /x/1\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    server = serve(script)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    for n in (1, 2, 3):
        response = client.request(
            "POST", "/x?a=1", [("Content-Type", "application/json")], b'{"a":1}'
        )
        assert response.status == 201
        assert response.reason == "Created"
        assert response.header("location") == "/x/1"
        assert response.body == f'{{"n": {n}}}'.encode()
    assert server.connections == 1  # kept alive
    first = server.requests[0]
    assert first.startswith(b"POST /x?a=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in first
    assert b"Content-Length: 7\r\n" in first
    assert first.endswith(b'\r\n\r\n{"a":1}')
    client.close()


def test_chunked_body_with_extensions_and_trailers(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    server = serve(
        lambda conn, n: conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
    )
    client = WireClient(f"http://127.0.0.1:{server.port}")
    assert client.request("GET", "/", []).body == b"hello world"
    assert client.request("GET", "/", []).body == b"hello world"
    assert server.connections == 1


def test_read_until_close_and_connection_close(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    server = serve(script)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    assert client.request("GET", "/", []).body == b"all of it"
    assert client.request("GET", "/", []).body == b"all of it"
    assert server.connections == 2


def test_head_204_and_100_continue_have_no_body(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> None:
        if n == 1:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")
        elif n == 2:
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            conn.sendall(
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            )

    server = serve(script)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    head = client.request("HEAD", "/", [])
    assert (head.status, head.body, head.header("content-length")) == (200, b"", "42")
    assert client.request("DELETE", "/", []).status == 204
    assert client.request("PUT", "/", [], b"x").body == b"ok"
    assert server.connections == 1


def test_a_stale_keep_alive_connection_is_retried_once(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        if n == 1:  # the server drops the idle connection after answering
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    server = serve(script)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    assert client.request("GET", "/", []).body == b"ok"
    assert client.request("GET", "/", []).body == b"ok"
    assert server.connections == 2


def test_no_answer_is_a_wire_error_not_a_hang(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def close_at_once(conn: socket.socket, n: int) -> None:
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    server = serve(close_at_once)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    with pytest.raises(WireError, match="closed without an answer"):
        client.request("GET", "/", [])

    def silent(conn: socket.socket, n: int) -> None:
        threading.Event().wait(5)

    server = serve(silent)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    with pytest.raises(WireTimeout):
        client.request("GET", "/", [], read_timeout=0.3)


def test_refused_and_plain_http_only() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        WireClient(f"http://127.0.0.1:{port}").request("GET", "/", [])
    with pytest.raises(ValueError, match="plain http"):
        WireClient("https://127.0.0.1:1")


def test_an_event_stream_is_skipped_or_handed_over(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            b"b\r\ndata: one\n\n\r\n"
        )
        threading.Event().wait(3)  # the stream goes on

    server = serve(script)
    client = WireClient(f"http://127.0.0.1:{server.port}")
    skipped = client.request("GET", "/events", [], read_timeout=1)
    assert (skipped.status, skipped.body, skipped.stream) == (200, b"", None)
    pending = client.send("GET", "/events", [])
    streamed = client.receive(pending, read_timeout=1, events="stream")
    assert streamed.stream is not None
    assert next(iter(streamed.stream)) == b"data: one\n\n"
    streamed.stream.close()
    assert server.connections == 2  # neither connection was given back for reuse


def test_send_together_reads_each_answer_as_it_comes(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def slow(conn: socket.socket, n: int) -> None:
        threading.Event().wait(0.3)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")

    def fast(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nfast")

    def silent(conn: socket.socket, n: int) -> None:
        threading.Event().wait(3)

    slow_server, fast_server, silent_server = serve(slow), serve(fast), serve(silent)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused_port = sock.getsockname()[1]
    calls = [
        WireCall("slow", WireClient(f"http://127.0.0.1:{slow_server.port}"), "GET", "/", []),
        WireCall(
            "fast",
            WireClient(f"http://127.0.0.1:{fast_server.port}"),
            "POST",
            "/x",
            [("Accept", "*/*")],
            b"{}",
            host="app.example:80",
        ),
        WireCall("refused", WireClient(f"http://127.0.0.1:{refused_port}"), "GET", "/", []),
    ]
    outcomes = send_together(calls, read_timeout=2)
    slow_answer, fast_answer = outcomes["slow"].response, outcomes["fast"].response
    assert slow_answer is not None
    assert slow_answer.body == b"slow"
    assert fast_answer is not None
    assert (fast_answer.status, fast_answer.body) == (201, b"fast")
    assert outcomes["fast"].elapsed_ms < outcomes["slow"].elapsed_ms  # each its own time
    assert outcomes["slow"].elapsed_ms >= 250
    assert b"Host: app.example:80\r\n" in fast_server.requests[0]
    refused = outcomes["refused"]
    assert refused.response is None
    assert not refused.sent
    assert isinstance(refused.error, ConnectionRefusedError)

    quiet = send_together(
        [WireCall("quiet", WireClient(f"http://127.0.0.1:{silent_server.port}"), "GET", "/", [])],
        read_timeout=0.2,
    )["quiet"]
    assert quiet.sent
    assert isinstance(quiet.error, WireTimeout)
