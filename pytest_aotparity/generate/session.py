"""The generation side of one run: the document, the plans, the sender, the seed, and
running each kind of generated test.

One :class:`GenerationContext` per pytest session (it lives on the
:class:`~pytest_aotparity.generate.hooks.GenerationPlugin`). It talks to the builds the
:class:`~pytest_aotparity.run.parity.ParityRun` started, shares its id maps, judges
pairs with its rules, and hands what it found to the run's per-test state so that the
failure, the terminal summary and the JSON report treat generated divergences exactly like
mirrored ones (:mod:`pytest_aotparity.generate.integration`).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import unittest
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aotparity.diff.model import Category, Difference, DiffKind, Divergence
from pytest_aotparity.endpoints import infer_template
from pytest_aotparity.exchange import BuildName, Exchange, RecordedRequest, RecordedResponse
from pytest_aotparity.generate.cases import request_signature
from pytest_aotparity.generate.document import (
    DocumentError,
    diff_documents,
    document_category,
    operation_changes,
    parse_document,
)
from pytest_aotparity.generate.options import DEFAULT_OPENAPI_LOCATIONS, GenerateSettings
from pytest_aotparity.generate.plan import (
    OperationPlan,
    Resource,
    operation_plans,
    resources,
    template_pattern,
)
from pytest_aotparity.generate.runner import (
    Found,
    GeneratedDivergence,
    GenerateLog,
    Observations,
    Signature,
    body_text,
    collect_failures,
    divergence_error,
    finish,
    hypothesis_settings,
    run_property,
    shortest_sequences,
)
from pytest_aotparity.generate.stack import StopSignal
from pytest_aotparity.generate.values import harvest_field, scalar_values
from pytest_aotparity.jsonpath import select

if TYPE_CHECKING:
    from pytest_aotparity.run.judge import Judge
    from pytest_aotparity.run.parity import ParityRun
    from pytest_aotparity.targets.base import Target
    from pytest_aotparity.transport.pair import PairSender, PendingPair

DOCUMENT_ITEM = "openapi-document"
STATEFUL_ITEM = "stateful"


SHRINK_EXAMPLES = 10
"""Variants drawn at least (while none diverges) before hypothesis gives up shrinking."""


@dataclass
class InFlight:
    """A generated pair on its way: sent, not judged yet."""

    pending: PendingPair
    mode: str
    phase: str


class Pairs:
    """Sends one item's generated pairs, and judges, counts and logs each one (``phase``:
    replay, boundary, search, shrink or stateful, as the generate log shows); a create only
    one build accepted is undone before anything else is sent."""

    def __init__(
        self, context: GenerationContext, item: pytest.Item, result: ItemResult, origin: str
    ) -> None:
        self.context = context
        self.item = item
        self.result = result
        self.origin = origin
        self.sender = context.sender()
        self.judge = context.judge()

    def send(
        self, request: RecordedRequest, mode: str, phase: str | None = None
    ) -> tuple[Exchange, Divergence | None]:
        return self.settle(self.start(request, mode, phase))

    def start(self, request: RecordedRequest, mode: str, phase: str | None = None) -> InFlight:
        """Send the pair; judge it with :meth:`settle` before the next one is sent."""
        self.context.stop.check()
        pending = self.sender.start(
            request, origin="stateful" if self.origin == "stateful" else "generated"
        )
        return InFlight(pending, mode, phase or self.origin)

    def settle(self, flight: InFlight) -> tuple[Exchange, Divergence | None]:
        exchange = flight.pending.finish()
        exchange.nodeid = self.item.nodeid
        divergence, noise = self.judge(exchange)
        self.result.observations.note(exchange, divergence, noise, flight.mode)
        context = self.context
        context.pairs_sent += 1
        context.log(self.item, exchange, divergence, flight.mode, flight.phase)
        if divergence is not None:
            self.result.undone += context.restore_lockstep(exchange)
        return exchange, divergence


class OneAhead:
    """Sends an item's pairs one ahead: :meth:`send` judges the pair sent before (and
    returns it, with what it was sent for), then sends the new one — so the caller prepares
    its next request while the builds answer, and the builds still get one request after
    another. :meth:`settle` judges the last one; leaving the ``with`` block on an error
    abandons a pair still on its way."""

    def __init__(self, pairs: Pairs) -> None:
        self.pairs = pairs
        self._out: tuple[InFlight, Any] | None = None

    def __enter__(self) -> OneAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._out is not None:  # interrupted: never read
            self._out[0].pending.abandon()
            self._out = None

    def send(
        self, request: RecordedRequest, mode: str, phase: str, tag: Any
    ) -> tuple[Any, Divergence | None] | None:
        judged = self.settle()
        self._out = (self.pairs.start(request, mode, phase), tag)
        return judged

    def settle(self) -> tuple[Any, Divergence | None] | None:
        """The pair on its way, judged: ``(tag, divergence)``; None when there is none."""
        if self._out is None:
            return None
        flight, tag = self._out
        self._out = None
        _, divergence = self.pairs.settle(flight)
        return tag, divergence


@dataclass
class Harvest:
    """Real values of one path parameter, and where they came from."""

    param: str
    source: str
    values: tuple[str | int, ...] = ()
    problem: str | None = None

    def describe(self) -> str:
        if self.problem:
            return f"{{{self.param}}}: no real values ({self.problem})"
        shown = ", ".join(str(v) for v in self.values[:5])
        more = f", … ({len(self.values)} in all)" if len(self.values) > 5 else ""
        return f"{{{self.param}}}: real values from {self.source}: {shown}{more}"


@dataclass
class ItemResult:
    """What one generated test found, and what it sent."""

    found: list[Found] = field(default_factory=list)
    observations: Observations = field(default_factory=Observations)
    harvests: list[Harvest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suppressed: int = 0
    """Stateful: divergences not reported because a single request already showed them."""
    sequences: int = 0
    boundary: int = 0
    """Boundary (coverage) cases sent before hypothesis started."""
    replayed: int = 0
    """Requests reported on earlier runs, sent first (kept in hypothesis' database)."""
    undone: int = 0
    """Creates only some builds accepted, deleted again to keep the data in step."""


def divergence_kind(divergence: Divergence) -> tuple[object, ...]:
    """What makes two divergences of one operation the same kind for shrinking: the
    category and both statuses (hypothesis itself tells failures apart by category)."""
    exchange = divergence.exchange
    return (divergence.category, exchange.jit.status, exchange.aot.status)


def found_as_sent(divergence: Divergence, observations: Observations) -> Found:
    """A divergence reported as it was sent, not shrunk (a boundary case, a request kept
    from an earlier run, or one the search found, when no variant diverged so again)."""
    key = request_signature(divergence.exchange.request)
    return Found(
        divergence=divergence,
        times_sent=observations.counts.get(key, 1),
        mode=observations.modes.get(key, "positive"),
    )


def divergence_key(divergence: Divergence) -> tuple[tuple[str, str], frozenset[str]]:
    """``((METHOD, template), generic paths)``: what kind of divergence this is."""
    request = divergence.exchange.request
    template = request.path_template or infer_template(request.path)
    return (request.method, template), frozenset(d.generic_path for d in divergence.differences)


class GenerationContext:
    """See the module docstring."""

    def __init__(self, config: pytest.Config, run: ParityRun, settings: GenerateSettings) -> None:
        self.config = config
        self.run = run
        self.settings = settings
        self.document: dict[str, Any] | None = None
        self.location: str | None = None
        """The document's path on the app (None when it came from a file only)."""
        self.source = ""
        self.problem: str | None = None
        """Why there are no generated tests, for the terminal."""
        self.plans: list[OperationPlan] = []
        self.resources: list[Resource] = []
        self._schema: Any = None
        self._log: GenerateLog | None = None
        self._session_seed = random.SystemRandom().getrandbits(32)
        self.known: dict[tuple[str, str], set[str]] = {}
        self.pairs_sent = 0
        self._deletes: list[re.Pattern[str]] | None = None
        self.stop = StopSignal()
        """Set when the thread waiting for a generated test was interrupted."""

    # -- the run and its builds -----------------------------------------------------------

    def targets(self) -> Mapping[BuildName, Target]:
        return dict(self.run.targets)

    def sender(self) -> PairSender:
        sender = self.run.sender
        if sender is None:
            raise RuntimeError("aot-parity: the jit build is not running")
        return sender

    def judge(self) -> Judge:
        """The run's judge (the mirrored suite's rules, noise memory and id map)."""
        return self.run.judge

    @property
    def seed(self) -> int:
        """The hypothesis seed of every generated test: ``--hypothesis-seed`` if given, else
        one drawn for this session (printed, so a run can be repeated)."""
        from pytest_aotparity._compat.hypothesis import forced_seed

        forced = forced_seed()
        if forced is not None:
            try:
                return int(forced)
            except (TypeError, ValueError):
                return hash(forced) & 0xFFFFFFFF
        return self._session_seed

    def _seed_to_apply(self) -> int | None:
        """None when hypothesis already forces the seed (``--hypothesis-seed``)."""
        from pytest_aotparity._compat.hypothesis import forced_seed

        return None if forced_seed() is not None else self._session_seed

    # -- the document ---------------------------------------------------------------------

    def _fetch(self, path: str) -> tuple[RecordedResponse, dict[str, Any] | None, str | None]:
        response = self.sender().get_jit(path)
        if response.status is None:
            return response, None, response.error or "no answer"
        if not 200 <= response.status < 300:
            return response, None, f"{response.status}"
        try:
            return response, parse_document(response.body, response.content_type), None
        except DocumentError as exc:
            return response, None, str(exc)

    def load(self, *, fetch: bool = True) -> None:
        """Read the document (file, or the JIT build) and plan the generated tests.

        With a file, the builds are still asked for their document (for the comparison of
        the two) when ``fetch`` is true; ``--collect-only`` with a file starts no build."""
        settings = self.settings
        document: dict[str, Any] | None = None
        if settings.openapi_file is not None:
            try:
                data = settings.openapi_file.read_bytes()
                document = parse_document(data, "")
            except (OSError, DocumentError) as exc:
                raise pytest.UsageError(
                    f"--aot-parity-openapi (ini aot_parity_openapi) = "
                    f"{str(settings.openapi_file)!r}: cannot read the OpenAPI document: {exc}.\n"
                    "Give a JSON or YAML OpenAPI document, or the path the app serves it at."
                ) from None
            self.source = str(settings.openapi_file)
        tried: list[str] = []
        locations = settings.locations() or DEFAULT_OPENAPI_LOCATIONS
        if not fetch:
            locations = ()
        for location in locations:
            _, fetched, problem = self._fetch(location)
            if fetched is not None:
                self.location = location
                if document is None:
                    document = fetched
                    self.source = f"{location} on the jit build"
                break
            tried.append(f"{location} ({problem})")
        if document is None:
            message = (
                "no OpenAPI document on the jit build at " + ", ".join(tried)
                if tried
                else "no OpenAPI document"
            )
            if settings.openapi is not None:
                raise pytest.UsageError(
                    f"--aot-parity-openapi (ini aot_parity_openapi) = {settings.openapi!r}: "
                    f"{message}.\nGive the path the app serves its OpenAPI document at (e.g. "
                    "/openapi/v1.json), a local file, or turn generated tests off with "
                    "--aot-parity-no-generate."
                )
            self.problem = (
                f"{message}; give its path with --aot-parity-openapi, or turn generated tests "
                "off with --aot-parity-no-generate"
            )
            return
        self.document = document
        from pytest_aotparity.endpoints import Operations

        # every source's requests are named by this document's operations from now on
        self.run.operations = Operations(document)
        self.plans = operation_plans(document, settings.path_values, safe_only=settings.safe_only)
        if not settings.safe_only and settings.stateful_steps > 0:
            self.resources = resources(document)

    def schema(self) -> Any:
        """The schemathesis schema of the document (loaded once, on first use)."""
        if self._schema is None:
            import schemathesis

            self._schema = schemathesis.openapi.from_dict(self.document or {})
        return self._schema

    def operation(self, plan: OperationPlan) -> Any:
        return self.schema()[plan.path][plan.method]

    # -- logging --------------------------------------------------------------------------

    def log(
        self,
        item: pytest.Item,
        exchange: Exchange,
        divergence: Divergence | None,
        mode: str,
        phase: str,
    ) -> None:
        path = self.settings.log_path
        if path is None:
            return
        if self._log is None:
            self._log = GenerateLog(path)
        self._log.write(
            {
                "item": item.nodeid,
                "mode": mode,
                "phase": phase,
                "method": exchange.request.method,
                "path": exchange.request.path,
                "body": body_text(exchange.request.body),
                "aot_path": exchange.aot_request.path if exchange.aot_request else None,
                "jit": exchange.jit.status,
                "aot": exchange.aot.status,
                "diverged": divergence is not None,
                "category": divergence.category.value if divergence is not None else None,
            }
        )

    def close(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()

    # -- known divergences (for the stateful test) ----------------------------------------

    def remember(self, divergence: Divergence) -> None:
        key, paths = divergence_key(divergence)
        self.known.setdefault(key, set()).update(paths)

    def is_known(self, divergence: Divergence) -> bool:
        key, paths = divergence_key(divergence)
        seen = self.known.get(key)
        return seen is not None and paths <= seen

    # -- real path values -----------------------------------------------------------------

    def harvest(self, plan: OperationPlan) -> list[Harvest]:
        out: list[Harvest] = []
        cache: dict[str, tuple[RecordedResponse, Any]] = {}
        for param, source in plan.sources.items():
            where = f"GET {source.path}" + (f" at {source.json_path}" if source.json_path else "")
            harvest = Harvest(param=param, source=where)
            if source.path not in cache:
                self.stop.check()
                response = self.sender().get_jit(source.path)
                document: Any = None
                if response.status is not None and 200 <= response.status < 300:
                    with contextlib.suppress(ValueError, UnicodeDecodeError):
                        document = json.loads(response.body)
                cache[source.path] = (response, document)
            response, document = cache[source.path]
            if document is None:
                harvest.problem = (
                    f"GET {source.path} answered {response.status or response.error}"
                    if not (response.status and 200 <= response.status < 300)
                    else f"GET {source.path} did not answer JSON"
                )
            elif source.json_path is not None:
                harvest.values = scalar_values(select(document, source.json_path))
                if not harvest.values:
                    harvest.problem = f"nothing at {source.json_path} in GET {source.path}"
            else:
                found = harvest_field(document, param)
                if found is None:
                    harvest.problem = f"no field like {param!r} in the items of GET {source.path}"
                else:
                    json_path, harvest.values = found
                    harvest.source = f"GET {source.path} at {json_path}"
            out.append(harvest)
        return out

    # -- the generated tests --------------------------------------------------------------

    def pairs(self, item: pytest.Item, result: ItemResult, origin: str) -> Pairs:
        return Pairs(self, item, result, origin)

    # -- keeping the builds' data in step ---------------------------------------------------

    def _delete_patterns(self) -> list[re.Pattern[str]]:
        if self._deletes is None:
            from pytest_aotparity.generate.document import operations

            self._deletes = [
                template_pattern(path)
                for method, path in operations(self.document or {})
                if method == "DELETE"
            ]
        return self._deletes

    def restore_lockstep(self, exchange: Exchange) -> int:
        """A create only some builds accepted (a bypassed validator) is deleted again where
        it was made, through the ``DELETE`` operation on the ``Location`` it answered, so
        the builds hold the same data again and the same request gets the same answers the
        next time (hypothesis re-sends it while shrinking). Returns how many were undone."""
        if exchange.request.method != "POST":
            return 0
        answers = [("jit", exchange.jit), ("aot", exchange.aot)]
        if exchange.noise is not None:
            answers.append(("noise", exchange.noise))
        created = {
            build: response
            for build, response in answers
            if response.status is not None and 200 <= response.status < 300
        }
        if not created or len(created) == len(answers):
            return 0
        sender = self.sender()
        undone = 0
        for build, response in created.items():
            location = response.header("location")
            target = sender.build(build)
            if not location or target is None:
                continue
            path = urllib.parse.urlsplit(location).path
            if not any(p.match(path) for p in self._delete_patterns()):
                continue
            answer = sender.send_one(target, RecordedRequest(method="DELETE", path=path))
            if answer.status is not None and 200 <= answer.status < 300:
                undone += 1
        return undone

    # -- the generated tests --------------------------------------------------------------

    def run_operation(self, item: pytest.Item, plan: OperationPlan) -> ItemResult:
        """Earlier divergences, boundary cases, hypothesis' search, then its shrinking.

        0. the requests this test reported on earlier runs (kept in hypothesis' example
           database, :mod:`~pytest_aotparity.generate.store`), each sent once;
        1. schemathesis' coverage cases of the operation (each constraint violated once at
           its edge, valid boundary values), with real path values, each sent once;
        2. the search (:meth:`explore`): valid and invalid requests schemathesis draws,
           the whole example budget, the first request of each kind of divergence not
           shown already kept;
        3. the shrinking: hypothesis draws variants of every diverging request (members
           the schema does not require dropped; the drawn requests' values simplified too)
           and shrinks them to the smallest that still diverges — one per category. A kind
           of divergence no variant showed again is reported as it was sent.
        """
        from pytest_aotparity.generate.cases import (
            case_to_request,
            iter_coverage_cases,
            mode_name,
            request_signature,
            severity,
            trimmed_variants,
            with_real_values,
            with_real_values_cycled,
        )
        from pytest_aotparity.generate.plan import required_body_members
        from pytest_aotparity.generate.store import DivergentRequests, example_database

        result = ItemResult()
        result.harvests = self.harvest(plan)
        values = {h.param: h.values for h in result.harvests if h.values}
        operation = self.operation(plan)
        pairs = self.pairs(item, result, "generated")
        store = DivergentRequests(example_database(), item.nodeid)

        seeds: list[Any] = []  # diverging requests to shrink, in the order shrinking prefers
        modes: dict[int, str] = {}  # stored requests' modes (a rebuilt case has none)
        shown: dict[tuple[object, ...], Divergence] = {}
        not_to_keep: set[Signature] = set()  # stored already, or a boundary case
        for raw, case, mode in store.load(operation):
            request = case_to_request(case)
            not_to_keep.add(request_signature(request))
            _, divergence = pairs.send(request, mode, "replay")
            result.replayed += 1
            if divergence is None:  # fixed since
                store.drop(raw)
                continue
            modes[id(case)] = mode
            seeds.append(case)
            shown.setdefault(divergence_kind(divergence), divergence)

        # Boundary cases go out as schemathesis makes them, one ahead; what diverged is
        # then ordered least severe first, as shrinking prefers.
        judged: list[tuple[Any, Divergence | None] | None] = []
        with OneAhead(pairs) as ahead:
            for case in with_real_values_cycled(iter_coverage_cases(operation), values):
                request = case_to_request(case)
                judged.append(ahead.send(request, mode_name(case), "boundary", (case, request)))
            judged.append(ahead.settle())
        boundary = [(tag, divergence) for tag, divergence in filter(None, judged)]
        result.boundary = len(boundary)
        diverging = [(case, request, d) for (case, request), d in boundary if d is not None]
        for case, request, divergence in sorted(diverging, key=lambda d: severity(d[0])):
            not_to_keep.add(request_signature(request))
            seeds.append(case)
            shown.setdefault(divergence_kind(divergence), divergence)
        from_schema = len(seeds)

        try:
            explored = self.explore(operation, values, pairs, set(shown), item.nodeid.encode())
        except unittest.SkipTest as exc:  # e.g. a hypothesis profile without the generate phase
            explored = []
            result.notes.append(f"hypothesis drew no requests ({exc}); the boundary cases ran")
        seeds.extend(case for case, _ in explored)

        failures: list[GeneratedDivergence] = []
        flaky = False
        sent_cases: dict[Signature, Any] = {}
        if seeds:
            required = required_body_members(self.document or {}, plan.path, plan.method)
            variants = with_real_values(
                trimmed_variants(seeds, required, simplify=range(from_schema, len(seeds))),
                values,
            )

            def shrink(case: Any) -> None:
                request = case_to_request(case)
                sent_cases[request_signature(request)] = case
                mode = modes.get(id(case)) or mode_name(case)
                _, divergence = pairs.send(request, mode, "shrink")
                if divergence is not None:
                    raise divergence_error(divergence)

            # (a profile without the generate phase: the divergences as they were sent)
            with contextlib.suppress(unittest.SkipTest):
                failures, flaky = run_property(
                    variants,
                    shrink,
                    examples=min(self.settings.examples, max(SHRINK_EXAMPLES, 2 * len(seeds))),
                    seed=self._derived_seed("shrink"),
                    digest=item.nodeid.encode() + b"\0shrink",
                )
        result.found = finish(failures, result.observations, flaky=flaky)
        reported = {divergence_kind(found.divergence) for found in result.found}
        for kind, divergence in shown.items():
            if kind not in reported:  # no variant of it diverged so again
                result.found.append(found_as_sent(divergence, result.observations))
        categories = {found.divergence.category for found in result.found}
        for case, divergence in explored:
            if divergence.category not in categories:
                categories.add(divergence.category)
                sent_cases.setdefault(request_signature(divergence.exchange.request), case)
                result.found.append(found_as_sent(divergence, result.observations))
        for found in result.found:
            key = request_signature(found.request)
            case = sent_cases.get(key)
            if case is not None and key not in not_to_keep:
                store.keep(case, found.mode)
        for found in result.found:
            self.remember(found.divergence)
        return result

    def explore(
        self,
        operation: Any,
        values: Mapping[str, Sequence[str | int]],
        pairs: Pairs,
        known: set[tuple[object, ...]],
        digest: bytes,
    ) -> list[tuple[Any, Divergence]]:
        """Send the operation's whole example budget of requests schemathesis draws, and
        return the first request of each kind of divergence not in ``known``.

        Nothing here fails a hypothesis example: a request is judged while hypothesis
        draws the next one (the builds answer in the meantime), and that next request
        goes out only once the first is judged and the builds' data are in step again.
        What is found is shrunk afterwards, among variants (shrinking schemathesis' draws
        themselves redraws whole requests, most of which never get sent)."""
        from pytest_aotparity.generate.cases import (
            case_to_request,
            mode_name,
            operation_strategy,
            with_real_values,
        )

        strategy = with_real_values(operation_strategy(operation), values)
        found: list[tuple[Any, Divergence]] = []

        def keep(judged: tuple[Any, Divergence | None] | None) -> None:
            if judged is None:
                return
            case, divergence = judged
            if divergence is not None and divergence_kind(divergence) not in known:
                known.add(divergence_kind(divergence))
                found.append((case, divergence))

        with OneAhead(pairs) as ahead:

            def search(case: Any) -> None:
                keep(ahead.send(case_to_request(case), mode_name(case), "search", case))

            run_property(
                strategy,
                search,
                examples=self.settings.examples,
                # (always the run's seed: hypothesis' "ci" profile derandomizes otherwise,
                # and then the seed printed would not be the one used)
                seed=self.seed,
                digest=digest,
                shrink=False,
            )
            keep(ahead.settle())
        return found

    def _derived_seed(self, part: object) -> str:
        """A seed for one more hypothesis run of an item, derived from the run's seed (so
        ``--hypothesis-seed`` reproduces it too)."""
        return f"{self.seed}/{part}"

    def run_stateful(self, item: pytest.Item) -> ItemResult:
        from hypothesis import seed as apply_seed
        from hypothesis.errors import Flaky
        from hypothesis.stateful import run_state_machine_as_test

        from pytest_aotparity.generate.cases import case_to_request, valid_requests
        from pytest_aotparity.generate.stateful import (
            StatefulContext,
            build_machine,
            has_rules,
            shorten,
        )

        result = ItemResult()
        schema = self.schema()
        strategies: dict[tuple[str, str], Any] = {}
        for resource in self.resources:
            wanted = [("POST", resource.collection)]
            wanted.extend((m, resource.item) for m in resource.methods)
            for method, path in wanted:
                with contextlib.suppress(KeyError, LookupError):
                    strategies[(method, path)] = valid_requests(schema[path][method])
        pairs = self.pairs(item, result, "stateful")

        def send_step(request: RecordedRequest, rule: str) -> tuple[Exchange, Divergence | None]:
            exchange, divergence = pairs.send(request, "positive")
            if divergence is not None and self.is_known(divergence):
                result.suppressed += 1
                return exchange, None
            return exchange, divergence

        sender = self.sender()

        def cleanup(request: RecordedRequest) -> None:
            sender.send(request, origin="stateful")

        context = StatefulContext(
            resources=self.resources,
            strategies=strategies,
            send=send_step,
            to_request=case_to_request,
            cleanup=cleanup,
        )
        if not has_rules(context):
            result.notes.append("no collection with a create and an item path to use it on")
            return result
        machine = build_machine(context)
        from pytest_aotparity._compat.hypothesis import set_digest

        set_digest(machine, item.nodeid.encode())
        to_apply = self._seed_to_apply()
        if to_apply is not None:
            machine = apply_seed(to_apply)(machine)
        failures: list[GeneratedDivergence] = []
        flaky = False
        try:
            run_state_machine_as_test(
                machine,
                settings=hypothesis_settings(
                    self.settings.examples, stateful_steps=self.settings.stateful_steps
                ),
            )
        except Flaky as exc:
            # The builds answered a replayed sequence differently (state the sequences do
            # not control): shrinking stopped. Report the shortest divergent sequence seen.
            if not context.failures:
                raise
            failures = shortest_sequences(context.failures)
            flaky = True
            result.notes.append(f"shrinking was cut short: {type(exc).__name__}")
        except BaseException as exc:
            if not isinstance(exc, AssertionError | BaseExceptionGroup):
                raise
            failures, flaky = collect_failures(exc)
        if failures:
            failures = [shorten(context, failure) for failure in failures]
            if context.replays:
                result.notes.append(
                    f"{context.replays} shorter candidate sequence"
                    f"{'s' if context.replays != 1 else ''} replayed on the builds to shorten "
                    "what hypothesis found"
                )
        result.sequences = context.sequences
        if context.cleaned:
            result.notes.append(
                f"{context.cleaned} created record{'s' if context.cleaned != 1 else ''} "
                "deleted again after their sequence (on every build)"
            )
        result.found = finish(failures, result.observations, flaky=flaky)
        return result

    def run_document(self, item: pytest.Item) -> ItemResult:
        """Fetch the document from both builds and compare them (servers left out)."""
        result = ItemResult()
        location = self.location
        if location is None:
            pytest.skip(
                f"the OpenAPI document came from {self.source}, and neither build serves one at "
                + ", ".join(DEFAULT_OPENAPI_LOCATIONS)
            )
        sender = self.sender()
        request = RecordedRequest(method="GET", path=location, path_template=location)
        exchange = sender.send(request, origin="generated")
        exchange.nodeid = item.nodeid
        result.observations.note(exchange, None, 0)
        self.pairs_sent += 1
        jit, aot = exchange.jit, exchange.aot
        divergence: Divergence | None = None
        if jit.status != aot.status or jit.status is None:
            divergence = self.judge()(exchange).divergence  # a status or connection difference
        else:
            try:
                jit_doc = parse_document(jit.body, jit.content_type)
                aot_doc = parse_document(aot.body, aot.content_type)
            except DocumentError as exc:
                divergence = Divergence(
                    exchange=exchange,
                    differences=[Difference("$", DiffKind.BODY, "an OpenAPI document", str(exc))],
                    category=Category.API_DESCRIPTION_DIFFERS,
                )
            else:
                differences = diff_documents(jit_doc, aot_doc)
                if differences:
                    divergence = Divergence(
                        exchange=exchange,
                        differences=differences,
                        category=document_category(differences),
                    )
                    for change in operation_changes(jit_doc, aot_doc):
                        result.notes.append(f"{change.method} {change.path}: {change.change}")
        if divergence is not None:
            result.found = [Found(divergence=divergence)]
        return result
