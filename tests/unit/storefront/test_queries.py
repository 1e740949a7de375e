"""The storefront's read queries (storefront/queries.py), called directly: no
request, no HTTP client. Each test pins down what a page shows, in what order, and
that one customer's or listing's rows never turn up in another's."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import Role
from core.db import utcnow
from listings.models import ListingStatus, ReviewStatus
from listings.review_models import ReviewVote
from storefront.queries import (
    category_by_slug,
    collection_by_slug,
    expired_installs,
    listing_screenshots,
    listings_by_id,
    partner_name,
    partner_names,
    published_reviews_page,
    review_by_author,
    trials_by_id,
    users_page,
    visible_screenshot,
)
from tests import factories


def test_category_and_collection_are_found_by_slug_and_unknown_slugs_by_none(db):
    category = factories.make_category(db, name="Finance")
    collection = factories.make_collection(db, [factories.make_listing(db)], name="Picks")
    assert category_by_slug(db, category.slug).id == category.id
    assert collection_by_slug(db, collection.slug).id == collection.id
    assert category_by_slug(db, "no-such-category") is None
    assert collection_by_slug(db, category.slug) is None  # a category's slug is no collection's


def test_screenshots_come_in_the_partners_order_and_only_the_listings_own(app, db):
    folder = app.config["UPLOAD_FOLDER"]
    listing, other = factories.make_listing(db), factories.make_listing(db)
    first, second = (factories.make_screenshot(db, listing, folder) for _ in range(2))
    factories.make_screenshot(db, other, folder)
    first.position, second.position = 2, 1  # the partner moved the second one up
    factories.save(db, first, second)
    assert [shot.id for shot in listing_screenshots(db, listing.id)] == [second.id, first.id]


def test_a_screenshot_file_is_served_only_for_a_published_or_delisted_listing(app, db):
    folder = app.config["UPLOAD_FOLDER"]
    shots = {status: factories.make_screenshot(db, factories.make_listing(db, status=status), folder)
             for status in (ListingStatus.PUBLISHED, ListingStatus.DELISTED, ListingStatus.DRAFT,
                            ListingStatus.IN_REVIEW)}
    visible = {status for status, shot in shots.items() if visible_screenshot(db, shot.filename)}
    assert visible == {ListingStatus.PUBLISHED, ListingStatus.DELISTED}
    assert visible_screenshot(db, "no-such-file.png") is None


def test_published_reviews_newest_first_a_page_at_a_time_with_author_install_and_votes(db):
    listing, other = factories.make_listing(db), factories.make_listing(db)
    now = utcnow()
    installer = factories.make_installer(db, listing, name="Ada Installer")
    install = factories.make_install(db, factories.workspace_of(db, installer), other)
    reviews = [factories.make_review(db, listing, created_at=now - timedelta(days=days))
               for days in (3, 1, 2)]
    verified = factories.make_review(db, listing, author=installer, install_id=install.id,
                                     created_at=now)
    factories.make_review(db, listing, status=ReviewStatus.PENDING, created_at=now)
    factories.make_review(db, listing, status=ReviewStatus.REJECTED, created_at=now)
    factories.make_review(db, other, created_at=now)

    for voter in (factories.make_user(db), factories.make_user(db)):
        factories.save(db, ReviewVote(review_id=verified.id, user_id=voter.id))

    first = published_reviews_page(db, listing.id, page=1, per_page=3)
    second = published_reviews_page(db, listing.id, page=2, per_page=3)

    assert [review.id for review, *_ in first + second] == \
        [verified.id, reviews[1].id, reviews[2].id, reviews[0].id]
    assert first[0][1:] == ("Ada Installer", install, 2)  # two helpful votes
    assert second[0][2:] == (None, 0)  # without an install it still shows, unverified
    assert published_reviews_page(db, listing.id, page=3, per_page=3) == []


def test_a_users_review_is_found_in_any_status_and_never_another_users(db):
    listing = factories.make_listing(db)
    author, stranger = factories.make_user(db), factories.make_user(db)
    pending = factories.make_review(db, listing, author=author, status=ReviewStatus.PENDING)
    factories.make_review(db, factories.make_listing(db), author=stranger)
    assert review_by_author(db, listing.id, author.id).id == pending.id
    assert review_by_author(db, listing.id, stranger.id) is None


def test_expired_installs_are_the_workspaces_own_most_recently_ended_first(db):
    ours = factories.make_workspace(db, factories.make_user(db))
    theirs = factories.make_workspace(db, factories.make_user(db))
    now = utcnow()
    older, newer = (factories.make_install(db, ours, factories.make_listing(db), status="expired")
                    for _ in range(2))
    older.uninstalled_at, newer.uninstalled_at = now - timedelta(days=5), now - timedelta(days=1)
    factories.save(db, older, newer)
    factories.make_install(db, ours, factories.make_listing(db))  # active
    factories.make_install(db, ours, factories.make_listing(db), status="uninstalled")
    factories.make_install(db, theirs, factories.make_listing(db), status="expired")

    assert [install.id for install in expired_installs(db, ours.id)] == [newer.id, older.id]


def test_listings_and_trials_by_id_return_just_those_asked_for(db):
    first, second, third = (factories.make_listing(db) for _ in range(3))
    workspace = factories.make_workspace(db, factories.make_user(db))
    trial = factories.make_trial(db, workspace, first)
    factories.make_trial(db, workspace, second)
    assert set(listings_by_id(db, [first.id, third.id, first.id])) == {first.id, third.id}
    assert listings_by_id(db, [second.id])[second.id].name == second.name
    assert trials_by_id(db, [trial.id]) == {trial.id: trial}
    assert listings_by_id(db, []) == {} and trials_by_id(db, set()) == {}


def test_users_page_matches_email_ignoring_case_in_email_order_a_page_at_a_time(db):
    for email in ("carol@shop.test", "Alice@Shop.test", "bob@shop.test", "dave@other.test"):
        factories.make_user(db, email=email)

    first = users_page(db, "SHOP.test", page=1, per_page=2)
    second = users_page(db, "SHOP.test", page=2, per_page=2)

    assert (first.total, second.total) == (3, 3)
    assert [user.email for user in first.users + second.users] == \
        ["Alice@Shop.test", "bob@shop.test", "carol@shop.test"]
    assert users_page(db, "", page=1, per_page=100).total == 4


def test_users_page_takes_percent_and_underscore_literally(db):
    factories.make_user(db, email="a_b@example.com")
    factories.make_user(db, email="axb@example.com")
    factories.make_user(db, email="100%@example.com")
    assert [user.email for user in users_page(db, "a_b", 1, 10).users] == ["a_b@example.com"]
    assert [user.email for user in users_page(db, "%", 1, 10).users] == ["100%@example.com"]


def test_partner_names_in_name_order_and_a_missing_partner_has_none(db):
    zeta, acme = factories.make_partner(db, name="Zeta Apps"), factories.make_partner(db, name="Acme")
    assert list(partner_names(db).items()) == [(acme.id, "Acme"), (zeta.id, "Zeta Apps")]
    member = factories.make_user(db, Role.PARTNER, partner=zeta)
    assert partner_name(db, member.partner_id) == "Zeta Apps"
    assert partner_name(db, None) is None
    assert partner_name(db, zeta.id + acme.id + 1000) is None
