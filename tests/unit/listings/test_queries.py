"""The listings pages' reads (``listings.queries``, ``listings.prune_queries``), called
directly with a Session: what each page lists, in which order, and how many pages."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import Role
from core.db import utcnow
from listings import queries
from listings.models import AuditEvent, ListingStatus, ReleaseStatus, ReviewStatus
from listings.prune_queries import (
    active_exemptions,
    open_flags,
    open_flags_total,
    prune_runs,
)
from tests import factories


def days_ago(days: float):
    return utcnow() - timedelta(days=days)


def ids(rows) -> list[int]:
    """The ids of the first object in each row (or of each object)."""
    return [(row[0] if isinstance(row, tuple | list) or hasattr(row, "_mapping") else row).id
            for row in rows]


# --- the editor console ------------------------------------------------------------------


def test_the_queue_holds_only_submissions_oldest_first(db):
    newest = factories.make_listing(db, status=ListingStatus.IN_REVIEW, submitted_at=days_ago(1))
    oldest = factories.make_listing(db, status=ListingStatus.IN_REVIEW, submitted_at=days_ago(5))
    middle = factories.make_listing(db, status=ListingStatus.IN_REVIEW, submitted_at=days_ago(3))
    factories.make_listing(db, status=ListingStatus.DRAFT)
    factories.make_listing(db, status=ListingStatus.PUBLISHED)

    rows = queries.submissions_in_review(db)

    assert ids(rows) == [oldest.id, middle.id, newest.id]
    _listing, partner, category = rows[0]
    assert (partner.id, category.id) == (oldest.partner_id, oldest.category_id)


def test_releases_awaiting_review_are_pending_releases_of_live_listings_only(db):
    published = factories.make_listing(db)
    delisted = factories.make_listing(db, status=ListingStatus.DELISTED)
    submission = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    later = factories.make_release(db, published, "2.0.0", ReleaseStatus.PENDING)
    earlier = factories.make_release(db, delisted, "1.1.0", ReleaseStatus.PENDING)
    earlier.created_at = days_ago(2)
    factories.save(db, earlier)
    factories.make_release(db, published, "1.5.0", ReleaseStatus.REJECTED)

    rows = queries.releases_awaiting_review(db)

    # The submission's pending release is decided with the listing, so it is not here.
    assert [(release.id, listing.id) for release, listing in rows] == [
        (earlier.id, delisted.id), (later.id, published.id)]
    assert submission.id not in {listing.id for _, listing in rows}


def test_reviews_awaiting_moderation_come_oldest_first_a_page_at_a_time(db):
    listing = factories.make_listing(db)
    pending = [factories.make_review(db, listing, status=ReviewStatus.PENDING,
                                     created_at=days_ago(10 - n)) for n in range(5)]
    factories.make_review(db, listing, status=ReviewStatus.PUBLISHED, created_at=days_ago(20))
    factories.make_review(db, listing, status=ReviewStatus.REJECTED, created_at=days_ago(20))

    first = queries.reviews_awaiting_moderation(db, page=1, per_page=2)
    last = queries.reviews_awaiting_moderation(db, page=3, per_page=2)
    beyond = queries.reviews_awaiting_moderation(db, page=4, per_page=2)

    assert (ids(first.rows), first.total) == ([pending[0].id, pending[1].id], 5)
    assert (ids(last.rows), last.total) == ([pending[4].id], 5)
    assert (beyond.rows, beyond.total) == ([], 5)
    _review, review_listing, author = first.rows[0]
    assert (review_listing.id, author.id) == (listing.id, pending[0].author_id)


def test_the_audit_log_is_newest_first_filtered_by_action_and_counted(db):
    editor = factories.make_user(db, role=Role.EDITOR, name="Edith Editor")
    events = [factories.save(db, AuditEvent(actor_id=editor.id if n % 2 else None,
                                            action="listing.approved" if n < 3 else "badge.awarded",
                                            target_type="listing", target_id=n,
                                            created_at=days_ago(10 - n)))
              for n in range(5)]

    everything = queries.audit_events(db, page=1, per_page=3)
    second_page = queries.audit_events(db, page=2, per_page=3)
    approvals = queries.audit_events(db, page=1, per_page=3, action="listing.approved")

    assert ([event.id for event, _ in everything.rows], everything.total) == (
        [events[4].id, events[3].id, events[2].id], 5)
    assert [event.id for event, _ in second_page.rows] == [events[1].id, events[0].id]
    assert ([event.id for event, _ in approvals.rows], approvals.total) == (
        [events[2].id, events[1].id, events[0].id], 3)
    # The actor's name, or None for an action the system took.
    assert [actor for _, actor in approvals.rows] == [None, "Edith Editor", None]
    assert queries.audit_actions(db) == ["badge.awarded", "listing.approved"]


def test_active_badges_leave_out_revoked_and_expired_ones(db):
    alpha = factories.make_listing(db, name="Alpha")
    beta = factories.make_listing(db, name="Beta")
    kept_beta = factories.make_badge(db, beta, kind="staff_pick")
    kept_alpha = factories.make_badge(db, alpha, kind="staff_pick",
                                      expires_at=utcnow() + timedelta(days=3))
    factories.make_badge(db, alpha, kind="security_reviewed", expires_at=days_ago(1))
    revoked = factories.make_badge(db, beta, kind="security_reviewed")
    revoked.revoked_at = days_ago(1)
    factories.save(db, revoked)

    rows = queries.active_badges(db, utcnow())

    assert [(badge.id, listing.name) for badge, listing in rows] == [
        (kept_alpha.id, "Alpha"), (kept_beta.id, "Beta")]


def test_collections_their_sizes_and_their_listings_in_order(db):
    first, second, third = (factories.make_listing(db) for _ in range(3))
    full = factories.make_collection(db, [third, first, second])
    empty = factories.make_collection(db, [])

    assert ids(queries.collections_in_order(db)) == [full.id, empty.id]
    assert queries.collection_sizes(db) == {full.id: 3}
    assert [listing.id for _, listing in queries.collection_rows(db, full.id)] == [
        third.id, first.id, second.id]
    assert queries.collection_rows(db, empty.id) == []


def test_a_listing_and_a_screenshot_are_found_by_slug_and_file_name(db, app):
    draft = factories.make_listing(db, status=ListingStatus.DRAFT)
    shot = factories.make_screenshot(db, draft, app.config["UPLOAD_FOLDER"])

    assert queries.listing_by_slug(db, draft.slug).id == draft.id
    assert queries.listing_by_slug(db, "no-such-app") is None
    assert queries.screenshot_by_filename(db, shot.filename).id == shot.id
    assert queries.screenshot_by_filename(db, "missing.png") is None


# --- one listing's pages -------------------------------------------------------------------


def test_one_listings_releases_screenshots_badges_and_reviews(db, app):
    listing = factories.make_listing(db, with_release=False)
    other = factories.make_listing(db)
    old = factories.make_release(db, listing, "1.0.0")
    old.created_at = days_ago(30)
    factories.save(db, old)
    new = factories.make_release(db, listing, "2.0.0", ReleaseStatus.PENDING)
    shots = [factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"]) for _ in range(2)]
    factories.make_screenshot(db, other, app.config["UPLOAD_FOLDER"])
    expired = factories.make_badge(db, listing, expires_at=days_ago(1))
    current = factories.make_badge(db, listing, kind="security_reviewed")
    rita, sam = (factories.make_user(db, name=name) for name in ("Rita Reviewer", "Sam Scorer"))
    older = factories.make_review(db, listing, rita, created_at=days_ago(4))
    newer = factories.make_review(db, listing, sam, created_at=days_ago(1))
    factories.make_review(db, listing, status=ReviewStatus.PENDING)
    factories.make_review(db, other)

    assert ids(queries.listing_releases(db, listing.id)) == [new.id, old.id]
    assert ids(queries.listing_screenshots(db, listing.id)) == [shot.id for shot in shots]
    assert set(ids(queries.listing_badges(db, listing.id))) == {expired.id, current.id}
    assert [(review.id, name) for review, name in
            queries.published_reviews_with_authors(db, listing.id)] == [
        (newer.id, "Sam Scorer"), (older.id, "Rita Reviewer")]


# --- the partner portal ----------------------------------------------------------------------


def test_a_partners_listings_are_its_own_only_most_recently_updated_first(db):
    partner, rival = factories.make_partner(db), factories.make_partner(db)
    stale = factories.make_listing(db, partner, status=ListingStatus.DRAFT, updated_at=days_ago(9))
    fresh = factories.make_listing(db, partner, updated_at=days_ago(1))
    middle = factories.make_listing(db, partner, status=ListingStatus.DELISTED,
                                    updated_at=days_ago(4))
    rivals = factories.make_listing(db, rival, updated_at=utcnow())

    assert ids(queries.partner_listings(db, partner.id)) == [fresh.id, middle.id, stale.id]
    assert ids(queries.partner_listings(db, rival.id)) == [rivals.id]


def test_latest_releases_give_each_listing_its_newest_release(db):
    updated = factories.make_listing(db, with_release=False)
    first = factories.make_release(db, updated, "1.0.0")
    first.created_at = days_ago(5)
    factories.save(db, first)
    pending = factories.make_release(db, updated, "1.1.0", ReleaseStatus.PENDING)
    single = factories.make_listing(db)
    bare = factories.make_listing(db, with_release=False)

    latest = queries.latest_releases(db, [updated.id, single.id, bare.id])

    assert latest[updated.id].id == pending.id
    assert latest[single.id].version == "1.0.0"
    assert bare.id not in latest
    assert queries.latest_releases(db, []) == {}


def test_categories_come_in_storefront_order(db):
    categories = [factories.make_category(db) for _ in range(3)]
    found = ids(queries.categories_in_order(db))
    assert [found.index(category.id) for category in categories] == sorted(
        found.index(category.id) for category in categories)


# --- the pruning console ------------------------------------------------------------------------


def test_prune_runs_come_newest_first_a_page_at_a_time(db):
    runs = [factories.make_prune_run(db, started_at=days_ago(10 - n)) for n in range(3)]

    first = prune_runs(db, page=1, per_page=2)
    second = prune_runs(db, page=2, per_page=2)

    assert (ids(first.rows), first.total) == ([runs[2].id, runs[1].id], 3)
    assert (ids(second.rows), second.total) == ([runs[0].id], 3)


def test_open_flags_nearest_delisting_first_and_counted(db):
    listing = factories.make_listing(db)
    later = factories.make_flag(db, listing, rule="no_recent_release", grace_days=20)
    sooner = factories.make_flag(db, listing, rule="few_active_installs", grace_days=5)
    factories.make_flag(db, listing, rule="never_installed", cleared=True)

    assert open_flags_total(db) == 2
    assert [flag.id for flag, _ in open_flags(db, limit=10)] == [sooner.id, later.id]
    assert [flag.id for flag, _ in open_flags(db, limit=1)] == [sooner.id]


def test_active_exemptions_leave_out_ended_and_expired_ones(db):
    listing = factories.make_listing(db)
    long = factories.make_exemption(db, listing, days=90)
    short = factories.make_exemption(db, listing, rule="few_active_installs", days=10)
    factories.make_exemption(db, listing, rule="never_installed", ended=True)
    factories.make_exemption(db, listing, rule="no_recent_release", days=-1)

    shown = active_exemptions(db, utcnow(), limit=1)
    every = active_exemptions(db, utcnow(), limit=10)

    assert ([exemption.id for exemption, _ in shown.rows], shown.total) == ([short.id], 2)
    assert [exemption.id for exemption, _ in every.rows] == [short.id, long.id]
    assert every.rows[0][1].id == listing.id
