"""The AOT verdict of a run: proceed, defer or reject, and the gate around it.

This module ties the report parts together for :class:`~pytest_aotparity.run.parity.
ParityRun`, which calls a :class:`Gate` at a few points of the run:

- its options (``--aot-parity-html``, ``--aot-parity-warnings``, ``--aot-parity-baseline``,
  ``--aot-parity-update-baseline``) are registered by :func:`add_verdict_options`;
- where the targets run: :meth:`Gate.target_figures` / :meth:`Gate.end_of_run` measure the
  trade-offs, :meth:`Gate.traffic` records latencies, :meth:`Gate.enrich` marks each
  divergence against the baseline (a known one does not fail its test) and adds what the
  reports show (both bodies, the AOT log tail), :meth:`Gate.add_properties` puts the
  divergences on the JUnit XML test case;
- where the run is summarised: :meth:`Gate.finish` links warnings, computes the trade-offs,
  reconciles (and maybe rewrites) the baseline and decides the verdict; its sections go into
  the JSON report, :meth:`Gate.write_html` writes the HTML report and
  :meth:`Gate.summary_lines` the terminal summary.

The verdict rule
----------------
Only divergences that are **not** in the baseline count ("new"); accepted ones never change
the verdict.

- **reject** — a new divergence of category *AOT failure* (the AOT build answered 5xx or
  not at all where the JIT build answered) or *validator bypassed* (the AOT build accepted a
  request the JIT build rejected), or the AOT build exited during the run: the AOT build
  breaks requests or lets invalid data in.
- **defer** — any other new divergence (lost data, serialization, status, behaviour), or no
  request was compared at all, or the JIT build exited: fix the divergences or accept them
  into the baseline, then run again.
- **proceed** — requests were compared and every divergence (if any) is known.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from pytest_aotparity.optionspec import OptionSpec, resolve_path, spec
from pytest_aotparity.report.baseline import (
    Baseline,
    BaselineError,
    BaselineOutcome,
    classify,
    key_of_record,
    load_baseline,
    reconcile,
    updated_baseline,
    write_baseline,
)

if TYPE_CHECKING:
    from pytest_aotparity.diff.model import Divergence
    from pytest_aotparity.endpoints import Operations
    from pytest_aotparity.exchange import Exchange
    from pytest_aotparity.report.summary import ParityTotals
    from pytest_aotparity.report.tradeoffs import Tradeoffs
    from pytest_aotparity.report.warnings import WarningSet
    from pytest_aotparity.targets.base import Target

Decision = Literal["proceed", "defer", "reject"]

REJECTING = ("AOT failure", "validator bypassed")
"""Categories that reject the AOT build when new."""

VERDICT_RULE = (
    "reject: the AOT build could not be started, a new (not baselined) AOT failure or "
    "validator bypassed, or the AOT build exited; defer: the JIT build could not be started, "
    "any other new divergence, no request compared, or the JIT build exited; "
    "proceed: requests compared and every divergence known."
)

MAX_REPORT_BODY = 32 * 1024
"""Characters of each response body kept in a record for the side-by-side view."""

GATE_ITEM_KEY = pytest.StashKey[list[Mapping[str, Any]]]()


# -- options ----------------------------------------------------------------------------------


OPT_HTML = spec("--aot-parity-html")
OPT_WARNINGS = spec("--aot-parity-warnings")
OPT_BASELINE = spec("--aot-parity-baseline")
OPT_UPDATE_BASELINE = spec("--aot-parity-update-baseline")


def add_verdict_options(parser: pytest.Parser) -> None:
    """Register the verdict options in the ``aotparity`` group (flag ↔ ini key pairs)."""
    group = parser.getgroup("aotparity", "aot-parity (JIT vs Native AOT parity of an HTTP API)")
    group.addoption(
        OPT_HTML.flag,
        dest=OPT_HTML.dest,
        default=None,
        metavar="PATH",
        help="Write a self-contained HTML report to PATH: the verdict, the trade-offs, parity "
        "per endpoint and every divergence side by side.",
    )
    parser.addini(OPT_HTML.ini, "Default for --aot-parity-html.", type="string")
    group.addoption(
        OPT_WARNINGS.flag,
        dest=OPT_WARNINGS.dest,
        default=None,
        metavar="PATH",
        help="The AOT build's publish warnings: the raw `dotnet publish` log or a JSON file "
        "of warnings. They are listed by code and linked to the divergences they explain.",
    )
    parser.addini(OPT_WARNINGS.ini, "Default for --aot-parity-warnings.", type="string")
    group.addoption(
        OPT_BASELINE.flag,
        dest=OPT_BASELINE.dest,
        default=None,
        metavar="PATH",
        help="A JSON file of accepted divergences: those are reported as known and do not "
        "fail; new ones fail; entries that no longer occur are reported.",
    )
    parser.addini(OPT_BASELINE.ini, "Default for --aot-parity-baseline.", type="string")
    group.addoption(
        OPT_UPDATE_BASELINE.flag,
        dest=OPT_UPDATE_BASELINE.dest,
        action="store_true",
        default=None,
        help="Rewrite the baseline file from this run: its divergences are accepted (no test "
        "fails on them), entries that no longer occur are removed.",
    )
    parser.addini(
        OPT_UPDATE_BASELINE.ini,
        "Default for --aot-parity-update-baseline (meant for the command line).",
        type="bool",
        default=False,
    )


@dataclass(frozen=True)
class VerdictSettings:
    html_path: Path | None = None
    warnings_path: Path | None = None
    baseline_path: Path | None = None
    update_baseline: bool = False


def _path_option(config: pytest.Config, option: OptionSpec, example: str) -> Path | None:
    value = config.getoption(option.dest, None)
    if value is None:
        value = config.getini(option.ini)
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    path = resolve_path(config, option, text)
    if path.is_dir():
        raise pytest.UsageError(
            f"{option.name()} = {text!r}: this is a directory.\nGive a file name, e.g. "
            f"{option.flag} {example}."
        )
    return path


def read_verdict_settings(config: pytest.Config) -> VerdictSettings:
    """Read and check the verdict options; :class:`pytest.UsageError` says what to write."""
    html = _path_option(config, OPT_HTML, "aotparity-report.html")
    warnings = _path_option(config, OPT_WARNINGS, "aot-publish.log")
    baseline = _path_option(config, OPT_BASELINE, "aotparity-baseline.json")
    update = config.getoption(OPT_UPDATE_BASELINE.dest, None)
    if update is None:
        update = config.getini(OPT_UPDATE_BASELINE.ini)
    update = bool(update)
    if update and baseline is None:
        raise pytest.UsageError(
            f"{OPT_UPDATE_BASELINE.flag} rewrites the baseline file, but no baseline file is "
            f"set.\nName it with {OPT_BASELINE.name()}, e.g. --aot-parity-baseline "
            "aotparity-baseline.json --aot-parity-update-baseline."
        )
    return VerdictSettings(
        html_path=html, warnings_path=warnings, baseline_path=baseline, update_baseline=update
    )


# -- the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str
    new: int
    known: int
    new_by_category: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "rule": VERDICT_RULE,
            "new_divergences": self.new,
            "known_divergences": self.known,
            "new_by_category": dict(self.new_by_category),
        }

    def render_line(self) -> str:
        return f"verdict: {self.decision.upper()}: {self.reason}"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _categories_text(counts: Mapping[str, int]) -> str:
    return ", ".join(
        f"{name} x{count}" for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def decide(
    records: Sequence[Mapping[str, Any]],
    *,
    requests_compared: int,
    exited: Sequence[Mapping[str, Any]] = (),
    start_failures: Sequence[Mapping[str, Any]] = (),
) -> Verdict:
    """Apply the verdict rule (see the module docstring) to a run's divergence records."""
    new_records = [r for r in records if str(r.get("baseline") or "new") == "new"]
    known = len(records) - len(new_records)
    by_category = Counter(str(r.get("category")) for r in new_records)
    rejecting = {c: n for c, n in by_category.items() if c in REJECTING}
    exited_builds = [str(e.get("build")) for e in exited]

    def make(decision: Decision, reason: str) -> Verdict:
        return Verdict(decision, reason, len(new_records), known, dict(by_category))

    # A start failure comes first: nothing was compared, and the failure is the answer.
    aot_start = next((f for f in start_failures if f.get("build") == "aot"), None)
    if aot_start is not None:
        return make("reject", f"{aot_start.get('summary')}, so nothing could be compared")
    if start_failures:
        first = start_failures[0]
        return make(
            "defer",
            f"the reference failed, not the AOT build: {first.get('summary')}, "
            "so nothing could be compared",
        )
    if "aot" in exited_builds:
        return make("reject", "the AOT build exited during the run")
    if rejecting:
        what = []
        if "AOT failure" in rejecting:
            what.append("fails requests the JIT build answers")
        if "validator bypassed" in rejecting:
            what.append("accepts requests the JIT build rejects")
        return make(
            "reject",
            f"{_plural(sum(rejecting.values()), 'new divergence')} where the AOT build "
            f"{' and '.join(what)} ({_categories_text(rejecting)})",
        )
    if new_records:
        return make(
            "defer",
            f"{_plural(len(new_records), 'new divergence')} ({_categories_text(by_category)}): "
            "fix them or accept them into the baseline",
        )
    if "jit" in exited_builds or "noise" in exited_builds:
        return make("defer", "a JIT build exited during the run, so the comparison is incomplete")
    if requests_compared == 0:
        return make("defer", "no request was compared, so there is no evidence either way")
    reason = f"{_plural(requests_compared, 'request')} compared, no new divergence"
    if known:
        reason += f" ({_plural(known, 'known divergence')} accepted in the baseline)"
    return make("proceed", reason)


# -- the gate ----------------------------------------------------------------------------------


def _response_extra(response: Any, redact: Collection[str]) -> dict[str, Any]:
    """Headers and (capped) body of a recorded response, for the side-by-side view."""
    from pytest_aotparity.report.json_report import body_record, redact_headers

    if response is None:
        return {}
    names = {n.lower() for n in redact}  # the run's list: the defaults and --aot-parity-redact
    body = body_record(response.body)
    text = body.get("body")
    if isinstance(text, str) and len(text) > MAX_REPORT_BODY:
        body["body"] = text[:MAX_REPORT_BODY]
        body["body_truncated"] = True
    return {"headers": redact_headers(response.headers, names), **body}


@dataclass
class GateResult:
    """What :meth:`Gate.finish` decided (kept for the summary and the HTML report)."""

    verdict: Verdict
    tradeoffs: Tradeoffs
    baseline: BaselineOutcome | None
    warnings: dict[str, Any] | None
    parity: list[dict[str, Any]]
    findings: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)
    html_path: str | None = None


class Gate:
    """The verdict side of one run (see the module docstring). Built in
    ``pytest_configure``: bad options or files raise :class:`pytest.UsageError` there."""

    def __init__(self, config: pytest.Config, settings: VerdictSettings | None = None) -> None:
        self.config = config
        self.settings = settings if settings is not None else read_verdict_settings(config)
        self.baseline: Baseline | None = None
        self.warnings: WarningSet | None = None
        self.result: GateResult | None = None
        if self.settings.baseline_path is not None:
            try:
                self.baseline = load_baseline(
                    self.settings.baseline_path, missing_ok=self.settings.update_baseline
                )
            except BaselineError as exc:
                raise pytest.UsageError(f"{OPT_BASELINE.name()}: {exc}") from None
        if self.settings.warnings_path is not None and not hasattr(config, "workerinput"):
            from pytest_aotparity.report.warnings import (
                WarningsFileError,
                load_warnings,
            )

            try:
                self.warnings = load_warnings(self.settings.warnings_path)
            except WarningsFileError as exc:
                raise pytest.UsageError(f"{OPT_WARNINGS.name()}: {exc}") from None

    # -- where the targets run ----------------------------------------------------------------

    @staticmethod
    def target_figures(target: Target) -> dict[str, Any]:
        """Trade-off figures of a build that just became healthy (merged into its record)."""
        from pytest_aotparity.report.tradeoffs import figures_at_start

        return figures_at_start(target, target.spec.kind)

    @staticmethod
    def end_of_run(
        targets: Mapping[str, Target], records: Sequence[dict[str, Any]], worker: str | None
    ) -> None:
        """Memory after the run, before the builds stop, into this process's target records."""
        from pytest_aotparity.report.tradeoffs import figures_at_end

        for record in records:
            if record.get("worker") != worker:
                continue
            target = targets.get(str(record.get("build")))
            if target is not None:
                record.update(figures_at_end(target))

    @staticmethod
    def traffic(
        exchanges: Sequence[Exchange],
        known_ids: Collection[str],
        operations: Operations | None = None,
    ) -> dict[str, Any]:
        """The traffic payload of some compared exchanges (latencies, endpoints)."""
        from pytest_aotparity.report.tradeoffs import traffic_of

        return traffic_of(exchanges, known_ids, operations)

    def enrich(
        self,
        divergences: Sequence[Divergence],
        records: Sequence[dict[str, Any]],
        *,
        aot_log_tail: Callable[[Divergence], Sequence[str]] | None = None,
        redact: Collection[str] = (),
    ) -> None:
        """Mark each divergence against the baseline (``known`` ones do not fail) and add
        what the reports need to its record: ``baseline_key``, ``baseline`` (known / new /
        accepted), both responses' headers and bodies, and the AOT log tail of a failure."""
        for divergence, record in zip(divergences, records, strict=True):
            key = key_of_record(record)
            status = classify(key, self.baseline, updating=self.settings.update_baseline)
            divergence.known = status != "new"
            divergence.extra["baseline_key"] = key.digest
            divergence.extra["baseline"] = status
            record["known"] = divergence.known
            record["baseline_key"] = key.digest
            record["baseline"] = status
            responses = record.get("responses")
            if isinstance(responses, dict):
                exchange = divergence.exchange
                for build, response in (("jit", exchange.jit), ("aot", exchange.aot)):
                    entry = responses.get(build)
                    if isinstance(entry, dict):
                        entry.update(_response_extra(response, redact))
            tail: Sequence[str] = ()
            if aot_log_tail is not None:
                with contextlib.suppress(Exception):
                    tail = aot_log_tail(divergence)
            record["aot_log_tail"] = list(tail) if tail else None

    @staticmethod
    def failing(divergences: Sequence[Divergence]) -> list[Divergence]:
        """The divergences that fail a test: those not known to the baseline."""
        return [d for d in divergences if not d.known]

    @staticmethod
    def known_note(divergences: Sequence[Divergence]) -> str:
        """A line for a failure message about the known divergences left out of it."""
        known = [d for d in divergences if d.known]
        if not known:
            return ""
        return (
            f"(and {_plural(len(known), 'known divergence')} accepted in the baseline, not "
            "shown: see the aot-parity summary)"
        )

    def add_properties(
        self, item: pytest.Item, report: pytest.TestReport, payload: Mapping[str, Any] | None
    ) -> None:
        """Collect the test's payloads; on its teardown report, write JUnit XML properties
        (``--junitxml``): ``aot_parity.compared``, ``aot_parity.divergences`` (new, failing),
        ``aot_parity.known``, one ``aot_parity.category`` per category and one
        ``aot_parity.divergence`` per divergence (``new|known|accepted category METHOD
        /template key``)."""
        collected = item.stash.setdefault(GATE_ITEM_KEY, [])
        if payload is not None:
            collected.append(payload)
        if report.when != "teardown" or not collected:
            return
        records = [r for p in collected for r in p.get("divergences") or ()]
        compared = sum(int(p.get("compared") or 0) for p in collected)
        if not compared and not records:
            return
        statuses = Counter(str(r.get("baseline") or "new") for r in records)
        properties: list[tuple[str, object]] = [
            ("aot_parity.compared", compared),
            ("aot_parity.divergences", statuses.get("new", 0)),
            ("aot_parity.known", statuses.get("known", 0) + statuses.get("accepted", 0)),
        ]
        for category in sorted({str(r.get("category")) for r in records}):
            properties.append(("aot_parity.category", category))
        for record in records:
            properties.append(
                (
                    "aot_parity.divergence",
                    f"{record.get('baseline') or 'new'} | {record.get('category')} | "
                    f"{record.get('method')} {record.get('path_template')} | "
                    f"key {record.get('baseline_key')}",
                )
            )
        report.user_properties.extend(properties)
        item.user_properties.extend(properties)
        collected.clear()

    # -- where the run is summarised ----------------------------------------------------------

    def finish(self, totals: ParityTotals) -> dict[str, Any]:
        """Link warnings, compute the trade-offs, reconcile (and with
        ``--aot-parity-update-baseline`` rewrite) the baseline and decide the verdict.
        Returns the JSON report's extra sections (``verdict``, ``tradeoffs``, ``parity``,
        ``baseline``, ``warnings``)."""
        from pytest_aotparity.report.tradeoffs import Traffic, compute_tradeoffs

        records = totals.divergences
        for number, record in enumerate(records, start=1):
            record["id"] = f"d{number}"
            if "baseline" not in record:
                status = classify(
                    key_of_record(record), self.baseline, updating=self.settings.update_baseline
                )
                record["baseline"] = status
                record["known"] = status != "new"
                record["baseline_key"] = key_of_record(record).digest
        warnings_section = None
        linker = None
        if self.warnings is not None:
            from pytest_aotparity.report.warnings import (
                WarningLinker,
            )
            from pytest_aotparity.report.warnings import (
                warnings_section as make_warnings_section,
            )

            linker = WarningLinker(self.warnings)
            for record in records:
                record["warnings"] = linker.link(record).to_dict()
            warnings_section = make_warnings_section(self.warnings, records)
        traffic = getattr(totals, "traffic", None)
        if not isinstance(traffic, Traffic):
            traffic = Traffic()
        tradeoffs = compute_tradeoffs(totals.targets, traffic)
        outcome = None
        if self.settings.baseline_path is not None:
            outcome = reconcile(
                self.baseline,
                records,
                set(traffic.endpoints),
                path=shown_path(self.settings.baseline_path),
                updating=self.settings.update_baseline,
            )
            if self.settings.update_baseline:
                new_baseline = updated_baseline(
                    self.baseline, records, outcome, path=self.settings.baseline_path
                )
                write_baseline(self.settings.baseline_path, new_baseline)
                outcome.updated = True
        start = self._start_section(totals)
        verdict = decide(
            records,
            requests_compared=totals.requests_compared,
            exited=totals.exited,
            start_failures=start["failures"] if start else (),
        )
        parity = parity_by_endpoint(records, traffic.endpoints)
        from pytest_aotparity.report.findings import build_findings

        link = None
        if linker is not None:
            found_by = linker

            def link(record: Mapping[str, Any]) -> Mapping[str, Any]:
                return found_by.link(record).to_dict()

        findings = build_findings(
            records, link=link, start_failures=start["failures"] if start else ()
        )
        from pytest_aotparity.report.answers import spike_answers

        answers = spike_answers(
            findings,
            warnings=warnings_section,
            summary={
                "tests_mirrored": len(totals.tests_mirrored | totals.tests_diverged),
                "tests_diverged": len(totals.tests_diverged),
            },
            tradeoffs=tradeoffs.to_dict(),
        )
        sections: dict[str, Any] = {
            "answers": answers,
            "findings": findings,
            "verdict": verdict.to_dict(),
            "tradeoffs": tradeoffs.to_dict(),
            "parity": parity,
            "baseline": outcome.to_dict() if outcome is not None else None,
            "warnings": warnings_section,
            "start": start,
        }
        self.result = GateResult(
            verdict=verdict,
            tradeoffs=tradeoffs,
            baseline=outcome,
            warnings=warnings_section,
            parity=parity,
            findings=findings,
            sections=sections,
        )
        return sections

    def _start_section(self, totals: ParityTotals) -> dict[str, Any] | None:
        """The report's ``start`` section, each failure with the publish warnings linked to
        the exception and log it left (as a divergence's AOT log would be linked)."""
        if not totals.start_failures:
            return None
        failures = []
        for failure in totals.start_failures:
            entry = dict(failure)
            entry["warnings"] = None
            if self.warnings is not None and failure.get("build") == "aot":
                from pytest_aotparity.report.warnings import WarningLinker

                log = []
                if failure.get("exception_type"):
                    log.append(
                        f"Unhandled exception. {failure['exception_type']}: "
                        f"{failure.get('exception_message') or ''}"
                    )
                log.extend(f"   at {frame}" for frame in failure.get("frames") or ())
                log.extend(str(line) for line in failure.get("log_tail") or ())
                pseudo = {"category": "AOT failure", "aot_log_tail": log}
                entry["warnings"] = WarningLinker(self.warnings).link(pseudo).to_dict()
            failures.append(entry)
        return {"failures": failures, "tests_not_run": totals.tests_not_run}

    def write_html(self, document: Mapping[str, Any]) -> None:
        """Write the HTML report (``--aot-parity-html``) of a whole report document."""
        path = self.settings.html_path
        if path is None:
            return
        from pytest_aotparity.report.html import write_html

        write_html(path, document)
        if self.result is not None:
            self.result.html_path = shown_path(path)

    def head_lines(self) -> list[str]:
        """The top of the terminal summary: the verdict and the findings."""
        result = self.result
        if result is None:
            return []
        from pytest_aotparity.report.answers import render_answers
        from pytest_aotparity.report.findings import render_findings

        answers = result.sections.get("answers") or ()
        return [
            result.verdict.render_line(),
            *(render_answers(answers) if answers else ()),
            *render_findings(result.findings),
        ]

    def summary_lines(self) -> list[str]:
        """The trade-offs, baseline and warnings lines of the terminal summary."""
        result = self.result
        if result is None:
            return []
        start = result.sections.get("start")
        lines: list[str] = []
        if start is None:
            lines.extend(result.tradeoffs.render_lines())
        else:
            lines.append("trade-offs not measured: the builds could not be started")
        if result.baseline is not None:
            lines.extend(result.baseline.render_lines())
        for failure in (start or {}).get("failures") or ():
            links = (failure.get("warnings") or {}).get("links") or ()
            if links:
                build = failure.get("build")
                lines.append(f"publish warnings linked to the {build} start failure:")
                lines.extend(
                    f"  {link['code']} {link.get('member') or link.get('type') or ''}: "
                    f"{'; '.join(link.get('reasons') or ())}"
                    for link in links
                )
        if result.warnings is not None:
            section = result.warnings
            codes = ", ".join(f"{c['code']} x{c['count']}" for c in section["by_code"][:8])
            line = f"publish warnings {section['source']}: {section['count']} ({codes or 'none'})"
            if start is None:
                line += (
                    f"; {section['divergences_linked']} divergence"
                    f"{'s' if section['divergences_linked'] != 1 else ''} linked to warnings, "
                    f"{section['divergences_unlinked']} to none"
                )
            lines.append(line)
        if result.html_path:
            lines.append(f"HTML report: {result.html_path}")
        return lines


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter in logs)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parity_by_endpoint(
    records: Sequence[Mapping[str, Any]], compared: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Parity per endpoint: requests compared, divergent (new / known) and categories.
    Endpoints without any divergence are listed too (they answered alike)."""
    rows: dict[str, dict[str, Any]] = {}
    for endpoint, count in compared.items():
        rows[endpoint] = {
            "endpoint": endpoint,
            "compared": int(count),
            "divergent": 0,
            "new": 0,
            "known": 0,
            "categories": {},
        }
    for record in records:
        endpoint = f"{str(record.get('method')).upper()} {record.get('path_template')}"
        row = rows.setdefault(
            endpoint,
            {
                "endpoint": endpoint,
                "compared": 0,
                "divergent": 0,
                "new": 0,
                "known": 0,
                "categories": {},
            },
        )
        row["divergent"] += 1
        if str(record.get("baseline") or "new") == "new":
            row["new"] += 1
        else:
            row["known"] += 1
        category = str(record.get("category"))
        row["categories"][category] = row["categories"].get(category, 0) + 1
    return sorted(rows.values(), key=lambda r: (-r["new"], -r["divergent"], r["endpoint"]))


# -- a Markdown summary of a JSON report (for CI job summaries) -------------------------------


def markdown_summary(document: Mapping[str, Any]) -> str:
    """The verdict, the trade-offs and parity per endpoint of a JSON report as Markdown, for a
    CI job summary (``python -m pytest_aotparity.report.verdict REPORT.json``)."""
    from pytest_aotparity.report.tradeoffs import format_ratio, format_value

    verdict = document.get("verdict") or {}
    summary = document.get("summary") or {}
    decision = str(verdict.get("decision") or "unknown").upper()
    lines = [
        f"## AOT verdict: {decision}",
        "",
        str(verdict.get("reason") or "no verdict in this report"),
        "",
        f"{summary.get('requests_compared', 0)} requests compared; "
        f"{verdict.get('new_divergences', 0)} new and {verdict.get('known_divergences', 0)} "
        "known divergences.",
    ]
    figures = (document.get("tradeoffs") or {}).get("figures") or []
    if figures:
        lines += ["", "| trade-off | JIT | AOT | AOT / JIT |", "|---|---:|---:|---:|"]
        for figure in figures:
            unit = str(figure.get("unit"))
            lines.append(
                f"| {figure.get('label')} | {format_value(figure.get('jit'), unit)} | "
                f"{format_value(figure.get('aot'), unit)} | {format_ratio(figure.get('ratio'))} |"
            )
    parity = document.get("parity") or []
    if parity:
        lines += [
            "",
            "| endpoint | compared | divergent | new | known | categories |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in parity:
            categories = ", ".join(
                f"{name} x{count}" for name, count in sorted(row.get("categories", {}).items())
            )
            lines.append(
                f"| `{row.get('endpoint')}` | {row.get('compared')} | {row.get('divergent')} | "
                f"{row.get('new')} | {row.get('known')} | {categories or 'alike'} |"
            )
    baseline = document.get("baseline")
    if baseline and baseline.get("fixed"):
        lines += ["", f"{len(baseline['fixed'])} baseline entries no longer occur:"]
        lines += [
            f"- `{e['method']} {e['path_template']}` {e['category']} (key `{e['key']}`)"
            for e in baseline["fixed"]
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pytest_aotparity.report.verdict REPORT.json``: print the Markdown summary."""
    import json
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m pytest_aotparity.report.verdict REPORT.json", file=sys.stderr)
        return 2
    try:
        document = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read the JSON report {args[0]}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(markdown_summary(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
