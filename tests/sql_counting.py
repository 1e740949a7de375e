"""Counting the SQL statements the app runs: the query-count tests of every page kind."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def count_queries(app):
    """The SQL statements the app runs inside the block, as a list filled as they run."""
    from sqlalchemy import event

    statements: list[str] = []
    engine = app.extensions["bazaar.engine"]

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
