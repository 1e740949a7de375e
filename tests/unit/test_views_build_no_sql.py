"""Views do HTTP only (issue 12 item 3; docs/architecture.md): the reads a page needs
live in its package's ``queries.py`` (search reads listings' through ``listings.queries``), named, documented
and testable without a request. This check fails when a view module of storefront,
webhooks, api, search, accounts, installs or mail builds SQL itself again: a call of ``select(...)`` or of
``func.<anything>(...)``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "installs", "mail", "storefront", "webhooks", "api", "search")


def view_modules() -> list[Path]:
    found = [path for package in PACKAGES for path in sorted((ROOT / package).glob("*.py"))
             if path.stem.endswith("views")]
    # The admin pages are views too, under another name.
    return found + [ROOT / "storefront" / "admin.py"]


def sql_built_in(path: Path) -> list[str]:
    """``line: call`` for each select(...) or func.x(...) call in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Name) and called.id == "select":
            found.append(f"{node.lineno}: select(...)")
        elif (isinstance(called, ast.Attribute) and isinstance(called.value, ast.Name)
              and called.value.id == "func"):
            found.append(f"{node.lineno}: func.{called.attr}(...)")
    return found


def test_there_are_view_modules_to_check():
    names = {path.relative_to(ROOT).as_posix() for path in view_modules()}
    assert {"storefront/views.py", "storefront/install_views.py", "storefront/admin.py",
            "webhooks/views.py", "api/views.py", "search/views.py"} <= names


def test_the_checker_sees_a_select_and_a_func_call(tmp_path):
    sample = tmp_path / "sample_views.py"
    sample.write_text("rows = session.exec(select(User).where(func.lower(User.email) == x))\n")
    assert sql_built_in(sample) == ["1: select(...)", "1: func.lower(...)"]


@pytest.mark.parametrize("path", view_modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_views_build_no_sql(path: Path):
    assert sql_built_in(path) == [], (
        f"{path.relative_to(ROOT)} builds SQL: move the read into the package's queries module")
