"""Measure the sample app's two builds side by side and write the figures into the findings page.

For each build (JIT and Native AOT), as medians over ``--runs`` runs (at least 5):

* publish time: ``dotnet publish`` from a clean bin/obj (restore done beforehand, not timed),
  with exactly the arguments build.sh uses;
* image size: as Docker reports it for ``aotparity-sample:jit`` / ``:aot``;
* start to first healthy response: from the ``docker start`` call to the first 200 on /health,
  polled every 10 ms over loopback;
* resident memory after 1,000 requests: RSS of the app process (read through /proc of the
  container's main process on this host) after 1,000 keep-alive GETs mixed over /players,
  /players/{n} and /health.

Usage (from the repo root, after ``bash sample_app/build.sh``)::

    .venv/bin/python sample_app/measure.py [--runs 5] [--skip-publish]

Writes ``sample_app/out/measurements.json`` and replaces the block between the
``measure:begin`` / ``measure:end`` markers in ``docs/sample-app-findings.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import docker
import httpx
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROJECT_DIR = HERE / "src" / "Players.Api"
PROJECT = PROJECT_DIR / "Players.Api.csproj"
OUT = HERE / "out"
FINDINGS = REPO / "docs" / "sample-app-findings.md"
IMAGES = {"jit": "aotparity-sample:jit", "aot": "aotparity-sample:aot"}
PUBLISH_ARGS = {
    "jit": ["--self-contained", "false"],
    "aot": ["-p:PublishAot=true"],
}
REQUESTS = 1000


def publish_seconds(build: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        for sub in ("bin", "obj"):
            shutil.rmtree(PROJECT_DIR / sub, ignore_errors=True)
        restore = ["dotnet", "restore", str(PROJECT), "-r", "linux-x64"]
        if build == "aot":
            restore.append("-p:PublishAot=true")
        subprocess.run(restore, check=True, capture_output=True)
        target = OUT / f"measure-{build}"
        shutil.rmtree(target, ignore_errors=True)
        cmd = [
            "dotnet",
            "publish",
            str(PROJECT),
            "-c",
            "Release",
            "-r",
            "linux-x64",
            "--no-restore",
            "-o",
            str(target),
            "-p:TrimmerSingleWarn=false",
            *PUBLISH_ARGS[build],
        ]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
        shutil.rmtree(target, ignore_errors=True)
        print(f"  publish {build}: {times[-1]:.1f} s", flush=True)
    return times


def one_container_run(engine: docker.DockerClient, image: str) -> tuple[float, int]:
    container = engine.containers.create(
        image, ports={"8080/tcp": ("127.0.0.1", None)}, labels={"org.aotparity.measure": "1"}
    )
    try:
        start = time.perf_counter()
        container.start()
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        base = f"http://127.0.0.1:{port}"
        ready = None
        with httpx.Client(base_url=base, timeout=5.0) as client:
            deadline = start + 60
            while time.perf_counter() < deadline:
                try:
                    if client.get("/health").status_code == 200:
                        ready = time.perf_counter() - start
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
            if ready is None:
                raise RuntimeError(f"{image} was not healthy within 60 s")
            paths = ["/players", "/players/10", "/health", "/players/23"]
            for i in range(REQUESTS):
                client.get(paths[i % len(paths)])
        pid = container.attrs["State"]["Pid"]
        process = psutil.Process(pid)
        rss = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(True))
        return ready, rss
    finally:
        container.remove(force=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def render(results: dict[str, Any]) -> str:
    jit, aot = results["builds"]["jit"], results["builds"]["aot"]

    def row(label: str, key: str, fmt: str, unit: str) -> str:
        j, a = jit.get(key), aot.get(key)
        if j is None or a is None:
            return f"| {label} | n/a | n/a | n/a |"
        ratio = a / j if j else float("nan")
        return f"| {label} | {fmt.format(j)} {unit} | {fmt.format(a)} {unit} | {ratio:.2f}× |"

    lines = [
        f"Measured {results['measured_at']} on {results['machine']} "
        f"(`.venv/bin/python sample_app/measure.py --runs {results['runs']}`); medians of "
        f"{results['runs']} runs.",
        "",
        "| figure | JIT | Native AOT | AOT / JIT |",
        "|---|---:|---:|---:|",
        row("publish time (clean bin/obj)", "publish_seconds", "{:.1f}", "s"),
        row("image size", "image_mb", "{:.1f}", "MB"),
        row("container start → first healthy /health", "ready_seconds", "{:.3f}", "s"),
        row(f"resident memory after {REQUESTS:,} requests", "rss_mb", "{:.1f}", "MB"),
        "",
        "Every run: "
        + "; ".join(
            f"{b}: publish {[round(x, 1) for x in r.get('publish_runs', [])]} s, "
            f"ready {[round(x, 3) for x in r['ready_runs']]} s, "
            f"RSS {[round(x, 1) for x in r['rss_runs']]} MB"
            for b, r in results["builds"].items()
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--skip-publish",
        action="store_true",
        help="keep the publish figures of the last measurements.json",
    )
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5 (the figures are medians of at least 5 runs)")

    previous: dict[str, Any] = {}
    store = OUT / "measurements.json"
    if store.exists():
        previous = json.loads(store.read_text())
    engine = docker.from_env()
    results: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, "
            f"{platform.system()} {platform.release()}"
        ),
        "runs": args.runs,
        "builds": {},
    }
    for build, image in IMAGES.items():
        print(f"{build}:", flush=True)
        entry: dict[str, Any] = {}
        if args.skip_publish:
            old = previous.get("builds", {}).get(build, {})
            entry["publish_runs"] = old.get("publish_runs", [])
            entry["publish_seconds"] = old.get("publish_seconds")
        else:
            entry["publish_runs"] = publish_seconds(build, args.runs)
            entry["publish_seconds"] = median(entry["publish_runs"])
        entry["image_mb"] = engine.images.get(image).attrs["Size"] / 1e6
        ready_runs, rss_runs = [], []
        for _ in range(args.runs):
            ready, rss = one_container_run(engine, image)
            ready_runs.append(ready)
            rss_runs.append(rss / 2**20)
            print(f"  ready {ready:.3f} s, RSS {rss / 2**20:.1f} MB", flush=True)
        entry.update(
            ready_runs=ready_runs,
            rss_runs=rss_runs,
            ready_seconds=median(ready_runs),
            rss_mb=median(rss_runs),
        )
        results["builds"][build] = entry
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(results, indent=2) + "\n")

    table = render(results)
    print(table)
    if FINDINGS.exists():
        text = FINDINGS.read_text(encoding="utf-8")
        begin, end = "<!-- measure:begin -->", "<!-- measure:end -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _, tail = rest.split(end, 1)
            FINDINGS.write_text(f"{head}{begin}\n{table}\n{end}{tail}", encoding="utf-8")
            print(f"updated {FINDINGS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
