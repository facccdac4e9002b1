"""The mirror's lean path: with plain-http builds and an ordinary transport, the JIT request
goes over the plugin's wire client with the copies, from the test's thread. The test must
not be able to tell: the same response (status, reason, version, headers, decoded body,
cookies), the same exceptions as httpx's own transport, event streams read as they come.
Otherwise (a special transport, an upgrade) the request takes the general path."""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pytest_aotparity.exchange import Exchange
from pytest_aotparity.replay.mirror import Mirror, wire_eligible
from pytest_aotparity.transport import pair as pair_module
from pytest_aotparity.transport.idmap import IdMap
from pytest_aotparity.transport.pair import Build, PairSender
from tests.conftest import parity_args

_STREAM_RELEASE = threading.Event()
_STREAM_ENDS: list[str] = []
"""How each ``/events`` stream ended: released by the test, or timed out waiting for it."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    build = "jit"

    def _send(self, status: int, body: bytes, *headers: tuple[str, str]) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path == "/json":
            self._send(200, b'{"a": 1, "b": [1, 2]}', ("Content-Type", "application/json"))
        elif path == "/gzip":
            self._send(
                200,
                gzip.compress(b'{"zipped": true}'),
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            )
        elif path == "/cookie":
            self._send(
                200,
                b"",
                ("Set-Cookie", "session=abc; Path=/"),
                ("Set-Cookie", "theme=dark; Path=/"),
                ("X-Multi", "one"),
                ("X-Multi", "two"),
            )
        elif path == "/missing":
            self._send(404, b"nothing here", ("Content-Type", "text/plain"))
        elif path == "/teapot":
            self.send_response(418, "I Am A Teapot Today")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(b"data: one\n\ndata: two\n\n")
            self.wfile.flush()
            # an event stream that goes on until the test lets it end (or 10 s pass)
            _STREAM_ENDS.append("released" if _STREAM_RELEASE.wait(10) else "timed out")
        elif path == "/echo":
            echoed = {
                "method": self.command,
                "target": self.path,
                "host": self.headers.get("Host"),
                "body": body.decode(),
                "cookie": self.headers.get("Cookie"),
            }
            self._send(200, json.dumps(echoed).encode(), ("Content-Type", "application/json"))
        elif path == "/health":
            self._send(200, b"ok")
        else:
            self._send(500, b"unknown path")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _route

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def app() -> Iterator[Callable[[], str]]:
    """Start small apps in this process (each call one more); their base URLs."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start() -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mirrored(
    app: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[Exchange], list[str]]]:
    """A mirror installed for two apps; its exchanges; the builds each lean send went to."""
    jit, aot = app(), app()
    exchanges: list[Exchange] = []
    lean: list[str] = []
    real_start_together = pair_module.start_together

    def spy(calls: list[object], **kwargs: object) -> object:
        lean.extend(str(getattr(call, "key", "")) for call in calls)
        return real_start_together(calls, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pair_module, "start_together", spy)
    sender = PairSender(
        Build("jit", jit),
        [Build("aot", aot, IdMap("aot"))],
        learn_ids=lambda jit_body, aot_body: {},
    )
    mirror = Mirror(
        sender=sender, sink=exchanges.append, active=lambda: True, nodeid=lambda: "test_x"
    )
    mirror.install()
    try:
        yield jit, exchanges, lean
    finally:
        mirror.uninstall()
        sender.close()


def _comparable(response: httpx.Response) -> tuple[object, ...]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
    return (
        response.status_code,
        response.reason_phrase,
        response.http_version,
        headers,
        response.content,
        dict(response.cookies),
    )


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/json", {}),
        ("GET", "/gzip", {}),
        ("GET", "/cookie", {}),
        ("GET", "/missing", {}),
        ("GET", "/teapot", {}),
        ("GET", "/chunked", {}),
        ("HEAD", "/json", {}),
        ("POST", "/echo?x=1&y=%20", {"json": {"name": "Ángel"}}),
        ("DELETE", "/echo", {}),
    ],
)
def test_the_test_gets_what_httpx_itself_would_give(
    mirrored: tuple[str, list[Exchange], list[str]],
    method: str,
    path: str,
    kwargs: dict[str, object],
) -> None:
    base_url, exchanges, lean = mirrored
    general_transport = httpx.HTTPTransport(retries=1)  # retries: not eligible, general path
    assert not wire_eligible(general_transport, httpx.Request("GET", base_url))
    with (
        httpx.Client(base_url=base_url) as client,
        httpx.Client(base_url=base_url, transport=general_transport) as general,
    ):
        ours = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        theirs = general.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert lean == ["jit", "aot"]  # only the first client's request went the lean way
    assert _comparable(ours) == _comparable(theirs)
    assert len(exchanges) == 2
    for exchange in exchanges:
        assert exchange.jit.status == exchange.aot.status == ours.status_code
        if path.startswith("/echo"):  # each build saw its own Host
            jit_echo, aot_echo = json.loads(exchange.jit.body), json.loads(exchange.aot.body)
            assert jit_echo.pop("host") != aot_echo.pop("host")
            assert jit_echo == aot_echo
        else:
            assert exchange.jit.body == exchange.aot.body
        assert exchange.jit.elapsed_ms > 0
    if path == "/gzip":
        assert exchanges[0].jit.body == b'{"zipped": true}'  # recorded decoded
    if path.startswith("/echo"):
        assert ours.json()["host"] == base_url.removeprefix("http://")


def test_a_streamed_body_reaches_every_build_whole(
    mirrored: tuple[str, list[Exchange], list[str]],
) -> None:
    """Read once, then sent to every build with its length (the same framing for all)."""
    base_url, exchanges, lean = mirrored
    with httpx.Client(base_url=base_url) as client:
        echoed = client.put("/echo", content=iter([b"streamed ", b"body"])).json()
    assert echoed["body"] == "streamed body"
    assert json.loads(exchanges[0].aot.body)["body"] == "streamed body"
    assert lean == ["jit", "aot"]


def test_cookies_travel_with_later_requests(
    mirrored: tuple[str, list[Exchange], list[str]],
) -> None:
    base_url, exchanges, _ = mirrored
    with httpx.Client(base_url=base_url) as client:
        client.get("/cookie")
        echoed = client.get("/echo").json()
    assert echoed["cookie"] in ("session=abc; theme=dark", "theme=dark; session=abc")
    # the copy carried them too
    assert json.loads(exchanges[1].aot.body)["cookie"] == echoed["cookie"]


def test_an_event_stream_is_read_as_the_test_iterates_it(
    mirrored: tuple[str, list[Exchange], list[str]],
) -> None:
    base_url, exchanges, lean = mirrored
    _STREAM_RELEASE.clear()
    _STREAM_ENDS.clear()
    with httpx.Client(base_url=base_url) as client, client.stream("GET", "/events") as response:
        assert response.headers["content-type"] == "text/event-stream"
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if line == "data: two":
                break
    assert lines[:3] == ["data: one", "", "data: two"]
    # Only now may the streams (the test's and the copy's) end: had either been read to its
    # end, this line would not have been reached before both had timed out.
    _STREAM_RELEASE.set()
    for _ in range(200):
        if len(_STREAM_ENDS) == 2:
            break
        time.sleep(0.05)
    assert _STREAM_ENDS == ["released", "released"]
    assert lean == ["jit", "aot"]
    assert exchanges[0].jit.status == exchanges[0].aot.status == 200
    assert exchanges[0].jit.body == exchanges[0].aot.body == b""  # streams are not compared


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Silent:
    """Accepts connections, reads, answers nothing (or closes at once)."""

    def __init__(self, close: bool) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.close_at_once = close
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.recv(65536)
            if self.close_at_once:
                conn.close()
            else:
                self.conns.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.mark.parametrize("failure", ["refused", "silent", "closes"])
def test_a_failed_jit_request_raises_what_httpx_raises(
    app: Callable[[], str], failure: str
) -> None:
    silent: _Silent | None = None
    if failure == "refused":
        jit = f"http://127.0.0.1:{_closed_port()}"
    else:
        silent = _Silent(close=failure == "closes")
        jit = f"http://127.0.0.1:{silent.port}"

    def attempt() -> type[BaseException]:
        with httpx.Client(base_url=jit, timeout=httpx.Timeout(0.5)) as client:
            try:
                client.get("/json")
            except httpx.HTTPError as exc:
                return type(exc)
        raise AssertionError("the request did not fail")

    try:
        without = attempt()
        exchanges: list[Exchange] = []
        sender = PairSender(
            Build("jit", jit),
            [Build("aot", app(), IdMap("aot"))],
            learn_ids=lambda jit_body, aot_body: {},
        )
        mirror = Mirror(
            sender=sender, sink=exchanges.append, active=lambda: True, nodeid=lambda: None
        )
        mirror.install()
        try:
            with_mirror = attempt()
        finally:
            mirror.uninstall()
            sender.close()
    finally:
        if silent is not None:
            silent.stop()
    expected = {
        "refused": httpx.ConnectError,
        "silent": httpx.ReadTimeout,
        "closes": httpx.RemoteProtocolError,
    }[failure]
    assert without is expected
    assert with_mirror is expected
    assert exchanges == []  # nothing to compare: the test saw the failure


def test_which_transports_take_the_lean_path(tmp_path: Path) -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/x")
    assert wire_eligible(httpx.HTTPTransport(), request)
    assert wire_eligible(httpx.HTTPTransport(limits=httpx.Limits(max_connections=2)), request)
    for special in (
        httpx.HTTPTransport(retries=2),
        httpx.HTTPTransport(proxy="http://127.0.0.1:3128"),
        httpx.HTTPTransport(uds=str(tmp_path / "app.sock")),
        httpx.HTTPTransport(local_address="127.0.0.1"),
        httpx.HTTPTransport(http1=False, http2=True),
        httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]),
        httpx.MockTransport(lambda r: httpx.Response(200)),
    ):
        assert not wire_eligible(special, request), special
    upgrade = httpx.Request("GET", "http://127.0.0.1:1/ws", headers={"Upgrade": "websocket"})
    assert not wire_eligible(httpx.HTTPTransport(), upgrade)
    traced = httpx.Request("GET", "http://127.0.0.1:1/x", extensions={"trace": print})
    assert not wire_eligible(httpx.HTTPTransport(), traced)


def test_a_patched_pool_keeps_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mocking library that patches httpcore's pool sees the requests it expects."""
    import httpcore

    original = httpcore.ConnectionPool.handle_request

    def patched(self: httpcore.ConnectionPool, request: httpcore.Request) -> httpcore.Response:
        return original(self, request)

    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", patched)
    assert not wire_eligible(httpx.HTTPTransport(), httpx.Request("GET", "http://a/"))


def test_a_suite_on_the_lean_path_end_to_end(
    pytester: pytest.Pytester, app: Callable[[], str]
) -> None:
    """Through the plugin: the suite's requests go the lean way and are compared."""
    jit, aot = app(), app()
    pytester.makepyfile(
        test_suite="""
        import os

        import httpx


        def test_json(aot_parity):
            with httpx.Client(base_url=os.environ["AOT_PARITY_BASE_URL"]) as client:
                assert client.get("/json").json() == {"a": 1, "b": [1, 2]}
                assert client.get("/gzip").json() == {"zipped": True}
                assert client.post("/echo", content=b"x").json()["body"] == "x"
            assert [e.aot.status for e in aot_parity.exchanges] == [200, 200, 200]
        """
    )
    result = pytester.runpytest(
        *parity_args(jit=jit, aot=aot, extra=("--aot-parity-ignore=$.host",))
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*compared 3 requests from 1 test*", "*no divergence*"])
