"""How soon does a failed start end? Time to failure (and, for a whole run, to its report) for
each way a start fails, beside the start timeout it no longer waits out.

    .venv/bin/python benchmarks/bench_start.py [--rounds 3] [--images] [--timeout-case 10]

Each case starts a JIT and an AOT build with :func:`pytest_aotparity.targets.start_targets`
(the start timeout is the default 60 s, the grace the default) and times the call until it
raises; the best round counts, the median is shown too. ``run`` adds the same case as a whole
``pytest --aot-parity`` run that ends with the start error (pytest's own start-up included).

- process targets, the fake app of the test suite (``tests/fakeapps/broken.py``): the AOT
  build exits with a .NET-style unhandled exception; dies of SIGSEGV; answers 500 on its
  health path; both builds answer 404 there (a wrong health path);
- the timeout case: an AOT build that does not answer at all, with a start timeout of
  ``--timeout-case`` seconds (the only case that waits for it);
- ``--images``: the sample app's images (``bash sample_app/build.sh``): the AOT container
  exits (``ASPNETCORE_URLS=ftp://…``); answers 500 where the JIT build answers 200 (health
  path ``/players/starting11``); a wrong health path (``/nope``); no answer (container port
  9999).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_aotparity.targets import (  # noqa: E402
    DEFAULT_START_GRACE,
    StartFailedError,
    TargetOptions,
    parse_target,
    start_targets,
    stop_targets,
)

BROKEN = REPO / "tests" / "fakeapps" / "broken.py"
START_TIMEOUT = 60.0


def broken(mode: str, *extra: str) -> str:
    words = [sys.executable, str(BROKEN), "--mode", mode, "--port", "{port}", *extra]
    return "cmd:" + " ".join(w if w == "{port}" else shlex.quote(w) for w in words)


@dataclass
class Case:
    name: str
    jit: str
    aot: str
    timeout: float = START_TIMEOUT
    health: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    port: int = 8080
    kind: str = ""
    seconds: list[float] = field(default_factory=list)
    run_seconds: list[float] = field(default_factory=list)


def cases(images: bool, timeout_case: float) -> list[Case]:
    found = [
        Case("exits at start (unhandled exception)", broken("ok"), broken("exit")),
        Case("exits at start (SIGSEGV)", broken("ok"), broken("segv")),
        Case("500 on the health path", broken("ok"), broken("health500")),
        Case("health 404 on both builds", broken("health404"), broken("health404")),
        Case(
            "does not answer (timeout)",
            broken("ok"),
            broken("slow", "--delay", "600"),
            timeout=timeout_case,
        ),
    ]
    if images:
        jit, aot = "image:aotparity-sample:jit", "image:aotparity-sample:aot"
        found += [
            Case(
                "image: exits at start",
                aot,
                aot,
                env={"ASPNETCORE_URLS": "ftp://0.0.0.0:8080"},
            ),
            Case("image: 500 on the health path", jit, aot, health="/players/starting11"),
            Case("image: health 404 on both", jit, aot, health="/nope"),
            Case("image: does not answer (timeout)", jit, aot, port=9999, timeout=timeout_case),
        ]
    return found


def time_start(case: Case, state_dir: str) -> float:
    options = TargetOptions(
        state_dir=state_dir,
        start_timeout=case.timeout,
        health_path=case.health,
        env=case.env,
        container_port=case.port,
    )
    specs = [parse_target(case.jit, "jit"), parse_target(case.aot, "aot")]
    begin = time.perf_counter()
    try:
        targets = start_targets(specs, options)
    except StartFailedError as exc:
        elapsed = time.perf_counter() - begin
        case.kind = exc.failure.kind if exc.failure else "?"
        return elapsed
    stop_targets(targets.values())
    raise SystemExit(f"{case.name}: the start did not fail")


def time_run(case: Case, workdir: Path) -> float:
    (workdir / "test_one.py").write_text("def test_one():\n    pass\n")
    (workdir / "pytest.ini").write_text("[pytest]\n")
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--aot-parity",
        f"--aot-parity-jit={case.jit}",
        f"--aot-parity-aot={case.aot}",
        f"--aot-parity-start-timeout={case.timeout:g}",
        f"--aot-parity-health={case.health}",
        f"--aot-parity-port={case.port}",
        "--aot-parity-no-generate",
        f"--aot-parity-report={workdir / 'report.json'}",
        *(f"--aot-parity-env={key}={value}" for key, value in case.env.items()),
    ]
    report = workdir / "report.json"
    report.unlink(missing_ok=True)
    begin = time.perf_counter()
    done = subprocess.run(args, cwd=workdir, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - begin
    # A build's own failure is the verdict (exit 1, the report written); the settings' a
    # usage error (exit 4, no report).
    expected = 1 if case.kind in ("exited", "unhealthy") else 4
    if done.returncode != expected or (expected == 1) != report.exists():
        raise SystemExit(
            f"{case.name}: pytest exited {done.returncode} (report written: {report.exists()})"
            f"\n{done.stdout}{done.stderr}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", action="store_true", help="also the sample app's images")
    parser.add_argument("--timeout-case", type=float, default=10.0)
    parser.add_argument("--no-run", action="store_true", help="skip the whole-run column")
    args = parser.parse_args()
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    chosen = cases(args.images, args.timeout_case)
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        for case in chosen:
            for _ in range(args.rounds):
                case.seconds.append(time_start(case, tmp))
                if not args.no_run:
                    case.run_seconds.append(time_run(case, Path(tmp)))
    print(
        f"start timeout {START_TIMEOUT:g} s (the timeout case: {args.timeout_case:g} s), "
        f"grace {DEFAULT_START_GRACE:g} s, best of {args.rounds} (median)"
    )
    header = f"{'case':<40} {'judged':<12} {'start_targets':>16} {'pytest run':>16} {'timeout':>8}"
    print(header)
    print("-" * len(header))
    for case in chosen:
        start = f"{min(case.seconds):.2f} ({statistics.median(case.seconds):.2f}) s"
        run = (
            f"{min(case.run_seconds):.2f} ({statistics.median(case.run_seconds):.2f}) s"
            if case.run_seconds
            else "-"
        )
        print(f"{case.name:<40} {case.kind:<12} {start:>16} {run:>16} {case.timeout:>6g} s")


if __name__ == "__main__":
    main()
