"""`flask search ...`: apply the outbox, rebuild indexes, and report their state."""

from __future__ import annotations

import gc
import sys
import time
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlmodel import Session
from tqdm import tqdm

from core.db import app_session
from listings import catalog_cache
from listings.documents import iter_published_documents, published_listing_count
from search import sync
from search.interfaces import SearchUnavailable

REBUILD_LEASE = timedelta(hours=2)


def _session() -> Session:
    return app_session(current_app._get_current_object(), expire_on_commit=False)


def _targets(choice: str) -> dict:
    targets = current_app.extensions["bazaar.search"].targets()
    if choice == "all":
        return targets
    if choice not in targets:
        raise click.BadParameter(f"{choice!r} is not configured here; configured: "
                                 f"{', '.join(targets)}", param_hint="--target")
    return {choice: targets[choice]}


def sync_with_progress(app: Flask) -> sync.SyncReport:
    """Apply pending outbox rows with a progress bar per target, and say how it went."""
    bars: dict[str, tqdm] = {}

    def progress(target: str, done: int) -> None:
        bar = bars.setdefault(target, tqdm(desc=f"Indexing ({target})", unit=" rows",
                                           file=sys.stderr, disable=None, leave=False))
        bar.update(done - bar.n)

    report = sync.apply_pending(app, progress=progress)
    for bar in bars.values():
        bar.close()
    for target in report.targets:
        if target.busy:
            click.echo(f"{target.target}: not synced: another process holds its lease (a sync "
                       "or a rebuild); its rows wait. Try again shortly.", err=True)
        elif target.skipped:
            click.echo(f"{target.target}: skipped ({target.skipped})")
        elif target.error:
            click.echo(f"{target.target}: FAILED after {target.applied} rows, will retry: "
                       f"{target.error}", err=True)
        else:
            click.echo(f"{target.target}: applied {target.applied} rows "
                       f"({target.indexed} indexed, {target.deleted} removed)")
    return report


search_cli = AppGroup("search", help="Search index commands.")


@search_cli.command("sync", help="Apply pending changes to the search indexes. Exits "
                                 "1 when a target failed or was busy.")
def sync_command():
    report = sync_with_progress(current_app)
    if not report.ok or report.busy:
        raise SystemExit(1)


@search_cli.command("reindex", help="Build fresh indexes from the database and swap "
                                    "them in atomically.")
@click.option("--target", default="all", show_default=True,
              help="embedded, opensearch or all")
def reindex_command(target: str):
    # What is loaded by now (the app, its modules, SQLAlchemy's caches) outlives the
    # rebuild: frozen, it is skipped by the cyclic GC's full collections, which
    # otherwise walk it some twenty times and took a third of building 100,000
    # documents. https://docs.python.org/3/library/gc.html#gc.freeze
    gc.freeze()
    try:
        _reindex(target)
    finally:
        gc.unfreeze()


def _reindex(target: str) -> None:
    for name, backend in _targets(target).items():
        with _session() as session:
            # Holding the target's lease makes changes made meanwhile wait in
            # the outbox; they are applied to the new index after the swap.
            if not sync.claim(session, name):
                raise click.ClickException(f"{name}: another process is syncing or "
                                           "rebuilding it; try again shortly.")
            # Long enough for any rebuild; released at the end, or expires if we die.
            sync.extend(session, name, REBUILD_LEASE)
            total = published_listing_count(session)
            started = time.perf_counter()
            try:
                with tqdm(total=total, desc=f"Reindexing ({name})", unit=" docs",
                          file=sys.stderr, disable=None) as bar:

                    count = backend.rebuild(iter_published_documents(session), total,
                                            lambda done, bar=bar: bar.update(done - bar.n))
            except SearchUnavailable as error:
                raise click.ClickException(f"{name}: {error}") from None
            finally:
                session.rollback()
                sync.release(session, name)
            seconds = time.perf_counter() - started
            # The catalog pages' shelves come from the index: kept pages are stale now.
            catalog_cache.bump(session)
            session.commit()
        rate = count / seconds if seconds else count
        click.echo(f"{name}: indexed {count} listings in {seconds:.1f}s ({rate:,.0f} docs/s)")
    sync_with_progress(current_app)


def _settings_outdated(backend) -> bool:
    """Whether ``backend`` says its index needs a rebuild for new settings (only an
    OpenSearch index can); an index that stopped answering meanwhile is not."""
    outdated = getattr(backend, "settings_outdated", None)
    try:
        return bool(outdated and outdated())
    except SearchUnavailable:
        return False


@search_cli.command("status", help="Documents in the database vs. each index, and "
                                   "pending changes. Exits 1 when an index is unreachable.")
def status_command():
    targets = current_app.extensions["bazaar.search"].targets()
    with _session() as session:
        published = published_listing_count(session)
        pending = sync.pending_counts(session, targets)
        states = {name: session.get(sync.SearchSyncState, name) for name in targets}
    click.echo(f"published listings in the database: {published}")
    unreachable = False
    for name, backend in targets.items():
        # ping() first: it never raises nor logs the client's raw error.
        try:
            indexed = f"{backend.count()} documents" if backend.ping() else None
        except SearchUnavailable:
            indexed = None
        reachable = indexed is not None
        if not reachable:
            unreachable = True
            where = getattr(backend, "location", None)
            indexed = f"unreachable at {where}" if where else "unreachable"
        state = states[name]
        line = f"{name}: {indexed}, {pending[name]} pending changes"
        if state and state.synced_at:
            line += f", last synced {state.synced_at:%Y-%m-%d %H:%M:%S} UTC"
        if state and state.last_error:
            line += f", failing ({state.attempts} tries): {state.last_error}"
        if reachable and _settings_outdated(backend):
            line += (f"; made with older analysis settings: run `flask search reindex "
                     f"--target {name}` to apply them")
        click.echo(line)
    if unreachable:
        raise SystemExit(1)
