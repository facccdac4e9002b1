"""What a request is called in every table: ``METHOD /route/{template}``.

One place for naming, so the failure text, the summary, the trade-offs and the JSON report
never name the same endpoint two ways.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Collection, Iterable, Mapping

from pytest_aotparity.exchange import Exchange

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


def endpoint_of(exchange: Exchange, known_ids: Collection[str] = ()) -> str:
    """``METHOD /path/{template}`` of an exchange, as the report's records name it."""
    request = exchange.request
    template = request.path_template or infer_template(request.path, known_ids)
    return f"{request.method.upper()} {template}"
