"""Options, ini keys and the validated :class:`Settings` of a run.

Every option lives in the ``aotparity`` group and has an ini key of the same name
(``--aot-parity-jit`` ↔ ``aot_parity_jit``). The command line wins over the ini file:

- single values (targets, port, paths, URLs, flags): the command-line value replaces the ini
  value; a flag given in the ini file is turned off with ``-o aot_parity_ignore_order=false``
  (``-o`` overrides any ini key from the command line);
- ``--aot-parity-env``: merged by key, a ``KEY=VALUE`` on the command line replaces the same
  ``KEY`` from the ini file;
- ``--aot-parity-headers``: the command-line list replaces the ini list;
- ``--aot-parity-ignore`` / ``--aot-parity-ignore-header`` / ``--aot-parity-redact``: added
  to the ini list (ignoring or redacting more is always what a command-line value means).

This module is imported when pytest loads the plugin, so it imports nothing heavy.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.exchange import BuildName
from pytest_aotparity.jsonpath import problem as json_path_problem
from pytest_aotparity.optionspec import OptionSpec, resolve_path, spec
from pytest_aotparity.targets.base import (
    DEFAULT_START_GRACE,
    TargetOptions,
    TargetSpec,
    parse_target,
)

DEFAULT_BASE_URL_ENV = "AOT_PARITY_BASE_URL"
DEFAULT_HEALTH_PATH = "/health"
DEFAULT_PORT = 8080
DEFAULT_START_TIMEOUT = 60.0
DEFAULT_HEADERS = ("content-type",)

MARKER_NAME = "aot_parity"
MARKER_DOC = (
    "aot_parity(ignore=[json paths], ignore_headers=[names], ignore_order=False, skip=False): "
    "per-test aot-parity rules: JSON paths and headers not to compare (e.g. '$.items[*].id'), "
    "compare arrays ignoring order, or skip=True to send this test's requests to the JIT "
    "build only (no mirroring, no comparison)."
)


_opt = spec

OPT_ENABLE = _opt("--aot-parity")
OPT_JIT = _opt("--aot-parity-jit")
OPT_AOT = _opt("--aot-parity-aot")
OPT_NOISE = _opt("--aot-parity-noise")
OPT_PORT = _opt("--aot-parity-port")
OPT_ENV = _opt("--aot-parity-env")
OPT_HEALTH = _opt("--aot-parity-health")
OPT_START_TIMEOUT = _opt("--aot-parity-start-timeout")
OPT_START_GRACE = _opt("--aot-parity-start-grace")
OPT_REPORT = _opt("--aot-parity-report")
OPT_HEADERS = _opt("--aot-parity-headers")
OPT_IGNORE = _opt("--aot-parity-ignore")
OPT_IGNORE_HEADER = _opt("--aot-parity-ignore-header")
OPT_IGNORE_ORDER = _opt("--aot-parity-ignore-order")
OPT_DEFAULT_NOISE = spec(
    "--aot-parity-no-default-noise",
    ini="aot_parity_default_noise",
    store="aot_parity_no_default_noise",
)
OPT_REDACT = _opt("--aot-parity-redact")
OPT_BASE_URL_ENV = _opt("--aot-parity-base-url-env")
OPT_APP_URL = _opt("--aot-parity-app-url")

ALL_OPTIONS: tuple[OptionSpec, ...] = (
    OPT_ENABLE,
    OPT_JIT,
    OPT_AOT,
    OPT_NOISE,
    OPT_PORT,
    OPT_ENV,
    OPT_HEALTH,
    OPT_START_TIMEOUT,
    OPT_START_GRACE,
    OPT_REPORT,
    OPT_HEADERS,
    OPT_IGNORE,
    OPT_IGNORE_HEADER,
    OPT_IGNORE_ORDER,
    OPT_DEFAULT_NOISE,
    OPT_REDACT,
    OPT_BASE_URL_ENV,
    OPT_APP_URL,
)


def add_options(parser: pytest.Parser) -> None:
    """Register the ``aotparity`` option group and the ini keys behind it."""
    group = parser.getgroup("aotparity", "aot-parity (JIT vs Native AOT parity of an HTTP API)")

    def both(
        spec: OptionSpec,
        help_text: str,
        *,
        ini_type: Any = "string",
        ini_default: Any = None,
        metavar: str | None = None,
        action: str = "store",
    ) -> None:
        kwargs: dict[str, Any] = {"dest": spec.dest, "default": None, "help": help_text}
        if action in ("store", "append"):
            kwargs["metavar"] = metavar
        group.addoption(spec.flag, action=action, **kwargs)
        parser.addini(spec.ini, help_text, type=ini_type, default=ini_default)

    both(
        OPT_ENABLE,
        "Start the JIT and the AOT build side by side, send every request of the suite to both "
        "and fail tests whose requests get different answers.",
        action="store_true",
        ini_type="bool",
        ini_default=False,
    )
    both(
        OPT_JIT,
        "The JIT (runtime) build: image:NAME[:TAG], cmd:COMMAND (with {port}) or "
        "http(s)://HOST:PORT of a running instance.",
        metavar="TARGET",
    )
    both(OPT_AOT, "The Native AOT build, written like --aot-parity-jit.", metavar="TARGET")
    both(
        OPT_NOISE,
        "A second JIT instance whose differences from the first are noise (ids, timestamps) "
        "and are never reported. 'auto' starts another copy of the JIT target.",
        metavar="TARGET|auto",
    )
    both(
        OPT_PORT,
        f"The port the app listens on inside its container (default {DEFAULT_PORT}).",
        metavar="PORT",
    )
    both(
        OPT_ENV,
        "Environment variable for every started build, KEY=VALUE; repeat the option for more "
        "(the ini key takes one per line). The command line wins per KEY.",
        action="append",
        ini_type="linelist",
        ini_default=[],
        metavar="KEY=VALUE",
    )
    both(
        OPT_HEALTH,
        f"Path polled until a build answers 2xx (default {DEFAULT_HEALTH_PATH}).",
        metavar="PATH",
    )
    both(
        OPT_START_TIMEOUT,
        f"Seconds to wait for each build to become healthy (default {DEFAULT_START_TIMEOUT:g}).",
        metavar="SECONDS",
    )
    both(
        OPT_START_GRACE,
        "Seconds a build may answer its health path with non-2xx (at least 3 answers in a "
        "row) before its start is judged: failed when another build answers 2xx, a wrong "
        f"health path when none does (default {DEFAULT_START_GRACE:g}).",
        metavar="SECONDS",
    )
    both(OPT_REPORT, "Write a JSON report of every divergence to PATH.", metavar="PATH")
    both(
        OPT_HEADERS,
        "Response headers to compare, comma-separated (default content-type). Replaces the "
        "ini list.",
        action="append",
        ini_type="linelist",
        ini_default=[],
        metavar="NAMES",
    )
    both(
        OPT_IGNORE,
        "A JSON path not to compare, e.g. '$.servedAt' or '$.items[*].id' or '$..requestId'; "
        "repeat for more (ini: one per line).",
        action="append",
        ini_type="linelist",
        ini_default=[],
        metavar="JSONPATH",
    )
    both(
        OPT_IGNORE_HEADER,
        "A response header not to compare; repeat for more (ini: one per line).",
        action="append",
        ini_type="linelist",
        ini_default=[],
        metavar="NAME",
    )
    both(
        OPT_IGNORE_ORDER,
        "Compare JSON arrays ignoring the order of their items.",
        action="store_true",
        ini_type="bool",
        ini_default=False,
    )
    group.addoption(
        OPT_DEFAULT_NOISE.flag,
        action="store_true",
        dest=OPT_DEFAULT_NOISE.dest,
        default=None,
        help="Report the per-request ids ASP.NET Core writes (problem details' traceId, "
        "requestId) like any other value: by default a change between two trace ids there "
        "is noise.",
    )
    parser.addini(
        OPT_DEFAULT_NOISE.ini,
        "Cancel ASP.NET Core's per-request ids (traceId, requestId) as noise (default true; "
        "false is --aot-parity-no-default-noise).",
        type="bool",
        default=True,
    )
    both(
        OPT_REDACT,
        "Another request header whose value is hidden in failures and reports (Authorization, "
        "Cookie and other secrets are always hidden); repeat for more.",
        action="append",
        ini_type="linelist",
        ini_default=[],
        metavar="NAME",
    )
    both(
        OPT_BASE_URL_ENV,
        f"Environment variable set to the app's base URL for the suite (default "
        f"{DEFAULT_BASE_URL_ENV}); name the suite's own variable, e.g. API_BASE_URL.",
        metavar="NAME",
    )
    both(
        OPT_APP_URL,
        "An origin the suite hard-codes (e.g. http://localhost:5000): requests to it are sent "
        "to the JIT build instead, and mirrored.",
        metavar="URL",
    )
    # ----------------------------------------------------------------------------------
    # Request generation from the OpenAPI document (pytest_aotparity.generate) adds its
    # options to this same group, with the same flag/ini pairing: --aot-parity-openapi
    # (ini aot_parity_openapi), --aot-parity-no-generate (ini aot_parity_generate) and
    # --aot-parity-examples (ini aot_parity_examples). Its settings are read by its own
    # code from config; Settings below stays about targets, mirroring and diffing.
    # ----------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything the plugin was told, validated. Built once in ``pytest_configure``."""

    enabled: bool
    jit: TargetSpec | None = None
    aot: TargetSpec | None = None
    noise: TargetSpec | None = None
    """The noise target; with ``auto`` a copy of the JIT spec with build ``noise``."""
    noise_auto: bool = False
    port: int = DEFAULT_PORT
    env: tuple[tuple[str, str], ...] = ()
    health_path: str = DEFAULT_HEALTH_PATH
    start_timeout: float = DEFAULT_START_TIMEOUT
    start_grace: float = DEFAULT_START_GRACE
    report_path: Path | None = None
    headers: tuple[str, ...] = DEFAULT_HEADERS
    ignore_paths: tuple[str, ...] = ()
    ignore_headers: tuple[str, ...] = ()
    ignore_order: bool = False
    default_noise: bool = True
    redact: tuple[str, ...] = ()
    base_url_env: str = DEFAULT_BASE_URL_ENV
    app_url: str | None = None
    """Normalised origin (``scheme://host:port``) the suite hard-codes, if any."""
    extra: tuple[tuple[str, str], ...] = field(default=())
    """Room for later settings without breaking pickles/constructors."""

    def specs(self) -> list[TargetSpec]:
        return [spec for spec in (self.jit, self.aot, self.noise) if spec is not None]

    def target_options(
        self, *, session_id: str, workdir: str | None, state_dir: str | None
    ) -> TargetOptions:
        return TargetOptions(
            container_port=self.port,
            env=dict(self.env),
            health_path=self.health_path,
            start_timeout=self.start_timeout,
            start_grace=self.start_grace,
            session_id=session_id,
            workdir=workdir,
            state_dir=state_dir,
        )


def _usage(spec: OptionSpec, value: object, problem: str, advice: str) -> pytest.UsageError:
    shown = value if isinstance(value, str) else repr(value)
    return pytest.UsageError(f"{spec.name()} = {shown!r}: {problem}\n{advice}")


def _scalar(config: pytest.Config, spec: OptionSpec) -> Any:
    """The command-line value if given, else the ini value (or its default)."""
    value = config.getoption(spec.dest, None)
    if value is not None:
        return value
    return config.getini(spec.ini)


def _string(config: pytest.Config, spec: OptionSpec) -> str | None:
    value = _scalar(config, spec)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _cli_list(config: pytest.Config, spec: OptionSpec) -> list[str]:
    value = config.getoption(spec.dest, None)
    return [str(v) for v in value] if value else []


def _ini_list(config: pytest.Config, spec: OptionSpec) -> list[str]:
    value = config.getini(spec.ini)
    return [str(v) for v in value] if value else []


def _split_names(items: Iterable[str]) -> list[str]:
    names: list[str] = []
    for item in items:
        names.extend(part for part in re.split(r"[,\s]+", item) if part)
    return names


_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_json_paths(paths: Sequence[str], where: str) -> tuple[str, ...]:
    """Check JSON paths given in ``where`` (an option name or a marker); UsageError if bad."""
    out: list[str] = []
    for raw in paths:
        path = raw.strip()
        problem = json_path_problem(path)
        if problem is not None:
            raise pytest.UsageError(
                f"{where}: {raw!r} is not a JSON path: {problem}.\n"
                "Examples: '$.servedAt', '$.items[*].id', '$..requestId', \"$['odd key']\"."
            )
        out.append(path)
    return tuple(out)


def validate_header_names(names: Sequence[str], where: str) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        if not _HEADER_NAME.match(name):
            raise pytest.UsageError(
                f"{where}: {name!r} is not an HTTP header name.\n"
                "Write header names only (no ':' or value), e.g. content-type or x-request-id."
            )
        out.append(name.lower())
    return tuple(dict.fromkeys(out))


def _parse_env(entries: Sequence[str], origin: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.match(key):
            raise pytest.UsageError(
                f"{OPT_ENV.name()} = {entry!r} ({origin}): not KEY=VALUE.\n"
                "Write one variable per option (ini: per line) as KEY=VALUE, e.g. "
                "--aot-parity-env ASPNETCORE_ENVIRONMENT=Testing; KEY is letters, digits and _ "
                "and does not start with a digit."
            )
        env[key] = value
    return env


def _parse_target(raw: str | None, build: BuildName, spec: OptionSpec) -> TargetSpec | None:
    if raw is None:
        return None
    try:
        return parse_target(raw, build)
    except pytest.UsageError as exc:
        raise pytest.UsageError(f"{exc}\n(set with {spec.name()})") from None


def _parse_url(raw: str, spec: OptionSpec) -> str:
    parsed = urllib.parse.urlsplit(raw)
    advice = "Write the origin the suite sends its requests to, e.g. http://localhost:5000"
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise _usage(spec, raw, "not an http(s) URL.", advice)
    try:
        port = parsed.port
    except ValueError:
        raise _usage(spec, raw, "the port is not a number between 0 and 65535.", advice) from None
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise _usage(
            spec,
            raw,
            "only an origin (scheme, host, port) can be rerouted, not a path.",
            advice + " (requests keep their own paths).",
        )
    if port is None:
        port = 443 if parsed.scheme == "https" else 80
    host = parsed.hostname
    if ":" in host:
        host = f"[{host}]"
    return f"{parsed.scheme}://{host}:{port}"


def read_settings(config: pytest.Config) -> Settings:
    """Read and validate the options; :class:`pytest.UsageError` says what to write instead."""
    enabled = bool(_scalar(config, OPT_ENABLE))
    if not enabled:
        return Settings(enabled=False)

    jit = _parse_target(_string(config, OPT_JIT), "jit", OPT_JIT)
    aot = _parse_target(_string(config, OPT_AOT), "aot", OPT_AOT)
    missing = [spec for spec, target in ((OPT_JIT, jit), (OPT_AOT, aot)) if target is None]
    if missing:
        names = " and ".join(spec.name() for spec in missing)
        raise pytest.UsageError(
            f"--aot-parity needs both builds, but {names} {'is' if len(missing) == 1 else 'are'} "
            "not set.\nGive each as image:NAME[:TAG], cmd:COMMAND (with {port}) or the URL of a "
            "running instance, e.g.\n"
            "  pytest --aot-parity --aot-parity-jit image:myapi:jit "
            "--aot-parity-aot image:myapi:aot\n"
            "or in the ini file:\n"
            "  aot_parity_jit = image:myapi:jit\n  aot_parity_aot = image:myapi:aot"
        )
    assert jit is not None
    assert aot is not None

    noise_raw = _string(config, OPT_NOISE)
    noise: TargetSpec | None = None
    noise_auto = False
    if noise_raw is not None:
        if noise_raw.lower() == "auto":
            if jit.kind == "url":
                raise _usage(
                    OPT_NOISE,
                    noise_raw,
                    "'auto' starts another copy of the JIT target, but the JIT target is a URL "
                    "(an instance aot-parity did not start and cannot copy).",
                    "Give the URL of a second JIT instance with its own database, e.g. "
                    "--aot-parity-noise http://127.0.0.1:5081, or make the JIT target an image: "
                    "or cmd: target.",
                )
            noise = TargetSpec(build="noise", kind=jit.kind, value=jit.value)
            noise_auto = True
        else:
            noise = _parse_target(noise_raw, "noise", OPT_NOISE)

    port_raw = _string(config, OPT_PORT)
    port = DEFAULT_PORT
    if port_raw is not None:
        try:
            port = int(port_raw)
        except ValueError:
            port = -1
        if not 1 <= port <= 65535:
            raise _usage(
                OPT_PORT,
                port_raw,
                "not a port number.",
                "Give the port the app listens on inside its container, 1-65535, e.g. "
                "--aot-parity-port 8080 (ASP.NET Core 8+ images listen on 8080).",
            )

    env = _parse_env(_ini_list(config, OPT_ENV), "ini")
    env.update(_parse_env(_cli_list(config, OPT_ENV), "command line"))

    health = _string(config, OPT_HEALTH) or DEFAULT_HEALTH_PATH
    if not health.startswith("/") or "://" in health:
        raise _usage(
            OPT_HEALTH,
            health,
            "not a path on the app.",
            "Give the path of the health endpoint, starting with /, e.g. /health or /healthz.",
        )

    timeout_raw = _string(config, OPT_START_TIMEOUT)
    timeout = DEFAULT_START_TIMEOUT
    if timeout_raw is not None:
        try:
            timeout = float(timeout_raw)
        except ValueError:
            timeout = math.nan
        if not math.isfinite(timeout) or timeout <= 0:
            raise _usage(
                OPT_START_TIMEOUT,
                timeout_raw,
                "not a positive number of seconds.",
                "Give how long each build may take to become healthy, e.g. "
                "--aot-parity-start-timeout 120.",
            )

    grace_raw = _string(config, OPT_START_GRACE)
    grace = DEFAULT_START_GRACE
    if grace_raw is not None:
        try:
            grace = float(grace_raw)
        except ValueError:
            grace = math.nan
        if not math.isfinite(grace) or grace < 0:
            raise _usage(
                OPT_START_GRACE,
                grace_raw,
                "not a number of seconds (0 or more).",
                "Give how long a build may answer its health path with non-2xx before its "
                f"start is judged, e.g. --aot-parity-start-grace 10 (default "
                f"{DEFAULT_START_GRACE:g}).",
            )

    report_raw = _string(config, OPT_REPORT)
    report_path: Path | None = None
    if report_raw is not None:
        report_path = resolve_path(config, OPT_REPORT, report_raw)
        if report_path.is_dir():
            raise _usage(
                OPT_REPORT,
                report_raw,
                "this is a directory.",
                "Give a file name for the JSON report, e.g. --aot-parity-report "
                "aotparity-report.json.",
            )

    cli_headers = _split_names(_cli_list(config, OPT_HEADERS))
    ini_headers = _split_names(_ini_list(config, OPT_HEADERS))
    headers = validate_header_names(
        cli_headers or ini_headers or list(DEFAULT_HEADERS), OPT_HEADERS.name()
    )

    ignore_paths = validate_json_paths(
        [*_ini_list(config, OPT_IGNORE), *_cli_list(config, OPT_IGNORE)], OPT_IGNORE.name()
    )
    ignore_headers = validate_header_names(
        _split_names(
            [*_ini_list(config, OPT_IGNORE_HEADER), *_cli_list(config, OPT_IGNORE_HEADER)]
        ),
        OPT_IGNORE_HEADER.name(),
    )
    redact = validate_header_names(
        _split_names([*_ini_list(config, OPT_REDACT), *_cli_list(config, OPT_REDACT)]),
        OPT_REDACT.name(),
    )
    ignore_order = bool(_scalar(config, OPT_IGNORE_ORDER))
    default_noise = not config.getoption(OPT_DEFAULT_NOISE.dest, None) and bool(
        config.getini(OPT_DEFAULT_NOISE.ini)
    )

    base_url_env = _string(config, OPT_BASE_URL_ENV) or DEFAULT_BASE_URL_ENV
    if not _ENV_NAME.match(base_url_env):
        raise _usage(
            OPT_BASE_URL_ENV,
            base_url_env,
            "not an environment variable name.",
            "Give the name of the variable your suite reads its base URL from, e.g. "
            "--aot-parity-base-url-env API_BASE_URL.",
        )

    app_url_raw = _string(config, OPT_APP_URL)
    app_url = _parse_url(app_url_raw, OPT_APP_URL) if app_url_raw else None

    return Settings(
        enabled=True,
        jit=jit,
        aot=aot,
        noise=noise,
        noise_auto=noise_auto,
        port=port,
        env=tuple(sorted(env.items())),
        health_path=health,
        start_timeout=timeout,
        start_grace=grace,
        report_path=report_path,
        headers=headers,
        ignore_paths=ignore_paths,
        ignore_headers=ignore_headers,
        ignore_order=ignore_order,
        default_noise=default_noise,
        redact=redact,
        base_url_env=base_url_env,
        app_url=app_url,
    )


# --------------------------------------------------------------------------------------
# The marker
# --------------------------------------------------------------------------------------

_MARKER_KWARGS = ("ignore", "ignore_headers", "ignore_order", "skip")


@dataclass(frozen=True)
class MarkerRules:
    """What the ``aot_parity`` markers of one test say (closest marker wins for flags,
    ignore lists are combined)."""

    ignore_paths: tuple[str, ...] = ()
    ignore_headers: tuple[str, ...] = ()
    ignore_order: bool | None = None
    skip: bool = False


def _as_list(value: object, what: str, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return list(value)
    raise pytest.UsageError(
        f"{where}: {what} must be a string or a list of strings, got {value!r}."
    )


def marker_rules(item: pytest.Item) -> MarkerRules:
    """Read and validate the ``aot_parity`` markers of ``item``."""
    where = f"{item.nodeid}: @pytest.mark.{MARKER_NAME}"
    paths: list[str] = []
    headers: list[str] = []
    ignore_order: bool | None = None
    skip: bool | None = None
    for mark in item.iter_markers(MARKER_NAME):
        if mark.args:
            raise pytest.UsageError(
                f"{where}: takes keyword arguments only, got positional {mark.args!r}.\n"
                "Write e.g. @pytest.mark.aot_parity(ignore=['$.servedAt']) or "
                "@pytest.mark.aot_parity(skip=True)."
            )
        unknown = sorted(set(mark.kwargs) - set(_MARKER_KWARGS))
        if unknown:
            raise pytest.UsageError(
                f"{where}: unknown argument(s) {', '.join(unknown)}.\n"
                f"Use {', '.join(_MARKER_KWARGS)}, e.g. "
                "@pytest.mark.aot_parity(ignore=['$.items[*].id'], ignore_order=True)."
            )
        if "ignore" in mark.kwargs:
            paths.extend(_as_list(mark.kwargs["ignore"], "ignore", where))
        if "ignore_headers" in mark.kwargs:
            headers.extend(_as_list(mark.kwargs["ignore_headers"], "ignore_headers", where))
        if "ignore_order" in mark.kwargs and ignore_order is None:
            ignore_order = bool(mark.kwargs["ignore_order"])
        if "skip" in mark.kwargs and skip is None:
            skip = bool(mark.kwargs["skip"])
    return MarkerRules(
        ignore_paths=validate_json_paths(paths, where + "(ignore=...)"),
        ignore_headers=validate_header_names(headers, where + "(ignore_headers=...)"),
        ignore_order=ignore_order,
        skip=bool(skip),
    )
