"""What the AOT build costs and saves, measured in the same run as the comparison.

For each build (jit and aot; the noise instance is a second JIT and is left out):

- **artifact size**: the image size for ``image:`` targets, the size of the executable's
  directory (the publish output) for ``cmd:`` targets, unknown for ``url:`` targets;
- **start → first healthy response**: seconds from starting the build to the first 2xx on
  the health path (measured by the target);
- **resident memory** right after the build became healthy and again after the run, before
  it is stopped (the container's memory usage, or the RSS of the process and its children);
- **request latency**, median and 95th percentile (nearest rank), over every compared
  request the build answered (:attr:`RecordedResponse.elapsed_ms`, measured by the mirror).

Each figure is shown JIT beside AOT with the ratio AOT/JIT (below 1: the AOT build is
smaller, faster or leaner). The figures come from one run on one machine, next to the
other build: they show the order of magnitude, they are not a benchmark.

The per-test part (:func:`traffic_of`) runs where the tests run (an xdist worker) and
travels on the test report; :class:`Traffic` adds it up where the summary is written.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_aotparity.endpoints import Operations, endpoint_of
from pytest_aotparity.exchange import Exchange

COMPARED_BUILDS: tuple[str, str] = ("jit", "aot")


class _Measurable(Protocol):
    """The part of :class:`~pytest_aotparity.targets.base.Target` measured here."""

    @property
    def ready_seconds(self) -> float | None: ...

    def memory_rss_bytes(self) -> int | None: ...

    def artifact_size_bytes(self) -> int | None: ...


# -- measuring (where the targets run) -------------------------------------------------------


def artifact_kind(target_kind: str) -> str | None:
    return {"image": "image", "cmd": "publish output"}.get(target_kind)


def figures_at_start(target: _Measurable, target_kind: str) -> dict[str, Any]:
    """Figures taken right after the build became healthy: artifact size and memory.
    A figure that cannot be measured is None (never an error: the run goes on)."""
    size: int | None = None
    rss: int | None = None
    with contextlib.suppress(Exception):
        size = target.artifact_size_bytes()
    with contextlib.suppress(Exception):
        rss = target.memory_rss_bytes()
    return {
        "artifact_kind": artifact_kind(target_kind),
        "artifact_size_bytes": size,
        "rss_start_bytes": rss,
        "rss_end_bytes": None,
    }


def figures_at_end(target: _Measurable) -> dict[str, Any]:
    """Figures taken after the run, before the build is stopped."""
    rss: int | None = None
    with contextlib.suppress(Exception):
        rss = target.memory_rss_bytes()
    return {"rss_end_bytes": rss}


def traffic_of(
    exchanges: Iterable[Exchange],
    known_ids: Collection[str] = (),
    operations: Operations | None = None,
) -> dict[str, Any]:
    """The per-test traffic payload: latencies of each build's answers (no-answer errors
    left out) and the number of compared requests per endpoint."""
    elapsed: dict[str, list[float]] = {build: [] for build in COMPARED_BUILDS}
    endpoints: Counter[str] = Counter()
    for exchange in exchanges:
        endpoints[endpoint_of(exchange, known_ids, operations)] += 1
        for build in COMPARED_BUILDS:
            response = exchange.jit if build == "jit" else exchange.aot
            if response.status is not None and response.error is None:
                elapsed[build].append(round(float(response.elapsed_ms), 3))
    return {"elapsed_ms": elapsed, "endpoints": dict(endpoints)}


@dataclass
class Traffic:
    """Every compared request of the run: latencies per build and counts per endpoint."""

    elapsed_ms: dict[str, list[float]] = field(
        default_factory=lambda: {build: [] for build in COMPARED_BUILDS}
    )
    endpoints: Counter[str] = field(default_factory=Counter)

    def add(self, payload: Mapping[str, Any] | None) -> None:
        if not isinstance(payload, Mapping):
            return
        elapsed = payload.get("elapsed_ms") or {}
        for build in COMPARED_BUILDS:
            values = elapsed.get(build) or ()
            self.elapsed_ms[build].extend(
                float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)
            )
        for endpoint, count in (payload.get("endpoints") or {}).items():
            self.endpoints[str(endpoint)] += int(count)


# -- figures (where the summary is written) --------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0-100): the smallest value with at least
    ``pct`` % of the values at or below it. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _median(values: Iterable[Any]) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return statistics.median(numbers) if numbers else None


@dataclass(frozen=True)
class Figure:
    """One row of the trade-offs table."""

    key: str
    label: str
    unit: str
    """``bytes``, ``s`` or ``ms``."""
    jit: float | None
    aot: float | None

    @property
    def ratio(self) -> float | None:
        if self.jit is None or self.aot is None or self.jit <= 0:
            return None
        return self.aot / self.jit

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "figure": self.key,
            "label": self.label,
            "unit": self.unit,
            "jit": self.jit,
            "aot": self.aot,
            "ratio": round(ratio, 4) if ratio is not None else None,
        }


def format_value(value: float | None, unit: str) -> str:
    """``131.7 MB``, ``0.94 s``, ``2.10 ms``; ``n/a`` when not measured."""
    if value is None:
        return "n/a"
    if unit == "bytes":
        if value >= 1e9:
            return f"{value / 1e9:.2f} GB"
        if value >= 1e6:
            return f"{value / 1e6:.1f} MB"
        return f"{value / 1e3:.1f} kB"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value:g}"


def format_ratio(ratio: float | None) -> str:
    return f"{ratio:.2f}x" if ratio is not None else ""


@dataclass
class Tradeoffs:
    """The trade-offs of one run (see the module docstring)."""

    figures: list[Figure]
    builds: dict[str, dict[str, Any]]
    """Per build: kind, spec, instances (one per xdist worker), requests measured."""

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "builds": self.builds,
            "figures": [figure.to_dict() for figure in self.figures],
            "percentile_method": "nearest rank",
        }

    def render_lines(self) -> list[str]:
        """The trade-offs table for the terminal (ASCII only)."""
        rows = [
            (
                figure.label,
                format_value(figure.jit, figure.unit),
                format_value(figure.aot, figure.unit),
                format_ratio(figure.ratio),
            )
            for figure in self.figures
        ]
        width = max(len(r[0]) for r in rows)
        lines = [f"  {'trade-offs':<{width}}  {'jit':>10}  {'aot':>10}  {'aot/jit':>7}"]
        lines.extend(f"  {a:<{width}}  {b:>10}  {c:>10}  {d:>7}" for a, b, c, d in rows)
        return lines


def compute_tradeoffs(targets: Sequence[Mapping[str, Any]], traffic: Traffic) -> Tradeoffs:
    """The figures from the run's target records (one per build and xdist worker: build,
    kind, spec, ready_seconds and the figures of :func:`figures_at_start` /
    :func:`figures_at_end`) and its traffic. With several workers, each figure is the median
    over the workers' instances."""
    per_build: dict[str, list[Mapping[str, Any]]] = {b: [] for b in COMPARED_BUILDS}
    for target in targets:
        build = str(target.get("build"))
        if build in per_build:
            per_build[build].append(target)

    def med(build: str, key: str) -> float | None:
        return _median(t.get(key) for t in per_build[build])

    artifact_kinds = {
        str(t.get("artifact_kind")) for b in COMPARED_BUILDS for t in per_build[b]
    } - {"None"}
    if artifact_kinds == {"image"}:
        artifact_label = "image size"
    elif artifact_kinds == {"publish output"}:
        artifact_label = "publish output size"
    else:
        artifact_label = "artifact size"
    latency = {b: traffic.elapsed_ms.get(b, []) for b in COMPARED_BUILDS}
    figures = [
        Figure(
            "artifact_size_bytes",
            artifact_label,
            "bytes",
            med("jit", "artifact_size_bytes"),
            med("aot", "artifact_size_bytes"),
        ),
        Figure(
            "ready_seconds",
            "start to first healthy response",
            "s",
            med("jit", "ready_seconds"),
            med("aot", "ready_seconds"),
        ),
        Figure(
            "rss_start_bytes",
            "memory after start",
            "bytes",
            med("jit", "rss_start_bytes"),
            med("aot", "rss_start_bytes"),
        ),
        Figure(
            "rss_end_bytes",
            "memory after the run",
            "bytes",
            med("jit", "rss_end_bytes"),
            med("aot", "rss_end_bytes"),
        ),
        Figure(
            "latency_median_ms",
            "latency, median",
            "ms",
            _median(latency["jit"]),
            _median(latency["aot"]),
        ),
        Figure(
            "latency_p95_ms",
            "latency, 95th percentile",
            "ms",
            percentile(latency["jit"], 95),
            percentile(latency["aot"], 95),
        ),
    ]
    builds: dict[str, dict[str, Any]] = {}
    for build in COMPARED_BUILDS:
        entries = per_build[build]
        first = entries[0] if entries else {}
        builds[build] = {
            "kind": first.get("kind"),
            "spec": first.get("spec"),
            "artifact_kind": first.get("artifact_kind"),
            "instances": len(entries),
            "requests_measured": len(latency[build]),
        }
    return Tradeoffs(figures=figures, builds=builds)
