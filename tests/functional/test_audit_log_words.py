"""The audit log in words: sentences that name who did what to which object, with
links, human times, filters by who/what/object/days kept across pages, a fixed
number of queries per page, and a readable line for actions it has no words for."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from core.db import utcnow
from listings.models import AuditEvent, ListingStatus, ReleaseStatus
from tests import factories
from tests.sql_counting import count_queries


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR, name="Elena Ruiz")
    login(user)
    return user


def text_of(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def add_event(db, action, target_type, target_id, actor=None, at=None, **detail):
    event = AuditEvent(actor_id=actor.id if actor else None, action=action,
                       target_type=target_type, target_id=target_id, detail=detail,
                       created_at=at or utcnow())
    db.add(event)
    db.commit()
    return event


def test_actions_read_as_sentences_with_links(client, db, editor):
    listing = factories.make_listing(db, name="Rival Cards", status=ListingStatus.PUBLISHED)
    release = factories.make_release(db, listing, version="1.2.0",
                                     review_status=ReleaseStatus.PENDING)
    client.post(f"/editor/releases/{release.id}/approve")
    badge = factories.make_badge(db, listing, "staff_pick")
    client.post(f"/editor/badges/{badge.id}/revoke", data={"reason": "Old news."})
    client.post("/editor/collections", data={"name": "Spring picks"})

    response = client.get("/editor/audit")
    page = response.get_data(as_text=True)
    words = text_of(response)

    assert response.status_code == 200
    assert "Elena Ruiz approved Rival Cards v1.2.0" in words
    assert "Elena Ruiz revoked the Staff pick badge from Rival Cards" in words
    assert "Elena Ruiz created the collection Spring picks" in words
    assert "Reason: Old news." in words
    assert f'href="/editor/listings/{listing.id}"' in page
    # No raw ids or class names.
    assert "Listing ids" not in words and f"Listing {listing.id}" not in words
    assert "Badge revoked" not in words.split("Filter")[-1]


def test_review_reports_and_webhook_changes_read_as_sentences(client, db, editor):
    partner = factories.make_user(db, role=Role.PARTNER, name="Pat Partner")
    listing = factories.make_listing(db, name="Rival Cards", status=ListingStatus.PUBLISHED)
    review = factories.make_review(db, listing, title="Spammy")
    add_event(db, "review.removed", "review", review.id, actor=editor,
              listing_id=listing.id, reports=2, reasons={"spam": 2})
    add_event(db, "review.reports_dismissed", "review", review.id, actor=editor,
              listing_id=listing.id, reports=1, reasons={"offensive": 1})
    add_event(db, "webhook.url_changed", "listing", listing.id, actor=partner,
              old_host="old.example", new_host="hooks.example")
    add_event(db, "webhook.url_changed", "listing", listing.id, actor=partner,
              old_host="hooks.example", new_host=None)

    words = text_of(client.get("/editor/audit"))

    assert "Elena Ruiz removed the review “Spammy” of Rival Cards after 2 reports" in words
    assert "Elena Ruiz kept the review “Spammy” of Rival Cards and dismissed 1 report" in words
    assert "Pat Partner pointed the webhooks of Rival Cards at hooks.example" in words
    assert "Pat Partner pointed the webhooks of Rival Cards nowhere (webhooks stopped)" in words
    assert "Webhook url changed" not in words.split("Filter")[-1]


def test_the_prune_job_reads_as_one_sentence_per_run_and_action(client, db, editor):
    apps = [factories.make_listing(db, name=name) for name in ("Alpha", "Beta", "Gamma")]
    for listing in apps:
        add_event(db, "prune.delisted", "listing", listing.id, slug=listing.slug,
                  rules=["no_recent_release"], run_id=7)
    run = factories.make_prune_run(db, dry_run=True)
    add_event(db, "prune.previewed", "prunerun", run.id, actor=editor,
              as_of="2026-12-05T14:03:00+00:00")

    words = text_of(client.get("/editor/audit"))

    assert "The nightly prune job delisted 3 apps: Alpha, Beta, Gamma (run 7)" in words
    assert f"Elena Ruiz previewed the prune job as of 5 Dec 2026 (preview {run.id})" in words
    assert "Prunerun" not in words


def test_times_are_human_and_machine_readable(client, db, editor):
    listing = factories.make_listing(db, name="Rival Cards")
    add_event(db, "listing.approved", "listing", listing.id, actor=editor,
              at=datetime(2026, 12, 5, 14, 3, 27, 123456, tzinfo=UTC), slug=listing.slug)

    page = client.get("/editor/audit").get_data(as_text=True)

    assert '<time datetime="2026-12-05T14:03:27+00:00">5 Dec 2026, 14:03 UTC</time>' in page
    assert "123456" not in page


def test_unknown_actions_get_a_readable_generic_line(client, db, editor):
    listing = factories.make_listing(db, name="Rival Cards")
    add_event(db, "review.reported", "review", 41, actor=editor, votes=3)
    add_event(db, "listing.featured", "listing", listing.id, actor=editor)
    # Old or odd detail data never breaks the page either.
    add_event(db, "badge.awarded", "badge", 9, actor=editor, kind=["odd"], listing_id="x")

    response = client.get("/editor/audit")
    words = text_of(response)

    assert response.status_code == 200
    assert "Elena Ruiz — Review reported: review #41" in words
    assert "Votes: 3" in words
    assert "Elena Ruiz — Listing featured: Rival Cards" in words


def test_filters_by_actor_object_action_and_days_kept_across_pages(client, db, editor):
    other = factories.make_user(db, role=Role.EDITOR, name="Omar Other")
    rival = factories.make_listing(db, name="Rival Cards")
    calm = factories.make_listing(db, name="Calm Notes")
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    for n in range(55):
        badge = factories.make_badge(db, rival)
        add_event(db, "badge.awarded", "badge", badge.id, actor=editor, at=start + timedelta(hours=n),
                  listing_id=rival.id, kind="staff_pick")
    add_event(db, "listing.approved", "listing", calm.id, actor=other, at=start, slug=calm.slug)
    add_event(db, "listing.delisted", "listing", rival.id, actor=other,
              at=datetime(2026, 10, 1, tzinfo=UTC), slug=rival.slug, reason="Broken.")

    by_other = text_of(client.get(f"/editor/audit?actor={other.id}"))
    assert "Audit log (2 events)" in by_other and "Elena Ruiz awarded" not in by_other

    by_name = text_of(client.get("/editor/audit?name=calm"))
    assert "Audit log (1 event)" in by_name and "Omar Other approved Calm Notes" in by_name

    about_rival = text_of(client.get(f"/editor/audit?listing={rival.id}&object_type=listing"))
    assert "Audit log (1 event)" in about_rival and "Omar Other delisted Rival Cards" in about_rival

    october = text_of(client.get("/editor/audit?since=2026-10-01&until=2026-10-31"))
    assert "Audit log (1 event)" in october

    first = client.get(f"/editor/audit?actor={editor.id}&action=badge.awarded&name=rival"
                       "&since=2026-11-01&until=2026-11-30").get_data(as_text=True)
    assert "Audit log (55 events)" in first and "Page 1 of 2" in first
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    for kept in (f"actor={editor.id}", "action=badge.awarded", "name=rival", "since=2026-11-01",
                 "until=2026-11-30", "page=2"):
        assert kept in next_link
    second = text_of(client.get(next_link))
    assert "Page 2 of 2" in second and "Omar Other" not in second.split("Filter")[-1]


@pytest.mark.parametrize("query,message", [
    ("actor=99999", "nobody with that id appears in the audit log"),
    ("actor=abc", "nobody with that id appears in the audit log"),
    ("object_type=spaceship", "Choose a kind of object from the list."),
    ("since=2026-13-45", "Enter the date as YYYY-MM-DD"),
    ("until=9999-12-31", "Enter the date as YYYY-MM-DD"),
    ("since=2026-12-05&until=2026-12-01", "The “From” day must be on or before the “To” day."),
    ("listing=99999", "No app has the id 99999."),
    ("listing=ten", "An app id is a whole number."),
])
def test_bad_filters_say_what_is_wrong_never_500(client, db, editor, query, message):
    add_event(db, "listing.approved", "listing", 1, actor=editor)
    response = client.get(f"/editor/audit?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_queries_do_not_grow_with_the_page(client, db, editor, app):
    def fill(count):
        for n in range(count):
            listing = factories.make_listing(db)
            release = factories.make_release(db, listing, version=f"2.{n}.0")
            badge = factories.make_badge(db, listing)
            review = factories.make_review(db, listing)
            collection = factories.make_collection(db, [listing])
            actor = factories.make_user(db, role=Role.EDITOR)
            add_event(db, "release.approved", "release", release.id, actor=actor,
                      listing_id=listing.id, version=release.version)
            add_event(db, "badge.revoked", "badge", badge.id, actor=actor,
                      listing_id=listing.id, kind="staff_pick")
            add_event(db, "review.published", "review", review.id, actor=actor,
                      listing_id=listing.id)
            add_event(db, "collection.updated", "collection", collection.id, actor=actor,
                      listing_ids=[listing.id])
            add_event(db, "prune.flagged", "listing", listing.id, slug=listing.slug,
                      rules=["never_installed"], run_id=n)

    def count():
        client.get("/editor/audit")   # the first request warms what is cached per app
        with count_queries(app) as statements:
            assert client.get("/editor/audit").status_code == 200
        return len(statements)

    fill(1)
    few = count()
    fill(9)
    many = count()
    assert many == few


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_only_editors_see_the_log(client, db, login, role):
    login(factories.make_user(db, role=role))
    assert client.get("/editor/audit?actor=1&since=2026-01-01").status_code == 403
