"""pytest entry point (``pytest11``) of pytest-aotparity.

Thin on purpose: it registers the options, the ini keys, the marker and the fixtures, and
when ``--aot-parity`` is on it builds the validated :class:`~pytest_aotparity.config.Settings`
and registers a :class:`~pytest_aotparity.run.parity.ParityRun` that does the work.
With the plugin off nothing else is imported, no hook does anything and no target starts.

pytest-xdist: the controller starts no target; every worker starts its own jit/aot (and
noise) builds, so each worker's suite has databases of its own. Results travel to the
controller on the test reports and are summarised (and written to the JSON report) there.
"""

from __future__ import annotations

import pytest

from pytest_aotparity.config import MARKER_DOC, Settings, add_options, read_settings
from pytest_aotparity.fixtures import (
    aot_client,
    aot_parity,
    aot_parity_base_url,
    jit_client,
    parity_client,
)
from pytest_aotparity.generate.options import add_generate_options
from pytest_aotparity.keys import RUN_KEY, RUN_PLUGIN_NAME, SETTINGS_KEY
from pytest_aotparity.report.verdict import add_verdict_options

__all__ = [
    "RUN_KEY",
    "SETTINGS_KEY",
    "aot_client",
    "aot_parity",
    "aot_parity_base_url",
    "jit_client",
    "parity_client",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_verdict_options(parser)  # aot-parity verdict: --aot-parity-html/-warnings/-baseline
    # -- generated tests (pytest_aotparity.generate): their options and hook ---------------
    add_generate_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_aotparity.generate import hookspecs

    pluginmanager.add_hookspecs(hookspecs)
    # -- end of generated tests -------------------------------------------------------------


def _help_or_version(config: pytest.Config) -> bool:
    option = config.option
    return bool(getattr(option, "help", False) or getattr(option, "version", False))


def _runs_no_tests(config: pytest.Config) -> bool:
    """Runs that only list something: settings are checked, but no target starts."""
    option = config.option
    return bool(
        getattr(option, "showfixtures", False)
        or getattr(option, "show_fixtures_per_test", False)
        or getattr(option, "markers", False)
        or getattr(option, "collectonly", False)
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    if _help_or_version(config):
        config.stash[SETTINGS_KEY] = Settings(enabled=False)
        return
    settings = read_settings(config)
    config.stash[SETTINGS_KEY] = settings
    if not settings.enabled:
        return
    from pytest_aotparity.generate.hooks import configure as configure_generation
    from pytest_aotparity.run.parity import ParityRun

    # The run exists whenever the plugin is on; a run that only lists starts nothing
    # unless listing needs it (the generated tests' document).
    run = ParityRun(config, settings, listing=_runs_no_tests(config))
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(run, RUN_PLUGIN_NAME)
    configure_generation(config, run)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    try:
        run.shutdown()
    finally:
        del config.stash[RUN_KEY]
        if config.pluginmanager.is_registered(run):
            config.pluginmanager.unregister(run)
