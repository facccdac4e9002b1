"""The baseline file and its keys: stable across runs (no values, ids or test names),
changing when the divergence changes; reading, writing, reconciling and updating."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.report.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    BaselineKey,
    classify,
    key_of_record,
    load_baseline,
    reconcile,
    updated_baseline,
    write_baseline,
)


def record(
    *,
    method: str = "GET",
    path: str = "/players/10",
    template: str = "/players/{id}",
    category: str = "mapping lost data",
    differences: list[tuple[str, str, Any, Any]] | None = None,
    nodeid: str = "test_suite.py::test_read",
    baseline: str | None = None,
) -> dict[str, Any]:
    diffs = differences or [("$.fullName", "missing field", "Lionel Messi", None)]
    out: dict[str, Any] = {
        "nodeid": nodeid,
        "method": method,
        "path": path,
        "path_template": template,
        "category": category,
        "differences": [
            {
                "path": p,
                "generic_path": p.replace("[3]", "[*]").replace("[0]", "[*]"),
                "kind": k,
                "jit": j,
                "aot": a,
            }
            for p, k, j, a in diffs
        ],
    }
    if baseline is not None:
        out["baseline"] = baseline
    return out


def test_key_ignores_values_ids_indices_and_test_names() -> None:
    a = record(
        path="/players/10",
        differences=[("$.items[3].team", "null vs value", "Inter Miami", None)],
        nodeid="test_a.py::test_one",
    )
    b = record(
        method="get",
        path="/players/23?expand=1",
        differences=[("$.items[0].team", "null vs value", "Ajax", None)],
        nodeid="test_b.py::test_other[param]",
    )
    assert key_of_record(a) == key_of_record(b)
    assert key_of_record(a).digest == key_of_record(b).digest
    assert len(key_of_record(a).digest) == 16


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"template": "/players/{id}/stats"},
        {"category": "serialization differs"},
        {"differences": [("$.fullName", "null vs value", "x", None)]},
        {"differences": [("$.firstName", "missing field", "x", None)]},
        {
            "differences": [
                ("$.fullName", "missing field", "x", None),
                ("$.team", "null vs value", "y", None),
            ]
        },
    ],
)
def test_key_changes_with_the_divergence(change: dict[str, Any]) -> None:
    assert key_of_record(record()) != key_of_record(record(**change))


def test_key_is_a_set_of_differences() -> None:
    one = record(differences=[("$.a", "missing field", 1, None), ("$.b", "value change", 1, 2)])
    two = record(
        differences=[
            ("$.b", "value change", 5, 6),
            ("$.a", "missing field", 3, None),
            ("$.a", "missing field", 3, None),
        ]
    )
    assert key_of_record(one) == key_of_record(two)
    assert "$.a (missing field)" in key_of_record(one).describe()


def test_write_and_load_round_trip_keeps_reasons(tmp_path: Path) -> None:
    key = key_of_record(record())
    baseline = Baseline()
    baseline.add(
        BaselineEntry(
            key=key,
            reason="AutoMapper drops FullName; fix tracked in #12",
            example={"path": "/players/10"},
            added="2026-01-01T00:00:00+00:00",
        )
    )
    path = tmp_path / "sub" / "baseline.json"
    write_baseline(path, baseline)
    data = json.loads(path.read_text())
    assert data["version"] == 1
    entry = data["entries"][0]
    assert entry["key"] == key.digest
    assert entry["differences"] == [{"path": "$.fullName", "kind": "missing field"}]
    loaded = load_baseline(path)
    assert key in loaded
    assert loaded.entries[key.digest].reason.startswith("AutoMapper drops")
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary file left


def test_a_hand_edited_entry_is_keyed_by_its_parts(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "entries": [
                    {
                        "key": "0000000000000000",
                        "method": "get",
                        "path_template": "/players/{id}",
                        "category": "mapping lost data",
                        "differences": [["$.fullName", "missing field"]],
                    }
                ],
            }
        )
    )
    assert key_of_record(record()) in load_baseline(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("nope", "not valid JSON"),
        ("[]", "'entries' list"),
        ('{"version": 2, "entries": []}', "version 2"),
        ('{"entries": [{"method": "GET"}]}', "lacks path_template, category, differences"),
        (
            '{"entries": [{"method": "GET", "path_template": "/", "category": "x", '
            '"differences": [{"path": "$"}]}]}',
            "not {path, kind}",
        ),
    ],
)
def test_bad_baseline_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=match):
        load_baseline(path)


def test_missing_file_is_an_error_unless_it_is_about_to_be_written(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="--aot-parity-update-baseline"):
        load_baseline(tmp_path / "missing.json")
    assert len(load_baseline(tmp_path / "missing.json", missing_ok=True)) == 0


def test_classify() -> None:
    key = key_of_record(record())
    baseline = Baseline()
    baseline.add(BaselineEntry(key=key))
    assert classify(key, baseline, updating=False) == "known"
    other = key_of_record(record(category="serialization differs"))
    assert classify(other, baseline, updating=False) == "new"
    assert classify(other, baseline, updating=True) == "accepted"
    assert classify(other, None, updating=False) == "new"


def _baseline(*records: dict[str, Any]) -> Baseline:
    out = Baseline()
    for r in records:
        out.add(BaselineEntry(key=key_of_record(r), reason=f"reason {r['path']}"))
    return out


KNOWN = record()
FIXED = record(
    method="PUT",
    path="/players/4",
    template="/players/{id}",
    category="behaviour differs",
    differences=[("$.league", "value change", "a", "b")],
)
UNEXERCISED = record(
    path="/players/7/stats",
    template="/players/{id}/stats",
    category="AOT failure",
    differences=[("status", "status", 200, 500)],
)
NEW = record(
    method="POST",
    path="/players",
    template="/players",
    category="validator bypassed",
    differences=[("status", "status", 400, 201)],
)


def test_reconcile_known_new_fixed_and_not_exercised() -> None:
    baseline = _baseline(KNOWN, FIXED, UNEXERCISED)
    run = [dict(KNOWN, baseline="known"), dict(KNOWN, baseline="known"), dict(NEW, baseline="new")]
    outcome = reconcile(
        baseline,
        run,
        {"GET /players/{id}", "PUT /players/{id}", "POST /players"},
        path="b.json",
        updating=False,
    )
    assert outcome.counts == {"known": 2, "new": 1}
    assert outcome.known == [key_of_record(KNOWN).digest]
    assert outcome.new == [key_of_record(NEW)]
    assert [e.key for e in outcome.fixed] == [key_of_record(FIXED)]
    assert [e.key for e in outcome.not_exercised] == [key_of_record(UNEXERCISED)]
    lines = outcome.render_lines()
    assert lines[0].startswith("baseline b.json: 3 entries; 2 known divergences")
    assert any(line.startswith("  new: POST /players [validator bypassed]") for line in lines)
    assert any("no longer occurs: PUT /players/{id} [behaviour differs]" in line for line in lines)
    assert any("1 entry not exercised" in line for line in lines)
    data = outcome.to_dict()
    assert data["fixed"][0]["reason"] == "reason /players/4"
    assert data["divergences"] == {"known": 2, "new": 1}


def test_updated_baseline_adds_new_drops_fixed_keeps_unexercised_and_reasons() -> None:
    baseline = _baseline(KNOWN, FIXED, UNEXERCISED)
    run = [dict(KNOWN, baseline="known"), dict(NEW, baseline="accepted")]
    outcome = reconcile(
        baseline,
        run,
        {"GET /players/{id}", "PUT /players/{id}", "POST /players"},
        path="b.json",
        updating=True,
    )
    assert outcome.accepted == [key_of_record(NEW)]
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    updated = updated_baseline(baseline, run, outcome, path=Path("b.json"), now=now)
    keys = set(updated.entries)
    assert keys == {
        key_of_record(KNOWN).digest,
        key_of_record(NEW).digest,
        key_of_record(UNEXERCISED).digest,
    }
    assert updated.entries[key_of_record(KNOWN).digest].reason == "reason /players/10"
    added = updated.entries[key_of_record(NEW).digest]
    assert added.added == "2026-01-02T00:00:00+00:00"
    assert added.example == {"path": "/players", "test": "test_suite.py::test_read"}
    assert added.reason == ""


def test_baseline_key_of_normalises() -> None:
    key = BaselineKey.of("get", "/a/{id}?x=1", "c", [("$.b", "k"), ("$.a", "k")])
    assert key.method == "GET"
    assert key.path_template == "/a/{id}"
    assert key.differences == (("$.a", "k"), ("$.b", "k"))
    assert key.endpoint == "GET /a/{id}"
