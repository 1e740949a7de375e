"""The search outbox: captured with the change, applied after commit, retried
when a target fails, and never lost."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from accounts.models import Role
from listings.models import ListingStatus, ReviewStatus
from listings.services import delist_listing, moderate_review
from search import sync
from search.interfaces import SearchQuery
from search.models import SearchOutbox, SearchSyncState
from tests import factories


def found(app, text: str) -> list[int]:
    result = app.extensions["bazaar.search"].search(SearchQuery(text=text)).result
    return [hit.id for hit in result.hits]


def outbox_rows(db) -> int:
    return db.exec(select(func.count()).select_from(SearchOutbox)).one()


def test_a_change_writes_its_outbox_row_in_the_same_transaction(app, db):
    listing = factories.make_listing(db, name="Quillpad")
    listing.tagline = "Notes for teams"
    db.add(listing)
    db.flush()
    rows = db.exec(select(SearchOutbox).where(SearchOutbox.listing_id == listing.id)).all()
    assert [row.target for row in rows] == ["embedded"]
    db.rollback()
    assert outbox_rows(db) == 0  # the rolled-back change left nothing behind


def test_commit_updates_the_index_at_once(app, db):
    listing = factories.make_listing(db, name="Quillpad")
    assert found(app, "quillpad") == [listing.id]
    listing.name = "Inkwell"
    db.add(listing)
    db.commit()
    assert found(app, "inkwell") == [listing.id] and found(app, "quillpad") == []


def test_only_published_listings_are_in_the_index(app, db):
    draft = factories.make_listing(db, name="Draftly", status=ListingStatus.DRAFT)
    assert found(app, "draftly") == []
    draft.status = ListingStatus.PUBLISHED
    db.add(draft)
    db.commit()
    assert found(app, "draftly") == [draft.id]
    editor = factories.make_user(db, Role.EDITOR)
    delist_listing(db, draft, editor, "Abandoned")
    db.commit()
    assert found(app, "draftly") == []


def test_published_review_changes_the_rating_in_the_index(app, db):
    listing = factories.make_listing(db, name="Ratable")
    review = factories.make_review(db, listing, rating=2, status=ReviewStatus.PENDING)
    editor = factories.make_user(db, Role.EDITOR)
    moderate_review(db, review, editor, publish=True)
    db.commit()
    result = app.extensions["bazaar.search"].search(SearchQuery(min_rating=2)).result
    assert [hit.id for hit in result.hits] == [listing.id]


def test_applied_rows_are_purged(app, db):
    factories.make_listing(db)
    assert outbox_rows(db) == 0
    assert sync.pending_counts(db, ["embedded"]) == {"embedded": 0}


class TestWhenOpenSearchIsDown:
    @pytest.fixture
    def app_overrides(self):
        return {"OPENSEARCH_URL": "http://127.0.0.1:9", "OPENSEARCH_TIMEOUT": 0.3}

    def test_embedded_goes_on_and_opensearch_keeps_its_rows_with_backoff(self, app, db):
        listing = factories.make_listing(db, name="Resilient")
        # The embedded index got it; the page answers from it while OpenSearch is down.
        answer = app.extensions["bazaar.search"].search(SearchQuery(text="resilient"))
        assert answer.degraded and [hit.id for hit in answer.result.hits] == [listing.id]
        state = db.get(SearchSyncState, "opensearch")
        db.refresh(state)
        assert state.attempts >= 1 and state.retry_at is not None and state.last_error
        pending = sync.pending_counts(db, ["opensearch", "embedded"])
        assert pending["embedded"] == 0 and pending["opensearch"] > 0  # kept for OpenSearch

    def test_web_commits_back_off_but_the_cli_retries(self, app, db, runner):
        factories.make_listing(db, name="Patient")
        result = runner.invoke(args=["search", "sync"])
        assert result.exit_code == 1
        assert "opensearch: FAILED" in result.output and "will retry" in result.output
        status = runner.invoke(args=["search", "status"])
        assert "opensearch: unreachable" in status.output and "failing" in status.output


def test_a_held_lease_makes_a_second_applier_skip(app, db):
    assert sync.claim(db, "embedded")
    factories.make_listing(db)  # its commit can't apply its row: the lease is held
    report = sync.apply_pending(app)
    assert report.targets[0].skipped == "another process is applying it"
    sync.release(db, "embedded")
    report = sync.apply_pending(app)
    assert report.targets[0].skipped is None and report.targets[0].applied >= 1


def test_an_idle_round_takes_no_lease(app, db):
    """A worker looks for rows every second: with none due it writes nothing."""
    factories.make_listing(db)  # applied by its own commit
    before = db.get(SearchSyncState, "embedded")
    synced_at = before.synced_at if before else None
    report = sync.apply_pending(app, respect_backoff=True, max_rows=sync.BATCH_SIZE)
    assert report.targets[0].applied == 0 and report.targets[0].skipped is None
    db.expire_all()
    after = db.get(SearchSyncState, "embedded")
    assert (after.synced_at if after else None) == synced_at


def test_reindex_and_status_commands(app, db, runner):
    for n in range(3):
        factories.make_listing(db, name=f"Indexed {n}")
    factories.make_listing(db, status=ListingStatus.DRAFT)
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "embedded: indexed 3 listings" in result.output and "docs/s" in result.output
    status = runner.invoke(args=["search", "status"])
    assert "published listings in the database: 3" in status.output
    assert "embedded: 3 documents, 0 pending changes" in status.output
    unknown = runner.invoke(args=["search", "reindex", "--target", "elastic"])
    assert unknown.exit_code == 2 and "not configured here" in unknown.output


def test_status_says_when_an_index_needs_a_rebuild_for_new_settings(app, db, runner,
                                                                     monkeypatch):
    service = app.extensions["bazaar.search"]
    embedded = service.targets()["embedded"]

    class OldIndex:  # what an OpenSearch index made by an older release answers
        def ping(self):
            return True

        def count(self):
            return 0

        def settings_outdated(self):
            return True

    monkeypatch.setattr(service, "targets", lambda: {"embedded": embedded,
                                                     "opensearch": OldIndex()})
    status = runner.invoke(args=["search", "status"])
    assert status.exit_code == 0, status.output
    assert ("opensearch: 0 documents, 0 pending changes; made with older analysis "
            "settings: run `flask search reindex --target opensearch` to apply them"
            in status.output)
    assert "embedded: 0 documents, 0 pending changes\n" in status.output



def test_an_install_reaches_the_index_through_the_outbox(app, db):
    popular, quiet = factories.make_listing(db, name="Popular"), factories.make_listing(db, name="Quiet")
    admin = factories.make_user(db)
    factories.make_install(db, factories.make_workspace(db, admin), popular, admin)
    result = app.extensions["bazaar.search"].search(SearchQuery(sort="installs")).result
    assert [hit.id for hit in result.hits] == [popular.id, quiet.id]
