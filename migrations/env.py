"""Alembic environment: runs the migrations against the configured database.

The URL comes from the Alembic config (set by ``core.db.alembic_config``)
or, for the bare ``alembic`` command, from ``DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel

import accounts.models  # noqa: F401
import api.models  # noqa: F401
import billing.models  # noqa: F401
import core.models  # noqa: F401
import installs.models  # noqa: F401
import listings.models  # noqa: F401
import listings.plans  # noqa: F401
import listings.prune_models  # noqa: F401
import listings.review_models  # noqa: F401
import mail.models  # noqa: F401
import search.models  # noqa: F401
import webhooks.models  # noqa: F401
from core.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to):
    """Leave the embedded search index alone in autogenerate: migration 0003 makes
    it by hand (FTS5 / tsvector), and no SQLModel model describes it."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = getattr(table, "name", name) or ""
    return not (reflected and compare_to is None and table_name.startswith("search_")
                and table_name not in target_metadata.tables)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("Set DATABASE_URL or run through `flask --app app db upgrade`.")
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    engine = make_engine(url) if url.startswith("sqlite") else None
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode lets ALTER TABLE work on SQLite by copying the table.
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
