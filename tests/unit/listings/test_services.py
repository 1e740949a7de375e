"""The listing lifecycle and governance services."""

from datetime import timedelta

import pytest
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from installs.queries import reviewing_install
from listings.browsing import top_rated_listings
from listings.models import (
    AuditEvent,
    ListingCreate,
    ListingStatus,
    ReleaseCreate,
    ReleaseStatus,
    ReviewCreate,
    ReviewStatus,
)
from listings.services import (
    ListingError,
    add_release,
    approve_listing,
    award_badge,
    create_listing,
    current_release,
    listing_for_partner,
    post_review,
    rating_summary,
    reject_listing,
    revoke_badge,
    set_collection_items,
    submit_for_review,
)
from tests import factories


def _draft(db):
    partner = factories.make_partner(db)
    category = factories.make_category(db)
    listing = create_listing(db, partner, category,
                             ListingCreate(name="Deal Desk", tagline="Approve deals", description="x"))
    db.commit()
    return listing


def test_draft_to_published(db):
    editor = factories.make_user(db, Role.EDITOR)
    listing = _draft(db)
    assert listing.slug == "deal-desk" and listing.status == ListingStatus.DRAFT
    with pytest.raises(ListingError, match="Add a release"):
        submit_for_review(db, listing)
    add_release(db, listing, ReleaseCreate(version="1.0.0", redirect_url="https://x.example.com"))
    submit_for_review(db, listing)
    assert listing.status == ListingStatus.IN_REVIEW and listing.submitted_at
    approve_listing(db, listing, editor)
    db.commit()
    assert listing.status == ListingStatus.PUBLISHED and listing.published_at
    assert current_release(db, listing.id).review_status == ReleaseStatus.APPROVED
    event = db.exec(select(AuditEvent)).one()
    assert (event.action, event.actor_id, event.target_id) == ("listing.approved", editor.id, listing.id)


def test_reject_needs_a_reason_and_returns_to_draft(db):
    editor = factories.make_user(db, Role.EDITOR)
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    with pytest.raises(ListingError, match="reason"):
        reject_listing(db, listing, editor, "  ")
    reject_listing(db, listing, editor, "Screenshots are missing.")
    assert listing.status == ListingStatus.DRAFT and listing.review_note == "Screenshots are missing."


def test_duplicate_slug_is_refused(db):
    existing = factories.make_listing(db)
    with pytest.raises(ListingError, match="taken") as error:
        create_listing(db, factories.make_partner(db), factories.make_category(db),
                       ListingCreate(name="x", tagline="y", slug=existing.slug))
    assert error.value.field == "slug"


def test_listing_for_partner_hides_other_partners_listings(db):
    listing = factories.make_listing(db)
    other = factories.make_partner(db)
    assert listing_for_partner(db, listing.partner_id, listing.id) is listing
    assert listing_for_partner(db, other.id, listing.id) is None


def test_one_verified_review_per_workspace_and_only_for_published(db):
    listing = factories.make_listing(db)
    customer = factories.make_installer(db, listing)
    workspace = factories.workspace_of(db, customer)
    install = reviewing_install(db, listing, workspace)
    review = post_review(db, listing, customer, ReviewCreate(rating=4, title="Good"), workspace,
                         install)
    assert review.status == ReviewStatus.PENDING and review.install_id == install.id
    with pytest.raises(ListingError, match="already reviewed"):
        post_review(db, listing, customer, ReviewCreate(rating=5, title="Again"), workspace,
                    install)
    draft = factories.make_listing(db, status=ListingStatus.DRAFT)
    with pytest.raises(ListingError, match="published"):
        post_review(db, draft, customer, ReviewCreate(rating=5, title="x"), workspace, install)
    other = factories.make_listing(db)
    with pytest.raises(ListingError, match="has installed"):
        post_review(db, other, customer, ReviewCreate(rating=5, title="x"), workspace,
                    reviewing_install(db, other, workspace))
    # Another app's install does not make a review of this one verified.
    with pytest.raises(ListingError, match="has installed"):
        post_review(db, other, customer, ReviewCreate(rating=5, title="x"), workspace, install)
    with pytest.raises(ListingError, match="has installed"):
        post_review(db, other, customer, ReviewCreate(rating=5, title="x"), None, None)


def test_rating_summary_counts_only_published_reviews(db):
    listing = factories.make_listing(db)
    factories.make_review(db, listing, rating=5)
    factories.make_review(db, listing, rating=4)
    factories.make_review(db, listing, rating=1, status=ReviewStatus.PENDING)
    summary = rating_summary(db, listing.id)
    assert summary["average"] == 4.5 and summary["count"] == 2 and summary["stars"][1] == 0


def test_top_rated_orders_by_score_and_leaves_out_apps_with_few_reviews(db):
    good, better, lone = (factories.make_listing(db) for _ in range(3))
    for _ in range(3):
        factories.make_review(db, good, rating=3)
        factories.make_review(db, better, rating=5)
    factories.make_review(db, lone, rating=5)
    assert [card.listing.id for card in top_rated_listings(db)] == [better.id, good.id]


def test_badges_expire_and_revoke(db):
    editor = factories.make_user(db, Role.EDITOR)
    listing = factories.make_listing(db)
    with pytest.raises(ListingError, match="future"):
        award_badge(db, listing, editor, "staff_pick", utcnow() - timedelta(days=1))
    badge = award_badge(db, listing, editor, "staff_pick", utcnow() + timedelta(days=30))
    assert badge.is_active(utcnow()) and not badge.is_active(utcnow() + timedelta(days=31))
    with pytest.raises(ListingError, match="already holds"):
        award_badge(db, listing, editor, "staff_pick", None)
    revoke_badge(db, badge, editor)
    assert not badge.is_active(utcnow())
    with pytest.raises(ListingError, match="Unknown badge"):
        award_badge(db, listing, editor, "gold_star", None)


def test_collections_take_only_published_listings(db):
    editor = factories.make_user(db, Role.EDITOR)
    published = factories.make_listing(db)
    draft = factories.make_listing(db, status=ListingStatus.DRAFT)
    collection = factories.make_collection(db, [])
    with pytest.raises(ListingError, match="Only published"):
        set_collection_items(db, collection, editor, [published.id, draft.id])
    with pytest.raises(ListingError, match="twice"):
        set_collection_items(db, collection, editor, [published.id, published.id])
