"""Divergent requests kept in hypothesis' example database, sent first on the next run.

Each operation's generated test keeps the requests it reported (the minimal ones) in the
example database hypothesis is configured with (``.hypothesis/examples`` by default, or
whatever database the user's hypothesis profile names), under a key made from the test's
node id. The next run sends them before anything else, so a divergence being fixed is
tried again at once; one that no longer diverges is dropped.

The plugin keeps requests rather than letting hypothesis keep its failing choice
sequences: the search never fails a hypothesis example (it goes on through the whole
budget with the next request already on its way while a divergence is judged), and a
request replays exactly, whatever the strategies look like next time. As hypothesis
does with its own failures, nothing is read or written under ``--hypothesis-seed`` (the
seed alone decides what is sent) or when the profile has ``database=None``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

KEY_PREFIX = b"pytest-aotparity/divergent-requests/"


def example_database() -> Any | None:
    """Hypothesis' configured example database, or None (none configured, or
    ``--hypothesis-seed`` given)."""
    from hypothesis import settings

    from pytest_aotparity._compat.hypothesis import forced_seed

    if forced_seed() is not None:
        return None
    default = settings.default
    return None if default is None else default.database


def case_record(case: Any, mode: str) -> bytes | None:
    """A schemathesis case as stored (None when it cannot be written as JSON)."""
    from pytest_aotparity._compat.schemathesis import has_no_body

    record: dict[str, Any] = {
        "mode": mode,
        "path_parameters": dict(case.path_parameters or {}),
        "query": dict(case.query or {}),
        "headers": dict(case.headers or {}),
        "cookies": dict(case.cookies or {}),
        "media_type": case.media_type,
    }
    body = case.body
    if isinstance(body, bytes | bytearray):
        record["body_base64"] = base64.b64encode(bytes(body)).decode("ascii")
    elif not has_no_body(body):
        record["body"] = body
    try:
        return json.dumps(record, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):
        return None


def case_from_record(operation: Any, raw: bytes) -> tuple[Any, str] | None:
    """The case (and its mode) a stored record describes, for ``operation``; None when
    the record is not one."""
    try:
        record = json.loads(raw.decode("utf-8"))
        kwargs: dict[str, Any] = {
            "path_parameters": record["path_parameters"],
            "query": record["query"],
            "headers": record["headers"],
            "cookies": record["cookies"],
            "media_type": record["media_type"],
        }
        if "body_base64" in record:
            kwargs["body"] = base64.b64decode(record["body_base64"])
        elif "body" in record:
            kwargs["body"] = record["body"]
        return operation.Case(**kwargs), str(record.get("mode") or "positive")
    except Exception:  # anything stored by another version, or not by us
        return None


class DivergentRequests:
    """The stored divergent requests of one generated test (none kept without a
    database: :func:`example_database`)."""

    def __init__(self, database: Any | None, nodeid: str) -> None:
        self.database = database
        self.key = KEY_PREFIX + hashlib.sha256(nodeid.encode("utf-8")).hexdigest().encode()

    def load(self, operation: Any) -> list[tuple[bytes, Any, str]]:
        """``(record, case, mode)`` of each stored request; unreadable records are
        dropped."""
        if self.database is None:
            return []
        out = []
        for raw in sorted(self.database.fetch(self.key)):
            found = case_from_record(operation, raw)
            if found is None:
                self.database.delete(self.key, raw)
                continue
            out.append((raw, *found))
        return out

    def keep(self, case: Any, mode: str) -> None:
        raw = case_record(case, mode)
        if raw is not None and self.database is not None:
            self.database.save(self.key, raw)

    def drop(self, raw: bytes) -> None:
        if self.database is not None:
            self.database.delete(self.key, raw)
