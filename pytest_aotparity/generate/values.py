"""Real values for path parameters: squad numbers and ids the builds actually hold.

A generated ``GET /players/{squadNumber}`` with a random number mostly gets 404 from both
builds, which says little. So for each path parameter we look for a list operation on the
parent collection (``GET /players`` for ``/players/{squadNumber}``), read it from the JIT
build and harvest the values of the matching field (``squadNumber``; ``id`` for ``{id}``
or ``{playerId}``). ``aot_parity_path_values`` names the source explicitly when the
document does not make it obvious. Generated requests mix these values with generated ones.

Pure functions only (no HTTP): :mod:`pytest_aotparity.generate.runner` fetches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_aotparity.generate.options import PathValueRule
from pytest_aotparity.jsonpath import select

MAX_VALUES = 20
"""Harvested values kept per parameter (the first ones in the answer)."""


def scalar_values(values: Iterable[Any], limit: int = MAX_VALUES) -> tuple[str | int, ...]:
    """Distinct strings and integers (no bools, floats or containers), first ``limit``."""
    out: list[str | int] = []
    seen: set[str] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int):
            continue
        if isinstance(value, str) and not value:
            continue
        key = repr(value)
        if key in seen:
            continue
        seen.add(key)
        out.append(value)
        if len(out) >= limit:
            break
    return tuple(out)


def normalise_name(name: str) -> str:
    """``squad_number``, ``squadNumber``, ``Squad-Number`` → ``squadnumber``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def field_candidates(param: str) -> list[str]:
    """Normalised field names that may carry the values of path parameter ``param``:
    the parameter itself, then ``id`` for ``{id}``, ``{playerId}`` or ``{player_id}``."""
    norm = normalise_name(param)
    candidates = [norm]
    if norm.endswith("id") and norm != "id":
        candidates.append("id")
    return candidates


def _items(document: Any) -> list[Any]:
    """The list a list endpoint answered: the document itself, or the first list-valued
    member of an envelope (``{"items": [...]}``, ``{"data": [...]}``)."""
    if isinstance(document, list):
        return document
    if isinstance(document, Mapping):
        for value in document.values():
            if isinstance(value, list) and value and isinstance(value[0], Mapping):
                return value
    return []


def harvest_field(document: Any, param: str) -> tuple[str, tuple[str | int, ...]] | None:
    """Values of the field matching ``param`` in the items of a list answer, with the JSON
    path they were read at; None when no item has such a field."""
    items = [item for item in _items(document) if isinstance(item, Mapping)]
    if not items:
        return None
    envelope = ""
    if isinstance(document, Mapping):
        for key, value in document.items():
            if value is _items(document):
                envelope = f".{key}"
                break
    for candidate in field_candidates(param):
        for key in items[0]:
            if normalise_name(str(key)) == candidate:
                path = f"${envelope}[*].{key}"
                values = scalar_values(select(document, path))
                if values:
                    return path, values
    return None


@dataclass(frozen=True)
class ValueSource:
    """Where the real values of one path parameter of one operation come from."""

    param: str
    path: str
    """A GET path on the app (no parameters)."""
    json_path: str | None
    """None: find the field matching the parameter in the list answer."""
    configured: bool = False


def parent_paths(template: str) -> list[str]:
    """Parameter-free ancestors of a path template, nearest first:
    ``/players/{n}/stats`` → ``["/players"]``, ``/players/by-id/{id}`` →
    ``["/players/by-id", "/players"]``."""
    segments = template.rstrip("/").split("/")
    out: list[str] = []
    for end in range(len(segments) - 1, 0, -1):
        prefix = segments[:end]
        if any("{" in s for s in prefix):
            continue
        candidate = "/".join(prefix)
        if candidate and candidate != template and candidate not in out:
            out.append(candidate)
    return out


def value_sources(
    template: str,
    params: Sequence[str],
    list_paths: Iterable[str],
    rules: Sequence[PathValueRule] = (),
) -> dict[str, ValueSource]:
    """For each path parameter of ``template``: a configured rule for it, else the nearest
    parameter-free ancestor path that the document lists with a GET operation."""
    by_param = {normalise_name(rule.param): rule for rule in rules}
    listed = set(list_paths)
    out: dict[str, ValueSource] = {}
    for param in params:
        rule = by_param.get(normalise_name(param))
        if rule is not None:
            out[param] = ValueSource(param, rule.path, rule.json_path, configured=True)
            continue
        # Only the segment right after a parameter-free prefix can be harvested from it:
        # /players/{n}/stats/{season} has no list for {season} in /players.
        prefix = template.split("{" + param + "}", 1)[0].rstrip("/")
        if "{" in prefix:
            continue
        for parent in [prefix, *parent_paths(prefix)]:
            if parent in listed:
                out[param] = ValueSource(param, parent, None)
                break
    return out
