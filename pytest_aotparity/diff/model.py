"""Kinds of difference, categories of divergence, and the records that carry them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pytest_aotparity.exchange import Exchange


class DiffKind(StrEnum):
    STATUS = "status"
    MISSING = "missing field"
    """Present in the JIT answer, absent in the AOT answer."""
    EXTRA = "extra field"
    """Absent in the JIT answer, present in the AOT answer."""
    NULL = "null vs value"
    TYPE = "type change"
    VALUE = "value change"
    ORDER = "order"
    HEADER = "header"
    BODY = "body"
    """Non-JSON bodies that differ (text by value, binary by length and digest)."""
    ERROR = "connection error"


class Category(StrEnum):
    VALIDATOR_BYPASSED = "validator bypassed"
    """JIT answered 4xx, AOT answered 2xx."""
    AOT_FAILURE = "AOT failure"
    """JIT answered 2xx, AOT answered 5xx or no response at all."""
    MAPPING_LOST_DATA = "mapping lost data"
    """Fields missing or null only in the AOT answer."""
    SERIALIZATION_DIFFERS = "serialization differs"
    """Types, formats or enum representations differ."""
    STATUS_DIFFERS = "status differs"
    """Any other status change."""
    BEHAVIOUR_DIFFERS = "behaviour differs"
    """Anything else: values, headers, order."""
    API_DESCRIPTION_DIFFERS = "API description differs"
    """The OpenAPI documents differ: operations, parameters or schemas in one build's only."""


@dataclass(frozen=True)
class Difference:
    """One differing field. ``path`` is JSONPath-like: ``$.items[3].fullName``,
    ``status`` for the status line (and a connection error), ``header:content-type`` for a
    header, ``$`` for a whole non-JSON body.

    ``jit`` and ``aot`` are the two values (parsed JSON values, header text, statuses). The
    side that has no such field or header holds None: the kind tells an absent side
    (``missing field``: ``aot``; ``extra field``: ``jit``; ``header``: either) from a JSON
    null. A ``connection error`` holds the error text on the side that got no answer. A
    binary ``body`` holds ``{"length": N, "sha256": "…"}`` per side; an ``order`` difference
    holds both arrays when short, else the first items out of place."""

    path: str
    kind: DiffKind
    jit: Any
    aot: Any

    @property
    def generic_path(self) -> str:
        """The path with array indices replaced by ``[*]``: the key used for grouping
        and for matching noise."""
        return re.sub(r"\[\d+\]", "[*]", self.path)


@dataclass
class Divergence:
    """A pair of answers that differ after ignore rules and noise were applied."""

    exchange: Exchange
    differences: list[Difference]
    category: Category
    noise_cancelled: int = 0
    known: bool = False
    """Set by the baseline: an accepted divergence that does not fail the run."""
    extra: dict[str, Any] = field(default_factory=dict)
