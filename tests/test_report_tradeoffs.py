"""Trade-off figures: measuring, traffic payloads, aggregation over xdist workers, ratios."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_aotparity.exchange import Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.report.tradeoffs import (
    Figure,
    Traffic,
    compute_tradeoffs,
    endpoint_of,
    figures_at_end,
    figures_at_start,
    format_value,
    percentile,
    traffic_of,
)


class FakeTarget:
    def __init__(self, size: int | None, rss: int | None, *, broken: bool = False) -> None:
        self.size = size
        self.rss = rss
        self.broken = broken

    @property
    def ready_seconds(self) -> float | None:
        return 0.5

    def memory_rss_bytes(self) -> int | None:
        if self.broken:
            raise RuntimeError("docker went away")
        return self.rss

    def artifact_size_bytes(self) -> int | None:
        if self.broken:
            raise RuntimeError("docker went away")
        return self.size


def exchange(path: str, jit_ms: float, aot_ms: float, *, aot_error: bool = False) -> Exchange:
    return Exchange(
        request=RecordedRequest("get", path),
        jit=RecordedResponse("jit", 200, elapsed_ms=jit_ms),
        aot=(
            RecordedResponse("aot", None, elapsed_ms=aot_ms, error="connection reset")
            if aot_error
            else RecordedResponse("aot", 200, elapsed_ms=aot_ms)
        ),
    )


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 95) is None


def test_figures_at_start_and_end_never_raise() -> None:
    good = figures_at_start(FakeTarget(32_500_000, 41_000_000), "image")
    assert good == {
        "artifact_kind": "image",
        "artifact_size_bytes": 32_500_000,
        "rss_start_bytes": 41_000_000,
        "rss_end_bytes": None,
    }
    broken = figures_at_start(FakeTarget(1, 1, broken=True), "cmd")
    assert broken["artifact_kind"] == "publish output"
    assert broken["artifact_size_bytes"] is None
    assert broken["rss_start_bytes"] is None
    assert figures_at_end(FakeTarget(1, 2)) == {"rss_end_bytes": 2}
    assert figures_at_end(FakeTarget(1, 2, broken=True)) == {"rss_end_bytes": None}
    assert figures_at_start(FakeTarget(None, None), "url")["artifact_kind"] is None


def test_traffic_payload_and_aggregation() -> None:
    payload = traffic_of(
        [
            exchange("/players/7", 2.0, 1.0),
            exchange("/players/8?x=1", 4.0, 3.0),
            exchange("/players", 6.0, 5.0, aot_error=True),
        ]
    )
    assert payload["endpoints"] == {"GET /players/{id}": 2, "GET /players": 1}
    assert payload["elapsed_ms"] == {"jit": [2.0, 4.0, 6.0], "aot": [1.0, 3.0]}
    traffic = Traffic()
    traffic.add(payload)
    traffic.add(payload)
    traffic.add(None)
    traffic.add({"elapsed_ms": {"jit": ["x", float("nan")]}})
    assert traffic.endpoints["GET /players/{id}"] == 4
    assert traffic.elapsed_ms["jit"] == [2.0, 4.0, 6.0, 2.0, 4.0, 6.0]


def test_endpoint_uses_the_template_when_known() -> None:
    ex = exchange("/players/7", 1, 1)
    assert endpoint_of(ex) == "GET /players/{id}"
    templated = Exchange(
        request=RecordedRequest("POST", "/teams/x1", path_template="/teams/{code}"),
        jit=ex.jit,
        aot=ex.aot,
    )
    assert endpoint_of(templated) == "POST /teams/{code}"
    assert endpoint_of(exchange("/players/abc", 1, 1), known_ids={"abc"}) == "GET /players/{id}"


def target(build: str, **figures: Any) -> dict[str, Any]:
    return {"build": build, "kind": "image", "spec": f"app:{build}", "worker": None, **figures}


def test_compute_tradeoffs_medians_over_workers_and_ratios() -> None:
    traffic = Traffic()
    traffic.add({"elapsed_ms": {"jit": [10.0, 20.0, 30.0], "aot": [5.0, 5.0, 40.0]}})
    targets = [
        target(
            "jit",
            artifact_kind="image",
            artifact_size_bytes=100,
            ready_seconds=1.0,
            rss_start_bytes=80,
            rss_end_bytes=90,
            worker="gw0",
        ),
        target(
            "jit",
            artifact_kind="image",
            artifact_size_bytes=100,
            ready_seconds=3.0,
            rss_start_bytes=82,
            rss_end_bytes=None,
            worker="gw1",
        ),
        target(
            "aot",
            artifact_kind="image",
            artifact_size_bytes=25,
            ready_seconds=0.5,
            rss_start_bytes=40,
            rss_end_bytes=45,
            worker="gw0",
        ),
        target(
            "aot",
            artifact_kind="image",
            artifact_size_bytes=25,
            ready_seconds=0.5,
            rss_start_bytes=None,
            rss_end_bytes=None,
            worker="gw1",
        ),
        target("noise", artifact_size_bytes=999, ready_seconds=9.0),
    ]
    result = compute_tradeoffs(targets, traffic)
    size = result.figure("artifact_size_bytes")
    assert size is not None
    assert size.label == "image size"
    assert (size.jit, size.aot, size.ratio) == (100, 25, 0.25)
    ready = result.figure("ready_seconds")
    assert ready is not None
    assert (ready.jit, ready.aot) == (2.0, 0.5)
    rss = result.figure("rss_start_bytes")
    assert rss is not None
    assert (rss.jit, rss.aot) == (81.0, 40.0)
    median = result.figure("latency_median_ms")
    p95 = result.figure("latency_p95_ms")
    assert median is not None
    assert p95 is not None
    assert (median.jit, median.aot) == (20.0, 5.0)
    assert (p95.jit, p95.aot) == (30.0, 40.0)
    assert result.builds["jit"]["instances"] == 2
    assert result.builds["aot"]["requests_measured"] == 3
    assert "noise" not in result.builds
    data = result.to_dict()
    assert [f["figure"] for f in data["figures"]] == [
        "artifact_size_bytes",
        "ready_seconds",
        "rss_start_bytes",
        "rss_end_bytes",
        "latency_median_ms",
        "latency_p95_ms",
    ]
    lines = result.render_lines()
    assert "aot/jit" in lines[0]
    assert any("image size" in line and "0.25x" in line for line in lines)
    assert all(line.isascii() for line in lines)


def test_unknown_figures_are_none_and_shown_as_na() -> None:
    result = compute_tradeoffs([target("jit"), target("aot")], Traffic())
    for figure in result.figures:
        assert figure.jit is None
        assert figure.ratio is None
    assert any("n/a" in line for line in result.render_lines())
    publish = compute_tradeoffs(
        [
            target("jit", artifact_kind="publish output"),
            target("aot", artifact_kind="publish output"),
        ],
        Traffic(),
    )
    assert publish.figures[0].label == "publish output size"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (131_700_000, "bytes", "131.7 MB"),
        (13_200, "bytes", "13.2 kB"),
        (2_500_000_000, "bytes", "2.50 GB"),
        (0.939, "s", "0.94 s"),
        (2.1, "ms", "2.10 ms"),
        (None, "ms", "n/a"),
    ],
)
def test_format_value(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_ratio_needs_a_positive_jit_figure() -> None:
    assert Figure("x", "x", "s", 0.0, 1.0).ratio is None
    assert Figure("x", "x", "s", 2.0, 1.0).ratio == 0.5
