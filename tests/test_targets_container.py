"""image: targets, run for real on the Docker engine with the sample app images
(``bash sample_app/build.sh`` builds ``aotparity-sample:jit`` and ``:aot``)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest
from testcontainers.core.config import testcontainers_config

from pytest_aotparity.targets import (
    HealthPathError,
    StartFailedError,
    TargetOptions,
    TargetStartError,
    parse_target,
    start_targets,
    stop_targets,
    sweep_orphans,
)
from pytest_aotparity.targets.container import (
    LABEL_BUILD,
    LABEL_OWNER_HOST,
    LABEL_OWNER_PID,
    LABEL_OWNER_START,
    LABEL_SESSION,
    ContainerTarget,
    engine_is_local,
    memory_from_stats,
    sweep_orphan_containers,
)

pytestmark = pytest.mark.docker

JIT = "aotparity-sample:jit"
AOT = "aotparity-sample:aot"


@pytest.fixture(autouse=True)
def _ryuk_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reaper image cannot be pulled here; CI sets TESTCONTAINERS_RYUK_DISABLED=true.
    if "TESTCONTAINERS_RYUK_DISABLED" not in os.environ:
        monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    for image in (JIT, AOT):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"{image} is missing: build it with `bash sample_app/build.sh`")
    yield client
    client.close()


def _ours(engine: docker.DockerClient) -> list[Any]:
    return list(engine.containers.list(all=True, filters={"label": LABEL_SESSION}))


def _removed(engine: docker.DockerClient, container_id: str) -> bool:
    try:
        engine.containers.get(container_id)
    except docker.errors.NotFound:
        return True
    return False


def test_sample_images_start_together_on_loopback_with_labels_and_figures(
    engine: docker.DockerClient,
) -> None:
    options = TargetOptions(session_id="test-session", start_timeout=90)
    specs = [parse_target(f"image:{JIT}", "jit"), parse_target(f"image:{AOT}", "aot")]
    targets = start_targets(specs, options)
    ids: dict[str, str] = {}
    try:
        for build, target in targets.items():
            assert isinstance(target, ContainerTarget)
            assert target.container_id is not None
            ids[build] = target.container_id
            assert target.base_url.startswith("http://127.0.0.1:")
            assert httpx.get(target.base_url + "/health", trust_env=False).status_code == 200
            players = httpx.get(target.base_url + "/players", trust_env=False)
            assert players.status_code == 200
            assert target.ready_seconds is not None
            assert target.ready_seconds > 0
            memory = target.memory_rss_bytes()
            assert memory is not None
            assert memory > 1024 * 1024
            image = engine.images.get(JIT if build == "jit" else AOT)
            assert target.artifact_size_bytes() == image.attrs["Size"]
            assert image.attrs["Size"] > 0
            assert target.exit_code() is None

            attrs = engine.containers.get(target.container_id).attrs
            labels = attrs["Config"]["Labels"]
            assert labels[LABEL_SESSION] == "test-session"
            assert labels[LABEL_BUILD] == build
            assert labels[LABEL_OWNER_PID] == str(os.getpid())
            assert labels[LABEL_OWNER_HOST] == socket.gethostname()
            assert float(labels[LABEL_OWNER_START]) > 0
            bindings = attrs["HostConfig"]["PortBindings"]["8080/tcp"]
            assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
            published = attrs["NetworkSettings"]["Ports"]["8080/tcp"]
            assert published
            assert {b["HostIp"] for b in published} == {"127.0.0.1"}
            assert target.base_url.endswith(":" + published[0]["HostPort"])
        assert targets["jit"].base_url != targets["aot"].base_url
    finally:
        report = stop_targets(targets.values())
    assert report, report.render()
    for container_id in ids.values():
        assert _removed(engine, container_id)
    for target in targets.values():
        target.stop()  # idempotent


def test_missing_image_fails_fast_without_pulling(engine: docker.DockerClient) -> None:
    before = {c.id for c in _ours(engine)}
    since = int(time.time()) - 1
    target = ContainerTarget(
        parse_target("image:aotparity-sample:no-such-tag", "aot"), TargetOptions()
    )
    with pytest.raises(TargetStartError) as info:
        target.start()
    message = str(info.value)
    assert message.startswith(
        "aot-parity: the AOT build cannot be started: the image "
        "aotparity-sample:no-such-tag is not on the Docker engine"
    )
    assert "bash sample_app/build.sh" in message
    assert "docker images aotparity-sample" in message
    assert "never pulls" in message
    events = engine.events(
        since=since, until=int(time.time()) + 1, decode=True, filters={"type": "image"}
    )
    assert [e for e in events if e.get("Action") == "pull"] == []
    assert {c.id for c in _ours(engine)} == before


def test_ryuk_enabled_without_its_image_asks_to_disable_it(
    engine: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", False)
    monkeypatch.setattr(testcontainers_config, "ryuk_image", "testcontainers/ryuk:0.0.0-absent")
    before = {c.id for c in _ours(engine)}
    target = ContainerTarget(parse_target(f"image:{AOT}", "aot"), TargetOptions())
    with pytest.raises(TargetStartError) as info:
        target.start()
    message = str(info.value)
    assert "Ryuk is enabled but its image testcontainers/ryuk:0.0.0-absent" in message
    assert "set TESTCONTAINERS_RYUK_DISABLED=true" in message
    assert {c.id for c in _ours(engine)} == before


def test_container_exiting_during_the_wait_reports_exit_code_and_log(
    engine: docker.DockerClient,
) -> None:
    options = TargetOptions(env={"ASPNETCORE_URLS": "ftp://0.0.0.0:8080"}, start_timeout=60)
    target = ContainerTarget(parse_target(f"image:{AOT}", "aot"), options)
    with pytest.raises(TargetStartError) as info:
        target.start()
    error = info.value
    assert str(error).startswith(
        f"aot-parity: the AOT build exited at start (exit {error.exit_code}"
    )
    assert error.exit_code not in (None, 0)
    # the real .NET output of the AOT build, parsed
    failure = error.failure
    assert failure is not None
    assert failure.kind == "exited"
    assert failure.exception_type == "System.InvalidOperationException"
    assert failure.exception_message is not None
    assert "Unrecognized scheme in server address 'ftp://0.0.0.0:8080'" in failure.exception_message
    assert failure.frames[0].startswith(
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.AddressBinder.ParseAddress("
    )
    assert error.log_tail
    assert "docker run --rm" in error.hint
    assert target.container_id is not None
    assert _removed(engine, target.container_id)


def _none_of_ours_left(engine: docker.DockerClient) -> bool:
    return all(c.labels.get(LABEL_OWNER_PID) != str(os.getpid()) for c in _ours(engine))


@pytest.mark.timeout(300)
def test_wrong_health_path_is_judged_without_waiting_the_timeout(
    engine: docker.DockerClient,
) -> None:
    # A start timeout no test may wait out: the health path is judged on its answers.
    options = TargetOptions(health_path="/nope", start_timeout=600)
    with pytest.raises(HealthPathError) as info:
        start_targets([parse_target(f"image:{JIT}", "jit")], options)
    message = str(info.value)
    assert message.startswith(
        "aot-parity: no build answers 2xx on the health path /nope (the JIT build answers 404)"
    )
    assert "--aot-parity-health PATH (ini aot_parity_health)" in message
    assert _none_of_ours_left(engine)


@pytest.mark.timeout(300)
def test_aot_image_answering_500_where_jit_answers_200_is_judged(
    engine: docker.DockerClient,
) -> None:
    # The sample app's AOT build answers 500 on /players/starting11 (docs/sample-app-findings.md)
    options = TargetOptions(health_path="/players/starting11", start_timeout=600)
    specs = [parse_target(f"image:{JIT}", "jit"), parse_target(f"image:{AOT}", "aot")]
    with pytest.raises(StartFailedError) as info:
        start_targets(specs, options)
    failure = info.value.failure
    assert failure is not None
    assert failure.kind == "unhealthy"
    assert failure.summary == (
        "the AOT build answers 500 on /players/starting11 where the JIT build answers 200"
    )
    aot = failure.answer_of("aot")
    assert aot is not None
    assert aot.content_type is not None
    assert aot.content_type.startswith("application/problem+json")
    assert _none_of_ours_left(engine)


def test_container_that_does_not_answer_times_out(engine: docker.DockerClient) -> None:
    # Nothing listens on the published container port: no answer at all, so the timeout.
    options = TargetOptions(container_port=9999, start_timeout=3)
    with pytest.raises(StartFailedError) as info:
        start_targets([parse_target(f"image:{JIT}", "jit")], options)
    failure = info.value.failure
    assert failure is not None
    assert failure.kind == "timeout"
    assert failure.summary.startswith(
        "the JIT build was not healthy after 3 s on http://127.0.0.1:"
    )
    assert _none_of_ours_left(engine)


def test_sweep_removes_only_containers_whose_owner_is_dead(engine: docker.DockerClient) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()

    def create(owner: int, owner_host: str, build: str) -> Any:
        return engine.containers.create(
            AOT,
            labels={
                LABEL_SESSION: "old",
                LABEL_BUILD: build,
                LABEL_OWNER_PID: str(owner),
                LABEL_OWNER_HOST: owner_host,
            },
        )

    orphan = create(dead.pid, host, "aot")
    live = create(os.getpid(), host, "jit")
    elsewhere = create(dead.pid, "another-host", "noise")
    try:
        swept = {s.container_id: s for s in sweep_orphan_containers()}
        # (another test running in parallel may sweep the orphan first; it must be gone)
        assert _removed(engine, orphan.id)
        assert orphan.id not in swept or swept[orphan.id].build == "aot"
        assert live.id not in swept
        assert elsewhere.id not in swept
        assert not _removed(engine, live.id)
        assert not _removed(engine, elsewhere.id)
    finally:
        for container in (orphan, live, elsewhere):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


CHILD = textwrap.dedent(
    """
    import sys, time
    from testcontainers.core.config import testcontainers_config
    from pytest_aotparity.targets import TargetOptions, parse_target, start_targets
    testcontainers_config.ryuk_disabled = True
    targets = start_targets([parse_target(sys.argv[1], "aot")], TargetOptions(session_id="k"))
    print("READY", targets["aot"].container_id, flush=True)
    time.sleep(300)
    """
)


def test_containers_of_a_killed_pytest_are_swept_on_the_next_run(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), f"image:{AOT}"], stdout=subprocess.PIPE, text=True
    )
    container_id = ""
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("READY "), line
        container_id = line.split()[1]
        child.kill()
        child.wait(timeout=10)
        assert engine.containers.get(container_id).status == "running"
        report = sweep_orphans(tmp_path / "state")
        assert report.docker_error is None
        assert _removed(engine, container_id)
        if any(c.container_id == container_id for c in report.containers):  # not swept by a
            assert "removed container aotparity-aot-k-" in report.render()  # parallel test
    finally:
        child.kill()
        child.wait()
        if container_id and not _removed(engine, container_id):
            engine.containers.get(container_id).remove(force=True)


def test_memory_from_stats_uses_the_docker_stats_formula() -> None:
    v2 = {"memory_stats": {"usage": 1000, "stats": {"inactive_file": 300, "anon": 600}}}
    v1 = {"memory_stats": {"usage": 1000, "stats": {"total_inactive_file": 100, "cache": 400}}}
    old = {"memory_stats": {"usage": 1000, "stats": {"cache": 400}}}
    assert memory_from_stats(v2) == 700
    assert memory_from_stats(v1) == 900
    assert memory_from_stats(old) == 600
    assert memory_from_stats({"memory_stats": {"usage": 1000}}) == 1000
    assert memory_from_stats({"memory_stats": {}}) is None


@pytest.mark.parametrize(
    ("base_url", "local"),
    [
        ("http+docker://localhost", True),  # unix socket (docker-py's spelling)
        ("http+docker://localnpipe", True),  # Windows named pipe
        ("http://127.0.0.1:2375", True),
        ("http://localhost:2375", True),
        ("http+docker://ssh", False),
        ("https://10.0.0.5:2376", False),
        ("http://docker.internal.example:2375", False),
    ],
)
def test_engine_is_local(base_url: str, local: bool) -> None:
    assert engine_is_local(base_url) is local
