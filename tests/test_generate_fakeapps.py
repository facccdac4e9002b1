"""Generated parity tests against the fake players apps (tests/fakeapps/players.py).

Every pytester run here has no hand-written test at all: whatever fails was found by the
tests the plugin generated from the jit app's OpenAPI document (FastAPI's /openapi.json).
Runs are subprocesses (``--hypothesis-seed`` sets hypothesis' global seed for the process).
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fake_target
from tests.fakeapps.players import SEED

EXAMPLES = "25"
SEEDED_SQUAD_NUMBERS = {player["squadNumber"] for player in SEED}
PASSING_HEALTH = "aot-parity::GET /health"
PASSING_DELETE = "aot-parity::DELETE /players/{squad_number}"
ALL_ITEMS = {
    "aot-parity::openapi-document",
    PASSING_HEALTH,
    "aot-parity::GET /players",
    "aot-parity::GET /players/by-id/{player_id}",
    "aot-parity::GET /players/{squad_number}",
    "aot-parity::GET /players/{squad_number}/stats",
    "aot-parity::GET /players/{squad_number}/summary",
    "aot-parity::POST /players",
    "aot-parity::PUT /players/{squad_number}",
    PASSING_DELETE,
    "aot-parity::stateful",
}
"""The generated tests of the fake app's document: its 9 operations and the two whole-run ones."""
REQUIRED = {"squadNumber", "firstName", "lastName", "dateOfBirth", "position"}


def gen_args(*extra: str, noise: bool = True, report: Path | None = None) -> list[str]:
    args = [
        "--aot-parity",
        f"--aot-parity-jit={fake_target('jit')}",
        f"--aot-parity-aot={fake_target('aot')}",
        "--aot-parity-start-timeout=60",
        f"--aot-parity-examples={EXAMPLES}",
        "-p",
        "no:cacheprovider",
    ]
    if noise:
        args.append("--aot-parity-noise=auto")
    if report is not None:
        args.append(f"--aot-parity-report={report}")
    args.extend(extra)
    return args


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def records_of(report: dict[str, Any], nodeid: str) -> list[dict[str, Any]]:
    return [r for r in report["divergences"] if r["nodeid"] == nodeid]


def assert_builds_stopped(report: dict[str, Any]) -> None:
    """Every build the run started is gone: nothing listens on their ports any more."""
    for target in report["summary"]["targets"]:
        url = urllib.parse.urlsplit(target["base_url"])
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection((url.hostname, url.port), 1),
        ):
            pass


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- collection ----------------------------------------------------------------------------


def test_collect_only_lists_one_item_per_operation_and_k_selects(
    gen_dir: pytest.Pytester,
) -> None:
    result = gen_dir.runpytest_subprocess(*gen_args("--collect-only", "-q", noise=False))
    result.assert_outcomes()
    assert set(result.outlines) >= ALL_ITEMS, result.stdout.str()
    assert "11 tests collected" in result.stdout.str()
    # reads first, deletes last, the stateful sequence at the end
    order = [line for line in result.outlines if line.startswith("aot-parity::")]
    assert order.index("aot-parity::GET /players") < order.index("aot-parity::POST /players")
    assert order[-2:] == ["aot-parity::DELETE /players/{squad_number}", "aot-parity::stateful"]

    selected = gen_dir.runpytest_subprocess(
        *gen_args("--collect-only", "-q", "-k", "POST or stats_players", noise=False)
    )
    chosen = [line for line in selected.outlines if line.startswith("aot-parity::")]
    # "POST" by method, "stats_players..." by operationId
    assert chosen == ["aot-parity::GET /players/{squad_number}/stats", "aot-parity::POST /players"]


def test_generation_switched_off_and_safe_only(gen_dir: pytest.Pytester) -> None:
    off = gen_dir.runpytest_subprocess(
        *gen_args("--collect-only", "-q", "--aot-parity-no-generate", noise=False)
    )
    assert not [line for line in off.outlines if "aot-parity::" in line]

    gen_dir.makeini("[pytest]\naot_parity_generate = false\n")
    ini_off = gen_dir.runpytest_subprocess(*gen_args("--collect-only", "-q", noise=False))
    assert not [line for line in ini_off.outlines if "aot-parity::" in line]

    gen_dir.makeini("[pytest]\naot_parity_safe_only = true\n")
    safe = gen_dir.runpytest_subprocess(*gen_args("--collect-only", "-q", noise=False))
    items = [line for line in safe.outlines if line.startswith("aot-parity::")]
    assert "aot-parity::GET /players" in items
    assert all(
        item == "aot-parity::openapi-document" or item.startswith("aot-parity::GET ")
        for item in items
    ), items
    assert "safe methods only" in safe.stdout.str()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--aot-parity-examples=0", "--aot-parity-examples (ini aot_parity_examples) = '0'"),
        ("--aot-parity-path-values=squadNumber", "PARAM=PATH:JSONPATH"),
        ("--aot-parity-openapi=missing.json", "neither a path on the app"),
        ("--aot-parity-openapi=http://x/openapi.json", "a URL"),
        ("--aot-parity-stateful-steps=-1", "not a whole number >= 0"),
    ],
)
def test_bad_generation_options_are_usage_errors(
    gen_dir: pytest.Pytester, option: str, message: str
) -> None:
    result = gen_dir.runpytest_subprocess(*gen_args(option, noise=False))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_a_missing_document_at_an_explicit_path_is_a_usage_error(
    gen_dir: pytest.Pytester,
) -> None:
    report = gen_dir.path / "r.json"
    result = gen_dir.runpytest_subprocess(
        *gen_args("--aot-parity-openapi=/swagger/v1/swagger.json", noise=False, report=report)
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "no OpenAPI document on the jit build at /swagger/v1/swagger.json (404)" in err
    assert "--aot-parity-no-generate" in err


# -- the planted divergences ---------------------------------------------------------------


def test_generated_tests_find_every_planted_divergence(gen_dir: pytest.Pytester) -> None:
    report_path = gen_dir.path / "report.json"
    log_path = gen_dir.path / "generated.jsonl"
    # A fixed seed: CI checks what the generator finds, the same way every time. Across seeds
    # the write-then-read divergence is found in most runs at 25 examples, not in all (each
    # sequence must create a player, then change its league, then read it back).
    result = gen_dir.runpytest_subprocess(
        *gen_args(
            "--hypothesis-seed=4",
            f"--aot-parity-generate-log={log_path}",
            report=report_path,
        )
    )
    out = result.stdout.str()
    report = load(report_path)
    assert_builds_stopped(report)

    # every item but GET /health and DELETE (no divergence there)
    failed = ALL_ITEMS - {PASSING_HEALTH, PASSING_DELETE}
    for nodeid in failed:
        assert f"FAILED {nodeid} - " in out, nodeid
    result.assert_outcomes(failed=len(failed), passed=2)  # GET /health, DELETE: no divergence
    assert {r["nodeid"] for r in report["divergences"]} == failed

    # The AOT document lacks /players/{squad_number}/summary (hidden under AOT); the server
    # URLs (different ports) are not a difference.
    [document] = records_of(report, "aot-parity::openapi-document")
    paths = {d["path"] for d in document["differences"]}
    assert paths == {"$.paths['/players/{squad_number}/summary']"}
    assert document["differences"][0]["kind"] == "missing field"
    assert document["category"] == "API description differs"
    assert "missing from the AOT build's document" in out

    # Findings: the validator bypassed on POST and PUT is one cause; the document is its own
    findings = report["findings"]
    [bypassed] = [f for f in findings if f["kind"] == "validator"]
    assert {e["endpoint"] for e in bypassed["endpoints"]} == {
        "POST /players",
        "PUT /players/{squad_number}",
    }
    [described] = [f for f in findings if f["kind"] == "document"]
    assert described["category"] == "API description differs"
    assert described["severity"] == "minor"
    # every divergence is a cause of some finding or a consequence under one
    covered = {d for f in findings for d in f["divergences"]} | {
        c["divergence"] for f in findings for c in f["consequences"]
    }
    assert covered == {r["id"] for r in report["divergences"]}

    [listing] = records_of(report, "aot-parity::GET /players")
    assert listing["category"] == "mapping lost data"
    assert {d["generic_path"] for d in listing["differences"]} == {"$[*].team"}

    [single] = records_of(report, "aot-parity::GET /players/{squad_number}")
    assert single["category"] == "mapping lost data"
    # requestId and servedAt are noise: cancelled by the noise instance, not reported
    assert {d["path"] for d in single["differences"]} == {"$.fullName"}
    assert single["noise_cancelled"] >= 2
    # a real player (harvested from GET /players), not a 404
    assert single["status"] == {"jit": 200, "aot": 200, "noise": 200}

    [by_id] = records_of(report, "aot-parity::GET /players/by-id/{player_id}")
    assert by_id["category"] == "serialization differs"
    assert {(d["path"], d["kind"]) for d in by_id["differences"]} == {("$.position", "type change")}

    [stats] = records_of(report, "aot-parity::GET /players/{squad_number}/stats")
    assert stats["category"] == "AOT failure"
    assert (stats["status"]["jit"], stats["status"]["aot"]) == (200, 500)

    [summary] = records_of(report, "aot-parity::GET /players/{squad_number}/summary")
    assert {d["path"] for d in summary["differences"]} == {"header:content-type"}

    # The validator bypass only an invalid request reveals, shrunk to a minimal request:
    # the squad number just out of range, and no optional member at all.
    [create] = records_of(report, "aot-parity::POST /players")
    assert create["category"] == "validator bypassed"
    assert (create["status"]["jit"], create["status"]["aot"]) == (400, 201)
    body = json.loads(create["request"]["body"])
    assert set(body) == REQUIRED, body
    assert body["squadNumber"] in (0, 100), body
    assert create["generation"]["mode"] == "negative"
    assert create["curl"]["aot"].startswith("curl ")

    [update] = records_of(report, "aot-parity::PUT /players/{squad_number}")
    assert update["category"] == "validator bypassed"
    assert (update["status"]["jit"], update["status"]["aot"]) == (400, 204)
    body = json.loads(update["request"]["body"])
    assert set(body) == REQUIRED, body
    assert body["squadNumber"] in (0, 100), body
    # addressed to a player that exists (a real value harvested from GET /players, which
    # ones depends on what the earlier generated tests left): the AOT build applied it
    assert int(update["path"].removeprefix("/players/")) in SEEDED_SQUAD_NUMBERS

    # The league update the AOT build drops, visible only on the read after the write:
    # the shortest sequence is create, update, read back.
    [stateful] = records_of(report, "aot-parity::stateful")
    assert stateful["origin"] == "stateful"
    assert stateful["method"] == "GET"
    assert "$.league" in {d["path"] for d in stateful["differences"]}
    sequence = stateful["generation"]["sequence"]
    # hypothesis' own minimal sequence still carries create/delete pairs it cannot drop
    # together; the plugin replays shorter candidates and reports the shortest that diverges
    assert [step["method"] for step in sequence] == ["POST", "PUT", "GET"], sequence
    assert "shortest sequence found (3 steps)" in out
    assert "shorter candidate sequences replayed" in out

    # The seed is printed with the failures, and the log has every generated pair.
    assert "rerun with --hypothesis-seed=" in out
    log = read_log(log_path)
    # (the document comparison is a fetch of each build's document, not a generated pair)
    assert {row["item"] for row in log} == ALL_ITEMS - {"aot-parity::openapi-document"}
    assert any(row["mode"] == "negative" for row in log)


def test_same_seed_same_requests_same_verdict(gen_dir: pytest.Pytester) -> None:
    runs = []
    for attempt in range(2):
        log_path = gen_dir.path / f"run{attempt}.jsonl"
        result = gen_dir.runpytest_subprocess(
            *gen_args(
                "--hypothesis-seed=20261122",
                f"--aot-parity-generate-log={log_path}",
                "-k",
                "by-id or POST",
                noise=False,
            )
        )
        outcomes = result.parseoutcomes()
        failed = sorted(line for line in result.outlines if line.startswith("FAILED "))
        sent = [(r["item"], r["method"], r["path"], r["body"]) for r in read_log(log_path)]
        verdicts = [(r["jit"], r["aot"], r["diverged"]) for r in read_log(log_path)]
        runs.append((sent, verdicts, failed, outcomes))
        assert "hypothesis seed 20261122" in result.stdout.str()
    (sent_a, verdicts_a, failed_a, outcomes_a), (sent_b, verdicts_b, failed_b, outcomes_b) = runs
    assert len(sent_a) > 50
    assert sent_a == sent_b
    assert verdicts_a == verdicts_b
    assert failed_a == failed_b
    assert outcomes_a == outcomes_b == {"failed": 2, "deselected": 9}


def test_path_values_rule_and_reset_hook(gen_dir: pytest.Pytester) -> None:
    calls = gen_dir.path / "resets.txt"
    gen_dir.makeconftest(
        f"""
import httpx

def pytest_aotparity_reset(targets, item):
    assert set(targets) >= {{"jit", "aot"}}
    for target in targets.values():
        assert httpx.get(target.base_url + "/health").status_code == 200
    with open({str(calls)!r}, "a") as f:
        f.write(item.name + "\\n")
"""
    )
    log_path = gen_dir.path / "generated.jsonl"
    result = gen_dir.runpytest_subprocess(
        *gen_args(
            "--aot-parity-path-values=squad_number=/players:$[1].squadNumber",
            f"--aot-parity-generate-log={log_path}",
            "--aot-parity-examples=10",
            "-k",
            "summary or health",
            noise=False,
        )
    )
    result.assert_outcomes(failed=1, passed=1)
    assert calls.read_text().splitlines() == ["GET /health", "GET /players/{squad_number}/summary"]
    out = result.stdout.str()
    assert "{squad_number}: real values from GET /players at $[1].squadNumber: 4" in out
    paths = [r["path"] for r in read_log(log_path) if r["item"].endswith("summary")]
    # the only real value is squad number 4 (the second player); the rest are generated
    assert "/players/4/summary" in paths
    assert not any(p in paths for p in ("/players/1/summary", "/players/7/summary"))


def test_a_boundary_divergence_is_reported_even_if_hypothesis_draws_nothing(
    gen_dir: pytest.Pytester,
) -> None:
    """The boundary cases run before hypothesis; what they find is reported even when
    hypothesis never draws one of their variants (here: a profile without the generate
    phase, so hypothesis draws nothing at all)."""
    gen_dir.makeconftest(
        """
        from hypothesis import Phase, settings

        settings.register_profile("no-generate", phases=[Phase.explicit])
        """
    )
    report_path = gen_dir.path / "report.json"
    result = gen_dir.runpytest_subprocess(
        *gen_args("--hypothesis-profile=no-generate", "-k", "POST", noise=False, report=report_path)
    )
    result.assert_outcomes(failed=1)
    [create] = records_of(load(report_path), "aot-parity::POST /players")
    assert create["category"] == "validator bypassed"
    assert (create["status"]["jit"], create["status"]["aot"]) == (400, 201)
