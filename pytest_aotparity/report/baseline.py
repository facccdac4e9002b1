"""The baseline: divergences a team has accepted, so the gate fails only on new ones.

``--aot-parity-baseline PATH`` (ini ``aot_parity_baseline``) names a JSON file of accepted
divergences; ``--aot-parity-update-baseline`` rewrites it from the run. During a run:

- a divergence whose key is in the baseline is **known**: reported, but its test passes;
- a divergence whose key is not is **new**: its test fails, as without a baseline;
- an entry whose divergence did not occur although its endpoint was exercised is **fixed**:
  reported so the entry can be removed (``--aot-parity-update-baseline`` removes it). An
  entry whose endpoint got no request in this run is **not exercised** and says nothing.

The key of a divergence is what stays the same from run to run and changes when the
divergence changes: the request method, the route template (``/players/{id}``; learned ids,
numbers and GUIDs folded), the category, and the set of (generic path, kind) of its
differences (``$.items[*].team`` / ``null vs value``). Values, ids and test names are not in
it, so a divergence keeps its key when the data, the ids or the test that found it change.
The file stores the key's parts, readable and editable, plus a short digest of them; the
digest is recomputed on load, so hand edits of the parts are honoured.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASELINE_VERSION = 1

BaselineStatus = str
"""``known`` (in the baseline), ``new`` (not in it), ``accepted`` (not in it; added by
``--aot-parity-update-baseline``)."""


class BaselineError(ValueError):
    """The baseline file cannot be used; the message says what to do instead."""


@dataclass(frozen=True, order=True)
class BaselineKey:
    """The stable identity of a divergence (see the module docstring)."""

    method: str
    path_template: str
    category: str
    differences: tuple[tuple[str, str], ...]
    """Sorted, distinct (generic path, kind) pairs."""

    @classmethod
    def of(
        cls,
        method: str,
        path_template: str,
        category: str,
        differences: Iterable[tuple[str, str]],
    ) -> BaselineKey:
        return cls(
            method=method.upper(),
            path_template=path_template.split("?", 1)[0] or "/",
            category=category,
            differences=tuple(sorted(set(differences))),
        )

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path_template}"

    @property
    def digest(self) -> str:
        """16 hex digits of SHA-256 over the canonical text of the parts."""
        canonical = json.dumps(
            [self.method, self.path_template, self.category, [list(d) for d in self.differences]],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def describe(self, max_fields: int = 4) -> str:
        """``GET /players/{id} [mapping lost data] $.fullName (missing field), ...``"""
        fields = ", ".join(f"{path} ({kind})" for path, kind in self.differences[:max_fields])
        more = len(self.differences) - max_fields
        if more > 0:
            fields += f" and {more} more"
        return f"{self.endpoint} [{self.category}] {fields}"


def _generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def key_of_record(record: Mapping[str, Any]) -> BaselineKey:
    """The key of a divergence record of the JSON report."""
    differences = [
        (str(d.get("generic_path") or _generic(str(d.get("path")))), str(d.get("kind")))
        for d in record.get("differences") or ()
    ]
    return BaselineKey.of(
        str(record.get("method") or ""),
        str(record.get("path_template") or record.get("path") or "/"),
        str(record.get("category") or ""),
        differences,
    )


@dataclass
class BaselineEntry:
    key: BaselineKey
    reason: str = ""
    """Why the divergence is accepted: written by a person, kept across updates."""
    example: dict[str, Any] = field(default_factory=dict)
    """One occurrence when the entry was written: path, test."""
    added: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key.digest,
            "method": self.key.method,
            "path_template": self.key.path_template,
            "category": self.key.category,
            "differences": [{"path": p, "kind": k} for p, k in self.key.differences],
            "reason": self.reason,
            "example": self.example,
            "added": self.added,
        }


@dataclass
class Baseline:
    """The accepted divergences, by key digest."""

    entries: dict[str, BaselineEntry] = field(default_factory=dict)
    path: Path | None = None

    def __contains__(self, key: object) -> bool:
        if isinstance(key, BaselineKey):
            return key.digest in self.entries
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: BaselineEntry) -> None:
        self.entries.setdefault(entry.key.digest, entry)

    def to_dict(self) -> dict[str, Any]:
        entries = sorted(self.entries.values(), key=lambda e: e.key)
        return {
            "version": BASELINE_VERSION,
            "tool": "pytest-aotparity",
            "about": (
                "Divergences between the JIT and the Native AOT build accepted as known: "
                "pytest --aot-parity reports them but does not fail on them. Write a reason "
                "for each; rewrite with --aot-parity-update-baseline."
            ),
            "entries": [entry.to_dict() for entry in entries],
        }


def _entry_from_dict(raw: Any, index: int, source: str) -> BaselineEntry:
    where = f"{source}: entry #{index}"
    if not isinstance(raw, Mapping):
        raise BaselineError(f"{where} is not an object.")
    missing = [k for k in ("method", "path_template", "category", "differences") if k not in raw]
    if missing:
        raise BaselineError(
            f"{where} lacks {', '.join(missing)}. Each entry has method, path_template, "
            "category and differences ([{path, kind}]); rewrite the file with "
            "--aot-parity-update-baseline."
        )
    differences: list[tuple[str, str]] = []
    for diff in raw["differences"] or ():
        if isinstance(diff, Mapping) and "path" in diff and "kind" in diff:
            differences.append((str(diff["path"]), str(diff["kind"])))
        elif isinstance(diff, list | tuple) and len(diff) == 2:
            differences.append((str(diff[0]), str(diff[1])))
        else:
            raise BaselineError(f"{where}: a difference is not {{path, kind}}: {diff!r}.")
    key = BaselineKey.of(
        str(raw["method"]), str(raw["path_template"]), str(raw["category"]), differences
    )
    example = raw.get("example")
    return BaselineEntry(
        key=key,
        reason=str(raw.get("reason") or ""),
        example=dict(example) if isinstance(example, Mapping) else {},
        added=str(raw["added"]) if raw.get("added") else None,
    )


def load_baseline(path: Path, *, missing_ok: bool = False) -> Baseline:
    """Read a baseline file. A missing file is an error unless ``missing_ok`` (when the run
    is about to write it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return Baseline(path=path)
        raise BaselineError(
            f"{path}: no such baseline file. Create it from a run with "
            "--aot-parity-update-baseline (it records the divergences of that run as accepted)."
        ) from None
    except IsADirectoryError:
        raise BaselineError(
            f"{path} is a directory; give a file name, e.g. aotparity-baseline.json"
        ) from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}). Fix it, or rewrite it "
            "with --aot-parity-update-baseline."
        ) from None
    if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
        raise BaselineError(
            f"{path}: a baseline is an object with an 'entries' list; rewrite it with "
            "--aot-parity-update-baseline."
        )
    version = data.get("version", BASELINE_VERSION)
    if version != BASELINE_VERSION:
        raise BaselineError(
            f"{path}: baseline version {version!r}, this pytest-aotparity reads version "
            f"{BASELINE_VERSION}. Rewrite it with --aot-parity-update-baseline."
        )
    baseline = Baseline(path=path)
    for i, raw in enumerate(data["entries"]):
        baseline.add(_entry_from_dict(raw, i, str(path)))
    return baseline


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write atomically, sorted and indented so the file diffs well in review."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(baseline.to_dict(), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- a run against the baseline --------------------------------------------------------------


def classify(key: BaselineKey, baseline: Baseline | None, *, updating: bool) -> BaselineStatus:
    """``known``, ``new`` or (when updating the baseline) ``accepted``."""
    if baseline is not None and key in baseline:
        return "known"
    return "accepted" if updating else "new"


@dataclass
class BaselineOutcome:
    """The run against the baseline, for the summary and the reports."""

    path: str | None
    entries: int
    known: list[str]
    """Digests of baseline entries that occurred in this run."""
    new: list[BaselineKey]
    accepted: list[BaselineKey]
    fixed: list[BaselineEntry]
    """Entries whose endpoint was exercised and whose divergence did not occur."""
    not_exercised: list[BaselineEntry]
    updated: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    """Divergences by status (``known``/``new``/``accepted``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "entries": self.entries,
            "updated": self.updated,
            "divergences": dict(self.counts),
            "known_entries": len(self.known),
            "new": [_key_dict(key) for key in self.new],
            "accepted": [_key_dict(key) for key in self.accepted],
            "fixed": [entry.to_dict() for entry in self.fixed],
            "not_exercised": [entry.to_dict() for entry in self.not_exercised],
        }

    def render_lines(self) -> list[str]:
        lines: list[str] = []
        known = self.counts.get("known", 0)
        new = self.counts.get("new", 0)
        accepted = self.counts.get("accepted", 0)
        head = f"baseline {self.path}: {self.entries} entr{'y' if self.entries == 1 else 'ies'}"
        parts = [f"{known} known divergence{'s' if known != 1 else ''} (accepted, not failing)"]
        if new:
            parts.append(f"{new} new (failing)")
        if accepted:
            parts.append(f"{accepted} accepted into the baseline by this run")
        lines.append(f"{head}; {', '.join(parts)}")
        if self.updated:
            lines.append(
                f"  baseline rewritten: {len(self.accepted)} entr"
                f"{'y' if len(self.accepted) == 1 else 'ies'} added, {len(self.fixed)} removed "
                f"as fixed, {len(self.not_exercised)} kept as not exercised"
            )
        for key in self.new[:10]:
            lines.append(f"  new: {key.describe()}  (key {key.digest})")
        if len(self.new) > 10:
            lines.append(f"  ... and {len(self.new) - 10} more new divergences")
        for entry in self.fixed:
            verb = "removed" if self.updated else "remove it"
            lines.append(
                f"  no longer occurs: {entry.key.describe()} (key {entry.key.digest}); {verb}"
                + ("" if self.updated else " (or run with --aot-parity-update-baseline)")
            )
        if self.not_exercised:
            lines.append(
                f"  {len(self.not_exercised)} entr"
                f"{'y' if len(self.not_exercised) == 1 else 'ies'} not exercised (no request "
                "to their endpoint in this run)"
            )
        return lines


def _key_dict(key: BaselineKey) -> dict[str, Any]:
    return {
        "key": key.digest,
        "method": key.method,
        "path_template": key.path_template,
        "category": key.category,
        "differences": [{"path": p, "kind": k} for p, k in key.differences],
    }


def reconcile(
    baseline: Baseline | None,
    records: Sequence[Mapping[str, Any]],
    exercised: Collection[str],
    *,
    path: str | None,
    updating: bool,
) -> BaselineOutcome:
    """Compare the run's divergence records (with ``baseline_key``/``baseline`` set) to the
    baseline. ``exercised`` holds the endpoints (``METHOD /template``) that got requests."""
    entries = baseline.entries if baseline is not None else {}
    seen: dict[str, BaselineKey] = {}
    counts: dict[str, int] = {}
    new: dict[str, BaselineKey] = {}
    accepted: dict[str, BaselineKey] = {}
    for record in records:
        key = key_of_record(record)
        seen.setdefault(key.digest, key)
        status = str(record.get("baseline") or classify(key, baseline, updating=updating))
        counts[status] = counts.get(status, 0) + 1
        if status == "new":
            new.setdefault(key.digest, key)
        elif status == "accepted":
            accepted.setdefault(key.digest, key)
    endpoints = set(exercised)
    fixed: list[BaselineEntry] = []
    not_exercised: list[BaselineEntry] = []
    for digest, entry in sorted(entries.items(), key=lambda kv: kv[1].key):
        if digest in seen:
            continue
        if entry.key.endpoint in endpoints:
            fixed.append(entry)
        else:
            not_exercised.append(entry)
    return BaselineOutcome(
        path=path,
        entries=len(entries),
        known=[d for d in seen if d in entries],
        new=sorted(new.values()),
        accepted=sorted(accepted.values()),
        fixed=fixed,
        not_exercised=not_exercised,
        updated=False,
        counts=counts,
    )


def updated_baseline(
    baseline: Baseline | None,
    records: Sequence[Mapping[str, Any]],
    outcome: BaselineOutcome,
    *,
    path: Path,
    now: dt.datetime | None = None,
) -> Baseline:
    """The baseline after ``--aot-parity-update-baseline``: every divergence of the run,
    fixed entries removed, entries not exercised kept, reasons kept."""
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    old = baseline.entries if baseline is not None else {}
    fixed = {entry.key.digest for entry in outcome.fixed}
    out = Baseline(path=path)
    for record in records:
        key = key_of_record(record)
        previous = old.get(key.digest)
        if previous is not None:
            out.add(previous)
            continue
        out.add(
            BaselineEntry(
                key=key,
                reason="",
                example={"path": record.get("path"), "test": record.get("nodeid")},
                added=stamp,
            )
        )
    for digest, entry in old.items():
        if digest not in fixed:
            out.add(entry)
    return out
