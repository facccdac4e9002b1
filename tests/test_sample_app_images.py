"""The sample app's two real builds: both images exist after sample_app/build.sh, start,
answer /health, list the seeded players and stop cleanly; build.sh refuses to run, at once
and without tagging anything, when a prerequisite is missing.

These need Docker and the images that `sample_app/build.sh` tags (scripts/test builds them
first). They are never skipped: a missing engine or image is a failure.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD_SH = REPO / "sample_app" / "build.sh"
IMAGES = {"jit": "aotparity-sample:jit", "aot": "aotparity-sample:aot"}

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    client.ping()
    yield client
    client.close()


def wait_healthy(url: str, timeout: float = 60.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} was not healthy within {timeout} s")


@pytest.mark.parametrize("build", ["jit", "aot"])
def test_image_is_non_root_and_listens_on_8080(engine: docker.DockerClient, build: str) -> None:
    config = engine.images.get(IMAGES[build]).attrs["Config"]
    assert config["User"] not in ("", "0", "root")
    assert "8080/tcp" in config["ExposedPorts"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["ASPNETCORE_URLS"] == "http://0.0.0.0:8080"
    assert env["ASPNETCORE_ENVIRONMENT"] == "Production"
    assert env["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] == "true"


def test_aot_image_is_smaller_and_has_no_runtime(engine: docker.DockerClient) -> None:
    jit = engine.images.get(IMAGES["jit"])
    aot = engine.images.get(IMAGES["aot"])
    assert aot.attrs["Size"] < jit.attrs["Size"]
    assert aot.attrs["Config"]["Entrypoint"] == ["/app/Players.Api"]
    assert jit.attrs["Config"]["Entrypoint"][0] == "/usr/share/dotnet/dotnet"


@pytest.mark.parametrize("build", ["jit", "aot"])
def test_image_starts_serves_and_stops_cleanly(engine: docker.DockerClient, build: str) -> None:
    container = engine.containers.run(
        IMAGES[build],
        detach=True,
        ports={"8080/tcp": ("127.0.0.1", None)},
        labels={"org.aotparity.test": "sample-image"},
    )
    try:
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
        assert binding["HostIp"] == "127.0.0.1"
        base = f"http://127.0.0.1:{binding['HostPort']}"
        wait_healthy(f"{base}/health")
        assert httpx.get(f"{base}/health").text == "Healthy"

        players = httpx.get(f"{base}/players", timeout=10.0)
        assert players.status_code == 200
        body = players.json()
        assert len(body) == 26
        assert {p["lastName"] for p in body} >= {"Messi", "Di María", "Martínez"}

        container.stop(timeout=10)
        result = container.wait(timeout=15)
        assert result["StatusCode"] == 0, container.logs(tail=30).decode()
        assert "Application is shutting down" in container.logs().decode()
    finally:
        container.remove(force=True)


def sandbox_path(tmp_path: Path, hide: set[str]) -> str:
    """A PATH with every command of this machine except the ones in ``hide``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = bin_dir / entry.name
            if (
                entry.name in hide
                or target.exists()
                or (entry.name.startswith("clang") and "clang" in hide)
            ):
                continue
            target.symlink_to(entry.path)
    return str(bin_dir)


@pytest.mark.parametrize(
    ("hide", "env", "expected"),
    [
        ({"dotnet"}, {}, "the .NET SDK is missing"),
        ({"docker"}, {}, "Docker is missing"),
        (
            set(),
            {"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
            "the Docker engine does not answer",
        ),
        ({"clang", "gcc", "cc"}, {}, "neither clang nor gcc is on PATH"),
    ],
    ids=["no-sdk", "no-docker", "no-engine", "no-clang"],
)
def test_build_sh_stops_at_once_when_a_prerequisite_is_missing(
    engine: docker.DockerClient, tmp_path: Path, hide: set[str], env: dict[str, str], expected: str
) -> None:
    before = {build: engine.images.get(tag).id for build, tag in IMAGES.items()}
    gcc_like = {
        name for name in os.listdir("/usr/bin") if name.startswith(("gcc", "x86_64-linux-gnu-gcc"))
    }
    hidden = hide | (gcc_like if "gcc" in hide else set())
    proc = subprocess.run(
        ["bash", str(BUILD_SH)],
        check=False,
        env={**os.environ, "PATH": sandbox_path(tmp_path, hidden), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert "how to fix:" in proc.stderr
    # Stopped before publishing anything (a publish takes tens of seconds).
    assert "published" not in proc.stdout
    after = {build: engine.images.get(tag).id for build, tag in IMAGES.items()}
    assert after == before
