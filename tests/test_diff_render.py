"""Rendering divergences and curl commands; redaction everywhere."""

from __future__ import annotations

import http.server
import json
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_aotparity.diff.compare import CompareRules, compare
from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.diff.render import (
    DEFAULT_REDACT,
    curl_command,
    log_excerpt,
    render_divergence,
)
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse

SECRET = "Bearer s3cr3t-token"
JSON = (("Content-Type", "application/json"),)


def answer(build: str, body: Any, status: int | None = 200, **kw: Any) -> RecordedResponse:
    raw = kw.pop("raw", None)
    data = raw if raw is not None else json.dumps(body).encode()
    return RecordedResponse(build, status, kw.pop("headers", JSON), data, **kw)  # type: ignore[arg-type]


def request(**kw: Any) -> RecordedRequest:
    defaults: dict[str, Any] = {
        "method": "POST",
        "path": "/players",
        "headers": (
            ("Host", "127.0.0.1:5000"),
            ("Authorization", SECRET),
            ("Content-Type", "application/json"),
            ("Accept-Encoding", "gzip"),
            ("Cookie", "session=abc123"),
        ),
        "body": b'{"squadNumber": 120, "firstName": "Lionel"}',
    }
    defaults.update(kw)
    return RecordedRequest(**defaults)


def divergence_of(exchange: Exchange, rules: CompareRules | None = None) -> Divergence:
    comparison = compare(exchange, rules or CompareRules())
    return comparison.divergence(exchange)


def lost_data() -> Divergence:
    exchange = Exchange(
        request=request(),
        jit=answer("jit", {"fullName": "Lionel Messi", "team": "Inter Miami", "n": "null"}),
        aot=answer("aot", {"team": None, "n": None, "z": "x" * 200}),
    )
    return divergence_of(exchange)


# -- curl ---------------------------------------------------------------------------------


def test_curl_get_is_minimal() -> None:
    command = curl_command(RecordedRequest("GET", "/players?league=La%20Liga"), "http://h:1")
    assert command == "curl -sS -i 'http://h:1/players?league=La%20Liga'"


def test_curl_post_with_body_and_redacted_headers() -> None:
    command = curl_command(request(), "http://127.0.0.1:5000/")
    words = shlex.split(command)
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:5000/players"]
    assert "Authorization: ***" in words
    assert "Cookie: ***" in words
    assert "Content-Type: application/json" in words
    assert not any(w.startswith(("Host:", "Accept-Encoding:")) for w in words)
    assert words[-2:] == ["--data-binary", '{"squadNumber": 120, "firstName": "Lionel"}']
    assert "s3cr3t" not in command
    assert "abc123" not in command


def test_curl_head_and_base_url_with_a_path() -> None:
    command = curl_command(RecordedRequest("HEAD", "/health"), "http://h/api/")
    assert command == "curl -sS -i --head http://h/api/health"


def test_curl_custom_redaction_covers_query_and_json_fields() -> None:
    req = RecordedRequest(
        "PUT",
        "/players/7?api_key=k1&x=1",
        (("X-Api-Key", "k2"), ("Content-Type", "application/json")),
        b'{"name": "a", "api_key": "k3", "nested": [{"Api-Key": "k4"}]}',
    )
    command = curl_command(req, "http://h", redact=("api-key", "x-api-key"))
    assert not any(secret in command for secret in ("k1", "k2", "k3", "k4"))
    assert "api_key=***&x=1" in command
    words = shlex.split(command)
    body = json.loads(words[-1])
    assert body == {"name": "a", "api_key": "***", "nested": [{"Api-Key": "***"}]}


def test_curl_without_redaction_keeps_values() -> None:
    command = curl_command(request(), "http://h", redact=())
    assert SECRET in shlex.split(command)[shlex.split(command).index("-H") + 1]


def test_curl_binary_body_is_piped_through_printf() -> None:
    req = RecordedRequest(
        "PUT", "/photo", (("Content-Type", "image/png"),), b"\x89PNG\x00%'\\\n\xff"
    )
    command = curl_command(req, "http://h")
    assert command.startswith("printf '")
    assert command.endswith("--data-binary @-")
    printed = subprocess.run(
        ["sh", "-c", command.split(" | ")[0]], capture_output=True, check=True
    ).stdout
    assert printed == b"\x89PNG\x00%'\\\n\xff"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str], bytes]]

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str, dict[str, str], bytes]]]]:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
@pytest.mark.parametrize(
    "req",
    [
        RecordedRequest("GET", "/players?league=La%20Liga&x=it's", (("Accept", "*/*"),)),
        RecordedRequest(
            "POST",
            "/players",
            (("Content-Type", "application/json"), ("X-Note", 'it\'s "quoted" $HOME')),
            '{"name": "Gerónimo \'Rulli\'", "n": 23}\n'.encode(),
        ),
        RecordedRequest("PUT", "/photo/1", (("Content-Type", "image/png"),), bytes(range(256)) * 2),
        RecordedRequest("DELETE", "/players/7"),
    ],
)
def test_curl_commands_send_the_same_request(
    req: RecordedRequest, recorder: tuple[str, list[tuple[str, str, dict[str, str], bytes]]]
) -> None:
    base_url, seen = recorder
    command = curl_command(req, base_url, redact=())
    subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=30)
    ((method, path, headers, body),) = seen
    assert (method, path, body) == (req.method, req.path, req.body)
    for name, value in req.headers:
        assert headers.get(name) == value


# -- render -------------------------------------------------------------------------------


def test_render_shows_request_category_statuses_table_and_curls() -> None:
    text = render_divergence(lost_data(), jit_url="http://127.0.0.1:5000", aot_url="http://a:6")
    lines = text.splitlines()
    assert lines[0] == "POST /players"
    assert "    Authorization: ***" in lines
    assert "    Cookie: ***" in lines
    assert '    body: {"squadNumber": 120, "firstName": "Lionel"}' in lines
    assert "category: mapping lost data" in lines
    assert "status: jit 200, aot 200" in lines
    assert "4 differences:" in lines
    assert any(
        line.startswith("  jit: curl -sS -i -X POST http://127.0.0.1:5000/players")
        for line in lines
    )
    assert any(line.startswith("  aot: curl -sS -i -X POST http://a:6/players") for line in lines)
    assert "s3cr3t" not in text
    assert "abc123" not in text


def table_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  path "))
    rows = []
    for line in lines[start:]:
        if "-+-" in line:
            continue
        if " | " not in line:
            break
        rows.append([cell.strip() for cell in line.strip().split(" | ")])
    return rows


def test_render_table_is_aligned_and_values_are_json() -> None:
    text = render_divergence(lost_data(), jit_url="", aot_url="")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  path "))
    table = lines[start : start + 6]
    bars = {tuple(i for i, ch in enumerate(line) if ch == "|") for line in table if "|" in line}
    assert len(bars) == 1  # every row has its separators in the same columns
    assert table[1].startswith("  ----")
    assert "-+-" in table[1]
    assert table_rows(text) == [
        ["path", "kind", "jit", "aot"],
        ["$.fullName", "missing field", '"Lionel Messi"', "(absent)"],
        ["$.team", "null vs value", '"Inter Miami"', "null"],
        ["$.n", "null vs value", '"null"', "null"],
        ["$.z", "extra field", "(absent)", '"' + "x" * 38 + "…"],
    ]


def test_render_cuts_rows_beyond_max_rows() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/p"),
        jit=answer("jit", {f"k{n}": n for n in range(30)}),
        aot=answer("aot", {f"k{n}": -n - 1 for n in range(30)}),
    )
    text = render_divergence(divergence_of(exchange), jit_url="", aot_url="", max_rows=5)
    assert len(table_rows(text)) == 6
    assert "  … and 25 more" in text.splitlines()
    assert "30 differences:" in text


def test_render_collapses_array_elements_by_generic_path() -> None:
    teams = ["River Plate", "Boca", "Racing", "Velez"]
    exchange = Exchange(
        request=RecordedRequest("GET", "/players"),
        jit=answer("jit", [{"team": t, "n": i} for i, t in enumerate(teams)]),
        aot=answer("aot", [{"team": None, "n": i} for i, _ in enumerate(teams)]),
    )
    text = render_divergence(divergence_of(exchange), jit_url="", aot_url="")
    assert "4 differences:" in text
    rows = table_rows(text)
    assert len(rows) == 2  # the header and one row for the four elements
    assert rows[1] == ["$[*].team ×4", "null vs value", '"River Plate", "Boca", …', "null, null, …"]


def test_render_counts_noise_and_shows_the_aot_request() -> None:
    jit_id, aot_id = "0d9f2c44-5b8e-4d7e-9a36-1f6c2b7d8e10", "c21b7a55-3e1f-4f0a-8b47-9d2e6a1c4f02"
    exchange = Exchange(
        request=RecordedRequest("GET", f"/players/by-id/{jit_id}", (("X-Api-Key", "k9"),)),
        jit=answer("jit", {"requestId": "1", "position": "Goalkeeper"}),
        aot=answer("aot", {"requestId": "2", "position": 0}),
        noise=answer("noise", {"requestId": "3", "position": "Goalkeeper"}),
        aot_request=RecordedRequest("GET", f"/players/by-id/{aot_id}", (("X-Api-Key", "k9"),)),
    )
    text = render_divergence(divergence_of(exchange), jit_url="http://j", aot_url="http://a")
    assert text.splitlines()[0] == (
        f"GET /players/by-id/{jit_id}  (sent to aot as /players/by-id/{aot_id})"
    )
    assert "1 difference; 1 more cancelled as noise:" in text
    assert "status: jit 200, aot 200 (noise 200)" in text
    assert f"  jit: curl -sS -i http://j/players/by-id/{jit_id} -H 'X-Api-Key: ***'" in text
    assert f"  aot: curl -sS -i http://a/players/by-id/{aot_id} -H 'X-Api-Key: ***'" in text
    assert "k9" not in text
    assert table_rows(text)[1] == ["$.position", "type change", '"Goalkeeper"', "0"]


def test_render_aot_failure_with_log_and_bodies() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players/10/stats"),
        jit=answer("jit", {"goals": 20}),
        aot=answer("aot", {"title": "An error occurred while processing your request."}, 500),
    )
    log = [
        "info: Microsoft.Hosting.Lifetime[14] Now listening on: http://[::]:8080",
        "info: Microsoft.Hosting.Lifetime[0] Application started.",
        "info: request starting GET /players/10/stats",
        "dbug: something",
        "fail: Microsoft.AspNetCore.Server.Kestrel[13] Unhandled exception",
        "System.InvalidOperationException: Reflection-based serialization has been disabled",
        "   at System.Text.Json.JsonSerializer.Serialize()",
    ]
    text = render_divergence(divergence_of(exchange), jit_url="", aot_url="", aot_log_tail=log)
    lines = text.splitlines()
    assert "category: AOT failure" in lines
    assert "status: jit 200, aot 500" in lines
    assert table_rows(text)[1] == ["status", "status", "200", "500"]
    assert 'aot body: {"title": "An error occurred while processing your request."}' in lines
    start = lines.index("aot log (around the exception):")
    assert lines[start + 1 : start + 6] == [f"    {line}" for line in log[2:]]
    assert "Now listening" not in text


def test_render_without_exception_in_the_log_shows_no_log() -> None:
    text = render_divergence(
        lost_data(), jit_url="", aot_url="", aot_log_tail=["info: all fine", "info: still fine"]
    )
    assert "aot log" not in text
    assert "all fine" not in text


def test_render_connection_error() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/players"),
        jit=answer("jit", [1]),
        aot=answer("aot", None, status=None, raw=b"", error="ConnectError: refused"),
    )
    text = render_divergence(divergence_of(exchange), jit_url="", aot_url="")
    assert "status: jit 200, aot no response (ConnectError: refused)" in text
    assert table_rows(text)[1] == ["status", "connection error", "200", '"ConnectError: refused"']


def test_render_redacts_sensitive_header_differences() -> None:
    exchange = Exchange(
        request=RecordedRequest("GET", "/login"),
        jit=answer("jit", 1, headers=(*JSON, ("Set-Cookie", "sid=jit-secret"))),
        aot=answer("aot", 1, headers=JSON),
    )
    div = divergence_of(exchange, CompareRules(headers=("content-type", "set-cookie")))
    text = render_divergence(div, jit_url="", aot_url="")
    assert table_rows(text)[1] == ["header:set-cookie", "header", '"***"', "(absent)"]
    assert "jit-secret" not in text


def test_render_binary_request_body_and_order_difference() -> None:
    div = Divergence(
        exchange=Exchange(
            request=RecordedRequest("PUT", "/p", (("Content-Type", "image/png"),), b"\x00\x01"),
            jit=answer("jit", [1, 2]),
            aot=answer("aot", [2, 1]),
        ),
        differences=[Difference("$", DiffKind.ORDER, [1, 2], [2, 1])],
        category=Category.BEHAVIOUR_DIFFERS,
    )
    text = render_divergence(div, jit_url="", aot_url="")
    assert "    body: <2 bytes of binary data>" in text
    assert table_rows(text)[1] == ["$", "order", "[1, 2]", "[2, 1]"]


def test_log_excerpt_shows_the_last_failure_with_the_apps_frames() -> None:
    earlier = [
        "fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]",
        "      System.NullReferenceException: Object reference not set to an instance of an obj",
        "         at Players.Api.Endpoints.PlayerEndpoints.<CreateAsync>d__6.MoveNext() + 0x2aa",
    ]
    middleware = [
        "      --- End of stack trace from previous location ---",
        "        at Microsoft.AspNetCore.Routing.EndpointMiddleware.<Invoke>d__5.MoveNext() + 0x4c",
    ] * 20
    seam = "      --- End of stack trace from previous location ---"
    one_frame = "        at Microsoft.AspNetCore.Http.RequestDelegate.Invoke() + 0x1"
    last = [
        "info: Microsoft.AspNetCore.Hosting.Diagnostics[1]",
        "      Request starting HTTP/1.1 PUT http://127.0.0.1/players/1 - application/json 2",
        "fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]",
        "      An unhandled exception has occurred while executing the request.",
        "      System.InvalidOperationException: Value must be set.",
        "         at System.Data.Common.DbCommand.ExecuteNonQueryAsync(CancellationToken) + 0xb3",
        "         at Players.Api.Data.PlayerRepository.<UpdateAsync>d__8.MoveNext() + 0x239",
        seam,
        one_frame,
        seam,
        "        at Players.Api.Endpoints.PlayerEndpoints.<UpdateAsync>d__7.MoveNext() + 0x1e9",
        *middleware,
        "        at Players.Api.Validation.ValidationFilter`1.<InvokeAsync>d__0.MoveNext() + 0x59f",
        *middleware,
    ]
    after = ["info: Microsoft.AspNetCore.Hosting.Diagnostics[2]", "      Request finished 500"]
    out = log_excerpt([*earlier, *middleware, *last, *after])
    # the last failure only, from two lines before it; the middleware frames folded
    assert out == [
        *last[:7],
        one_frame,  # a single framework frame stays as it is; the async seams go
        "        at Players.Api.Endpoints.PlayerEndpoints.<UpdateAsync>d__7.MoveNext() + 0x1e9",
        "        … 20 framework frames",
        "        at Players.Api.Validation.ValidationFilter`1.<InvokeAsync>d__0.MoveNext() + 0x59f",
        "        … 20 framework frames",
    ]
    # excerpting an excerpt changes nothing (the report keeps the excerpt, the text shows it)
    assert log_excerpt(out) == out


def test_log_excerpt_without_a_log_entry_header_and_its_limit() -> None:
    lines = [f"line {n}" for n in range(100)]
    lines[10] = "System.NullReferenceException: x"
    lines[50] = "Unhandled exception. System.IO.FileNotFoundException: players.db"
    out = log_excerpt(lines)
    assert out[:3] == ["line 48", "line 49", lines[50]]
    assert len(out) == 30
    assert out[-1] == "… 23 more lines"
    # no logger header at all: the last exception line
    assert log_excerpt(["x", "System.Exception: boom", "   at App.Main()"]) == [
        "x",
        "System.Exception: boom",
        "   at App.Main()",
    ]
    # a frame that names an exception type is not a failure
    assert (
        log_excerpt(["   at Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware.Invoke()"])
        == []
    )
    assert log_excerpt(["info: fine"]) == []
    assert log_excerpt([]) == []


def test_default_redact_list() -> None:
    assert DEFAULT_REDACT == (
        "authorization",
        "cookie",
        "set-cookie",
        "proxy-authorization",
        "proxy-authenticate",
        "x-api-key",
    )
