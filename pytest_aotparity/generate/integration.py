"""Handing generated results to the run, so they are failed, summarised and reported like
mirrored divergences.

The :class:`~pytest_aotparity.run.parity.ParityRun` keeps an
:class:`~pytest_aotparity.run.parity.ItemParity` per test (``ITEM_KEY`` on the item):
at the end of the call phase it fails the test with the divergences in it (rendered with
curl commands), and attaches the JSON records to the test report, from where the terminal
summary and ``--aot-parity-report`` take them. A generated test puts its *minimal*
divergences there (not every example that diverged while hypothesis searched and shrank),
and counts every pair it sent as compared.

Everything that touches the controller's per-test state is in this module.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import pytest

from pytest_aotparity.generate.runner import Found


def record(item: pytest.Item, found: Sequence[Found], compared: int, noise_filtered: int) -> bool:
    """Add the minimal divergences and the counts to the run's state of ``item``.

    Returns False when the run keeps no state for the item (then the caller fails the
    test itself)."""
    from pytest_aotparity.run.parity import ITEM_KEY

    state = item.stash.get(ITEM_KEY, None)
    if state is None:
        return False
    with state.lock:
        state.compared += compared
        state.noise_filtered += noise_filtered
        state.divergences.extend(f.divergence for f in found)
    return True


def annotate_records(payload: MutableMapping[str, Any], details: Sequence[dict[str, Any]]) -> None:
    """Add a ``generation`` member to the JSON records of generated divergences (in the
    order they were recorded)."""
    records = payload.get("divergences")
    if not isinstance(records, list):
        return
    mine = [
        r for r in records if isinstance(r, dict) and r.get("origin") in ("generated", "stateful")
    ]
    for record_, detail in zip(mine, details, strict=False):
        record_["generation"] = detail
