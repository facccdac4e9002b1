"""hypothesis internals.

- ``hypothesis.core.global_force_seed``: the seed ``--hypothesis-seed`` forces; hypothesis
  has no public way to read it, and the plugin prints and applies the run's seed.
- ``_hypothesis_internal_add_digest``: the attribute hypothesis reads to tell apart tests
  that share one function (every generated test runs the same inner function); without it
  they would share example-database keys.
"""

from __future__ import annotations

from typing import Any

DIGEST_ATTRIBUTE = "_hypothesis_internal_add_digest"


def forced_seed() -> Any | None:
    """The seed given with ``--hypothesis-seed``, or None."""
    from hypothesis import core

    return core.global_force_seed


def set_digest(test: Any, digest: bytes) -> None:
    """Tell hypothesis that ``test`` (a ``@given`` function's inner test or a state machine
    class) is its own test, with ``digest``."""
    setattr(test, DIGEST_ATTRIBUTE, digest)
