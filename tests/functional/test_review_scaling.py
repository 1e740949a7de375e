"""Reviews that scale (issue 16, item 5): published at once unless an automatic check
holds them, "Was this helpful?" votes and reports by signed-in customers, the editors'
report queue and compact held queue with bulk actions, and reviews sorted and
filtered by stars on the listing page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from listings import catalog_cache
from listings.models import AuditEvent, Review, ReviewStatus
from listings.services import rating_summary
from tests import factories
from tests.sql_counting import count_queries


def page_of(response) -> str:
    return response.get_data(as_text=True)


def fresh(db, obj):
    db.expire_all()
    return db.get(type(obj), obj.id)


def established_installer(db, listing, **fields):
    """A customer whose workspace installed ``listing``, with an account a month old."""
    user = factories.make_installer(db, listing, **fields)
    user.created_at = utcnow() - timedelta(days=30)
    return factories.save(db, user)


def established_customer(db, **fields):
    user = factories.make_user(db, **fields)
    user.created_at = utcnow() - timedelta(days=30)
    return factories.save(db, user)


def audit_actions(db) -> list[str]:
    db.expire_all()
    return [event.action for event in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


@pytest.fixture
def editor(db):
    return factories.make_user(db, role=Role.EDITOR, name="Edna Editor")


# --- post-moderation -------------------------------------------------------------------


def test_an_established_customers_review_is_live_at_once(client, db, login):
    listing = factories.make_listing(db)
    login(established_installer(db, listing))

    response = client.post(f"/apps/{listing.slug}/reviews", data={
        "rating": "4", "title": "Solid app", "body": "Does what it says."},
        follow_redirects=True)

    page = page_of(response)
    assert "Your review is live." in page
    assert '<h3 id="review-' in page and "Solid app" in page
    review = db.exec(select(Review)).one()
    assert (review.status, review.hold_reason) == (ReviewStatus.PUBLISHED, None)
    assert rating_summary(db, listing.id)["count"] == 1


@pytest.mark.parametrize("title, body, reason", [
    ("Try this", "Cheaper at https://deals.example.com", "it contains a link"),
    ("Total scam", "Avoid.", "it contains a banned word (“scam”)"),
])
def test_a_review_that_trips_a_check_is_held_and_says_why(client, db, login, title, body, reason):
    listing = factories.make_listing(db, name="Held App")
    login(established_installer(db, listing))

    page = page_of(client.post(f"/apps/{listing.slug}/reviews", data={
        "rating": "2", "title": title, "body": body}, follow_redirects=True))

    assert f"Your review is held for a quick check because {reason}." in page
    assert f"held for a quick check because {reason}" in page  # the form's place says so too
    review = db.exec(select(Review)).one()
    assert (review.status, review.hold_reason) == (ReviewStatus.PENDING, reason)


def test_a_new_accounts_review_is_held(client, db, login):
    listing = factories.make_listing(db)
    login(factories.make_installer(db, listing))  # signed up today
    page = page_of(client.post(f"/apps/{listing.slug}/reviews",
                               data={"rating": "5", "title": "Great"}, follow_redirects=True))
    assert "held for a quick check because the account is less than 2 days old" in page
    assert db.exec(select(Review)).one().status == ReviewStatus.PENDING


def test_a_burst_of_the_same_rating_is_held(client, db, login):
    listing = factories.make_listing(db)
    for _ in range(4):
        factories.make_review(db, listing, rating=1, created_at=utcnow() - timedelta(minutes=20))
    factories.make_review(db, listing, rating=1, created_at=utcnow() - timedelta(hours=3))
    factories.make_review(db, listing, rating=5, created_at=utcnow() - timedelta(minutes=5))
    login(established_installer(db, listing))
    client.post(f"/apps/{listing.slug}/reviews", data={"rating": "1", "title": "Bad"})
    review = db.exec(select(Review).where(Review.title == "Bad")).one()
    assert review.status == ReviewStatus.PENDING
    assert review.hold_reason == ("it is one of 5 or more 1-star reviews of this app in the "
                                  "last hour")


def test_the_held_queue_shows_each_reason_in_one_compact_row(client, db, login, editor):
    listing = factories.make_listing(db, name="Queue App")
    for n in range(10):
        factories.make_review(db, listing, status=ReviewStatus.PENDING, title=f"Held {n}",
                              hold_reason="it contains a link")
    # Written before the checks existed: every review waited then.
    factories.make_review(db, listing, status=ReviewStatus.PENDING, title="From before")
    login(editor)

    page = page_of(client.get("/editor/reviews"))

    assert "Held reviews (11)" in page
    assert page.count("it contains a link") == 10
    assert "written before reviews were published at once" in page
    assert page.count('name="review_ids"') == 11
    assert page.count("<textarea") <= 1  # one note for the batch, not a form per review
    assert page.count('name="reason"') == 1


def test_editor_publishes_held_reviews_in_bulk(client, db, login, editor):
    listing = factories.make_listing(db)
    first, second, untouched = (factories.make_review(db, listing, status=ReviewStatus.PENDING,
                                                      rating=rating, title=f"Held {rating}")
                                for rating in (5, 3, 1))
    login(editor)

    page = page_of(client.post("/editor/reviews/held", data={
        "action": "publish", "review_ids": [str(first.id), str(second.id)]},
        follow_redirects=True))

    assert "2 reviews published." in page
    assert [fresh(db, r).status for r in (first, second, untouched)] == [
        ReviewStatus.PUBLISHED, ReviewStatus.PUBLISHED, ReviewStatus.PENDING]
    assert audit_actions(db) == ["review.published", "review.published"]
    assert rating_summary(db, listing.id)["average"] == 4.0


def test_bulk_reject_takes_one_reason_for_the_batch(client, db, login, editor):
    listing = factories.make_listing(db)
    reviews = [factories.make_review(db, listing, status=ReviewStatus.PENDING) for _ in range(3)]
    ids = [str(review.id) for review in reviews]
    login(editor)

    refused = client.post("/editor/reviews/held", data={"action": "reject", "review_ids": ids})
    assert refused.status_code == 400
    assert "Choose why the ticked reviews are rejected." in page_of(refused)
    assert all(fresh(db, r).status == ReviewStatus.PENDING for r in reviews)

    page = page_of(client.post("/editor/reviews/held", data={
        "action": "reject", "review_ids": ids, "reason": "spam", "note": "Same text thrice."},
        follow_redirects=True))
    assert "3 reviews rejected." in page
    notes = {fresh(db, r).moderation_note for r in reviews}
    assert notes == {"Spam or advertising: Same text thrice."}
    assert audit_actions(db) == ["review.rejected"] * 3


@pytest.mark.parametrize("path", ["/editor/reviews/held", "/editor/reviews/reports"])
def test_a_bulk_action_with_no_box_ticked_says_so(client, db, login, editor, path):
    factories.make_review(db, factories.make_listing(db), status=ReviewStatus.PENDING)
    login(editor)
    response = client.post(path, data={"action": "publish" if "held" in path else "remove"})
    assert response.status_code == 400
    assert "Tick at least one review first." in page_of(response)
    assert audit_actions(db) == []


def test_a_review_moderated_meanwhile_is_skipped_and_counted(client, db, login, editor):
    listing = factories.make_listing(db)
    held = factories.make_review(db, listing, status=ReviewStatus.PENDING)
    done = factories.make_review(db, listing, status=ReviewStatus.REJECTED)
    login(editor)
    page = page_of(client.post("/editor/reviews/held", data={
        "action": "publish", "review_ids": [str(held.id), str(done.id), "999999"]},
        follow_redirects=True))
    assert "1 review published." in page and "2 were no longer waiting" in page
    assert fresh(db, done).status == ReviewStatus.REJECTED


# --- helpful votes -------------------------------------------------------------------------


def test_a_customer_marks_a_review_helpful_and_takes_it_back(client, db, login):
    listing = factories.make_listing(db)
    review = factories.make_review(db, listing, title="Useful one")
    login(established_customer(db))

    response = client.post(f"/reviews/{review.id}/helpful", data={"sort": "helpful"})
    assert response.status_code == 302
    assert response.location.endswith(f"/apps/{listing.slug}?sort=helpful#review-{review.id}")
    page = page_of(client.get(response.location))
    assert "Thanks, you marked “Useful one” as helpful." in page
    assert "1 person found this helpful" in page
    assert 'aria-pressed="true"' in page

    page = page_of(client.post(f"/reviews/{review.id}/helpful", follow_redirects=True))
    assert "You took back your vote on “Useful one”." in page
    assert "found this helpful" not in page and 'aria-pressed="false"' in page


def test_votes_and_reports_neither_reindex_nor_version_the_catalog(app, client, db, login):
    listing = factories.make_listing(db)
    review = factories.make_review(db, listing)
    login(established_customer(db))
    token = catalog_cache.current_token(db)
    with count_queries(app) as statements:
        client.post(f"/reviews/{review.id}/helpful")
        client.post(f"/reviews/{review.id}/report", data={"reason": "spam"})
    written = [s for s in statements if re.match(r"\s*(INSERT|UPDATE|DELETE)", s, re.IGNORECASE)]
    assert not [s for s in written if "search_outbox" in s or "catalog_version" in s]
    assert not [s for s in written if re.search(r"\b(listings|reviews)\b", s.split("(")[0])]
    db.expire_all()
    assert catalog_cache.current_token(db) == token
    page = page_of(client.get(f"/apps/{listing.slug}"))  # both were recorded all the same
    assert "1 person found this helpful" in page and "You reported this review." in page


def test_no_vote_on_ones_own_review_nor_on_ones_own_companys_app(client, db, login):
    partner = factories.make_partner(db, name="Self Voters")
    listing = factories.make_listing(db, partner=partner)
    author = established_customer(db)
    own = factories.make_review(db, listing, author=author)
    login(author)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert f'action="/reviews/{own.id}/helpful"' not in page
    response = client.post(f"/reviews/{own.id}/helpful")
    assert response.status_code == 403
    assert "You cannot vote on your own review." in page_of(response)

    client.post("/account/logout")
    login(factories.make_user(db, role=Role.PARTNER, partner=partner))
    response = client.post(f"/reviews/{own.id}/helpful")
    assert response.status_code == 403
    assert "You cannot vote on reviews of your own company’s app." in page_of(response)


@pytest.mark.parametrize("action", ["helpful", "report"])
def test_a_missing_or_held_review_is_404(client, db, login, action):
    held = factories.make_review(db, factories.make_listing(db), status=ReviewStatus.PENDING)
    login(established_customer(db))
    assert client.post(f"/reviews/{held.id}/{action}", data={"reason": "spam"}).status_code == 404
    assert client.post(f"/reviews/999999/{action}", data={"reason": "spam"}).status_code == 404


@pytest.mark.parametrize("action", ["helpful", "report"])
def test_a_visitor_is_asked_to_sign_in(client, db, action):
    review = factories.make_review(db, factories.make_listing(db))
    response = client.post(f"/reviews/{review.id}/{action}", data={"reason": "spam"})
    assert response.status_code == 302 and "/account/login" in response.location


# --- reports ---------------------------------------------------------------------------------


def test_a_customer_reports_a_review_once(client, db, login):
    listing = factories.make_listing(db)
    review = factories.make_review(db, listing, title="Rude one")
    login(established_customer(db))

    response = client.post(f"/reviews/{review.id}/report",
                           data={"reason": "offensive", "note": "Insults the support team."})
    assert response.location.endswith(f"/apps/{listing.slug}#review-{review.id}")
    page = page_of(client.get(response.location))
    assert "Thank you. An editor will look at your report of “Rude one”." in page
    assert "You reported this review." in page

    again = client.post(f"/reviews/{review.id}/report", data={"reason": "spam"},
                        follow_redirects=True)
    assert again.status_code == 200
    assert "You have already reported this review; an editor will look at it." in page_of(again)
    assert fresh(db, review).status == ReviewStatus.PUBLISHED  # a report hides nothing


def test_an_unknown_report_reason_is_refused_with_a_clear_message(client, db, login):
    review = factories.make_review(db, factories.make_listing(db))
    login(established_customer(db))
    for data in ({"reason": "boring"}, {}, {"reason": "spam", "note": "x" * 1001}):
        response = client.post(f"/reviews/{review.id}/report", data=data)
        assert response.status_code == 400
        assert ("Choose why you are reporting this review from the list." in page_of(response)
                or "Keep the note to 1,000 characters." in page_of(response))


def test_editor_sees_reports_and_removes_the_review_in_bulk(client, db, login, editor):
    listing = factories.make_listing(db, name="Reported App")
    bad = factories.make_review(db, listing, rating=1, title="Spammy review")
    fine = factories.make_review(db, listing, rating=5, title="Fair review")
    reporters = [established_customer(db) for _ in range(3)]
    for reporter, reason in zip(reporters, ["spam", "spam", "offensive"], strict=True):
        login(reporter)
        client.post(f"/reviews/{bad.id}/report", data={"reason": reason, "note": "Ads."})
        client.post("/account/logout")
    login(reporters[0])
    client.post(f"/reviews/{fine.id}/report", data={"reason": "off_topic"})
    client.post("/account/logout")
    assert rating_summary(db, listing.id)["average"] == 3.0
    login(editor)

    page = page_of(client.get("/editor/reviews/reports"))
    assert "Reported reviews (2)" in page
    assert "Spammy review" in page and "Reported App" in page
    assert "3 reports" in page and "Spam or advertising ×2" in page
    assert "Abusive or offensive ×1" in page and "Ads." in page
    assert page.index("Spammy review") < page.index("Fair review")  # most reported first

    page = page_of(client.post("/editor/reviews/reports", data={
        "action": "remove", "review_ids": [str(bad.id)]}, follow_redirects=True))
    assert "1 review removed." in page
    assert fresh(db, bad).status == ReviewStatus.REJECTED
    assert fresh(db, bad).moderation_note == "Removed after reports: Spam or advertising"
    assert rating_summary(db, listing.id)["average"] == 5.0
    assert "Spammy review" not in page_of(client.get(f"/apps/{listing.slug}"))
    assert audit_actions(db) == ["review.removed"]

    page = page_of(client.post("/editor/reviews/reports", data={
        "action": "keep", "review_ids": [str(fine.id)]}, follow_redirects=True))
    assert "Reports on 1 review dismissed; it stays published." in page
    assert "No reviews are reported." in page
    assert fresh(db, fine).status == ReviewStatus.PUBLISHED
    assert audit_actions(db) == ["review.removed", "review.reports_dismissed"]

    # After a dismissal the same customer may report the review again.
    client.post("/account/logout")
    login(reporters[0])
    client.post(f"/reviews/{fine.id}/report", data={"reason": "fake"})
    client.post("/account/logout")
    login(editor)
    assert "Fair review" in page_of(client.get("/editor/reviews/reports"))


# --- sorting and filtering on the listing page -------------------------------------------------


def review_titles(page: str) -> list[str]:
    return re.findall(r'<h3 id="review-\d+">([^<]+)</h3>', page)


def test_reviews_sort_by_helpful_newest_and_rating_and_filter_by_stars(client, db, login):
    listing = factories.make_listing(db)
    now = utcnow()
    old_great = factories.make_review(db, listing, rating=5, title="Old great",
                                      created_at=now - timedelta(days=9))
    factories.make_review(db, listing, rating=2, title="Middling", created_at=now - timedelta(days=5))
    factories.make_review(db, listing, rating=1, title="Newest awful", created_at=now)
    for _ in range(2):
        login(established_customer(db))
        client.post(f"/reviews/{old_great.id}/helpful")
        client.post("/account/logout")

    def titles(query: str) -> list[str]:
        return review_titles(page_of(client.get(f"/apps/{listing.slug}{query}")))

    assert titles("") == ["Newest awful", "Middling", "Old great"]
    assert titles("?sort=helpful") == ["Old great", "Newest awful", "Middling"]
    assert titles("?sort=highest") == ["Old great", "Middling", "Newest awful"]
    assert titles("?sort=lowest") == ["Newest awful", "Middling", "Old great"]
    assert titles("?stars=2") == ["Middling"]
    assert titles("?stars=3") == []
    assert "No 3-star reviews yet." in page_of(client.get(f"/apps/{listing.slug}?stars=3"))
    # Unknown values fall back to the defaults instead of failing.
    for query in ("?sort=bogus", "?stars=9", "?stars=x&sort=", "?page=abc&stars=-1"):
        response = client.get(f"/apps/{listing.slug}{query}")
        assert response.status_code == 200
        assert review_titles(page_of(response)) == ["Newest awful", "Middling", "Old great"]


def test_the_sort_form_and_pagination_keep_the_choice(client, db):
    listing = factories.make_listing(db)
    for n in range(12):
        factories.make_review(db, listing, rating=4, title=f"Four {n:02d}")
    factories.make_review(db, listing, rating=1, title="One")
    page = page_of(client.get(f"/apps/{listing.slug}?sort=lowest&stars=4"))
    assert '<option value="lowest" selected>' in page
    assert '<option value="4" selected>' in page
    assert re.search(r'href="/apps/[\w-]+\?page=2&amp;sort=lowest&amp;stars=4', page) or \
        re.search(r'href="/apps/[\w-]+\?(?=[^"]*page=2)(?=[^"]*sort=lowest)(?=[^"]*stars=4)', page)
    assert "Page 1 of 2" in page and "One" not in review_titles(page)


def test_anonymous_pages_are_kept_per_sort_and_star_choice(client, db):
    listing = factories.make_listing(db)
    factories.make_review(db, listing, rating=5, title="Five")
    factories.make_review(db, listing, rating=1, title="One")
    assert review_titles(page_of(client.get(f"/apps/{listing.slug}?stars=5"))) == ["Five"]
    assert review_titles(page_of(client.get(f"/apps/{listing.slug}?stars=1"))) == ["One"]
    assert review_titles(page_of(client.get(f"/apps/{listing.slug}?sort=highest"))) == [
        "Five", "One"]
    assert review_titles(page_of(client.get(f"/apps/{listing.slug}?sort=lowest"))) == [
        "One", "Five"]


def test_signed_in_voter_sees_own_vote_though_the_anonymous_page_may_lag(client, db, login):
    listing = factories.make_listing(db)
    review = factories.make_review(db, listing, title="Counted")
    client.get(f"/apps/{listing.slug}")  # the anonymous page is now kept
    login(established_customer(db))
    client.post(f"/reviews/{review.id}/helpful")
    assert "1 person found this helpful" in page_of(client.get(f"/apps/{listing.slug}"))
