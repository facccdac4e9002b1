"""Keeping two databases in lockstep: ids one build generated, mapped to the other's.

When a create returns ``{"id": "7f3…"}`` from the JIT build and ``{"id": "c21…"}`` from the
AOT build, later requests the suite addresses to ``/players/7f3…`` must reach the AOT build
as ``/players/c21…``. :class:`IdMap` holds that mapping (JIT id → other build's id) for one
other build and rewrites requests: path segments, query values, form values and JSON body
values equal to a JIT id get the other build's id.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pytest_aotparity.exchange import RecordedRequest, RecordedResponse

_EMPTY: Mapping[str, str] = MappingProxyType({})


def is_create(request: RecordedRequest, jit: RecordedResponse) -> bool:
    """Whether an exchange may have created something whose ids should be learned:
    a POST, or any answer 201 or with a ``Location`` header."""
    return (
        request.method.upper() == "POST" or jit.status == 201 or jit.header("location") is not None
    )


def location_ids(jit_location: str | None, other_location: str | None) -> dict[str, str]:
    """Path segments (and query values) that differ between two ``Location`` headers of the
    same shape: ``/players/7f3…`` vs ``/players/c21…`` → ``{"7f3…": "c21…"}``."""
    if not jit_location or not other_location or jit_location == other_location:
        return {}
    a = urllib.parse.urlsplit(jit_location)
    b = urllib.parse.urlsplit(other_location)
    out: dict[str, str] = {}
    sa, sb = a.path.split("/"), b.path.split("/")
    if len(sa) == len(sb):
        for x, y in zip(sa, sb, strict=True):
            if x != y and x and y:
                out[urllib.parse.unquote(x)] = urllib.parse.unquote(y)
    qa = urllib.parse.parse_qsl(a.query, keep_blank_values=True)
    qb = urllib.parse.parse_qsl(b.query, keep_blank_values=True)
    if [k for k, _ in qa] == [k for k, _ in qb]:
        for (_, x), (_, y) in zip(qa, qb, strict=True):
            if x != y and x and y:
                out[x] = y
    return out


def _is_json(request: RecordedRequest) -> bool:
    ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


def _is_form(request: RecordedRequest) -> bool:
    ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
    return ctype == "application/x-www-form-urlencoded"


class IdMap:
    """JIT id → id of one other build (``aot`` or ``noise``). Thread-safe: learning happens
    in the request path, reads come from comparisons; :attr:`mapping` is an immutable
    snapshot replaced on every change, so readers never see it change under them."""

    def __init__(self, build: str) -> None:
        self.build = build
        self._lock = threading.Lock()
        self._mapping: Mapping[str, str] = _EMPTY

    @property
    def mapping(self) -> Mapping[str, str]:
        return self._mapping

    def __len__(self) -> int:
        return len(self._mapping)

    def learn(self, pairs: Mapping[str, str]) -> dict[str, str]:
        """Add ``pairs`` (identity pairs and empty ids are dropped); return what was new."""
        new = {
            str(k): str(v)
            for k, v in pairs.items()
            if str(k) and str(v) and str(k) != str(v) and self._mapping.get(str(k)) != str(v)
        }
        if new:
            with self._lock:
                merged = dict(self._mapping)
                merged.update(new)
                self._mapping = MappingProxyType(merged)
        return new

    # -- rewriting ------------------------------------------------------------------------

    def rewrite(self, request: RecordedRequest) -> RecordedRequest:
        """``request`` with JIT ids replaced by this build's ids (the same object when
        nothing changed)."""
        mapping = self._mapping
        if not mapping:
            return request
        path = rewrite_path(request.path, mapping)
        body = request.body
        if body:
            if _is_json(request):
                body = rewrite_json_body(body, mapping)
            elif _is_form(request):
                body = rewrite_form_body(body, mapping)
        if path == request.path and body is request.body:
            return request
        headers = request.headers
        if body is not request.body:
            headers = tuple(
                (k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers
            )
        return RecordedRequest(
            method=request.method,
            path=path,
            headers=headers,
            body=body,
            path_template=request.path_template,
        )


def rewrite_path(path_and_query: str, mapping: Mapping[str, str]) -> str:
    """Replace path segments and query values equal to a mapped id."""
    if not mapping:
        return path_and_query
    path, sep, query = path_and_query.partition("?")
    segments = path.split("/")
    changed = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        plain = urllib.parse.unquote(segment)
        if plain in mapping:
            segments[i] = urllib.parse.quote(mapping[plain], safe="")
            changed = True
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if any(v in mapping for _, v in pairs):
            query = urllib.parse.urlencode([(k, mapping.get(v, v)) for k, v in pairs])
            changed = True
    if not changed:
        return path_and_query
    return "/".join(segments) + (sep + query if sep else "")


def _rewrite_value(value: Any, mapping: Mapping[str, str]) -> tuple[Any, bool]:
    if isinstance(value, str):
        if value in mapping:
            return mapping[value], True
        return value, False
    if isinstance(value, bool) or value is None:
        return value, False
    if isinstance(value, int):
        key = str(value)
        if key in mapping:
            target = mapping[key]
            try:
                return int(target), True
            except ValueError:
                return target, True
        return value, False
    if isinstance(value, list):
        changed = False
        out_list: list[Any] = []
        for item in value:
            new, did = _rewrite_value(item, mapping)
            changed = changed or did
            out_list.append(new)
        return (out_list, True) if changed else (value, False)
    if isinstance(value, dict):
        changed = False
        out_dict: dict[str, Any] = {}
        for key, item in value.items():
            new, did = _rewrite_value(item, mapping)
            changed = changed or did
            out_dict[key] = new
        return (out_dict, True) if changed else (value, False)
    return value, False


def rewrite_json_body(body: bytes, mapping: Mapping[str, str]) -> bytes:
    """A JSON body with values equal to a mapped id replaced (the same bytes when none is,
    or when the body is not JSON)."""
    if not any(key.encode() in body for key in mapping):
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    new, changed = _rewrite_value(data, mapping)
    if not changed:
        return body
    return json.dumps(new, ensure_ascii=False, separators=(",", ":")).encode()


def rewrite_form_body(body: bytes, mapping: Mapping[str, str]) -> bytes:
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return body
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    if not any(v in mapping for _, v in pairs):
        return body
    return urllib.parse.urlencode([(k, mapping.get(v, v)) for k, v in pairs]).encode()
