"""What does grouping into findings cost the main job? (a script, not a test)

Times, as the median of several runs (``time.perf_counter``), what ``Gate.finish`` adds for
findings and the spike's answers on a real JSON report (by default the main job's,
``reports/aot-parity.json`` written by ``scripts/gate``): ``build_findings`` with the publish
warnings linked, and ``spike_answers``. Set beside the main job's pytest time (measured here
by running the main job ``--job-runs`` times, or given with ``--job-seconds``), the ratio is
the share grouping adds; the issue's bound is 5 %.

    .venv/bin/python benchmarks/bench_findings.py [--report PATH] [--warnings PATH]
        [--runs 20] [--job-runs 1 | --job-seconds S]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def group_once(records: list[dict[str, Any]], warnings_path: Path | None) -> float:
    from pytest_aotparity.report.answers import spike_answers
    from pytest_aotparity.report.findings import build_findings
    from pytest_aotparity.report.warnings import WarningLinker, load_warnings

    link = None
    if warnings_path is not None:
        linker = WarningLinker(load_warnings(warnings_path))

        def link(record: Any) -> Any:
            return linker.link(record).to_dict()

    started = time.perf_counter()
    findings = build_findings(records, link=link)
    spike_answers(findings, warnings=None, summary={}, tradeoffs={})
    return time.perf_counter() - started


def main_job_seconds(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "--aot-parity", "-q", "-p", "no:cacheprovider"],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "aot-parity.json")
    parser.add_argument(
        "--warnings", type=Path, default=REPO / "sample_app" / "out" / "aot-warnings.json"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--job-runs", type=int, default=1)
    parser.add_argument("--job-seconds", type=float, default=None)
    args = parser.parse_args()
    document = json.loads(args.report.read_text(encoding="utf-8"))
    records = document["divergences"]
    warnings = args.warnings if args.warnings.exists() else None
    times = [group_once(copy.deepcopy(records), warnings) for _ in range(args.runs)]
    grouping = statistics.median(times)
    job = args.job_seconds if args.job_seconds is not None else main_job_seconds(args.job_runs)
    print(f"records: {len(records)}; warnings linked: {'yes' if warnings else 'no'}")
    print(f"grouping (findings + answers), median of {args.runs}: {grouping * 1000:.1f} ms")
    print(f"main job pytest time: {job:.2f} s")
    print(f"grouping / main job: {grouping / job * 100:.2f} %  (bound: 5 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
