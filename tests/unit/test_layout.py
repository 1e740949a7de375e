"""Where code lives (issue 12, item 7): every command is a module-level click command in
its package's ``cli.py``; billing's pages sit in one view module per audience, and no
module imports a view module; the demo data is not shipped inside the domain packages."""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("accounts", "api", "billing", "core", "demo", "installs", "listings", "mail",
                   "search", "storefront", "webhooks")
VIEW_MODULE = re.compile(r"(^|\.)\w*views$")
MAX_LINES = 600

# View modules imported by other modules: none since issue 12 moved the helpers to
# non-view modules (queries, access, pages); nothing may be added to it.
LEFT_FOR_OTHER_ITEMS: set[tuple[str, str]] = set()

# Commands that live in their own module: the worker tier (issue 12, item 4).
OWN_MODULE = {("worker",): "core.worker", ("outbox-status",): "core.worker"}

# The URL paths each billing view module answers: one audience per module.
BILLING_AUDIENCES = {
    "billing.customer_views": ("/my/",),
    "billing.partner_views": ("/partner/",),
    "billing.stripe_webhook_views": ("/billing/webhooks/",),
    "billing.test_mode_views": ("/billing/local-", "/partner/payouts/simulate"),
    "billing.revenue_views": ("/partner/revenue",),
}


def source_modules():
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (``from x import y`` counts as x and x.y)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def all_commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*path, name))


def test_every_command_is_a_module_level_command_in_a_cli_module(app):
    commands = dict(all_commands(app.cli))
    assert ("billing", "statements") in commands and ("demo", "load") in commands

    misplaced = {" ".join(path): f"{command.callback.__module__}.{command.callback.__qualname__}"
                 for path, command in commands.items() if command.callback is not None
                 if "<locals>" in command.callback.__qualname__
                 or command.callback.__module__ != OWN_MODULE.get(path)
                 and not command.callback.__module__.endswith("cli")}
    assert misplaced == {}


def test_no_module_imports_a_view_module():
    found = set()
    for module, path in source_modules():
        if path.name == "__init__.py":
            continue  # a package's init registers its own blueprints
        found.update((module, name) for name in imported_modules(path)
                     if VIEW_MODULE.search(name) and name != module)
    assert found - LEFT_FOR_OTHER_ITEMS == set()


def test_each_billing_view_module_serves_one_audience(app):
    wrong = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in {"billing", "revenue"}:
            continue
        module = app.view_functions[rule.endpoint].__module__
        if not rule.rule.startswith(BILLING_AUDIENCES.get(module, ("(no audience)",))):
            wrong[rule.rule] = module
    assert wrong == {}


def test_billing_cli_and_demo_modules_stay_small():
    paths = [*(ROOT / "billing").glob("*.py"), *(ROOT / "demo").glob("*.py"),
             *ROOT.glob("*/cli.py")]
    long = {str(path.relative_to(ROOT)): lines for path in paths
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_demo_data_is_its_own_package_not_part_of_listings():
    assert importlib.util.find_spec("listings.demo") is None
    assert importlib.util.find_spec("demo") is not None
    importers = {module for module, path in source_modules() if not module.startswith("demo")
                 and any(name == "demo" or name.startswith("demo.")
                         for name in imported_modules(path))}
    assert importers == set()
    include = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["packages"]["find"]["include"]
    assert "demo*" in include


def sql_built_in(path: Path) -> list[str]:
    """Every ``select(...)`` and ``func.x(...)`` call in a module, as "line: what"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id == "select":
            found.append((node.lineno, "select("))
        elif (isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "func"):
            found.append((node.lineno, f"func.{node.func.attr}("))
    return [f"{line}: {call}" for line, call in sorted(found)]


def test_listings_views_build_no_sql():
    """Issue 12, item 3: the listings views do HTTP only; their reads live in
    ``listings.queries`` (or ``listings.prune_queries``), testable without a request."""
    found = {str(path.relative_to(ROOT)): calls
             for path in sorted((ROOT / "listings").rglob("*views.py"))
             if (calls := sql_built_in(path))}
    assert found == {}


MAX_MODULE_LINES = 600  # issue 12: a module past this is doing more than one job


def test_no_module_of_the_app_is_over_600_lines():
    long = {module: count for module, path in source_modules()
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, "split them along what they do (docs/architecture.md)"
