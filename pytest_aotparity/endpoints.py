"""What a request is called in every table: ``METHOD /route/{template}``.

One place for naming, so the failure text, the summary, the trade-offs and the JSON report
never name the same endpoint two ways.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pytest_aotparity.exchange import Exchange, RecordedRequest

_NUMERIC = re.compile(r"^-?\d+$")
_GUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_LONG_HEX = re.compile(r"^[0-9a-fA-F]{16,}$")


def infer_template(path: str, known_ids: Collection[str] = ()) -> str:
    """The route template of a concrete path: segments that are numbers, GUIDs, long hex
    strings or ids the run learned become ``{id}``; the query is dropped.

    ``/players/7/stats?x=1`` → ``/players/{id}/stats``.
    """
    only_path = path.split("?", 1)[0].split("#", 1)[0]
    segments = only_path.split("/")
    for i, segment in enumerate(segments):
        if not segment:
            continue
        plain = urllib.parse.unquote(segment)
        if (
            _NUMERIC.match(plain)
            or _GUID.match(plain)
            or _LONG_HEX.match(plain)
            or plain in known_ids
        ):
            segments[i] = "{id}"
    return "/".join(segments) or "/"


def known_ids(mappings: Iterable[Mapping[str, str]]) -> frozenset[str]:
    """Every JIT id (and other-build id) of some id maps, for :func:`infer_template`."""
    out: set[str] = set()
    for mapping in mappings:
        out.update(mapping.keys())
        out.update(mapping.values())
    return frozenset(out)


def template_of(
    request: RecordedRequest,
    known_ids: Collection[str] = (),
    operations: Operations | None = None,
) -> str:
    """The route template of a request: its own (generated requests know their operation),
    else the document's operation it matches, else a guess."""
    if request.path_template:
        return request.path_template
    if operations is not None:
        matched = operations.template(request.method, request.path)
        if matched is not None:
            return matched
    return infer_template(request.path, known_ids)


def endpoint_of(
    exchange: Exchange, known_ids: Collection[str] = (), operations: Operations | None = None
) -> str:
    """``METHOD /path/{template}`` of an exchange, as the report's records name it."""
    request = exchange.request
    return f"{request.method.upper()} {template_of(request, known_ids, operations)}"


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}/]+\}")


class Operations:
    """The operations of an OpenAPI document, for naming requests and response members.

    With a document, every request source names a request by the operation it matches
    (``GET /players/{squadNumber}``), and a differing field by the schema member it is
    (``PlayerResponse.team``); guessing (:func:`infer_template`) is left for requests that
    match no operation."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._routes: list[tuple[str, str, re.Pattern[str], int]] = []
        self._members: dict[tuple[str, str, int | None, str], str | None] = {}
        paths = document.get("paths")
        for template, item in paths.items() if isinstance(paths, Mapping) else ():
            if not isinstance(item, Mapping):
                continue
            text = str(template)
            literal = len(_PARAM.sub("", text))
            parts = _PARAM.split(text)
            pattern = "[^/]+".join(re.escape(part) for part in parts)
            compiled = re.compile(f"^{pattern}/?$", re.IGNORECASE)
            for method in _HTTP_METHODS:
                if isinstance(item.get(method), Mapping):
                    self._routes.append((method.upper(), text, compiled, literal))
        # a literal route (/players/starting11) wins over a parameter (/players/{n})
        self._routes.sort(key=lambda route: -route[3])

    def template(self, method: str, path: str) -> str | None:
        """The path template of the operation ``method path`` matches, if any."""
        only_path = path.split("?", 1)[0].split("#", 1)[0]
        upper = method.upper()
        for route_method, template, pattern, _ in self._routes:
            if route_method == upper and pattern.match(only_path):
                return template
        return None

    def member(self, method: str, template: str, status: int | None, path: str) -> str | None:
        """``Component.property`` of the response member at JSON path ``path`` (generic or
        concrete), reached through ``$ref`` from the operation's response schema; None when
        the path leaves the schema or the property's object is not a named component."""
        key = (method, template, status, path)
        if key not in self._members:
            self._members[key] = self._member(method, template, status, path)
        return self._members[key]

    def _member(self, method: str, template: str, status: int | None, path: str) -> str | None:
        operation = _get(_get(self.document.get("paths"), template), method.lower())
        responses = _get(operation, "responses")
        # OpenAPI's precedence: the exact code, then its range (2XX), then default
        response = None
        if status is not None:
            response = _get(responses, str(status)) or _get(responses, f"{str(status)[0]}XX")
        response = response or _get(responses, "default")
        content = _get(self._resolve(response)[0], "content")
        schema: Any = None
        if isinstance(content, Mapping):
            for ctype, entry in content.items():
                if "json" in str(ctype):
                    schema = _get(entry, "schema")
                    break
        from pytest_aotparity.jsonpath import JsonPathError, parse

        try:
            tokens = parse(path)
        except JsonPathError:
            return None
        owner: str | None = None
        name: str | None = None
        for token in tokens:
            schema, ref = self._resolve(schema)
            if token.op == "descend":
                return None
            if token.op in ("any", "index") and _get(schema, "items") is not None:
                schema, name = _get(schema, "items"), None
                continue
            if token.op != "key":
                return None
            found = self._property(schema, str(token.value))
            if found is None:
                return None
            owner, schema = found[0] or ref, found[1]
            name = str(token.value)
        if owner is None or name is None:
            return None
        return f"{owner}.{name}"

    def _resolve(self, schema: Any) -> tuple[Any, str | None]:
        """Follow ``$ref`` chains (to ``#/components/schemas/X``); the last name seen."""
        name: str | None = None
        for _ in range(16):
            ref = _get(schema, "$ref")
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            node: Any = self.document
            for part in ref[2:].split("/"):
                node = _get(node, part.replace("~1", "/").replace("~0", "~"))
            name = ref.rsplit("/", 1)[-1]
            schema = node
        return schema, name

    def _property(self, schema: Any, key: str) -> tuple[str | None, Any] | None:
        """The schema of property ``key`` and the component declaring it (allOf/anyOf/oneOf
        searched too)."""
        props = _get(schema, "properties")
        if isinstance(props, Mapping) and key in props:
            return None, props[key]
        for combinator in ("allOf", "anyOf", "oneOf"):
            for part in _get(schema, combinator) or ():
                resolved, ref = self._resolve(part)
                found = self._property(resolved, key)
                if found is not None:
                    return found[0] or ref, found[1]
        return None


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None
