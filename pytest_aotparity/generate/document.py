"""The OpenAPI document: reading it, and comparing the JIT build's with the AOT build's.

Native AOT can change the document itself: an endpoint whose metadata the trimmer removed
is missing, a parameter loses its schema, a type its properties. :func:`diff_documents`
compares the two documents structurally and names each change by a JSONPath-like path
(``$.paths['/players/{n}/summary']`` for a vanished path, ``$.components.schemas.Player
.properties.team`` for a vanished property). The server URLs are left out: the two builds
listen on different ports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_aotparity.diff.model import Category, Difference, DiffKind

IGNORED_TOP_LEVEL = frozenset({"servers"})
"""Top-level members never compared (server URLs carry each build's own port)."""

UNORDERED_LISTS = frozenset({"required", "enum", "tags", "type", "security"})
"""List-valued keywords whose order means nothing."""

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

MAX_SHOWN = 160


class DocumentError(Exception):
    """The document could not be read; the message says why."""


def parse_document(body: bytes, content_type: str = "") -> dict[str, Any]:
    """A JSON (or YAML) OpenAPI document as a dict; :class:`DocumentError` otherwise."""
    text = body.decode("utf-8", errors="replace")
    data: Any
    try:
        data = json.loads(text)
    except ValueError:
        if "json" in content_type:
            raise DocumentError("the answer is not valid JSON") from None
        try:
            import yaml
        except ImportError:  # pragma: no cover - schemathesis depends on PyYAML
            raise DocumentError("the answer is not JSON (and PyYAML is not installed)") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DocumentError(f"the answer is neither JSON nor YAML ({exc})") from None
    if not isinstance(data, dict):
        raise DocumentError("the answer is not a JSON object")
    if "openapi" not in data and "swagger" not in data:
        raise DocumentError("the answer has no 'openapi' (or 'swagger') version field")
    if not isinstance(data.get("paths", {}), dict):
        raise DocumentError("its 'paths' member is not an object")
    return data


def _key_path(parent: str, key: str) -> str:
    if key and all(ch.isalnum() or ch in "_-$@" for ch in key):
        return f"{parent}.{key}"
    escaped = key.replace("'", "\\'")
    return f"{parent}['{escaped}']"


def shown(value: Any) -> Any:
    """A value as it appears in a difference: scalars as they are, objects and lists as
    compact JSON cut at :data:`MAX_SHOWN` characters."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _param_key(param: Any) -> str | None:
    if isinstance(param, Mapping):
        if "$ref" in param:
            return f"$ref:{param['$ref']}"
        if "name" in param:
            return f"{param.get('in', '?')}:{param['name']}"
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _walk(jit: Any, aot: Any, path: str, key: str | None) -> Iterator[Difference]:
    if isinstance(jit, Mapping) and isinstance(aot, Mapping):
        for name in jit:
            child = _key_path(path, str(name))
            if name not in aot:
                yield Difference(child, DiffKind.MISSING, shown(jit[name]), None)
            else:
                yield from _walk(jit[name], aot[name], child, str(name))
        for name in aot:
            if name not in jit:
                child = _key_path(path, str(name))
                yield Difference(child, DiffKind.EXTRA, None, shown(aot[name]))
        return
    if isinstance(jit, list) and isinstance(aot, list):
        if key == "parameters":
            yield from _walk_keyed(jit, aot, path)
            return
        if key in UNORDERED_LISTS:
            jit_set = {json.dumps(v, sort_keys=True) for v in jit}
            aot_set = {json.dumps(v, sort_keys=True) for v in aot}
            for gone in sorted(jit_set - aot_set):
                yield Difference(f"{path}[*]", DiffKind.MISSING, shown(json.loads(gone)), None)
            for new in sorted(aot_set - jit_set):
                yield Difference(f"{path}[*]", DiffKind.EXTRA, None, shown(json.loads(new)))
            return
        for index, (a, b) in enumerate(zip(jit, aot, strict=False)):
            yield from _walk(a, b, f"{path}[{index}]", None)
        for index in range(len(aot), len(jit)):
            yield Difference(f"{path}[{index}]", DiffKind.MISSING, shown(jit[index]), None)
        for index in range(len(jit), len(aot)):
            yield Difference(f"{path}[{index}]", DiffKind.EXTRA, None, shown(aot[index]))
        return
    if jit == aot and type(jit) is type(aot):
        return
    kind = DiffKind.TYPE if _json_type(jit) != _json_type(aot) else DiffKind.VALUE
    yield Difference(path, kind, shown(jit), shown(aot))


def _walk_keyed(jit: Sequence[Any], aot: Sequence[Any], path: str) -> Iterator[Difference]:
    """Operation parameters compared by ``in`` and ``name``, whatever their order."""
    jit_by = {_param_key(p) or f"#{i}": p for i, p in enumerate(jit)}
    aot_by = {_param_key(p) or f"#{i}": p for i, p in enumerate(aot)}
    for key, param in jit_by.items():
        child = f"{path}[?{key}]"
        if key not in aot_by:
            yield Difference(child, DiffKind.MISSING, shown(param), None)
        else:
            yield from _walk(param, aot_by[key], child, None)
    for key, param in aot_by.items():
        if key not in jit_by:
            yield Difference(f"{path}[?{key}]", DiffKind.EXTRA, None, shown(param))


def diff_documents(jit: Mapping[str, Any], aot: Mapping[str, Any]) -> list[Difference]:
    """Every structural difference between two OpenAPI documents, servers left out.

    A vanished operation or schema is one difference (at its own path), not one per
    member inside it.
    """
    jit_doc = {k: v for k, v in jit.items() if k not in IGNORED_TOP_LEVEL}
    aot_doc = {k: v for k, v in aot.items() if k not in IGNORED_TOP_LEVEL}
    return list(_walk(jit_doc, aot_doc, "$", None))


def document_category(differences: Sequence[Difference]) -> Category:
    """*API description differs*, whatever changed in the document: it describes the API,
    it is not an answer whose data was lost (the answers themselves are compared by the
    generated tests)."""
    del differences  # one category for every document difference, by rule
    return Category.API_DESCRIPTION_DIFFERS


@dataclass(frozen=True)
class OperationSummary:
    """One line per changed operation, for the failure text."""

    method: str
    path: str
    change: str


def operations(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every operation, in document order."""
    out: list[tuple[str, str]] = []
    paths = document.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), Mapping):
                out.append((method.upper(), str(path)))
    return out


def operation_changes(jit: Mapping[str, Any], aot: Mapping[str, Any]) -> list[OperationSummary]:
    """Operations present in one document only: the headline of a document divergence."""
    jit_ops = operations(jit)
    aot_ops = set(operations(aot))
    out = [
        OperationSummary(m, p, "missing from the AOT build's document")
        for m, p in jit_ops
        if (m, p) not in aot_ops
    ]
    jit_set = set(jit_ops)
    out.extend(
        OperationSummary(m, p, "only in the AOT build's document")
        for m, p in operations(aot)
        if (m, p) not in jit_set
    )
    return out
