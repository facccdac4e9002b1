"""What to generate, read from the OpenAPI document: the operations (one test item each,
in a safe order) and the resources the stateful test walks through.

Pure functions over the document dict; strategies come later from schemathesis.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_aotparity.generate.document import HTTP_METHODS
from pytest_aotparity.generate.options import SAFE_METHODS, PathValueRule
from pytest_aotparity.generate.values import ValueSource, value_sources

_PARAM = re.compile(r"\{([^{}]+)\}")

_METHOD_RANK = {
    "GET": 0,
    "HEAD": 0,
    "OPTIONS": 0,
    "TRACE": 0,
    "POST": 1,
    "PUT": 2,
    "PATCH": 2,
    "DELETE": 3,
}


@dataclass(frozen=True)
class OperationPlan:
    """One operation of the document: one generated test item."""

    method: str
    path: str
    """The path template as the document writes it (``/players/{squadNumber}``)."""
    operation_id: str | None = None
    tags: tuple[str, ...] = ()
    path_params: tuple[str, ...] = ()
    sources: Mapping[str, ValueSource] = field(default_factory=dict)
    """Where real values of each path parameter come from (may be empty)."""

    @property
    def label(self) -> str:
        """``GET /players/{squadNumber}``: the test item's name."""
        return f"{self.method} {self.path}"

    @property
    def safe(self) -> bool:
        return self.method in SAFE_METHODS


def path_params(template: str) -> tuple[str, ...]:
    return tuple(_PARAM.findall(template))


def list_paths(document: Mapping[str, Any]) -> list[str]:
    """Paths without parameters that have a GET operation: candidate list endpoints."""
    out = []
    for path, item in (document.get("paths") or {}).items():
        if (
            isinstance(item, Mapping)
            and "{" not in str(path)
            and isinstance(item.get("get"), Mapping)
        ):
            out.append(str(path))
    return out


def operation_plans(
    document: Mapping[str, Any],
    rules: Sequence[PathValueRule] = (),
    *,
    safe_only: bool = False,
) -> list[OperationPlan]:
    """The operations to test, safe ones first, then creates, updates and deletes last —
    so reads see the data as it was, and deletes do not starve the rest of real records.
    Within a rank, document order."""
    listed = list_paths(document)
    plans: list[tuple[int, int, OperationPlan]] = []
    index = 0
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            upper = method.upper()
            if safe_only and upper not in SAFE_METHODS:
                continue
            params = path_params(str(path))
            tags = tuple(str(t) for t in operation.get("tags") or () if isinstance(t, str))
            op_id = operation.get("operationId")
            plan = OperationPlan(
                method=upper,
                path=str(path),
                operation_id=str(op_id) if op_id else None,
                tags=tags,
                path_params=params,
                sources=value_sources(str(path), params, listed, rules),
            )
            plans.append((_METHOD_RANK.get(upper, 1), index, plan))
            index += 1
    return [plan for _, _, plan in sorted(plans, key=lambda t: (t[0], t[1]))]


@dataclass(frozen=True)
class Resource:
    """A collection the stateful test can create in and then read, update and delete:
    ``POST /players`` and ``GET|PUT|PATCH|DELETE /players/{squadNumber}``."""

    collection: str
    item: str
    """The item path template, one parameter after the collection."""
    param: str
    methods: frozenset[str]
    """Methods on the item path (subset of GET, PUT, PATCH, DELETE)."""

    @property
    def name(self) -> str:
        return self.collection.strip("/").replace("/", "_").replace("-", "_") or "root"


def resources(document: Mapping[str, Any]) -> list[Resource]:
    """Collections with a create (POST) and an item path with at least a read, update or
    delete. Collections whose own path has parameters (``/teams/{t}/players``) are left
    out: their parent would have to be created first."""
    paths = document.get("paths") or {}
    out: list[Resource] = []
    for raw_collection, item in paths.items():
        collection = str(raw_collection)
        if "{" in collection or not isinstance(item, Mapping):
            continue
        if not isinstance(item.get("post"), Mapping):
            continue
        base = collection.rstrip("/")
        for raw_candidate, candidate_item in paths.items():
            candidate = str(raw_candidate)
            rest = candidate[len(base) :] if candidate.startswith(base + "/") else None
            if rest is None or not isinstance(candidate_item, Mapping):
                continue
            match = re.fullmatch(r"/\{([^{}/]+)\}", rest)
            if match is None:
                continue
            methods = frozenset(
                m.upper()
                for m in ("get", "put", "patch", "delete")
                if isinstance(candidate_item.get(m), Mapping)
            )
            if methods:
                out.append(Resource(collection, candidate, match.group(1), methods))
                break
    return out


def _resolve(document: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """Follow a local ``$ref`` (``#/components/schemas/Player``)."""
    while isinstance(node, Mapping) and "$ref" in node and depth < 20:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            return node
        target: Any = document
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return node
            target = target[part]
        node = target
        depth += 1
    return node


def required_body_members(document: Mapping[str, Any], path: str, method: str) -> frozenset[str]:
    """Top-level members the operation's JSON request body requires (none when the
    document does not say)."""
    item = (document.get("paths") or {}).get(path)
    operation = item.get(method.lower()) if isinstance(item, Mapping) else None
    if not isinstance(operation, Mapping):
        return frozenset()
    body = _resolve(document, operation.get("requestBody"))
    content = body.get("content") if isinstance(body, Mapping) else None
    if not isinstance(content, Mapping):
        return frozenset()
    for media_type, media in content.items():
        if "json" not in str(media_type) or not isinstance(media, Mapping):
            continue
        schema = _resolve(document, media.get("schema"))
        if not isinstance(schema, Mapping):
            continue
        return frozenset(str(k) for k in schema.get("required") or ())
    return frozenset()


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex matching concrete paths of ``template`` (each parameter one segment)."""
    parts = re.split(r"(\{[^{}]+\})", template)
    regex = "".join(
        "[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts
    )
    return re.compile(f"^{regex}/?$")
