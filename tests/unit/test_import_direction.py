"""Imports go one way (issue 12; docs/architecture.md): ``core`` imports no domain
package, no package reaches for another's private names, nothing imports ``demo``,
and a package never imports one above it.

The layers, lowest first. Where a lower package needs a higher one, the higher one
plugs itself into a port of the lower (``listings.ports``, ``installs.ports``)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"core": 0, "mail": 1, "accounts": 2, "listings": 3, "search": 4, "installs": 5,
          "billing": 6, "webhooks": 6, "api": 6, "storefront": 7}
OUTSIDE_THE_DOMAIN = {"demo"}  # sample data: only app.py may import it
PACKAGES = set(LAYERS) | OUTSIDE_THE_DOMAIN


def package_of(module: str) -> str:
    return module.split(".", 1)[0]


def modules():
    for package in sorted(PACKAGES):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def imports_of(path: Path):
    """(imported module, imported names, inside a function?) for each first-party import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(inner) for inner in ast.walk(node) if inner is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if package_of(alias.name) in PACKAGES:
                    yield alias.name, (), id(node) in in_function
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if package_of(node.module) in PACKAGES:
                yield node.module, tuple(a.name for a in node.names), id(node) in in_function


@pytest.fixture(scope="module")
def graph():
    return {module: list(imports_of(path)) for module, path in modules()}


def test_core_imports_no_domain_package(graph):
    wrong = {(module, imported) for module, found in graph.items() if package_of(module) == "core"
             for imported, _, _ in found if package_of(imported) != "core"}
    assert wrong == set()


def test_nothing_but_the_app_imports_the_demo_data(graph):
    wrong = {(module, imported) for module, found in graph.items()
             if package_of(module) != "demo"
             for imported, _, _ in found if package_of(imported) == "demo"}
    assert wrong == set()


def test_no_private_name_crosses_a_package(graph):
    wrong = {(module, f"{imported}.{name}") for module, found in graph.items()
             for imported, names, _ in found if package_of(imported) != package_of(module)
             for name in names if name.startswith("_")}
    assert wrong == set()


def wrong_way(graph) -> set[tuple[str, str]]:
    found = set()
    for module, imports in graph.items():
        here = LAYERS.get(package_of(module))
        for imported, _, _ in imports:
            there = LAYERS.get(package_of(imported))
            if here is not None and there is not None and there > here:
                found.add((module, imported))
    return found


def test_no_package_imports_one_above_it(graph):
    assert wrong_way(graph) == set(), "a package imports one above it (docs/architecture.md)"


def test_the_package_graph_is_acyclic(graph):
    edges = defaultdict(set)
    for module, imports in graph.items():
        for imported, _, _ in imports:
            if package_of(imported) != package_of(module):
                edges[package_of(module)].add(package_of(imported))
    # Depth-first search for a cycle among the packages.
    state: dict[str, str] = {}

    def visit(package: str, path: list[str]) -> list[str] | None:
        state[package] = "open"
        for target in sorted(edges[package]):
            if state.get(target) == "open":
                return path + [package, target]
            if target not in state:
                cycle = visit(target, path + [package])
                if cycle:
                    return cycle
        state[package] = "done"
        return None

    for package in sorted(edges):
        if package not in state:
            cycle = visit(package, [])
            assert cycle is None, " -> ".join(cycle)


def test_imports_inside_functions_say_why():
    """Imports sit at the top of their module; one inside a function (an optional
    dependency, say) has a comment right above it giving the reason."""
    silent = []
    for module, path in modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) \
                        and not lines[inner.lineno - 2].strip().startswith("#"):
                    silent.append(f"{module}:{inner.lineno}")
    assert silent == []
