"""http(s):// targets: a running instance is checked, never started or stopped."""

from __future__ import annotations

import contextlib
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pytest_aotparity.targets import TargetOptions, TargetStartError, parse_target
from pytest_aotparity.targets.process import ProcessTarget, free_port
from pytest_aotparity.targets.url import UrlTarget

PLAYERS = Path(__file__).parent / "fakeapps" / "players.py"


def _app(tmp_path: Path, *extra: str) -> ProcessTarget:
    command = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(PLAYERS))} --port {{port}}"
    return ProcessTarget(
        parse_target(" ".join([command, *extra]), "jit"),
        TargetOptions(state_dir=str(tmp_path), start_timeout=30),
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[ProcessTarget]:
    app = _app(tmp_path)
    app.start()
    yield app
    app.stop()


def test_reachable_url(running: ProcessTarget) -> None:
    target = UrlTarget(parse_target(running.base_url + "/", "aot"), TargetOptions())
    target.start()
    assert target.base_url == running.base_url
    assert httpx.get(target.base_url + "/players/10", trust_env=False).status_code == 200
    assert target.ready_seconds is None
    assert target.memory_rss_bytes() is None
    assert target.artifact_size_bytes() is None
    assert target.exit_code() is None
    assert list(target.log_tail()) == []
    target.stop()
    target.stop()
    assert running.exit_code() is None, "stopping a URL target must not stop the instance"


def test_unreachable_url_names_the_build() -> None:
    port = free_port()
    target = UrlTarget(
        parse_target(f"http://127.0.0.1:{port}", "jit"), TargetOptions(), check_seconds=0.5
    )
    with pytest.raises(TargetStartError) as info:
        target.start()
    message = str(info.value)
    assert message.startswith(
        f"aot-parity: the JIT build is not healthy at http://127.0.0.1:{port}/health ("
    )
    assert "connection refused" in message
    assert "start the build yourself" in message


def test_port_taken_by_something_that_is_not_the_app() -> None:
    with socket.socket() as listener:  # accepts connections, never answers HTTP
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        target = UrlTarget(
            parse_target(f"http://127.0.0.1:{port}", "aot"), TargetOptions(), check_seconds=0.5
        )
        with pytest.raises(TargetStartError) as info:
            target.start()
    assert info.value.build == "aot"
    assert "is something else listening there?" in str(info.value)


def test_unhealthy_url_reports_the_status() -> None:
    port = free_port()
    app = subprocess.Popen(
        [sys.executable, str(PLAYERS), "--port", str(port), "--never-ready"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/health", trust_env=False)
                break
            time.sleep(0.1)
        target = UrlTarget(
            parse_target(f"http://127.0.0.1:{port}", "aot"), TargetOptions(), check_seconds=0.5
        )
        with pytest.raises(TargetStartError) as info:
            target.start()
        assert f"is not healthy at http://127.0.0.1:{port}/health (status 503)" in str(info.value)
    finally:
        app.kill()
        app.wait()


def test_health_path_is_used(running: ProcessTarget) -> None:
    options = TargetOptions(health_path="players/10")
    UrlTarget(parse_target(running.base_url, "noise"), options).start()
    options = TargetOptions(health_path="/nope")
    with pytest.raises(TargetStartError, match=r"/nope \(status 404\)"):
        UrlTarget(parse_target(running.base_url, "noise"), options, check_seconds=0.3).start()
