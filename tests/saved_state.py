"""What a test's database and folders hold, saved once and put back before each test.

For a module whose every test starts from the same objects, each saved with its own
commit (which also writes the local search index): ``built_once(build)`` gives the
module fixtures that build them once per database and restore them before each test.
The authorization matrix's forty objects took a test's setup from about a second to
a few milliseconds; each test still starts from exactly that state.

- The app's folder is copied: uploads, the local search index and, on SQLite, the
  database file (tests/conftest.py puts all three in it).
- PostgreSQL: every table's rows are copied into a schema of their own
  (``SAVED_SCHEMA``) and back, in the server, with each id sequence's position.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

SAVED_SCHEMA = "bazaar_saved_state"


@dataclass
class SavedState:
    folder: Path  # the copy of the app's folder
    # PostgreSQL: table -> the columns to copy back (a generated column can't be
    # written), parents before children.
    columns: dict[str, list[str]] = field(default_factory=dict)
    # name -> last value, None for one never used (left as empty_postgres sets it)
    sequences: dict[str, int | None] = field(default_factory=dict)


def save_state(database_url: str, app_folder: Path, saved_folder: Path) -> SavedState:
    """Save what ``database_url`` and ``app_folder`` hold now (``saved_folder`` must
    not exist yet, nor be inside ``app_folder``)."""
    shutil.copytree(app_folder, saved_folder)
    state = SavedState(saved_folder)
    if database_url.startswith("sqlite"):
        return state
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SAVED_SCHEMA} CASCADE; "
                          f"CREATE SCHEMA {SAVED_SCHEMA}"))
        for table, column in conn.execute(text(
                "SELECT c.relname, a.attname FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 "
                "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY c.relname, a.attnum")):
            if table != "alembic_version":  # the migrations' own; never emptied
                state.columns.setdefault(table, []).append(column)
        order = {table.name: position
                 for position, table in enumerate(SQLModel.metadata.sorted_tables)}
        state.columns = dict(sorted(state.columns.items(),
                                    key=lambda item: (order.get(item[0], len(order)), item[0])))
        conn.execute(text("; ".join(
            f'CREATE TABLE {SAVED_SCHEMA}."{table}" AS TABLE "{table}"'
            for table in state.columns)))
        state.sequences = dict(conn.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema()")).all())
    engine.dispose()
    return state


def restore_state(state: SavedState, database_url: str, app_folder: Path) -> None:
    """Put the saved state back into ``database_url`` (PostgreSQL: emptied already, as
    tests/conftest.py ``empty_postgres`` leaves it) and ``app_folder``."""
    shutil.copytree(state.folder, app_folder, dirs_exist_ok=True)
    if database_url.startswith("sqlite"):
        return
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM catalog_version"))  # empty_postgres seeds it
        statements = []
        for table, columns in state.columns.items():
            names = ", ".join(f'"{column}"' for column in columns)
            statements.append(f'INSERT INTO "{table}" ({names}) '
                              f'SELECT {names} FROM {SAVED_SCHEMA}."{table}"')
        statements += [f"SELECT setval('\"{name}\"', {value}, true)"
                       for name, value in state.sequences.items() if value is not None]
        conn.execute(text("; ".join(statements)))
    engine.dispose()


def forget_state(state: SavedState, database_url: str) -> None:
    """Drop the saved rows (PostgreSQL; the saved folder goes with pytest's tmp_path)."""
    if database_url.startswith("sqlite"):
        return
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SAVED_SCHEMA} CASCADE"))
    engine.dispose()


def built_once(build: Callable) -> tuple:
    """Fixtures for a module whose tests start from what ``build(app, db)`` makes:
    ``saved_world`` (``build``'s result, which must not be database objects: ids, slugs,
    keys) and ``database_url`` (each test's database and folders, restored to that
    state when the test uses the module's ``world`` fixture, else empty as usual).
    Assign both at the module's top level; ``world`` reads ``saved_world`` and loads
    the objects it names from the test's ``db``."""
    from tests.conftest import empty_database, made_app, session_on

    @pytest.fixture(scope="module", name="saved_world")
    def saved_world(db_backend, tmp_path_factory, request):
        folder = tmp_path_factory.mktemp("built-once")
        url = empty_database(db_backend, folder, request)
        with made_app(url, folder, {}) as app, session_on(app) as db:
            result = build(app, db)
        state = save_state(url, folder, tmp_path_factory.mktemp("built-once-saved") / "copy")
        yield result, state
        forget_state(state, url)

    @pytest.fixture(name="database_url")
    def database_url(db_backend, tmp_path, request):
        # Built (on PostgreSQL: in this process's database) before it is emptied.
        saved = request.getfixturevalue("saved_world") if "world" in request.fixturenames \
            else None
        url = empty_database(db_backend, tmp_path, request)
        if saved:
            restore_state(saved[1], url, tmp_path)
        return url

    return saved_world, database_url


def loaded(db, saved: dict, models: dict[str, type]) -> SimpleNamespace:
    """A ``built_once`` world as objects of the test's session: each name in ``models``
    loaded by the id saved under it, the other values (an API key's plaintext) as saved."""
    return SimpleNamespace(**{name: db.get(models[name], value) if name in models else value
                              for name, value in saved.items()})
