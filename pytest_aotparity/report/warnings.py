"""Publish warnings of the AOT build, and which divergences they explain.

``--aot-parity-warnings PATH`` names either

- a JSON file ``{"count", "by_code", "warnings": [{code, kind, member, type, message,
  assembly, file, line}]}`` (what ``sample_app/tools/aot_warnings.py`` writes), or a bare
  list of such records, or
- the raw output of ``dotnet publish -p:PublishAot=true`` (console or ``-fl`` file log, also
  inside ``docker build --progress=plain`` output): the trim (IL2xxx) and AOT (IL3xxx)
  warnings are read from it.

The format is detected from the content (JSON starts with ``{`` or ``[``).

Each divergence is then linked to the warnings that plausibly explain it. The links are
heuristics, and every link carries the reasons it was made, so a person can judge it:

- a differing field (``$.items[*].squadNumber``) whose name is a word of the warning
  (member, type or message), compared case-insensitively;
- the AOT build's failure text (its log tail and a 5xx body) naming the warning's member,
  its type, its library, or a type the warning names too;
- the category: a bypassed validator ↔ validator discovery warnings, lost mapping data ↔
  mapper warnings (more so those about reflection over properties/fields), serialization
  ↔ System.Text.Json warnings;
- supporting only (never a link on their own): the request path naming a type the warning
  is about, and the warning being in the app's own source code (a ``.cs`` file and line, not
  a library's ``/_/`` path) — usually what to fix first.

Nothing here imports anything heavy; it works on the JSON-able divergence records of
:mod:`pytest_aotparity.report.json_report`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

WarningsFormat = Literal["json", "publish log"]

CODE_MEANINGS: dict[str, str] = {
    "IL2026": "calls code marked RequiresUnreferencedCode (may break when trimmed)",
    "IL2055": "MakeGenericType with a type the trimmer cannot see",
    "IL2057": "Type.GetType with a name the trimmer cannot see",
    "IL2060": "MakeGenericMethod with a method the trimmer cannot see",
    "IL2067": "a parameter lacks the DynamicallyAccessedMembers it is used with",
    "IL2070": "reflection on a 'this' Type without DynamicallyAccessedMembers",
    "IL2072": "a return value lacks the DynamicallyAccessedMembers it is used with",
    "IL2075": "reflection on a returned Type without DynamicallyAccessedMembers",
    "IL2077": "a field lacks the DynamicallyAccessedMembers it is used with",
    "IL2080": "reflection on a field's Type without DynamicallyAccessedMembers",
    "IL2087": "a generic parameter lacks the DynamicallyAccessedMembers it is used with",
    "IL2090": "reflection on a generic parameter without DynamicallyAccessedMembers",
    "IL2091": "a generic argument lacks the DynamicallyAccessedMembers it needs",
    "IL2104": "a library produced trim warnings (collapsed; publish with "
    "-p:TrimmerSingleWarn=false to see them)",
    "IL2111": "a method with DynamicallyAccessedMembers is reached by reflection",
    "IL3050": "calls code marked RequiresDynamicCode (needs a JIT at run time)",
    "IL3051": "RequiresDynamicCode attributes do not match on an override",
    "IL3053": "a library produced AOT warnings (collapsed; publish with "
    "-p:TrimmerSingleWarn=false to see them)",
}

MAX_LINKS = 8
"""Links kept per divergence (the strongest); the rest are counted."""

# -- the warnings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishWarning:
    """One distinct trim/AOT warning of the AOT publish."""

    code: str
    kind: str
    """``trim`` (IL2xxx), ``aot`` (IL3xxx) or ``other``."""
    member: str | None
    type: str | None
    message: str
    assembly: str | None = None
    file: str | None = None
    line: int | None = None

    @property
    def library(self) -> str | None:
        """The root namespace of the warned type (``AutoMapper``, ``FluentValidation``,
        ``System``), else the assembly (``IL2104: Assembly 'X' produced trim warnings``)."""
        if self.type:
            return self.type.split(".", 1)[0] or None
        if self.assembly:
            return self.assembly.split(".", 1)[0] or None
        return None

    @property
    def in_source(self) -> bool:
        """Reported on a source file (``Domain/Enumeration.cs(24,9)``), the app's or a
        library's (libraries built deterministically report ``/_/src/...`` paths)."""
        return bool(re.search(r"\.(cs|vb|fs)$", self.file or "", re.I))

    @property
    def in_app_source(self) -> bool:
        """Reported on a source file of the app itself (not a ``/_/`` library path)."""
        file = (self.file or "").replace("\\", "/")
        return self.in_source and not file.startswith("/_/")

    @property
    def location(self) -> str | None:
        if not self.in_source or not self.file:
            return None
        name = re.split(r"[\\/]", self.file)[-1]
        return f"{name}:{self.line}" if self.line else name

    @property
    def methods(self) -> list[str]:
        """``Type.Method`` names a stack trace through this member would show: the member
        itself and, for lambdas and local functions, the method that contains them
        (``Ns.T.<>c__DisplayClass29_0.<GetProperties>b__0`` → ``Ns.T.GetProperties``)."""
        if not self.member:
            return []
        name = self.member.split("(", 1)[0]
        out = [name] if "." in name and "<" not in name else []
        if self.type:
            for inner in re.findall(r"<([A-Za-z_]\w*)>", name):
                candidate = f"{self.type}.{inner}"
                if candidate not in out:
                    out.append(candidate)
        return out

    @property
    def meaning(self) -> str:
        return CODE_MEANINGS.get(self.code, "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "member": self.member,
            "type": self.type,
            "message": self.message,
            "assembly": self.assembly,
            "file": self.file,
            "line": self.line,
            "library": self.library,
        }


class WarningsFileError(ValueError):
    """The warnings file cannot be read; the message says what to give instead."""


@dataclass
class WarningSet:
    """The warnings of one AOT publish, in file order (deduplicated)."""

    warnings: list[PublishWarning]
    source: str = ""
    format: WarningsFormat = "json"

    def by_code(self) -> Counter[str]:
        return Counter(w.code for w in self.warnings)

    def by_library(self) -> Counter[str]:
        return Counter(w.library or "(unknown)" for w in self.warnings)

    def app_roots(self) -> frozenset[str]:
        """Root namespaces of the app's own code: those of warnings on its source files."""
        return frozenset(w.library for w in self.warnings if w.in_app_source and w.library)


def _kind_of(code: str) -> str:
    if code.startswith("IL3"):
        return "aot"
    if code.startswith("IL2"):
        return "trim"
    return "other"


# "<origin>: Trim analysis warning IL2070: <member>: <message> [<project>]"
# "<origin>: AOT analysis warning IL3050: <member>: <message> [<project>]"
# "<file>(<line>,<col>): warning IL2090: <message> [<project>]"
# "<origin> : warning IL2104: Assembly 'X' produced trim warnings. ... [<project>]"
_LOG_LINE = re.compile(
    r"^(?:\d+>)?(?P<origin>.*?)\s*:\s*(?:(?:Trim|AOT) analysis )?warning\s+"
    r"(?P<code>IL[23]\d{3})\s*:\s*(?P<rest>.*?)\s*(?:\[[^\[\]]+\])?\s*$"
)
_LINE_PREFIX = re.compile(r"^(?:#\d+\s+\d+(?:\.\d+)?\s+|\d{4}-\d\d-\d\dT[\d:.]+Z\s+)")
"""What wraps a publish log line in other logs: BuildKit's plain progress (``#12 23.45 ``,
``docker build --progress=plain``) and CI log timestamps."""
_ORIGIN = re.compile(r"^(?P<file>.*?)(?:\((?P<line>\d+)(?:,\d+)*\))?$")
_ASSEMBLY_IN_MESSAGE = re.compile(r"Assembly '(?P<name>[^']+)' produced")
_QUOTED = re.compile(r"'([^'\s]+)'")


def split_member(rest: str) -> tuple[str | None, str]:
    """``'Ns.Type.Method(Args): message'`` → (member, message). A member has no space
    outside brackets and ends at the first ``": "`` outside brackets."""
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        elif ch == " " and depth == 0:
            return None, rest
        elif ch == ":" and depth == 0 and rest[i + 1 : i + 2] == " ":
            return rest[:i], rest[i + 2 :]
    return None, rest


def declaring_type(member: str | None) -> str | None:
    """``'Ns.Type.<>c.Method(Args)'`` → ``'Ns.Type'`` (compiler-generated nested types and
    the member name dropped). A field (``Ns.Type._field``) gives ``Ns.Type`` too."""
    if not member:
        return None
    name = member.split("(", 1)[0]
    parts = _dotted_parts(name)
    if len(parts) > 1:
        parts = parts[:-1]
    while parts and (parts[-1].startswith("<") or not parts[-1]):
        parts = parts[:-1]
    return ".".join(parts) or None


def _dotted_parts(name: str) -> list[str]:
    """Split on dots outside angle brackets (``A.<B>g__C|1_0`` stays one part after A)."""
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in name:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _type_from_source_message(message: str, file: str | None) -> str | None:
    """For a warning on a source file (no member before the message): the quoted member
    whose type has the file's name (``Enumeration.cs`` ↔ ``'Ns.Enumeration.GetAll<T>()'``)."""
    if not file:
        return None
    stem = re.split(r"[\\/]", file)[-1].rsplit(".", 1)[0]
    for quoted in _QUOTED.findall(message):
        candidate = declaring_type(quoted)
        if candidate and candidate.rsplit(".", 1)[-1] == stem:
            return candidate
    return None


def parse_publish_log(text: str) -> list[PublishWarning]:
    """The distinct IL2xxx/IL3xxx warnings of a ``dotnet publish`` log, in order."""
    seen: set[tuple[str, str | None, str]] = set()
    out: list[PublishWarning] = []
    for raw in text.splitlines():
        match = _LOG_LINE.match(_LINE_PREFIX.sub("", raw.strip()))
        if match is None:
            continue
        code, rest = match["code"], match["rest"]
        origin_text = match["origin"].strip()
        origin = _ORIGIN.match(origin_text)
        file = (origin["file"] if origin else origin_text).strip() or None
        line = int(origin["line"]) if origin and origin["line"] else None
        member, message = split_member(rest)
        key = (code, member, message)
        if key in seen:
            continue
        seen.add(key)
        assembly = None
        found = _ASSEMBLY_IN_MESSAGE.search(message)
        if found:
            assembly = found["name"]
        elif file and file.lower().endswith(".dll"):
            assembly = re.split(r"[\\/]", file)[-1][:-4]
        wtype = declaring_type(member)
        if wtype is None and member is None:
            wtype = _type_from_source_message(message, file)
        out.append(
            PublishWarning(
                code=code,
                kind=_kind_of(code),
                member=member,
                type=wtype,
                message=message,
                assembly=assembly,
                file=file,
                line=line,
            )
        )
    return out


def _from_json_record(record: Any, index: int, source: str) -> PublishWarning:
    if not isinstance(record, Mapping) or not isinstance(record.get("code"), str):
        raise WarningsFileError(
            f"{source}: warning #{index} is not an object with a 'code' string "
            f"(got {str(record)[:80]!r})."
        )

    def text(name: str) -> str | None:
        value = record.get(name)
        return str(value) if value not in (None, "") else None

    code = str(record["code"])
    member = text("member")
    line_value = record.get("line")
    file = text("file")
    message = text("message") or ""
    wtype = text("type") or declaring_type(member)
    if wtype is None and member is None:
        wtype = _type_from_source_message(message, file)
    assembly = text("assembly")
    if assembly is None:
        found = _ASSEMBLY_IN_MESSAGE.search(message)
        assembly = found["name"] if found else None
    return PublishWarning(
        code=code,
        kind=text("kind") or _kind_of(code),
        member=member,
        type=wtype,
        message=message,
        assembly=assembly,
        file=file,
        line=int(line_value)
        if isinstance(line_value, int | str) and str(line_value).isdigit()
        else None,
    )


def parse_warnings_text(text: str, source: str = "<warnings>") -> WarningSet:
    """Detect the format of ``text`` (JSON or a publish log) and read its warnings."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise WarningsFileError(
                f"{source} starts like JSON but is not valid JSON ({exc.msg} at line "
                f"{exc.lineno}). Give the JSON written from the publish log, or the raw "
                "`dotnet publish` log itself."
            ) from None
        records = data.get("warnings") if isinstance(data, Mapping) else data
        if not isinstance(records, list):
            raise WarningsFileError(
                f"{source}: a JSON warnings file is an object with a 'warnings' list "
                '({"count": N, "by_code": {...}, "warnings": [{"code": "IL2026", '
                '"member": ..., "message": ...}]}) or a bare list of such warnings.'
            )
        warnings = [_from_json_record(r, i, source) for i, r in enumerate(records)]
        return WarningSet(warnings=warnings, source=source, format="json")
    return WarningSet(warnings=parse_publish_log(text), source=source, format="publish log")


def load_warnings(path: Path) -> WarningSet:
    """Read ``path`` (JSON or publish log); :class:`WarningsFileError` says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise WarningsFileError(
            f"{path}: no such file. Give the AOT publish log (e.g. `dotnet publish "
            "-p:PublishAot=true ... | tee aot-publish.log`) or the JSON made from it."
        ) from None
    except IsADirectoryError:
        raise WarningsFileError(f"{path} is a directory; give the publish log file.") from None
    except OSError as exc:
        raise WarningsFileError(f"{path}: cannot be read ({exc.strerror}).") from None
    return parse_warnings_text(text, str(path))


# -- words ----------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_DOTTED = re.compile(r"\b[A-Za-z_][\w`]*(?:\.[A-Za-z_<][\w`<>|]*)+")

FIELD_STOPWORDS = frozenset(
    {
        "id", "type", "value", "values", "name", "key", "item", "items", "data", "count",
        "length", "message", "errors", "error", "title", "status", "detail", "instance",
        "source", "target", "expression", "method", "member", "members", "result", "object",
        "string", "list", "array", "args", "context", "options", "field", "fields",
        "property", "properties", "traceid", "code", "kind", "text", "body",
    }
)  # fmt: skip
"""Field names too generic to name a .NET member on their own."""

_FRAMEWORK_ROOTS = frozenset({"System", "Microsoft", "Internal", "Interop", "ILC", "Windows"})


def words_of(text: str) -> set[str]:
    """Lower-cased identifiers of ``text``, plus what accessors and backing fields name
    (``get_SquadNumber`` → ``squadnumber``, ``<Team>k__BackingField`` → ``team``)."""
    out: set[str] = set()
    for word in _WORD.findall(text):
        lower = word.lower()
        out.add(lower)
        for prefix in ("get_", "set_", "init_"):
            if lower.startswith(prefix) and len(lower) > len(prefix):
                out.add(lower[len(prefix) :])
    for backing in re.findall(r"<(\w+)>k__BackingField", text):
        out.add(backing.lower())
    return out


def camel_words(name: str) -> list[str]:
    return [w.lower() for w in _CAMEL.findall(name)]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ses") and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def field_name(path: str) -> str | None:
    """The last named segment of a JSON path (``$.items[*].squadNumber`` → ``squadNumber``;
    ``$['odd key']`` → ``odd key``); None for ``status``, headers and ``$``."""
    if not path.startswith("$"):
        return None
    names = re.findall(r"\.([^.\[\]]+)|\[(?:'([^']*)'|\"([^\"]*)\")\]", path)
    for dotted, single, double in reversed(names):
        name = str(dotted or single or double)
        if name and name != "*":
            return name
    return None


def _path_words(path: str) -> list[str]:
    """The words of the most specific literal segment of a request path, singular and
    lower-case (``/players/leagues`` → ``["league"]``; ids and ``{x}`` are skipped)."""
    only = path.split("?", 1)[0]
    for segment in reversed(only.split("/")):
        if not segment or segment.startswith("{"):
            continue
        words = [
            _singular(part.lower())
            for part in re.split(r"[-_.]", segment)
            if len(part) >= 3 and part.isalpha()
        ]
        if words:
            return words
    return []


@dataclass
class _WarningIndex:
    """Precomputed words of one warning."""

    warning: PublishWarning
    words: set[str]
    simple_types: set[str]
    """Simple names of the types the warning is about (its declaring type and the types
    quoted in its message), outside the framework namespaces."""


def _index(warning: PublishWarning) -> _WarningIndex:
    text = " ".join(filter(None, [warning.member, warning.type, warning.message]))
    simple: set[str] = set()
    candidates = [warning.type] if warning.type else []
    for quoted in _QUOTED.findall(warning.message):
        candidates.append(declaring_type(quoted) or quoted)
    for candidate in candidates:
        if not candidate:
            continue
        parts = _dotted_parts(candidate.split("(", 1)[0])
        if not parts or parts[0] in _FRAMEWORK_ROOTS:
            continue
        last = re.sub(r"`\d+$|<.*$", "", parts[-1])
        if last and not last.startswith("<"):
            simple.add(last)
    return _WarningIndex(warning=warning, words=words_of(text), simple_types=simple)


# -- links ----------------------------------------------------------------------------------


@dataclass
class WarningLink:
    """A warning linked to a divergence, and why."""

    index: int
    """Position of the warning in :attr:`WarningSet.warnings` (and the report's list)."""
    warning: PublishWarning
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    substantive: bool = False
    """Whether a reason ties the warning to this divergence itself (a field, the failure
    text, the category); the request path and the app's own code only support those."""

    def add(self, score: int, reason: str, *, supporting: bool = False) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
            self.score += score
        if not supporting:
            self.substantive = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "warning": self.index,
            "code": self.warning.code,
            "member": self.warning.member,
            "type": self.warning.type,
            "score": self.score,
            "reasons": list(self.reasons),
        }


@dataclass
class LinkResult:
    links: list[WarningLink]
    more: int = 0
    """Further warnings linked with lower scores (not listed)."""
    note: str | None = None
    """Why nothing links, when nothing does."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "links": [link.to_dict() for link in self.links],
            "more": self.more,
            "note": self.note,
        }


_VALIDATOR = re.compile(r"validat", re.I)
_MAPPER = re.compile(r"mapper|mapping|mapster|\bprofile\b", re.I)
_MEMBER_REFLECTION = re.compile(
    r"GetProperties|GetProperty\b|GetFields|GetField\b|PublicProperties|PublicFields|"
    r"NonPublicProperties|NonPublicFields|GetMembers",
)
_JSON_WARNING = re.compile(r"System\.Text\.Json|JsonSerializer|JsonTypeInfo|Newtonsoft", re.I)
_JSON_FAILURE = re.compile(r"serializ|JsonTypeInfo|JsonSerializer", re.I)


def failure_text(record: Mapping[str, Any]) -> str:
    """What the AOT build said about a failure: its log tail and, for a 5xx or no answer,
    its body (problem details often carry the exception in Development)."""
    parts = [str(line) for line in record.get("aot_log_tail") or ()]
    aot = (record.get("responses") or {}).get("aot") or {}
    status = aot.get("status")
    if status is None or (isinstance(status, int) and status >= 500):
        if aot.get("error"):
            parts.append(str(aot["error"]))
        body = aot.get("body")
        if isinstance(body, str) and aot.get("body_encoding") == "utf-8":
            parts.append(body[:8000])
    return "\n".join(parts)


def _failure_line(text: str, needle: str) -> str:
    for raw in text.splitlines():
        if needle in raw:
            line = raw.strip()
            return line if len(line) <= 140 else line[:137] + "..."
    return ""


def _failure_types(text: str) -> set[str]:
    """Simple names of the types the failure text names outside framework namespaces:
    ``Players.Api.Endpoints.LeagueSummary`` → ``LeagueSummary``."""
    simple: set[str] = set()
    for name in _DOTTED.findall(text):
        parts = name.split(".")
        if parts[0] in _FRAMEWORK_ROOTS:
            continue
        last = re.sub(r"`\d+.*$", "", parts[-1])
        if last and last[0].isupper():
            simple.add(last)
    return simple


class WarningLinker:
    """Links divergence records to the warnings of one :class:`WarningSet`."""

    def __init__(self, warnings: WarningSet, *, max_links: int = MAX_LINKS) -> None:
        self.warnings = warnings
        self.max_links = max_links
        self._index = [_index(w) for w in warnings.warnings]
        self._app_roots = warnings.app_roots()

    def link(self, record: Mapping[str, Any]) -> LinkResult:
        links: dict[int, WarningLink] = {}

        def hit(i: int, score: int, reason: str, *, supporting: bool = False) -> None:
            link = links.get(i)
            if link is None:
                link = links[i] = WarningLink(index=i, warning=self._index[i].warning)
            link.add(score, reason, supporting=supporting)

        category = str(record.get("category") or "")
        differences = record.get("differences") or ()
        fields = []
        for diff in differences:
            name = field_name(str(diff.get("generic_path") or diff.get("path") or ""))
            if name and name.lower() not in FIELD_STOPWORDS and name not in fields:
                fields.append(name)
        failure = failure_text(record)
        fail_simple = _failure_types(failure)
        path = str(record.get("path_template") or record.get("path") or "")
        path_words = _path_words(path)

        for i, entry in enumerate(self._index):
            warning = entry.warning
            # 1. a differing field named in the warning
            for name in fields:
                if name.lower() in entry.words:
                    hit(i, 6, f"the differing field '{name}' is named in the warning")
            # 2. the AOT failure text
            if failure:
                through = next((m for m in warning.methods if m in failure), None)
                library = warning.library
                if through is not None:
                    hit(
                        i,
                        10,
                        f"the AOT build's log passes through {through}: "
                        f"«{_failure_line(failure, through)}»",
                    )
                elif warning.type and warning.type in failure:
                    hit(
                        i,
                        8,
                        f"the AOT build's log names {warning.type}: "
                        f"«{_failure_line(failure, warning.type)}»",
                    )
                elif (
                    library
                    and library not in _FRAMEWORK_ROOTS
                    and library not in self._app_roots
                    and re.search(rf"\b{re.escape(library)}\b", failure)
                ):
                    hit(
                        i,
                        2,
                        f"the AOT build's log names {library}: «{_failure_line(failure, library)}»",
                    )
                own = (warning.type or "").rsplit(".", 1)[-1]
                shared = sorted((entry.simple_types & fail_simple) - {own})
                for name in shared[:2]:
                    hit(i, 5, f"both the AOT build's log and the warning name {name}")
                if _JSON_FAILURE.search(failure) and _JSON_WARNING.search(
                    f"{warning.type} {warning.member} {warning.message}"
                ):
                    hit(
                        i,
                        3,
                        "the AOT build failed serializing JSON and the warning is about "
                        "System.Text.Json",
                    )
            # 3. the request path names a type the warning is about
            if path_words:
                for simple_name in sorted(entry.simple_types):
                    parts = camel_words(simple_name)
                    word = next((w for w in path_words if w in parts), None)
                    if word is not None:
                        hit(
                            i,
                            2,
                            f"the request path {path} names '{word}', part of the type "
                            f"{simple_name}",
                            supporting=True,
                        )
            # 4. the category
            about = " ".join(filter(None, [warning.type, warning.member, warning.message]))
            if category == "validator bypassed" and _VALIDATOR.search(about):
                hit(
                    i,
                    5,
                    "a validator was bypassed and the warning is about validators "
                    f"({warning.type or warning.library or warning.code})",
                )
            elif category == "mapping lost data" and _MAPPER.search(about):
                hit(
                    i,
                    1,
                    "data was lost in mapping and the warning is in a mapper "
                    f"({warning.type or warning.library or warning.code})",
                )
            elif category == "serialization differs" and _JSON_WARNING.search(about):
                hit(i, 2, "the JSON differs and the warning is about System.Text.Json")
            if category in ("mapping lost data", "serialization differs") and (
                _MEMBER_REFLECTION.search(about)
            ):
                hit(
                    i,
                    2,
                    "the warning is about reflection over properties or fields, which "
                    "convention-based mapping and serialization rely on",
                )
            if i in links and warning.in_app_source:
                hit(
                    i,
                    2,
                    f"the warning is in the app's own code ({warning.location}), usually "
                    "the first thing to fix",
                    supporting=True,
                )

        ranked = sorted(
            (link for link in links.values() if link.substantive),
            key=lambda link: (-link.score, link.warning.code, link.warning.member or ""),
        )
        kept = ranked[: self.max_links]
        note = None
        if not ranked:
            if failure:
                note = (
                    "no publish warning names what the AOT build's log shows: this "
                    "divergence was found only by running the AOT build"
                )
            else:
                note = (
                    "no publish warning matches this divergence: it was found only by "
                    "running the AOT build"
                )
        return LinkResult(links=kept, more=len(ranked) - len(kept), note=note)


def warnings_section(warnings: WarningSet, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``warnings`` section of the JSON report: the warnings, grouped by code and by
    library, and how many divergences each one is linked to. Records must already carry
    their ``warnings`` links (see :meth:`WarningLinker.link`)."""
    linked: Counter[int] = Counter()
    unlinked = 0
    total = 0
    for record in records:
        total += 1
        entry = record.get("warnings") or {}
        links: Sequence[Mapping[str, Any]] = entry.get("links") or ()
        if not links:
            unlinked += 1
        for link in links:
            linked[int(link["warning"])] += 1
    by_code = warnings.by_code()
    return {
        "source": warnings.source,
        "format": warnings.format,
        "count": len(warnings.warnings),
        "by_code": [
            {
                "code": code,
                "count": count,
                "kind": _kind_of(code),
                "meaning": CODE_MEANINGS.get(code, ""),
            }
            for code, count in sorted(by_code.items())
        ],
        "by_library": dict(sorted(warnings.by_library().items(), key=lambda kv: (-kv[1], kv[0]))),
        "warnings": [
            {**w.to_dict(), "divergences": linked.get(i, 0)}
            for i, w in enumerate(warnings.warnings)
        ],
        "divergences_linked": total - unlinked,
        "divergences_unlinked": unlinked,
    }
