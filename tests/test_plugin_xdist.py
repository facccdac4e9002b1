"""pytest-xdist: every worker starts its own builds (the controller none), results reach the
controller's summary and JSON report, and every build is stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from pytest_aotparity.report.json_report import load_schema
from tests.conftest import parity_args, player_processes


def test_each_worker_runs_its_own_pair(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    players_suite(
        """
        import os

        import pytest


        @pytest.mark.parametrize("n", range(4))
        def test_create_and_read(client, new_player, aot_parity, n):
            # every worker has databases of its own: the same squad number never conflicts
            body = {**new_player, "squadNumber": 70 + n % 2}
            created = client.post("/players", json=body)
            assert created.status_code == 201
            assert client.delete(f"/players/{70 + n % 2}").status_code == 204
            assert os.environ["AOT_PARITY_BASE_URL"] == aot_parity.jit_url


        def test_diverges(client):
            assert client.get("/players/10").status_code == 200
        """
    )
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        *parity_args(extra=(f"--aot-parity-report={report}",)), "-n", "2", "-p", "xdist"
    )
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*aot-parity: each xdist worker starts its own jit and aot builds*",
            "*= aot-parity =*",
            "compared 9 requests from 5 tests on the jit and aot builds*",
            "1 divergent response in 1 test, grouped into the findings above*",
        ]
    )
    data = json.loads(report.read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    targets = data["summary"]["targets"]
    assert sorted((t["worker"], t["build"]) for t in targets) == [
        ("gw0", "aot"),
        ("gw0", "jit"),
        ("gw1", "aot"),
        ("gw1", "jit"),
    ]
    assert len({t["base_url"] for t in targets}) == 4
    (record,) = data["divergences"]
    assert record["nodeid"] == "test_suite.py::test_diverges"
    assert player_processes() == []
