"""Reports from a real run against the sample app's two images (``aotparity-sample:jit`` and
``:aot``, built by sample_app/build.sh): the JSON report validates, the trade-offs are
plausible (positive; the AOT image is smaller), the publish warnings of the real AOT publish
log are linked to the real divergences, and the HTML page shows every divergence in Chromium.

Needs Docker and the images: scripts/test builds them first. Never skipped.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_aotparity.report.json_report import load_schema
from tests.conftest import SAMPLE_IMAGES
from tests.test_report_html import check_report_page, open_report

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "sample_app" / "tests"
PUBLISH_LOG = REPO / "sample_app" / "out" / "aot-publish.log"

pytestmark = pytest.mark.docker


def test_sample_app_reports(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    assert PUBLISH_LOG.exists(), (
        "sample_app/out/aot-publish.log is missing: run sample_app/build.sh"
    )
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    for source in SUITE.glob("*.py"):
        shutil.copy(source, pytester.path / source.name)
    pytester.makeini(
        """
        [pytest]
        aot_parity_base_url_env = PLAYERS_API_URL
        """
    )
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "-p",
        "aotparity",
        "--aot-parity",
        *SAMPLE_IMAGES,
        "--aot-parity-no-generate",
        f"--aot-parity-report={out / 'report.json'}",
        f"--aot-parity-html={out / 'report.html'}",
        f"--aot-parity-warnings={PUBLISH_LOG}",
        f"--junitxml={out / 'junit.xml'}",
        timeout=600,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    document: dict[str, Any] = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(document)

    # the verdict: the AOT build fails /players/starting11 and bypasses the validator
    verdict = document["verdict"]
    assert verdict["decision"] == "reject"
    assert "AOT failure x1" in verdict["reason"]
    assert "validator bypassed x1" in verdict["reason"]

    # trade-offs: every figure measured on both builds, positive; Native AOT's image is smaller
    figures = {f["figure"]: f for f in document["tradeoffs"]["figures"]}
    for figure in figures.values():
        assert figure["jit"] > 0, figure
        assert figure["aot"] > 0, figure
    size = figures["artifact_size_bytes"]
    assert size["label"] == "image size"
    assert size["aot"] < size["jit"]
    assert size["ratio"] < 1
    assert figures["latency_p95_ms"]["aot"] >= figures["latency_median_ms"]["aot"]
    result.stdout.fnmatch_lines(["*image size*MB*MB*x"])

    # the real publish warnings, linked to the real divergences
    warnings = document["warnings"]
    assert warnings["format"] == "publish log"
    assert warnings["count"] == 126
    by_category: dict[str, list[dict[str, Any]]] = {}
    for record in document["divergences"]:
        by_category.setdefault(record["category"], []).append(record)
    (bypass,) = by_category["validator bypassed"]
    bypass_types = {link["type"] for link in bypass["warnings"]["links"]}
    assert bypass_types == {
        "FluentValidation.AssemblyScanner",
        "FluentValidation.ServiceCollectionExtensions",
    }
    (failure,) = by_category["AOT failure"]
    assert failure["path"] == "/players/starting11"
    assert failure["aot_log_tail"], "the AOT build's log tail of the 500 is in the record"
    best = failure["warnings"]["links"][0]
    assert best["type"] == "AutoMapper.Internal.Mappers.CollectionMapper"
    assert any("the AOT build's log passes through" in r for r in best["reasons"])
    lost = by_category["mapping lost data"][0]
    assert any(
        "reflection over properties or fields" in r
        for link in lost["warnings"]["links"]
        for r in link["reasons"]
    )

    # JUnit XML: the divergences on the failing tests
    cases = {c.get("name"): c for c in ET.parse(out / "junit.xml").iter("testcase")}
    starting = [
        (p.get("name"), p.get("value")) for p in cases["test_starting_eleven"].iter("property")
    ]
    assert ("aot_parity.category", "AOT failure") in starting

    # the HTML page in Chromium
    with open_report(out / "report.html") as opened:
        check_report_page(opened, document)
        body = opened.page.locator("body").inner_text()
        assert "REJECT" in body
        assert "image size" in body
        assert (
            "CollectionMapper"
            in opened.page.locator(f"#d{document['divergences'].index(failure) + 1}").inner_text()
        )
