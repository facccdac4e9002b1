"""Every divergence the fake aot flavour plants is caught, with the right category; noise is
cancelled by a noise instance (and reported without one); the failure output, the terminal
summary and the JSON report (validated against its schema) carry what a person needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_aotparity.report.json_report import load_schema
from tests.conftest import SUITE_CONFTEST, fake_target, parity_args

SECRET = "top-secret-token-1234"

PLANTED = f"""
import pytest

SEED_10 = "00000000-0000-0000-0000-00000000000a"


def test_list_drops_team(client):
    assert len(client.get("/players").json()) == 8


def test_single_read_drops_full_name(client):
    assert client.get("/players/10").json()["lastName"] == "Messi"


def test_by_id_position_type(client):
    assert client.get(f"/players/by-id/{{SEED_10}}").json()["position"] == "Right Winger"


def test_validator_bypassed(client, new_player):
    response = client.post("/players", json={{**new_player, "squadNumber": 100}})
    assert response.status_code == 400


def test_stats_500(client):
    assert client.get("/players/7/stats").json()["goals"] == 14


def test_summary_content_type(client):
    response = client.get(
        "/players/7/summary", headers={{"Authorization": "Bearer {SECRET}"}}
    )
    assert response.text.startswith("Rodrigo Javier De Paul")


@pytest.mark.aot_parity(ignore=["$.fullName"])
def test_update_league_not_saved(client):
    player = client.get("/players/4").json()
    fields = ("squadNumber", "firstName", "middleName", "lastName", "dateOfBirth",
              "positionCode", "team", "starting11")
    body = {{name: player[name] for name in fields}}
    body["position"] = body.pop("positionCode")
    body["league"] = "Serie A"
    assert client.put("/players/4", json=body).status_code == 204
    assert client.get("/players/4").json()["league"] == "Serie A"


@pytest.mark.aot_parity(ignore=["$.fullName"])
def test_only_noise(client):
    # requestId and servedAt differ on every read: the noise instance cancels them
    assert client.get("/players/1").status_code == 200


def test_create_ids_are_not_divergences(client, new_player):
    created = client.post("/players", json=new_player)
    assert created.status_code == 201
    assert client.delete("/players/77").status_code == 204
"""

EXPECTED: dict[str, tuple[str, set[str], set[str]]] = {
    # test: (category, kinds, generic paths)
    "test_list_drops_team": ("mapping lost data", {"null vs value"}, {"$[*].team"}),
    "test_single_read_drops_full_name": ("mapping lost data", {"missing field"}, {"$.fullName"}),
    "test_by_id_position_type": ("serialization differs", {"type change"}, {"$.position"}),
    "test_validator_bypassed": ("validator bypassed", {"status"}, {"status"}),
    "test_stats_500": ("AOT failure", {"status"}, {"status"}),
    "test_summary_content_type": ("behaviour differs", {"header"}, {"header:content-type"}),
    "test_update_league_not_saved": ("behaviour differs", {"value change"}, {"$.league"}),
}


@dataclass
class Run:
    """A finished pytest run in a subprocess."""

    stdout: str
    ret: int

    @property
    def lines(self) -> pytest.LineMatcher:
        return pytest.LineMatcher(self.stdout.splitlines())

    def outcomes(self) -> dict[str, int]:
        return pytest.RunResult.parse_summary_nouns(self.stdout.splitlines())


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, Any]]:
    """One run (slow: three apps) shared by the checks below; in a subprocess so it can be
    module-scoped."""
    root = tmp_path_factory.mktemp("planted")
    (root / "conftest.py").write_text(SUITE_CONFTEST.format(env="AOT_PARITY_BASE_URL"))
    (root / "test_suite.py").write_text(textwrap.dedent(PLANTED))
    (root / "pytest.ini").write_text("[pytest]\n")
    report = root / "out" / "parity.json"
    args = parity_args(
        aot=fake_target("aot", "--log-exceptions"),
        noise="auto",
        extra=(f"--aot-parity-report={report}", "-rA"),
    )
    env = {**os.environ, "COLUMNS": "300", "TESTCONTAINERS_RYUK_DISABLED": "true"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    run = Run(stdout=proc.stdout + proc.stderr, ret=proc.returncode)
    assert report.exists(), run.stdout
    return run, json.loads(report.read_text())


def test_every_planted_divergence_fails_its_test(
    planted_run: tuple[Run, dict[str, Any]],
) -> None:
    result, _ = planted_run
    assert result.outcomes() == {"failed": len(EXPECTED), "passed": 2}, result.stdout
    for name, (category, _, _) in EXPECTED.items():
        result.lines.fnmatch_lines([f"FAILED test_suite.py::{name} - ParityFailure: *{category}*"])
    result.lines.fnmatch_lines(
        [
            "PASSED test_suite.py::test_only_noise",
            "PASSED test_suite.py::test_create_ids_are_not_divergences",
        ],
        consecutive=False,
    )


def test_report_records_category_kind_and_path(
    planted_run: tuple[Run, dict[str, Any]],
) -> None:
    _, report = planted_run
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    by_test: dict[str, list[dict[str, Any]]] = {}
    for record in report["divergences"]:
        by_test.setdefault(record["nodeid"].split("::")[1], []).append(record)
    assert set(by_test) == set(EXPECTED)
    for name, (category, kinds, paths) in EXPECTED.items():
        (record,) = by_test[name]
        assert record["category"] == category, name
        found_kinds = {d["kind"] for d in record["differences"]}
        found_paths = {d["generic_path"] for d in record["differences"]}
        assert kinds <= found_kinds, (name, found_kinds)
        assert paths <= found_paths, (name, found_paths)
        assert record["origin"] == "suite"
        assert record["curl"]["jit"].startswith("curl")
    stats = by_test["test_stats_500"][0]
    assert stats["status"] == {"jit": 200, "aot": 500, "noise": 200}
    assert stats["path_template"] == "/players/{id}/stats"
    assert stats["method"] == "GET"
    bypass = by_test["test_validator_bypassed"][0]
    assert (bypass["status"]["jit"], bypass["status"]["aot"]) == (400, 201)
    league = by_test["test_update_league_not_saved"][0]
    (diff,) = [d for d in league["differences"] if d["path"] == "$.league"]
    assert (diff["jit"], diff["aot"]) == ("Serie A", "Premier League")
    summary = report["summary"]
    assert summary["divergences"] == len(EXPECTED)
    assert summary["noise_instance"] is True
    assert summary["noise_filtered"] > 0
    assert summary["requests_compared"] == 12
    assert summary["by_category"]["mapping lost data"] == 2
    assert {t["build"] for t in summary["targets"]} == {"jit", "aot", "noise"}
    assert all(t["base_url"].startswith("http://127.0.0.1:") for t in summary["targets"])
    assert all(t["ready_seconds"] > 0 for t in summary["targets"])


def test_noise_and_created_ids_are_never_reported(
    planted_run: tuple[Run, dict[str, Any]],
) -> None:
    result, report = planted_run
    diffs = [d for r in report["divergences"] for d in r["differences"]]
    assert not [d for d in diffs if "requestId" in d["path"] or "servedAt" in d["path"]]
    # generated ids differ on every create and read, in all three builds: never a difference
    assert not [d for d in diffs if d["path"].endswith(".id") and d["kind"] == "value change"]
    out = result.stdout
    assert "requestId" not in out
    assert "servedAt" not in out


def test_failure_output_curl_log_tail_and_redaction(
    planted_run: tuple[Run, dict[str, Any]],
) -> None:
    result, report = planted_run
    out = result.stdout
    assert SECRET not in out
    assert SECRET not in json.dumps(report)
    summary_failure = out.split("___ test_summary_content_type ___", 1)[1].split(" ___", 1)[0]
    assert "curl" in summary_failure
    assert "Authorization" in summary_failure or "authorization" in summary_failure
    stats_failure = out.split("___ test_stats_500 ___", 1)[1].split(" ___", 1)[0]
    assert "Reflection-based serialization has been disabled" in stats_failure
    assert stats_failure.count("curl") >= 2


def test_terminal_summary_lists_findings_first(
    planted_run: tuple[Run, dict[str, Any]],
) -> None:
    result, _ = planted_run
    result.lines.fnmatch_lines(
        [
            "*= aot-parity =*",
            "verdict: REJECT: *",
            "7 findings (2 critical, 3 major, 2 minor):",
            "F1 critical, AOT failure: GET /players/{id}/stats fails on the AOT build (500, "
            "System.InvalidOperationException: Reflection-based serialization *",
            "    seen on GET /players/{id}/stats (1 suite)",
        ]
    )
    result.lines.fnmatch_lines(
        [
            "F2 critical, validator bypassed: The AOT build accepts requests the JIT build "
            "rejects with 400 (POST /players)*",
            "    rules the JIT build applied: SquadNumber",
            # array elements collapsed by generic path, with a count and two examples
            "F3 major, mapping lost data: The AOT build loses team (sent as null) on GET /players",
            '    $[*].team  null vs value  ×8  e.g. "Aston Villa" → null, '
            '"Tottenham Hotspur" → null',
            "F4 major, mapping lost data: The AOT build loses fullName (sent as absent) on "
            "GET /players/{id}",
            '    $.fullName  missing field  ×1  e.g. "Lionel Andres Messi" → (absent)',
            "jit   cmd   http://127.0.0.1:*  ready in * s",
            "aot   cmd   http://127.0.0.1:*  ready in * s",
            "noise cmd   http://127.0.0.1:*  ready in * s",
            "compared * requests from 9 tests on the jit and aot builds; the noise instance "
            "filtered * differences as noise",
            "7 divergent responses in 7 tests, grouped into the findings above*",
            "*JSON report: */out/parity.json",
        ],
        consecutive=False,
    )


def test_without_a_noise_instance_noise_is_reported_unless_ignored(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import pytest


        def test_noise_reported(client):
            assert client.get("/players/1").status_code == 200


        @pytest.mark.aot_parity(ignore=["$.requestId", "$.servedAt"])
        def test_noise_ignored(client):
            assert client.get("/players/1").status_code == 200
        """
    )
    result = pytester.runpytest(*parity_args(aot=fake_target("jit")), "-rA")
    result.assert_outcomes(failed=1, passed=1)
    failure = result.stdout.str().split("___ test_noise_reported ___", 1)[1]
    assert "$.requestId" in failure
    assert "$.servedAt" in failure
    result.stdout.fnmatch_lines(["*(no noise instance: use --aot-parity-noise auto*"])
