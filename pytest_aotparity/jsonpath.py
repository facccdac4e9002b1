"""The one JSON-path grammar of the plugin: ignore rules, markers, options and value rules.

``$`` followed by ``.name``, ``..name`` (at any depth), ``.*``, ``[N]``, ``[*]``,
``['odd name']`` / ``["odd name"]`` and ``..[...]`` segments. Three operations on it:
:func:`problem` (validate, with a message that says how to write one), :func:`parse` (the
tokens the diff engine matches paths with) and :func:`select` (values from a document).
Imports only ``re``: options are checked with it before anything heavy loads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

PathSegment = str | int
"""One step of a concrete path: a member name or an array index."""

ALLOWED: Final = "$ then .name, ..name, .*, [N], [*] or ['odd name'] segments"


@dataclass(frozen=True)
class Token:
    """One step of a pattern: ``key`` (a name), ``index`` (a position), ``any`` (one key or
    index) or ``descend`` (zero or more segments)."""

    op: Literal["key", "index", "any", "descend"]
    value: str | int | None = None

    def matches(self, segment: PathSegment) -> bool:
        if self.op == "any":
            return True
        if self.op == "key":
            return isinstance(segment, str) and segment == self.value
        if self.op == "index":
            return isinstance(segment, int) and segment == self.value
        return False


_SEGMENT: Final = re.compile(
    r"""
    (?P<dots>\.\.?)(?:(?P<name>[\w@$\-]+)|(?P<star>\*))
  | \[(?:(?P<index>\d+)|(?P<bstar>\*)|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)")\]
  | (?P<ddots>\.\.)(?=\[)
    """,
    re.VERBOSE,
)


class JsonPathError(ValueError):
    """A pattern outside the grammar; the message says what is wrong and how to write one."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r} is not a JSON path: {reason}")
        self.reason = reason


def _guess(text: str) -> str:
    guess = text.lstrip(".")
    return f"did you mean '$.{guess}' (or '$..{guess}' at any depth)?"


def _reason(text: str, pos: int) -> str:
    if pos == 0:
        return f"it must start with $; {_guess(text)}"
    return f"cannot read {text[pos:]!r}; write {ALLOWED}, e.g. '$.items[*].id' or '$..requestId'"


def parse(pattern: str) -> tuple[Token, ...]:
    """Compile a JSON path into tokens; :class:`JsonPathError` says what is wrong."""
    text = pattern.strip()
    if not text.startswith("$"):
        raise JsonPathError(pattern, _reason(text, 0))
    tokens: list[Token] = []
    pos = 1
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if match is None:
            raise JsonPathError(pattern, _reason(text, pos))
        pos = match.end()
        if match.group("ddots"):
            tokens.append(Token("descend"))
            continue
        if match.group("dots") == "..":
            tokens.append(Token("descend"))
        if match.group("name") is not None:
            tokens.append(Token("key", match.group("name")))
        elif match.group("star") is not None or match.group("bstar") is not None:
            tokens.append(Token("any"))
        elif match.group("index") is not None:
            tokens.append(Token("index", int(match.group("index"))))
        elif match.group("sq") is not None:
            tokens.append(Token("key", match.group("sq")))
        elif match.group("dq") is not None:
            tokens.append(Token("key", match.group("dq")))
    return tuple(tokens)


def problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a JSON path of the grammar (None if it is)."""
    try:
        parse(pattern)
    except JsonPathError as exc:
        text = pattern.strip()
        if not text.startswith("$"):
            return f"a JSON path starts with $; {_guess(text)}"
        return f"this is not a JSON path; {exc.reason}"
    return None


def _children(value: Any) -> Iterator[tuple[PathSegment, Any]]:
    if isinstance(value, Mapping):
        yield from value.items()
    elif isinstance(value, list):
        yield from enumerate(value)


def _descendants(value: Any) -> Iterator[Any]:
    """``value`` and everything below it, in document order (pre-order)."""
    yield value
    for _, child in _children(value):
        yield from _descendants(child)


def select(document: Any, pattern: str) -> list[Any]:
    """Every value at ``pattern`` in ``document``, in document order."""
    current: list[Any] = [document]
    for token in parse(pattern):
        if token.op == "descend":
            current = [node for value in current for node in _descendants(value)]
            continue
        current = [
            child
            for value in current
            for segment, child in _children(value)
            if token.matches(segment)
        ]
    return current
