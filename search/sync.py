"""Keeping the search indexes in step with the database, through the outbox.

1. Capture: every flush that changes a listing (or a release, review, badge
   or install of one) writes an outbox row per search target, in the same transaction.
   Bulk writes that bypass the ORM call ``enqueue``.
2. Apply: right after a commit that wrote outbox rows, the committing process
   applies those rows, and only those (``apply_rows``). In a web request it
   spends at most ``SEARCH_SYNC_BUDGET`` seconds on them, so neither a backlog
   nor a hung OpenSearch node holds a page (or a gunicorn worker) up.
3. Catch up: everything else (a backlog, rows a held lease or a spent budget
   left behind, retries after a failure) is applied by the background sync
   (``SEARCH_SYNC_SENDER``: a thread per web process that applies one batch
   per target per round, woken after such commits and polling every
   ``SEARCH_SYNC_INTERVAL`` seconds) and by ``flask search sync``. Applied rows
   are deleted; rows a target failed on stay, with exponential backoff, and are
   retried, so nothing is lost.

One applier per target at a time (a lease in ``search_sync_state``): two
appliers racing on one listing could otherwise write an older document last.
A rebuild holds the same lease, so changes made meanwhile wait and are applied
to the new index after the swap. Every applier releases the lease however it
ends; a request's lease is short, so even a killed worker's expires soon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import click
from flask import Flask, g, has_request_context
from sqlalchemy import delete, event, func, insert, or_, update
from sqlmodel import Session, col, select

from core.db import APP_INFO_KEY, app_of, app_session, utcnow
from core.observability import count_sends
from core.outbox import Backoff, OutboxSender, register_outbox
from listings import catalog_cache
from listings.documents import search_documents
from listings.models import Badge, Listing, Release, Review
from search.interfaces import SearchBackend, SearchUnavailable
from search.models import SearchOutbox, SearchSyncState

log = logging.getLogger(__name__)

# session.info: ids of the outbox rows this session wrote since its last commit.
# (Code that applies them itself, with a progress bar, pops it before committing.)
DIRTY_KEY = "search_outbox_written"
PENDING_IDS_KEY = "search_touched_listing_ids"
DEADLINE_KEY = "search_sync_deadline"  # in flask.g: when this request's budget ends
SENDER_KEY = "bazaar.search.sender"
BATCH_SIZE = 500
LEASE = timedelta(seconds=120)
# A request's lease outlives its budget by this much (slow database statements);
# if the worker is killed, the next applier waits this long, not LEASE.
REQUEST_LEASE_MARGIN = timedelta(seconds=30)
# The shortest wait on a remote index worth trying when a budget is nearly spent.
MIN_WRITE_TIMEOUT = 0.1
# 2 s after the first failure, doubling, at most 10 minutes; no jitter (one lease
# per target already keeps appliers from retrying together).
BACKOFF = Backoff(base=timedelta(seconds=2), cap=timedelta(minutes=10), jitter=0.0)


# --- capture ------------------------------------------------------------------------


def _target_names(session: Session) -> list[str]:
    app = app_of(session)
    if app is None:
        # A session made outside the app: the embedded index always exists;
        # other targets catch up with `flask search reindex`.
        log.warning("Listing changed outside the app; only the embedded index is told")
        return ["embedded"]
    return list(app.extensions["bazaar.search"].targets())


# Rows whose change changes their listing's document (its releases, reviews, badges);
# packages above search add theirs with ``watch`` (installs: install counts).
WATCHED: set[type] = {Release, Review, Badge}


def watch(model: type) -> None:
    """Index a row's listing again whenever a ``model`` row (with a ``listing_id``) changes."""
    WATCHED.add(model)


def _listing_id(obj) -> int | None:
    if isinstance(obj, Listing):
        return obj.id
    if type(obj) in WATCHED:
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
        _insert_rows(session.connection(), session, _rows(session, sorted(touched)))


def _rows(session: Session, listing_ids: Iterable[int]) -> list[dict]:
    now = utcnow()
    return [{"listing_id": listing_id, "target": target, "created_at": now, "available_at": now,
             "attempts": 0}
            for target in _target_names(session) for listing_id in listing_ids]


def _insert_rows(executor, session: Session, rows: list[dict]) -> None:
    """Insert outbox rows and remember their ids, for ``apply_rows`` after the commit."""
    if not rows:
        return
    ids = executor.execute(insert(SearchOutbox).returning(SearchOutbox.id), rows).scalars().all()
    session.info.setdefault(DIRTY_KEY, []).extend(ids)


def enqueue(session: Session, listing_ids: Iterable[int]) -> None:
    """Outbox rows for listings changed by bulk statements the ORM did not see."""
    _insert_rows(session, session, _rows(session, list(listing_ids)))


@event.listens_for(Session, "after_commit")
def _apply_after_commit(session: Session) -> None:
    row_ids = session.info.pop(DIRTY_KEY, None)
    if not row_ids:
        return
    app = session.info.get(APP_INFO_KEY)
    if app is None:
        return  # a session outside the app: `flask search sync` picks the rows up
    if has_request_context() and app.config.get("BACKGROUND_WORK") == "worker":
        return  # a web request only enqueues; the worker applies the rows
    try:
        apply_rows(app, row_ids, deadline=_request_deadline(app))
    except Exception:  # never fail the request that committed; the rows wait
        log.exception("Applying search outbox rows after commit failed")
    # Whatever is left (a backlog, rows skipped or out of time) is the
    # background sync's; a CLI command exits when done and would cut it short.
    sender = app.extensions.get(SENDER_KEY)
    if sender is not None and click.get_current_context(silent=True) is None:
        sender.wake()


def _request_deadline(app: Flask) -> float | None:
    """When this web request must stop applying outbox rows (``time.monotonic``);
    None outside a request (CLI, scripts, the background sync): nobody waits on them."""
    if not has_request_context():
        return None
    if DEADLINE_KEY not in g:
        # One budget per request, shared by all its commits.
        setattr(g, DEADLINE_KEY, time.monotonic() + app.config["SEARCH_SYNC_BUDGET"])
    return getattr(g, DEADLINE_KEY)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(DIRTY_KEY, None)
    session.info.pop(PENDING_IDS_KEY, None)


# --- the lease ------------------------------------------------------------------------


def claim(session: Session, target: str, duration: timedelta = LEASE) -> bool:
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
        .values(lease_until=now + duration)
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
    skipped: str | None = None  # why nothing was tried (busy, backing off, out of time)
    error: str | None = None
    busy: bool = False          # skipped because another process holds the lease
    out_of_time: bool = False   # stopped at the deadline with rows left


@dataclass
class SyncReport:
    targets: list[TargetReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(report.error is None for report in self.targets)

    @property
    def busy(self) -> list[str]:
        """Targets left alone because another process holds their lease."""
        return [report.target for report in self.targets if report.busy]


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _any_due(session: Session, target: str, *, respect_backoff: bool) -> bool:
    """Whether the target has a row to apply now (one indexed read, no write)."""
    due = select(SearchOutbox.id).where(SearchOutbox.target == target).limit(1)
    if respect_backoff:
        due = due.where(SearchOutbox.available_at <= utcnow())
    found = session.exec(due).first() is not None
    return found


def _due_batches(session: Session, target: str, *, respect_backoff: bool,
                 row_ids: list[int] | None, max_rows: int | None):
    """Batches of (outbox id, listing id) to apply, oldest first: the given rows,
    or every due row (at most ``max_rows``). Each is read after the previous one
    was applied, so a row that failed is not read again in the same run."""
    chunks = iter(_chunks(sorted(set(row_ids)), BATCH_SIZE)) if row_ids is not None else None
    taken = 0
    while True:
        limit = BATCH_SIZE if max_rows is None else min(BATCH_SIZE, max_rows - taken)
        if limit <= 0:
            return
        due = (select(SearchOutbox.id, SearchOutbox.listing_id)
               .where(SearchOutbox.target == target)
               .order_by(SearchOutbox.id).limit(limit))
        if respect_backoff:
            due = due.where(SearchOutbox.available_at <= utcnow())
        if chunks is not None:
            chunk = next(chunks, None)
            if chunk is None:
                return
            due = due.where(col(SearchOutbox.id).in_(chunk))
        rows = session.exec(due).all()
        if not rows and chunks is None:
            return
        if rows:
            taken += len(rows)
            yield rows


def apply_target(session: Session, target: str, backend: SearchBackend, *,
                 respect_backoff: bool = False, row_ids: list[int] | None = None,
                 max_rows: int | None = None, deadline: float | None = None,
                 progress: Callable[[int], None] | None = None) -> TargetReport:
    """Apply this target's outbox rows, oldest first, in batches.

    ``row_ids`` limits the run to those rows (a commit's own); ``max_rows``
    bounds it (a background round); ``deadline`` (``time.monotonic``) stops it
    between batches and bounds every wait on the index, so a hung node fails
    the batch (which then backs off) instead of holding the caller.
    """
    report = TargetReport(target)
    state = session.get(SearchSyncState, target)
    if respect_backoff and state is not None and state.retry_at and state.retry_at > utcnow():
        report.skipped = f"backing off until {state.retry_at:%H:%M:%S} UTC"
        return report
    remaining = _remaining(deadline)
    if remaining is not None and remaining <= 0:
        report.skipped = "no time left in this request; the background sync applies it"
        report.out_of_time = True
        return report
    if row_ids is None and not _any_due(session, target, respect_backoff=respect_backoff):
        # Idle: a worker looks every second, and taking the lease is two writes.
        return report
    lease = LEASE if remaining is None else timedelta(seconds=remaining) + REQUEST_LEASE_MARGIN
    if not claim(session, target, lease):
        report.skipped = "another process is applying it"
        report.busy = True
        return report
    released = False
    try:
        for rows in _due_batches(session, target, respect_backoff=respect_backoff,
                                 row_ids=row_ids, max_rows=max_rows):
            if _remaining(deadline) is not None and _remaining(deadline) <= 0:
                report.out_of_time = True
                break
            row_ids_now = [row_id for row_id, _ in rows]
            listing_ids = list(dict.fromkeys(listing_id for _, listing_id in rows))
            try:
                documents, gone = _write(session, backend, listing_ids, deadline)
            except SearchUnavailable as error:
                _postpone(session, target, row_ids_now, error)
                count_sends("search-sync", failed=len(rows))
                released = True
                report.error = str(error)
                return report
            session.execute(delete(SearchOutbox).where(col(SearchOutbox.id).in_(row_ids_now)))
            # The catalog pages' shelves come from the index, which has just caught up.
            catalog_cache.bump(session)
            session.commit()
            extend(session, target, lease)
            session.expunge_all()
            report.applied += len(rows)
            count_sends("search-sync", sent=len(rows))
            report.indexed += documents
            report.deleted += gone
            if progress:
                progress(report.applied)
        release(session, target, attempts=0, last_error=None, retry_at=None, synced_at=utcnow())
        released = True
    finally:
        if not released:  # an unexpected error, or the process is being stopped
            session.rollback()
            release(session, target)
    return report


def _write(session: Session, backend: SearchBackend, listing_ids: list[int],
           deadline: float | None) -> tuple[int, int]:
    """Write the listings' current documents (or their removal); returns the counts."""

    def timeout() -> float | None:
        remaining = _remaining(deadline)
        return None if remaining is None else max(remaining, MIN_WRITE_TIMEOUT)

    documents = search_documents(session, listing_ids)
    gone = sorted(set(listing_ids) - {doc["id"] for doc in documents})
    if documents:
        backend.index(documents, timeout=timeout())
    if gone:
        backend.delete(gone, timeout=timeout())
    return len(documents), len(gone)


def _postpone(session: Session, target: str, row_ids: list[int],
              error: SearchUnavailable) -> None:
    """The target failed: push these rows and the target back, and release the lease."""
    session.rollback()
    now = utcnow()
    attempts = (session.get(SearchSyncState, target).attempts or 0) + 1
    retry_at = now + BACKOFF.delay(attempts)
    session.execute(update(SearchOutbox).where(col(SearchOutbox.id).in_(row_ids))
                    .values(attempts=SearchOutbox.attempts + 1, available_at=retry_at,
                            last_error=str(error)[:1000]))
    release(session, target, attempts=attempts, last_error=str(error)[:1000], retry_at=retry_at)
    log.warning("Search target %s failed (attempt %d); retrying after %s: %s",
                target, attempts, retry_at, error)


def _targets_of(app: Flask) -> dict[str, SearchBackend]:
    return app.extensions["bazaar.search"].targets()


def apply_rows(app: Flask, row_ids: list[int], *, deadline: float | None = None) -> SyncReport:
    """Apply just these outbox rows (the ones a commit wrote) to each target.

    Targets backing off after a failure, or whose lease another process holds,
    are left alone: the background sync and ``flask search sync`` apply their
    rows later. With ``deadline`` (``time.monotonic``), stops when it passes.
    """
    report = SyncReport()
    with app_session(app, expire_on_commit=False) as session:
        for name, backend in _targets_of(app).items():
            report.targets.append(apply_target(session, name, backend, respect_backoff=True,
                                               row_ids=row_ids, deadline=deadline))
    return report


def apply_pending(app: Flask, *, respect_backoff: bool = False, max_rows: int | None = None,
                  progress: Callable[[str, int], None] | None = None) -> SyncReport:
    """Apply pending outbox rows to each search target of ``app``.

    ``respect_backoff`` (the background sync) leaves a failing target alone
    until its retry time; the CLI tries now. ``max_rows`` bounds the rows
    applied per target (one background round).
    """
    report = SyncReport()
    with app_session(app, expire_on_commit=False) as session:
        for name, backend in _targets_of(app).items():
            step = (lambda done, name=name: progress(name, done)) if progress else None
            report.targets.append(apply_target(session, name, backend, max_rows=max_rows,
                                               respect_backoff=respect_backoff, progress=step))
    return report


def pending_counts(session: Session, targets: Iterable[str]) -> dict[str, int]:
    """Outbox rows each target has still to apply."""
    counts = dict(session.exec(select(SearchOutbox.target, func.count())
                               .group_by(SearchOutbox.target)).all())
    return {target: counts.get(target, 0) for target in targets}


# --- the background sync --------------------------------------------------------------


def sync_round(app: Flask) -> int:
    """One bounded step of the background sync: at most ``BATCH_SIZE`` due rows per
    target. Returns the most rows one target applied; the sender runs another
    round at once while that is a full batch, else waits for a wake or a poll."""
    report = apply_pending(app, respect_backoff=True, max_rows=BATCH_SIZE)
    return max((target.applied for target in report.targets), default=0)


def sync_sender_of(app: Flask) -> OutboxSender | None:
    """The app's background sync, or None when ``SEARCH_SYNC_SENDER`` is "off"."""
    return app.extensions.get(SENDER_KEY)


def init_sync_sender(app: Flask) -> None:
    """Set up the background sync: ``SEARCH_SYNC_SENDER`` ("thread", or "off": the
    worker or cron runs ``flask search sync``) is read and checked by core/settings.py."""
    register_outbox(app, "search-sync", sync_round, batch=BATCH_SIZE,
                    queued_at=SearchOutbox.created_at,
                    due=lambda now: [col(SearchOutbox.available_at) <= now])
    if app.config["SEARCH_SYNC_SENDER"] != "thread":
        return
    sender = OutboxSender(app, sync_round, name="bazaar-search-sync", batch=BATCH_SIZE,
                          interval=app.config["SEARCH_SYNC_INTERVAL"])
    app.extensions[SENDER_KEY] = sender
    # Started by the first request too, so a worker that never writes still
    # applies what others left (a held lease, a retry after an outage).
    app.before_request(sender.ensure_started)
