"""Stateful parity: create → read → update → delete sequences, run in lockstep on both builds.

Some divergences need a prior write: an update the AOT build maps wrongly answers 204 like
the JIT build, and only the next read shows the field that was not updated. A
:class:`hypothesis.stateful.RuleBasedStateMachine` is derived from the document
(:func:`~pytest_aotparity.generate.plan.resources`): per collection a *create* rule (``POST
/players``) whose key — taken from the ``Location`` header, the answer or the request body —
goes into a bundle, and *read*, *update* and *delete* rules (``GET``/``PUT``/``PATCH``/
``DELETE /players/{squadNumber}``) that draw keys from it. Each step goes to both builds
(ids mapped as for the mirrored suite) and is judged; hypothesis shrinks a divergent
sequence to the shortest one that still diverges.

Divergences a single request already shows (the generated test of that operation reported
them earlier in the session) do not fail the sequence: the stateful test is about what
only a sequence reveals.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_aotparity.diff.model import Divergence
from pytest_aotparity.exchange import Exchange, RecordedRequest
from pytest_aotparity.generate.plan import Resource
from pytest_aotparity.generate.runner import GeneratedDivergence, Step, divergence_error
from pytest_aotparity.generate.values import field_candidates, normalise_name

SendFn = Callable[[RecordedRequest, str], tuple[Exchange, Divergence | None]]
"""``send(request, rule)`` → the exchange and its divergence (None: same, or known)."""


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _field(document: Any, param: str) -> str | None:
    if not isinstance(document, Mapping):
        return None
    for candidate in field_candidates(param):
        for key, value in document.items():
            if normalise_name(str(key)) != candidate:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int):
                continue
            return str(value)
    return None


def item_path(resource: Resource, key: str) -> str:
    """The path of one item of ``resource``."""
    return resource.item.replace("{" + resource.param + "}", urllib.parse.quote(str(key), safe=""))


def created_key(resource: Resource, exchange: Exchange) -> str | None:
    """The key of what a create made on the JIT build: from the ``Location`` header if it
    names an item of the collection, else the matching field of the answer, else of the
    request body."""
    location = exchange.jit.header("location")
    if location:
        path = urllib.parse.urlsplit(location).path
        base = resource.collection.rstrip("/")
        match = re.fullmatch(re.escape(base) + r"/([^/]+)/?", path)
        if match is None:
            match = re.search(re.escape(base) + r"/([^/]+)/?$", path)
        if match is not None:
            return urllib.parse.unquote(match.group(1))
    if exchange.jit.status is not None and exchange.jit.status < 300:
        key = _field(_json(exchange.jit.body), resource.param)
        if key is not None:
            return key
    return _field(_json(exchange.request.body), resource.param)


@dataclass
class StatefulContext:
    """What the generated machine needs from the run."""

    resources: Sequence[Resource]
    strategies: Mapping[tuple[str, str], Any]
    """``(METHOD, template)`` → hypothesis strategy of schemathesis cases (positive)."""
    send: SendFn
    to_request: Callable[[Any], RecordedRequest]
    cleanup: Callable[[RecordedRequest], None]
    """Sends a request to every build without judging it (teardown deletes)."""
    sequences: int = 0
    longest: int = 0
    steps_run: int = 0
    skipped_steps: int = 0
    cleaned: int = 0
    replays: int = 0
    """Candidate sequences :func:`shorten` sent again."""
    failures: list[tuple[list[Step], Divergence]] = field(default_factory=list)
    """Every divergent sequence seen, in order (the fallback when shrinking is cut short)."""


def build_machine(context: StatefulContext) -> type[Any]:
    """A RuleBasedStateMachine subclass with create/read/update/delete rules per resource."""
    from hypothesis.stateful import (
        Bundle,
        RuleBasedStateMachine,
        consumes,
        rule,
    )

    def run_step(machine: Any, request: RecordedRequest, rule_name: str) -> Exchange:
        exchange, divergence = context.send(request, rule_name)
        context.steps_run += 1
        step = Step(
            request=exchange.request,
            aot_request=exchange.aot_request,
            jit_status=exchange.jit.status,
            aot_status=exchange.aot.status,
            rule=rule_name,
        )
        machine.steps.append(step)
        context.longest = max(context.longest, len(machine.steps))
        if divergence is not None:
            context.failures.append((list(machine.steps), divergence))
            raise divergence_error(divergence, machine.steps)
        return exchange

    def addressed(case: Any, resource: Resource, key: str) -> RecordedRequest:
        case = case.derive()  # drawn cases may be shared (sampled from a list)
        case.path_parameters[resource.param] = urllib.parse.quote(str(key), safe="")
        return context.to_request(case)

    def read_back(machine: Any, resource: Resource, key: str, status: int | None) -> None:
        """Every successful write is followed by a read of what it wrote: an update the
        AOT build applied wrongly answers like the JIT build and shows on the next read."""
        if "GET" not in resource.methods or status is None or not 200 <= status < 300:
            return
        request = RecordedRequest(
            method="GET",
            path=item_path(resource, key),
            headers=(("Accept", "application/json"),),
            path_template=resource.item,
        )
        run_step(machine, request, f"read {resource.item}")

    attrs: dict[str, Any] = {}

    def init(self: Any) -> None:
        RuleBasedStateMachine.__init__(self)
        self.steps = []
        # Keys this sequence created on the JIT build (and not deleted yet), per resource.
        # Only those are read, updated and deleted: a key whose create failed names
        # nothing, or something an earlier sequence left behind — using it would make a
        # sequence's outcome depend on the sequences before it, and shrinking unreliable.
        self.owned = {}
        context.sequences += 1

    def teardown(self: Any) -> None:
        # Delete what this sequence created, on every build, so the next sequence (and the
        # replays while shrinking) start from the same data.
        for (res_index, key), live in list(self.owned.items()):
            resource = context.resources[res_index]
            if not live or "DELETE" not in resource.methods:
                continue
            path = item_path(resource, key)
            context.cleanup(
                RecordedRequest(method="DELETE", path=path, path_template=resource.item)
            )
            context.cleaned += 1
        self.owned = {}

    attrs["__init__"] = init
    attrs["teardown"] = teardown

    for index, resource in enumerate(context.resources):
        bundle = Bundle(f"{resource.name}_{index}")
        create_strategy = context.strategies.get(("POST", resource.collection))
        if create_strategy is None:
            continue

        def make_create(res: Resource, res_index: int) -> Callable[..., Any]:
            def create(self: Any, case: Any) -> Any:
                label = f"create {res.collection}"
                exchange = run_step(self, context.to_request(case), label)
                key = created_key(res, exchange)
                status = exchange.jit.status
                if key is None:
                    key = f"not-created-{len(self.steps)}"
                else:
                    self.steps[-1] = dataclasses.replace(self.steps[-1], key=key)
                    if status is not None and 200 <= status < 300:
                        self.owned[(res_index, key)] = True
                        read_back(self, res, key, status)
                # Always a key: what the bundle holds must not depend on the answers.
                return key

            create.__name__ = f"create_{res.name}"
            return create

        attrs[f"create_{resource.name}_{index}"] = rule(target=bundle, case=create_strategy)(
            make_create(resource, index)
        )
        for method, verb in (("GET", "read"), ("PUT", "update"), ("PATCH", "patch")):
            strategy = context.strategies.get((method, resource.item))
            if method not in resource.methods or strategy is None:
                continue

            def make_use(res: Resource, res_index: int, verb: str) -> Callable[..., Any]:
                def use(self: Any, key: str, case: Any) -> None:
                    if not self.owned.get((res_index, key)):
                        context.skipped_steps += 1
                        return
                    exchange = run_step(self, addressed(case, res, key), f"{verb} {res.item}")
                    if verb != "read":
                        read_back(self, res, key, exchange.jit.status)

                use.__name__ = f"{verb}_{res.name}"
                return use

            attrs[f"{verb}_{resource.name}_{index}"] = rule(key=bundle, case=strategy)(
                make_use(resource, index, verb)
            )
        delete_strategy = context.strategies.get(("DELETE", resource.item))
        if "DELETE" in resource.methods and delete_strategy is not None:

            def make_delete(res: Resource, res_index: int) -> Callable[..., Any]:
                def delete(self: Any, key: str, case: Any) -> None:
                    if not self.owned.get((res_index, key)):
                        context.skipped_steps += 1
                        return
                    self.owned[(res_index, key)] = False
                    run_step(self, addressed(case, res, key), f"delete {res.item}")

                delete.__name__ = f"delete_{res.name}"
                return delete

            attrs[f"delete_{resource.name}_{index}"] = rule(
                key=consumes(bundle), case=delete_strategy
            )(make_delete(resource, index))

    return type("ParityStateMachine", (RuleBasedStateMachine,), attrs)


def has_rules(context: StatefulContext) -> bool:
    """Whether some resource has both a create and something to do with what it made."""
    for resource in context.resources:
        if ("POST", resource.collection) not in context.strategies:
            continue
        if any((m, resource.item) in context.strategies for m in resource.methods):
            return True
    return False


# -- shortening a divergent sequence ------------------------------------------------------

MAX_REPLAYS = 120
"""How many shorter candidates :func:`shorten` replays at most, per divergent sequence."""


def _creating_resource(context: StatefulContext, step: Step) -> Resource | None:
    if step.request.method != "POST":
        return None
    template = step.request.path_template or step.request.path
    for resource in context.resources:
        if resource.collection == template:
            return resource
    return None


def _rename(request: RecordedRequest, renamed: Mapping[str, str]) -> RecordedRequest:
    """The request with every path segment that named an earlier key naming its new one."""
    if not renamed:
        return request
    quoted = {
        urllib.parse.quote(old, safe=""): urllib.parse.quote(new, safe="")
        for old, new in renamed.items()
    }
    segments = request.path.split("?", 1)
    parts = [quoted.get(part, part) for part in segments[0].split("/")]
    path = "/".join(parts) + (f"?{segments[1]}" if len(segments) > 1 else "")
    return request if path == request.path else dataclasses.replace(request, path=path)


def replay(context: StatefulContext, steps: Sequence[Step]) -> tuple[list[Step], Divergence | None]:
    """Send ``steps`` again, in order, to every build; stop at the first divergence.

    A create makes a new key (a generated id differs from the one the sequence first got):
    later steps that named the old key are sent with the new one. What the replay created and
    did not delete is deleted again afterwards, on every build, like a sequence's teardown.
    """
    renamed: dict[str, str] = {}
    live: dict[tuple[int, str], bool] = {}
    done: list[Step] = []
    try:
        for step in steps:
            request = _rename(step.request, renamed)
            exchange, divergence = context.send(request, step.rule)
            key: str | None = None
            resource = _creating_resource(context, step)
            status = exchange.jit.status
            if resource is not None and status is not None and 200 <= status < 300:
                key = created_key(resource, exchange)
                if key is not None:
                    if step.key is not None and step.key != key:
                        renamed[step.key] = key
                    live[(context.resources.index(resource), key)] = True
            elif request.method == "DELETE" and status is not None and 200 <= status < 300:
                for res_index, owned in list(live):
                    if item_path(context.resources[res_index], owned) == request.path:
                        live[(res_index, owned)] = False
            done.append(
                Step(
                    request=exchange.request,
                    aot_request=exchange.aot_request,
                    jit_status=exchange.jit.status,
                    aot_status=exchange.aot.status,
                    rule=step.rule,
                    key=key,
                )
            )
            if divergence is not None:
                return done, divergence
        return done, None
    finally:
        for (res_index, key), alive in live.items():
            if not alive:
                continue
            resource = context.resources[res_index]
            if "DELETE" not in resource.methods:
                continue
            context.cleanup(
                RecordedRequest(
                    method="DELETE", path=item_path(resource, key), path_template=resource.item
                )
            )
            context.cleaned += 1


def shorten(context: StatefulContext, failure: GeneratedDivergence) -> GeneratedDivergence:
    """A shorter sequence that still ends in a divergence of the same category, if there is one.

    Hypothesis shrinks a sequence step by step, and cannot drop a create and the delete that
    freed its key for a later create together (without the delete the later create conflicts;
    without the create the delete has nothing to delete): such pairs stay in its minimal
    sequence. Here every contiguous run of steps before the divergent one is tried without,
    longest runs first, by replaying the rest on the builds; the first candidate that still
    diverges (at any step) becomes the sequence, and the search starts again from it.
    """
    steps = list(failure.steps)
    divergence = failure.divergence
    category = divergence.category
    replays = 0
    improved = True
    while improved and len(steps) > 1 and replays < MAX_REPLAYS:
        improved = False
        prefix = len(steps) - 1
        for size in range(prefix, 0, -1):
            for start in range(prefix - size + 1):
                if replays >= MAX_REPLAYS:
                    break
                candidate = steps[:start] + steps[start + size :]
                replays += 1
                sent, found = replay(context, candidate)
                if found is not None and found.category == category:
                    steps, divergence, improved = sent, found, True
                    break
            if improved or replays >= MAX_REPLAYS:
                break
    context.replays += replays
    if len(steps) == len(failure.steps):
        return failure
    return divergence_error(divergence, steps)
