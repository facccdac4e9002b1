"""Running the generated parity tests: the hypothesis runs of an operation's test.

Each example is a request; it goes to both builds
(:class:`~pytest_aotparity.transport.pair.PairSender`) and the pair is judged by the
same engine, rules and noise filtering as the mirrored suite. The search
(:meth:`~pytest_aotparity.generate.session.GenerationContext.explore`) never fails an
example; the shrink run does: a divergence raises, and hypothesis shrinks the variant to
a minimal one that still diverges (re-sending it to both builds each time — which is why
divergence has to be deterministic per request, and why noise must be cancelled before
judging), and the minimal request is what gets reported.

Divergences of different categories are different exception types, so hypothesis treats
them as different bugs and shrinks (and reports) each separately: one operation can show
both a validator bypass and a lost field."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO, cast

from pytest_aotparity.diff.model import Category, Divergence
from pytest_aotparity.exchange import Exchange, RecordedRequest
from pytest_aotparity.generate.cases import request_signature

Signature = tuple[str, str, bytes, tuple[str, ...]]

JudgeFn = Callable[[Exchange], tuple[Divergence | None, int]]
"""``judge(exchange)`` → (the divergence or None, differences cancelled as noise)."""


class GeneratedDivergence(AssertionError):
    """Raised inside a hypothesis example when the builds answered differently."""

    def __init__(self, divergence: Divergence, steps: Sequence[Step] = ()) -> None:
        request = divergence.exchange.request
        super().__init__(
            f"{request.method} {request.path}: {divergence.category.value} "
            f"(jit {divergence.exchange.jit.status}, aot {divergence.exchange.aot.status})"
        )
        self.divergence = divergence
        self.steps = list(steps)


def _error_types() -> Mapping[Category, type[GeneratedDivergence]]:
    made = {
        category: cast(
            "type[GeneratedDivergence]",
            type(
                f"Divergence{category.name.title().replace('_', '')}",
                (GeneratedDivergence,),
                {"__module__": __name__},
            ),
        )
        for category in Category
    }
    return MappingProxyType(made)


DIVERGENCE_ERRORS = _error_types()
"""One exception type per category: hypothesis shrinks and reports each separately."""


def divergence_error(divergence: Divergence, steps: Sequence[Step] = ()) -> GeneratedDivergence:
    return DIVERGENCE_ERRORS[divergence.category](divergence, steps)


@dataclass(frozen=True)
class Step:
    """One request of a generated example (a stateful sequence has several)."""

    request: RecordedRequest
    aot_request: RecordedRequest | None
    jit_status: int | None
    aot_status: int | None
    rule: str = ""
    key: str | None = None
    """Stateful creates: the key the JIT build gave what this step created."""

    def record(self) -> dict[str, Any]:
        return {
            "rule": self.rule or None,
            "method": self.request.method,
            "path": self.request.path,
            "path_template": self.request.path_template,
            "body": body_text(self.request.body),
            "aot_path": self.aot_request.path if self.aot_request is not None else None,
            "jit_status": self.jit_status,
            "aot_status": self.aot_status,
        }


def body_text(body: bytes) -> str | None:
    if not body:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(body).decode("ascii")


@dataclass
class Found:
    """A minimal divergent example, as reported."""

    divergence: Divergence
    steps: list[Step] = field(default_factory=list)
    times_sent: int = 1
    """How often the minimal (last) request was sent during the search and shrinking."""
    replaced_by_first: bool = False
    """True when the answers shown are from the first time the request was sent (later
    sends answered differently, e.g. 409 once the AOT build had stored it)."""
    flaky: bool = False
    """Hypothesis could not make it diverge again when replaying it."""
    mode: str = "positive"
    """``positive`` (the request conforms to the schema) or ``negative``."""

    @property
    def request(self) -> RecordedRequest:
        return self.divergence.exchange.request


@dataclass
class Observations:
    """What an item sent: counts, and the first divergence seen per distinct request."""

    sent: int = 0
    noise_cancelled: int = 0
    positive: int = 0
    negative: int = 0
    first: dict[Signature, Divergence] = field(default_factory=dict)
    counts: dict[Signature, int] = field(default_factory=dict)
    modes: dict[Signature, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(
        self,
        exchange: Exchange,
        divergence: Divergence | None,
        noise: int,
        mode: str = "positive",
    ) -> None:
        key = request_signature(exchange.request)
        with self.lock:
            self.sent += 1
            self.noise_cancelled += noise
            if mode == "negative":
                self.negative += 1
            else:
                self.positive += 1
            self.counts[key] = self.counts.get(key, 0) + 1
            self.modes.setdefault(key, mode)
            if divergence is not None and key not in self.first:
                self.first[key] = divergence


class GenerateLog:
    """``--aot-parity-generate-log``: one JSON line per generated request pair."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: TextIO | None = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    def close(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()


def collect_failures(exc: BaseException) -> tuple[list[GeneratedDivergence], bool]:
    """The divergences in what hypothesis raised, and whether it called them flaky.

    Anything that is not a divergence (a bug, a schemathesis error) is re-raised.
    """
    from hypothesis.errors import FlakyFailure

    found: list[GeneratedDivergence] = []
    flaky = False

    def walk(error: BaseException) -> None:
        nonlocal flaky
        if isinstance(error, GeneratedDivergence):
            found.append(error)
            return
        if isinstance(error, BaseExceptionGroup):
            if isinstance(error, FlakyFailure):
                flaky = True
            for inner in error.exceptions:
                walk(inner)
            return
        raise exc

    walk(exc)
    return found, flaky


def _answers(divergence: Divergence) -> tuple[object, ...]:
    exchange = divergence.exchange
    return (
        exchange.jit.status,
        exchange.aot.status,
        divergence.category,
        tuple((d.path, d.kind) for d in divergence.differences),
    )


def finish(
    failures: Iterable[GeneratedDivergence], observations: Observations, *, flaky: bool
) -> list[Found]:
    """Turn hypothesis' final (minimal) failures into what the report shows.

    The minimal request was typically sent several times while shrinking; a write changes
    the builds, so a later send may answer differently from the first (a bypassed validator
    stored the player: 201 then 409). The answers shown are those of the first send.
    """
    out: list[Found] = []
    seen: set[Signature] = set()
    for failure in failures:
        divergence = failure.divergence
        key = request_signature(divergence.exchange.request)
        if key in seen:
            continue
        seen.add(key)
        first = observations.first.get(key)
        replaced = first is not None and _answers(first) != _answers(divergence)
        if first is not None and not failure.steps:
            divergence = first
        found = Found(
            divergence=divergence,
            steps=list(failure.steps),
            times_sent=observations.counts.get(key, 1),
            replaced_by_first=replaced and not failure.steps,
            flaky=flaky,
            mode=observations.modes.get(key, "positive"),
        )
        out.append(found)
    return out


def shortest_sequences(
    failures: Sequence[tuple[list[Step], Divergence]],
) -> list[GeneratedDivergence]:
    """The shortest divergent sequence per category (the first one among equals)."""
    best: dict[Category, tuple[list[Step], Divergence]] = {}
    for steps, divergence in failures:
        current = best.get(divergence.category)
        if current is None or len(steps) < len(current[0]):
            best[divergence.category] = (steps, divergence)
    return [divergence_error(divergence, steps) for steps, divergence in best.values()]


def hypothesis_settings(
    examples: int,
    *,
    stateful_steps: int | None = None,
    shrink: bool = True,
    database: bool = True,
) -> Any:
    """Settings of a generated test: the user's profile, with our example count, no
    deadline (requests over the network), health checks about slowness and filtering
    suppressed, and hypothesis' own output quiet unless the user asked for more (the
    failure shows our rendering instead).

    ``shrink=False`` leaves that phase out (of what the profile has); ``database=False``
    runs without the example database."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    default = settings.default
    assert default is not None
    verbosity = default.verbosity if default.verbosity > Verbosity.normal else Verbosity.quiet
    left_out = {Phase.explain}
    # No explain phase: it replays the minimal example many more times (each a request
    # pair, or a whole sequence) only to annotate which arguments matter.
    if not shrink:
        left_out.add(Phase.shrink)
    kwargs: dict[str, Any] = {
        "phases": [phase for phase in default.phases if phase not in left_out],
        "max_examples": examples,
        "deadline": None,
        "suppress_health_check": list(HealthCheck),
        "verbosity": verbosity,
        "print_blob": False,
        "report_multiple_bugs": True,
    }
    if not database:
        kwargs["database"] = None
    if stateful_steps is not None:
        kwargs["stateful_step_count"] = max(1, stateful_steps)
    return settings(parent=default, **kwargs)


def run_property(
    strategy: Any,
    body: Callable[[Any], None],
    *,
    examples: int,
    seed: int | str | None,
    digest: bytes,
    shrink: bool = True,
) -> tuple[list[GeneratedDivergence], bool]:
    """Run ``body`` on ``examples`` draws of ``strategy`` under hypothesis; return the
    divergences it raised (minimal ones when shrinking; empty: none found) and whether they
    were flaky. ``digest`` tells the hypothesis tests of a run apart. Hypothesis' example
    database is not used by these runs (the plugin keeps the divergent requests there
    itself: :mod:`~pytest_aotparity.generate.store`)."""
    import hypothesis

    @hypothesis_settings(examples, shrink=shrink, database=False)  # type: ignore[untyped-decorator]
    @hypothesis.given(case=strategy)
    def generated(case: Any) -> None:
        body(case)

    if seed is not None:
        generated = hypothesis.seed(seed)(generated)
    from pytest_aotparity._compat.hypothesis import set_digest

    set_digest(generated.hypothesis.inner_test, digest)
    try:
        generated()
    except BaseException as exc:
        if not isinstance(exc, GeneratedDivergence | BaseExceptionGroup):
            raise
        return collect_failures(exc)
    return [], False
