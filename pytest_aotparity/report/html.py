"""The HTML report (``--aot-parity-html PATH``): one self-contained page for after a CI run.

The page renders the same document as the JSON report (see ``docs/reports.md``): the
verdict at the top, the trade-offs, parity per endpoint, every divergence with both answers
side by side (pretty JSON, the differing fields highlighted; a field missing on one side is
shown as a ghost line there), the request, the curl commands and the linked publish
warnings, then the baseline and the warnings by code.

Everything is inline (CSS and a little JavaScript for filters, copy buttons and
expand/collapse); the page loads nothing from anywhere. Every value from the app or the run
is escaped (Jinja2 autoescape), so a hostile body cannot script the page.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from pytest_aotparity.report.tradeoffs import format_ratio, format_value

TEMPLATES = Path(__file__).with_name("templates")
MAX_CARDS = 300
"""Divergences rendered in full; the rest are listed in a table."""
MAX_VALUE_CHARS = 240

_PLAIN_KEY = re.compile(r"^[A-Za-z_@$][\w@$\-]*$")
_LAST_SEGMENT = re.compile(
    r"""(?:\.([A-Za-z_@$][\w@$\-]*)|\[(\d+)\]|\['([^']*)'\]|\[("(?:[^"\\]|\\.)*")\])$"""
)

KIND_CLASS = {
    "missing field": "missing",
    "extra field": "extra",
    "null vs value": "null",
    "type change": "type",
    "value change": "value",
    "order": "order",
    "body": "value",
    "header": "value",
    "status": "value",
    "connection error": "value",
}


def format_segment(key: str | int) -> str:
    """A path segment as the diff engine writes it (``.name``, ``[3]``, ``['odd key']``)."""
    if isinstance(key, int):
        return f"[{key}]"
    if _PLAIN_KEY.match(key):
        return "." + key
    if "'" not in key:
        return f"['{key}']"
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


def split_last(path: str) -> tuple[str, str | int] | None:
    """``$.a.b[2]`` → (``$.a.b``, 2); ``$.a['x y']`` → (``$.a``, ``x y``); None for ``$``."""
    match = _LAST_SEGMENT.search(path)
    if match is None:
        return None
    name, index, single, double = match.groups()
    parent = path[: match.start()]
    if not parent.startswith("$"):
        return None
    if index is not None:
        return parent, int(index)
    if double is not None:
        return parent, str(json.loads(double))
    return parent, str(name if name is not None else single)


# -- pretty JSON with highlights --------------------------------------------------------------


@dataclass
class Marks:
    """What to highlight in one pane: paths → (css class, title), and ghost keys (present
    only on the other side) per parent path."""

    paths: dict[str, tuple[str, str]] = field(default_factory=dict)
    ghosts: dict[str, list[tuple[str | int, str]]] = field(default_factory=dict)


def _scalar(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if value is None:
        cls = "j-null"
    elif isinstance(value, bool):
        cls = "j-bool"
    elif isinstance(value, int | float):
        cls = "j-num"
    else:
        cls = "j-str"
    return f'<span class="{cls}">{escape(text)}</span>'


def _wrap(html: str, path: str, marks: Marks) -> str:
    mark = marks.paths.get(path)
    if mark is None:
        return html
    cls, title = mark
    return (
        f'<span class="hl hl-{cls}" data-path="{escape(path)}" title="{escape(title)}">'
        f"{html}</span>"
    )


def _ghost(key: str | int, label: str) -> str:
    shown = json.dumps(key, ensure_ascii=False) + ": " if isinstance(key, str) else f"[{key}] "
    return f'<span class="ghost">{escape(shown)}{escape(label)}</span>'


def _render(value: Any, path: str, depth: int, marks: Marks) -> str:
    pad = "  " * (depth + 1)
    close = "  " * depth
    ghosts = marks.ghosts.get(path, [])
    if isinstance(value, Mapping):
        items = []
        for key, child in value.items():
            child_path = path + format_segment(str(key))
            key_html = (
                f'<span class="j-key">{escape(json.dumps(str(key), ensure_ascii=False))}</span>: '
            )
            items.append(
                _wrap(key_html + _render(child, child_path, depth + 1, marks), child_path, marks)
            )
        items.extend(_ghost(key, label) for key, label in ghosts)
        if not items:
            return "{}"
        return "{\n" + ",\n".join(pad + item for item in items) + "\n" + close + "}"
    if isinstance(value, list):
        items = []
        for index, child in enumerate(value):
            child_path = f"{path}[{index}]"
            items.append(_wrap(_render(child, child_path, depth + 1, marks), child_path, marks))
        items.extend(_ghost(key, label) for key, label in ghosts)
        if not items:
            return "[]"
        return "[\n" + ",\n".join(pad + item for item in items) + "\n" + close + "]"
    return _scalar(value)


def render_json(value: Any, marks: Marks | None = None) -> Markup:
    """``value`` as indented JSON in HTML, with the marked paths highlighted."""
    marks = marks or Marks()
    return Markup(_wrap(_render(value, "$", 0, marks), "$", marks))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def marks_for(differences: Sequence[Mapping[str, Any]]) -> tuple[Marks, Marks]:
    """The highlights of the JIT pane and of the AOT pane."""
    jit, aot = Marks(), Marks()
    for diff in differences:
        path = str(diff.get("path"))
        kind = str(diff.get("kind"))
        if not path.startswith("$"):
            continue
        cls = KIND_CLASS.get(kind, "value")
        if kind == "missing field":
            jit.paths[path] = (cls, "missing in the AOT answer")
            split = split_last(path)
            if split:
                aot.ghosts.setdefault(split[0], []).append((split[1], "… missing in this answer"))
        elif kind == "extra field":
            aot.paths[path] = (cls, "only in the AOT answer")
            split = split_last(path)
            if split:
                jit.ghosts.setdefault(split[0], []).append((split[1], "… only in the AOT answer"))
        else:
            title = f"{kind}: jit {_short(diff.get('jit'))} / aot {_short(diff.get('aot'))}"
            jit.paths[path] = (cls, title)
            aot.paths[path] = (cls, title)
    return jit, aot


# -- view models ------------------------------------------------------------------------------


def _decode_body(entry: Mapping[str, Any]) -> tuple[str, Any]:
    """(``json``|``text``|``binary``|``empty``, value) of a recorded body."""
    body = entry.get("body")
    encoding = entry.get("body_encoding")
    if body is None or body == "":
        return "empty", None
    if encoding == "base64":
        try:
            size = len(base64.b64decode(str(body), validate=False))
        except ValueError:
            size = len(str(body)) * 3 // 4
        return "binary", size
    text = str(body)
    if not entry.get("body_truncated"):
        try:
            return "json", json.loads(text)
        except ValueError:
            pass
    return "text", text


def _pane(
    build: str,
    response: Mapping[str, Any] | None,
    differences: Sequence[Mapping[str, Any]],
    marks: Marks,
) -> dict[str, Any]:
    response = response or {}
    status_differs = any(str(d.get("path")) == "status" for d in differences)
    differing_headers = {
        str(d.get("path"))[len("header:") :].lower()
        for d in differences
        if str(d.get("path")).startswith("header:")
    }
    whole_body = any(str(d.get("path")) == "$" for d in differences)
    kind, value = _decode_body(response)
    if kind == "json":
        body = render_json(value, marks)
    elif kind == "text":
        text = escape(value)
        body = Markup(f'<span class="hl hl-value">{text}</span>') if whole_body else Markup(text)
    elif kind == "binary":
        body = Markup(escape(f"(binary body, {value} bytes)"))
    else:
        body = Markup('<span class="muted">(empty body)</span>')
    headers = [
        {"name": name, "value": val, "differs": name.lower() in differing_headers}
        for name, val in response.get("headers") or ()
    ]
    status = response.get("status")
    error = response.get("error")
    return {
        "build": build,
        "status": status,
        "error": error,
        "status_text": f"{status}" if status is not None else f"no answer: {error}",
        "status_differs": status_differs,
        "elapsed_ms": response.get("elapsed_ms"),
        "content_type": response.get("content_type"),
        "headers": headers,
        "body": body,
        "body_truncated": bool(response.get("body_truncated")),
    }


def _request_view(request: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not request:
        return None
    kind, value = _decode_body(request)
    if kind == "json":
        body: Markup | None = render_json(value)
    elif kind == "text":
        body = Markup(escape(value))
    elif kind == "binary":
        body = Markup(escape(f"(binary body, {value} bytes)"))
    else:
        body = None
    return {
        "method": request.get("method"),
        "path": request.get("path"),
        "headers": [list(h) for h in request.get("headers") or ()],
        "body": body,
    }


def _card(
    index: int, record: Mapping[str, Any], warnings: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    differences = list(record.get("differences") or ())
    jit_marks, aot_marks = marks_for(differences)
    responses = record.get("responses") or {}
    status = str(record.get("baseline") or ("known" if record.get("known") else "new"))
    links = []
    warning_entry = record.get("warnings") or {}
    for link in warning_entry.get("links") or ():
        position = int(link.get("warning", -1))
        warning = warnings[position] if 0 <= position < len(warnings) else {}
        links.append(
            {
                "anchor": f"w-{position}",
                "code": link.get("code"),
                "member": link.get("member") or warning.get("type") or "(no member)",
                "message": warning.get("message", ""),
                "score": link.get("score"),
                "reasons": list(link.get("reasons") or ()),
            }
        )
    return {
        "id": f"d{index + 1}",
        "number": index + 1,
        "status": status,
        "category": record.get("category"),
        "method": record.get("method"),
        "path": record.get("path"),
        "path_template": record.get("path_template"),
        "nodeid": record.get("nodeid"),
        "origin": record.get("origin"),
        "jit_status": (record.get("status") or {}).get("jit"),
        "aot_status": (record.get("status") or {}).get("aot"),
        "key": record.get("baseline_key"),
        "differences": [
            {
                "path": d.get("path"),
                "kind": d.get("kind"),
                "cls": KIND_CLASS.get(str(d.get("kind")), "value"),
                "jit": _short(d.get("jit")),
                "aot": _short(d.get("aot")),
            }
            for d in differences
        ],
        "jit": _pane("jit", responses.get("jit"), differences, jit_marks),
        "aot": _pane("aot", responses.get("aot"), differences, aot_marks),
        "request": _request_view(record.get("request")),
        "aot_request": _request_view(record.get("aot_request")),
        "curl": record.get("curl"),
        "aot_log_tail": list(record.get("aot_log_tail") or ()),
        "links": links,
        "links_more": int(warning_entry.get("more") or 0),
        "links_note": warning_entry.get("note"),
        "warnings_given": bool(record.get("warnings") is not None),
        "noise_cancelled": record.get("noise_cancelled") or 0,
    }


def _trend(ratio: Any) -> str:
    """``better`` (AOT clearly lower), ``worse`` (clearly higher) or ``same`` (within 5 %)."""
    if not isinstance(ratio, int | float):
        return ""
    if ratio < 0.95:
        return "better"
    if ratio > 1.05:
        return "worse"
    return "same"


def build_context(document: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the template shows, from a report document."""
    records = list(document.get("divergences") or ())
    warnings_section = document.get("warnings") or None
    warning_list = list((warnings_section or {}).get("warnings") or ())
    cards = [_card(i, r, warning_list) for i, r in enumerate(records[:MAX_CARDS])]
    rest = [
        {
            "number": i + 1,
            "status": r.get("baseline") or ("known" if r.get("known") else "new"),
            "category": r.get("category"),
            "method": r.get("method"),
            "path": r.get("path"),
            "nodeid": r.get("nodeid"),
        }
        for i, r in enumerate(records[MAX_CARDS:], start=MAX_CARDS)
    ]
    tradeoffs = document.get("tradeoffs") or {}
    figures = [
        {
            "label": f.get("label"),
            "jit": format_value(f.get("jit"), str(f.get("unit"))),
            "aot": format_value(f.get("aot"), str(f.get("unit"))),
            "ratio": format_ratio(f.get("ratio")).replace("x", "×"),
            "trend": _trend(f.get("ratio")),
        }
        for f in tradeoffs.get("figures") or ()
    ]
    summary = document.get("summary") or {}
    settings = document.get("settings") or {}
    verdict = document.get("verdict") or {
        "decision": "defer",
        "reason": "no verdict in this report",
        "rule": "",
    }
    categories = sorted({str(r.get("category")) for r in records})
    statuses = [s for s in ("new", "known", "accepted") if any(c["status"] == s for c in cards)]
    warnings_by_code: list[dict[str, Any]] = []
    if warnings_section:
        for group in warnings_section.get("by_code") or ():
            code = group.get("code")
            items = [
                {"anchor": f"w-{i}", **w}
                for i, w in enumerate(warning_list)
                if w.get("code") == code
            ]
            warnings_by_code.append({**group, "entries": items})
    return {
        "document": document,
        "verdict": verdict,
        "summary": summary,
        "settings": settings,
        "targets": summary.get("targets") or [],
        "exited": summary.get("exited") or [],
        "start": document.get("start"),
        "figures": figures,
        "tradeoff_builds": tradeoffs.get("builds") or {},
        "parity": document.get("parity") or [],
        "findings": list(document.get("findings") or ()),
        "answers": list(document.get("answers") or ()),
        "cards": cards,
        "rest": rest,
        "categories": categories,
        "statuses": statuses,
        "baseline": document.get("baseline"),
        "warnings": warnings_section,
        "warnings_by_code": warnings_by_code,
        "new_count": sum(1 for r in records if (r.get("baseline") or "new") == "new"),
        "known_count": sum(1 for r in records if (r.get("baseline") or "new") != "new"),
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "js": Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
    }


def render_html(document: Mapping[str, Any]) -> str:
    """The HTML page of a report document."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    return template.render(**build_context(document))


def write_html(path: Path, document: Mapping[str, Any]) -> None:
    """Write the page atomically (a reader never sees half a page), creating parent
    directories; the file gets the usual permissions (umask), like any other output."""
    text = render_html(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
