"""Hooks the generated tests call (registered by :mod:`pytest_aotparity.plugin`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest


@pytest.hookspec
def pytest_aotparity_reset(targets: Mapping[str, Any], item: pytest.Item) -> None:
    """Called before each generated parity test (every operation, the stateful sequence)
    with the running builds (``{"jit": target, "aot": target, "noise": ...}``, each with a
    ``base_url``) and the test item.

    Generated writes change the builds' databases — the same writes in the same order on
    both, so they stay comparable — but a suite may want each generated test to start from
    a known state. Implement this hook in ``conftest.py`` to reset it: call a test-only
    reset endpoint on every build, or truncate the database. Requests made here with httpx
    to the JIT build's base URL are mirrored to the others like any suite request; use
    ``target.base_url`` of each build to address them one by one.
    """
