"""The one judge: an exchange (the JIT, AOT and noise answers to one request) in, a
divergence or nothing out.

Every request source (the mirrored suite, generated requests, stateful sequences, the
OpenAPI document check) hands its exchanges here; none compares on its own. The judge
applies the run's rules (or a test's, refined by its marker), maps the ids the transport
learned, cancels the noise the run has seen on the endpoint so far and categorises what
remains. Ids are learned by the transport when the answers arrive, not here: a suite's next
request needs them before its test ends, which is when mirrored exchanges are judged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from pytest_aotparity.endpoints import endpoint_of

if TYPE_CHECKING:
    from pytest_aotparity.diff.compare import CompareRules, NoiseMemory
    from pytest_aotparity.diff.model import Divergence
    from pytest_aotparity.exchange import Exchange
    from pytest_aotparity.transport.idmap import IdMap


class Judgement(NamedTuple):
    divergence: Divergence | None
    noise_cancelled: int
    """Differences a noise answer (or the endpoint's noise seen before) explained."""


NO_DIFFERENCE = Judgement(None, 0)


class Judge:
    """Judges exchanges under base rules, one noise memory and one id map for the run."""

    def __init__(self, rules: CompareRules, *, memory: NoiseMemory, ids: IdMap) -> None:
        self.rules = rules
        self.memory = memory
        self._ids = ids
        """JIT id → AOT id: the transport teaches it as creates are answered."""

    def __call__(self, exchange: Exchange, rules: CompareRules | None = None) -> Judgement:
        from pytest_aotparity.diff.compare import compare

        rules = rules or self.rules
        if _byte_identical(exchange, rules.compared_headers):
            return NO_DIFFERENCE
        comparison = compare(
            exchange,
            rules,
            id_map=self._ids.mapping,
            memory=self.memory,
            endpoint=endpoint_of(exchange),
        )
        noise = len(comparison.cancelled)
        if comparison.diverged:
            return Judgement(comparison.divergence(exchange), noise)
        return Judgement(None, noise)


def _byte_identical(exchange: Exchange, headers: tuple[str, ...]) -> bool:
    """Byte-identical answers need no diff (the common case, and the cheap one)."""
    jit, aot = exchange.jit, exchange.aot
    if jit.status is None or jit.status != aot.status or jit.body != aot.body:
        return False
    return all(jit.header(name) == aot.header(name) for name in headers)
