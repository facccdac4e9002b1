"""The package's import graph stays a layering: no circles, nothing imports the entry module.

Every import counts, at module level, inside functions and under ``TYPE_CHECKING``: an
import held open only by being inside a function is still a circle a reader must untangle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_aotparity"
ENTRY = "pytest_aotparity.plugin"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The package's modules that ``name`` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module in known:
                yield module, node.lineno
            for alias in node.names:
                if f"{module}.{alias.name}" in known:  # from package import submodule
                    yield f"{module}.{alias.name}", node.lineno


def _graph() -> dict[str, dict[str, int]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in _imported(name, path, known):
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    # Guards the test itself: a parser that saw no edges would find no circle either.
    graph = _graph()
    assert "pytest_aotparity.run.parity" in graph
    assert "pytest_aotparity.diff.compare" in graph["pytest_aotparity.run.parity"]
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {}}) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    described = [
        " -> ".join(
            f"{member} (line {graph[member][nxt]})"
            for member, nxt in zip(cycle, [*cycle[1:], cycle[0]], strict=True)
            if nxt in graph[member]
        )
        or ", ".join(cycle)
        for cycle in cycles
    ]
    assert not cycles, "import circles in pytest_aotparity:\n" + "\n".join(described)


def test_nothing_imports_the_entry_module() -> None:
    graph = _graph()
    importers = {name: edges[ENTRY] for name, edges in graph.items() if ENTRY in edges}
    assert not importers, (
        f"{ENTRY} is the pytest11 entry point: lower layers take the run from "
        f"pytest_aotparity.keys instead; imported by {importers}"
    )
