"""The gate with a baseline, through real runs against the fake apps (pytester):

- ``--aot-parity-update-baseline`` accepts a run's divergences (exit 0) and writes them;
- a known divergence passes its test (reported as known, JUnit property), a new one fails
  (exit 1), also under pytest-xdist;
- an entry whose divergence no longer occurs is reported as fixed (exit 0) and removed by the
  next update; an entry whose endpoint was not exercised is left alone.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fake_target, parity_args, player_processes

SEED_10 = "00000000-0000-0000-0000-00000000000a"

SUITE = """
def test_list(client):
    assert len(client.get("/players").json()) == 8


def test_single(client):
    assert client.get("/players/10").json()["lastName"] == "Messi"


def test_validator(client, new_player):
    client.post("/players", json={**new_player, "squadNumber": 100})


def test_health(client):
    assert client.get("/health").status_code == 200
"""

NEW_TEST = f"""

def test_by_id(client):
    assert client.get("/players/by-id/{SEED_10}").status_code == 200
"""


def run(
    pytester: pytest.Pytester,
    baseline: Path,
    *extra: str,
    aot: str | None = None,
    subprocess: bool = False,
) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    report.unlink(missing_ok=True)
    args = parity_args(
        aot=aot,
        noise="auto",
        extra=(
            "--aot-parity-no-generate",
            f"--aot-parity-baseline={baseline}",
            f"--aot-parity-report={report}",
            *extra,
        ),
    )
    result = pytester.runpytest_subprocess(*args) if subprocess else pytester.runpytest(*args)
    assert player_processes() == [], "the run left fake apps running"
    return result, json.loads(report.read_text())


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {str(r["nodeid"]).split("::")[-1]: r["baseline"] for r in document["divergences"]}


def test_update_accepts_the_runs_divergences(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(SUITE)
    baseline = pytester.path / "ci" / "aotparity-baseline.json"
    result, document = run(pytester, baseline, "--aot-parity-update-baseline")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=4)
    assert statuses(document) == {
        "test_list": "accepted",
        "test_single": "accepted",
        "test_validator": "accepted",
    }
    assert document["baseline"]["updated"] is True
    assert document["verdict"]["decision"] == "proceed"
    result.stdout.fnmatch_lines(
        [
            "*baseline *aotparity-baseline.json: 0 entries; 0 known divergences*, "
            "3 accepted into the baseline by this run",
            "*baseline rewritten: 3 entries added, 0 removed as fixed, 0 kept as not exercised",
        ]
    )
    written = json.loads(baseline.read_text())
    entries = {(e["method"], e["path_template"], e["category"]) for e in written["entries"]}
    assert entries == {
        ("GET", "/players", "mapping lost data"),
        ("GET", "/players/{id}", "mapping lost data"),
        ("POST", "/players", "validator bypassed"),
    }
    single = next(e for e in written["entries"] if e["path_template"] == "/players/{id}")
    assert single["differences"] == [{"path": "$.fullName", "kind": "missing field"}]
    assert single["example"] == {"path": "/players/10", "test": "test_suite.py::test_single"}


def _accepted_baseline(pytester: pytest.Pytester, players_suite: Callable[..., Path]) -> Path:
    players_suite(SUITE)
    baseline = pytester.path / "aotparity-baseline.json"
    result, _ = run(pytester, baseline, "--aot-parity-update-baseline")
    assert result.ret == pytest.ExitCode.OK
    data = json.loads(baseline.read_text())
    for entry in data["entries"]:
        entry["reason"] = f"accepted: {entry['category']}"
    baseline.write_text(json.dumps(data, indent=2))
    return baseline


def test_known_divergences_pass_and_a_new_one_fails_under_xdist(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    baseline = _accepted_baseline(pytester, players_suite)
    players_suite(SUITE + NEW_TEST)
    junit = pytester.path / "junit.xml"
    result, document = run(
        pytester, baseline, "-n", "2", "-p", "xdist", f"--junitxml={junit}", subprocess=True
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=4, failed=1)
    assert statuses(document) == {
        "test_list": "known",
        "test_single": "known",
        "test_validator": "known",
        "test_by_id": "new",
    }
    assert document["verdict"]["decision"] == "defer"
    assert "1 new divergence (serialization differs x1)" in document["verdict"]["reason"]
    section = document["baseline"]
    assert section["divergences"] == {"known": 3, "new": 1}
    assert [k["path_template"] for k in section["new"]] == ["/players/by-id/{id}"]
    assert section["fixed"] == []
    result.stdout.fnmatch_lines(
        [
            "*verdict: DEFER: 1 new divergence*",
            "*baseline *: 3 entries; 3 known divergences (accepted, not failing), 1 new (failing)",
            "*new: GET /players/by-id/{id} [[]serialization differs] $.position (type change)*",
        ]
    )
    # the failure names only the new divergence
    result.stdout.fnmatch_lines(["*FAILED*test_by_id*"])
    assert "test_list - ParityFailure" not in result.stdout.str()
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    known = [(p.get("name"), p.get("value")) for p in cases["test_single"].iter("property")]
    assert cases["test_single"].find("failure") is None
    assert ("aot_parity.known", "1") in known
    assert ("aot_parity.divergences", "0") in known
    assert any(
        n == "aot_parity.divergence"
        and v.startswith("known | mapping lost data | GET /players/{id}")
        for n, v in known
    )
    new = [(p.get("name"), p.get("value")) for p in cases["test_by_id"].iter("property")]
    assert cases["test_by_id"].find("failure") is not None
    assert ("aot_parity.divergences", "1") in new
    assert ("aot_parity.category", "serialization differs") in new


def test_fixed_entries_are_reported_and_removed_by_the_next_update(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    baseline = _accepted_baseline(pytester, players_suite)
    # the AOT build got fixed: it now answers like the JIT build
    fixed_aot = fake_target("jit")
    result, document = run(pytester, baseline, aot=fixed_aot)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=4)
    assert document["divergences"] == []
    assert document["verdict"]["decision"] == "proceed"
    fixed = document["baseline"]["fixed"]
    assert {(e["method"], e["path_template"]) for e in fixed} == {
        ("GET", "/players"),
        ("GET", "/players/{id}"),
        ("POST", "/players"),
    }
    assert {e["reason"] for e in fixed} == {
        "accepted: mapping lost data",
        "accepted: validator bypassed",
    }
    result.stdout.fnmatch_lines(
        ["*no longer occurs: GET /players/{id} [[]mapping lost data] $.fullName (missing field)*"]
    )
    assert len(json.loads(baseline.read_text())["entries"]) == 3  # reported, not rewritten

    # only part of the suite: entries of endpoints that got no request are not "fixed"
    result, document = run(pytester, baseline, "-k", "test_list", aot=fixed_aot)
    assert result.ret == pytest.ExitCode.OK
    assert [e["path_template"] for e in document["baseline"]["fixed"]] == ["/players"]
    not_exercised = {
        (e["method"], e["path_template"]) for e in document["baseline"]["not_exercised"]
    }
    assert not_exercised == {("GET", "/players/{id}"), ("POST", "/players")}
    result.stdout.fnmatch_lines(["*2 entries not exercised (no request to their endpoint*"])

    # the update removes what was fixed and keeps what was not exercised
    result, document = run(
        pytester, baseline, "-k", "test_list", "--aot-parity-update-baseline", aot=fixed_aot
    )
    assert result.ret == pytest.ExitCode.OK
    left = {(e["method"], e["path_template"]) for e in json.loads(baseline.read_text())["entries"]}
    assert left == {("GET", "/players/{id}"), ("POST", "/players")}
