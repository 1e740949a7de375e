"""Search's answer to listings' ``Search`` port (listings.ports): listings changed by
bulk statements get outbox rows in their transaction, and a command can bring the
indexes up to date itself, with a progress bar."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from sqlmodel import Session

from search import sync
from search.cli import sync_with_progress


class SearchIndexing:
    def listings_changed(self, session: Session, listing_ids: Iterable[int]) -> None:
        sync.enqueue(session, listing_ids)

    def index_later(self, session: Session) -> None:
        # The rows stay in the outbox; only the after-commit apply is skipped.
        session.info.pop(sync.DIRTY_KEY, None)

    def index_now(self, app: Flask, *, progress: bool = False) -> None:
        if progress:
            sync_with_progress(app)
        else:
            sync.apply_pending(app)
