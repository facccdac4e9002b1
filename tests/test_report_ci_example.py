"""The example CI workflow (docs/examples/aot-parity.yml) and the Markdown job summary it
writes with ``python -m pytest_aotparity.report.verdict``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_aotparity.report.verdict import main, markdown_summary

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "docs" / "examples" / "aot-parity.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = workflow["jobs"]["parity"]["steps"]
    return steps


def test_it_builds_both_images_with_the_official_dockerfiles(workflow: dict[str, Any]) -> None:
    scripts = "\n".join(str(step.get("run", "")) for step in _steps(workflow))
    assert re.search(r"docker build -f sample_app/Dockerfile -t \"\$JIT_IMAGE\"", scripts)
    assert "-f sample_app/Dockerfile.aot" in scripts
    assert "--progress=plain" in scripts
    assert 'tee "$REPORTS/aot-build.log"' in scripts
    for dockerfile in ("Dockerfile", "Dockerfile.aot"):
        assert (REPO / "sample_app" / dockerfile).is_file()
    assert "PublishAot=true" in (REPO / "sample_app" / "Dockerfile.aot").read_text()
    assert workflow["env"]["TESTCONTAINERS_RYUK_DISABLED"] == "true"


def test_it_runs_the_gate_with_the_baseline_and_keeps_the_reports(
    workflow: dict[str, Any], pytester: pytest.Pytester
) -> None:
    gate = next(step for step in _steps(workflow) if step.get("name") == "Run the parity gate")
    script = gate["run"]
    for flag in (
        "--aot-parity",
        "--aot-parity-jit",
        "--aot-parity-aot",
        "--aot-parity-noise",
        "--aot-parity-warnings",
        "--aot-parity-report",
        "--aot-parity-html",
        "--aot-parity-baseline",
        "--aot-parity-update-baseline",
        "--junitxml",
    ):
        assert re.search(rf"{re.escape(flag)}(?![\w-])", script), flag
    # every flag the workflow uses is one the plugin registers
    help_text = pytester.runpytest("--help").stdout.str()
    for flag in set(re.findall(r"--aot-parity[\w-]*", script)):
        assert re.search(rf"{re.escape(flag)}(?![\w-])", help_text), flag
    uploads = [step for step in _steps(workflow) if "upload-artifact" in str(step.get("uses"))]
    assert uploads
    assert uploads[0]["if"] == "always()"
    assert workflow[True]["workflow_dispatch"]["inputs"]["update_baseline"]["type"] == "boolean"
    summary = next(
        step for step in _steps(workflow) if step.get("name") == "Verdict in the job summary"
    )
    assert "python -m pytest_aotparity.report.verdict" in summary["run"]


DOCUMENT: dict[str, Any] = {
    "summary": {"requests_compared": 16},
    "verdict": {
        "decision": "reject",
        "reason": "1 new divergence where the AOT build fails requests the JIT build answers",
        "new_divergences": 1,
        "known_divergences": 2,
    },
    "tradeoffs": {
        "figures": [
            {
                "label": "image size",
                "unit": "bytes",
                "jit": 131_700_000,
                "aot": 32_500_000,
                "ratio": 0.2468,
            },
            {"label": "latency, median", "unit": "ms", "jit": 2.0, "aot": None, "ratio": None},
        ]
    },
    "parity": [
        {
            "endpoint": "GET /players/starting11",
            "compared": 1,
            "divergent": 1,
            "new": 1,
            "known": 0,
            "categories": {"AOT failure": 1},
        },
        {
            "endpoint": "GET /health",
            "compared": 3,
            "divergent": 0,
            "new": 0,
            "known": 0,
            "categories": {},
        },
    ],
    "baseline": {
        "fixed": [
            {
                "method": "GET",
                "path_template": "/players",
                "category": "mapping lost data",
                "key": "c65758f73d24bdfd",
            }
        ]
    },
}


def test_markdown_summary() -> None:
    text = markdown_summary(DOCUMENT)
    lines = text.splitlines()
    assert lines[0] == "## AOT verdict: REJECT"
    assert "16 requests compared; 1 new and 2 known divergences." in lines
    assert "| image size | 131.7 MB | 32.5 MB | 0.25x |" in lines
    assert "| latency, median | 2.00 ms | n/a |  |" in lines
    assert "| `GET /players/starting11` | 1 | 1 | 1 | 0 | AOT failure x1 |" in lines
    assert "| `GET /health` | 3 | 0 | 0 | 0 | alike |" in lines
    assert "- `GET /players` mapping lost data (key `c65758f73d24bdfd`)" in lines


def test_the_module_prints_it_for_a_report_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "aot-parity.json"
    report.write_text(json.dumps(DOCUMENT))
    assert main([str(report)]) == 0
    assert capsys.readouterr().out == markdown_summary(DOCUMENT)
    assert main([]) == 2
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read the JSON report" in capsys.readouterr().err
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_aotparity.report.verdict", str(report)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("## AOT verdict: REJECT")
