"""Reports from a real run against the fake players apps (``cmd:`` targets, via pytester):
the JSON report validates against its schema, the HTML page shows every divergence in
Chromium, the trade-offs exist for both builds, the publish warnings are linked, the JUnit
XML carries the divergences and the terminal summary the verdict."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_aotparity.report.json_report import load_schema
from tests.conftest import fake_target, parity_args, player_processes
from tests.test_report_html import check_report_page, open_report

SEED_10 = "00000000-0000-0000-0000-00000000000a"

SUITE = f"""
def test_list(client):
    assert len(client.get("/players").json()) == 8


def test_single(client):
    assert client.get("/players/10").json()["lastName"] == "Messi"


def test_by_id(client):
    assert client.get("/players/by-id/{SEED_10}").status_code == 200


def test_validator(client, new_player):
    assert client.post("/players", json={{**new_player, "squadNumber": 100}}).status_code == 400


def test_stats(client):
    client.get("/players/7/stats")


def test_summary(client):
    assert client.get("/players/7/summary").status_code == 200


def test_health(client):
    assert client.get("/health").status_code == 200
"""

# What a `dotnet publish -p:PublishAot=true` of the real app behind the fake would print.
PUBLISH_LOG = """\
  Players.Api -> /src/Players.Api/bin/Release/net10.0/linux-x64/Players.Api.dll
  Generating native code
ILC : Trim analysis warning IL2026: System.Text.Json.JsonSerializer.Serialize<TValue>(TValue,JsonSerializerOptions): Using member 'System.Text.Json.JsonSerializer.GetTypeInfo(JsonSerializerOptions,Type)' which has 'RequiresUnreferencedCodeAttribute' can break functionality when trimming application code. [/src/Players.Api/Players.Api.csproj]
ILC : Trim analysis warning IL2026: FluentValidation.AssemblyScanner.FindValidatorsInAssembly(Assembly,Boolean): Using member 'System.Reflection.Assembly.GetTypes()' which has 'RequiresUnreferencedCodeAttribute' can break functionality when trimming application code. Types might be removed. [/src/Players.Api/Players.Api.csproj]
ILC : Trim analysis warning IL2070: AutoMapper.Internal.TypeDetails.<>c__DisplayClass29_0.<GetProperties>b__0(Type): 'this' argument does not satisfy 'DynamicallyAccessedMemberTypes.PublicProperties' in call to 'System.Type.GetProperties(BindingFlags)'. [/src/Players.Api/Players.Api.csproj]
/src/Players.Api/Dtos/PlayerResponse.cs(31,16): warning IL2026: Using member 'Players.Api.Dtos.PlayerResponse.get_FullName()' which has 'RequiresUnreferencedCodeAttribute' can break functionality when trimming application code. [/src/Players.Api/Players.Api.csproj]
"""  # noqa: E501  (real publish log lines are long)

EXPECTED = {
    # test: (category, verdict status)
    "test_list": "mapping lost data",
    "test_single": "mapping lost data",
    "test_by_id": "serialization differs",
    "test_validator": "validator bypassed",
    "test_stats": "AOT failure",
    "test_summary": "behaviour differs",
}


def _records_by_test(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(r["nodeid"]).split("::")[-1]: r for r in document["divergences"]}


def fake_run(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> tuple[pytest.RunResult, dict[str, Any], Path]:
    players_suite(SUITE)
    out = pytester.path / "out"
    warnings = pytester.path / "aot-publish.log"
    warnings.write_text(PUBLISH_LOG)
    result = pytester.runpytest(
        *parity_args(
            aot=fake_target("aot", "--log-exceptions"),
            noise="auto",
            extra=(
                "--aot-parity-no-generate",
                f"--aot-parity-report={out / 'report.json'}",
                f"--aot-parity-html={out / 'report.html'}",
                f"--aot-parity-warnings={warnings}",
                f"--junitxml={out / 'junit.xml'}",
            ),
        )
    )
    assert player_processes() == [], "the run left fake apps running"
    document = json.loads((out / "report.json").read_text())
    return result, document, out


def check_json_report_validates_and_carries_the_verdict_sections(
    fake_run: tuple[pytest.RunResult, dict[str, Any], Path],
) -> None:
    result, document, _ = fake_run
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=len(EXPECTED), passed=1)
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    by_test = _records_by_test(document)
    assert {name: r["category"] for name, r in by_test.items()} == EXPECTED
    assert {r["baseline"] for r in by_test.values()} == {"new"}
    assert all(r["known"] is False for r in by_test.values())
    verdict = document["verdict"]
    assert verdict["decision"] == "reject"
    assert "AOT failure x1" in verdict["reason"]
    assert "validator bypassed x1" in verdict["reason"]
    assert verdict["new_divergences"] == len(EXPECTED)
    parity = {row["endpoint"]: row for row in document["parity"]}
    assert parity["GET /health"]["compared"] >= 1
    assert parity["GET /health"]["divergent"] == 0
    assert parity["POST /players"]["categories"] == {"validator bypassed": 1}
    # both answers travel with the record for the side-by-side view
    single = by_test["test_single"]
    assert json.loads(single["responses"]["jit"]["body"])["fullName"]
    assert "fullName" not in json.loads(single["responses"]["aot"]["body"])
    stats = by_test["test_stats"]
    assert any("Reflection-based serialization" in line for line in stats["aot_log_tail"])
    assert by_test["test_list"]["aot_log_tail"] is None  # a 200 needs no log


def check_tradeoffs_exist_for_both_builds_and_are_plausible(
    fake_run: tuple[pytest.RunResult, dict[str, Any], Path],
) -> None:
    _, document, _ = fake_run
    tradeoffs = document["tradeoffs"]
    figures = {f["figure"]: f for f in tradeoffs["figures"]}
    assert set(figures) == {
        "artifact_size_bytes",
        "ready_seconds",
        "rss_start_bytes",
        "rss_end_bytes",
        "latency_median_ms",
        "latency_p95_ms",
    }
    for figure in figures.values():
        for build in ("jit", "aot"):
            assert isinstance(figure[build], int | float), (figure, build)
            assert figure[build] > 0, (figure, build)
        assert figure["ratio"] > 0
    assert figures["artifact_size_bytes"]["label"] == "publish output size"
    # the fake's "publish output" is its directory, the same for both flavours
    assert figures["artifact_size_bytes"]["ratio"] == 1.0
    assert figures["latency_p95_ms"]["jit"] >= figures["latency_median_ms"]["jit"]
    assert tradeoffs["builds"]["jit"]["requests_measured"] == len(EXPECTED) + 1
    assert tradeoffs["builds"]["aot"]["instances"] == 1
    targets = {t["build"]: t for t in document["summary"]["targets"]}
    assert targets["jit"]["rss_end_bytes"] > 0
    assert targets["noise"]["artifact_kind"] == "publish output"


def check_warnings_are_listed_by_code_and_linked_with_reasons(
    fake_run: tuple[pytest.RunResult, dict[str, Any], Path],
) -> None:
    _, document, _ = fake_run
    section = document["warnings"]
    assert section["format"] == "publish log"
    assert section["count"] == 4
    assert {g["code"]: g["count"] for g in section["by_code"]} == {"IL2026": 3, "IL2070": 1}
    by_test = _records_by_test(document)

    def reasons(test: str) -> dict[str, list[str]]:
        return {
            f"{link['code']} {link['type']}": link["reasons"]
            for link in by_test[test]["warnings"]["links"]
        }

    single = reasons("test_single")
    assert (
        "the differing field 'fullName' is named in the warning"
        in single["IL2026 Players.Api.Dtos.PlayerResponse"]
    )
    validator = reasons("test_validator")
    assert any(
        "validator was bypassed" in r for r in validator["IL2026 FluentValidation.AssemblyScanner"]
    )
    stats = reasons("test_stats")
    assert any(
        "failed serializing JSON" in r for r in stats["IL2026 System.Text.Json.JsonSerializer"]
    )
    lost = reasons("test_list")
    assert any(
        "reflection over properties" in r for r in lost["IL2070 AutoMapper.Internal.TypeDetails"]
    )
    summary = by_test["test_summary"]["warnings"]
    assert summary["links"] == []
    assert "found only by running the AOT build" in summary["note"]
    linked = {w["type"]: w["divergences"] for w in section["warnings"]}
    assert linked["FluentValidation.AssemblyScanner"] == 1
    assert section["divergences_unlinked"] >= 1


def check_html_report_in_chromium(fake_run: tuple[pytest.RunResult, dict[str, Any], Path]) -> None:
    _, document, out = fake_run
    with open_report(out / "report.html") as opened:
        check_report_page(opened, document)
        text = opened.page.locator("body").inner_text()
        assert "REJECT" in text
        assert "GET /health" in text  # the endpoint that answered alike is listed too
        opened.page.screenshot(path=str(out / "report.png"), full_page=True)


def check_junit_xml_carries_the_divergences(
    fake_run: tuple[pytest.RunResult, dict[str, Any], Path],
) -> None:
    _, _, out = fake_run
    tree = ET.parse(out / "junit.xml")
    cases = {case.get("name"): case for case in tree.iter("testcase")}
    single = cases["test_single"]
    failure = single.find("failure")
    assert failure is not None
    assert "$.fullName" in (failure.get("message", "") + (failure.text or ""))
    props = [(p.get("name"), p.get("value")) for p in single.iter("property")]
    assert ("aot_parity.divergences", "1") in props
    assert ("aot_parity.known", "0") in props
    assert ("aot_parity.category", "mapping lost data") in props
    assert any(
        name == "aot_parity.divergence" and value.startswith("new | mapping lost data | GET")
        for name, value in props
    )
    health = [(p.get("name"), p.get("value")) for p in cases["test_health"].iter("property")]
    assert ("aot_parity.compared", "1") in health
    assert ("aot_parity.divergences", "0") in health


def check_terminal_summary_shows_verdict_tradeoffs_and_reports(
    fake_run: tuple[pytest.RunResult, dict[str, Any], Path],
) -> None:
    result, _, _ = fake_run
    result.stdout.fnmatch_lines(
        [
            "*verdict: REJECT: 2 new divergences where the AOT build fails requests*",
            "*trade-offs*jit*aot*aot/jit*",
            "*publish output size*",
            "*start to first healthy response*",
            "*memory after start*",
            "*memory after the run*",
            "*latency, median*",
            "*latency, 95th percentile*",
            "publish warnings *aot-publish.log: 4 (IL2026 x3, IL2070 x1); * linked to warnings*",
            "HTML report: *report.html",
        ]
    )


def test_a_run_against_the_fake_apps_reports_everything(
    pytester: pytest.Pytester, players_suite: Callable[..., Path]
) -> None:
    """One run (three apps start: a few seconds), every report checked."""
    run = fake_run(pytester, players_suite)
    check_json_report_validates_and_carries_the_verdict_sections(run)
    check_tradeoffs_exist_for_both_builds_and_are_plausible(run)
    check_warnings_are_listed_by_code_and_linked_with_reasons(run)
    check_junit_xml_carries_the_divergences(run)
    check_terminal_summary_shows_verdict_tradeoffs_and_reports(run)
    check_html_report_in_chromium(run)
