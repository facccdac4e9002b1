"""The HTML report: pretty JSON with highlights, escaping, and the page in a real headless
Chromium (Debian's ``chromium``, driven by playwright): it loads without console errors,
loads nothing from outside, and shows every divergence of the report.

:func:`open_report` and :func:`check_report_page` are also used by the run tests
(``test_report_fakeapps.py``, ``test_report_sample_app.py``).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.report.baseline import Baseline, BaselineEntry, key_of_record
from pytest_aotparity.report.html import (
    Marks,
    marks_for,
    render_html,
    render_json,
    split_last,
    write_html,
)
from pytest_aotparity.report.json_report import build_report, divergence_record
from pytest_aotparity.report.summary import ParityTotals
from pytest_aotparity.report.tradeoffs import traffic_of
from pytest_aotparity.report.verdict import Gate, VerdictSettings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# -- the browser ------------------------------------------------------------------------------


@dataclass
class OpenedPage:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def open_report(path: Path) -> Iterator[OpenedPage]:
    """The report opened from disk in headless Chromium (fails, never skips, without it:
    scripts/setup.sh installs Debian's chromium)."""
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    assert executable, "chromium is not installed: run scripts/setup.sh (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            opened = OpenedPage(page)
            page.on(
                "console",
                lambda m: opened.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: opened.console_errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith(("file:", "data:", "about:"))
                    else opened.outside_requests.append(r.url)
                ),
            )
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            yield opened
        finally:
            browser.close()


def _css_string(value: str) -> str:
    return json.dumps(value)


def check_report_page(opened: OpenedPage, document: dict[str, Any]) -> None:
    """Assert the page shows what the document holds: the verdict, the trade-offs, parity per
    endpoint and every divergence (expanded), its differing fields highlighted in the right
    pane, its curl commands and its warning links."""
    page = opened.page
    verdict = document["verdict"]
    assert page.locator("#verdict .decision").inner_text().strip() == verdict["decision"].upper()
    assert verdict["reason"] in page.locator("#verdict .reason").inner_text()
    assert page.locator("table.tradeoffs tbody tr").count() == len(document["tradeoffs"]["figures"])
    assert page.locator("table.parity tbody tr").count() == len(document["parity"])
    for answer in document.get("answers") or ():
        assert page.locator("#answers").is_visible()
        assert answer["answer"] in page.locator("#answers").inner_text()
    findings = document.get("findings") or []
    if findings:
        # the findings come first, each expandable to its divergences
        order = page.evaluate("Array.from(document.querySelectorAll('section[id]'), s => s.id)")
        assert order.index("findings") < order.index("tradeoffs") < order.index("divergences")
        assert page.locator("article.finding").count() == len(findings)
        for finding in findings:
            article = page.locator(f"article.finding#{finding['id']}")
            summary = article.locator("summary").first
            assert finding["title"] in " ".join(summary.inner_text().split())
            if article.locator("details").first.get_attribute("open") is None:
                summary.click()
            body = article.locator(".finding-body")
            assert body.is_visible(), finding["id"]
            for rid in finding["divergences"]:
                assert body.locator(f"a[href='#{rid}']").count() >= 1, (finding["id"], rid)
    records = document["divergences"]
    cards = page.locator("article.card")
    assert cards.count() == len(records)
    if records:
        page.click("#expand-all")
    for number, record in enumerate(records, start=1):
        card = page.locator(f"#d{number}")
        assert card.is_visible(), f"divergence #{number} is not visible"
        summary = card.locator("summary").first.inner_text()
        assert f"{record['method']} {record['path']}" in summary
        assert record["category"] in summary
        assert record["baseline"] in summary
        assert card.locator("table.diffs").is_visible()
        rows = card.locator("table.diffs tbody tr")
        assert rows.count() == len(record["differences"])
        for row_index, diff in enumerate(record["differences"]):
            assert diff["path"] in rows.nth(row_index).inner_text()
        jit_pane = card.locator(".pane-jit")
        aot_pane = card.locator(".pane-aot")
        assert jit_pane.is_visible()
        assert aot_pane.is_visible()
        for diff in record["differences"]:
            path, kind = diff["path"], diff["kind"]
            if path == "status":
                assert card.locator(".pane-head .hl").count() == 2
                continue
            if path.startswith("header:"):
                continue
            if not path.startswith("$") or not _json_body(
                record, "jit" if kind != "extra field" else "aot"
            ):
                continue
            selector = f".hl[data-path={_css_string(path)}]"
            if kind == "missing field":
                assert jit_pane.locator(selector).count() >= 1, path
                assert aot_pane.locator(".ghost").count() >= 1, path
            elif kind == "extra field":
                assert aot_pane.locator(selector).count() >= 1, path
            else:
                assert jit_pane.locator(selector).count() >= 1, path
                assert aot_pane.locator(selector).count() >= 1, path
        if record.get("curl"):
            curl_text = card.locator(".curl").inner_text()
            assert record["curl"]["jit"] in curl_text
            assert record["curl"]["aot"] in curl_text
        if record.get("warnings") is not None:
            links = card.locator(".links")
            assert links.is_visible()
            if record["warnings"]["links"]:
                assert links.locator("li a.wcode").count() == len(record["warnings"]["links"])
            else:
                assert record["warnings"]["note"] in links.inner_text()
    assert opened.console_errors == []
    assert opened.outside_requests == []


def _json_body(record: dict[str, Any], build: str) -> bool:
    response = record["responses"][build] or {}
    body = response.get("body")
    if not body or response.get("body_encoding") != "utf-8" or response.get("body_truncated"):
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


# -- pure rendering -------------------------------------------------------------------------


def test_split_last() -> None:
    assert split_last("$.a.b[2]") == ("$.a.b", 2)
    assert split_last("$.items[3].fullName") == ("$.items[3]", "fullName")
    assert split_last("$['odd key']") == ("$", "odd key")
    assert split_last('$["it\'s"]') == ("$", "it's")
    assert split_last("$") is None
    assert split_last("status") is None


def test_render_json_highlights_marked_paths_and_ghosts() -> None:
    value = {"items": [{"team": "Ajax", "n": 1}], "odd key": True, "none": None}
    jit, aot = marks_for(
        [
            {"path": "$.items[0].team", "kind": "null vs value", "jit": "Ajax", "aot": None},
            {"path": "$.items[0].fullName", "kind": "missing field", "jit": "x", "aot": None},
            {"path": "$['odd key']", "kind": "type change", "jit": True, "aot": 1},
        ]
    )
    html = str(render_json(value, jit))
    assert 'class="hl hl-null" data-path="$.items[0].team"' in html
    assert 'data-path="$[&#39;odd key&#39;]"' in html
    assert "ghost" not in html
    html_aot = str(render_json(value, aot))
    assert '<span class="ghost">&#34;fullName&#34;: … missing in this answer</span>' in html_aot
    assert str(render_json([], Marks())) == "[]"


def test_values_from_the_app_are_escaped() -> None:
    html = str(render_json({"<b>": "</pre><script>alert(1)</script>"}))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# -- a synthetic run, rendered ----------------------------------------------------------------

HOSTILE = '<img src="https://example.invalid/x.png" onerror="window.__pwned = 1">'


def _response(build: str, status: int, body: Any, ct: str = "application/json") -> RecordedResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RecordedResponse(
        build=build, status=status, headers=(("content-type", ct),), body=raw, elapsed_ms=2.5
    )


def synthetic_document(tmp_path: Path) -> dict[str, Any]:
    """Four divergences (new and known), warnings, a baseline, trade-offs; one body carries
    markup that must stay text."""
    player = {"squadNumber": 10, "fullName": "Lionel Messi", "team": "Inter Miami", "note": HOSTILE}
    exchanges = [
        Exchange(
            RecordedRequest("GET", "/players/10"),
            _response("jit", 200, player),
            _response("aot", 200, {k: v for k, v in player.items() if k != "fullName"}),
            nodeid="test_suite.py::test_read",
        ),
        Exchange(
            RecordedRequest(
                "POST", "/players", (("content-type", "application/json"),), b'{"squadNumber": 120}'
            ),
            _response("jit", 400, {"title": "invalid"}, "application/problem+json"),
            _response("aot", 201, {"squadNumber": 120, "extra": 1}),
            nodeid="test_suite.py::test_create",
        ),
        Exchange(
            RecordedRequest("GET", "/players/7/summary"),
            _response("jit", 200, b"Rodrigo De Paul (CM)", "text/plain"),
            _response("aot", 200, b"Rodrigo De Paul (CM)", "text/html"),
            nodeid="test_suite.py::test_summary",
        ),
        Exchange(
            RecordedRequest("GET", "/players"),
            _response("jit", 200, [{"team": "Ajax"}, {"team": "Benfica"}]),
            _response("aot", 200, [{"team": None}, {"team": None}]),
            nodeid="test_suite.py::test_list",
        ),
    ]
    divergences = [
        Divergence(
            exchanges[0],
            [Difference("$.fullName", DiffKind.MISSING, "Lionel Messi", None)],
            Category.MAPPING_LOST_DATA,
        ),
        Divergence(
            exchanges[1],
            [Difference("status", DiffKind.STATUS, 400, 201)],
            Category.VALIDATOR_BYPASSED,
        ),
        Divergence(
            exchanges[2],
            [Difference("header:content-type", DiffKind.HEADER, "text/plain", "text/html")],
            Category.BEHAVIOUR_DIFFERS,
        ),
        Divergence(
            exchanges[3],
            [
                Difference("$[0].team", DiffKind.NULL, "Ajax", None),
                Difference("$[1].team", DiffKind.NULL, "Benfica", None),
            ],
            Category.MAPPING_LOST_DATA,
        ),
    ]

    def curl(request: RecordedRequest, url: str, redact: object) -> str:
        return f"curl -sS -X {request.method} {url}{request.path}"

    records = [
        divergence_record(
            d, redact=(), jit_url="http://127.0.0.1:1", aot_url="http://127.0.0.1:2", curl=curl
        )
        for d in divergences
    ]
    baseline = Baseline()
    baseline.add(BaselineEntry(key=key_of_record(records[3])))
    baseline.add(
        BaselineEntry(
            key=key_of_record(
                {
                    "method": "PUT",
                    "path_template": "/players/{id}",
                    "category": "behaviour differs",
                    "differences": [{"generic_path": "$.league", "kind": "value change"}],
                }
            )
        )
    )
    baseline_path = tmp_path / "baseline.json"
    from pytest_aotparity.report.baseline import write_baseline

    write_baseline(baseline_path, baseline)
    log = (
        "ILC : Trim analysis warning IL2026: "
        "FluentValidation.AssemblyScanner.FindValidatorsInAssembly(Assembly,Boolean): "
        "Using member 'System.Reflection.Assembly.GetTypes()'. [p]\n"
        "ILC : Trim analysis warning IL2026: Players.Api.Dtos.PlayerResponse.get_FullName(): "
        "Using member 'x'. [p]\n"
    )
    (tmp_path / "aot.log").write_text(log)
    config = pytest.Config.__new__(pytest.Config)  # never read: settings are given
    gate = Gate(
        config,
        VerdictSettings(
            html_path=tmp_path / "report.html",
            warnings_path=tmp_path / "aot.log",
            baseline_path=baseline_path,
        ),
    )
    gate.enrich(divergences, records, aot_log_tail=lambda d: ())
    totals = ParityTotals()
    totals.add_payload(
        "test_suite.py::test_read",
        {"compared": 6, "divergences": records, "traffic": traffic_of(exchanges)},
    )
    totals.targets = [
        {
            "build": b,
            "kind": "image",
            "spec": f"app:{b}",
            "base_url": "http://127.0.0.1:1",
            "ready_seconds": r,
            "worker": None,
            "artifact_kind": "image",
            "artifact_size_bytes": s,
            "rss_start_bytes": m,
            "rss_end_bytes": m * 1.1,
        }
        for b, r, s, m in (("jit", 0.9, 131_700_000, 80e6), ("aot", 0.4, 32_500_000, 40e6))
    ]
    sections = gate.finish(totals)
    return build_report(
        totals, settings={"jit": "image:app:jit", "aot": "image:app:aot"}, extra_sections=sections
    )


def test_synthetic_report_renders_and_validates(tmp_path: Path) -> None:
    import jsonschema

    from pytest_aotparity.report.json_report import load_schema

    document = synthetic_document(tmp_path)
    jsonschema.Draft202012Validator(load_schema()).validate(json.loads(json.dumps(document)))
    assert document["verdict"]["decision"] == "reject"  # the bypassed validator is new
    statuses = [r["baseline"] for r in document["divergences"]]
    assert statuses == ["new", "new", "new", "known"]
    assert [e["path_template"] for e in document["baseline"]["not_exercised"]] == ["/players/{id}"]
    html = render_html(document)
    assert "<script>alert" not in html
    assert HOSTILE not in html
    # nothing loaded from outside (links to the fix hints' documentation pages are anchors
    # a reader follows, not resources the page loads)
    assert re.search(r"""src=["']?(https?:)?//""", html) is None
    assert re.search(r"""<(?!a )[^>]*href=["']?(https?:)?//""", html) is None
    assert "<link " not in html


def test_the_page_in_chromium(tmp_path: Path) -> None:
    document = synthetic_document(tmp_path)
    path = tmp_path / "report.html"
    write_html(path, document)
    with open_report(path) as opened:
        check_report_page(opened, document)
        page = opened.page
        # the hostile body is text, its handler never ran
        assert page.evaluate("window.__pwned === undefined")
        assert json.dumps(HOSTILE) in page.locator("#d1 .pane-jit pre.body").inner_text()
        # a whole-body text difference and a header difference are highlighted
        assert page.locator("#d3 .pane-aot .headers .hl").count() >= 1
        # filters: only the known divergence, then every one again
        page.click("button[data-filter-status=known]")
        visible = [c for c in range(1, 5) if page.locator(f"#d{c}").is_visible()]
        assert visible == [4]
        assert page.locator("#shown-count").inner_text() == "1 of 4 shown"
        page.click("button[data-filter-status=all]")
        page.select_option("#filter-category", "validator bypassed")
        assert [c for c in range(1, 5) if page.locator(f"#d{c}").is_visible()] == [2]
        page.select_option("#filter-category", "")
        # a warning link opens its code group in the warnings section
        link = page.locator("#d2 .links a.wcode").first
        anchor = link.get_attribute("href")
        assert anchor is not None
        link.click()
        assert page.locator(anchor).is_visible()
        assert "FluentValidation.AssemblyScanner" in page.locator(anchor).inner_text()
        # the copy button does not throw (no clipboard permission on file://)
        page.locator("#d1 button.copy").first.click()
        # the baseline section lists the entry not exercised
        assert "not exercised" in page.locator("#baseline").inner_text()
        assert opened.console_errors == []
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert (tmp_path / "report.png").stat().st_size > 10_000


def test_a_report_without_divergences_or_sections_still_renders(tmp_path: Path) -> None:
    document = build_report(ParityTotals(), settings={})
    path = tmp_path / "empty.html"
    write_html(path, document)
    with open_report(path) as opened:
        assert "No divergence" in opened.page.locator("#divergences").inner_text()
        assert opened.console_errors == []


def test_the_templates_ship_in_the_wheel(tmp_path: Path) -> None:
    """The page is rendered from package data: the wheel must carry it."""
    import subprocess
    import sys
    import zipfile

    repo = Path(__file__).resolve().parents[1]
    wheels = repo.parent / "shared" / "wheels"  # machines without PyPI (as scripts/setup.sh)
    index = ["--no-index", "--find-links", str(wheels)] if wheels.is_dir() else []
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            *index,
            str(repo),
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("pytest_aotparity-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("report.html.j2", "report.css", "report.js"):
        assert f"pytest_aotparity/report/templates/{name}" in names
    assert "pytest_aotparity/report/report.schema.json" in names
