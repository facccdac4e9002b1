"""The generated tests' search and shrinking, against the fake orders app
(tests/fakeapps/orders.py): its aot flavour diverges only on quantities no boundary case of
the schema sends (quantities from 2 to 998), so only hypothesis' search can find it.

Runs are subprocesses, no hand-written test, only ``POST /orders`` selected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKEAPPS, fake_target

ORDERS = FAKEAPPS / "orders.py"
EXAMPLES = 30
ITEM = "aot-parity::POST /orders"


def orders_args(log: Path, *extra: str, report: Path | None = None) -> list[str]:
    args = [
        "--aot-parity",
        f"--aot-parity-jit={fake_target('jit', app=ORDERS)}",
        f"--aot-parity-aot={fake_target('aot', app=ORDERS)}",
        "--aot-parity-start-timeout=60",
        f"--aot-parity-examples={EXAMPLES}",
        f"--aot-parity-generate-log={log}",
        "-k",
        "POST",
        "-p",
        "no:cacheprovider",
    ]
    if report is not None:
        args.append(f"--aot-parity-report={report}")
    return [*args, *extra]


def rows(log: Path, phase: str | None = None) -> list[dict[str, Any]]:
    out = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert {row["item"] for row in out} == {ITEM}
    return [row for row in out if phase is None or row["phase"] == phase]


def test_the_search_goes_on_after_a_divergence_and_the_shrink_finds_the_smallest_request(
    gen_dir: pytest.Pytester,
) -> None:
    log = gen_dir.path / "generated.jsonl"
    report_path = gen_dir.path / "report.json"
    result = gen_dir.runpytest_subprocess(
        *orders_args(log, "--hypothesis-seed=20261202", report=report_path)
    )
    result.assert_outcomes(failed=1)

    # No boundary case shows it: the schema's edges are right in both flavours.
    boundary = rows(log, "boundary")
    assert boundary
    assert not any(row["diverged"] for row in boundary)

    # The search found it, and still sent the whole example budget: a divergence of a
    # kind already found is counted, not searched again (nor shrunk by redrawing it).
    search = rows(log, "search")
    diverged = [row for row in search if row["diverged"]]
    assert diverged, "the search never drew a quantity from 2 to 998"
    # (more than one: it went on past the first, which stopped the search before)
    assert len(diverged) > 1
    assert sum(not row["diverged"] for row in search) >= EXAMPLES - len(diverged)
    assert len(search) >= EXAMPLES
    for row in diverged:
        assert 2 <= json.loads(row["body"])["quantity"] <= 998

    # Then the shrink: variants of what the search found, each one sent.
    shrink = rows(log, "shrink")
    assert shrink
    assert all(row["path"] == "/orders" for row in shrink)

    # The reported request is the smallest that diverges: the optional note dropped, the
    # quantity down to 2, the item (1 to 40 characters) down to one character.
    report = json.loads(report_path.read_text(encoding="utf-8"))
    [record] = [r for r in report["divergences"] if r["nodeid"] == ITEM]
    body = json.loads(record["request"]["body"])
    assert set(body) == {"item", "quantity"}, body
    assert body["quantity"] == 2, body
    assert len(body["item"]) == 1, body
    assert (record["status"]["jit"], record["status"]["aot"]) == (201, 201)
    assert {d["path"] for d in record["differences"]} == {"$.quantity"}


def test_hypothesis_database_replays_the_divergence_first_on_the_next_run(
    gen_dir: pytest.Pytester,
) -> None:
    # Without --hypothesis-seed the plugin keeps what it reported in hypothesis' example
    # database (.hypothesis/ here) — under hypothesis' default profile: the "ci" profile,
    # which hypothesis loads by itself where CI is set, has no database.
    with_database = "--hypothesis-profile=default"
    first_log = gen_dir.path / "first.jsonl"
    report_path = gen_dir.path / "report.json"
    first = gen_dir.runpytest_subprocess(*orders_args(first_log, with_database, report=report_path))
    first.assert_outcomes(failed=1)
    assert not rows(first_log, "replay")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    [record] = [r for r in report["divergences"] if r["nodeid"] == ITEM]

    # The next run sends the reported (minimal) request before anything else.
    second_log = gen_dir.path / "second.jsonl"
    second = gen_dir.runpytest_subprocess(*orders_args(second_log, with_database))
    second.assert_outcomes(failed=1)
    replayed = rows(second_log)[0]
    assert replayed["phase"] == "replay"
    assert replayed["diverged"]
    assert replayed["body"] == record["request"]["body"]
    assert len(rows(second_log, "replay")) == 1
    assert "first 1 that diverged on an earlier run" in second.stdout.str()

    # Under --hypothesis-seed the seed alone decides what is sent: no replay.
    third_log = gen_dir.path / "third.jsonl"
    third = gen_dir.runpytest_subprocess(
        *orders_args(third_log, with_database, "--hypothesis-seed=7")
    )
    third.assert_outcomes(failed=1)
    assert not rows(third_log, "replay")
