"""``image:`` targets: the build runs in a Docker container started with testcontainers.

- The image must already be on the Docker engine: it is looked up before anything is
  created and a missing image fails at once (aot-parity never pulls; testcontainers would).
- The container port (:attr:`TargetOptions.container_port`) is published on a random host
  port bound to one address only: ``127.0.0.1`` when the engine is local (a unix socket or
  a loopback ``DOCKER_HOST``), else the address of the remote Docker host, which is also
  where requests go (testcontainers' ``get_container_host_ip()``; ``TC_HOST`` /
  ``TESTCONTAINERS_HOST_OVERRIDE`` and ``TESTCONTAINERS_CONNECTION_MODE`` are honoured).
- Labels ``org.aotparity.session``, ``.build``, ``.owner-pid``, ``.owner-start`` (the
  owner's create time) and ``.owner-host`` let :func:`sweep_orphan_containers` remove the
  containers of a pytest that was killed, and only those.
- Ryuk (the testcontainers reaper) is not required: aot-parity removes its containers
  itself. When Ryuk is enabled and its image is present it is used as usual; when it is
  enabled but its image is missing, :meth:`ContainerTarget.start` fails with a hint to
  set ``TESTCONTAINERS_RYUK_DISABLED=true`` instead of letting testcontainers pull it.
  aot-parity never changes that variable itself.

Measurements:

- ready seconds: from the call that creates and starts the container to the first 2xx
  answer of the health path;
- memory: from the Docker stats API, ``memory_stats.usage`` minus the inactive page cache
  (``stats.inactive_file`` on cgroup v2, ``stats.total_inactive_file`` on cgroup v1, else
  ``stats.cache``) — the figure ``docker stats`` shows as MEM USAGE;
- artifact size: the image ``Size`` reported by the Docker engine.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import docker.errors
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient
from testcontainers.core.exceptions import ContainerStartException

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.targets.base import TargetOptions, TargetSpec, TargetStartError
from pytest_aotparity.targets.health import (
    exited_failure,
    explain_stopped_start,
    health_url,
    mentions_port_taken,
    wait_until_healthy,
)
from pytest_aotparity.targets.process import owner_alive, process_create_time

LABEL_SESSION = "org.aotparity.session"
LABEL_BUILD = "org.aotparity.build"
LABEL_OWNER_PID = "org.aotparity.owner-pid"
LABEL_OWNER_START = "org.aotparity.owner-start"
LABEL_OWNER_HOST = "org.aotparity.owner-host"

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_BUILD_HINT = (
    "build the image first (for the sample app: `bash sample_app/build.sh`) and check "
    "that `docker images {name}` lists it; aot-parity never pulls images"
)


def _new_container(build: BuildName, image: str, **kwargs: Any) -> DockerContainer:
    """A :class:`DockerContainer` (not started), with a clear error when there is no engine."""
    try:
        return DockerContainer(image, **kwargs)
    except docker.errors.DockerException as exc:
        raise TargetStartError(
            build,
            f"cannot be started: the Docker engine is not reachable ({exc})",
            hint=(
                "start Docker (check with `docker info`), or point DOCKER_HOST at a running "
                "engine; without Docker, use cmd: or http(s):// targets"
            ),
        ) from exc


def engine_is_local(base_url: str) -> bool:
    """Whether the Docker engine at docker-py's ``base_url`` is reached through a local
    socket (``http+docker://localhost`` for unix sockets and named pipes) or a loopback
    address (``http://127.0.0.1:2375``), rather than ssh or a remote address."""
    parsed = urlsplit(base_url)
    if parsed.scheme.startswith("http+docker"):
        return parsed.hostname != "ssh"  # unix socket / named pipe are local, ssh is not
    return (parsed.hostname or "localhost") in _LOOPBACK


def _connect_host(container: DockerContainer, local: bool) -> str:
    overridden = testcontainers_config.tc_host_override or (
        testcontainers_config.connection_mode_override is not None
    )
    if local and not overridden:
        return "127.0.0.1"
    host = container.get_container_host_ip()
    return "127.0.0.1" if host == "localhost" else host


def _bind_ip(client: DockerClient, local: bool) -> str:
    if local:
        return "127.0.0.1"
    host = client.host()
    try:
        return socket.gethostbyname(host)
    except OSError:
        return host


def _wrapped(container: DockerContainer | None) -> Any | None:
    """The docker-py container behind a testcontainers one, or None before it exists."""
    if container is None:
        return None
    try:
        return container.get_wrapped_container()
    except ContainerStartException:
        return None


def _safe_name(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", text).strip("-.") or "x"


def memory_from_stats(stats: dict[str, Any]) -> int | None:
    """``usage`` minus the inactive page cache, like ``docker stats`` (see module docstring)."""
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if not isinstance(usage, int) or usage <= 0:
        return None
    details = memory.get("stats") or {}
    for key in ("inactive_file", "total_inactive_file", "cache"):
        value = details.get(key)
        if isinstance(value, int) and 0 <= value < usage:
            return usage - value
    return usage


class ContainerTarget:
    """A build started from an ``image:`` spec. See the module docstring."""

    def __init__(self, spec: TargetSpec, options: TargetOptions) -> None:
        if spec.kind != "image":
            raise ValueError(f"ContainerTarget needs an image: spec, got {spec.kind}")
        self.build: BuildName = spec.build
        self.spec = spec
        self.options = options
        self._lock = threading.RLock()
        self._stop_requested = False
        self._stopped = False
        self._container: DockerContainer | None = None
        self._client: DockerClient | None = None
        self._base_url: str | None = None
        self._ready_seconds: float | None = None
        self._final_tail: list[str] = []
        self._final_exit_code: int | None = None
        self._container_id: str | None = None

    def __repr__(self) -> str:
        return f"<ContainerTarget {self.build} {self.spec.value!r} {self._container_id or ''}>"

    # -- protocol -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError(f"the {self.build} target has not been started")
        return self._base_url

    @property
    def ready_seconds(self) -> float | None:
        return self._ready_seconds

    @property
    def container_id(self) -> str | None:
        return self._container_id

    @property
    def image(self) -> str:
        return self.spec.value

    def start(self) -> None:
        session = _safe_name(self.options.session_id)[:24] if self.options.session_id else "run"
        container = _new_container(
            self.build,
            self.spec.value,
            env=dict(self.options.env),
            name=f"aotparity-{self.build}-{session}-{uuid.uuid4().hex[:8]}",
        )
        client = container.get_docker_client()
        with self._lock:
            if self._stop_requested or self._client is not None:
                client.client.close()
            if self._stop_requested:
                raise TargetStartError(self.build, "was stopped before it was started")
            if self._client is not None:
                raise RuntimeError(f"the {self.build} target was already started")
            self._client = client
        try:
            self._start(container, client)
        except TargetStartError as exc:
            self.stop()
            raise explain_stopped_start(
                exc,
                self._final_exit_code,
                self.log_tail(),
                f"run it by hand to see why: docker run --rm {container.image}",
                health_path=self.options.health_path,
            ) from None
        except BaseException:
            self.stop()
            raise

    def _start(self, container: DockerContainer, client: DockerClient) -> None:
        image = container.image  # with TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX, if set
        self._require_image(client, image)
        self._require_ryuk_or_disabled(client)
        local = engine_is_local(str(client.client.api.base_url))
        bind_ip = _bind_ip(client, local)
        port_key = f"{self.options.container_port}/tcp"
        owner = os.getpid()
        labels = {
            LABEL_SESSION: self.options.session_id or "",
            LABEL_BUILD: self.build,
            LABEL_OWNER_PID: str(owner),
            LABEL_OWNER_START: f"{process_create_time(owner) or 0.0:.2f}",
            LABEL_OWNER_HOST: socket.gethostname(),
        }
        # A random host port on one address only; docker-py takes (host ip, None) for that,
        # which DockerContainer's typed helpers do not offer.
        cast(dict[str, Any], container.ports)[port_key] = (bind_ip, None)
        container.with_kwargs(labels=labels)

        with self._lock:
            if self._stop_requested:
                raise TargetStartError(self.build, "was stopped before it was started")
            self._container = container
            started_at = time.monotonic()
            try:
                container.start()
            except docker.errors.APIError as exc:
                explanation = str(getattr(exc, "explanation", None) or exc)
                if mentions_port_taken([explanation]):
                    raise TargetStartError(
                        self.build,
                        f"could not publish its port {self.options.container_port} on "
                        f"{bind_ip} ({explanation})",
                        hint="the host port is taken; look for leftover containers "
                        "(`docker ps`) or servers (`ss -ltnp`) and run again",
                    ) from exc
                raise TargetStartError(
                    self.build,
                    f"could not be started by Docker ({explanation})",
                    hint=f"try it by hand: docker run --rm -p {bind_ip}::"
                    f"{self.options.container_port} {image}",
                ) from exc
            self._container_id = str(container.get_wrapped_container().id)

        host_port = self._published_port(port_key)
        if host_port is None:
            code = self.exit_code()
            if code is not None:
                failure = exited_failure(
                    self.build,
                    code,
                    log_tail=self.log_tail(),
                    log=self.log_tail(400),
                    hint=f"run it by hand to see why: docker run --rm {image}",
                    health_path=self.options.health_path,
                    elapsed=time.monotonic() - started_at,
                    start_timeout=self.options.start_timeout,
                )
                raise TargetStartError(
                    self.build,
                    failure.summary.split(" build ", 1)[-1],
                    exit_code=code,
                    log_tail=failure.log_tail,
                    hint=failure.hint,
                    failure=failure,
                )
            raise TargetStartError(
                self.build,
                f"did not publish container port {port_key}",
                hint=f"check that the app listens on {self.options.container_port} in the "
                "container, or set the container port",
            )
        host = _connect_host(container, local)
        self._base_url = f"http://{host}:{host_port}"
        self._ready_seconds = wait_until_healthy(
            self.build,
            health_url(self._base_url, self.options.health_path),
            timeout=self.options.start_timeout,
            started_at=started_at,
            exit_code=self.exit_code,
            log_tail=self.log_tail,
            stopped=lambda: self._stop_requested,
            board=self.options.start_board,
            health_path=self.options.health_path,
            exit_hint=f"run it by hand to see why: docker run --rm -p 127.0.0.1::"
            f"{self.options.container_port} {image}",
            timeout_hint=(
                "if the build is only slow, raise the start timeout; if it serves its health "
                f"check elsewhere, set the health path (now {self.options.health_path}); "
                f"check that it listens on port {self.options.container_port} in the "
                "container (ASP.NET Core images: ASPNETCORE_HTTP_PORTS / ASPNETCORE_URLS)"
            ),
            trust_env=not local,
        )

    def stop(self) -> None:
        self._stop_requested = True
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            container, client = self._container, self._client
            self._container = self._client = None
            try:
                wrapped = _wrapped(container)
                if container is not None and wrapped is not None:
                    self._final_tail = list(self.log_tail(200, container=container))
                    self._final_exit_code = self._exit_code_of(container)
                    with contextlib.suppress(docker.errors.NotFound):
                        wrapped.remove(force=True, v=True)
            finally:
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.client.close()

    def exit_code(self) -> int | None:
        container = self._container
        if container is None:
            return self._final_exit_code
        return self._exit_code_of(container)

    def log_tail(
        self, lines: int = 40, *, container: DockerContainer | None = None
    ) -> Sequence[str]:
        wrapped = _wrapped(container or self._container)
        if wrapped is None:
            return self._final_tail[-lines:] if lines > 0 else []
        if lines <= 0:
            return []
        try:
            raw: bytes = wrapped.logs(stdout=True, stderr=True, tail=lines)
        except docker.errors.APIError:
            return self._final_tail[-lines:]
        return raw.decode("utf-8", errors="replace").splitlines()[-lines:]

    def memory_rss_bytes(self) -> int | None:
        client, container_id = self._client, self._container_id
        if client is None or container_id is None:
            return None
        try:
            api = client.client.api
            extra = {"one_shot": True} if _api_at_least(str(api.api_version), (1, 41)) else {}
            stats = api.stats(container_id, stream=False, **extra)
        except docker.errors.APIError:
            return None
        return memory_from_stats(stats) if isinstance(stats, dict) else None

    def artifact_size_bytes(self) -> int | None:
        client = self._client or None
        close = False
        if client is None:
            try:
                client, close = DockerClient(), True
            except docker.errors.DockerException:
                return None
        try:
            image = client.client.images.get(
                testcontainers_config.hub_image_name_prefix + self.spec.value
            )
            size = image.attrs.get("Size")
        except docker.errors.DockerException:
            return None
        finally:
            if close:
                client.client.close()
        return int(size) if isinstance(size, int) else None

    # -- internals ------------------------------------------------------------------
    def _require_image(self, client: DockerClient, image: str) -> None:
        try:
            client.client.images.get(image)
        except docker.errors.ImageNotFound:
            name = image.rsplit(":", 1)[0] if "/" not in image.rsplit(":", 1)[-1] else image
            raise TargetStartError(
                self.build,
                f"cannot be started: the image {image} is not on the Docker engine",
                hint=_BUILD_HINT.format(name=name),
            ) from None
        except docker.errors.APIError as exc:
            raise TargetStartError(
                self.build, f"cannot be started: looking up the image {image} failed ({exc})"
            ) from exc

    def _require_ryuk_or_disabled(self, client: DockerClient) -> None:
        if testcontainers_config.ryuk_disabled:
            return
        ryuk = testcontainers_config.ryuk_image
        try:
            client.client.images.get(ryuk)
        except docker.errors.ImageNotFound:
            raise TargetStartError(
                self.build,
                f"cannot be started: testcontainers' reaper Ryuk is enabled but its image "
                f"{ryuk} is not on the Docker engine (and aot-parity never pulls images)",
                hint=(
                    "set TESTCONTAINERS_RYUK_DISABLED=true: aot-parity removes its own "
                    "containers at the end of the run, on SIGTERM, and sweeps those of killed "
                    f"runs on the next one; or make {ryuk} available locally"
                ),
            ) from None

    def _published_port(self, port_key: str) -> str | None:
        wrapped = _wrapped(self._container)
        if wrapped is None:
            return None
        for _ in range(20):
            wrapped.reload()
            bindings = (wrapped.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(port_key)
            if bindings:
                return str(bindings[0]["HostPort"])
            if wrapped.status in {"exited", "dead"}:
                return None
            time.sleep(0.05)
        return None

    @staticmethod
    def _exit_code_of(container: DockerContainer) -> int | None:
        wrapped = _wrapped(container)
        if wrapped is None:
            return None
        try:
            wrapped.reload()
        except docker.errors.NotFound:
            return None
        state = wrapped.attrs.get("State") or {}
        if state.get("Status") in {"exited", "dead"}:
            return int(state.get("ExitCode", -1))
        return None


def _api_at_least(version: str, minimum: tuple[int, int]) -> bool:
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= minimum


@dataclass(frozen=True)
class SweptContainer:
    container_id: str
    name: str
    build: str
    owner_pid: int


def sweep_orphan_containers(client: DockerClient | None = None) -> list[SweptContainer]:
    """Remove the containers labelled by aot-parity on this host whose owning pytest is dead.
    Containers of live sessions (any live owner pid with the recorded start time) and of
    other hosts sharing the engine are left alone."""
    own_client = client is None
    if client is None:
        client = DockerClient()
    swept: list[SweptContainer] = []
    host = socket.gethostname()
    try:
        found = client.client.api.containers(all=True, filters={"label": LABEL_OWNER_PID})
        for item in found:
            labels: dict[str, str] = item.get("Labels") or {}
            if labels.get(LABEL_OWNER_HOST) != host:
                continue
            try:
                owner_pid = int(labels.get(LABEL_OWNER_PID, ""))
            except ValueError:
                continue
            try:
                owner_start: float | None = float(labels.get(LABEL_OWNER_START, ""))
            except ValueError:
                owner_start = None
            if owner_start == 0.0:
                owner_start = None
            if owner_alive(owner_pid, owner_start):
                continue
            try:
                client.client.api.remove_container(item["Id"], force=True, v=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError:
                continue  # e.g. "removal already in progress": a parallel sweep has it
            names = item.get("Names") or [""]
            swept.append(
                SweptContainer(
                    container_id=str(item["Id"]),
                    name=str(names[0]).lstrip("/"),
                    build=labels.get(LABEL_BUILD, ""),
                    owner_pid=owner_pid,
                )
            )
    finally:
        if own_client:
            client.client.close()
    return swept
