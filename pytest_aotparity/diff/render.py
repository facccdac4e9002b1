"""Turning a divergence into text a person can act on, and requests into curl commands.

:func:`render_divergence` writes, in this order: the request (method, path, headers, a short
body excerpt; the AOT path too when ids were rewritten), the category and the statuses, a
compact aligned table of the differing fields (``path | kind | JIT | AOT``; values as JSON,
so ``null`` and ``"null"`` differ; ``(absent)`` where a side has no such field or header;
long values cut with ``…``), both bodies' beginnings when the statuses differ, the lines of
the AOT build's log around an exception (only when the log has one), and a curl command per
build (the AOT one with the rewritten request).

Redaction applies everywhere: headers named in ``redact`` (case-insensitive; by default
:data:`~pytest_aotparity.redaction.DEFAULT_REDACT`) show ``***`` in the request, in the
table and in the curl commands, and so do query parameters and JSON body fields of the same
names (``x-api-key`` also covers ``x_api_key``).
"""

from __future__ import annotations

import json
import re
import shlex
import urllib.parse
from collections.abc import Collection, Sequence
from typing import Any, Final

from pytest_aotparity.diff.model import Difference, DiffKind, Divergence
from pytest_aotparity.diff.normalise import json_loads, json_text, parse_content_type
from pytest_aotparity.exchange import RecordedRequest, RecordedResponse
from pytest_aotparity.redaction import DEFAULT_REDACT, REDACTED

_NOT_REPLAYED: Final = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}
)
"""Request headers curl sets itself (or that would make it print compressed bytes)."""
_ABSENT: Final = "(absent)"
_PATH_WIDTH: Final = 48
_VALUE_WIDTH: Final = 40
_BODY_EXCERPT: Final = 200
_LOG_BEFORE: Final = 2
_LOG_MAX: Final = 30
_EXAMPLES: Final = 2
"""Examples shown for the elements of one collapsed row."""
LOG_LINES: Final = 300
"""How many of the AOT build's last log lines are searched for the exception: a .NET stack
trace through the ASP.NET Core middleware is easily 60 lines."""
_LOG_ENTRY = re.compile(r"^(trce|dbug|info|warn|fail|crit): ")
"""The first line of an entry of .NET's console logger (simple format)."""
_LOG_FAILURE = re.compile(r"^(fail|crit): |Unhandled exception\.")
_LOG_EXCEPTION = re.compile(r"^\s*(?!at )[\w.`+<>]*(Exception|Error)(:|$)")
"""``System.InvalidOperationException: message`` — not a stack frame that names one."""
_FRAMEWORK_FRAME = re.compile(
    r"^\s*at (Microsoft\.AspNetCore\.|System\.Runtime\.CompilerServices\.)"
)
_ASYNC_SEAM = re.compile(r"^\s*--- End of stack trace from previous location ---")
"""Where an async method resumed: says nothing about the failure, and is dropped."""


# -- redaction ----------------------------------------------------------------------------


def _folded(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _names(redact: Collection[str]) -> frozenset[str]:
    return frozenset(_folded(name) for name in redact)


def _redacted_header(name: str, value: str, names: frozenset[str]) -> str:
    return REDACTED if _folded(name) in names else value


def _redact_query(path: str, names: frozenset[str]) -> str:
    """``/x?api_key=s&q=1`` → ``/x?api_key=***&q=1`` (other parameters untouched)."""
    head, sep, query = path.partition("?")
    if not sep or not names:
        return path
    query, hash_sep, fragment = query.partition("#")
    parts = []
    for part in query.split("&"):
        key, eq, _ = part.partition("=")
        if eq and _folded(urllib.parse.unquote_plus(key)) in names:
            parts.append(f"{key}={REDACTED}")
        else:
            parts.append(part)
    return head + "?" + "&".join(parts) + hash_sep + fragment


def _redact_value(value: Any, names: frozenset[str]) -> tuple[Any, bool]:
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and _folded(key) in names:
                out[key] = REDACTED
                changed = True
            else:
                out[key], sub = _redact_value(item, names)
                changed = changed or sub
        return out, changed
    if isinstance(value, list):
        items = [_redact_value(item, names) for item in value]
        return [item for item, _ in items], any(sub for _, sub in items)
    return value, False


def _redact_body(request: RecordedRequest, names: frozenset[str]) -> bytes:
    """The request body with fields named in ``names`` redacted (JSON and form bodies);
    unchanged bytes when nothing needed redacting."""
    body = request.body
    if not body or not names:
        return body
    media, _ = parse_content_type(request.header("content-type"))
    if media == "application/x-www-form-urlencoded":
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            return body
        redacted = _redact_query("?" + text, names)[1:]
        return redacted.encode("ascii")
    if body.lstrip()[:1] not in (b"{", b"["):
        return body
    try:
        value = json_loads(body)
    except ValueError:
        return body
    value, changed = _redact_value(value, names)
    if not changed:
        return body
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# -- curl ---------------------------------------------------------------------------------


def _url(base_url: str, path: str) -> str:
    if not base_url:
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _is_text(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        return None
    return text


def _printf_octal(body: bytes) -> str:
    """``printf`` format text that writes ``body`` exactly (POSIX octal escapes)."""
    out = []
    for byte in body:
        char = chr(byte)
        if 32 <= byte < 127 and char not in "\\'%":
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def curl_command(
    request: RecordedRequest, base_url: str, redact: Collection[str] = DEFAULT_REDACT
) -> str:
    """A shell command that sends ``request`` to the build at ``base_url`` with curl
    (``-i`` prints the status line and headers). Redacted values show as ``***``."""
    names = _names(redact)
    words = ["curl", "-sS", "-i"]
    method = request.method.upper()
    body = _redact_body(request, names)
    if method == "HEAD":
        words.append("--head")
    elif method != "GET" or body:
        words += ["-X", method]
    words.append(_url(base_url, _redact_query(request.path, names)))
    for name, value in request.headers:
        if name.lower() in _NOT_REPLAYED:
            continue
        words += ["-H", f"{name}: {_redacted_header(name, value, names)}"]
    if not body:
        return shlex.join(words)
    text = _is_text(body)
    if text is not None:
        return shlex.join([*words, "--data-binary", text])
    return f"printf '{_printf_octal(body)}' | " + shlex.join([*words, "--data-binary", "@-"])


# -- the table ----------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(difference: Difference, side: str, names: frozenset[str]) -> str:
    value = difference.jit if side == "jit" else difference.aot
    kind = difference.kind
    if value is None and (
        (kind is DiffKind.MISSING and side == "aot")
        or (kind is DiffKind.EXTRA and side == "jit")
        or kind is DiffKind.HEADER
    ):
        return _ABSENT
    if kind is DiffKind.HEADER:
        name = difference.path.partition(":")[2]
        return json_text(_redacted_header(name, str(value), names))
    return json_text(value)


def collapsed(
    differences: Sequence[Difference],
) -> list[tuple[str, DiffKind, list[Difference]]]:
    """Differences of array elements grouped by generic path and kind (``$[*].team``), in
    the order they first appear; a single one keeps its concrete path."""
    groups: dict[tuple[str, DiffKind], list[Difference]] = {}
    for difference in differences:
        groups.setdefault((difference.generic_path, difference.kind), []).append(difference)
    return [
        (members[0].path if len(members) == 1 else f"{generic} ×{len(members)}", kind, members)
        for (generic, kind), members in groups.items()
    ]


def _table(differences: Sequence[Difference], names: frozenset[str]) -> list[str]:
    header = ("path", "kind", "jit", "aot")

    def cells(members: Sequence[Difference], side: str) -> str:
        shown = [_cell(d, side, names) for d in members[:_EXAMPLES]]
        more = ", …" if len(members) > _EXAMPLES else ""
        return _cut(", ".join(shown) + more, _VALUE_WIDTH)

    rows = [
        (_cut(path, _PATH_WIDTH), kind.value, cells(members, "jit"), cells(members, "aot"))
        for path, kind, members in collapsed(differences)
    ]
    widths = [max(len(row[col]) for row in (header, *rows)) for col in range(4)]

    def line(cells: Sequence[str]) -> str:
        return "  " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), "  " + "-+-".join("-" * w for w in widths), *map(line, rows)]


# -- the rest -----------------------------------------------------------------------------


def _status(response: RecordedResponse) -> str:
    if response.error is not None or response.status is None:
        return f"no response ({response.error or 'unknown error'})"
    return str(response.status)


def _excerpt(body: bytes, width: int = _BODY_EXCERPT) -> str:
    text = _is_text(body)
    if text is None:
        return f"<{len(body)} bytes of binary data>"
    return _cut(" ".join(text.split()), width)


def log_excerpt(lines: Sequence[str]) -> list[str]:
    """The last failure in a log: from a couple of lines before the last ``fail:``/``crit:``
    entry (or ``Unhandled exception.``; else the last ``…Exception:`` line) to the next log
    entry, at most 30 lines: the async seams dropped and runs of ASP.NET Core middleware
    frames folded into one line, so the app's own frames show. Nothing when the log has no
    failure."""
    starts = [i for i, line in enumerate(lines) if _LOG_FAILURE.search(line)]
    if not starts:
        starts = [i for i, line in enumerate(lines) if _LOG_EXCEPTION.search(line)]
    if not starts:
        return []
    first = starts[-1]
    end = len(lines)
    for index in range(first + 1, len(lines)):
        if _LOG_ENTRY.match(lines[index]):
            end = index
            break
    out = [line.rstrip() for line in lines[max(0, first - _LOG_BEFORE) : first]]
    run: list[str] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0].rstrip())
        elif run:
            out.append(f"{_indent(run[0])}… {len(run)} framework frames")
        run.clear()

    for line in lines[first:end]:
        if _ASYNC_SEAM.match(line):
            continue
        if _FRAMEWORK_FRAME.match(line):
            run.append(line)
            continue
        flush()
        out.append(line.rstrip())
    flush()
    if len(out) > _LOG_MAX:
        out = [*out[: _LOG_MAX - 1], f"… {len(out) - _LOG_MAX + 1} more lines"]
    return out


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def render_divergence(
    div: Divergence,
    *,
    jit_url: str,
    aot_url: str,
    aot_log_tail: Sequence[str] = (),
    redact: Collection[str] = DEFAULT_REDACT,
    max_rows: int = 20,
) -> str:
    """One divergence as text (see the module docstring)."""
    names = _names(redact)
    exchange = div.exchange
    request = exchange.request
    aot_request = exchange.aot_request or request
    lines = [f"{request.method.upper()} {_redact_query(request.path, names)}"]
    if aot_request.path != request.path:
        lines[0] += f"  (sent to aot as {_redact_query(aot_request.path, names)})"
    if exchange.origin != "suite":
        lines[0] += f"  [{exchange.origin} request]"
    for name, value in request.headers:
        if name.lower() not in _NOT_REPLAYED:
            lines.append(f"    {name}: {_redacted_header(name, value, names)}")
    body = _redact_body(request, names)
    if body:
        lines.append(f"    body: {_excerpt(body)}")

    lines.append(f"category: {div.category.value}")
    statuses = f"status: jit {_status(exchange.jit)}, aot {_status(exchange.aot)}"
    if exchange.noise is not None:
        statuses += f" (noise {_status(exchange.noise)})"
    lines.append(statuses)

    count = len(div.differences)
    omitted = int(div.extra.get("omitted_differences", 0) or 0)
    summary = f"{count + omitted} difference{'s' if count + omitted != 1 else ''}"
    if div.noise_cancelled:
        summary += f"; {div.noise_cancelled} more cancelled as noise"
    lines.append(summary + ":")
    # array elements collapse to one row per generic path; the rows are capped, not the
    # differences (every element stays in the JSON report)
    rows = collapsed(div.differences)
    shown = [d for _, _, members in rows[: max(0, max_rows)] for d in members]
    lines.extend(_table(shown, names))
    hidden = count + omitted - len(shown)
    if hidden > 0:
        lines.append(f"  … and {hidden} more")

    if any(d.kind in (DiffKind.STATUS, DiffKind.ERROR) for d in div.differences):
        for build, response in (("jit", exchange.jit), ("aot", exchange.aot)):
            if response.body:
                lines.append(f"{build} body: {_excerpt(response.body)}")

    around = log_excerpt(aot_log_tail)
    if around:
        lines.append("aot log (around the exception):")
        lines.extend(f"    {line}" for line in around)

    lines.append("reproduce:")
    lines.append(f"  jit: {curl_command(request, jit_url, redact)}")
    lines.append(f"  aot: {curl_command(aot_request, aot_url, redact)}")
    return "\n".join(lines)
