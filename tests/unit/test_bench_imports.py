"""The bench/ scripts (no .py suffix, run by hand, never by the suite) import names
that still exist: a moved module breaks them at once here, not on the day a figure
is needed (docs/performance.md)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(path for path in BENCH.iterdir() if path.is_file() and path.suffix in {"", ".py"}
                 and path.read_text(encoding="utf-8").startswith("#!"))
FIRST_PARTY = {"accounts", "api", "billing", "core", "demo", "installs", "listings", "mail",
               "search", "storefront", "webhooks", "app", "tests"}


def first_party_imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level \
                and node.module.split(".")[0] in FIRST_PARTY:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FIRST_PARTY:
                    yield alias.name, []


def test_there_are_bench_scripts():
    assert {path.name for path in SCRIPTS} >= {"search", "prune", "usage"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_import_of_a_bench_script_resolves(script):
    missing = []
    for module_name, names in first_party_imports(script):
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            missing.append(f"{module_name}: {error}")
            continue
        missing += [f"{module_name}.{name}" for name in names
                    if not hasattr(module, name)
                    and importlib.util.find_spec(f"{module_name}.{name}") is None]
    assert missing == []
