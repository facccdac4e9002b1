"""Fixtures for suites that want to talk to the builds explicitly.

Most suites need none of them: with ``--aot-parity`` every httpx request to the app's base
URL is mirrored anyway. They exist for suites that take their base URL from a fixture, and
for tests that need one build only.

- ``aot_parity_base_url`` — the JIT build's base URL (also exported in the environment
  variable named by ``--aot-parity-base-url-env``, default ``AOT_PARITY_BASE_URL``);
- ``parity_client`` — an ``httpx.Client`` on that URL: each request goes to both builds, is
  compared, and the JIT response is returned;
- ``jit_client`` / ``aot_client`` — one build only, never mirrored nor compared;
- ``aot_parity`` — the targets, the id map and the divergences of the current test.

With the plugin off, each of them skips the test that asks for it (with the reason).
This module is imported when pytest loads the plugin, so it imports only pytest at import
time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from pytest_aotparity.diff.model import Divergence
    from pytest_aotparity.exchange import BuildName, Exchange
    from pytest_aotparity.run.parity import ItemParity, ParityRun
    from pytest_aotparity.targets.base import Target


def _run(request: pytest.FixtureRequest) -> ParityRun:
    from pytest_aotparity.keys import RUN_KEY

    run = request.config.stash.get(RUN_KEY, None)
    if run is None or not run.targets:
        pytest.skip(
            f"the {request.fixturename} fixture needs aot-parity: run pytest with --aot-parity "
            "and the --aot-parity-jit/--aot-parity-aot targets"
        )
    return run


class AotParity:
    """What the ``aot_parity`` fixture gives a test."""

    def __init__(self, run: ParityRun, item: pytest.Item) -> None:
        self._run = run
        self._item = item

    @property
    def targets(self) -> Mapping[BuildName, Target]:
        """The running builds by name (``jit``, ``aot`` and maybe ``noise``)."""
        return dict(self._run.targets)

    @property
    def jit_url(self) -> str:
        return self._run.targets["jit"].base_url

    @property
    def aot_url(self) -> str:
        return self._run.targets["aot"].base_url

    @property
    def noise_url(self) -> str | None:
        target = self._run.targets.get("noise")
        return target.base_url if target is not None else None

    @property
    def base_url(self) -> str:
        """The URL the suite talks to (the JIT build's)."""
        return self.jit_url

    @property
    def id_map(self) -> Mapping[str, str]:
        """JIT id → AOT id, as learned from creates so far in this run."""
        return dict(self._run.aot_ids.mapping)

    def _state(self) -> ItemParity | None:
        from pytest_aotparity.run.parity import ITEM_KEY

        return self._item.stash.get(ITEM_KEY, None)

    @property
    def mirrored(self) -> bool:
        """False when the test is marked ``@pytest.mark.aot_parity(skip=True)``."""
        state = self._state()
        return state is not None and not state.skip

    @property
    def exchanges(self) -> Sequence[Exchange]:
        """Every request this test made so far, with the answer of each build."""
        state = self._state()
        return list(state.exchanges) if state is not None else []

    @property
    def divergences(self) -> Sequence[Divergence]:
        """The divergences of this test so far (compares what is still pending). They fail
        the test at its end all the same."""
        state = self._state()
        if state is None or state.skip:
            return []
        self._run.check(state)
        return list(state.divergences)


@pytest.fixture(scope="session")
def aot_parity_base_url(request: pytest.FixtureRequest) -> str:
    """The base URL of the app under test (the JIT build; requests to it are mirrored)."""
    return _run(request).targets["jit"].base_url


@pytest.fixture
def parity_client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the app: requests go to both builds, answers are compared,
    the JIT answer is returned."""
    import httpx

    run = _run(request)
    with httpx.Client(base_url=run.targets["jit"].base_url, trust_env=False) as client:
        yield client


def _direct(request: pytest.FixtureRequest, build: BuildName) -> Iterator[httpx.Client]:
    from pytest_aotparity.transport.answers import direct_client

    run = _run(request)
    with direct_client(run.targets[build].base_url) as client:
        yield client


@pytest.fixture
def jit_client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the JIT build only: not mirrored, not compared (so a write
    through it puts the builds' data out of step)."""
    yield from _direct(request, "jit")


@pytest.fixture
def aot_client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the AOT build only: not mirrored, not compared (ids are not
    rewritten either: use the AOT build's own ids)."""
    yield from _direct(request, "aot")


@pytest.fixture
def aot_parity(request: pytest.FixtureRequest) -> AotParity:
    """Access to the targets, the id map and this test's exchanges and divergences."""
    return AotParity(_run(request), request.node)
