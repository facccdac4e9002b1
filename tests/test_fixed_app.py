"""The fixed players app (sample_app/src/Players.Fixed): today's sample app with every divergence
of docs/sample-app-findings.md fixed the official way. Its two images (``aotparity-fixed:jit``
and ``:aot``, built by sample_app/build.sh) start and serve like the sample app's, its AOT
publish has no trim/AOT warning, and the gate — the sample app's httpx suite mirrored plus the
generated tests at their default example count — says proceed with nothing reported, under
several hypothesis seeds.

Needs Docker, the images and the publish outputs: scripts/test builds them first. Never skipped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests.test_sample_app_images import wait_healthy

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "sample_app" / "tests"
OUT = REPO / "sample_app" / "out" / "fixed"
IMAGES = {"jit": "aotparity-fixed:jit", "aot": "aotparity-fixed:aot"}
# Different seeds draw different generated requests; each run must find nothing.
SEEDS = ["20261205", "1", "987654321"]

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine() -> Any:
    client = docker.from_env()
    client.ping()
    yield client
    client.close()


@pytest.mark.parametrize("build", ["jit", "aot"])
def test_image_is_non_root_and_configured_like_the_sample_app(engine: Any, build: str) -> None:
    image = engine.images.get(IMAGES[build])
    config = image.attrs["Config"]
    assert config["User"] not in ("", "0", "root")
    assert "8080/tcp" in config["ExposedPorts"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["ASPNETCORE_URLS"] == "http://0.0.0.0:8080"
    assert env["ASPNETCORE_ENVIRONMENT"] == "Production"
    assert (
        config["Entrypoint"]
        == {
            "jit": ["/usr/share/dotnet/dotnet", "/app/Players.Fixed.dll"],
            "aot": ["/app/Players.Fixed"],
        }[build]
    )


@pytest.mark.parametrize("build", ["jit", "aot"])
def test_image_starts_serves_every_field_and_stops_cleanly(engine: Any, build: str) -> None:
    container = engine.containers.run(
        IMAGES[build],
        detach=True,
        ports={"8080/tcp": ("127.0.0.1", None)},
        labels={"org.aotparity.test": "fixed-image"},
    )
    try:
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
        base = f"http://127.0.0.1:{binding['HostPort']}"
        wait_healthy(f"{base}/health")
        assert httpx.get(f"{base}/health").text == "Healthy"

        players = httpx.get(f"{base}/players", timeout=10.0).json()
        assert len(players) == 26
        messi = httpx.get(f"{base}/players/10", timeout=10.0).json()
        # the members Players.Api's AOT build lost (findings 1 and 2)
        assert messi["squadNumber"] == 10
        assert messi["team"] == "Paris Saint-Germain"
        assert messi["league"] == "Ligue 1"
        assert messi["starting11"] is True
        assert messi["positionName"] == "Right Winger"
        # findings 5 and 6: the collection mapping and the league summary
        assert len(httpx.get(f"{base}/players/starting11", timeout=10.0).json()) == 11
        leagues = httpx.get(f"{base}/players/leagues", timeout=10.0)
        assert leagues.status_code == 200
        assert sum(entry["players"] for entry in leagues.json()) == 26
        # finding 3: the validator runs
        invalid = httpx.post(f"{base}/players", json={"squadNumber": 120}, timeout=10.0)
        assert invalid.status_code == 400
        assert "SquadNumber" in invalid.json()["errors"]

        container.stop(timeout=10)
        result = container.wait(timeout=15)
        assert result["StatusCode"] == 0, container.logs(tail=30).decode()
    finally:
        container.remove(force=True)


@pytest.mark.dotnet
def test_aot_publish_has_no_trim_or_aot_warning() -> None:
    warnings = json.loads((OUT / "aot-warnings.json").read_text(encoding="utf-8"))
    assert warnings["count"] == 0, warnings["by_code"]
    log = (OUT / "aot-publish.log").read_text(encoding="utf-8", errors="replace")
    assert "Players.Fixed ->" in log  # the publish log is the fixed app's, and it completed
    times = json.loads((OUT / "build-times.json").read_text(encoding="utf-8"))
    assert set(times) == {"jit", "aot"}


@pytest.mark.parametrize("seed", SEEDS)
def test_gate_proceeds_with_nothing_reported(pytester: pytest.Pytester, seed: str) -> None:
    for source in SUITE.glob("*.py"):
        shutil.copy(source, pytester.path / source.name)
    pytester.makeini(
        """
        [pytest]
        aot_parity_base_url_env = PLAYERS_API_URL
        """
    )
    report_path = pytester.path / "parity.json"
    result = pytester.runpytest_subprocess(
        "-p",
        "aotparity",
        "--aot-parity",
        f"--aot-parity-jit=image:{IMAGES['jit']}",
        f"--aot-parity-aot=image:{IMAGES['aot']}",
        "--aot-parity-noise=auto",
        f"--hypothesis-seed={seed}",
        f"--aot-parity-report={report_path}",
        "-p",
        "no:cacheprovider",
        "-rA",
        timeout=900,
    )
    out = result.stdout.str()
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert result.ret == 0, out[-4000:]
    summary = report["summary"]
    assert report["verdict"]["decision"] == "proceed", report["verdict"]
    assert report["divergences"] == [], [(d["method"], d["path"]) for d in report["divergences"]]
    assert summary["divergences"] == summary["differences"] == 0
    assert summary["by_category"] == {}
    assert summary["exited"] == []
    # the whole hand-written suite and every generated test ran and compared something
    assert summary["tests_mirrored"] >= 10
    assert summary["tests_diverged"] == summary["tests_not_mirrored"] == 0
    assert summary["requests_compared"] > 100
    assert "aot-parity::openapi-document" in out
    assert "aot-parity::PUT /players/{squadNumber}" in out
    assert "verdict: PROCEED" in out
