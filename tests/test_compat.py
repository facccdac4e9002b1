"""The private names of other packages the plugin relies on, checked on the installed
versions: an upgrade that removes one fails here, naming the module to update."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_aotparity"


def _gone(what: str, module: str) -> str:
    return f"{what} is gone from the installed version: update pytest_aotparity/_compat/{module}"


# -- httpcore -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["_uds", "_local_address", "_retries", "_http1", "_socket_options", "_network_backend"]
)
def test_httpcore_pool_keeps(name: str) -> None:
    import httpcore

    pool = httpcore.ConnectionPool()
    assert hasattr(pool, name), _gone(f"httpcore.ConnectionPool.{name}", "httpcore.py")


def test_httpcore_pool_handles_requests_in_its_module() -> None:
    import httpcore

    from pytest_aotparity._compat.httpcore import POOL_MODULE, ordinary_pool

    module = httpcore.ConnectionPool.handle_request.__module__
    assert module == POOL_MODULE, _gone(f"the module {POOL_MODULE}", "httpcore.py")
    assert ordinary_pool(httpcore.ConnectionPool())
    assert not ordinary_pool(httpcore.ConnectionPool(retries=2))


def test_httpx_transport_keeps_its_pool() -> None:
    import httpcore
    import httpx

    pool = getattr(httpx.HTTPTransport(), "_pool", None)
    assert type(pool) is httpcore.ConnectionPool, _gone("httpx.HTTPTransport._pool", "httpcore.py")


# -- hypothesis -----------------------------------------------------------------------------


def test_hypothesis_keeps_the_forced_seed() -> None:
    from hypothesis import core

    assert hasattr(core, "global_force_seed"), _gone(
        "hypothesis.core.global_force_seed", "hypothesis.py"
    )


def test_hypothesis_reads_the_digest_attribute() -> None:
    from hypothesis.internal.reflection import function_digest

    from pytest_aotparity._compat.hypothesis import DIGEST_ATTRIBUTE, set_digest

    def one() -> None: ...

    def other() -> None: ...

    other.__code__ = one.__code__  # the same function twice, as the generated tests share one
    assert function_digest(one) == function_digest(other)
    set_digest(other, b"tests/x.py::test_b")
    assert function_digest(one) != function_digest(other), _gone(
        f"the {DIGEST_ATTRIBUTE} attribute hypothesis reads", "hypothesis.py"
    )


# -- schemathesis ---------------------------------------------------------------------------


def test_schemathesis_keeps_parameter_location_and_not_set() -> None:
    try:
        from schemathesis.core import NotSet
        from schemathesis.core.parameters import ParameterLocation
    except ImportError as exc:  # pragma: no cover - an upgrade
        pytest.fail(_gone(str(exc), "schemathesis.py"))
    assert ParameterLocation.PATH is not None
    assert NotSet is not None


ORDERS = {
    "openapi": "3.0.3",
    "info": {"title": "orders", "version": "1"},
    "paths": {
        "/orders/{id}": {
            "get": {
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "maximum": 9},
                    }
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def test_schemathesis_coverage_cases_and_their_meta() -> None:
    import schemathesis
    from schemathesis import GenerationMode

    from pytest_aotparity._compat import schemathesis as compat

    schema = schemathesis.openapi.from_dict(ORDERS)
    [operation] = [result.ok() for result in schema.get_all_operations()]
    try:
        cases = list(
            compat.coverage_cases(operation, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
        )
    except AttributeError as exc:  # pragma: no cover - an upgrade
        pytest.fail(_gone(str(exc), "schemathesis.py"))
    assert cases
    modes = {compat.mode_value(case) for case in cases}
    assert modes == {"positive", "negative"}, _gone("case.meta.generation.mode", "schemathesis.py")
    scenarios = {compat.coverage_scenario(case) for case in cases}
    assert "value_above_maximum" in scenarios, _gone(
        "case.meta.phase.data.scenario", "schemathesis.py"
    )
    assert any(compat.negative_at_path(case) for case in cases), _gone(
        "case.meta.is_negative_at", "schemathesis.py"
    )
    assert compat.has_no_body(cases[0].body)


# -- nothing else reaches into them ---------------------------------------------------------

PRIVATE = re.compile(
    r"\._(?:uds|local_address|retries|http1|socket_options|network_backend)\b"
    r"|_hypothesis_internal|global_force_seed|hypothesis\.internal"
    r"|schemathesis\.core|\.generation_for\(|\.iter_coverage_cases\("
    r"|httpcore\._|from _pytest|import _pytest"
)


def test_only_compat_uses_private_names() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_compat" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PRIVATE.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not offenders, "private names outside pytest_aotparity/_compat:\n" + "\n".join(offenders)
