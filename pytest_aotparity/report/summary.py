"""The run's totals and the ``aot-parity`` section of the terminal summary.

Everything here works on plain, JSON-able records (see :mod:`pytest_aotparity.report.json_report`)
so it is the same whether the tests ran in this process or in pytest-xdist workers, whose
records travel to the controller on the test reports.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_aotparity.report.tradeoffs import Traffic


@dataclass
class FieldCount:
    path: str
    kind: str
    count: int


@dataclass
class EndpointGroup:
    """The divergences of one endpoint (method + path template)."""

    method: str
    path_template: str
    divergences: int = 0
    tests: set[str] = field(default_factory=set)
    categories: Counter[str] = field(default_factory=Counter)
    fields: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path_template}"

    def field_counts(self) -> list[FieldCount]:
        return [
            FieldCount(path=path, kind=kind, count=count)
            for (path, kind), count in sorted(
                self.fields.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])
            )
        ]


def _generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


@dataclass
class ParityTotals:
    """Everything the summary and the JSON report need, accumulated from per-test payloads.

    A payload is what the plugin attaches to each test report (``report.aot_parity``)::

        {"compared": int, "noise_filtered": int, "mirrored": bool,
         "divergences": [divergence record, ...]}
    """

    requests_compared: int = 0
    noise_filtered: int = 0
    tests_mirrored: set[str] = field(default_factory=set)
    tests_not_mirrored: set[str] = field(default_factory=set)
    divergences: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    """One entry per started build (per xdist worker): build, kind, spec, base_url,
    ready_seconds, worker, exit_code."""
    exited: list[dict[str, Any]] = field(default_factory=list)
    """Builds that exited during the run: build, exit_code, log_tail, worker."""
    start_failures: list[dict[str, Any]] = field(default_factory=list)
    """Why the builds could not be started (a :class:`~pytest_aotparity.targets.StartFailure`
    each, as a dict); with any, nothing was compared and no test ran."""
    tests_not_run: int = 0
    noise_instance: bool = False
    report_path: str | None = None
    traffic: Traffic = field(default_factory=Traffic)
    """Latencies and requests per endpoint (aot-parity verdict, report/tradeoffs.py)."""

    def add_payload(self, nodeid: str | None, payload: Mapping[str, Any]) -> None:
        self.requests_compared += int(payload.get("compared", 0))
        self.noise_filtered += int(payload.get("noise_filtered", 0))
        if nodeid is not None:
            if payload.get("mirrored", True):
                if payload.get("compared", 0):
                    self.tests_mirrored.add(nodeid)
            else:
                self.tests_not_mirrored.add(nodeid)
        self.divergences.extend(payload.get("divergences", ()))
        self.traffic.add(payload.get("traffic"))  # aot-parity verdict: trade-offs

    # -- views -----------------------------------------------------------------------------

    @property
    def tests_diverged(self) -> set[str]:
        return {str(d["nodeid"]) for d in self.divergences if d.get("nodeid")}

    def by_category(self) -> Counter[str]:
        return Counter(str(d.get("category")) for d in self.divergences)

    def endpoints(self) -> list[EndpointGroup]:
        groups: dict[tuple[str, str], EndpointGroup] = {}
        for record in self.divergences:
            key = (str(record.get("method")), str(record.get("path_template")))
            group = groups.get(key)
            if group is None:
                group = groups[key] = EndpointGroup(method=key[0], path_template=key[1])
            group.divergences += 1
            if record.get("nodeid"):
                group.tests.add(str(record["nodeid"]))
            group.categories[str(record.get("category"))] += 1
            for diff in record.get("differences", ()):
                group.fields[(_generic(str(diff.get("path"))), str(diff.get("kind")))] += 1
        return sorted(groups.values(), key=lambda g: (-g.divergences, g.endpoint))

    def summary_dict(self) -> dict[str, Any]:
        """The ``summary`` object of the JSON report."""
        return {
            "requests_compared": self.requests_compared,
            "divergences": len(self.divergences),
            "differences": sum(len(d.get("differences", ())) for d in self.divergences),
            "noise_filtered": self.noise_filtered,
            "noise_instance": self.noise_instance,
            "tests_mirrored": len(self.tests_mirrored),
            "tests_diverged": len(self.tests_diverged),
            "tests_not_mirrored": len(self.tests_not_mirrored),
            "by_category": dict(sorted(self.by_category().items())),
            "by_endpoint": [
                {
                    "method": group.method,
                    "path_template": group.path_template,
                    "divergences": group.divergences,
                    "tests": len(group.tests),
                    "categories": dict(sorted(group.categories.items())),
                    "fields": [
                        {"path": fc.path, "kind": fc.kind, "count": fc.count}
                        for fc in group.field_counts()
                    ],
                }
                for group in self.endpoints()
            ],
            "targets": list(self.targets),
            "exited": list(self.exited),
        }

    # -- terminal ------------------------------------------------------------------------

    def render_lines(
        self, *, max_endpoints: int = 30, max_fields: int = 8, grouped: bool = False
    ) -> list[str]:
        """The lines of the ``aot-parity`` terminal summary section. ``grouped``: the
        divergences were shown as findings, so the per-endpoint table is left out."""
        lines: list[str] = []
        for failure in self.start_failures:
            lines.append(f"start failed: {failure.get('summary')}")
        if self.start_failures:
            # Nothing was compared: "no divergence" would read as parity.
            lines.append(
                f"{self.tests_not_run} test{'s' if self.tests_not_run != 1 else ''} not run and "
                "no request compared: the builds could not be started"
            )
            return lines
        seen_targets: set[tuple[str, str]] = set()
        for target in self.targets:
            key = (str(target.get("build")), str(target.get("worker") or ""))
            if key in seen_targets:
                continue
            seen_targets.add(key)
            ready = target.get("ready_seconds")
            ready_text = f"ready in {ready:.2f} s" if isinstance(ready, int | float) else ""
            worker = f"  [{target['worker']}]" if target.get("worker") else ""
            lines.append(
                f"{target.get('build', '?'):<5} {target.get('kind', '?'):<5} "
                f"{target.get('base_url', '?')}  {ready_text}{worker}".rstrip()
            )
        for exited in self.exited:
            worker = f" [{exited['worker']}]" if exited.get("worker") else ""
            lines.append(
                f"the {exited.get('build')} build exited during the run with code "
                f"{exited.get('exit_code')}{worker}; its last log lines:"
            )
            lines.extend(f"    | {line}" for line in exited.get("log_tail", ())[-10:])
        tests = len(self.tests_mirrored | self.tests_diverged)
        compared = (
            f"compared {self.requests_compared} request{'s' if self.requests_compared != 1 else ''}"
            f" from {tests} test{'s' if tests != 1 else ''} on the jit and aot builds"
        )
        if self.noise_instance:
            compared += (
                f"; the noise instance filtered {self.noise_filtered} "
                f"difference{'s' if self.noise_filtered != 1 else ''} as noise"
            )
        else:
            compared += " (no noise instance: use --aot-parity-noise auto to filter ids/timestamps)"
        lines.append(compared)
        if self.tests_not_mirrored:
            count = len(self.tests_not_mirrored)
            lines.append(
                f"{count} test{'s' if count != 1 else ''} not mirrored "
                "(@pytest.mark.aot_parity(skip=True))"
            )
        if not self.divergences:
            lines.append("no divergence: the aot build answered like the jit build")
        elif grouped:
            count = len(self.divergences)
            tests_diverged = len(self.tests_diverged)
            lines.append(
                f"{count} divergent response{'s' if count != 1 else ''} in {tests_diverged} "
                f"test{'s' if tests_diverged != 1 else ''}, grouped into the findings above "
                "(every field of each in the JSON report)"
            )
        else:
            count = len(self.divergences)
            tests_diverged = len(self.tests_diverged)
            lines.append(
                f"{count} divergent response{'s' if count != 1 else ''} in {tests_diverged} "
                f"test{'s' if tests_diverged != 1 else ''}, by endpoint and field:"
            )
            groups = self.endpoints()
            for group in groups[:max_endpoints]:
                categories = ", ".join(
                    f"{name}" + (f" x{n}" if n > 1 else "")
                    for name, n in group.categories.most_common()
                )
                lines.append(
                    f"  {group.endpoint}  {group.divergences} response"
                    f"{'s' if group.divergences != 1 else ''}: {categories}"
                )
                counts = group.field_counts()
                width = max((len(fc.path) for fc in counts[:max_fields]), default=0)
                for fc in counts[:max_fields]:
                    lines.append(f"      {fc.path:<{width}}  {fc.kind:<22} x{fc.count}")
                if len(counts) > max_fields:
                    lines.append(f"      ... and {len(counts) - max_fields} more fields")
            if len(groups) > max_endpoints:
                lines.append(f"  ... and {len(groups) - max_endpoints} more endpoints")
        outside = [d for d in self.divergences if not d.get("nodeid")]
        if outside:
            lines.append(
                f"{len(outside)} of them came from requests made outside any test "
                "(e.g. at import time); they fail the run"
            )
        if self.report_path:
            lines.append(f"JSON report: {self.report_path}")
        return lines
