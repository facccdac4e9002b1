"""Turning answers into comparable values, and the small vocabulary the comparison uses.

- **Bodies.** :func:`decode_body` classifies a response body as ``empty``, ``json``, ``text``
  or ``binary``. JSON is recognised by media type (``application/json``,
  ``application/problem+json``, any ``*+json``) or, for any other non-binary type, by a
  successful parse. Parsing uses orjson when it is installed and falls back to :mod:`json`
  (also for what orjson refuses: ``NaN``, numbers out of range, lone surrogates).
- **Fingerprints.** :func:`fingerprint` serialises a parsed value to bytes (orjson when
  available). Two values with equal fingerprints are equal *including their JSON types*,
  which Python's ``==`` is not (``True == 1``); the comparison uses fingerprints to confirm
  an ``==`` and as hashable stand-ins for array items (multisets, alignment).
- **Content types.** :func:`parse_content_type` and :func:`content_types_differ` compare
  media type and charset: a charset given on one side only is not a difference unless asked
  for (``strict``); ``utf8`` and ``UTF-8`` are the same charset.
- **Paths.** A difference is located by a tuple of segments (``str`` keys, ``int`` indices)
  that :func:`format_path` writes JSONPath-like: ``$.players[3].fullName``,
  ``$['odd key']``. Ignore rules are JSON paths with wildcards, compiled by
  :class:`PathMatcher` into a small automaton the comparison advances one segment at a
  time: ``.name``, ``['name']``, ``[3]``, ``[*]`` / ``.*`` (any one key or index) and
  ``..`` (any depth, e.g. ``$..requestId``). A matched path ignores its whole subtree.
- **Representations.** :func:`same_representation` tells whether two different strings are
  the same value written differently (a date with or without a time, an enum name in
  another case or spelling, ``1.50`` vs ``1.5``): the comparison calls that a serialization
  difference, not a behaviour difference.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from pytest_aotparity.exchange import RecordedResponse
from pytest_aotparity.jsonpath import Token
from pytest_aotparity.jsonpath import parse as parse_path_pattern

try:  # orjson is a dependency, but a plain-json fallback keeps the engine importable
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only without orjson
    _orjson = None  # type: ignore[assignment]

PathSegment = str | int
Path = tuple[PathSegment, ...]

# -- JSON ---------------------------------------------------------------------------------


def json_loads(data: bytes | str) -> Any:
    """Parse JSON text (orjson when available, :mod:`json` for what orjson refuses)."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # NaN, 1e400, lone surrogates: json accepts some of these
    return json.loads(data)


def _json_fingerprint(value: Any, sort_keys: bool) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, allow_nan=True
    ).encode("utf-8", "surrogatepass")


def fingerprint(value: Any) -> bytes:
    """Compact serialisation of a parsed JSON value, keys in their order. Equal fingerprints
    mean equal values of equal JSON types (``true`` is not ``1``; ``1`` is not ``1.0``)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value)
        except TypeError:  # integers beyond 64 bits, lone surrogates
            pass
    return _json_fingerprint(value, sort_keys=False)


def sorted_fingerprint(value: Any) -> bytes:
    """Like :func:`fingerprint`, with object keys sorted (key order does not matter)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, option=_orjson.OPT_SORT_KEYS)
        except TypeError:
            pass
    return _json_fingerprint(value, sort_keys=True)


def json_text(value: Any) -> str:
    """A value as compact JSON text for people (``null`` vs ``"null"`` stay distinct)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError):
        return repr(value)


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value: null, boolean, number, string, array, object."""
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
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# -- content types ------------------------------------------------------------------------

_CHARSET_ALIASES: Final = {"utf8": "utf-8", "latin1": "iso-8859-1", "latin-1": "iso-8859-1"}
_BINARY_PREFIXES: Final = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES: Final = frozenset(
    {
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-protobuf",
        "application/protobuf",
        "application/grpc",
        "application/wasm",
    }
)
_TEXT_TYPES: Final = frozenset(
    {
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
        "application/x-ndjson",
        "application/yaml",
        "application/graphql",
    }
)


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """``'Application/JSON; charset="UTF-8"'`` → ``('application/json', {'charset': 'utf-8'})``.

    Parameter names are lower-cased; the charset value is lower-cased and its common aliases
    folded (``utf8`` → ``utf-8``); other parameter values are kept as sent."""
    if not value:
        return "", {}
    parts = value.split(";")
    media = parts[0].strip().lower()
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, raw = part.partition("=")
        if not sep:
            continue
        key = name.strip().lower()
        text = raw.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        if key == "charset":
            text = text.lower()
            text = _CHARSET_ALIASES.get(text, text)
        params[key] = text
    return media, params


def is_json_media_type(media: str) -> bool:
    """``application/json``, ``application/problem+json``, ``application/vnd.x+json``…"""
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def is_binary_media_type(media: str) -> bool:
    return media in _BINARY_TYPES or media.startswith(_BINARY_PREFIXES)


def is_text_media_type(media: str) -> bool:
    return (
        media.startswith("text/")
        or media in _TEXT_TYPES
        or media.endswith("+xml")
        or is_json_media_type(media)
    )


def content_types_differ(jit: str | None, aot: str | None, *, strict: bool = False) -> bool:
    """Whether two ``Content-Type`` values really differ.

    By default: the media types differ, or both sides name a charset and the charsets differ
    (``application/json; charset=utf-8`` and ``application/json`` are the same). With
    ``strict``: the media type or any parameter differs, a charset on one side only included.
    """
    if jit is None or aot is None:
        return (jit is None) != (aot is None)
    jit_media, jit_params = parse_content_type(jit)
    aot_media, aot_params = parse_content_type(aot)
    if jit_media != aot_media:
        return True
    if strict:
        return jit_params != aot_params
    jit_charset, aot_charset = jit_params.get("charset"), aot_params.get("charset")
    return jit_charset is not None and aot_charset is not None and jit_charset != aot_charset


# -- bodies -------------------------------------------------------------------------------

BodyKind = Literal["empty", "json", "text", "binary"]


@dataclass(frozen=True)
class Body:
    """A response body, classified. ``value`` is the parsed JSON value (``json``), the
    decoded text (``text``), or None (``empty``, ``binary``)."""

    kind: BodyKind
    value: Any
    raw: bytes

    def describe(self) -> Any:
        """What a difference shows for this body: JSON value, text, or for binary bodies
        ``{"length": N, "sha256": "…"}``."""
        if self.kind == "binary":
            return binary_summary(self.raw)
        if self.kind == "empty":
            return ""
        if self.kind == "json":
            return self.raw.decode("utf-8", "replace")
        return self.value


def binary_summary(raw: bytes) -> dict[str, Any]:
    return {"length": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


_JSON_START: Final = frozenset(b'{["-0123456789tfn')


def _looks_like_json(raw: bytes) -> bool:
    stripped = raw.lstrip(b" \t\r\n\xef\xbb\xbf")
    return bool(stripped) and stripped[0] in _JSON_START


def decode_body(response: RecordedResponse) -> Body:
    """Classify and decode one response body (see the module docstring)."""
    raw = response.body
    if not raw:
        return Body("empty", None, raw)
    media, params = parse_content_type(response.header("content-type"))
    if is_binary_media_type(media):
        return Body("binary", None, raw)
    if is_json_media_type(media) or (_looks_like_json(raw) and not media.startswith("image/")):
        try:
            return Body("json", json_loads(raw), raw)
        except ValueError:
            pass  # declared JSON but not parseable: compared as text below
    charset = params.get("charset", "utf-8")
    try:
        text = raw.decode(charset)
    except (UnicodeDecodeError, LookupError):
        if media and not is_text_media_type(media):
            return Body("binary", None, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Body("binary", None, raw)
    if media and not is_text_media_type(media) and "\x00" in text:
        return Body("binary", None, raw)
    return Body("text", text, raw)


def text_excerpt(jit: str, aot: str, width: int = 1000) -> tuple[str, str]:
    """Both texts in full when short, else a window of ``width`` characters around the first
    position where they differ (``…`` marks what was cut)."""
    if len(jit) <= width and len(aot) <= width:
        return jit, aot
    first = 0
    for first, (x, y) in enumerate(zip(jit, aot, strict=False)):  # noqa: B007
        if x != y:
            break
    else:
        first = min(len(jit), len(aot))
    start = max(0, first - width // 4)

    def cut(text: str) -> str:
        piece = text[start : start + width]
        return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")

    return cut(jit), cut(aot)


# -- paths --------------------------------------------------------------------------------

_PLAIN_KEY: Final = re.compile(r"^[A-Za-z_@$][\w@$\-]*$")


def format_segment(segment: PathSegment, *, generic: bool = False) -> str:
    if isinstance(segment, int):
        return "[*]" if generic else f"[{segment}]"
    if _PLAIN_KEY.match(segment):
        return "." + segment
    if "'" not in segment:
        return f"['{segment}']"
    return "[" + json.dumps(segment, ensure_ascii=False) + "]"


def format_path(path: Sequence[PathSegment], *, generic: bool = False) -> str:
    """``('players', 3, 'fullName')`` → ``$.players[3].fullName`` (``[*]`` when generic)."""
    return "$" + "".join(format_segment(s, generic=generic) for s in path)


State = frozenset[tuple[int, int]]
"""A set of (pattern number, position in that pattern) pairs."""

EMPTY_STATE: State = frozenset()


class PathMatcher:
    """Ignore patterns as an automaton over path segments.

    ``state = matcher.step(state, segment)`` advances every pattern by one segment;
    ``matcher.accepts(state)`` says whether the path so far is ignored (then so is everything
    below it). An empty state means no pattern can match any more: the caller skips all
    work. Steps are memoised per matcher.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns: tuple[str, ...] = tuple(patterns)
        self._tokens: tuple[tuple[Token, ...], ...] = tuple(
            parse_path_pattern(p) for p in self.patterns
        )
        self._uses_index = any(t.op == "index" for ts in self._tokens for t in ts)
        self._memo: dict[tuple[State, PathSegment], State] = {}
        self.initial: State = self._closure({(n, 0) for n in range(len(self._tokens))})

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def _closure(self, items: set[tuple[int, int]]) -> State:
        todo = list(items)
        out = set(items)
        while todo:
            n, pos = todo.pop()
            tokens = self._tokens[n]
            if pos < len(tokens) and tokens[pos].op == "descend" and (n, pos + 1) not in out:
                out.add((n, pos + 1))
                todo.append((n, pos + 1))
        return frozenset(out)

    def accepts(self, state: State) -> bool:
        return any(pos == len(self._tokens[n]) for n, pos in state)

    def step(self, state: State, segment: PathSegment) -> State:
        if not state:
            return state
        key: PathSegment = segment
        if isinstance(segment, int) and not self._uses_index:
            key = -1  # every index behaves alike: one memo entry for all of them
        memo_key = (state, key)
        cached = self._memo.get(memo_key)
        if cached is not None:
            return cached
        nxt: set[tuple[int, int]] = set()
        for n, pos in state:
            tokens = self._tokens[n]
            if pos >= len(tokens):
                continue
            token = tokens[pos]
            if token.op == "descend":
                nxt.add((n, pos))
            elif token.matches(segment):
                nxt.add((n, pos + 1))
        result = self._closure(nxt)
        if len(self._memo) < 65536:
            self._memo[memo_key] = result
        return result

    def ignores(self, path: Sequence[PathSegment]) -> bool:
        """Whether ``path`` (or one of its ancestors) matches a pattern."""
        state = self.initial
        if self.accepts(state):
            return True
        for segment in path:
            state = self.step(state, segment)
            if not state:
                return False
            if self.accepts(state):
                return True
        return False


def canonical_copy(
    value: Any,
    matcher: PathMatcher,
    state: State,
    substitute: Mapping[str, str] | None = None,
) -> Any:
    """``value`` without the parts ``matcher`` ignores (from ``state``), and with strings
    found in ``substitute`` replaced: a stand-in used only to pair or order array items."""
    if not state and not substitute:
        return value
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = matcher.step(state, key) if state else state
            if sub and matcher.accepts(sub):
                continue
            out[key] = canonical_copy(item, matcher, sub, substitute)
        return out
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            sub = matcher.step(state, index) if state else state
            if sub and matcher.accepts(sub):
                continue
            items.append(canonical_copy(item, matcher, sub, substitute))
        return items
    if substitute and isinstance(value, str):
        return substitute.get(value, value)
    return value


# -- ids ----------------------------------------------------------------------------------

_GUID: Final = re.compile(
    r"^[{(]?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}[})]?$"
)


def is_guid(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 38 and _GUID.match(value) is not None


def is_id_key(key: Any) -> bool:
    """``id``, ``playerId``, ``player_id``, ``ID``, ``PlayerID``: a key that names an id."""
    if not isinstance(key, str) or not key:
        return False
    return key.lower() == "id" or key.endswith(("Id", "_id", "ID", "-id"))


def is_id_value(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (
        isinstance(value, int) and not isinstance(value, bool)
    )


# -- representations ----------------------------------------------------------------------

_DATE: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_TIME: Final = re.compile(r"^(?:\d+\.)?\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$")
_NUMBER: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_NON_ALNUM: Final = re.compile(r"[^0-9a-z]")


def _parse_date(text: str) -> dt.datetime | None:
    if not _DATE.match(text):
        return None
    value = text.replace(",", ".").replace("z", "Z")
    if "." in value:  # Python reads at most 6 fractional digits; .NET writes 7
        head, _, rest = value.partition(".")
        digits = re.match(r"\d+", rest)
        if digits is not None:
            frac = digits.group(0)
            value = head + "." + frac[:6].ljust(6, "0") + rest[len(frac) :]
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _shape(text: str) -> str:
    return re.sub(r"\d", "9", text)


def same_representation(jit: Any, aot: Any) -> bool:
    """Whether two different strings are one value written two ways: dates or times in
    another format (``2000-01-01`` vs ``2000-01-01T00:00:00``, ``Z`` vs ``+00:00``), numbers
    in another format (``1.50`` vs ``1.5``), names in another case or spelling
    (``Goalkeeper`` vs ``goalkeeper``, ``CentreBack`` vs ``centre_back``)."""
    if not isinstance(jit, str) or not isinstance(aot, str) or jit == aot:
        return False
    jit_date, aot_date = _parse_date(jit), _parse_date(aot)
    if jit_date is not None and aot_date is not None:
        # Same shape and different text is another moment, not another format.
        return _shape(jit) != _shape(aot)
    if _TIME.match(jit) and _TIME.match(aot):
        return _shape(jit) != _shape(aot)
    if _NUMBER.match(jit) and _NUMBER.match(aot):
        try:
            return Decimal(jit) == Decimal(aot)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            return False
    folded_jit, folded_aot = _NON_ALNUM.sub("", jit.lower()), _NON_ALNUM.sub("", aot.lower())
    return bool(folded_jit) and folded_jit == folded_aot
