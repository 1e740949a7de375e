"""Keeping the search indexes in step with the database, through the outbox.

1. Capture: every flush that changes a listing (or a release, review, badge
   or install of one) writes an outbox row per search target, in the same transaction.
   Bulk writes that bypass the ORM call ``enqueue``.
2. Apply: right after a commit that wrote outbox rows, the committing process
   applies them (``apply_pending``); ``flask search sync`` does the same by
   hand or from cron. Applied rows are deleted; rows a target failed on stay,
   with exponential backoff, and are retried, so nothing is lost.

One applier per target at a time (a lease in ``search_sync_state``): two
appliers racing on one listing could otherwise write an older document last.
A rebuild holds the same lease, so changes made meanwhile wait and are applied
to the new index after the swap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import delete, event, func, insert, or_, update
from sqlmodel import Session, col, select

from listings.documents import search_documents
from listings.models import Badge, Listing, Release, Review
from search.interfaces import SearchBackend, SearchUnavailable
from search.models import SearchOutbox, SearchSyncState
from storefront.db import APP_INFO_KEY, utcnow
from storefront.models import Install

log = logging.getLogger(__name__)

DIRTY_KEY = "search_outbox_written"
PENDING_IDS_KEY = "search_touched_listing_ids"
BATCH_SIZE = 500
LEASE = timedelta(seconds=120)
MAX_BACKOFF = timedelta(minutes=10)


# --- capture ------------------------------------------------------------------------


def _app_of(session: Session):
    app = session.info.get(APP_INFO_KEY)
    if app is None and has_app_context():
        app = current_app._get_current_object()
    return app


def _target_names(session: Session) -> list[str]:
    app = _app_of(session)
    if app is None:
        # A session made outside the app: the embedded index always exists;
        # other targets catch up with `flask search reindex`.
        log.warning("Listing changed outside the app; only the embedded index is told")
        return ["embedded"]
    return list(app.extensions["bazaar.search"].targets())


def _listing_id(obj) -> int | None:
    if isinstance(obj, Listing):
        return obj.id
    if isinstance(obj, Release | Review | Badge | Install):
        return obj.listing_id
    return None


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _flush_context, _instances) -> None:
    # Changed and deleted rows are seen before the flush (afterwards their
    # history is gone); new listings get their id only during the flush.
    touched = session.info.setdefault(PENDING_IDS_KEY, set())
    for obj in [*session.dirty, *session.deleted, *session.new]:
        if obj in session.dirty and not session.is_modified(obj):
            continue
        touched.add(_listing_id(obj))


@event.listens_for(Session, "after_flush")
def _capture_changes(session: Session, _flush_context) -> None:
    touched = session.info.pop(PENDING_IDS_KEY, set())
    touched.update(obj.id for obj in session.new if isinstance(obj, Listing))
    touched.discard(None)
    if touched:
        # Same connection, same transaction as the change itself.
        session.connection().execute(insert(SearchOutbox), _rows(session, sorted(touched)))
        session.info[DIRTY_KEY] = True


def _rows(session: Session, listing_ids: Iterable[int]) -> list[dict]:
    now = utcnow()
    return [{"listing_id": listing_id, "target": target, "created_at": now, "available_at": now,
             "attempts": 0}
            for target in _target_names(session) for listing_id in listing_ids]


def enqueue(session: Session, listing_ids: Iterable[int]) -> None:
    """Outbox rows for listings changed by bulk statements the ORM did not see."""
    rows = _rows(session, list(listing_ids))
    if rows:
        session.execute(insert(SearchOutbox), rows)
        session.info[DIRTY_KEY] = True


@event.listens_for(Session, "after_commit")
def _apply_after_commit(session: Session) -> None:
    if not session.info.pop(DIRTY_KEY, False):
        return
    app = session.info.get(APP_INFO_KEY)
    if app is None:
        return  # a session outside the app: `flask search sync` picks the rows up
    try:
        apply_pending(app, respect_backoff=True)
    except Exception:  # never fail the request that committed; the rows wait
        log.exception("Applying search outbox rows after commit failed")


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(DIRTY_KEY, None)
    session.info.pop(PENDING_IDS_KEY, None)


# --- the lease ------------------------------------------------------------------------


def claim(session: Session, target: str) -> bool:
    """Take the target's lease (committed at once); False when another process holds it."""
    now = utcnow()
    if session.get(SearchSyncState, target) is None:
        session.add(SearchSyncState(target=target))
        try:
            session.commit()
        except Exception:  # another process made it first
            session.rollback()
    claimed = session.execute(
        update(SearchSyncState)
        .where(SearchSyncState.target == target,
               or_(col(SearchSyncState.lease_until).is_(None),
                   SearchSyncState.lease_until < now))
        .values(lease_until=now + LEASE)
    ).rowcount
    session.commit()
    return bool(claimed)


def extend(session: Session, target: str, duration: timedelta = LEASE) -> None:
    session.execute(update(SearchSyncState).where(SearchSyncState.target == target)
                    .values(lease_until=utcnow() + duration))
    session.commit()


def release(session: Session, target: str, **values) -> None:
    session.execute(update(SearchSyncState).where(SearchSyncState.target == target)
                    .values(lease_until=None, **values))
    session.commit()


# --- apply ----------------------------------------------------------------------------


@dataclass
class TargetReport:
    target: str
    applied: int = 0            # outbox rows consumed
    indexed: int = 0            # documents written
    deleted: int = 0            # listings removed from the index
    skipped: str | None = None  # why nothing was tried (busy, backing off)
    error: str | None = None


@dataclass
class SyncReport:
    targets: list[TargetReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(report.error is None for report in self.targets)


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


def apply_target(session: Session, target: str, backend: SearchBackend, *,
                 respect_backoff: bool = False,
                 progress: Callable[[int], None] | None = None) -> TargetReport:
    """Apply this target's due outbox rows, oldest first, in batches."""
    report = TargetReport(target)
    state = session.get(SearchSyncState, target)
    if respect_backoff and state is not None and state.retry_at and state.retry_at > utcnow():
        report.skipped = f"backing off until {state.retry_at:%H:%M:%S} UTC"
        return report
    if not claim(session, target):
        report.skipped = "another process is applying it"
        return report
    # Rows that fail are pushed into the future, so this loop ends.
    while True:
        now = utcnow()
        due = (select(SearchOutbox.id, SearchOutbox.listing_id)
               .where(SearchOutbox.target == target)
               .order_by(SearchOutbox.id).limit(BATCH_SIZE))
        if respect_backoff:
            due = due.where(SearchOutbox.available_at <= now)
        rows = session.exec(due).all()
        if not rows:
            break
        row_ids = [row_id for row_id, _ in rows]
        listing_ids = list(dict.fromkeys(listing_id for _, listing_id in rows))
        try:
            documents = search_documents(session, listing_ids)
            gone = sorted(set(listing_ids) - {doc["id"] for doc in documents})
            if documents:
                backend.index(documents)
            if gone:
                backend.delete(gone)
        except SearchUnavailable as error:
            session.rollback()
            attempts = (session.get(SearchSyncState, target).attempts or 0) + 1
            retry_at = now + _backoff(attempts)
            session.execute(update(SearchOutbox).where(col(SearchOutbox.id).in_(row_ids))
                            .values(attempts=SearchOutbox.attempts + 1, available_at=retry_at,
                                    last_error=str(error)[:1000]))
            release(session, target, attempts=attempts, last_error=str(error)[:1000],
                    retry_at=retry_at)
            log.warning("Search target %s failed (attempt %d); retrying after %s: %s",
                        target, attempts, retry_at, error)
            report.error = str(error)
            return report
        session.execute(delete(SearchOutbox).where(col(SearchOutbox.id).in_(row_ids)))
        session.commit()
        extend(session, target)
        session.expunge_all()
        report.applied += len(rows)
        report.indexed += len(documents)
        report.deleted += len(gone)
        if progress:
            progress(report.applied)
    release(session, target, attempts=0, last_error=None, retry_at=None, synced_at=utcnow())
    return report


def apply_pending(app, *, respect_backoff: bool = False,
                  progress: Callable[[str, int], None] | None = None) -> SyncReport:
    """Apply pending outbox rows to each search target of ``app``.

    ``respect_backoff`` (the web process) leaves a failing target alone until
    its retry time, so pages don't wait on a dead cluster; the CLI tries now.
    """
    report = SyncReport()
    with Session(app.extensions["bazaar.engine"], expire_on_commit=False) as session:
        for name, backend in app.extensions["bazaar.search"].targets().items():
            step = (lambda done, name=name: progress(name, done)) if progress else None
            report.targets.append(apply_target(session, name, backend,
                                               respect_backoff=respect_backoff, progress=step))
    return report


def pending_counts(session: Session, targets: Iterable[str]) -> dict[str, int]:
    """Outbox rows each target has still to apply."""
    counts = dict(session.exec(select(SearchOutbox.target, func.count())
                               .group_by(SearchOutbox.target)).all())
    return {target: counts.get(target, 0) for target in targets}
