"""What the package imports is what pyproject.toml declares, and the other way round."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pytest_aotparity"
NOT_IMPORTED_ON_PURPOSE: frozenset[str] = frozenset()
"""Distributions declared for what they bring, not imported by name (none today)."""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        _normalise(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0])
        for spec in project["dependencies"]
    }


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "pytest_aotparity"}


def _imported_distributions() -> dict[str, str]:
    by_module = packages_distributions()
    out: dict[str, str] = {}
    for module in _imported_modules():
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
