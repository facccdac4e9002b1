"""The MVC + EF Core players app (sample_app/src/Players.Mvc), as a team writes it before
thinking of AOT: ``[ApiController]`` controllers, EF Core 10 on SQLite, AutoMapper 14,
FluentValidation validators found by scanning, Swashbuckle. Its AOT publish succeeds (with
hundreds of trim/AOT warnings); its AOT build exits at start because EF Core cannot build its
model without a JIT. What this file checks is what docs/sample-app-findings.md records:

- the JIT image starts and passes the sample app's own httpx suite (the same HTTP contract);
- the AOT image exits at start with EF Core's exception;
- the gate (``pytest --aot-parity``) says so at the top, in one message with the exit code and
  the exception, and runs no test.

Needs Docker, the images and the publish outputs: scripts/test builds them first. Never skipped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.test_sample_app_images import wait_healthy

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "sample_app" / "tests"
OUT = REPO / "sample_app" / "out" / "mvc"
IMAGES = {"jit": "aotparity-mvc:jit", "aot": "aotparity-mvc:aot"}
EF_MODEL_BUILDING = (
    "Model building is not supported when publishing with NativeAOT. Use a compiled model."
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine() -> Any:
    client = docker.from_env()
    client.ping()
    yield client
    client.close()


def copy_suite(pytester: pytest.Pytester) -> None:
    for source in SUITE.glob("*.py"):
        shutil.copy(source, pytester.path / source.name)
    pytester.makeini(
        """
        [pytest]
        aot_parity_base_url_env = PLAYERS_API_URL
        """
    )


def test_jit_image_keeps_the_sample_apps_contract(
    engine: Any, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = engine.containers.run(
        IMAGES["jit"],
        detach=True,
        ports={"8080/tcp": ("127.0.0.1", None)},
        labels={"org.aotparity.test": "mvc-image"},
    )
    try:
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
        base = f"http://127.0.0.1:{binding['HostPort']}"
        wait_healthy(f"{base}/health")
        copy_suite(pytester)
        monkeypatch.setenv("PLAYERS_API_URL", base)
        # the plugin stays off: the team's suite against the one build, as they run it today
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
        result.assert_outcomes(passed=10)
        container.stop(timeout=10)
        assert container.wait(timeout=15)["StatusCode"] == 0, container.logs(tail=30).decode()
    finally:
        container.remove(force=True)


def test_aot_image_exits_at_start_with_ef_cores_exception(engine: Any) -> None:
    container = engine.containers.run(
        IMAGES["aot"], detach=True, labels={"org.aotparity.test": "mvc-image"}
    )
    try:
        code = container.wait(timeout=60)["StatusCode"]
        logs = container.logs().decode(errors="replace")
        assert code != 0
        assert f"Unhandled exception. System.InvalidOperationException: {EF_MODEL_BUILDING}" in logs
        assert "DatabaseFacade.EnsureCreated()" in logs
    finally:
        container.remove(force=True)


@pytest.mark.dotnet
def test_aot_publish_warns_about_mvc_and_ef_core() -> None:
    warnings = json.loads((OUT / "aot-warnings.json").read_text(encoding="utf-8"))
    messages = [w["message"] for w in warnings["warnings"]]
    assert warnings["count"] > 100
    assert any("MVC does not currently support trimming or native AOT" in m for m in messages)
    assert any("EF Core isn't fully compatible with trimming" in m for m in messages)
    assert any(
        "DatabaseFacade.EnsureCreated()" in m and "not supported with NativeAOT" in m
        for m in messages
    )
    times = json.loads((OUT / "build-times.json").read_text(encoding="utf-8"))
    assert set(times) == {"jit", "aot"}


def test_gate_says_the_aot_build_exited_at_start(
    engine: Any, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    before = {c.id for c in engine.containers.list(all=True)}
    copy_suite(pytester)
    result = pytester.runpytest_subprocess(
        "-p",
        "aotparity",
        "--aot-parity",
        f"--aot-parity-jit=image:{IMAGES['jit']}",
        f"--aot-parity-aot=image:{IMAGES['aot']}",
        "--aot-parity-noise=auto",
        "--aot-parity-openapi=/swagger/v1/swagger.json",
        f"--aot-parity-report={pytester.path / 'parity.json'}",
        f"--aot-parity-warnings={OUT / 'aot-warnings.json'}",
        "-p",
        "no:cacheprovider",
        timeout=600,
    )
    out = result.stdout.str()
    # one finding at the top, not one failure per test: no test ran at all
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out[-2000:] + result.stderr.str()[-2000:]
    assert "aot-parity: the AOT build exited at start (exit " in out
    # the exception is found in the log, not only shown in its last lines
    assert f"exception: System.InvalidOperationException: {EF_MODEL_BUILDING}" in out
    assert "exit code:" in out
    assert "passed" not in out
    result.stdout.fnmatch_lines(["*FAILED aot-parity::start*", "*1 failed*"])
    # the report is written all the same, with the start failure as the verdict
    document = json.loads((pytester.path / "parity.json").read_text(encoding="utf-8"))
    assert document["verdict"]["decision"] == "reject"
    assert document["verdict"]["reason"].startswith("the AOT build exited at start (exit ")
    [failure] = document["start"]["failures"]
    assert failure["exception_type"] == "System.InvalidOperationException"
    assert failure["exception_message"].startswith(EF_MODEL_BUILDING)
    # the publish warning on EnsureCreated() is linked to it, and the model builder's
    linked = {(link["code"], link["type"]) for link in failure["warnings"]["links"]}
    assert ("IL3050", "Program") in linked
    assert any(t.endswith("DbContextServices") for _, t in linked), linked
    assert "publish warnings linked to the aot start failure:" in out
    leftovers = [
        c.labels
        for c in engine.containers.list(all=True)
        if c.id not in before and "org.aotparity.build" in c.labels
    ]
    assert leftovers == []
