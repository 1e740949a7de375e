"""The editor console: queue, listing review and decisions, releases, review
moderation, badges, collections, the audit log, and who may use it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from accounts.models import Role
from core.db import utcnow
from listings.models import (
    AuditEvent,
    Badge,
    Collection,
    CollectionItem,
    ListingStatus,
    Release,
    ReleaseStatus,
    ReviewStatus,
)
from tests import factories


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR, name="Edna Editor")
    login(user)
    return user


def page_text(response) -> str:
    return response.get_data(as_text=True)


def events(db, action: str | None = None) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.exec(query).all())


def fresh(db, obj):
    db.expire_all()
    return db.get(type(obj), obj.id)


def collection_ids(db, collection) -> list[int]:
    db.expire_all()
    return list(db.exec(select(CollectionItem.listing_id)
                        .where(CollectionItem.collection_id == collection.id)
                        .order_by(CollectionItem.position)).all())


# --- the queue ---------------------------------------------------------------------


def test_queue_lists_submissions_oldest_first_and_pending_releases(client, db, editor):
    now = utcnow()
    newer = factories.make_listing(db, status=ListingStatus.IN_REVIEW, name="Newer Tool",
                                   submitted_at=now - timedelta(hours=1))
    older = factories.make_listing(db, status=ListingStatus.IN_REVIEW, name="Older Tool",
                                   submitted_at=now - timedelta(days=2), pricing_model="flat_monthly",
                                   monthly_price=1500)
    factories.make_listing(db, status=ListingStatus.DRAFT, name="Draft Tool")
    live = factories.make_listing(db, name="Live Tool")
    factories.make_release(db, live, version="2.0.0", review_status=ReleaseStatus.PENDING,
                           scopes=[{"scope": "contacts:write", "justification": "Sync contacts."}])

    page = page_text(client.get("/editor/"))

    assert "Listings waiting for review (2)" in page
    assert page.index("Older Tool") < page.index("Newer Tool")
    assert "$15.00 / month" in page
    assert "Draft Tool" not in page
    assert "New releases of published listings (1)" in page
    assert "Version 2.0.0" in page and "Live Tool" in page
    assert "Create, change and delete your contacts" in page
    assert "(can change data)" in page
    assert f"/editor/listings/{older.id}" in page and f"/editor/listings/{newer.id}" in page


def test_empty_queue_says_so(client, db, editor):
    page = page_text(client.get("/editor/"))
    assert "No listings are waiting for review." in page
    assert "No new releases are waiting for review." in page
    assert 'aria-current="page"' in page


# --- the review page and listing decisions ----------------------------------------


def test_review_page_shows_what_an_editor_needs(client, db, editor, app):
    listing = factories.make_listing(
        db, status=ListingStatus.IN_REVIEW, description="Syncs **everything** nightly.",
        pricing_model="usage", unit_name="sync", unit_price=5, data_residency=["eu"],
        website_url="https://tool.example.com",
        scopes=[{"scope": "contacts:write", "justification": "We update contact records."},
                {"scope": "deals:read", "justification": "We read deal stages."}])
    shot = factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"], caption="Dashboard view")

    response = client.get(f"/editor/listings/{listing.id}")
    page = page_text(response)

    assert response.status_code == 200
    assert "<strong>everything</strong>" in page
    assert "$0.05 per sync" in page
    assert "European Union" in page
    assert "https://tool.example.com" in page
    assert "Create, change and delete your contacts" in page
    assert "Write access: can change data" in page
    assert "We update contact records." in page and "We read deal stages." in page
    assert "https://app.example.com/installed" in page and "https://app.example.com/webhooks" in page
    assert 'alt="Dashboard view"' in page
    assert "Approve and publish" in page and "Reject" in page
    # A listing in review is not public yet, so its screenshot comes from the console.
    image_url = re.search(r'<img src="([^"]+)"', page).group(1)
    assert shot.filename in image_url
    image = client.get(image_url)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "no-store" in image.headers["Cache-Control"]
    image.close()


def test_review_page_of_unknown_listing_is_404(client, db, editor):
    assert client.get("/editor/listings/9999").status_code == 404


def test_approve_publishes_listing_and_its_releases_and_writes_audit(client, db, editor):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW, name="Ready App")

    response = client.post(f"/editor/listings/{listing.id}/approve", follow_redirects=True)

    assert response.status_code == 200
    assert "“Ready App” is published." in page_text(response)
    listing = fresh(db, listing)
    assert listing.status == ListingStatus.PUBLISHED and listing.published_at is not None
    release = db.exec(select(Release).where(Release.listing_id == listing.id)).one()
    assert release.review_status == ReleaseStatus.APPROVED
    [event] = events(db, "listing.approved")
    assert event.actor_id == editor.id and event.target_id == listing.id
    # Gone from the queue, and customers can see it.
    assert "Ready App" not in page_text(client.get("/editor/"))
    assert client.get(f"/apps/{listing.slug}").status_code == 200


def test_approving_a_listing_not_in_review_is_refused_with_a_message(client, db, editor):
    draft = factories.make_listing(db, status=ListingStatus.DRAFT)

    response = client.post(f"/editor/listings/{draft.id}/approve", follow_redirects=True)

    assert "Only a listing in review can be approved." in page_text(response)
    assert fresh(db, draft).status == ListingStatus.DRAFT
    assert events(db) == []


def test_reject_needs_a_reason(client, db, editor):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)

    response = client.post(f"/editor/listings/{listing.id}/reject", data={"reject-reason": "   "})

    assert response.status_code == 400
    assert 'id="reject-reason-error">Give the partner a reason.' in page_text(response)
    assert fresh(db, listing).status == ListingStatus.IN_REVIEW
    assert events(db) == []


def test_reject_sends_listing_back_with_a_note_the_partner_sees(client, db, editor):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)

    response = client.post(f"/editor/listings/{listing.id}/reject",
                           data={"reject-reason": "Add a privacy policy link."})

    assert response.status_code == 302
    listing = fresh(db, listing)
    assert listing.status == ListingStatus.DRAFT
    assert listing.review_note == "Add a privacy policy link."
    [event] = events(db, "listing.rejected")
    assert event.detail["reason"] == "Add a privacy policy link."
    assert "Add a privacy policy link." in page_text(client.get(f"/editor/listings/{listing.id}"))


def test_rejecting_a_published_listing_is_refused(client, db, editor):
    listing = factories.make_listing(db)
    response = client.post(f"/editor/listings/{listing.id}/reject",
                           data={"reject-reason": "Too late"}, follow_redirects=True)
    assert "Only a listing in review can be rejected." in page_text(response)
    assert fresh(db, listing).status == ListingStatus.PUBLISHED
    assert events(db) == []


def test_delist_needs_a_reason_then_takes_the_listing_down(client, db, editor):
    listing = factories.make_listing(db, name="Risky App")
    assert "Delist now" in page_text(client.get(f"/editor/listings/{listing.id}"))

    refused = client.post(f"/editor/listings/{listing.id}/delist", data={"delist-reason": ""})
    assert refused.status_code == 400
    assert 'id="delist-reason-error">Give the partner a reason.' in page_text(refused)
    assert fresh(db, listing).status == ListingStatus.PUBLISHED

    done = client.post(f"/editor/listings/{listing.id}/delist",
                       data={"delist-reason": "Security issue reported."}, follow_redirects=True)
    assert "“Risky App” is delisted." in page_text(done)
    listing = fresh(db, listing)
    assert listing.status == ListingStatus.DELISTED and listing.delisted_at is not None
    assert listing.review_note == "Security issue reported."
    assert events(db, "listing.delisted")[0].detail["reason"] == "Security issue reported."


# --- releases of live listings ---------------------------------------------------------


def test_approve_a_new_release(client, db, editor):
    listing = factories.make_listing(db)
    release = factories.make_release(db, listing, version="1.1.0", review_status=ReleaseStatus.PENDING)
    assert "Approve version 1.1.0" in page_text(client.get(f"/editor/listings/{listing.id}"))

    response = client.post(f"/editor/releases/{release.id}/approve", follow_redirects=True)

    assert "Version 1.1.0 of" in page_text(response) and "is approved" in page_text(response)
    assert fresh(db, release).review_status == ReleaseStatus.APPROVED
    assert events(db, "release.approved")[0].detail["version"] == "1.1.0"


def test_reject_a_release_needs_a_reason(client, db, editor):
    listing = factories.make_listing(db)
    release = factories.make_release(db, listing, version="1.1.0", review_status=ReleaseStatus.PENDING)
    field = f"release-{release.id}-reason"

    refused = client.post(f"/editor/releases/{release.id}/reject", data={field: ""})
    assert refused.status_code == 400
    assert f'id="{field}-error">Give the partner a reason.' in page_text(refused)
    assert fresh(db, release).review_status == ReleaseStatus.PENDING

    client.post(f"/editor/releases/{release.id}/reject", data={field: "Webhook scope not justified."})
    release = fresh(db, release)
    assert release.review_status == ReleaseStatus.REJECTED
    assert release.review_note == "Webhook scope not justified."
    assert events(db, "release.rejected")[0].detail["reason"] == "Webhook scope not justified."


def test_a_reviewed_release_cannot_be_decided_again(client, db, editor):
    listing = factories.make_listing(db)
    release = db.exec(select(Release).where(Release.listing_id == listing.id)).one()
    response = client.post(f"/editor/releases/{release.id}/approve", follow_redirects=True)
    assert "This release has already been reviewed." in page_text(response)
    assert events(db) == []


def test_a_submissions_release_is_decided_with_the_listing(client, db, editor):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    release = db.exec(select(Release).where(Release.listing_id == listing.id)).one()
    assert "Approve version" not in page_text(client.get(f"/editor/listings/{listing.id}"))

    response = client.post(f"/editor/releases/{release.id}/approve", follow_redirects=True)

    assert "reviewed together with its listing" in page_text(response)
    assert fresh(db, release).review_status == ReleaseStatus.PENDING
    assert events(db) == []


# --- review moderation ----------------------------------------------------------------


def test_moderation_queue_shows_held_reviews(client, db, editor):
    listing = factories.make_listing(db, name="Reviewed App")
    author = factories.make_user(db, name="Rita Reviewer")
    factories.make_review(db, listing, author=author, rating=4, status=ReviewStatus.PENDING,
                          title="Pretty good", body="Setup took *two minutes*.",
                          hold_reason="it contains a link")
    factories.make_review(db, listing, title="Already out", status=ReviewStatus.PUBLISHED)

    page = page_text(client.get("/editor/reviews"))

    # One compact row per held review (issue 16): the body as plain text, cut short.
    assert "Held reviews (1)" in page
    assert "Pretty good" in page and "Rita Reviewer" in page and "Reviewed App" in page
    assert "Setup took *two minutes*." in page and "it contains a link" in page
    assert "Rated 4 out of 5" in page
    assert "Already out" not in page


def test_publish_a_review(client, db, editor):
    review = factories.make_review(db, factories.make_listing(db), status=ReviewStatus.PENDING,
                                   title="Great")

    response = client.post("/editor/reviews/held", data={"action": "publish",
                                                         "review_ids": [str(review.id)]},
                           follow_redirects=True)

    assert "1 review published." in page_text(response)
    review = fresh(db, review)
    assert review.status == ReviewStatus.PUBLISHED and review.moderated_by_id == editor.id
    assert events(db, "review.published")[0].target_id == review.id
    assert "No reviews are held." in page_text(response)


def test_reject_a_review_needs_a_reason(client, db, editor):
    review = factories.make_review(db, factories.make_listing(db), status=ReviewStatus.PENDING)
    ticked = {"action": "reject", "review_ids": [str(review.id)]}

    refused = client.post("/editor/reviews/held", data={**ticked, "reason": ""})
    assert refused.status_code == 400
    assert "Choose why the ticked reviews are rejected." in page_text(refused)
    assert fresh(db, review).status == ReviewStatus.PENDING

    client.post("/editor/reviews/held", data={**ticked, "reason": "personal_info",
                                              "note": "Contains an email address."})
    review = fresh(db, review)
    assert review.status == ReviewStatus.REJECTED
    assert review.moderation_note == "Shares personal information: Contains an email address."
    assert events(db, "review.rejected")[0].detail["reason"] == (
        "Shares personal information: Contains an email address.")


def test_moderating_twice_is_refused(client, db, editor):
    review = factories.make_review(db, factories.make_listing(db), status=ReviewStatus.REJECTED)
    response = client.post("/editor/reviews/held", data={"action": "publish",
                                                         "review_ids": [str(review.id)]},
                           follow_redirects=True)
    assert "0 reviews published. 1 was no longer waiting." in page_text(response)
    assert fresh(db, review).status == ReviewStatus.REJECTED


# --- badges --------------------------------------------------------------------------


def test_award_a_badge_with_expiry(client, db, editor):
    listing = factories.make_listing(db, name="Shiny App")
    day = (utcnow() + timedelta(days=30)).date()

    response = client.post(f"/editor/listings/{listing.id}/badges", data={
        "kind": "staff_pick", "expires_at": day.isoformat(), "note": "Spring picks"},
        follow_redirects=True)

    assert "“Shiny App” now holds the Staff pick badge." in page_text(response)
    badge = db.exec(select(Badge).where(Badge.listing_id == listing.id)).one()
    assert badge.kind == "staff_pick" and badge.note == "Spring picks"
    assert badge.expires_at == datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
    assert events(db, "badge.awarded")[0].detail["kind"] == "staff_pick"
    active = page_text(client.get("/editor/badges"))
    assert "Active badges (1)" in active and "Shiny App" in active and "23:59 UTC" in active


@pytest.mark.parametrize("data,message", [
    ({"kind": "gold_star"}, "Unknown badge."),
    ({"kind": "staff_pick", "expires_at": "2001-01-01"}, "The expiry must be in the future."),
    ({"kind": "staff_pick", "expires_at": "31/12/2030"}, "Enter the date as YYYY-MM-DD"),
    ({"kind": "staff_pick", "expires_at": "2030-02-30"}, "Enter the date as YYYY-MM-DD"),
])
def test_bad_badge_requests_are_refused_beside_the_field(client, db, editor, data, message):
    listing = factories.make_listing(db)

    response = client.post(f"/editor/listings/{listing.id}/badges", data=data)

    assert response.status_code == 400
    assert message in page_text(response)
    assert db.exec(select(func.count()).select_from(Badge)).one() == 0
    assert events(db) == []


def test_a_badge_already_held_is_refused(client, db, editor):
    listing = factories.make_listing(db)
    factories.make_badge(db, listing, kind="security_reviewed")

    response = client.post(f"/editor/listings/{listing.id}/badges", data={"kind": "security_reviewed"})

    assert response.status_code == 400
    assert "This listing already holds that badge." in page_text(response)
    assert db.exec(select(func.count()).select_from(Badge)).one() == 1


def test_expired_badge_is_not_active_but_listed_as_past(client, db, editor):
    listing = factories.make_listing(db, name="Faded App")
    factories.make_badge(db, listing, kind="staff_pick", expires_at=utcnow() - timedelta(days=1))

    assert "Faded App" not in page_text(client.get("/editor/badges"))
    page = page_text(client.get(f"/editor/listings/{listing.id}"))
    assert "Active (0)" in page and "Past (1)" in page and "expired" in page
    # An expired badge may be awarded again.
    client.post(f"/editor/listings/{listing.id}/badges", data={"kind": "staff_pick"})
    assert "Faded App" in page_text(client.get("/editor/badges"))


def test_revoke_a_badge(client, db, editor):
    listing = factories.make_listing(db, name="Pinned App")
    badge = factories.make_badge(db, listing)

    response = client.post(f"/editor/badges/{badge.id}/revoke", follow_redirects=True)

    assert "The Staff pick badge is revoked." in page_text(response)
    assert "Pinned App" not in page_text(response)
    badge = fresh(db, badge)
    assert badge.revoked_at is not None and badge.revoked_by_id == editor.id
    assert events(db, "badge.revoked")[0].target_id == badge.id
    again = client.post(f"/editor/badges/{badge.id}/revoke", follow_redirects=True)
    assert "already revoked" in page_text(again)


def test_revoke_from_the_listing_page_returns_there(client, db, editor):
    listing = factories.make_listing(db)
    badge = factories.make_badge(db, listing)
    back = f"/editor/listings/{listing.id}"
    response = client.post(f"/editor/badges/{badge.id}/revoke", data={"next": back})
    assert response.location.endswith(back)
    evil = client.post(f"/editor/badges/{factories.make_badge(db, listing, 'top_rated').id}/revoke",
                       data={"next": "https://evil.example.com/"})
    assert "evil" not in evil.location


# --- collections -----------------------------------------------------------------------


def test_create_a_collection(client, db, editor):
    response = client.post("/editor/collections", data={"name": "Spring picks",
                                                       "description": "Fresh apps."},
                           follow_redirects=True)

    assert "Collection “Spring picks” created." in page_text(response)
    collection = db.exec(select(Collection)).one()
    assert collection.slug == "spring-picks" and collection.description == "Fresh apps."
    assert events(db, "collection.created")[0].detail["name"] == "Spring picks"
    assert "Spring picks" in page_text(client.get("/editor/collections"))


def test_a_collection_needs_a_name(client, db, editor):
    response = client.post("/editor/collections", data={"name": "  "})
    assert response.status_code == 400
    assert "Name the collection." in page_text(response)
    assert db.exec(select(func.count()).select_from(Collection)).one() == 0


def test_reorder_remove_and_add_by_slug_in_one_form(client, db, editor):
    a, b, c = (factories.make_listing(db, name=name) for name in ("Alpha", "Beta", "Gamma"))
    newcomer = factories.make_listing(db, name="Delta", slug="delta-app")
    collection = factories.make_collection(db, [a, b, c])
    page = page_text(client.get(f"/editor/collections/{collection.id}"))
    assert page.index("Alpha") < page.index("Beta") < page.index("Gamma")
    assert f'for="position-{a.id}"' in page

    response = client.post(f"/editor/collections/{collection.id}", data={
        f"position-{a.id}": "3", f"position-{b.id}": "2", f"position-{c.id}": "1",
        f"remove-{b.id}": "y", "add_slug": "delta-app"}, follow_redirects=True)

    assert "saved" in page_text(response)
    assert collection_ids(db, collection) == [c.id, a.id, newcomer.id]
    assert events(db, "collection.updated")[0].detail["listing_ids"] == [c.id, a.id, newcomer.id]


@pytest.mark.parametrize("slug,message", [
    ("no-such-app", "No listing has the slug “no-such-app”."),
    ("draft-app", "is not published"),
    ("alpha-app", "is already in this collection"),
])
def test_adding_a_wrong_slug_changes_nothing(client, db, editor, slug, message):
    alpha = factories.make_listing(db, slug="alpha-app")
    factories.make_listing(db, slug="draft-app", status=ListingStatus.DRAFT)
    beta = factories.make_listing(db)
    collection = factories.make_collection(db, [alpha, beta])

    response = client.post(f"/editor/collections/{collection.id}", data={
        f"position-{alpha.id}": "2", f"position-{beta.id}": "1", "add_slug": slug})

    assert response.status_code == 400
    assert message in page_text(response)
    assert collection_ids(db, collection) == [alpha.id, beta.id]
    assert events(db) == []


def test_a_position_must_be_a_number(client, db, editor):
    alpha = factories.make_listing(db)
    collection = factories.make_collection(db, [alpha])
    response = client.post(f"/editor/collections/{collection.id}", data={f"position-{alpha.id}": "first"})
    assert response.status_code == 400
    assert "must be a whole number" in page_text(response)
    assert collection_ids(db, collection) == [alpha.id]


def test_saving_drops_a_listing_no_longer_published(client, db, editor):
    alpha = factories.make_listing(db)
    gone = factories.make_listing(db, name="Gone App", status=ListingStatus.DELISTED)
    collection = factories.make_collection(db, [gone, alpha])
    assert "saving removes it" in page_text(client.get(f"/editor/collections/{collection.id}"))

    client.post(f"/editor/collections/{collection.id}", data={f"position-{alpha.id}": "1"})

    assert collection_ids(db, collection) == [alpha.id]


def test_move_collections_up_and_down(client, db, editor):
    first = factories.make_collection(db, [], name="First shelf")
    second = factories.make_collection(db, [], name="Second shelf")
    page = page_text(client.get("/editor/collections"))
    assert page.index("First shelf") < page.index("Second shelf")

    response = client.post(f"/editor/collections/{second.id}/move", data={"direction": "up"},
                           follow_redirects=True)

    page = page_text(response)
    assert "Moved “Second shelf” up." in page
    assert page.index("Second shelf</a>") < page.index("First shelf</a>")
    assert fresh(db, second).position < fresh(db, first).position
    assert events(db, "collection.moved")[0].detail["direction"] == "up"

    refused = client.post(f"/editor/collections/{second.id}/move", data={"direction": "up"},
                          follow_redirects=True)
    assert "already at the top" in page_text(refused)
    assert len(events(db, "collection.moved")) == 1


# --- the audit log ------------------------------------------------------------------


def test_audit_log_lists_actions_newest_first_in_words(client, db, editor):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    client.post(f"/editor/listings/{listing.id}/reject", data={"reject-reason": "Needs screenshots."})
    client.post("/editor/collections", data={"name": "Picks"})

    page = page_text(client.get("/editor/audit"))
    table = page[page.index("<tbody>"):]

    assert "Audit log (2 events)" in page
    assert table.index("created the collection") < table.index("sent back")
    assert "Edna Editor" in page
    assert "Reason: Needs screenshots." in page
    assert f'<a href="/editor/listings/{listing.id}"><em>{listing.name}</em></a>' in page


def test_audit_log_filters_by_action(client, db, editor):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    client.post(f"/editor/listings/{listing.id}/approve")
    client.post("/editor/collections", data={"name": "Picks"})

    only = page_text(client.get("/editor/audit?action=listing.approved"))
    table = only[only.index("<tbody>"):]
    assert "Audit log (1 event)" in only
    assert "approved" in table and "created the collection" not in table
    assert '<option value="listing.approved" selected>' in only
    unknown = page_text(client.get("/editor/audit?action=no.such.action"))
    assert "No events for this action." in unknown


def test_audit_log_is_paginated(client, db, editor):
    for n in range(55):
        db.add(AuditEvent(actor_id=editor.id, action="badge.awarded", target_type="badge",
                          target_id=n + 1, detail={"kind": f"kind_{n}"},
                          created_at=utcnow() - timedelta(minutes=n)))
    db.commit()

    first = page_text(client.get("/editor/audit"))
    second = page_text(client.get("/editor/audit?page=2"))

    assert "Page 1 of 2" in first and "the Kind 0 badge" in first and "Kind 54 badge" not in first
    assert "the Kind 54 badge" in second and "Kind 0 badge" not in second


# --- CSRF ------------------------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_decisions_need_the_csrf_token(client, db, app_overrides):
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    editor = factories.make_user(db, role=Role.EDITOR)
    login_page = page_text(client.get("/account/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/account/login", data={"email": editor.email, "password": factories.PASSWORD,
                                        "csrf_token": token})

    forged = client.post(f"/editor/listings/{listing.id}/reject", data={"reject-reason": "No"})
    assert forged.status_code == 400
    assert fresh(db, listing).status == ListingStatus.IN_REVIEW

    page = page_text(client.get(f"/editor/listings/{listing.id}"))
    token = re.search(r'name="reject-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/editor/listings/{listing.id}/reject",
                data={"reject-reason": "No screenshots.", "reject-csrf_token": token})
    assert fresh(db, listing).status == ListingStatus.DRAFT


# --- who may use the console ---------------------------------------------------------------

EDITOR_ROUTES = [
    ("GET", "/editor/"),
    ("GET", "/editor/listings/1"),
    ("POST", "/editor/listings/1/approve"),
    ("POST", "/editor/listings/1/reject"),
    ("POST", "/editor/listings/1/delist"),
    ("POST", "/editor/releases/1/approve"),
    ("POST", "/editor/releases/1/reject"),
    ("GET", "/editor/reviews"),
    ("POST", "/editor/reviews/held"),
    ("GET", "/editor/reviews/reports"),
    ("POST", "/editor/reviews/reports"),
    ("POST", "/editor/listings/1/badges"),
    ("POST", "/editor/badges/1/revoke"),
    ("GET", "/editor/badges"),
    ("GET", "/editor/collections"),
    ("POST", "/editor/collections"),
    ("GET", "/editor/collections/1"),
    ("POST", "/editor/collections/1"),
    ("POST", "/editor/collections/1/move"),
    ("GET", "/editor/audit"),
    ("GET", "/editor/screenshots/1-x.png"),
]


@pytest.fixture
def world(db):
    """One of each object, so a wrongly allowed request would find something to change."""
    listing = factories.make_listing(db, status=ListingStatus.IN_REVIEW)
    factories.make_review(db, listing, status=ReviewStatus.PENDING)
    factories.make_badge(db, listing)
    factories.make_collection(db, [])
    return listing


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_customers_and_partners_get_403_everywhere(client, db, login, world, role):
    login(factories.make_user(db, role=role))
    for method, url in EDITOR_ROUTES:
        response = client.open(url, method=method, data={"reject-reason": "x", "name": "x",
                                                         "direction": "up", "kind": "top_rated"})
        assert response.status_code == 403, (method, url)
    assert fresh(db, world).status == ListingStatus.IN_REVIEW
    assert events(db) == []


def test_visitors_are_sent_to_sign_in(client, db, world):
    for method, url in EDITOR_ROUTES:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/account/login" in response.location


def test_admins_may_use_the_console(client, db, login):
    login(factories.make_user(db, role=Role.ADMIN))
    page = page_text(client.get("/editor/"))
    assert "Submission queue" in page and "Users and roles" in page
