"""Findings: the divergences of a run grouped by cause, each with what to do about it.

A divergence is one pair of answers; a finding is one thing the AOT build does differently,
however many requests, endpoints and sources (the suite, generated tests) show it. The rules
(also in ``docs/findings.md``):

- **Answers with different statuses** group by what the JIT build said. A request the JIT
  build rejects (4xx) and the AOT build accepts (2xx) is one finding across every operation
  (*validator bypassed*), with the request fields the JIT build's problem details list; the
  same rejected requests answered otherwise by the AOT build (a 500, a 404) are a second one.
  A request the JIT build serves and the AOT build fails is a finding per operation and
  exception; any other status change, per operation and pair of statuses.
- **Answers with the same status** group by member: the schema member a differing field is
  (``PlayerResponse.team``, when the run read the OpenAPI document), else its generic JSON
  path per endpoint. Members of one schema that the AOT build leaves at their type's default
  (absent, null, 0, false, empty) are one finding; a member whose JIT value is looked up
  from a sibling that kept its value (``positionName`` from ``position``, seen in lists
  where the sibling repeats) is a finding of its own. Other differences group by member
  schema and kind (types, values, headers).
- **Consequences.** A write that succeeded on one build only (a 2xx on one side of a
  ``POST``/``PUT``/``PATCH``/``DELETE``) leaves the two databases different. A later
  divergence that state explains (the JIT build served it and the AOT build refused it with
  a 4xx such as 409 or 404, or the JIT build answered 404/410 and the AOT build served it)
  and whose request carries an identity of that write (the
  same value of an id-like member or path parameter in the body, or an id or ``Location``
  the write answered, in the path) is its consequence: it is shown under the write's
  finding and not counted as a cause.

A finding's category is the most severe of its divergences' (for a member finding, of the
category the divergence rule gives its own differences); its severity follows from the
category. Everything here works on the JSON-able records and imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_aotparity.report.fixhints import hint_for

CATEGORY_ORDER: tuple[str, ...] = (
    "AOT failure",
    "validator bypassed",
    "mapping lost data",
    "status differs",
    "serialization differs",
    "API description differs",
    "behaviour differs",
)
"""Categories from the most severe."""

SEVERITY: dict[str, str] = {
    "AOT failure": "critical",
    "validator bypassed": "critical",
    "mapping lost data": "major",
    "status differs": "major",
    "serialization differs": "major",
    "API description differs": "minor",
    "behaviour differs": "minor",
}

MAX_EXAMPLES = 2
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ID_LIKE = re.compile(r"(?i)(^id$|id$|_id$|number$|^key$|code$|slug$|^email$|^name$|^sku$)")
_EXCEPTION = re.compile(r"^\s*((?:[A-Z_][\w`]*\.)+[A-Z_][\w`]*(?:Exception|Error))(?::\s*(.*))?$")
_LOOKUP = re.compile(r"Enum|GetFields|Lookup|FromName|FromValue|SmartEnum")
_FRAME = re.compile(r"^\s*at (.+?)(?: \+ 0x[0-9a-f]+| in .*)?$")

_UNPARSED: Any = object()

Link = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""Links a (pseudo) divergence record to publish warnings: ``WarningLinker.link().to_dict``."""


def most_severe(categories: Iterable[str]) -> str:
    present = set(categories)
    for category in CATEGORY_ORDER:
        if category in present:
            return category
    return next(iter(sorted(present)), "behaviour differs")


def _rank(category: str) -> int:
    return CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)


# -- reading records ------------------------------------------------------------------------


def _status(record: Mapping[str, Any], build: str) -> int | None:
    value = (record.get("status") or {}).get(build)
    return int(value) if isinstance(value, int) else None


def _endpoint(record: Mapping[str, Any]) -> str:
    return f"{str(record.get('method')).upper()} {record.get('path_template')}"


def _json_body(record: Mapping[str, Any], build: str) -> Any:
    entry = (record.get("responses") or {}).get(build) or {}
    text = entry.get("body")
    if entry.get("body_truncated") or entry.get("body_encoding") not in (None, "utf-8"):
        return None
    return _parsed(text)


def _request_json(record: Mapping[str, Any]) -> Any:
    request = record.get("aot_request") or record.get("request") or {}
    return _parsed(request.get("body"))


def _parsed(text: Any) -> Any:
    """A JSON text's value; None for anything else (no body, not JSON)."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _status_level(record: Mapping[str, Any]) -> bool:
    return any(str(d.get("kind")) in ("status", "connection error") for d in _diffs(record))


def _diffs(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [d for d in record.get("differences") or () if isinstance(d, Mapping)]


def exception_of(record: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The AOT build's exception of a failed request: type, message and the first frame
    outside the framework, read from the log lines kept with the record."""
    lines = [str(line) for line in record.get("aot_log_tail") or ()]
    for i, line in enumerate(lines):
        match = _EXCEPTION.match(line)
        if match is None or line.lstrip().startswith("at "):
            continue
        frame = None
        for later in lines[i + 1 :]:
            frame_match = _FRAME.match(later)
            if frame_match is None:
                continue
            frame = frame_match.group(1)
            if not frame.startswith(("System.", "Microsoft.")):
                break
        return match.group(1), (match.group(2) or "").strip() or None, frame
    return None, None, None


# -- classifying a difference -----------------------------------------------------------------


def _is_default(value: Any) -> bool:
    return value is None or value is False or value == 0 or value in ("", [], {})


def difference_class(diff: Mapping[str, Any]) -> str:
    """``lost`` (the AOT side absent or its type's default where the JIT side had a value),
    ``type``, ``extra``, ``order``, ``header``, ``body`` or ``value``."""
    kind = str(diff.get("kind"))
    jit, aot = diff.get("jit"), diff.get("aot")
    if kind == "header":
        return "header"
    if kind in ("missing field", "null vs value", "value change") and (
        aot is None or (type(aot) is type(jit) and _is_default(aot))
    ):
        return "lost" if not _is_default(jit) or kind == "missing field" else "value"
    if kind == "type change":
        return "type"
    if kind in ("extra field", "order", "body"):
        return kind.split(maxsplit=1)[0]
    return "value"


CLASS_CATEGORY = {
    "lost": "mapping lost data",
    "type": "serialization differs",
    "extra": "serialization differs",
}


def _member_of(record: Mapping[str, Any], diff: Mapping[str, Any]) -> tuple[str, str, str]:
    """(component, member name, shown member) of a body difference: the schema member when
    the record knows it, else the generic path on the endpoint."""
    generic = str(diff.get("generic_path") or diff.get("path") or "$")
    member = diff.get("member")
    if isinstance(member, str) and "." in member:
        component, name = member.split(".", 1)
        return component, name, member
    name = generic.rsplit(".", 1)[-1] if "." in generic else generic
    endpoint = _endpoint(record)
    return endpoint, name, f"{endpoint} {generic}"


# -- groups -----------------------------------------------------------------------------------


@dataclass
class _Member:
    shown: str
    name: str
    paths: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    count: int = 0
    examples: list[tuple[Any, Any]] = field(default_factory=list)
    aot_values: Counter[str] = field(default_factory=Counter)

    def add(self, diff: Mapping[str, Any]) -> None:
        self.count += 1
        self.paths[str(diff.get("generic_path") or diff.get("path"))] += 1
        self.kinds[str(diff.get("kind"))] += 1
        pair = (diff.get("jit"), diff.get("aot"))
        if len(self.examples) < MAX_EXAMPLES and pair not in self.examples:
            self.examples.append(pair)
        self.aot_values[json.dumps(diff.get("aot"), sort_keys=True, default=str)] += 1


@dataclass
class _Group:
    key: tuple[str, ...]
    kind: str
    records: list[Mapping[str, Any]] = field(default_factory=list)
    members: dict[str, _Member] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    consequences: list[Mapping[str, Any]] = field(default_factory=list)
    derived_from: str | None = None
    lookup_example: tuple[Any, Any] | None = None
    """A value of ``derived_from`` and the JIT value that goes with it."""

    def add(self, record: Mapping[str, Any]) -> None:
        if not any(r is record for r in self.records):
            self.records.append(record)


def _derived_members(
    groups: Mapping[tuple[str, ...], _Group], lost_names: Mapping[str, set[str]]
) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(component, member) → the sibling its JIT value is a function of, for lost members
    whose lists show a repeated, surviving sibling that determines them."""
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    bodies: dict[int, Any] = {}  # each JIT body parsed once, not once per member
    for group in groups.values():
        if group.kind != "members":
            continue
        component = group.key[1]
        for member in group.members.values():
            pairs: list[tuple[dict[str, str], str]] = []
            seen: set[str] = set()
            for record in group.records:
                body = bodies.get(id(record), _UNPARSED)
                if body is _UNPARSED:
                    body = bodies[id(record)] = _json_body(record, "jit")
                for path in member.paths:
                    if "." not in path or "[*]" not in path:
                        continue
                    parent = path.rsplit(".", 1)[0]
                    for obj in _select(body, parent):
                        if not isinstance(obj, Mapping) or _is_default(obj.get(member.name)):
                            continue
                        whole = json.dumps(obj, sort_keys=True, default=str)
                        if whole in seen:  # the same object seen again is no more evidence
                            continue
                        seen.add(whole)
                        siblings = {
                            str(k): json.dumps(v, sort_keys=True)
                            for k, v in obj.items()
                            if not isinstance(v, dict | list)
                        }
                        pairs.append((siblings, json.dumps(obj.get(member.name), sort_keys=True)))
            determinant = _determinant(pairs, exclude=lost_names.get(component, set()))
            if determinant is not None:
                out[(component, member.name)] = determinant
    return out


def _select(body: Any, path: str) -> list[Any]:
    from pytest_aotparity.jsonpath import JsonPathError, select

    if body is None:
        return []
    try:
        return select(body, path)
    except JsonPathError:
        return []


def _determinant(
    pairs: Sequence[tuple[dict[str, str], str]], *, exclude: set[str]
) -> tuple[str, str, str] | None:
    """The sibling that determines the value (with one sibling value and the value that goes
    with it), when the evidence says so: at least four
    instances, the sibling repeats (at most half as many values as instances), the value
    varies, and each sibling value goes with one value."""
    if len(pairs) < 4 or len({value for _, value in pairs}) < 2:
        return None
    best: tuple[int, str, str, str] | None = None
    for sibling in sorted(set.intersection(*(set(p[0]) for p in pairs)) - exclude):
        mapping: dict[str, str] = {}
        functional = True
        for siblings, value in pairs:
            seen = mapping.setdefault(siblings[sibling], value)
            if seen != value:
                functional = False
                break
        if not functional or len(mapping) * 2 > len(pairs):
            continue
        distance = abs(len(mapping) - len(set(mapping.values())))
        if best is None or distance < best[0]:
            example = next(iter(mapping.items()))
            best = (distance, sibling, example[0], example[1])
    return (best[1], best[2], best[3]) if best else None


# -- consequences ------------------------------------------------------------------------------


def _identities(
    record: Mapping[str, Any], params: set[str]
) -> tuple[set[tuple[str, str]], set[str]]:
    """(key, value) pairs of id-like members of the request body, and the values a write
    answered with (ids, Location segments) — what a later request would carry."""
    keyed: set[tuple[str, str]] = set()
    values: set[str] = set()
    body = _request_json(record)
    if isinstance(body, Mapping):
        for key, value in body.items():
            if isinstance(value, bool) or value is None or value == "":
                continue
            if isinstance(value, int | str) and (key in params or _ID_LIKE.search(str(key))):
                keyed.add((str(key).lower(), str(value)))
                values.add(str(value))
    for build in ("jit", "aot"):
        answer = _json_body(record, build)
        if isinstance(answer, Mapping):
            for key in ("id", "Id", "ID"):
                if isinstance(answer.get(key), int | str):
                    values.add(str(answer[key]))
        headers = ((record.get("responses") or {}).get(build) or {}).get("headers") or ()
        for name, value in headers:
            if str(name).lower() == "location":
                segments = [s for s in str(value).split("?")[0].split("/") if s]
                if segments:
                    values.add(segments[-1])
    return keyed, values


def _request_identities(record: Mapping[str, Any]) -> tuple[set[tuple[str, str]], set[str]]:
    keyed: set[tuple[str, str]] = set()
    body = _request_json(record)
    if isinstance(body, Mapping):
        for key, value in body.items():
            if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
                keyed.add((str(key).lower(), str(value)))
    path = str(record.get("path") or "").split("?")[0]
    return keyed, {s for s in path.split("/") if s}


def consequences(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Divergence id → the id of the earlier divergence it is a consequence of (the root:
    a consequence of a consequence points at the first write)."""
    params: set[str] = set()
    for record in records:
        params.update(re.findall(r"\{([^}/]+)\}", str(record.get("path_template") or "")))
    writes: list[tuple[str, set[tuple[str, str]], set[str]]] = []
    out: dict[str, str] = {}
    for record in records:
        rid = str(record.get("id"))
        jit, aot = _status(record, "jit"), _status(record, "aot")
        # only what state explains: the JIT build served it and the AOT build refused
        # (409, 404), or the AOT build has what the JIT build has not; a request the JIT
        # build rejects as invalid is invalid whatever was stored before
        follows = (
            jit is not None
            and aot is not None
            and (
                (200 <= jit < 300 and 400 <= aot < 500) or (jit in (404, 410) and 200 <= aot < 300)
            )
        )
        if _status_level(record) and follows:
            keyed, segments = _request_identities(record)
            for wid, wkeyed, wvalues in writes:
                if keyed & wkeyed or segments & wvalues:
                    out[rid] = out.get(wid, wid)
                    break
        method = str(record.get("method")).upper()
        one_side = jit is not None and aot is not None and (200 <= jit < 300) != (200 <= aot < 300)
        if method in WRITES and one_side:
            keyed, values = _identities(record, params)
            writes.append((rid, keyed, values))
    return out


# -- building findings -------------------------------------------------------------------------


def _status_key(record: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    jit, aot = _status(record, "jit"), _status(record, "aot")
    endpoint = _endpoint(record)
    if jit is not None and 400 <= jit < 500:
        if aot is not None and 200 <= aot < 300:
            return ("jit-rejects", str(jit), "accepted"), "validator"
        return ("jit-rejects", str(jit), "other"), "jit-rejects"
    if jit is not None and jit < 400 and (aot is None or aot >= 500):
        exception, _, _ = exception_of(record)
        return ("aot-fails", endpoint, exception or str(aot)), "aot-fails"
    return ("status", endpoint, str(jit), str(aot)), "status"


def _group(records: Sequence[Mapping[str, Any]], caused: Mapping[str, str]) -> list[_Group]:
    groups: dict[tuple[str, ...], _Group] = {}

    def group(key: tuple[str, ...], kind: str) -> _Group:
        found = groups.get(key)
        if found is None:
            found = groups[key] = _Group(key=key, kind=kind)
        return found

    body_records: list[Mapping[str, Any]] = []
    for record in records:
        if str(record.get("id")) in caused:
            continue
        if str(record.get("category")) == "API description differs":
            group(("document",), "document").add(record)
        elif _status_level(record):
            status_key, status_kind = _status_key(record)
            group(status_key, status_kind).add(record)
        else:
            body_records.append(record)
    # body differences: by member; lost members of one schema together
    placements: list[tuple[Mapping[str, Any], Mapping[str, Any], str, str, str, str]] = []
    for record in body_records:
        diffs = _diffs(record)
        if not diffs:
            group(("body", _endpoint(record)), "body").add(record)
        for diff in diffs:
            cls = difference_class(diff)
            component, name, shown = _member_of(record, diff)
            placements.append((record, diff, cls, component, name, shown))
    differing: dict[str, set[str]] = {}
    for _, _, _, component, name, _ in placements:
        differing.setdefault(component, set()).add(name)
    for record, diff, cls, component, name, shown in placements:
        if cls == "header":
            key: tuple[str, ...] = ("header", str(diff.get("path")).lower())
            kind = "header"
        elif cls == "lost":
            key, kind = ("members", component), "members"
        else:
            key, kind = (cls, component), "body"
        target = group(key, kind)
        target.add(record)
        target.classes.add(cls)
        target.members.setdefault(shown, _Member(shown=shown, name=name)).add(diff)
    # a lost member looked up from a surviving sibling is a cause of its own
    derived = _derived_members(groups, differing)
    for (component, name), (sibling, key_example, value_example) in sorted(derived.items()):
        source = groups[("members", component)]
        moved = {s: m for s, m in source.members.items() if m.name == name}
        if len(moved) == len(source.members):
            source.kind, source.derived_from = "lookup", sibling
            source.lookup_example = (json.loads(key_example), json.loads(value_example))
            continue
        target = group(("lookup", component, sibling), "lookup")
        target.derived_from = sibling
        target.lookup_example = (json.loads(key_example), json.loads(value_example))
        target.classes.add("lost")
        for shown, member in moved.items():
            del source.members[shown]
            target.members[shown] = member
        target.records = list(source.records)
    # consequences under the (first) finding of their root, which is always a cause
    by_id = {str(r.get("id")): r for r in records}
    home: dict[str, _Group] = {}
    for candidate in groups.values():
        for member_record in candidate.records:
            home.setdefault(str(member_record.get("id")), candidate)
    for rid, root in caused.items():
        home[root].consequences.append(by_id[rid])
    return list(groups.values())


def _category(group: _Group) -> str:
    if group.kind in ("members", "lookup", "body", "header"):
        categories = [CLASS_CATEGORY.get(c, "behaviour differs") for c in group.classes]
        return most_severe(categories or ["behaviour differs"])
    return most_severe(str(r.get("category")) for r in group.records)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _request_fields(group: _Group) -> list[str]:
    """The request members the JIT build's validation problems name (``errors`` keys)."""
    names: dict[str, None] = {}
    for record in group.records:
        body = _json_body(record, "jit")
        errors = body.get("errors") if isinstance(body, Mapping) else None
        if isinstance(errors, Mapping):
            for key in errors:
                names.setdefault(str(key), None)
    return list(names)


def _endpoints_text(endpoints: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(endpoints[:limit])
    return shown + (f" and {len(endpoints) - limit} more" if len(endpoints) > limit else "")


def _title(group: _Group, endpoints: Sequence[str], fields: Sequence[str]) -> str:
    kind = group.kind
    if kind == "validator":
        text = (
            f"The AOT build accepts requests the JIT build rejects with {group.key[1]} "
            f"({_endpoints_text(endpoints)}): the validation did not run"
        )
        if fields:
            text += f"; rules not applied to {', '.join(fields[:6])}"
        return text
    if kind == "jit-rejects":
        statuses = Counter(str(_status(r, "aot")) for r in group.records)
        answered = ", ".join(s for s, _ in statuses.most_common())
        return (
            f"Requests the JIT build rejects with {group.key[1]} reach the AOT build's code "
            f"and get {answered} ({_endpoints_text(endpoints)})"
        )
    if kind == "aot-fails":
        record = group.records[0]
        exception, message, _ = exception_of(record)
        status = _status(record, "aot")
        answer = f"{status}" if status is not None else "no answer"
        text = f"{group.key[1]} fails on the AOT build ({answer}"
        if exception:
            short = (message or "")[:110] + ("…" if message and len(message) > 110 else "")
            text += f", {exception}" + (f": {short}" if short else "")
        return text + ")"
    if kind == "status":
        return (
            f"{group.key[1]} answers {group.key[3]} on the AOT build where the JIT build "
            f"answers {group.key[2]}"
        )
    if kind in ("members", "lookup"):
        members = list(group.members.values())
        names = ", ".join(m.name for m in members)
        component = group.key[1]
        if kind == "lookup":
            member = members[0]
            aot = member.examples[0][1] if member.examples else None
            text = (
                f"{component}.{names} is {_shown(aot)} on the AOT build where the JIT build "
                f"looks it up from {group.derived_from}"
            )
            if group.lookup_example is not None:
                key_value, value = group.lookup_example
                text += f" ({_shown(key_value)} → {_shown(value)})"
            return text
        values = [
            "absent"
            if m.kinds.most_common(1)[0][0] == "missing field"
            else _shown(json.loads(next(iter(m.aot_values))))
            for m in members
            if len(m.aot_values) == 1
        ]
        owner = "" if " " in component else f" of {component}"
        text = f"The AOT build loses {names}{owner}"
        if len(values) == len(members):
            text += f" (sent as {', '.join(values)})"
        return text + f" on {_endpoints_text(endpoints)}"
    if kind == "header":
        return (
            f"The header {group.key[1].split(':', 1)[-1]} differs on {_endpoints_text(endpoints)}"
        )
    if kind == "document":
        return "The AOT build's OpenAPI document describes a different API"
    shown = ", ".join(m.shown for m in list(group.members.values())[:4])
    what = {
        "type": "changes type or format",
        "extra": "has members the JIT build has not",
        "order": "orders items differently",
        "body": "answers a different body",
    }.get(group.key[0], "answers different values")
    return (
        f"The AOT build {what}: {shown}"
        if shown
        else f"The AOT build {what} on {_endpoints_text(endpoints)}"
    )


def _minimal(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    def size(record: Mapping[str, Any]) -> tuple[int, str]:
        request = record.get("request") or {}
        return len(str(request.get("path") or "")) + len(str(request.get("body") or "")), str(
            record.get("id")
        )

    return min(records, key=size)


def _warnings(
    group: _Group, category: str, link: Link | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The publish warnings linked to the finding (strongest first), and a note when none."""
    if link is None:
        return [], None
    representative = group.records[0]
    failing = next((r for r in group.records if r.get("aot_log_tail")), representative)
    diffs = [
        {"path": p, "generic_path": p, "kind": next(iter(m.kinds))}
        for m in group.members.values()
        for p in m.paths
    ]
    pseudo = {
        "category": category,
        "differences": diffs or _diffs(representative),
        "path_template": representative.get("path_template"),
        "path": representative.get("path"),
        "aot_log_tail": failing.get("aot_log_tail"),
        "responses": failing.get("responses"),
    }
    if group.kind == "jit-rejects":
        # the same cause as a bypassed validator: the warnings about validators explain it
        pseudo["category"] = "validator bypassed"
    result = link(pseudo)
    links = _links(result.get("links") or ())
    if group.kind == "lookup":
        links.sort(key=lambda entry: not _LOOKUP.search(f"{entry['type']} {entry['member']}"))
    return links[:5], (None if links else str(result.get("note") or "no publish warning matches"))


def _links(found: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Warning links as a finding shows them; the same warning reported with and without
    its member is one warning to read."""
    unique: dict[tuple[Any, Any], Mapping[str, Any]] = {}
    for entry in found:
        unique.setdefault((entry.get("code"), entry.get("type")), entry)
    return [
        {
            "code": entry.get("code"),
            "member": entry.get("member"),
            "type": entry.get("type"),
            "score": entry.get("score"),
            "reasons": list(entry.get("reasons") or ()),
        }
        for entry in unique.values()
    ]


def _evidence(group: _Group, warnings: Sequence[Mapping[str, Any]]) -> str:
    parts: list[str] = []
    for record in group.records[:20]:
        parts.extend(str(line) for line in record.get("aot_log_tail") or ())
    for warning in warnings:
        parts.append(f"{warning.get('type')} {warning.get('member')}")
    parts.extend(m.shown for m in group.members.values())
    return "\n".join(parts)


def _finding(group: _Group, link: Link | None) -> dict[str, Any]:
    records = group.records
    endpoints = Counter(_endpoint(r) for r in records)
    endpoint_names = [e for e, _ in endpoints.most_common()]
    fields = _request_fields(group) if group.kind in ("validator", "jit-rejects") else []
    category = _category(group)
    minimal = _minimal(records)
    warnings, warnings_note = _warnings(group, category, link)
    log_record = next((r for r in records if r.get("aot_log_tail")), None)
    exception, message, frame = exception_of(log_record) if log_record else (None, None, None)
    fix = hint_for(group.kind, category, _evidence(group, warnings))
    new = [r for r in records if str(r.get("baseline") or "new") == "new"]
    key = "|".join(group.key)
    return {
        "id": "",
        "key": key,
        "digest": hashlib.sha256(key.encode()).hexdigest()[:12],
        "kind": group.kind,
        "title": _title(group, endpoint_names, fields),
        "category": category,
        "severity": SEVERITY.get(category, "minor"),
        "baseline": "new" if new else "known",
        "divergences": [str(r.get("id")) for r in records],
        "consequences": [
            {
                "divergence": str(r.get("id")),
                "endpoint": _endpoint(r),
                "status": dict(r.get("status") or {}),
                "nodeid": r.get("nodeid"),
            }
            for r in group.consequences
        ],
        "endpoints": [{"endpoint": e, "divergences": n} for e, n in endpoints.most_common()],
        "sources": dict(sorted(Counter(str(r.get("origin")) for r in records).items())),
        "tests": sorted({str(r["nodeid"]) for r in records if r.get("nodeid")}),
        "members": [
            {
                "member": m.shown,
                "paths": sorted(m.paths),
                "kind": m.kinds.most_common(1)[0][0],
                "count": m.count,
                "examples": [{"jit": jit, "aot": aot} for jit, aot in m.examples],
            }
            for m in group.members.values()
        ],
        "derived_from": group.derived_from,
        "request_fields": fields,
        "example": {
            "divergence": str(minimal.get("id")),
            "request": f"{str(minimal.get('method')).upper()} {minimal.get('path')}",
            "status": dict(minimal.get("status") or {}),
            "curl": minimal.get("curl"),
        },
        "exception": (
            {"type": exception, "message": message, "frame": frame} if exception else None
        ),
        "aot_log": list((log_record or {}).get("aot_log_tail") or ())[-12:] or None,
        "warnings": warnings,
        "warnings_note": warnings_note,
        "fix": fix,
    }


def start_finding(failure: Mapping[str, Any]) -> dict[str, Any]:
    """The one finding of a build that could not be started."""
    build = str(failure.get("build"))
    exception = failure.get("exception_type")
    links = ((failure.get("warnings") or {}).get("links")) or ()
    evidence = "\n".join(
        [str(exception or ""), str(failure.get("exception_message") or "")]
        + [str(f) for f in failure.get("frames") or ()]
        + [str(line) for line in failure.get("log_tail") or ()]
        + [f"{link.get('type')} {link.get('member')}" for link in links]
    )
    category = "AOT failure" if build == "aot" else "behaviour differs"
    key = f"start|{build}"
    return {
        "id": "",
        "key": key,
        "digest": hashlib.sha256(key.encode()).hexdigest()[:12],
        "kind": "start",
        "title": str(failure.get("summary") or f"the {build} build could not be started"),
        "category": category,
        "severity": "critical" if build == "aot" else "major",
        "baseline": "new",
        "divergences": [],
        "consequences": [],
        "endpoints": [],
        "sources": {},
        "tests": [],
        "members": [],
        "derived_from": None,
        "request_fields": [],
        "example": None,
        "exception": (
            {
                "type": exception,
                "message": failure.get("exception_message"),
                "frame": next(iter(failure.get("frames") or ()), None),
            }
            if exception
            else None
        ),
        "aot_log": list(failure.get("log_tail") or ())[-12:] or None,
        "warnings": _links(links)[:5],
        "warnings_note": None,
        "fix": hint_for("start", category, evidence),
    }


def build_findings(
    records: Sequence[Mapping[str, Any]],
    *,
    link: Link | None = None,
    start_failures: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The findings of a run's records (each with an ``id``), most severe first; ids
    ``F1``, ``F2``, … in that order."""
    findings = [start_finding(f) for f in start_failures]
    caused = consequences(records)
    groups = _group(records, caused)
    built = [_finding(g, link) for g in groups if g.records]
    built.sort(
        key=lambda f: (
            _rank(str(f["category"])),
            f["baseline"] != "new",
            -len(f["divergences"]),
            str(f["key"]),
        )
    )
    findings.extend(built)
    for number, finding in enumerate(findings, start=1):
        finding["id"] = f"F{number}"
    return findings


# -- the terminal ------------------------------------------------------------------------------


def _example_pairs(member: Mapping[str, Any]) -> str:
    absent = {"missing field": ("", "(absent)"), "extra field": ("(absent)", "")}.get(
        str(member.get("kind")), ("", "")
    )
    pairs = [
        f"{absent[0] or _shown(e.get('jit'))} → {absent[1] or _shown(e.get('aot'))}"
        for e in member.get("examples") or ()
    ]
    return ("e.g. " + ", ".join(pairs)) if pairs else ""


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_findings(
    findings: Sequence[Mapping[str, Any]], *, max_findings: int = 12, max_members: int = 6
) -> list[str]:
    """The findings part of the terminal summary: a block per finding, array elements
    collapsed by generic path (count and two examples)."""
    if not findings:
        return []
    severities = Counter(str(f.get("severity")) for f in findings)
    order = ("critical", "major", "minor")
    counts = ", ".join(f"{severities[s]} {s}" for s in order if severities.get(s))
    lines = [f"{len(findings)} finding{'s' if len(findings) != 1 else ''} ({counts}):"]
    for finding in findings[:max_findings]:
        known = "  [known: in the baseline]" if finding.get("baseline") == "known" else ""
        lines.append(
            f"{finding.get('id')} {finding.get('severity')}, {finding.get('category')}: "
            f"{finding.get('title')}{known}"
        )
        endpoints = finding.get("endpoints") or ()
        if endpoints:
            seen = ", ".join(
                f"{e['endpoint']}" + (f" ×{e['divergences']}" if e["divergences"] > 1 else "")
                for e in endpoints[:5]
            )
            if len(endpoints) > 5:
                seen += f" and {len(endpoints) - 5} more"
            sources = ", ".join(f"{n} {s}" for s, n in (finding.get("sources") or {}).items())
            lines.append(f"    seen on {seen} ({sources})")
        members = list(finding.get("members") or ())
        for member in members[:max_members]:
            # the collapsed path first ($[*].team before $.team): the list is the evidence
            paths = sorted(member.get("paths") or (), key=lambda p: ("[*]" not in p, p))
            where = ", ".join(paths[:2]) + (" …" if len(paths) > 2 else "")
            name = str(member.get("member"))
            shown = where if name.endswith(where) or " " in name else f"{name} ({where})"
            lines.append(
                f"    {shown}  {member.get('kind')}  ×{member.get('count')}  "
                f"{_example_pairs(member)}".rstrip()
            )
        if len(members) > max_members:
            lines.append(f"    … and {len(members) - max_members} more members")
        if finding.get("request_fields"):
            lines.append("    rules the JIT build applied: " + ", ".join(finding["request_fields"]))
        example = finding.get("example")
        if example:
            status = example.get("status") or {}
            lines.append(
                f"    smallest request: {example.get('request')}  "
                f"(jit {status.get('jit')}, aot {status.get('aot')})"
            )
        exception = finding.get("exception")
        if exception:
            text = f"{exception.get('type')}: {exception.get('message') or ''}".rstrip(": ")
            lines.append(f"    AOT log: {_first_line(text)}")
            if exception.get("frame"):
                lines.append(f"      at {_first_line(str(exception['frame']), 140)}")
        warnings = finding.get("warnings") or ()
        if warnings:
            shown = "; ".join(
                f"{w.get('code')} {w.get('member') or w.get('type') or ''}".strip()
                for w in warnings[:3]
            )
            lines.append(f"    publish warnings: {_first_line(shown, 200)}")
        elif finding.get("warnings_note"):
            lines.append(f"    publish warnings: none — {finding['warnings_note']}")
        fix = finding.get("fix")
        if fix:
            docs = fix.get("docs") or ()
            lines.append(f"    fix: {fix.get('summary')}")
            if docs:
                lines.append(f"      see {docs[0].get('url')}")
        consequences = finding.get("consequences") or ()
        if consequences:
            shown_consequences = "; ".join(
                f"{c.get('endpoint')} jit {c['status'].get('jit')} / aot {c['status'].get('aot')}"
                for c in consequences[:3]
            )
            lines.append(
                f"    and {len(consequences)} later answer{'s' if len(consequences) != 1 else ''}"
                f" that follow from it (not counted as causes): {shown_consequences}"
            )
    if len(findings) > max_findings:
        lines.append(f"… and {len(findings) - max_findings} more findings (see the reports)")
    return lines
