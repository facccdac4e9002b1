"""The plugin's typed state on ``config.stash``.

Its own module, imported by the entry module and by every layer that needs the run, so
nothing imports the entry module back (no import circle through :mod:`pytest_aotparity.plugin`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_aotparity.config import Settings
    from pytest_aotparity.run.parity import ParityRun

SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()
RUN_KEY: pytest.StashKey[ParityRun] = pytest.StashKey()
RUN_PLUGIN_NAME = "aotparity-run"
