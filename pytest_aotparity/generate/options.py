"""Options and ini keys of request generation, and their validated :class:`GenerateSettings`.

They live in the same ``aotparity`` option group as the core options and follow the same
pairing (``--aot-parity-examples`` ↔ ``aot_parity_examples``; the command line wins over the
ini file). The one exception is the switch that turns generation off: the flag is
``--aot-parity-no-generate`` and the ini key is ``aot_parity_generate = false``.

This module is imported when pytest loads the plugin, so it imports nothing heavy.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.optionspec import OptionSpec, resolve_path, spec

DEFAULT_EXAMPLES = 50
DEFAULT_OPENAPI_LOCATIONS = ("/openapi/v1.json", "/swagger/v1/swagger.json", "/openapi.json")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


OPT_OPENAPI = spec("--aot-parity-openapi")
OPT_NO_GENERATE = spec(
    "--aot-parity-no-generate", ini="aot_parity_generate", store="aot_parity_no_generate"
)
OPT_EXAMPLES = spec("--aot-parity-examples")
OPT_PATH_VALUES = spec("--aot-parity-path-values")
OPT_SAFE_ONLY = spec("--aot-parity-safe-only")
OPT_STATEFUL_STEPS = spec("--aot-parity-stateful-steps")
OPT_GENERATE_LOG = spec("--aot-parity-generate-log")

DEFAULT_STATEFUL_STEPS = 10


def add_generate_options(parser: pytest.Parser) -> None:
    """Register the generation options in the ``aotparity`` group."""
    group = parser.getgroup("aotparity", "aot-parity (JIT vs Native AOT parity of an HTTP API)")
    group.addoption(
        OPT_OPENAPI.flag,
        dest=OPT_OPENAPI.dest,
        default=None,
        metavar="PATH|FILE",
        help="Where the OpenAPI document is: a path on the app (read from the JIT build, and "
        "from the AOT build to compare the two) or a local file. Default: the first of "
        + ", ".join(DEFAULT_OPENAPI_LOCATIONS)
        + " that answers.",
    )
    parser.addini(OPT_OPENAPI.ini, "Default for --aot-parity-openapi.", type="string")
    group.addoption(
        OPT_NO_GENERATE.flag,
        dest=OPT_NO_GENERATE.dest,
        action="store_true",
        default=None,
        help="Do not add the generated parity tests (one per OpenAPI operation, the "
        "stateful sequence and the document comparison); ini: aot_parity_generate = false.",
    )
    parser.addini(
        OPT_NO_GENERATE.ini,
        "Add generated parity tests from the OpenAPI document (default true).",
        type="bool",
        default=True,
    )
    group.addoption(
        OPT_EXAMPLES.flag,
        dest=OPT_EXAMPLES.dest,
        default=None,
        metavar="N",
        help=f"Generated requests per operation (hypothesis max_examples; default "
        f"{DEFAULT_EXAMPLES}); also the number of sequences the stateful test tries.",
    )
    parser.addini(OPT_EXAMPLES.ini, "Default for --aot-parity-examples.", type="string")
    group.addoption(
        OPT_PATH_VALUES.flag,
        dest=OPT_PATH_VALUES.dest,
        action="append",
        default=None,
        metavar="PARAM=PATH:JSONPATH",
        help="Where real values of a path parameter come from: a GET path on the JIT build "
        "and a JSON path into its answer, e.g. squadNumber=/players:$[*].squadNumber; "
        "repeat for more (ini: one per line). Without it, list endpoints are found in the "
        "OpenAPI document.",
    )
    parser.addini(
        OPT_PATH_VALUES.ini,
        "Path parameter sources, one PARAM=PATH:JSONPATH per line.",
        type="linelist",
        default=[],
    )
    group.addoption(
        OPT_SAFE_ONLY.flag,
        dest=OPT_SAFE_ONLY.dest,
        action="store_true",
        default=None,
        help="Generate only safe requests (GET, HEAD, OPTIONS): no write reaches the builds.",
    )
    parser.addini(
        OPT_SAFE_ONLY.ini, "Default for --aot-parity-safe-only.", type="bool", default=False
    )
    group.addoption(
        OPT_STATEFUL_STEPS.flag,
        dest=OPT_STATEFUL_STEPS.dest,
        default=None,
        metavar="N",
        help=f"Most steps in one stateful sequence (default {DEFAULT_STATEFUL_STEPS}); 0 "
        "leaves the stateful test out.",
    )
    parser.addini(OPT_STATEFUL_STEPS.ini, "Default for --aot-parity-stateful-steps.")
    group.addoption(
        OPT_GENERATE_LOG.flag,
        dest=OPT_GENERATE_LOG.dest,
        default=None,
        metavar="PATH",
        help="Append every generated request and both builds' statuses to PATH as JSON "
        "lines (to compare two runs, or to see what was sent).",
    )
    parser.addini(OPT_GENERATE_LOG.ini, "Default for --aot-parity-generate-log.")


@dataclass(frozen=True)
class PathValueRule:
    """``squadNumber=/players:$[*].squadNumber``: the values of path parameter ``param``
    are read from ``GET path`` on the JIT build at ``json_path``."""

    param: str
    path: str
    json_path: str

    def text(self) -> str:
        return f"{self.param}={self.path}:{self.json_path}"


@dataclass(frozen=True)
class GenerateSettings:
    enabled: bool = True
    openapi: str | None = None
    """A path on the app (``/openapi/v1.json``) or a local file; None: try the defaults."""
    openapi_file: Path | None = None
    """Set when ``openapi`` names an existing local file."""
    examples: int = DEFAULT_EXAMPLES
    path_values: tuple[PathValueRule, ...] = ()
    safe_only: bool = False
    stateful_steps: int = DEFAULT_STATEFUL_STEPS
    log_path: Path | None = None

    def locations(self) -> tuple[str, ...]:
        """Paths on the app to try for the document, in order."""
        if self.openapi_file is not None:
            return ()
        if self.openapi is not None:
            return (self.openapi,)
        return DEFAULT_OPENAPI_LOCATIONS


def _value(config: pytest.Config, option: OptionSpec) -> Any:
    value = config.getoption(option.dest, None)
    if value is not None:
        return value
    return config.getini(option.ini)


def _text(config: pytest.Config, option: OptionSpec) -> str | None:
    value = _value(config, option)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _usage(option: OptionSpec, value: str, problem: str, advice: str) -> pytest.UsageError:
    return pytest.UsageError(f"{option.name()} = {value!r}: {problem}\n{advice}")


_PARAM = re.compile(r"^[A-Za-z_][\w.\-]*$")


def parse_path_value_rule(raw: str, option: OptionSpec = OPT_PATH_VALUES) -> PathValueRule:
    """Parse ``PARAM=PATH:JSONPATH``; :class:`pytest.UsageError` says how to write it."""
    from pytest_aotparity.jsonpath import problem as json_path_problem

    advice = (
        "Write PARAM=PATH:JSONPATH: the path parameter, a GET path on the app that lists "
        "existing things, and a JSON path to the values in its answer, e.g. "
        "squadNumber=/players:$[*].squadNumber or id=/orders:$.items[*].id"
    )
    param, sep, rest = raw.strip().partition("=")
    param = param.strip().strip("{}")
    if not sep or not _PARAM.match(param):
        raise _usage(option, raw, "it does not start with a parameter name and '='.", advice)
    path, sep, json_path = rest.strip().rpartition(":$")
    if not sep:
        raise _usage(option, raw, "there is no ':$...' JSON path after the path.", advice)
    json_path = "$" + json_path
    path = path.strip()
    if not path.startswith("/") or "://" in path or "{" in path:
        raise _usage(
            option,
            raw,
            f"{path!r} is not a path on the app without parameters.",
            advice,
        )
    problem = json_path_problem(json_path)
    if problem is not None:
        raise _usage(option, raw, f"{json_path!r}: {problem}.", advice)
    return PathValueRule(param=param, path=path, json_path=json_path)


def _positive_int(config: pytest.Config, option: OptionSpec, default: int, minimum: int) -> int:
    raw = _text(config, option)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise _usage(
            option,
            raw,
            f"not a whole number >= {minimum}.",
            f"Give a count, e.g. {option.flag} 25 (fewer is faster, more finds more).",
        )
    return value


def read_generate_settings(config: pytest.Config) -> GenerateSettings:
    """Read and validate the generation options (only called with ``--aot-parity`` on)."""
    no_generate = config.getoption(OPT_NO_GENERATE.dest, None)
    enabled = not no_generate and bool(config.getini(OPT_NO_GENERATE.ini))

    openapi = _text(config, OPT_OPENAPI)
    openapi_file: Path | None = None
    if openapi is not None:
        parsed = urllib.parse.urlsplit(openapi)
        if parsed.scheme in ("http", "https"):
            raise _usage(
                OPT_OPENAPI,
                openapi,
                "a URL: the document is read from the builds aot-parity runs.",
                "Give the path on the app, e.g. --aot-parity-openapi /openapi/v1.json, or a "
                "local file with the document.",
            )
        candidate = resolve_path(config, OPT_OPENAPI, openapi)
        if not openapi.startswith("/") or candidate.is_file():
            if not candidate.is_file():
                raise _usage(
                    OPT_OPENAPI,
                    openapi,
                    "neither a path on the app (those start with /) nor an existing file.",
                    "Give the path the app serves its document at, e.g. /openapi/v1.json or "
                    "/swagger/v1/swagger.json, or the name of a JSON/YAML file.",
                )
            openapi_file = candidate

    examples = _positive_int(config, OPT_EXAMPLES, DEFAULT_EXAMPLES, 1)
    steps = _positive_int(config, OPT_STATEFUL_STEPS, DEFAULT_STATEFUL_STEPS, 0)

    rules: dict[str, PathValueRule] = {}
    ini_rules = [str(v) for v in config.getini(OPT_PATH_VALUES.ini) or []]
    cli_rules = [str(v) for v in config.getoption(OPT_PATH_VALUES.dest, None) or []]
    for raw in [*ini_rules, *cli_rules]:
        if raw.strip():
            rule = parse_path_value_rule(raw)
            rules[rule.param] = rule  # the command line wins per parameter

    safe_only = bool(_value(config, OPT_SAFE_ONLY))

    log_raw = _text(config, OPT_GENERATE_LOG)
    log_path: Path | None = None
    if log_raw is not None:
        log_path = resolve_path(config, OPT_GENERATE_LOG, log_raw)
        if log_path.is_dir():
            raise _usage(
                OPT_GENERATE_LOG,
                log_raw,
                "this is a directory.",
                "Give a file name, e.g. --aot-parity-generate-log generated.jsonl.",
            )

    return GenerateSettings(
        enabled=enabled,
        openapi=openapi,
        openapi_file=openapi_file,
        examples=examples,
        path_values=tuple(rules.values()),
        safe_only=safe_only,
        stateful_steps=steps,
        log_path=log_path,
    )
