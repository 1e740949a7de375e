"""The catalog's version, and the catalog pages kept by it.

What the catalog pages show (listings, their partners and categories, reviews,
badges, editors' collections) changes far less often than the pages are read,
yet at 100,000 listings computing them (the shelves, the counts per category)
costs more than everything else in a request. So they are rendered once per
version of the catalog and kept in the app's cache (``core.cache``).

The version is one row (``catalog_version``) whose token changes

- in the same transaction as any change the ORM makes to those tables (a
  flush, or a bulk ``update``/``delete``/``insert`` through a session), written
  as the transaction's last statement so its row lock is held only until commit;
- after the search sync has applied outbox rows to an index, and after a
  rebuild, because the pages' shelves come from the index, which catches up
  a moment after the database (``search.sync`` calls ``bump``).

Every process reads the token once per catalog page (a primary-key read), so a
change shows on the next request everywhere, whichever process made it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from sqlalchemy import event, update
from sqlmodel import Session, select

from core import cache
from core.db import utcnow
from listings.models import (
    Badge,
    CatalogVersion,
    Category,
    Collection,
    CollectionItem,
    Listing,
    Partner,
    Release,
    Review,
    Screenshot,
)
from listings.plans import ListingPlan

# What the catalog pages and app pages show; packages above add what else their kept
# answers depend on with ``track`` (search: the editors' synonym lines).
TRACKED: set[type] = {Listing, Partner, Category, Review, Badge, Collection, CollectionItem,
                      Release, Screenshot, ListingPlan}
_TRACKED_TABLES: set[str] = {model.__tablename__ for model in TRACKED}
T = TypeVar("T")
# session.info: this transaction changed the catalog; the token changes at commit.
CHANGED_KEY = "catalog_changed"
# app.extensions: {key: (token, value)} of remember_in_process.
IN_PROCESS_KEY = "bazaar.catalog_in_process"


def track(model: type) -> None:
    """Give the catalog a new version whenever a ``model`` row changes."""
    TRACKED.add(model)
    _TRACKED_TABLES.add(model.__tablename__)


# Built once: every catalog page and app page reads it (statements are immutable).
_CURRENT_TOKEN = select(CatalogVersion.token).where(CatalogVersion.id == 1)


def current_token(session: Session) -> str | None:
    """The catalog's version now; None on a database without the row (never
    migrated to 0021), where nothing is kept.

    A kept page is sent after this one read, so when the session has not begun a
    transaction the token is read outside one (autocommit): on PostgreSQL that saves
    the BEGIN and ROLLBACK round trips, half the database's work for a kept page. A
    session already in a transaction reads it there, so it sees its own change. On
    SQLite a read begins no transaction in the database at all, so the session's own
    connection is used: a page that goes on to read more (a search rendered afresh)
    then takes one connection from the pool instead of two."""
    if session.in_transaction():
        return session.exec(_CURRENT_TOKEN).first()
    if session.get_bind().dialect.name == "sqlite":
        return session.connection().execute(_CURRENT_TOKEN).scalar()
    with session.get_bind().connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection.execute(_CURRENT_TOKEN).scalar()


def bump(session: Session) -> None:
    """Give the catalog a new version, in the session's transaction."""
    session.execute(update(CatalogVersion).where(CatalogVersion.id == 1)
                    .values(token=secrets.token_hex(16), changed_at=utcnow()))


def remember(token: str | None, key: str, compute: Callable[[], T],
             keep: Callable[[T], bool] = lambda value: True) -> T:
    """What ``compute`` gives (a page, a part of one, a search answer), kept for this
    catalog version when ``keep`` says so; computed each time without a version."""
    if token is None:
        return compute()
    return cache.remember(f"catalog:{token}:{key}", compute, keep)


def remember_in_process(token: str | None, key: str, compute: Callable[[], T]) -> T:
    """A small value nearly every request needs (the category names a search parses
    its filters by), kept in this process for the catalog version ``token``: only the
    newest version's is kept, so it takes no room, and it is kept whatever the cache
    is (with none it would be read each time; from Redis, reading it back costs a
    round trip, as much as the statement it saves). Callers must not change it."""
    if token is None:
        return compute()
    kept: dict[str, tuple[str, object]] = current_app.extensions.setdefault(
        IN_PROCESS_KEY, {})
    seen = kept.get(key)
    if seen is not None and seen[0] == token:
        return seen[1]  # type: ignore[return-value]
    value = compute()
    kept[key] = (token, value)  # one assignment: threads see the old pair or the new
    return value


# --- noticing changes ------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _note_changed_rows(session: Session, _flush_context, _instances) -> None:
    if session.info.get(CHANGED_KEY):
        return
    for obj in [*session.new, *session.deleted, *session.dirty]:
        if type(obj) in TRACKED and (obj not in session.dirty or session.is_modified(obj)):
            session.info[CHANGED_KEY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statements(state) -> None:
    # update(Listing)..., delete(Review)...: rows the ORM never loaded.
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _TRACKED_TABLES:
            state.session.info[CHANGED_KEY] = True


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    # The commit's own flush comes after this hook: flush first, so its changes count.
    session.flush()
    if session.info.pop(CHANGED_KEY, False):
        bump(session)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)
