"""The generated test items: ``aot-parity::openapi-document``, one ``aot-parity::METHOD /path``
per operation, and ``aot-parity::stateful``.

They are ordinary pytest items: listed by ``--collect-only``, selected with ``-k`` (by
method, path words, operationId or tag), reported like any test.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aotparity.generate.integration import record
from pytest_aotparity.generate.runner import Found, body_text

if TYPE_CHECKING:
    from pytest_aotparity.exchange import RecordedRequest
    from pytest_aotparity.generate.plan import OperationPlan
    from pytest_aotparity.generate.session import GenerationContext, ItemResult

COLLECTOR_NAME = "aot-parity"

CurlFn = Callable[["RecordedRequest", str, Collection[str]], str]


class OpenApiTests(pytest.Collector):
    """The generated parity tests of one OpenAPI document."""

    def __init__(self, *, source: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.generated: list[pytest.Item] = []

    def collect(self) -> list[pytest.Item]:
        return list(self.generated)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"generated from {self.source}"


class GeneratedTest(pytest.Item):
    """Base of the generated items: reset hook, recording, failure text."""

    kind = "generated"

    def __init__(self, *, context: GenerationContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.result: ItemResult | None = None

    def setup(self) -> None:
        self.config.hook.pytest_aotparity_reset(targets=dict(self.context.targets()), item=self)

    def execute(self) -> ItemResult:
        raise NotImplementedError

    def runtest(self) -> None:
        from pytest_aotparity.generate.stack import on_fresh_stack

        # (why a thread: pytest_aotparity.generate.stack)
        stop = self.context.stop
        result = on_fresh_stack(self.execute, name=f"aot-parity {self.name}", stop=stop)
        self.result = result
        observations = result.observations
        recorded = record(self, result.found, observations.sent, observations.noise_cancelled)
        if not recorded and result.found:
            pytest.fail(self.describe(), pytrace=False)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{COLLECTOR_NAME}: {self.name}"

    # -- what the failure shows besides the rendered divergence -------------------------

    def describe(self) -> str:
        result = self.result
        if result is None:
            return ""
        context = self.context
        observations = result.observations
        lines: list[str] = []
        if self.kind == "document":
            lines.append(
                f"the OpenAPI documents of the two builds differ ({context.location}; server "
                "URLs are not compared)"
            )
        else:
            seed = context.seed
            what = (
                f"{result.sequences} sequence{'s' if result.sequences != 1 else ''}, "
                if self.kind == "stateful"
                else ""
            )
            boundary = (
                f"{result.boundary} boundary cases from the schema, then hypothesis; "
                if result.boundary
                else ""
            )
            if result.replayed:
                boundary = (
                    f"first {result.replayed} that diverged on an earlier run (kept in "
                    f"hypothesis' example database), {boundary or 'then hypothesis; '}"
                )
            lines.append(
                f"generated: {what}{observations.sent} request pair"
                f"{'s' if observations.sent != 1 else ''} sent to both builds ({boundary}"
                f"{observations.positive} valid, {observations.negative} invalid); "
                f"hypothesis seed {seed}: rerun with --hypothesis-seed={seed} (with the builds "
                "in the same state) to send the same requests"
            )
        lines.extend(h.describe() for h in result.harvests)
        lines.extend(result.notes)
        if result.undone:
            lines.append(
                f"{result.undone} create{'s' if result.undone != 1 else ''} only some builds "
                "accepted deleted again where they were made (so both hold the same data)"
            )
        if result.suppressed:
            lines.append(
                f"{result.suppressed} divergent step{'s' if result.suppressed != 1 else ''} "
                "not reported here: the generated test of the same operation already showed "
                "them with a single request"
            )
        for number, found in enumerate(result.found, 1):
            lines.append("")
            lines.extend(self.describe_found(number, found))
        return "\n".join(lines)

    def describe_found(self, number: int, found: Found) -> list[str]:
        request = found.request
        label = f"{request.method} {request.path}"
        if self.kind == "document":
            return [f"[{number}] {label}"]
        lines = []
        if found.steps:
            lines.append(
                f"[{number}] shortest sequence found ({len(found.steps)} step"
                f"{'s' if len(found.steps) != 1 else ''}), the last one diverged:"
            )
            lines.extend(self.describe_steps(found.steps))
        else:
            mode = "valid" if found.mode == "positive" else "invalid (violates the schema)"
            lines.append(f"[{number}] minimal request, {mode}: {label}")
            body = body_text(request.body)
            if body is not None:
                lines.append(f"    body: {body}")
            if found.times_sent > 1:
                lines.append(
                    f"    sent {found.times_sent} times while searching and shrinking"
                    + (
                        "; the answers shown are the first ones (later sends met builds this "
                        "request had already changed)"
                        if found.replaced_by_first
                        else ""
                    )
                )
        if found.flaky:
            lines.append(
                "    flaky: replaying it did not diverge again; the divergence depends on "
                "more than this request (state, timing)"
            )
        return lines

    def describe_steps(self, steps: Sequence[Any]) -> list[str]:
        curl = _curl()
        targets = self.context.targets()
        jit_url = targets["jit"].base_url if "jit" in targets else ""
        aot_url = targets["aot"].base_url if "aot" in targets else ""
        redact = self.context.run.redact
        lines = []
        for index, step in enumerate(steps, 1):
            body = body_text(step.request.body)
            shown = f" {body}" if body else ""
            lines.append(
                f"  {index}. {step.request.method} {step.request.path}{shown}  → jit "
                f"{step.jit_status}, aot {step.aot_status}"
            )
        if curl is not None:
            lines.append("  reproduce on the jit build:")
            lines.extend(f"    {curl(s.request, jit_url, redact)}" for s in steps)
            lines.append("  reproduce on the aot build:")
            lines.extend(f"    {curl(s.aot_request or s.request, aot_url, redact)}" for s in steps)
        return lines

    def details(self) -> list[dict[str, Any]]:
        """The ``generation`` member of each JSON record this item produced."""
        result = self.result
        if result is None:
            return []
        out = []
        for found in result.found:
            detail: dict[str, Any] = {
                "test": self.kind,
                "requests_sent": result.observations.sent,
                "flaky": found.flaky,
            }
            if self.kind != "document":
                detail.update(
                    {
                        "seed": self.context.seed,
                        "examples": self.context.settings.examples,
                        "mode": found.mode,
                        "times_sent": found.times_sent,
                        "first_answers": found.replaced_by_first,
                    }
                )
            if found.steps:
                detail["sequence"] = [step.record() for step in found.steps]
            out.append(detail)
        return out


def _curl() -> CurlFn | None:
    try:
        from pytest_aotparity.diff.render import curl_command
    except ImportError:  # pragma: no cover - the render module ships with the package
        return None
    fn: CurlFn = curl_command
    return fn


class DocumentTest(GeneratedTest):
    """The JIT build's OpenAPI document against the AOT build's."""

    kind = "document"

    def execute(self) -> ItemResult:
        return self.context.run_document(self)


class OperationTest(GeneratedTest):
    """Generated requests to one operation, each sent to both builds."""

    kind = "operation"

    def __init__(self, *, plan: OperationPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        words = {plan.method, plan.method.lower()}
        if plan.operation_id:
            words.add(plan.operation_id)
        words.update(plan.tags)
        self.extra_keyword_matches.update(words)

    def execute(self) -> ItemResult:
        return self.context.run_operation(self, self.plan)


class StatefulTest(GeneratedTest):
    """Create → read → update → delete sequences, in lockstep on both builds."""

    kind = "stateful"

    def execute(self) -> ItemResult:
        return self.context.run_stateful(self)
