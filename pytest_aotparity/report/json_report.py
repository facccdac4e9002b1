"""The JSON report (``--aot-parity-report PATH``): records and the document around them.

The document is described in ``docs/report-schema.md`` and validated by
``report.schema.json`` next to this module. Its two halves are built separately so other
report writers (HTML, trade-offs, baseline) can reuse them:

- :func:`divergence_record` turns one :class:`~pytest_aotparity.diff.model.Divergence` into a
  plain, JSON-able dict (built where the test ran, so it can travel from xdist workers);
- :func:`build_report` wraps the records and the totals into the document;
  ``extra_sections`` lets later writers add top-level sections (e.g. ``"tradeoffs"``)
  without touching this code.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import math
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from pytest_aotparity import __version__
from pytest_aotparity.diff.model import Divergence
from pytest_aotparity.endpoints import Operations, template_of
from pytest_aotparity.exchange import RecordedRequest, RecordedResponse
from pytest_aotparity.redaction import REDACTED
from pytest_aotparity.report.summary import ParityTotals

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
MAX_BODY_CHARS = 64 * 1024

CurlCommand = Callable[[RecordedRequest, str, Collection[str]], str]


def jsonable(value: Any) -> Any:
    """``value`` as something :func:`json.dumps` accepts (bytes as text, enums by value,
    anything else by ``str``)."""
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _folded(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def redact_headers(
    headers: tuple[tuple[str, str], ...], redact: Collection[str]
) -> list[list[str]]:
    names = {_folded(name) for name in redact}
    return [[k, REDACTED if _folded(k) in names else v] for k, v in headers]


def redact_path(path: str, redact: Collection[str]) -> str:
    """Query parameters named like a redacted header (``api_key`` for ``api-key``) show
    ``***``."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    names = {_folded(name) for name in redact}
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if not any(_folded(k) in names for k, _ in pairs):
        return path
    redacted = [(k, REDACTED if _folded(k) in names else v) for k, v in pairs]
    return base + "?" + urllib.parse.urlencode(redacted, safe="*")


def _redact_json(value: Any, names: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED if _folded(str(k)) in names else _redact_json(v, names)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(v, names) for v in value]
    return value


def redact_body(request: RecordedRequest, redact: Collection[str]) -> bytes:
    """A JSON body with fields named like a redacted header replaced by ``***``."""
    body = request.body
    names = frozenset(_folded(name) for name in redact)
    if not body or not names:
        return body
    ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
    if not (ctype == "application/json" or ctype.endswith("+json")):
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    redacted = _redact_json(data, names)
    if redacted == data:
        return body
    return json.dumps(redacted, ensure_ascii=False).encode()


def body_record(body: bytes) -> dict[str, Any]:
    if not body:
        return {"body": None, "body_encoding": None, "body_truncated": False}
    try:
        text = body.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        text = base64.b64encode(body).decode("ascii")
        encoding = "base64"
    truncated = len(text) > MAX_BODY_CHARS
    return {
        "body": text[:MAX_BODY_CHARS],
        "body_encoding": encoding,
        "body_truncated": truncated,
    }


def request_record(request: RecordedRequest, redact: Collection[str]) -> dict[str, Any]:
    """The request with secrets hidden: headers, query parameters and JSON body fields
    named in ``redact`` show ``***``."""
    return {
        "method": request.method,
        "path": redact_path(request.path, redact),
        "headers": redact_headers(request.headers, redact),
        **body_record(redact_body(request, redact)),
    }


def response_record(response: RecordedResponse | None) -> dict[str, Any] | None:
    if response is None:
        return None
    return {
        "status": response.status,
        "error": response.error,
        "content_type": response.content_type or None,
        "elapsed_ms": round(response.elapsed_ms, 3),
    }


def divergence_record(
    divergence: Divergence,
    *,
    redact: Collection[str],
    jit_url: str,
    aot_url: str,
    known_ids: Collection[str] = (),
    curl: CurlCommand | None = None,
    operations: Operations | None = None,
) -> dict[str, Any]:
    """One divergence as a JSON-able dict (see ``docs/report-schema.md``). With the
    document's ``operations``, the request is named by its operation and each differing
    field by the schema member it is (``member``: ``PlayerResponse.team``)."""
    exchange = divergence.exchange
    request = exchange.request
    template = template_of(request, known_ids, operations)

    def member(path: str) -> str | None:
        if operations is None or not path.startswith("$"):
            return None
        return operations.member(request.method, template, exchange.jit.status, path)

    record: dict[str, Any] = {
        "nodeid": exchange.nodeid,
        "origin": exchange.origin,
        "method": request.method,
        "path": redact_path(request.path, redact),
        "path_template": template,
        "request": request_record(request, redact),
        "aot_request": (
            request_record(exchange.aot_request, redact)
            if exchange.aot_request is not None and exchange.aot_request != request
            else None
        ),
        "status": {
            "jit": exchange.jit.status,
            "aot": exchange.aot.status,
            "noise": exchange.noise.status if exchange.noise is not None else None,
        },
        "responses": {
            "jit": response_record(exchange.jit),
            "aot": response_record(exchange.aot),
            "noise": response_record(exchange.noise),
        },
        "category": jsonable(divergence.category),
        "noise_cancelled": divergence.noise_cancelled,
        "known": divergence.known,
        "differences": [
            {
                "path": difference.path,
                "generic_path": difference.generic_path,
                "member": member(difference.generic_path),
                "kind": jsonable(difference.kind),
                "jit": jsonable(difference.jit),
                "aot": jsonable(difference.aot),
            }
            for difference in divergence.differences
        ],
        "curl": None,
    }
    if curl is not None:
        record["curl"] = {
            "jit": curl(request, jit_url, redact),
            "aot": curl(exchange.aot_request or request, aot_url, redact),
        }
    return record


def build_report(
    totals: ParityTotals,
    *,
    settings: Mapping[str, Any] | None = None,
    extra_sections: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole report document."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pytest-aotparity", "version": __version__},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": jsonable(dict(settings or {})),
        "summary": totals.summary_dict(),
        "divergences": list(totals.divergences),
    }
    for key, value in (extra_sections or {}).items():
        if key in document:
            raise ValueError(f"report section {key!r} already exists")
        document[key] = jsonable(value)
    return document


def write_report(path: Path, document: Mapping[str, Any]) -> None:
    """Write atomically (a reader never sees half a report), creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".aotparity-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema
