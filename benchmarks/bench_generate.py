"""Do generated parity tests send request pairs as fast as schemathesis sends single requests?

    .venv/bin/python benchmarks/bench_generate.py [--examples 50] [--rounds 3] [--seed N]
        [--st-workers 1] [--pytest-arg ARG] [--no-count-check] [--keep]
        [--app fake] [--aot-flavour aot]
        [--app sample] [--jit-image aotparity-sample:jit] [--aot-image aotparity-sample:aot]
        [--cold] [--st-build jit|aot]

One run measures both sides, side by side, on one app with the same number of examples per
operation. Each side runs ``--rounds`` times, alternating which goes first; the best round
counts, the others are shown. Before every round the builds it needs are started afresh
(``127.0.0.1`` only) and waited for on ``/health``, so every round starts from the same
(seeded) data and app startup is never timed; they are stopped after the round, whatever
happens (an error, Ctrl-C, SIGTERM).

- ``--app fake`` (the default): the fake players app (``tests/fakeapps/players.py``, FastAPI,
  OpenAPI at ``/openapi.json``), one process per build on a free port; ``--aot-flavour``
  picks the flavour of the plugin's aot target.
- ``--app sample``: the real sample app (``sample_app``, .NET, OpenAPI at
  ``/openapi/v1.json``) from its Docker images, which must be built already (the script never
  pulls): per build one fresh container, ``docker run -d --rm --pull never -p 127.0.0.1::8080
  -e ASPNETCORE_ENVIRONMENT=Production IMAGE``, named ``aotparity-bench-BUILD-RUN-N`` and
  labelled ``org.aotparity.bench=RUN``; it is removed (``docker rm -f``) after the round, and
  at the end every container with this run's label is removed too, in case one escaped (e.g.
  a ``docker run`` cut short by Ctrl-C). ``--jit-image`` (default ``aotparity-sample:jit``)
  and ``--aot-image`` (default ``aotparity-sample:aot``) name the images. A fresh JIT
  container answers its first requests before the runtime has compiled its code (and keeps
  recompiling hot code in the background for a while), so before it is measured every fresh
  container gets the same untimed warm-up: ``schemathesis run`` of the coverage phase alone
  with a fixed seed (every operation, valid and invalid requests, the same writes everywhere,
  so every container starts the timed run with the same data). ``--cold`` leaves the warm-up
  out: the JIT compiler's work is then timed too — on the plugin's side twice when both of
  its targets are JIT containers. Against the aot image the plugin finds the sample
  app's real divergences, and also the ``traceId`` of every problem-details body (add
  ``--pytest-arg=--aot-parity-ignore=$..traceId`` to leave that out).

- **plugin**: ``pytest --aot-parity`` in an empty temporary directory (an empty
  ``pytest.ini``, ``-p no:cacheprovider``, no hand-written test), the jit and aot flavours
  given as ``http://127.0.0.1:PORT`` targets (for the sample app with
  ``--aot-parity-openapi=/openapi/v1.json``), ``--aot-parity-examples=N`` and
  ``--aot-parity-stateful-steps=0`` (the stateful test is left out; the per-operation tests
  and the OpenAPI document comparison run). The count is the number of lines in
  ``--aot-parity-generate-log``: one per request pair generated for an operation —
  schemathesis' boundary (coverage) cases, the N hypothesis examples of the search, and the
  variants sent while shrinking what diverged (the fake aot app diverges on purpose, so there
  is shrinking; pytest exits 1, which is expected); each round runs in a fresh directory, so
  nothing is replayed from an earlier round. Not counted, though their time is included: the
  document comparison (one pair), the GETs that harvest real path values from the jit build,
  and the DELETEs that undo creates only one build accepted. ``--aot-flavour jit`` gives the
  plugin two jit-flavour apps instead: nothing (or little) diverges, so nothing is shrunk. For
  the sample app the same comparison is ``--aot-image aotparity-sample:jit`` (two containers
  of the jit image: any aot image with the jit image's id). Two instances of the same build
  still answer some requests differently: in the sample app the ``traceId`` of every
  problem-details body (404, 400, ...) differs from request to request, and nothing else did
  (three runs of 100 examples per operation). So with two jit images the plugin also gets
  ``--aot-parity-ignore=$..traceId`` (the table's header says so), and nothing diverges.
- **schemathesis**: ``schemathesis run`` against the jit build's (``--st-build aot``: the aot
  build's; its 5xx answers then fail the check and schemathesis shrinks them, as the plugin
  shrinks divergences) OpenAPI document
  (``/openapi.json``, for the sample app ``/openapi/v1.json``) with
  ``--max-examples N --phases coverage,fuzzing --mode all --checks not_a_server_error
  --suppress-health-check all --workers 1`` (the examples phase is left out: the document has
  no examples; the stateful phase is left out as on the plugin side; ``not_a_server_error``
  sends no request of its own; one worker is schemathesis' default and matches the plugin,
  which runs one generated test at a time). The count is the ``N generated`` of its summary
  (test cases; one request each with that check). Unless ``--no-count-check``, one more,
  untimed, run writes a VCR cassette and the script checks that its number of recorded
  interactions equals that run's ``generated`` count. (The timed rounds write no cassette: it
  costs schemathesis ~10 %; the plugin's JSON-lines log is lighter: no response bodies.)

Three times per round, each giving a rate (requests ÷ seconds):

- **wall**: the subprocess from start to exit — interpreter startup, imports, reading the
  OpenAPI document, generation, reporting. For the plugin that includes pytest's own start
  (every installed plugin loaded) and end (pytest collects garbage several times, then the
  interpreter tears down): about 0.8 s more than the schemathesis CLI's on this project's
  machine, whatever the plugin does.
- **session**: what the tool prints as its own duration (pytest's ``in X s``, which
  includes collection, i.e. reading the document; schemathesis' closing ``in X s``).
- **phase**: request generation alone — for the plugin the sum of the setup, call and
  teardown durations (``--durations=0``) of its per-operation items; for schemathesis the
  sum of its Coverage and Fuzzing phase durations. Both load their schema (and import
  hypothesis and schemathesis' generation code) before: the plugin when its test loop
  starts, schemathesis before its phases. The table also shows the plugin's rate without
  its first item. **The requirement is judged on this one**: it asks how fast the
  generated tests send pairs, against how fast schemathesis sends requests; the other two
  add what surrounds each tool's generation.

Both sides run in this script's environment. With ``PYTHONDONTWRITEBYTECODE`` set (as in many
containers), pytest cannot cache the modules it rewrites for assertions — those of every
installed package with a pytest plugin, schemathesis and hypothesis included — so the
plugin's pytest run compiles them again each time (seconds; the table notes it); the
schemathesis CLI loads them from their ordinary ``.pyc`` files. ``--pytest-arg=--assert=plain``
shows the plugin without that cost (its generated tests need no assertion rewriting).

Both sides start each round with hypothesis' unicode tables already built (copied into the
fresh directory), as a warm machine would have them; nothing else is shared between rounds.
The requirement: plugin pairs/s ÷ schemathesis requests/s ≥ 1.0 on the phase measure,
best round against best round; the ratio of the median rounds is printed beside it (this
machine is noisy: a side's rounds often differ by 30 %). The script exits 0 whether or not
it is met, and 1 only when something failed to run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
PLAYERS = REPO / "tests" / "fakeapps" / "players.py"
LOOPBACK = "127.0.0.1"
FAKE = "fake"
SAMPLE = "sample"
OPENAPI = {FAKE: "/openapi.json", SAMPLE: "/openapi/v1.json"}
SAMPLE_JIT_IMAGE = "aotparity-sample:jit"
SAMPLE_AOT_IMAGE = "aotparity-sample:aot"
SAMPLE_PORT = 8080
SAMPLE_ENV = ("ASPNETCORE_ENVIRONMENT=Production",)
# What differs between two containers of the same sample build (found by running the
# generated tests against two jit containers): the traceId of every problem-details body.
SAMPLE_NOISE = ("$..traceId",)
CONTAINER_PREFIX = "aotparity-bench-"
BENCH_LABEL = "org.aotparity.bench"
PLUGIN = "plugin"
SCHEMATHESIS = "schemathesis"
MEASURES = ("wall", "session", "phase")
JUDGED = "phase"
"""What the requirement names: how fast the generated tests send pairs, against how fast
schemathesis' generation phases send requests."""


def label(side: str, args: argparse.Namespace) -> str:
    if side == SCHEMATHESIS:
        return f"schemathesis ({args.st_build} only)"
    return "plugin (pairs to jit+aot)"


# -- the apps --------------------------------------------------------------------------------


class BenchError(RuntimeError):
    """Something did not run as it should; the message says what."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _wait_healthy(
    url: str, gone: Callable[[], str | None], output: Callable[[], str], timeout: float
) -> None:
    """Poll ``url/health`` until it answers 200; ``gone()`` says why the app stopped (None
    while it runs), ``output()`` is its last output, for the error."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=1) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(url + "/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            stopped = gone()
            if stopped is not None:
                raise BenchError(f"the app for {url} {stopped}:\n{output()}")
            time.sleep(0.1)
    raise BenchError(f"{url} never answered /health within {timeout:g} s:\n{output()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def running_app(flavour: str, logs: Path, timeout: float) -> Iterator[str]:
    """The fake players app (``flavour``) on a free loopback port; its base URL."""
    port = _free_port()
    log = logs / f"app-{flavour}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(PLAYERS),
                "--flavour",
                flavour,
                "--host",
                LOOPBACK,
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        _wait_healthy(
            url,
            lambda: None if proc.poll() is None else f"exited with {proc.returncode}",
            lambda: _tail(log),
            timeout,
        )
        yield url
    finally:
        _stop(proc)


def _docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """``docker ARGS``; its stdout (BenchError when it fails and ``check``)."""
    try:
        proc = subprocess.run(
            ["docker", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        if not check:
            return ""
        raise BenchError(f"docker {' '.join(args)}: {exc}") from exc
    if check and proc.returncode != 0:
        raise BenchError(f"docker {' '.join(args)} exited with {proc.returncode}: {proc.stderr}")
    return proc.stdout


def image_id(image: str) -> str:
    """The id of ``image`` on the Docker engine (never pulled: a missing image is an error)."""
    try:
        return _docker("image", "inspect", "--format", "{{.Id}}", image).strip()
    except BenchError as exc:
        raise BenchError(
            f"no image {image} on the Docker engine (build it first: bash sample_app/build.sh; "
            f"this script never pulls): {exc}"
        ) from exc


_RUN_ID = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
_serial = iter(range(1, 1_000_000))


def _container_state(name: str) -> str | None:
    state = _docker("inspect", "--format", "{{.State.Status}}", name, check=False).strip()
    if state in ("created", "running", "restarting"):
        return None
    return f"stopped (container {name}: {state or 'gone'})"


def _container_output(name: str) -> str:
    out = _docker("logs", "--tail", "20", name, check=False, timeout=30)
    return out or f"(no output: container {name} is gone; it was started with --rm)"


def _remove_containers(names: list[str], logs: Path) -> None:
    """Keep each container's output in ``logs``, then remove it (untimed; errors ignored)."""
    if not names:
        return
    for name in names:
        try:
            proc = subprocess.run(
                ["docker", "logs", name],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                check=False,
            )
            (logs / f"{name}.log").write_bytes(proc.stdout + proc.stderr)
        except (OSError, subprocess.TimeoutExpired):
            pass
    _docker("rm", "--force", "--volumes", *names, check=False)


def _containers_of_this_run() -> dict[str, str]:
    listed = _docker(
        "ps",
        "--all",
        "--filter",
        f"label={BENCH_LABEL}={_RUN_ID}",
        "--format",
        "{{.Names}} {{.State}}",
        check=False,
    )
    return dict(line.split(" ", 1) for line in listed.splitlines() if " " in line)


def sweep_containers() -> tuple[list[str], list[str]]:
    """Remove every container of this run that is still there (normally none, or one the
    engine is still removing); the names of those left behind, and of those still there
    after 10 s."""
    found = _containers_of_this_run()
    left = sorted(name for name, state in found.items() if state != "removing")
    if left:
        _docker("rm", "--force", "--volumes", *left, check=False)
    deadline = time.monotonic() + 10
    while found and time.monotonic() < deadline:
        time.sleep(0.5)
        found = _containers_of_this_run()
    return left, sorted(found)


@contextmanager
def running_containers(
    images: list[tuple[str, str]], logs: Path, timeout: float
) -> Iterator[list[str]]:
    """One fresh sample-app container per ``(build, image)``, all started before any is
    waited for; their base URLs. Removed on the way out, whatever happens."""
    names: list[str] = []
    try:
        for build, image in images:
            name = f"{CONTAINER_PREFIX}{build}-{_RUN_ID}-{next(_serial)}"
            names.append(name)  # before docker run: a run cut short is removed by name
            env = [arg for pair in SAMPLE_ENV for arg in ("--env", pair)]
            _docker(
                "run",
                "--detach",
                "--rm",
                "--pull",
                "never",
                "--name",
                name,
                "--label",
                f"{BENCH_LABEL}={_RUN_ID}",
                "--publish",
                f"{LOOPBACK}::{SAMPLE_PORT}",
                *env,
                image,
            )
        urls: list[str] = []
        for name in names:
            published = _docker("port", name, f"{SAMPLE_PORT}/tcp").split()
            if not published:
                raise BenchError(f"container {name} published no port for {SAMPLE_PORT}")
            url = f"http://{LOOPBACK}:{published[0].rsplit(':', 1)[1]}"
            _wait_healthy(
                url,
                partial(_container_state, name),
                partial(_container_output, name),
                timeout,
            )
            urls.append(url)
        yield urls
    finally:
        _remove_containers(names, logs)


WARM_SEED = 20261202


def warm_up(url: str, args: argparse.Namespace, logs: Path) -> None:
    """The same untimed workload for every fresh container, before it is measured: one
    ``schemathesis run`` of the coverage phase alone, with a fixed seed (every operation,
    valid and invalid requests, writes included — the same requests, so every container
    starts the timed run with the same data), so the .NET runtime has compiled the code
    both tools will reach and neither side's time is the JIT compiler's."""
    cmd = schemathesis_cmd(url, args, phases="coverage", workers="1", seed=WARM_SEED)
    code, output, errors, _ = _run(cmd, logs, f"warm-up-{url.rsplit(':', 1)[-1]}.txt", 600)
    if code not in (0, 1):
        raise BenchError(f"the warm-up of {url} exited with {code}:\n{(output + errors)[-2000:]}")


@contextmanager
def running_builds(builds: list[str], args: argparse.Namespace, logs: Path) -> Iterator[list[str]]:
    """The builds (``jit``, ``aot``) a side needs, started afresh (and warmed up, unless
    ``--cold``); their base URLs, in order."""
    if args.app == SAMPLE:
        images = {"jit": args.jit_image, "aot": args.aot_image}
        with running_containers(
            [(build, images[build]) for build in builds], logs, args.start_timeout
        ) as urls:
            if not args.cold:
                for url in urls:
                    warm_up(url, args, logs)
            yield urls
        return
    flavours = {"jit": "jit", "aot": args.aot_flavour}
    with ExitStack() as stack:
        yield [
            stack.enter_context(running_app(flavours[build], logs, args.start_timeout))
            for build in builds
        ]


# -- running a side ---------------------------------------------------------------------------


@dataclass
class Round:
    requests: int
    wall: float
    session: float | None
    phase: float | None
    first: tuple[str, int, float] | None = None
    """Plugin: the first generated item run — its name, pairs and seconds (it pays for
    importing hypothesis and schemathesis and for building the schemathesis schema)."""

    def seconds(self, measure: str) -> float | None:
        value: float | None = getattr(self, measure)
        return value

    def rate(self, measure: str) -> float | None:
        seconds = self.seconds(measure)
        return self.requests / seconds if seconds else None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)  # the run is exactly what this script says
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)  # .hypothesis in the round's directory
    env["NO_PROXY"] = env["no_proxy"] = f"{LOOPBACK},localhost"
    env["NO_COLOR"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, name: str, timeout: float) -> tuple[int, str, str, float]:
    """Run ``cmd``; its exit code, stdout, stderr (both also kept in ``cwd/name``) and wall
    time."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{cmd[0]} ... ran for more than {timeout:g} s (--timeout)") from exc
    wall = time.perf_counter() - started
    (cwd / name).write_text(proc.stdout + ("\n--- stderr ---\n" + proc.stderr))
    return proc.returncode, proc.stdout, proc.stderr, wall


def _fresh_dir(root: Path, name: str, unicode_cache: Path) -> Path:
    directory = root / name
    directory.mkdir()
    shutil.copytree(unicode_cache, directory / ".hypothesis" / "unicode_data")
    return directory


def build_unicode_cache(root: Path) -> Path:
    """Hypothesis' unicode tables, built once (each fresh directory would build them again:
    seconds of CPU that neither side spends on a machine that has run it before)."""
    code = (
        "from hypothesis import given, settings, strategies as st\n"
        "@settings(max_examples=3, database=None)\n"
        "@given(st.text(), st.text(alphabet=st.characters(codec='utf-8')))\n"
        "def t(a, b): pass\n"
        "t()\n"
    )
    where = root / "unicode-cache"
    where.mkdir()
    subprocess.run([sys.executable, "-c", code], cwd=where, env=_env(), check=True, timeout=600)
    cache = where / ".hypothesis" / "unicode_data"
    if not cache.is_dir():
        raise BenchError("hypothesis built no unicode tables in .hypothesis/unicode_data")
    return cache


_SESSION_TIME = re.compile(r"\bin (\d+(?:\.\d+)?)s\b")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s+(setup|call|teardown)\s+(aot-parity::.+?)\s*$")
DOCUMENT_ITEM = "aot-parity::openapi-document"


def _last_session_time(output: str) -> float | None:
    for line in reversed(output.splitlines()):
        if line.strip().startswith(("=", "-")) or " passed" in line or " failed" in line:
            found = _SESSION_TIME.findall(line)
            if found:
                return float(found[-1])
    return None


def run_plugin(
    root: Path, name: str, args: argparse.Namespace, unicode_cache: Path, logs: Path
) -> Round:
    directory = _fresh_dir(root, name, unicode_cache)
    (directory / "pytest.ini").write_text("[pytest]\n")
    log = directory / "generated.jsonl"
    with running_builds(["jit", "aot"], args, logs) as (jit, aot):
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--color=no",
            "--aot-parity",
            f"--aot-parity-jit={jit}",
            f"--aot-parity-aot={aot}",
            f"--aot-parity-examples={args.examples}",
            "--aot-parity-stateful-steps=0",
            f"--aot-parity-generate-log={log}",
            "--durations=0",
            "--durations-min=0",
        ]
        if args.app == SAMPLE:
            cmd.append(f"--aot-parity-openapi={OPENAPI[SAMPLE]}")
        if args.seed is not None:
            cmd.append(f"--hypothesis-seed={args.seed}")
        cmd.extend(f"--aot-parity-ignore={path}" for path in args.noise_ignores)
        cmd.extend(args.pytest_arg)
        code, output, errors, wall = _run(cmd, directory, "pytest-output.txt", args.timeout)
    # 1: the aot build diverges (the fake one on purpose), so generated tests fail; expected.
    if code not in (0, 1):
        raise BenchError(f"pytest exited with {code} in {directory}:\n{(output + errors)[-3000:]}")
    if not log.is_file():
        raise BenchError(f"pytest wrote no generate log ({log}):\n{output[-3000:]}")
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    if not rows:
        raise BenchError(f"the generate log {log} is empty: no pair was sent")
    per_item: dict[str, float] = {}
    for line in output.splitlines():
        match = _DURATION.match(line)
        if match and match.group(3) != DOCUMENT_ITEM:
            item = match.group(3)
            per_item[item] = per_item.get(item, 0.0) + float(match.group(1))
    first_item = rows[0]["item"]
    first_pairs = sum(1 for row in rows if row["item"] == first_item)
    return Round(
        requests=len(rows),
        wall=wall,
        session=_last_session_time(output),
        phase=sum(per_item.values()) if per_item else None,
        first=(first_item, first_pairs, per_item[first_item]) if first_item in per_item else None,
    )


_GENERATED = re.compile(r"^\s*(\d+) generated\b", re.MULTILINE)
_PHASE_TIME = re.compile(r"\b(Coverage|Fuzzing) \(in (\d+(?:\.\d+)?)s\)")


def _schemathesis() -> str:
    beside = Path(sys.executable).parent / "schemathesis"
    if beside.is_file():
        return str(beside)
    found = shutil.which("schemathesis")
    if found is None:
        raise BenchError("no schemathesis command next to this Python or on PATH")
    return found


def schemathesis_cmd(
    url: str,
    args: argparse.Namespace,
    *,
    phases: str = "coverage,fuzzing",
    workers: str | None = None,
    seed: int | None = None,
) -> list[str]:
    cmd = [
        _schemathesis(),
        "run",
        f"{url}{OPENAPI[args.app]}",
        "--max-examples",
        str(args.examples),
        "--phases",
        phases,
        "--mode",
        "all",
        "--checks",
        "not_a_server_error",
        "--suppress-health-check",
        "all",
        "--workers",
        workers or str(args.st_workers),
        "--no-color",
    ]
    seed = args.seed if seed is None else seed
    if seed is not None:
        cmd.extend(["--seed", str(seed)])
    return cmd


def _generated(output: str, directory: Path) -> int:
    found = _GENERATED.findall(output)
    if not found:
        raise BenchError(
            f"no 'N generated' in schemathesis' summary ({directory}):\n{output[-3000:]}"
        )
    count = int(found[-1])
    if count == 0:
        raise BenchError(f"schemathesis generated no test case ({directory})")
    return count


def run_schemathesis(
    root: Path, name: str, args: argparse.Namespace, unicode_cache: Path, logs: Path
) -> Round:
    directory = _fresh_dir(root, name, unicode_cache)
    with running_builds([args.st_build], args, logs) as (target,):
        code, output, errors, wall = _run(
            schemathesis_cmd(target, args), directory, "schemathesis-output.txt", args.timeout
        )
    # 1: a check failed (a 5xx: the aot build has some; a failure is a finished run).
    if code not in (0, 1):
        raise BenchError(
            f"schemathesis exited with {code} in {directory}:\n{(output + errors)[-3000:]}"
        )
    phases = _PHASE_TIME.findall(output)
    closing = [line for line in output.splitlines() if line.startswith("=") and " in " in line]
    session = _SESSION_TIME.findall(closing[-1]) if closing else []
    return Round(
        requests=_generated(output, directory),
        wall=wall,
        session=float(session[-1]) if session else None,
        phase=sum(float(seconds) for _, seconds in phases) if phases else None,
    )


def check_schemathesis_count(
    root: Path, args: argparse.Namespace, unicode_cache: Path, logs: Path
) -> str:
    """One untimed run with a VCR cassette: do its interactions match ``N generated``?"""
    directory = _fresh_dir(root, "count-check", unicode_cache)
    cassette = directory / "cassette.yaml"
    with running_builds([args.st_build], args, logs) as (target,):
        cmd = [
            *schemathesis_cmd(target, args),
            "--report",
            "vcr",
            "--report-vcr-path",
            str(cassette),
        ]
        code, output, errors, _ = _run(cmd, directory, "schemathesis-output.txt", args.timeout)
    if code not in (0, 1):
        raise BenchError(
            f"schemathesis exited with {code} in {directory}:\n{(output + errors)[-3000:]}"
        )
    generated = _generated(output, directory)
    if not cassette.is_file():
        raise BenchError(f"schemathesis wrote no cassette at {cassette}")
    interactions = sum(
        1 for line in cassette.read_text(errors="replace").splitlines() if line.startswith("- id:")
    )
    verdict = "the same" if interactions == generated else "DIFFERENT: the count is not exact"
    return (
        f"count check (one more schemathesis run, untimed, with a VCR cassette): "
        f"{interactions} requests recorded, summary says {generated} generated: {verdict}"
    )


# -- the table --------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def best(rounds: list[Round], measure: str) -> Round | None:
    timed = [r for r in rounds if r.rate(measure) is not None]
    return max(timed, key=lambda r: r.rate(measure) or 0.0) if timed else None


def print_table(results: dict[str, list[Round]], args: argparse.Namespace) -> None:
    seed = f", seed {args.seed}" if args.seed is not None else ", random seeds"
    if args.app == SAMPLE:
        app = "sample players app (Docker containers)"
        targets = f"plugin targets {args.jit_image} + {args.aot_image}"
        if args.noise_ignores:
            targets += (
                " (two jit builds: "
                + " ".join(f"--aot-parity-ignore={path}" for path in args.noise_ignores)
                + " added, it differs between any two answers)"
            )
    else:
        app = "fake players app"
        targets = f"plugin targets jit + {args.aot_flavour} flavour"
    print(
        f"{app}, {args.examples} examples per operation, {args.rounds} round"
        f"{'s' if args.rounds != 1 else ''}{seed}, schemathesis workers {args.st_workers}, "
        f"{targets}"
        + (f", extra pytest args {' '.join(args.pytest_arg)}" if args.pytest_arg else "")
        + "; best round per measure (highest rate)"
    )
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "  note: PYTHONDONTWRITEBYTECODE is set: pytest cannot cache the assertion-rewritten "
            "modules of installed pytest plugins (schemathesis, hypothesis, ...) and compiles "
            "them again in every run"
        )
    header = f"  {'side':<27} {'requests':>8}"
    for measure in MEASURES:
        header += f"  {measure + ' s':>10} {'/s':>7}"
    print(header)
    for side, rounds in results.items():
        line = f"  {label(side, args):<27}"
        for index, measure in enumerate(MEASURES):
            chosen = best(rounds, measure)
            if index == 0:
                line += f" {chosen.requests if chosen else 0:>8}"
            seconds = chosen.seconds(measure) if chosen else None
            rate = chosen.rate(measure) if chosen else None
            line += f"  {_fmt(seconds, '10.2f')} {_fmt(rate, '7.1f')}"
        print(line)
    print("  (requests: of the best round by wall rate; another measure's best may differ)")
    print("rounds (requests: wall s, session s, phase s -> wall /s):")
    for side, rounds in results.items():
        shown = "; ".join(
            f"{r.requests}: {r.wall:.2f}, {_fmt(r.session, '.2f')}, {_fmt(r.phase, '.2f')}"
            f" -> {_fmt(r.rate('wall'), '.1f')}"
            for r in rounds
        )
        print(f"  {label(side, args):<27} {shown}")
    fastest = best(results[PLUGIN], "phase")
    if fastest is not None and fastest.first is not None and fastest.phase:
        item, pairs, seconds = fastest.first
        rest = fastest.requests - pairs
        rate = rest / (fastest.phase - seconds) if fastest.phase > seconds else None
        print(
            f"  plugin, best phase round: its first generated item ({item}) took {seconds:.2f} s"
            f" for {pairs} pairs;"
            f" the other {rest} pairs went at {_fmt(rate, '.1f')}/s"
        )
    for measure in MEASURES:
        plugin = best(results[PLUGIN], measure)
        other = best(results[SCHEMATHESIS], measure)
        plugin_rate = plugin.rate(measure) if plugin else None
        other_rate = other.rate(measure) if other else None
        if plugin_rate is None or not other_rate:
            print(f"ratio ({measure}): n/a")
            continue
        ratio = plugin_rate / other_rate
        plugin_median = _median([r.rate(measure) for r in results[PLUGIN]])
        other_median = _median([r.rate(measure) for r in results[SCHEMATHESIS]])
        median = (
            f"; median rounds {plugin_median / other_median:4.2f}x"
            if plugin_median is not None and other_median
            else ""
        )
        judged = measure == JUDGED
        verdict = ("OK" if ratio >= 1 else "BELOW GOAL") if judged else ""
        goal = "  (goal >= 1.00x)" if judged else ""
        print(
            f"ratio plugin pairs/s / schemathesis requests/s ({measure:<7}): "
            f"best rounds {ratio:4.2f}x{median}{goal} {verdict}".rstrip()
        )


def _median(values: list[float | None]) -> float | None:
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    middle = len(known) // 2
    return known[middle] if len(known) % 2 else (known[middle - 1] + known[middle]) / 2


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=50, help="examples per operation")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--seed", type=int, default=None, help="hypothesis seed for both sides (default: random)"
    )
    parser.add_argument(
        "--st-workers", default="1", help="schemathesis --workers (default 1, its own default)"
    )
    parser.add_argument(
        "--no-count-check",
        dest="count_check",
        action="store_false",
        help="skip the untimed schemathesis run that checks its request count",
    )
    parser.add_argument(
        "--app",
        choices=[FAKE, SAMPLE],
        default=FAKE,
        help="fake: the fake players app (processes); sample: the sample app's Docker images",
    )
    parser.add_argument(
        "--aot-flavour",
        choices=["aot", "jit"],
        default=None,
        help="--app fake: flavour of the plugin's aot target (default aot; jit: two equal "
        "builds, nothing diverges)",
    )
    parser.add_argument(
        "--jit-image",
        default=None,
        help=f"--app sample: the jit build's image (default {SAMPLE_JIT_IMAGE})",
    )
    parser.add_argument(
        "--aot-image",
        default=None,
        help=f"--app sample: the plugin's aot target (default {SAMPLE_AOT_IMAGE}; "
        f"{SAMPLE_JIT_IMAGE}: two jit builds, with {' '.join(SAMPLE_NOISE)} ignored)",
    )
    parser.add_argument(
        "--pytest-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for the plugin's pytest run (repeat for more), "
        "e.g. --pytest-arg=--assert=plain",
    )
    parser.add_argument(
        "--st-build",
        choices=["jit", "aot"],
        default="jit",
        help="the build schemathesis runs against (default jit; aot: the plugin's aot "
        "target, whose 5xx answers make schemathesis shrink failures as the plugin does)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="--app sample: measure fresh containers as they come, without the warm-up",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per tool run")
    parser.add_argument("--start-timeout", type=float, default=60, help="seconds per app start")
    parser.add_argument(
        "--keep", action="store_true", help="keep the working directory (outputs, logs)"
    )
    args = parser.parse_args(argv)
    if args.examples < 1 or args.rounds < 1:
        parser.error("--examples and --rounds must be at least 1")
    args.noise_ignores = []
    if args.app == SAMPLE:
        if args.aot_flavour is not None:
            parser.error("--aot-flavour is for --app fake; with --app sample use --aot-image")
        args.jit_image = args.jit_image or SAMPLE_JIT_IMAGE
        args.aot_image = args.aot_image or SAMPLE_AOT_IMAGE
    else:
        if (args.jit_image, args.aot_image) != (None, None):
            parser.error("--jit-image and --aot-image are for --app sample")
        args.aot_flavour = args.aot_flavour or "aot"

    # SIGTERM unwinds like Ctrl-C, so the apps and the tool runs are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, list[Round]] = {PLUGIN: [], SCHEMATHESIS: []}
    root = Path(tempfile.mkdtemp(prefix="aotparity-bench-generate-"))
    logs = root / "app-logs"
    logs.mkdir()
    check = ""
    try:
        if args.app == SAMPLE and image_id(args.jit_image) == image_id(args.aot_image):
            args.noise_ignores = list(SAMPLE_NOISE)  # two jit builds: leave out their noise
        cache = build_unicode_cache(root)
        for number in range(args.rounds):
            order = [PLUGIN, SCHEMATHESIS] if number % 2 == 0 else [SCHEMATHESIS, PLUGIN]
            for side in order:
                run = run_plugin if side == PLUGIN else run_schemathesis
                done = run(root, f"{side}-{number + 1}", args, cache, logs)
                results[side].append(done)
                print(
                    f"round {number + 1} {side}: {done.requests} requests, {done.wall:.2f} s wall",
                    file=sys.stderr,
                    flush=True,
                )
        if args.count_check:
            check = check_schemathesis_count(root, args, cache, logs)
    except (BenchError, subprocess.CalledProcessError, OSError) as exc:
        print(f"bench_generate: {exc}", file=sys.stderr)
        print(f"(outputs kept in {root})", file=sys.stderr)
        return 1
    except BaseException:
        print(f"(outputs kept in {root})", file=sys.stderr)
        raise
    finally:
        if args.app == SAMPLE:
            left, remaining = sweep_containers()
            if left:
                print(f"removed containers left behind: {' '.join(left)}", file=sys.stderr)
            if remaining:
                print(f"containers NOT removed: {' '.join(remaining)}", file=sys.stderr)
    print_table(results, args)
    if check:
        print(check)
    if args.keep:
        print(f"outputs kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
