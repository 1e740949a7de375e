"""Fixtures of the migration tests."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@pytest.fixture
def scratch_database(_postgres_migrated, request):
    """An empty PostgreSQL database of this test module's own, beside the worker's,
    dropped after it."""
    url = make_url(_postgres_migrated)
    name = f"{url.database}_{request.module.__name__.rsplit('_', 1)[-1]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
