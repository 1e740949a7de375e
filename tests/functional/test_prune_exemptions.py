"""Editors' exemptions from the prune rules: the form on the editor's listing
page, replacing and ending exemptions, the audit log, and the clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from listings.models import AuditEvent
from listings.prune_exemptions import exempt_listing
from listings.prune_models import ListingExemption
from listings.services import ListingError
from tests import factories


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR, name="Edna Editor")
    login(user)
    return user


def page_text(response) -> str:
    return response.get_data(as_text=True)


def day(days_ahead: int) -> str:
    return (utcnow() + timedelta(days=days_ahead)).date().isoformat()


def exemptions(db, listing) -> list[ListingExemption]:
    db.expire_all()
    return list(db.exec(select(ListingExemption).where(ListingExemption.listing_id == listing.id)
                        .order_by(ListingExemption.id)).all())


def events(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)
                        .order_by(AuditEvent.id)).all())


def test_editor_exempts_a_listing_from_one_rule(client, db, editor):
    listing = factories.make_listing(db, name="Quiet Ledger")
    response = client.post(f"/editor/listings/{listing.id}/exemptions", data={
        "rule": "never_installed", "reason": "Niche app for two regulated customers.",
        "expires_at": day(60)})
    assert response.status_code == 303
    assert response.location.endswith(f"/editor/listings/{listing.id}#pruning-heading")

    [exemption] = exemptions(db, listing)
    assert exemption.rule == "never_installed"
    assert exemption.reason == "Niche app for two regulated customers."
    assert exemption.created_by_id == editor.id
    expires = exemption.expires_at.replace(tzinfo=exemption.expires_at.tzinfo or UTC)
    assert expires.date().isoformat() == day(60) and (expires.hour, expires.minute) == (23, 59)

    [event] = events(db, "listing.exempted")
    assert event.actor_id == editor.id and event.target_id == listing.id
    assert event.detail["rule"] == "never_installed"
    assert event.detail["reason"] == "Niche app for two regulated customers."

    page = page_text(client.get(f"/editor/listings/{listing.id}"))
    assert "is exempt from “Never installed”" in page  # the flash
    assert "Active exemptions (1)" in page
    assert "Niche app for two regulated customers. (Edna Editor)" in page
    console = page_text(client.get("/editor/pruning"))
    assert "Active exemptions (1)" in console and "Quiet Ledger" in console
    audit_page = page_text(client.get("/editor/audit?action=listing.exempted"))
    assert "Listing exempted" in audit_page
    assert "Niche app for two regulated customers." in audit_page


def test_all_rules_exemption_and_a_new_one_replaces_the_old(client, db, editor):
    listing = factories.make_listing(db)
    client.post(f"/editor/listings/{listing.id}/exemptions",
                data={"rule": "", "reason": "Rewrite under way.", "expires_at": day(30)})
    client.post(f"/editor/listings/{listing.id}/exemptions",
                data={"rule": "webhook_failing", "reason": "Endpoint moving hosts.",
                      "expires_at": day(10)})
    client.post(f"/editor/listings/{listing.id}/exemptions",
                data={"rule": "", "reason": "Rewrite delayed to spring.", "expires_at": day(90)})

    first, webhook, second = exemptions(db, listing)
    assert first.rule is None and first.ended_at is not None and first.ended_by_id == editor.id
    assert webhook.rule == "webhook_failing" and webhook.ended_at is None  # another rule: kept
    assert second.rule is None and second.ended_at is None
    assert events(db, "listing.exempted")[-1].detail["replaced_exemption_ids"] == [first.id]

    page = page_text(client.get(f"/editor/listings/{listing.id}"))
    assert "Active exemptions (2)" in page and "Past exemptions (1)" in page
    assert "<strong>All rules</strong> until" in page


@pytest.mark.parametrize("data, message", [
    ({"rule": "never_installed", "reason": "", "expires_at": "+30"},
     "Give a reason for the exemption"),
    ({"rule": "never_installed", "reason": "x" * 1001, "expires_at": "+30"},
     "Keep the reason to 1,000 characters."),
    ({"rule": "never_installed", "reason": "Because.", "expires_at": "-1"},
     "The exemption must end in the future."),
    ({"rule": "never_installed", "reason": "Because.", "expires_at": "+800"},
     "An exemption lasts at most two years"),
    ({"rule": "never_installed", "reason": "Because.", "expires_at": "31/12/2030"},
     "Enter the date as YYYY-MM-DD"),
    ({"rule": "never_installed", "reason": "Because.", "expires_at": ""},
     "Choose the day the exemption ends."),
    ({"rule": "too_popular", "reason": "Because.", "expires_at": "+30"},
     "Unknown rule"),
])
def test_bad_exemption_input_is_shown_and_nothing_saved(client, db, editor, data, message):
    listing = factories.make_listing(db)
    if data["expires_at"][:1] in "+-" and data["expires_at"]:
        data = {**data, "expires_at": day(int(data["expires_at"]))}
    response = client.post(f"/editor/listings/{listing.id}/exemptions", data=data)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert "There is a problem" in page
    # What the editor typed is still there.
    assert data["reason"][:50] in page
    assert exemptions(db, listing) == []
    assert events(db, "listing.exempted") == []


def test_editor_ends_an_exemption(client, db, editor):
    listing = factories.make_listing(db)
    exemption = factories.make_exemption(db, listing, rule="few_active_installs")
    response = client.post(f"/editor/exemptions/{exemption.id}/end", follow_redirects=True)
    assert response.status_code == 200
    assert "The exemption has ended" in page_text(response)
    [ended] = exemptions(db, listing)
    assert ended.ended_at is not None and ended.ended_by_id == editor.id
    [event] = events(db, "listing.exemption_ended")
    assert event.target_id == listing.id and event.detail["rule"] == "few_active_installs"

    again = client.post(f"/editor/exemptions/{exemption.id}/end", follow_redirects=True)
    assert "This exemption has already ended." in page_text(again)
    assert len(events(db, "listing.exemption_ended")) == 1


def test_ending_an_unknown_exemption_is_404(client, db, editor):
    assert client.post("/editor/exemptions/999999/end").status_code == 404
    assert client.post("/editor/listings/999999/exemptions",
                       data={"reason": "x", "expires_at": day(3)}).status_code == 404


def test_service_refuses_an_unknown_rule_and_a_past_expiry(db):
    editor = factories.make_user(db, role=Role.EDITOR)
    listing = factories.make_listing(db)
    with pytest.raises(ListingError, match="Unknown rule") as unknown:
        exempt_listing(db, listing, editor, rule="nope", reason="x",
                       expires_at=utcnow() + timedelta(days=1))
    assert unknown.value.field == "rule"
    with pytest.raises(ListingError, match="future") as past:
        exempt_listing(db, listing, editor, rule=None, reason="x",
                       expires_at=datetime(2001, 1, 1, tzinfo=UTC))
    assert past.value.field == "expires_at"
    db.rollback()
    assert exemptions(db, listing) == []


def test_the_delist_at_once_form_is_labelled_apart_from_pruning(client, db, editor):
    listing = factories.make_listing(db)
    page = page_text(client.get(f"/editor/listings/{listing.id}"))
    assert "Delist at once (editor decision)" in page
    assert "Delist now" in page
    assert 'id="pruning-heading">Pruning</h2>' in page
    assert '<option value="">All rules</option>' in page
    assert '<option value="webhook_failing">Webhook endpoint failing</option>' in page
