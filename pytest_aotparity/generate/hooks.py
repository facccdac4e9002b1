"""The generation plugin object: registered by :mod:`pytest_aotparity.plugin` when
``--aot-parity`` is on, it adds the generated items at collection and decorates their
reports.

Only this module's :func:`configure` is called from the entry point; it imports nothing
heavy (hypothesis and schemathesis load when the generated tests are about to run).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aotparity.generate.options import GenerateSettings, read_generate_settings

if TYPE_CHECKING:
    from pytest_aotparity.run.parity import ParityRun

PLUGIN_NAME = "aotparity-generate"


def configure(config: pytest.Config, run: ParityRun) -> None:
    """Read the generation settings (UsageError if bad) and register the plugin object."""
    settings = read_generate_settings(config)
    if not settings.enabled:
        return
    plugin = GenerationPlugin(config, run, settings)
    config.pluginmanager.register(plugin, PLUGIN_NAME)


def _selected_by_node_id(config: pytest.Config) -> bool:
    return any("::" in str(arg) for arg in config.args)


class GenerationPlugin:
    """See the module docstring."""

    def __init__(self, config: pytest.Config, run: ParityRun, settings: GenerateSettings) -> None:
        from pytest_aotparity.generate.session import GenerationContext

        self.config = config
        self.settings = settings
        self.context = GenerationContext(config, run, settings)
        self.collected = 0
        self.note: str | None = None

    # -- collection -----------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if _selected_by_node_id(config):
            self.note = "generated tests left out: tests were selected by node id"
            return
        option = config.option
        if getattr(option, "showfixtures", False) or getattr(
            option, "show_fixtures_per_test", False
        ):
            return
        context = self.context
        run = context.run
        started = False
        try:
            if not run.targets:
                if not getattr(option, "collectonly", False):
                    return  # the run started no build (xdist controller): nothing to do
                if self.settings.openapi_file is None:
                    started = run.start_jit_alone(
                        "to read the OpenAPI document for the generated tests; give the "
                        "document as a file with --aot-parity-openapi, or use "
                        "--aot-parity-no-generate."
                    )
            context.load(fetch=bool(run.targets))
        finally:
            if started:
                run.stop_jit_alone()
        if context.document is None:
            self.note = f"no generated tests: {context.problem}"
            return
        items.extend(self._items(session))

    def _items(self, session: pytest.Session) -> list[pytest.Item]:
        from pytest_aotparity.generate.items import (
            COLLECTOR_NAME,
            DocumentTest,
            OpenApiTests,
            OperationTest,
            StatefulTest,
        )
        from pytest_aotparity.generate.session import (
            DOCUMENT_ITEM,
            STATEFUL_ITEM,
        )

        context = self.context
        collector = OpenApiTests.from_parent(
            session, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME, source=context.source
        )
        made: list[pytest.Item] = []
        if context.location is not None or context.settings.openapi_file is not None:
            made.append(DocumentTest.from_parent(collector, name=DOCUMENT_ITEM, context=context))
        for plan in context.plans:
            made.append(
                OperationTest.from_parent(collector, name=plan.label, context=context, plan=plan)
            )
        if context.resources:
            made.append(StatefulTest.from_parent(collector, name=STATEFUL_ITEM, context=context))
        collector.generated = made
        self.collected = len(made)
        # Counted like collected files' items ("collected N items", --collect-only).
        session.ihook.pytest_collectreport(
            report=pytest.CollectReport(collector.nodeid, "passed", None, list(made))
        )
        return made

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Build the schemathesis schema (and import what generation needs) before the first
        test runs, when generated tests are about to: otherwise the first generated test's
        duration would be mostly that. A document schemathesis cannot load is left for
        that test to report."""
        if session.config.option.collectonly or self.context.document is None:
            return
        from pytest_aotparity.generate.items import OperationTest, StatefulTest

        if any(isinstance(item, OperationTest | StatefulTest) for item in session.items):
            with contextlib.suppress(Exception):
                self.context.schema()

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        if self.note is not None:
            return [f"aot-parity: {self.note}"]
        if not self.collected:
            return []
        context = self.context
        parts = [f"{len(context.plans)} operations"]
        if context.resources:
            parts.append("stateful")
        if context.location is not None:
            parts.append("openapi-document")
        return [
            f"aot-parity: {self.collected} generated tests from {context.source} "
            f"({', '.join(parts)}); {self.settings.examples} examples each"
            + (", safe methods only" if self.settings.safe_only else "")
            + f"; hypothesis seed {context.seed}"
        ]

    # -- reports --------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        from pytest_aotparity.generate.items import GeneratedTest

        if call.when != "call" or not isinstance(item, GeneratedTest) or item.result is None:
            return report
        from pytest_aotparity.generate.integration import annotate_records

        payload: Any = getattr(report, "aot_parity", None)
        if isinstance(payload, dict):
            annotate_records(payload, item.details())
        if report.failed and item.result.found:
            text = item.describe()
            addsection = getattr(report.longrepr, "addsection", None)
            title = "aot-parity: how the generated requests were found"
            if callable(addsection):
                addsection(title, text)
            else:
                report.sections.append((title, text))
        return report

    # -- end ------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.context.close()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.context.close()
