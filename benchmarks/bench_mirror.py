"""How much does mirroring cost? Wall time of one httpx suite, plugin off vs plugin on.

    .venv/bin/python benchmarks/bench_mirror.py [--requests 2000] [--rounds 3]

The suite sends ``--requests`` GETs (a session-scoped ``httpx.Client``, keep-alive, like most
suites) spread over 100 tests. It runs three ways, each ``--rounds`` times (the best round
counts, the others are shown):

- **off**: ``pytest -p no:aotparity`` against one app that is already running;
- **on (url)**: ``pytest --aot-parity`` with two apps that are already running given as
  ``http://`` targets — the cost of mirroring and comparing alone;
- **on (cmd)**: ``pytest --aot-parity`` with ``cmd:`` targets — also starting and stopping
  both apps, as a CI run would.

The apps are a minimal asyncio HTTP/1.1 server (this file, ``--serve PORT``) answering a
small JSON document per path, the same in both, so every pair is compared and equal. The
goal is on (url) / off ≤ 1.3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()
TESTS = 100

# -- the app ---------------------------------------------------------------------------------


def _document(path: str) -> bytes:
    item = path.rstrip("/").rsplit("/", 1)[-1]
    return json.dumps(
        {
            "id": item,
            "name": f"item {item}",
            "price": 12.5,
            "tags": ["a", "b", "c"],
            "owner": {"id": 7, "name": "Lionel"},
        },
        separators=(",", ":"),
    ).encode()


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _version = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if length:
                await reader.readexactly(length)
            body = b"ok" if path == "/health" else _document(path)
            ctype = b"text/plain" if path == "/health" else b"application/json"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: "
                + ctype
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve(port: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=512)
        async with server:
            await server.serve_forever()

    print(f"serving on 127.0.0.1:{port}", flush=True)
    asyncio.run(main())


# -- the harness ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, timeout: float = 20) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never became healthy")


@contextmanager
def running_app() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", str(port)], stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_suite(root: Path, requests: int) -> None:
    per_test = max(1, requests // TESTS)
    (root / "conftest.py").write_text(
        textwrap.dedent(
            """
            import os

            import httpx
            import pytest


            @pytest.fixture(scope="session")
            def client():
                with httpx.Client(base_url=os.environ["BENCH_BASE_URL"]) as c:
                    yield c
            """
        )
    )
    (root / "test_bench.py").write_text(
        textwrap.dedent(
            f"""
            import pytest


            @pytest.mark.parametrize("n", range({TESTS}))
            def test_items(client, n):
                for i in range({per_test}):
                    response = client.get(f"/items/{{n * {per_test} + i}}")
                    assert response.status_code == 200
                    assert response.json()["name"] == f"item {{n * {per_test} + i}}"
            """
        )
    )
    (root / "pytest.ini").write_text("[pytest]\n")


def run_pytest(root: Path, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"pytest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", type=int, metavar="PORT", help="run the app (internal)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0

    app_cmd = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(HERE))} --serve {{port}}"
    results: dict[str, list[float]] = {"off": [], "on (url)": [], "on (cmd)": []}
    with tempfile.TemporaryDirectory(prefix="aotparity-bench-") as tmp:
        root = Path(tmp)
        write_suite(root, args.requests)
        with running_app() as one, running_app() as two:
            for _ in range(args.rounds):
                results["off"].append(
                    run_pytest(root, ["-p", "no:aotparity"], {"BENCH_BASE_URL": one})
                )
                results["on (url)"].append(
                    run_pytest(
                        root,
                        [
                            "--aot-parity",
                            f"--aot-parity-jit={one}",
                            f"--aot-parity-aot={two}",
                            "--aot-parity-base-url-env=BENCH_BASE_URL",
                            "--aot-parity-no-generate",  # the suite's own requests only
                        ],
                        {},
                    )
                )
                results["on (cmd)"].append(
                    run_pytest(
                        root,
                        [
                            "--aot-parity",
                            f"--aot-parity-jit={app_cmd}",
                            f"--aot-parity-aot={app_cmd}",
                            "--aot-parity-base-url-env=BENCH_BASE_URL",
                            "--aot-parity-no-generate",  # the suite's own requests only
                        ],
                        {},
                    )
                )
    best = {name: min(times) for name, times in results.items()}
    print(f"{args.requests} requests in {TESTS} tests, {args.rounds} rounds (best / median)")
    for name, times in results.items():
        print(
            f"  plugin {name:<9} {best[name]:6.2f} s / {statistics.median(times):6.2f} s"
            f"   rounds: {', '.join(f'{t:.2f}' for t in times)}"
        )
    median = {name: statistics.median(times) for name, times in results.items()}
    ratio = best["on (url)"] / best["off"]
    ratio_cmd = best["on (cmd)"] / best["off"]
    print(
        f"ratio on (url) / off: {ratio:.2f}x best, {median['on (url)'] / median['off']:.2f}x"
        " median   (goal <= 1.30x)"
    )
    print(
        f"ratio on (cmd) / off: {ratio_cmd:.2f}x best, {median['on (cmd)'] / median['off']:.2f}x"
        " median   (includes starting and stopping both apps)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
