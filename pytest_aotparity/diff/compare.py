"""Comparing the JIT and AOT answers to one request.

:func:`compare` turns an :class:`~pytest_aotparity.exchange.Exchange` into a
:class:`Comparison`: the differences that remain after ignore rules, the id mapping and
noise cancellation, the ones noise cancelled, and a :class:`~.model.Category`.

What is compared
----------------
1. **Connection errors.** One build answered and the other did not: one ``connection error``
   difference at ``status``. Neither answered: nothing to compare (no difference).
2. **Status.** Different statuses: one ``status`` difference at ``status``, and nothing else
   (the bodies of two different statuses are two different documents).
3. **Headers** named in :attr:`CompareRules.headers` minus ``ignore_headers``, at
   ``header:<name>``. ``Content-Type`` compares media type and charset: a charset named on
   one side only is not a difference (``application/json; charset=utf-8`` equals
   ``application/json``) unless :attr:`CompareRules.strict_content_type`. Other headers
   compare by value; absent on one side is a difference.
4. **Body**, unless the pattern ``$`` ignores it. Byte-equal bodies are equal without being
   parsed. Two JSON bodies (see :func:`~.normalise.decode_body`) compare by structure; two
   texts by value (one ``body`` difference at ``$``, an excerpt around the first change
   when long); two binary bodies by length and sha256; bodies of different kinds give one
   ``body`` difference.

JSON structure
--------------
Fast path: values that parse equal (``==`` confirmed by fingerprints, so ``true`` is not
``1``) are equal without a structural diff. Otherwise a walker descends only into the
subtrees that differ, so cost follows the size of the differences, not of the bodies:

- objects: keys only in the JIT answer are ``missing field``, only in the AOT answer
  ``extra field``; a key that is a JIT id and whose mapped AOT id is a key on the other side
  is the same key;
- leaves: one side null is ``null vs value``; different JSON types (number vs string, boolean
  vs number, object vs array) ``type change``; numbers equal numerically (``1`` vs ``1.0``)
  are equal; else ``value change``, unless the id mapping says the JIT value *is* the AOT
  value (whole strings; ids of at least 8 characters embedded in longer strings, such as
  links, as a whole run of letters, digits, ``_`` and ``-``; integers only under id-like
  keys);
- arrays of equal length in order: items compared pairwise, except that when the differing
  items are the same multiset in another order, one ``order`` difference at the array's path
  (values: both arrays when short, else the first out-of-place items);
- arrays of different lengths in order: aligned on item fingerprints (difflib); unmatched
  runs of equal length are compared pairwise, others are paired by similarity (below), and
  the rest are missing/extra items;
- with ``ignore_order``, every array is a multiset: items equal modulo ignore rules and id
  mapping cancel out, and the rest are paired by similarity — DeepDiff's ``ignore_order``
  pairing (deep distance) decides which JIT item became which AOT item, then each pair is
  compared like any other value. Before DeepDiff, items are paired by an id-like key and
  then by their equal fields (objects with at least half of their fields equal), which is
  cheaper and survives nulls; residues too large for pairwise work are paired in order.

Paths follow the JIT side (the AOT index for an extra array item). Ignore rules prune
whole subtrees while walking (and before pairing or ordering items), so an ignored field
never makes two items look different. At most :data:`MAX_DIFFERENCES` differences are
kept per exchange (the rest counted in :attr:`Comparison.omitted`).

Noise
-----
With a usable ``noise`` answer (no error, same status as the JIT answer) JIT is compared
with noise under the same rules (without id mapping). A JIT-vs-AOT difference is noise —
cancelled, counted, not reported — when a JIT-vs-noise difference has the same *generic*
path (indices as ``[*]``) **and the same kind**: a type change or a missing field is never
cancelled by a value change at the same place. Status and connection errors are never noise.

With a :class:`NoiseMemory` (one per run) what the noise instance showed is also remembered per
endpoint, and cancels the same (generic path, kind) in later answers of that endpoint: two
instances of the same build can now and then agree by chance (two timestamps taken in the same
microsecond), and a field that is noise is noise on every answer of its endpoint.

Category precedence
-------------------
The first that applies, from the statuses down to the fields:

1. **AOT failure** — the AOT build gave no answer while JIT did, or AOT answered 5xx where
   JIT answered below 500 (the issue's JIT-2xx case, extended to a crash where JIT
   rejected the request: both are the AOT build failing);
2. **validator bypassed** — JIT 4xx, AOT 2xx;
3. **status differs** — any other status change (including JIT giving no answer);
4. **mapping lost data** — a field missing in the AOT answer (JIT had a non-null value
   there), or null in the AOT answer where JIT had a value (an array *item* missing is
   not a lost field: that is behaviour);
5. **serialization differs** — a type change, a value written in another format or
   spelling (dates ``2000-01-01`` vs ``2000-01-01T00:00:00``, enum names in another case,
   ``1.50`` vs ``1.5``), a key renamed only in case (``fullName`` vs ``FullName``), or a null
   field written on one side and omitted on the other;
6. **behaviour differs** — anything else: other values, extra fields, order, headers,
   non-JSON bodies.

Data loss outranks representation because it is silent and worse; the status categories
outrank both because a different status makes the bodies incomparable.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.diff.normalise import (
    Body,
    Path,
    PathMatcher,
    PathSegment,
    State,
    canonical_copy,
    content_types_differ,
    decode_body,
    fingerprint,
    format_path,
    is_guid,
    is_id_key,
    is_id_value,
    json_loads,
    same_representation,
    sorted_fingerprint,
    text_excerpt,
)
from pytest_aotparity.exchange import Exchange, RecordedResponse

MAX_DIFFERENCES: Final = 1000
"""Differences kept per exchange after cancellation (the rest are counted, not kept)."""
MAX_WALKED: Final = 100_000
"""The walker stops after this many raw differences (a pathological pair of bodies)."""
PAIRWISE_LIMIT: Final = 40_000
"""Largest (JIT items x AOT items) residue paired by equal fields (about 0.3 s at most)."""
DISTANCE_LIMIT: Final = 400
"""Largest residue left to DeepDiff's deep distances (about 1 ms per pair)."""
ORDER_VALUES_LIMIT: Final = 20
"""Arrays up to this length are shown whole in an ``order`` difference."""

_ARRAY_ITEM: Final = re.compile(r"\[\d+\]$")
_ID_TOKEN: Final = re.compile(r"[\w\-]+")
"""A run of characters an id embedded in a longer string (a link) is made of."""
_SCALARS: Final = (str, int, float, bool, type(None))
_NOT_NOISE: Final = frozenset({DiffKind.STATUS, DiffKind.ERROR})


DEFAULT_NOISE_MEMBERS: Final = frozenset({"traceid", "requestid"})
"""Members (any depth, any letter case) that ASP.NET Core fills anew for every request:
problem details' ``traceId`` and the request ids apps copy from it. A value change there
between two ids of one of the shapes below is noise by default, with or without a noise
instance; a member missing, null or of another type still counts."""
_PER_REQUEST_ID: Final = re.compile(
    r"^(?:00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"  # W3C traceparent (Activity.Id)
    r"|\|[\w.\-]+\.?"  # hierarchical Activity id, |root.1.
    r"|[0-9A-V]{13}:[0-9A-F]{8})$"  # HttpContext.TraceIdentifier (Kestrel: connection:count)
)


def per_request_noise(difference: Difference) -> bool:
    """Whether a difference is a per-request id ASP.NET Core writes (see
    :data:`DEFAULT_NOISE_MEMBERS`)."""
    if difference.kind is not DiffKind.VALUE:
        return False
    member = difference.path.rsplit(".", 1)[-1].lower()
    if member not in DEFAULT_NOISE_MEMBERS:
        return False
    jit, aot = difference.jit, difference.aot
    return (
        isinstance(jit, str)
        and isinstance(aot, str)
        and bool(_PER_REQUEST_ID.match(jit))
        and bool(_PER_REQUEST_ID.match(aot))
    )


@dataclass(frozen=True)
class CompareRules:
    """What to compare and what to ignore; built from the ini options, refined per test by
    the ``aot_parity`` marker through :meth:`merged`. Bad JSON paths raise ValueError."""

    headers: tuple[str, ...] = ("content-type",)
    ignore_paths: tuple[str, ...] = ()
    ignore_headers: tuple[str, ...] = ()
    ignore_order: bool = False
    strict_content_type: bool = False
    """Compare every ``Content-Type`` parameter: a charset named on one side only counts."""
    default_noise: bool = True
    """Cancel the per-request ids ASP.NET Core writes (:data:`DEFAULT_NOISE_MEMBERS`)."""
    matcher: PathMatcher = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", PathMatcher(self.ignore_paths))

    @property
    def compared_headers(self) -> tuple[str, ...]:
        """Lower-cased header names to compare: :attr:`headers` minus :attr:`ignore_headers`."""
        ignored = {name.lower() for name in self.ignore_headers}
        names = (name.lower() for name in self.headers)
        return tuple(dict.fromkeys(name for name in names if name not in ignored))

    def merged(
        self,
        *,
        ignore_paths: Sequence[str] = (),
        ignore_headers: Sequence[str] = (),
        ignore_order: bool | None = None,
    ) -> CompareRules:
        """These rules plus a marker's: ignore lists are combined, ``ignore_order`` replaced
        when given."""
        return CompareRules(
            headers=self.headers,
            ignore_paths=tuple(dict.fromkeys((*self.ignore_paths, *ignore_paths))),
            ignore_headers=tuple(dict.fromkeys((*self.ignore_headers, *ignore_headers))),
            ignore_order=self.ignore_order if ignore_order is None else ignore_order,
            strict_content_type=self.strict_content_type,
            default_noise=self.default_noise,
        )


@dataclass
class Comparison:
    """The outcome of :func:`compare`."""

    differences: list[Difference]
    """After ignore rules, id mapping and noise cancellation (at most MAX_DIFFERENCES)."""
    cancelled: list[Difference] = field(default_factory=list)
    """Differences noise explained."""
    category: Category | None = None
    """None when there is no difference."""
    omitted: int = 0
    """Differences beyond MAX_DIFFERENCES, counted but not kept."""

    @property
    def diverged(self) -> bool:
        return bool(self.differences)

    def divergence(self, exchange: Exchange) -> Divergence:
        """This comparison as the record the report layer keeps; ValueError if nothing
        diverged."""
        if self.category is None or not self.differences:
            raise ValueError("the answers did not diverge; there is no divergence to record")
        extra: dict[str, Any] = {}
        if self.omitted:
            extra["omitted_differences"] = self.omitted
        return Divergence(
            exchange=exchange,
            differences=list(self.differences),
            category=self.category,
            noise_cancelled=len(self.cancelled),
            extra=extra,
        )


NoiseKey = tuple[str, DiffKind]
"""A generic path and a kind of difference."""


class NoiseMemory:
    """Where a build disagreed with its own second instance, per endpoint, for a whole run.

    The endpoint is the caller's name for what was asked (``"GET /players/{id}"``). Thread-safe:
    the mirrored suite and the generated tests compare from several threads."""

    def __init__(self) -> None:
        self._seen: dict[str, frozenset[NoiseKey]] = {}
        self._lock = threading.Lock()

    def learn(self, endpoint: str, noisy: Collection[NoiseKey]) -> None:
        if not noisy:
            return
        with self._lock:
            known = self._seen.get(endpoint, frozenset())
            if not known.issuperset(noisy):
                self._seen[endpoint] = known | frozenset(noisy)

    def known(self, endpoint: str) -> frozenset[NoiseKey]:
        return self._seen.get(endpoint, frozenset())


def compare(
    exchange: Exchange,
    rules: CompareRules,
    id_map: Mapping[str, str] | None = None,
    *,
    memory: NoiseMemory | None = None,
    endpoint: str = "",
) -> Comparison:
    """Compare the JIT and AOT answers of ``exchange`` (see the module docstring).

    ``id_map`` maps ids the JIT build generated to the ids the AOT build generated for the
    same resources (learned by the replay layer, e.g. with :func:`learn_ids`). With
    ``memory``, the noise seen earlier on ``endpoint`` is cancelled too, and what this
    exchange's noise answer shows is remembered for it."""
    with _collector_paused():
        return _compare(exchange, rules, id_map or {}, memory, endpoint)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Parsing two large bodies allocates hundreds of thousands of containers, none of them
    in a reference cycle; the cyclic garbage collector would scan the growing heap several
    times meanwhile (about a quarter of the time of a 5 MB comparison). Paused, then
    resumed — only if it was running (another thread may have paused it)."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _compare(
    exchange: Exchange,
    rules: CompareRules,
    id_map: Mapping[str, str],
    memory: NoiseMemory | None,
    endpoint: str,
) -> Comparison:
    decoded: dict[int, Body] = {}  # the JIT body is decoded once for aot and noise
    found = _compare_pair(exchange.jit, exchange.aot, rules, id_map, decoded)
    if not found:
        return Comparison(differences=[])
    cancelled: list[Difference] = []
    noise = exchange.noise
    noisy: set[NoiseKey] = set()
    if any(d.kind not in _NOT_NOISE for d in found):
        if (
            noise is not None
            and noise.error is None
            and exchange.jit.error is None
            and noise.status == exchange.jit.status
        ):
            noisy = {
                (d.generic_path, d.kind)
                for d in _compare_pair(exchange.jit, noise, rules, {}, decoded)
                if d.kind not in _NOT_NOISE
            }
        if memory is not None:
            memory.learn(endpoint, noisy)
            noisy |= memory.known(endpoint)
    if noisy or rules.default_noise:
        kept: list[Difference] = []
        for difference in found:
            if (
                difference.kind not in _NOT_NOISE
                and (difference.generic_path, difference.kind) in noisy
            ) or (rules.default_noise and per_request_noise(difference)):
                cancelled.append(difference)
            else:
                kept.append(difference)
        found = kept
    if not found:
        return Comparison(differences=[], cancelled=cancelled)
    category = categorize(found, exchange)
    omitted = max(0, len(found) - MAX_DIFFERENCES)
    return Comparison(
        differences=found[:MAX_DIFFERENCES],
        cancelled=cancelled,
        category=category,
        omitted=omitted,
    )


# -- one pair of responses ----------------------------------------------------------------


def _answered(response: RecordedResponse) -> bool:
    return response.error is None and response.status is not None


def _header_value(response: RecordedResponse, name: str) -> str | None:
    values = [v.strip() for k, v in response.headers if k.lower() == name]
    return ", ".join(values) if values else None


def _compare_pair(
    jit: RecordedResponse,
    other: RecordedResponse,
    rules: CompareRules,
    id_map: Mapping[str, str],
    decoded: dict[int, Body],
) -> list[Difference]:
    jit_ok, other_ok = _answered(jit), _answered(other)
    if not jit_ok or not other_ok:
        if not jit_ok and not other_ok:
            return []
        return [
            Difference(
                "status",
                DiffKind.ERROR,
                jit.status if jit_ok else (jit.error or "no response"),
                other.status if other_ok else (other.error or "no response"),
            )
        ]
    if jit.status != other.status:
        return [Difference("status", DiffKind.STATUS, jit.status, other.status)]
    out: list[Difference] = []
    for name in rules.compared_headers:
        jit_value, other_value = _header_value(jit, name), _header_value(other, name)
        if name == "content-type":
            differs = content_types_differ(jit_value, other_value, strict=rules.strict_content_type)
        else:
            differs = jit_value != other_value
        if differs:
            out.append(Difference(f"header:{name}", DiffKind.HEADER, jit_value, other_value))
    if jit.body == other.body:
        return out
    matcher = rules.matcher
    root = matcher.initial
    if root and matcher.accepts(root):
        return out
    jit_body, other_body = _decode(jit, decoded), _decode(other, decoded)
    if jit_body.kind == "json" and other_body.kind == "json":
        out.extend(_diff_json(jit_body.value, other_body.value, rules, id_map))
    elif jit_body.kind == "text" and other_body.kind == "text":
        if jit_body.value != other_body.value:
            jit_text, other_text = text_excerpt(jit_body.value, other_body.value)
            out.append(Difference("$", DiffKind.BODY, jit_text, other_text))
    elif jit_body.kind != other_body.kind or jit_body.kind == "binary":
        out.append(Difference("$", DiffKind.BODY, jit_body.describe(), other_body.describe()))
    return out


def _decode(response: RecordedResponse, decoded: dict[int, Body]) -> Body:
    body = decoded.get(id(response))
    if body is None:
        body = decoded[id(response)] = decode_body(response)
    return body


def _strictly_equal(a: Any, b: Any) -> bool:
    """Equal with equal JSON types (``==`` alone says ``True == 1``); ints and floats that
    are numerically equal are equal."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        if ta in (int, float) and tb in (int, float):
            return bool(a == b)
        return False
    if ta is dict or ta is list:
        # Fingerprints are cheaper than == on containers, and type-exact. Unequal
        # fingerprints of equal values (keys in another order, 1 vs 1.0) only make the
        # caller look deeper, where nothing will be reported.
        return fingerprint(a) == fingerprint(b)
    return bool(a == b)


def _diff_json(
    jit: Any, other: Any, rules: CompareRules, id_map: Mapping[str, str]
) -> list[Difference]:
    # == stops at the first difference, so it is cheap when the values differ; when they
    # are equal, sorted fingerprints confirm it with JSON types (== says True == 1).
    if jit == other and sorted_fingerprint(jit) == sorted_fingerprint(other):
        return []
    walker = _Walker(rules.matcher, id_map, rules.ignore_order)
    with contextlib.suppress(_Enough):
        walker.diff(jit, other, (), rules.matcher.initial)
    return walker.out


class _Enough(Exception):
    """Raised by the walker when it has found MAX_WALKED differences."""


class _Walker:
    """Descends into the parts of two JSON values that differ (see the module docstring)."""

    def __init__(self, matcher: PathMatcher, id_map: Mapping[str, str], ignore_order: bool):
        self.matcher = matcher
        self.id_map = id_map
        self.reverse: dict[str, str] = {aot: jit for jit, aot in id_map.items()}
        self.ignore_order = ignore_order
        self.out: list[Difference] = []

    # -- recording ----------------------------------------------------------------------

    def add(self, path: Path, kind: DiffKind, jit: Any, aot: Any) -> None:
        if len(self.out) >= MAX_WALKED:
            raise _Enough
        self.out.append(Difference(format_path(path), kind, jit, aot))

    def child(self, state: State, segment: PathSegment) -> tuple[State, bool]:
        """The matcher state below ``segment``, and whether that subtree is ignored."""
        if not state:
            return state, False
        sub = self.matcher.step(state, segment)
        return sub, bool(sub) and self.matcher.accepts(sub)

    # -- values -------------------------------------------------------------------------

    def diff(self, a: Any, b: Any, path: Path, state: State) -> None:
        ta, tb = type(a), type(b)
        if ta is dict and tb is dict:
            self.diff_objects(a, b, path, state)
        elif ta is list and tb is list:
            if self.ignore_order:
                self.diff_unordered(a, b, path, state)
            elif len(a) == len(b):
                self.diff_same_length(a, b, path, state)
            else:
                self.diff_aligned(a, b, path, state)
        else:
            self.diff_leaves(a, b, path)

    def diff_leaves(self, a: Any, b: Any, path: Path) -> None:
        if a is None or b is None:
            if a is not b:
                self.add(path, DiffKind.NULL, a, b)
            return
        a_number = isinstance(a, int | float) and not isinstance(a, bool)
        b_number = isinstance(b, int | float) and not isinstance(b, bool)
        if a_number and b_number:
            if a != b and not self.mapped(a, b, path):
                self.add(path, DiffKind.VALUE, a, b)
            return
        if type(a) is not type(b):
            self.add(path, DiffKind.TYPE, a, b)
            return
        if a != b and not self.mapped(a, b, path):
            self.add(path, DiffKind.VALUE, a, b)

    def mapped(self, a: Any, b: Any, path: Path) -> bool:
        """Whether the id mapping says JIT value ``a`` is AOT value ``b``."""
        if not self.id_map:
            return False
        if isinstance(a, str) and isinstance(b, str):
            if self.id_map.get(a) == b:
                return True
            if len(a) <= 8:
                return False
            id_map = self.id_map

            def swap(match: re.Match[str]) -> str:
                token = match.group(0)
                return id_map.get(token, token) if len(token) >= 8 else token

            text = _ID_TOKEN.sub(swap, a)
            return text != a and text == b
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            return bool(path) and is_id_key(path[-1]) and self.id_map.get(str(a)) == str(b)
        return False

    def diff_objects(self, a: dict[str, Any], b: dict[str, Any], path: Path, state: State) -> None:
        renamed: set[str] = set()
        for key, va in a.items():
            sub, ignored = self.child(state, key)
            if ignored:
                continue
            if key in b:
                vb = b[key]
            else:
                mapped = self.id_map.get(key) if self.id_map else None
                if mapped is None or mapped not in b or mapped in a:
                    self.add((*path, key), DiffKind.MISSING, va, None)
                    continue
                renamed.add(mapped)
                vb = b[mapped]
            if va is vb or (type(va) in _SCALARS and type(va) is type(vb) and va == vb):
                continue
            if type(va) is type(vb) and type(va) in (dict, list) and _strictly_equal(va, vb):
                continue
            self.diff(va, vb, (*path, key), sub)
        for key, vb in b.items():
            if key in a or key in renamed:
                continue
            _, ignored = self.child(state, key)
            if not ignored:
                self.add((*path, key), DiffKind.EXTRA, None, vb)

    # -- arrays -------------------------------------------------------------------------

    def canonical(self, value: Any, state: State, aot: bool) -> int:
        """Hash of the fingerprint of an item modulo ignore rules (and, on the AOT side, the
        id map): the stand-in used to align arrays and compare them as multisets. (A hash,
        not the fingerprint: keeping thousands of fingerprints alive costs more than making
        them; two different items colliding on 64 bits is not a practical concern.)"""
        substitute = self.reverse if aot and self.reverse else None
        return hash(fingerprint(canonical_copy(value, self.matcher, state, substitute)))

    def diff_same_length(self, a: list[Any], b: list[Any], path: Path, state: State) -> None:
        differing: list[tuple[int, State]] = []
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x is y or _strictly_equal(x, y):
                continue
            sub, ignored = self.child(state, index)
            if not ignored:
                differing.append((index, sub))
        if not differing:
            return
        if len(differing) >= 2:
            ours = [self.canonical(a[i], sub, aot=False) for i, sub in differing]
            theirs = [self.canonical(b[i], sub, aot=True) for i, sub in differing]
            if ours != theirs and Counter(ours) == Counter(theirs):
                self.add_order(a, b, path, differing[0][0])
                return
        for index, sub in differing:
            self.diff(a[index], b[index], (*path, index), sub)

    def add_order(self, a: list[Any], b: list[Any], path: Path, first: int) -> None:
        if len(a) <= ORDER_VALUES_LIMIT:
            self.add(path, DiffKind.ORDER, a, b)
        else:
            self.add(path, DiffKind.ORDER, a[first], b[first])

    def diff_aligned(self, a: list[Any], b: list[Any], path: Path, state: State) -> None:
        subs_a = [self.child(state, i) for i in range(len(a))]
        subs_b = [self.child(state, j) for j in range(len(b))]
        ours = [self.canonical(x, subs_a[i][0], aot=False) for i, x in enumerate(a)]
        theirs = [self.canonical(y, subs_b[j][0], aot=True) for j, y in enumerate(b)]
        # Common head and tail first: difflib on the whole of a long array is slow, and
        # most arrays that differ in length differ in a few items.
        head, limit = 0, min(len(ours), len(theirs))
        while head < limit and ours[head] == theirs[head]:
            head += 1
        tail = 0
        while tail < limit - head and ours[-1 - tail] == theirs[-1 - tail]:
            tail += 1
        matcher = difflib.SequenceMatcher(
            None, ours[head : len(ours) - tail], theirs[head : len(theirs) - tail], autojunk=False
        )
        for tag, i1_, i2_, j1_, j2_ in matcher.get_opcodes():
            if tag == "equal":
                continue
            i1, i2, j1, j2 = i1_ + head, i2_ + head, j1_ + head, j2_ + head
            if tag == "replace" and i2 - i1 == j2 - j1:
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    if not subs_a[i][1]:
                        self.diff(a[i], b[j], (*path, i), subs_a[i][0])
                continue
            self.diff_residue(
                a, list(range(i1, i2)), b, list(range(j1, j2)), path=path, state=state
            )

    def diff_unordered(self, a: list[Any], b: list[Any], path: Path, state: State) -> None:
        subs_a = [self.child(state, i) for i in range(len(a))]
        subs_b = [self.child(state, j) for j in range(len(b))]
        ours = [self.canonical(x, subs_a[i][0], aot=False) for i, x in enumerate(a)]
        theirs = [self.canonical(y, subs_b[j][0], aot=True) for j, y in enumerate(b)]
        pool: defaultdict[int, list[int]] = defaultdict(list)
        for j in range(len(b) - 1, -1, -1):
            if not subs_b[j][1]:
                pool[theirs[j]].append(j)
        left: list[int] = []
        for i, print_ in enumerate(ours):
            if subs_a[i][1]:
                continue
            waiting = pool.get(print_)
            if waiting:
                waiting.pop()
            else:
                left.append(i)
        right = sorted(j for waiting in pool.values() for j in waiting)
        self.diff_residue(a, left, b, right, path=path, state=state)

    def diff_residue(
        self,
        a: list[Any],
        left: list[int],
        b: list[Any],
        right: list[int],
        *,
        path: Path,
        state: State,
    ) -> None:
        """Items of ``a`` (indices ``left``) and ``b`` (``right``) with no equal partner:
        pair them by similarity, compare the pairs, report the rest as missing/extra."""
        pairs, missing, extra = self.pair(a, left, b, right, state)
        for i, j in pairs:
            sub, ignored = self.child(state, i)
            if not ignored:
                self.diff(a[i], b[j], (*path, i), sub)
        for i in missing:
            if not self.child(state, i)[1]:
                self.add((*path, i), DiffKind.MISSING, a[i], None)
        for j in extra:
            if not self.child(state, j)[1]:
                self.add((*path, j), DiffKind.EXTRA, None, b[j])

    def pair(
        self, a: list[Any], left: list[int], b: list[Any], right: list[int], state: State
    ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        """Decide which JIT item (indices ``left``) became which AOT item (``right``):
        (pairs, JIT items with no partner, AOT items with no partner).

        1. by identity: an id-like key both sides share with unique values (through the id
           map);
        2. by fields: objects with at least half of their fields equal, best first;
        3. by deep distance: DeepDiff's ignore_order pairing for the rest;
        4. residues too large for the step they reach: in order, the surplus unpaired.
        """
        if not left or not right:
            return [], left, right
        pairs, left, right = self.pair_by_key(a, left, b, right)
        if not left or not right:
            return sorted(pairs), left, right
        if len(left) * len(right) > PAIRWISE_LIMIT:
            count = min(len(left), len(right))
            pairs.extend(zip(left[:count], right[:count], strict=True))
            return sorted(pairs), left[count:], right[count:]
        substitute = self.reverse or None
        ours = [canonical_copy(a[i], self.matcher, self.child(state, i)[0]) for i in left]
        theirs = [
            canonical_copy(b[j], self.matcher, self.child(state, j)[0], substitute) for j in right
        ]
        by_fields = _pair_by_fields(ours, theirs)
        pairs.extend((left[x], right[y]) for x, y in by_fields)
        paired_x, paired_y = {x for x, _ in by_fields}, {y for _, y in by_fields}
        rest_x = [x for x in range(len(left)) if x not in paired_x]
        rest_y = [y for y in range(len(right)) if y not in paired_y]
        if not rest_x or not rest_y:
            return sorted(pairs), [left[x] for x in rest_x], [right[y] for y in rest_y]
        if len(rest_x) * len(rest_y) > DISTANCE_LIMIT:
            count = min(len(rest_x), len(rest_y))
            pairs.extend((left[x], right[y]) for x, y in zip(rest_x, rest_y, strict=False))
            return (
                sorted(pairs),
                [left[x] for x in rest_x[count:]],
                [right[y] for y in rest_y[count:]],
            )
        try:
            near, missing, extra = _pair_by_distance(
                [ours[x] for x in rest_x], [theirs[y] for y in rest_y]
            )
        except Exception:  # DeepDiff failing must not lose the comparison
            return sorted(pairs), [left[x] for x in rest_x], [right[y] for y in rest_y]
        pairs.extend((left[rest_x[x]], right[rest_y[y]]) for x, y in near)
        return (
            sorted(pairs),
            sorted(left[rest_x[x]] for x in missing),
            sorted(right[rest_y[y]] for y in extra),
        )

    def pair_by_key(
        self, a: list[Any], left: list[int], b: list[Any], right: list[int]
    ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        """Pair on an id-like key both sides share with unique values."""
        key = _shared_id_key([a[i] for i in left], [b[j] for j in right])
        if key is None:
            return [], left, right
        pairs: list[tuple[int, int]] = []
        by_value = {str(b[j][key]): j for j in right}
        rest_left: list[int] = []
        for i in left:
            value = str(a[i][key])
            j = by_value.pop(self.id_map.get(value, value), None)
            if j is None:
                rest_left.append(i)
            else:
                pairs.append((i, j))
        taken = {j for _, j in pairs}
        return pairs, rest_left, [j for j in right if j not in taken]


def _pair_by_fields(ours: Sequence[Any], theirs: Sequence[Any]) -> list[tuple[int, int]]:
    """Objects that have at least half of their fields (and at least one) equal, paired
    greedily: most equal fields first, then nearest positions."""
    prints_theirs = [
        {k: fingerprint(v) for k, v in y.items()} if isinstance(y, dict) else None for y in theirs
    ]
    candidates: list[tuple[int, int, int, int]] = []
    for x, item in enumerate(ours):
        if not isinstance(item, dict) or not item:
            continue
        prints = {k: fingerprint(v) for k, v in item.items()}
        for y, other in enumerate(prints_theirs):
            if not other:
                continue
            score = sum(1 for k, f in prints.items() if other.get(k) == f)
            if score and 2 * score >= max(len(prints), len(other)):
                candidates.append((-score, abs(x - y), x, y))
    candidates.sort()
    used_x: set[int] = set()
    used_y: set[int] = set()
    out: list[tuple[int, int]] = []
    for _, _, x, y in candidates:
        if x not in used_x and y not in used_y:
            used_x.add(x)
            used_y.add(y)
            out.append((x, y))
    return out


def _pair_by_distance(
    ours: list[Any], theirs: list[Any]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """DeepDiff's ignore_order pairing (deep distance) over two residues: (pairs, items of
    ``ours`` it reports removed, items of ``theirs`` it reports added). Items it reports
    nothing about it found equal to something (``1`` vs ``1.0``)."""
    from deepdiff import DeepDiff

    tree = DeepDiff(
        ours,
        theirs,
        ignore_order=True,
        view="tree",
        cutoff_intersection_for_pairs=1.0,
        log_frequency_in_sec=0,
    )
    paired: dict[int, int] = {}
    taken: set[int] = set()
    missing: set[int] = set()
    extra: set[int] = set()
    for report_type in tree:
        for level in tree[report_type]:
            ours_path = level.path(output_format="list")
            theirs_path = level.path(output_format="list", use_t2=True)
            if report_type == "iterable_item_removed" and len(ours_path) == 1:
                missing.add(int(ours_path[0]))
            elif report_type == "iterable_item_added" and len(theirs_path) == 1:
                extra.add(int(theirs_path[0]))
            elif ours_path and theirs_path:
                x, y = int(ours_path[0]), int(theirs_path[0])
                if x not in paired and y not in taken:
                    paired[x] = y
                    taken.add(y)
    return sorted(paired.items()), sorted(missing - set(paired)), sorted(extra - taken)


def _shared_id_key(ours: Sequence[Any], theirs: Sequence[Any]) -> str | None:
    if not ours or not all(isinstance(x, dict) for x in (*ours, *theirs)):
        return None
    candidates = [k for k in ours[0] if is_id_key(k)]
    for key in candidates:
        if all(key in x and is_id_value(x[key]) for x in (*ours, *theirs)):
            ours_values = [str(x[key]) for x in ours]
            theirs_values = [str(x[key]) for x in theirs]
            if len(set(ours_values)) == len(ours_values) and len(set(theirs_values)) == len(
                theirs_values
            ):
                return str(key)
    return None


# -- categories ---------------------------------------------------------------------------


def _renamed_by_case(differences: Sequence[Difference]) -> set[str]:
    """Paths of missing/extra fields that are one key renamed only in case or separators
    (``fullName`` vs ``FullName``): a naming policy, not lost data."""
    missing = {d.path: d for d in differences if d.kind is DiffKind.MISSING}
    extra = {d.path: d for d in differences if d.kind is DiffKind.EXTRA}
    if not missing or not extra:
        return set()

    def folded(path: str) -> str:
        head, _, last = path.rpartition(".")
        return head + "." + last.lower().replace("_", "").replace("-", "")

    extra_by_fold: dict[str, str] = {folded(p): p for p in extra}
    out: set[str] = set()
    for path in missing:
        twin = extra_by_fold.get(folded(path))
        if twin is not None and twin != path:
            out.update((path, twin))
    return out


def categorize(differences: Sequence[Difference], exchange: Exchange) -> Category:
    """The category of a divergence (precedence in the module docstring)."""
    jit, aot = exchange.jit, exchange.aot
    kinds = {d.kind for d in differences}
    if DiffKind.ERROR in kinds:
        return Category.AOT_FAILURE if _answered(jit) else Category.STATUS_DIFFERS
    if DiffKind.STATUS in kinds and jit.status is not None and aot.status is not None:
        if aot.status >= 500 > jit.status:
            return Category.AOT_FAILURE
        if 400 <= jit.status < 500 and 200 <= aot.status < 300:
            return Category.VALIDATOR_BYPASSED
        return Category.STATUS_DIFFERS
    renamed = _renamed_by_case(differences)
    for d in differences:
        if (
            d.kind is DiffKind.MISSING
            and d.jit is not None
            and d.path not in renamed
            and not _ARRAY_ITEM.search(d.path)
        ) or (d.kind is DiffKind.NULL and d.aot is None):
            return Category.MAPPING_LOST_DATA
    if renamed:
        return Category.SERIALIZATION_DIFFERS
    for d in differences:
        if (
            d.kind is DiffKind.TYPE
            or (d.kind is DiffKind.VALUE and same_representation(d.jit, d.aot))
            or (
                d.kind in (DiffKind.MISSING, DiffKind.EXTRA)
                and d.jit is None
                and d.aot is None
                and not _ARRAY_ITEM.search(d.path)
            )
        ):
            return Category.SERIALIZATION_DIFFERS
    return Category.BEHAVIOUR_DIFFERS


# -- learning ids -------------------------------------------------------------------------

_UNPARSED: Final = object()


def _as_json(body: Any) -> Any:
    if isinstance(body, bytes | bytearray | str):
        if not body:
            return _UNPARSED
        try:
            return json_loads(bytes(body) if isinstance(body, bytearray) else body)
        except ValueError:
            return _UNPARSED
    return body


def learn_ids(jit_body: Any, aot_body: Any) -> dict[str, str]:
    """JIT id → AOT id for every id-like place where two create answers of the same shape
    differ: values under a key named ``id`` or ending in ``Id``/``_id``, and any two GUIDs.

    Bodies may be parsed values or JSON text/bytes (unparseable → ``{}``). Arrays are walked
    item by item, objects by their shared keys; numbers are learned as text (``7`` → ``"7"``).
    """
    jit_value, aot_value = _as_json(jit_body), _as_json(aot_body)
    if jit_value is _UNPARSED or aot_value is _UNPARSED:
        return {}
    out: dict[str, str] = {}
    stack: list[tuple[Any, Any, PathSegment | None]] = [(jit_value, aot_value, None)]
    while stack:
        a, b, key = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            stack.extend((a[k], b[k], k) for k in a if k in b)
        elif isinstance(a, list) and isinstance(b, list):
            stack.extend((x, y, key) for x, y in zip(a, b, strict=False))
        elif (
            a != b
            and is_id_value(a)
            and is_id_value(b)
            and type(a) is type(b)
            and (is_id_key(key) or (is_guid(a) and is_guid(b)))
        ):
            out[str(a)] = str(b)
    return out


__all__ = [
    "MAX_DIFFERENCES",
    "CompareRules",
    "Comparison",
    "categorize",
    "compare",
    "learn_ids",
]
