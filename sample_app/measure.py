"""Measure the sample apps' two builds side by side and write the figures into the findings page.

For each app (``--app``, default all: sample, fixed, mvc; see build.sh) and each build (JIT
and Native AOT), as medians over ``--runs`` runs (at least 5):

* publish time: ``dotnet publish`` from a clean bin/obj (restore done beforehand, not timed),
  with exactly the arguments build.sh uses;
* image size: as Docker reports it for ``aotparity-<app>:jit`` / ``:aot``;
* start to first healthy response: from the ``docker start`` call to the first 200 on /health,
  polled every 10 ms over loopback;
* resident memory after 1,000 requests: RSS of the app process (read through /proc of the
  container's main process on this host) after 1,000 keep-alive GETs mixed over /players,
  /players/{n} and /health.

A build that never becomes healthy (the MVC app's AOT build exits at start) gets no start or
memory figure; the table says so.

Usage (from the repo root, after ``bash sample_app/build.sh``)::

    .venv/bin/python sample_app/measure.py [--app sample|fixed|mvc] [--runs 5] [--skip-publish]

Writes ``measurements.json`` in each app's output folder (``sample_app/out/`` for the sample
app, ``sample_app/out/<app>/`` for the others) and replaces the block between the app's
markers in ``docs/sample-app-findings.md`` (``measure:begin``/``measure:end`` for the sample
app, ``measure:<app>:begin``/``measure:<app>:end`` for the others).
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
OUT = HERE / "out"
FINDINGS = REPO / "docs" / "sample-app-findings.md"
# app -> (project name, output folder, image repository, findings-page marker), as build.sh
APPS = {
    "sample": ("Players.Api", OUT, "aotparity-sample", "measure"),
    "fixed": ("Players.Fixed", OUT / "fixed", "aotparity-fixed", "measure:fixed"),
    "mvc": ("Players.Mvc", OUT / "mvc", "aotparity-mvc", "measure:mvc"),
}
PUBLISH_ARGS = {
    "jit": ["--self-contained", "false"],
    "aot": ["-p:PublishAot=true"],
}
REQUESTS = 1000


def publish_seconds(app: str, build: str, runs: int) -> list[float]:
    name, out, _, _ = APPS[app]
    project_dir = HERE / "src" / name
    project = project_dir / f"{name}.csproj"
    times = []
    for _ in range(runs):
        for sub in ("bin", "obj"):
            shutil.rmtree(project_dir / sub, ignore_errors=True)
        restore = ["dotnet", "restore", str(project), "-r", "linux-x64"]
        if build == "aot":
            restore.append("-p:PublishAot=true")
        subprocess.run(restore, check=True, capture_output=True)
        target = out / f"measure-{build}"
        shutil.rmtree(target, ignore_errors=True)
        cmd = [
            "dotnet",
            "publish",
            str(project),
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


def one_container_run(engine: docker.DockerClient, image: str) -> tuple[float, int] | None:
    """Seconds to the first healthy answer and RSS after the requests; None when the
    container exits before it is healthy."""
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
                container.reload()
                if container.status == "exited":
                    return None
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

    def cell(value: float | None, fmt: str, unit: str) -> str:
        return "n/a (exits at start)" if value is None else f"{fmt.format(value)} {unit}"

    def row(label: str, key: str, fmt: str, unit: str) -> str:
        j, a = jit.get(key), aot.get(key)
        ratio = f"{a / j:.2f}×" if j and a is not None else "n/a"
        return f"| {label} | {cell(j, fmt, unit)} | {cell(a, fmt, unit)} | {ratio} |"

    lines = [
        f"Measured {results['measured_at']} on {results['machine']} "
        f"(`.venv/bin/python sample_app/measure.py --app {results['app']} "
        f"--runs {results['runs']}`); medians of {results['runs']} runs.",
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
            f"ready {[None if x is None else round(x, 3) for x in r['ready_runs']]} s, "
            f"RSS {[None if x is None else round(x, 1) for x in r['rss_runs']]} MB"
            for b, r in results["builds"].items()
        ),
    ]
    return "\n".join(lines)


def measure_app(app: str, args: argparse.Namespace, engine: docker.DockerClient) -> None:
    _, out, repo, marker = APPS[app]
    previous: dict[str, Any] = {}
    store = out / "measurements.json"
    if store.exists():
        previous = json.loads(store.read_text())
    results: dict[str, Any] = {
        "app": app,
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, "
            f"{platform.system()} {platform.release()}"
        ),
        "runs": args.runs,
        "builds": {},
    }
    for build in ("jit", "aot"):
        image = f"{repo}:{build}"
        print(f"{app} {build}:", flush=True)
        entry: dict[str, Any] = {}
        if args.skip_publish:
            old = previous.get("builds", {}).get(build, {})
            entry["publish_runs"] = old.get("publish_runs", [])
            entry["publish_seconds"] = old.get("publish_seconds")
        else:
            entry["publish_runs"] = publish_seconds(app, build, args.runs)
            entry["publish_seconds"] = median(entry["publish_runs"])
        entry["image_mb"] = engine.images.get(image).attrs["Size"] / 1e6
        ready_runs: list[float | None] = []
        rss_runs: list[float | None] = []
        for _ in range(args.runs):
            run = one_container_run(engine, image)
            if run is None:
                ready_runs.append(None)
                rss_runs.append(None)
                print("  exited before it was healthy", flush=True)
                continue
            ready, rss = run
            ready_runs.append(ready)
            rss_runs.append(rss / 2**20)
            print(f"  ready {ready:.3f} s, RSS {rss / 2**20:.1f} MB", flush=True)
        healthy = [r for r in ready_runs if r is not None]
        entry.update(
            ready_runs=ready_runs,
            rss_runs=rss_runs,
            ready_seconds=median(healthy) if len(healthy) == args.runs else None,
            rss_mb=median([m for m in rss_runs if m is not None])
            if len(healthy) == args.runs
            else None,
        )
        results["builds"][build] = entry
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(results, indent=2) + "\n")

    table = render(results)
    print(table)
    if FINDINGS.exists():
        text = FINDINGS.read_text(encoding="utf-8")
        begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _, tail = rest.split(end, 1)
            FINDINGS.write_text(f"{head}{begin}\n{table}\n{end}{tail}", encoding="utf-8")
            print(f"updated {FINDINGS.relative_to(REPO)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--app",
        action="append",
        choices=sorted(APPS),
        help="measure this app (repeatable; default: every app)",
    )
    parser.add_argument(
        "--skip-publish",
        action="store_true",
        help="keep the publish figures of the last measurements.json",
    )
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5 (the figures are medians of at least 5 runs)")
    engine = docker.from_env()
    for app in args.app or list(APPS):
        measure_app(app, args, engine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
