"""An applier that is stopped half-way (a gunicorn worker past its timeout
gets SystemExit) gives the target's lease back, so the next applier does not
wait for it to expire; the rows it did not reach stay pending."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from core.db import utcnow
from search import sync
from search.models import SearchOutbox, SearchSyncState
from tests import factories


def test_a_stopped_applier_releases_the_lease_and_keeps_the_rest(app, db):
    listing = factories.make_listing(db)
    now = utcnow()
    db.execute(insert(SearchOutbox), [
        {"listing_id": listing.id, "target": "embedded", "created_at": now, "available_at": now,
         "attempts": 0} for _ in range(sync.BATCH_SIZE + 100)])
    db.commit()

    def worker_timeout(_target: str, _done: int) -> None:
        raise SystemExit(1)  # what gunicorn's abort raises in the middle of a request

    with pytest.raises(SystemExit):
        sync.apply_pending(app, progress=worker_timeout)

    db.expire_all()
    assert db.get(SearchSyncState, "embedded").lease_until is None
    assert sync.pending_counts(db, ["embedded"]) == {"embedded": 100}
    assert sync.claim(db, "embedded")  # the next applier gets it at once
