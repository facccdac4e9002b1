"""What the package imports is what pyproject.toml declares, and the other way round.

The suite and the benchmarks are held to the same rule against the ``dev`` extra: a fresh
machine installs only what is declared, so an import that a developer's older virtualenv
happens to provide must fail here, not in CI's collection.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pytest_aotparity"
NOT_IMPORTED_ON_PURPOSE: frozenset[str] = frozenset()
"""Distributions declared for what they bring, not imported by name (none today)."""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(specs: list[str]) -> set[str]:
    return {_normalise(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in specs}


def _project() -> dict[str, Any]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project: dict[str, Any] = tomllib.loads(text)["project"]
    return project


def _declared() -> set[str]:
    return _names(_project()["dependencies"])


def _declared_for_development() -> set[str]:
    project = _project()
    return _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])


def _local_modules(folder: Path) -> set[str]:
    """Modules a folder's own files provide (fake apps, shared helpers), not distributions."""
    return {folder.name, *(path.stem for path in folder.rglob("*.py"))} | {
        path.name for path in folder.rglob("*") if path.is_dir()
    }


def _imported_modules(folder: Path = PACKAGE) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    local = _local_modules(folder) if folder != PACKAGE else set()
    return {
        m
        for m in found
        if m not in sys.stdlib_module_names and m not in local and m != "pytest_aotparity"
    }


def _imported_distributions(folder: Path = PACKAGE) -> dict[str, str]:
    by_module = packages_distributions()
    out: dict[str, str] = {}
    for module in _imported_modules(folder):
        distributions = by_module.get(module)
        assert distributions, f"{module} is imported but no installed distribution provides it"
        out[module] = _normalise(distributions[0])
    return out


def test_every_import_is_declared() -> None:
    imported = _imported_distributions()
    missing = {module: dist for module, dist in imported.items() if dist not in _declared()}
    assert not missing, f"imported by pytest_aotparity, not in [project] dependencies: {missing}"


def test_every_dependency_is_imported() -> None:
    imported = set(_imported_distributions().values())
    unused = _declared() - imported - NOT_IMPORTED_ON_PURPOSE
    assert not unused, f"declared in [project] dependencies, never imported: {sorted(unused)}"


@pytest.mark.parametrize("folder", ["tests", "benchmarks"])
def test_suite_and_benchmark_imports_are_declared(folder: str) -> None:
    imported = _imported_distributions(ROOT / folder)
    allowed = _declared_for_development()
    missing = {module: dist for module, dist in imported.items() if dist not in allowed}
    assert not missing, f"imported by {folder}/, not in dependencies or the dev extra: {missing}"
