"""Helpers for the plugin's own tests.

The plugin is off in the outer run (tests/pytest.ini: ``-p no:aotparity``); each pytester
run opts in with ``--aot-parity`` and gets fake players apps (tests/fakeapps/players.py) as
``cmd:`` targets.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpcore  # noqa: F401
import httpx  # noqa: F401
import psutil  # type: ignore[import-untyped]
import pytest

# Imported here, before any in-process pytester run: pytester drops the modules a run
# imported when it ends, and httpx keeps a module-level map of httpcore's exception classes
# that must not outlive the httpcore module it was built from.

FAKEAPPS = Path(__file__).resolve().parent / "fakeapps"
PLAYERS = FAKEAPPS / "players.py"
REPO = Path(__file__).resolve().parents[1]


SAMPLE_IMAGES = (
    "--aot-parity-jit=image:aotparity-sample:jit",
    "--aot-parity-aot=image:aotparity-sample:aot",
    "--aot-parity-noise=auto",
)
"""The sample app's two images (built by sample_app/build.sh) and a noise instance."""


def fake_target(flavour: str = "jit", *extra: str, app: Path = PLAYERS) -> str:
    """A ``cmd:`` TARGET running a fake app (absolute paths, ``{port}``): by default the
    players app."""
    words = [sys.executable, str(app), "--flavour", flavour, "--port", "{port}", *extra]
    return "cmd:" + " ".join(w if w == "{port}" else shlex.quote(w) for w in words)


BROKEN = FAKEAPPS / "broken.py"
FAKE_APP_FILES = ("players.py", "broken.py")


def broken_target(mode: str, *extra: str) -> str:
    """A ``cmd:`` TARGET running the broken fake app (tests/fakeapps/broken.py) in ``mode``."""
    words = [sys.executable, str(BROKEN), "--mode", mode, "--port", "{port}", *extra]
    return "cmd:" + " ".join(w if w == "{port}" else shlex.quote(w) for w in words)


def parity_args(
    *,
    jit: str | None = None,
    aot: str | None = None,
    noise: str | None = None,
    extra: tuple[str, ...] = (),
    start_timeout: float = 60,
) -> list[str]:
    """Command-line arguments turning the plugin on with fake apps as targets
    (jit flavour for jit, aot flavour for aot unless told otherwise)."""
    args = [
        "--aot-parity",
        f"--aot-parity-jit={jit or fake_target('jit')}",
        f"--aot-parity-aot={aot or fake_target('aot')}",
        f"--aot-parity-start-timeout={start_timeout:g}",
        # the suite's own requests only: no requests generated from the OpenAPI document
        "--aot-parity-no-generate",
    ]
    if noise is not None:
        args.append(f"--aot-parity-noise={noise}")
    args.extend(extra)
    return args


SUITE_CONFTEST = """
import os

import httpx
import pytest


@pytest.fixture(scope="session")
def base_url():
    return os.environ["{env}"]


@pytest.fixture
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=10.0) as c:
        yield c


@pytest.fixture
def new_player():
    return {{
        "squadNumber": 77,
        "firstName": "Valentin",
        "middleName": "Mariano",
        "lastName": "Barco",
        "dateOfBirth": "2004-07-23",
        "position": "LB",
        "team": "Brighton",
        "league": "Premier League",
        "starting11": False,
    }}
"""


@pytest.fixture
def players_suite(pytester: pytest.Pytester) -> Callable[..., Path]:
    """Write an httpx suite against the players API into the pytester directory: a conftest
    with ``base_url`` (from the exported environment variable), ``client`` and
    ``new_player`` fixtures, and the test file given as source."""

    def write(source: str, *, name: str = "test_suite", env: str = "AOT_PARITY_BASE_URL") -> Path:
        pytester.makeconftest(SUITE_CONFTEST.format(env=env))
        path: Path = pytester.makepyfile(**{name: textwrap.dedent(source)})
        return path

    return write


def player_processes(root: psutil.Process | None = None) -> list[psutil.Process]:
    """Fake apps (players, broken) among the descendants of ``root`` (default: this
    process)."""
    root = root or psutil.Process()
    found = []
    try:
        children = root.children(recursive=True)
    except psutil.Error:
        return []
    for child in children:
        try:
            if any(name in part for part in child.cmdline() for name in FAKE_APP_FILES):
                found.append(child)
        except psutil.Error:
            continue
    return found


@pytest.fixture(autouse=True)
def _no_leftover_apps(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every plugin test (test_plugin_*.py) leaves no fake app running (in-process pytester
    runs start them as children of this process)."""
    yield
    if not request.node.path.name.startswith("test_plugin_"):
        return
    leftovers = player_processes()
    if leftovers:
        for proc in leftovers:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        cmdlines = []
        for proc in leftovers:
            try:
                cmdlines.append(" ".join(proc.cmdline()))
            except psutil.Error:
                cmdlines.append(str(proc.pid))
        pytest.fail("fake apps left running: " + "; ".join(cmdlines))


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The testcontainers reaper image cannot be pulled here; the plugin cleans up itself.
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    # Wide enough that pytester runs print short-summary lines whole.
    monkeypatch.setenv("COLUMNS", "300")


class _OkHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def ok_server() -> Iterator[str]:
    """A tiny server in this process answering 200 ``{"ok":true}`` to every GET: a ``url``
    target that is always healthy, for runs that must start but need no real app."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OkHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def assert_no_env_leak(name: str) -> None:
    assert name not in os.environ, f"{name} is still set after the run"


# -- generated tests ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def unicode_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hypothesis' unicode tables, built once: every pytester directory would otherwise
    build them again (seconds of CPU per run)."""
    root = tmp_path_factory.mktemp("hypothesis-unicode")
    code = (
        "from hypothesis import given, settings, strategies as st\n"
        "@settings(max_examples=3, database=None)\n"
        "@given(st.text(), st.text(alphabet=st.characters(codec='utf-8')))\n"
        "def t(a, b): pass\n"
        "t()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=300)
    return root / ".hypothesis" / "unicode_data"


@pytest.fixture
def gen_dir(pytester: pytest.Pytester, unicode_cache: Path) -> pytest.Pytester:
    shutil.copytree(unicode_cache, pytester.path / ".hypothesis" / "unicode_data")
    pytester.makeini("[pytest]\n")
    return pytester
