"""schemathesis names outside its documented API.

- ``schemathesis.core.parameters.ParameterLocation``: where a case's negative value is
  (``case.meta.is_negative_at``): a violated path parameter must not be replaced.
- ``schemathesis.core.NotSet``: the body of a case that has none.
- ``case.meta.generation.mode``, ``case.meta.phase.data.scenario``: how a case was made
  (positive or negative; which constraint a coverage case violates).
- ``schema.config.generation_for`` and ``schema.iter_coverage_cases``: the coverage phase's
  cases for one operation, outside a schemathesis test run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def mode_value(case: Any) -> str | None:
    """``positive`` or ``negative``: how the case was generated (None when unknown)."""
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    value = getattr(mode, "value", None)
    return str(value) if value else None


def negative_at_path(case: Any) -> bool:
    """Whether the case's path parameters were generated to violate the schema."""
    from schemathesis.core.parameters import ParameterLocation

    check = getattr(getattr(case, "meta", None), "is_negative_at", None)
    return bool(check(ParameterLocation.PATH)) if callable(check) else False


def coverage_scenario(case: Any) -> str | None:
    """The constraint a coverage case violates (``value_above_maximum``, …), if known."""
    phase = getattr(getattr(case, "meta", None), "phase", None)
    scenario = getattr(getattr(phase, "data", None), "scenario", None)
    if scenario is None:
        return None
    return str(getattr(scenario, "value", scenario))


def has_no_body(body: Any) -> bool:
    from schemathesis.core import NotSet

    return isinstance(body, NotSet)


def coverage_cases(operation: Any, modes: list[Any]) -> Iterator[Any]:
    """schemathesis' coverage-phase cases of ``operation`` in the generation ``modes``."""
    schema = operation.schema
    config = schema.config.generation_for(operation=operation, phase="coverage")
    yield from schema.iter_coverage_cases(
        operation, generation_modes=modes, generation_config=config
    )
