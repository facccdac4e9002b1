"""The main job on the sample app's two real images: one finding per root cause.

Runs ``pytest --aot-parity`` at the repo root, as ``scripts/gate`` does (the root
pyproject.toml's targets, the sample app's httpx suite, the generated tests, the publish
warnings), with a fixed hypothesis seed, and checks the findings against the six root
causes of docs/sample-app-findings.md: none left ungrouped, none merged that the page keeps
apart, and test_player_lifecycle's 409 shown as a consequence of the bypassed validator.

Needs Docker and the images: scripts/test builds them first. Never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_aotparity.report.json_report import load_schema

REPO = Path(__file__).resolve().parents[1]
WARNINGS = REPO / "sample_app" / "out" / "aot-warnings.json"
SEED = "20261202"

pytestmark = pytest.mark.docker


def test_the_main_job_reports_one_finding_per_root_cause(tmp_path: Path) -> None:
    assert WARNINGS.exists(), "sample_app/out/aot-warnings.json is missing: run sample_app/build.sh"
    report_path = tmp_path / "report.json"
    env = {**os.environ, "TESTCONTAINERS_RYUK_DISABLED": "true"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--aot-parity",
            f"--aot-parity-report={report_path}",
            f"--aot-parity-warnings={WARNINGS}",
            f"--hypothesis-seed={SEED}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = run.stdout
    assert run.returncode == 1, out[-3000:] + run.stderr[-2000:]
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    assert report["verdict"]["decision"] == "reject"
    findings = report["findings"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_kind.setdefault(finding["kind"], []).append(finding)
    assert len(findings) == 6, [f["title"] for f in findings]

    # 1: the convention-mapped members, one finding across every player-returning endpoint
    [members] = by_kind["members"]
    names = {m["member"] for m in members["members"]}
    assert {"PlayerResponse.squadNumber", "PlayerResponse.team", "PlayerResponse.league"} <= names
    assert "PlayerResponse.positionName" not in names
    assert {e["endpoint"] for e in members["endpoints"]} >= {
        "GET /players",
        "GET /players/{squadNumber}",
        "GET /players/by-id/{id}",
    }
    assert members["fix"]["id"] == "reflection-mapping"
    # 2: positionName, looked up from position by the enumeration class
    [lookup] = by_kind["lookup"]
    assert [m["member"] for m in lookup["members"]] == ["PlayerResponse.positionName"]
    assert lookup["derived_from"] == "position"
    assert lookup["fix"]["id"] == "enumeration-lookup"
    assert lookup["warnings"][0]["code"] == "IL2090"
    # 3: the validator, bypassed; the request fields its rules cover, from the JIT's 400s
    [bypassed] = by_kind["validator"]
    assert "POST /players" in {e["endpoint"] for e in bypassed["endpoints"]}
    assert bypassed["category"] == "validator bypassed"
    assert bypassed["request_fields"]
    assert bypassed["fix"]["id"] == "explicit-validators"
    # test_player_lifecycle's 409 (squad number 77, stored by the bypassed validator) and
    # the read of the player only the JIT build created are consequences, not causes
    consequences = {
        (c["nodeid"].rsplit("::", 1)[-1], c["status"]["jit"], c["status"]["aot"])
        for c in bypassed["consequences"]
    }
    assert ("test_player_lifecycle", 201, 409) in consequences
    # 4 and 5: the collection mapping and the type missing from the JsonSerializerContext
    failures = {f["endpoints"][0]["endpoint"]: f for f in by_kind["aot-fails"]}
    assert set(failures) == {"GET /players/starting11", "GET /players/leagues"}
    starting = failures["GET /players/starting11"]
    assert starting["exception"]["type"] == "System.ArgumentOutOfRangeException"
    assert starting["fix"]["id"] == "reflection-mapping"
    leagues = failures["GET /players/leagues"]
    assert leagues["exception"]["type"] == "System.NotSupportedException"
    assert leagues["fix"]["id"] == "json-serializer-context"
    assert "IEnumerable<LeagueSummary>" in leagues["fix"]["summary"]
    assert leagues["warnings"] == []  # no publish warning names it (see the findings page)
    # 6: what the JIT build rejects as invalid reaches the AOT build's code (500, 404)
    [rejects] = by_kind["jit-rejects"]
    assert {e["endpoint"] for e in rejects["endpoints"]} <= {
        "POST /players",
        "PUT /players/{squadNumber}",
    }
    assert 500 in {
        r["status"]["aot"] for r in report["divergences"] if r["id"] in rejects["divergences"]
    }

    # nothing ungrouped
    covered = {d for f in findings for d in f["divergences"]} | {
        c["divergence"] for f in findings for c in f["consequences"]
    }
    assert covered == {r["id"] for r in report["divergences"]}
    # one name per endpoint: mirrored and generated requests by the document's operations
    endpoints = {row["endpoint"] for row in report["parity"]}
    assert "GET /players/{id}" not in endpoints
    assert "GET /players/{squadNumber}" in endpoints
    # the spike's questions, each answered with its evidence
    answers = {a["question"]: a["answer"] for a in report["answers"]}
    mappers = answers["Do the mappers and validators work at run time?"]
    assert "AutoMapper: mapping does not work on AOT" in mappers
    assert "FluentValidation: the validators did not run on AOT" in mappers
    warned = answers["Does the AOT publish succeed without blocking warnings?"]
    assert warned.startswith("126 trim/AOT warnings (IL3050 ×47, IL2070 ×22")
    assert f"predicted by no warning: {leagues['id']}" in warned
    # the terminal opens with the verdict, the answers and the findings
    section = out.split(" aot-parity ", 1)[1].splitlines()
    assert section[1].startswith("verdict: REJECT: ")
    assert section[2] == "the spike's questions:"
    assert "6 findings (4 critical, 2 major):" in section[3:8]
