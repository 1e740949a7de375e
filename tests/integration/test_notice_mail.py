"""Every kind of notice mail, end to end: the real service, job or provider webhook
makes the change, the mail sender delivers over SMTP to Mailpit, and Mailpit shows
what the person gets: who, the subject, the facts that matter and the one-click
unsubscribe headers (RFC 8058). Then the unsubscribe link, and the review digest."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from installs.services import install_listing
from installs.trials import settle_trials
from listings import prune
from listings.models import ListingStatus, PricingModel, ReleaseStatus
from listings.services import (
    approve_listing,
    moderate_review,
    reject_listing,
    reply_to_review,
    review_release,
)
from mail.models import MailMessage
from mail.sender import send_due
from tests import factories
from tests.factories import workspace_of
from tests.webhook_receiver import WebhookReceiver
from webhooks.delivery import deliver_due

SECRET = "whsec_notice_mail_tests"
BASE = "https://bazaar.example.com"
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def app_overrides(mailpit):
    return {**mailpit.app_config(), "MAIL_SEND_TIMEOUT": 5.0, "BAZAAR_BASE_URL": BASE,
            "MAIL_FROM": "Bazaar <no-reply@bazaar.example.com>",
            "STRIPE_WEBHOOK_SECRET": SECRET, "WEBHOOK_MAX_ATTEMPTS": 1,
            "WEBHOOK_TIMEOUT": 2.0, "WEBHOOK_ALLOW_PRIVATE_HOSTS": True}


def person(db, role=Role.CUSTOMER, partner=None, name: str = "Ada Lovelace"):
    """A user with an address no other test (or test run) mails."""
    return factories.make_user(db, role, partner=partner, name=name,
                               email=f"notice-{uuid.uuid4().hex[:12]}@example.com")


def admin_with_workspace(db):
    user = person(db)
    factories.make_workspace(db, user)
    return user


def inbox(app, mailpit, user, count: int = 1) -> list[dict]:
    """Send due mail, then the ``count`` messages ``user`` got, oldest first, parsed
    (Subject, To, Text, HTML) with their headers under "Headers"."""
    send_due(app)
    found = mailpit.wait_for(user.email, count)
    assert len(found) == count, [m["Subject"] for m in found]
    messages = []
    for summary in reversed(found):
        message = mailpit.message(summary["ID"])
        message["Headers"] = mailpit.headers(summary["ID"])
        messages.append(message)
    return messages


def one_mail(app, mailpit, user) -> dict:
    [message] = inbox(app, mailpit, user)
    assert [to["Address"] for to in message["To"]] == [user.email]
    return message


def unsubscribe_link(message: dict) -> str:
    """The one-click URL, after checking both RFC 8058 headers are there."""
    headers = message["Headers"]
    [link] = headers["List-Unsubscribe"]
    assert link.startswith(f"<{BASE}/account/notifications/unsubscribe/") and link.endswith(">")
    assert headers["List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    return link[1:-1]


def queued_kinds(db, user) -> list[str]:
    db.rollback()
    db.expire_all()
    return list(db.exec(select(MailMessage.kind).where(MailMessage.user_id == user.id)
                        .order_by(MailMessage.id)).all())


# --- installs: trials and scope changes ------------------------------------------------


def test_trial_ending_and_ended_mail_the_workspace_admins(app, db, mailpit):
    admin = admin_with_workspace(db)
    member = person(db)
    factories.make_member(db, workspace_of(db, admin), member)
    listing = factories.make_listing(db, name="Acme CRM", pricing_model=PricingModel.FLAT_MONTHLY,
                                     monthly_price=2500, trial_days=14)
    with app.app_context():
        install_listing(db, workspace_of(db, admin), admin, listing, now=NOW)
        db.commit()
        settle_trials(db, now=NOW + 11 * DAY + timedelta(hours=1))
        db.commit()
        settle_trials(db, now=NOW + 11 * DAY + timedelta(hours=2))  # again: no second mail
        db.commit()

    reminder = one_mail(app, mailpit, admin)
    assert reminder["Subject"] == "Your trial of Acme CRM ends in 3 days"
    assert "15 Jun 2026" in reminder["Text"] and f"{BASE}/my/apps" in reminder["Text"]
    assert f'href="{BASE}/my/apps"' in reminder["HTML"]
    unsubscribe_link(reminder)

    with app.app_context():
        settle_trials(db, now=NOW + 15 * DAY)
        db.commit()
    _, ended = inbox(app, mailpit, admin, 2)
    assert ended["Subject"] == "Your trial of Acme CRM ended"
    assert "disabled" in ended["Text"] and "payment method" in ended["Text"]
    unsubscribe_link(ended)
    assert mailpit.sent_to(member.email) == []  # admins only


def test_a_release_asking_for_more_access_mails_the_workspace_admins(app, db, mailpit):
    admin = admin_with_workspace(db)
    read = {"scope": "contacts:read", "justification": "To show contact names."}
    write = {"scope": "contacts:write", "justification": "To save your notes back."}
    listing = factories.make_listing(db, name="Deal Notes", scopes=[read])
    factories.make_install(db, workspace_of(db, admin), listing)
    release = factories.make_release(db, listing, version="2.0.0", scopes=[read, write],
                                     review_status=ReleaseStatus.PENDING)
    with app.app_context():
        review_release(db, release, person(db, Role.EDITOR), approve=True)
        db.commit()

    message = one_mail(app, mailpit, admin)
    assert message["Subject"] == "Deal Notes asks for more access"
    assert "contacts:write" in message["Text"] and "2.0.0" in message["Text"]
    assert f"{BASE}/my/apps" in message["Text"]
    unsubscribe_link(message)


# --- listings: the editors' decisions, reviews, the prune job ---------------------------


def partner_with_listing(db, **fields):
    partner = factories.make_partner(db)
    members = [person(db, Role.PARTNER, partner=partner) for _ in range(2)]
    listing = factories.make_listing(db, partner=partner, **fields)
    return partner, members, listing


def test_submission_approved_and_rejected_mail_the_partner_members(app, db, mailpit):
    editor = person(db, Role.EDITOR)
    _, members, listing = partner_with_listing(db, name="Acme CRM", status=ListingStatus.IN_REVIEW)
    _, others, rejected = partner_with_listing(db, name="Beta Tool",
                                               status=ListingStatus.IN_REVIEW)
    with app.app_context():
        approve_listing(db, listing, editor)
        reject_listing(db, rejected, editor, "The screenshots show another product.")
        db.commit()

    for member in members:
        message = one_mail(app, mailpit, member)
        assert message["Subject"] == "Acme CRM is approved and published"
        assert f"{BASE}/apps/{listing.slug}" in message["Text"]
        unsubscribe_link(message)
    message = one_mail(app, mailpit, others[0])
    assert message["Subject"] == "Beta Tool was not approved"
    assert "The screenshots show another product." in message["Text"]
    assert f"{BASE}/partner/listings/{rejected.id}" in message["Text"]


def test_a_release_approved_or_rejected_mails_the_partner_members(app, db, mailpit):
    editor = person(db, Role.EDITOR)
    _, [member, _], listing = partner_with_listing(db, name="Acme CRM")
    good = factories.make_release(db, listing, version="1.1.0", review_status=ReleaseStatus.PENDING)
    bad = factories.make_release(db, listing, version="1.2.0", review_status=ReleaseStatus.PENDING)
    with app.app_context():
        review_release(db, good, editor, approve=True)
        review_release(db, bad, editor, approve=False, reason="The manifest asks for admin:all.")
        db.commit()

    approved, rejected = inbox(app, mailpit, member, 2)
    assert approved["Subject"] == "Acme CRM 1.1.0 is approved"
    assert rejected["Subject"] == "Acme CRM 1.2.0 was not approved"
    assert "The manifest asks for admin:all." in rejected["Text"]
    unsubscribe_link(rejected)


def test_a_reply_to_a_review_mails_the_reviewer(app, db, mailpit):
    listing = factories.make_listing(db, name="Acme CRM")
    reviewer = factories.make_installer(db, listing, email=f"r-{uuid.uuid4().hex[:10]}@example.com")
    review = factories.make_review(db, listing, author=reviewer, status="published")
    with app.app_context():
        reply_to_review(db, review, "Thanks! The export is fixed in 1.3.")
        db.commit()

    message = one_mail(app, mailpit, reviewer)
    assert message["Subject"] == "Acme CRM replied to your review"
    assert "Thanks! The export is fixed in 1.3." in message["Text"]
    assert f"{BASE}/apps/{listing.slug}" in message["Text"]
    unsubscribe_link(message)


def test_new_reviews_come_as_one_digest_a_day(app, db, mailpit, runner):
    editor = person(db, Role.EDITOR)
    _, [member, _], listing = partner_with_listing(db, name="Acme CRM")

    def published_review(title: str):
        review = factories.make_review(db, listing, author=factories.make_installer(db, listing),
                                       title=title, rating=4, status="pending")
        with app.app_context():
            moderate_review(db, review, editor, publish=True)
        db.commit()

    published_review("Saves me an hour a day")
    published_review("Solid, but slow exports")
    assert queued_kinds(db, member) == []  # no mail per review

    result = runner.invoke(args=["listings", "review-digest", "--now", "2026-06-01T08:00:00"])
    assert result.exit_code == 0, result.output
    assert "1 partner mailed" in result.output
    digest = one_mail(app, mailpit, member)
    assert digest["Subject"] == "2 new reviews of your apps"
    assert "Saves me an hour a day" in digest["Text"] and "Solid, but slow exports" in digest["Text"]
    unsubscribe_link(digest)

    # A third review the same day waits for tomorrow's digest, however often it runs.
    published_review("Great support")
    runner.invoke(args=["listings", "review-digest", "--now", "2026-06-01T20:00:00"])
    assert len(inbox(app, mailpit, member, 1)) == 1
    runner.invoke(args=["listings", "review-digest", "--now", "2026-06-02T08:00:00"])
    _, tomorrow = inbox(app, mailpit, member, 2)
    assert tomorrow["Subject"] == "1 new review of your apps"
    assert "Great support" in tomorrow["Text"] and "Saves me" not in tomorrow["Text"]


def test_the_prune_job_mails_the_flag_and_the_delisting(app, db, mailpit):
    partner = factories.make_partner(db)
    member = person(db, Role.PARTNER, partner=partner)
    category = factories.make_category(db)
    stale = factories.make_aged_listing(db, NOW, published_days=100, activity_days=30,
                                        partner=partner, category=category, name="Old Sync",
                                        webhook_failing_since=NOW - 10 * DAY,
                                        webhook_last_error="answered HTTP 500")
    installer = admin_with_workspace(db)
    factories.make_install_at(db, stale, NOW - 50 * DAY, workspace=workspace_of(db, installer))
    for n in range(3):
        factories.make_install_at(db, stale, NOW - 50 * DAY)
    alternative = factories.make_aged_listing(db, NOW, published_days=100, activity_days=30,
                                              category=category, name="Fresh Sync")
    for _ in range(3):
        factories.make_install_at(db, alternative, NOW - 50 * DAY)

    prune.run_prune(app, now=NOW)
    flagged = one_mail(app, mailpit, member)
    assert flagged["Subject"] == "Old Sync was flagged: fix it by July 1, 2026"
    assert "Webhook endpoint failing" in flagged["Text"] and "To fix it" in flagged["Text"]
    assert "July 1, 2026" in flagged["Text"]
    unsubscribe_link(flagged)
    prune.run_prune(app, now=NOW + timedelta(hours=1))  # nothing new: no second mail
    assert len(inbox(app, mailpit, member, 1)) == 1

    prune.run_prune(app, now=NOW + 30 * DAY)
    delisted = one_mail(app, mailpit, installer)
    assert delisted["Subject"] == "Old Sync was removed from Bazaar"
    assert "keeps working" in delisted["Text"] and "Fresh Sync" in delisted["Text"]
    assert f"{BASE}/apps/{alternative.slug}" in delisted["Text"]
    unsubscribe_link(delisted)
    _, partner_told = inbox(app, mailpit, member, 2)
    assert partner_told["Subject"] == "Old Sync was delisted"


# --- webhooks: an endpoint failing for a day, and for six --------------------------------


def test_a_failing_webhook_endpoint_mails_the_partner_at_24_hours_and_6_days(app, db, mailpit):
    receiver = WebhookReceiver().start()
    try:
        _, [member, _], listing = partner_with_listing(db, name="Acme CRM")
        factories.point_webhooks_at(db, listing, receiver.url_for("error"))
        start = utcnow() + timedelta(minutes=1)  # after the deliveries are queued

        def fail_at(moment):
            factories.make_webhook_delivery(db, listing)
            assert deliver_due(app, now=moment).failed == 1

        fail_at(start)                      # the failure streak starts
        fail_at(start + timedelta(hours=12))
        assert queued_kinds(db, member) == []
        fail_at(start + timedelta(hours=25))
        fail_at(start + timedelta(hours=30))  # the same threshold: no second mail
        day = one_mail(app, mailpit, member)
        assert day["Subject"] == "Webhooks to Acme CRM have failed for 24 hours"
        assert "answered HTTP 500" in day["Text"]
        assert f"{BASE}/partner/listings/{listing.id}/webhooks" in day["Text"]
        unsubscribe_link(day)

        fail_at(start + 6 * DAY + timedelta(hours=1))
        _, week = inbox(app, mailpit, member, 2)
        assert week["Subject"] == "Webhooks to Acme CRM have failed for 6 days"
        assert "delisted" in week["Text"]
    finally:
        receiver.stop()


# --- billing: payouts, the payout account, invoices ------------------------------------


def stripe(client, event_id: str, event_type: str, data: dict, account: str | None = None):
    body = factories.stripe_event(event_id, event_type, data)
    if account:
        body["account"] = account
    response = factories.post_stripe_event(client, body, SECRET)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_failed_payout_and_an_account_needing_action_mail_the_partner(app, db, client, mailpit):
    partner = factories.make_partner(db)
    member = person(db, Role.PARTNER, partner=partner)
    account = factories.make_connected_account(db, partner)
    payout = {"id": "po_notice_1", "object": "payout", "amount": 2610, "currency": "usd",
              "status": "failed", "created": int(time.time()) - 60,
              "arrival_date": int(time.time()), "failure_code": "account_closed",
              "failure_message": "The bank account has been closed."}
    stripe(client, "evt_po_failed_notice", "payout.failed", payout, account.provider_account_id)

    failed = one_mail(app, mailpit, member)
    assert failed["Subject"] == "A payout of $26.10 to your bank failed"
    assert "The bank account has been closed." in failed["Text"]
    assert f"{BASE}/partner/payouts" in failed["Text"]
    unsubscribe_link(failed)

    restricted = {"id": account.provider_account_id, "object": "account",
                  "charges_enabled": False, "payouts_enabled": False, "details_submitted": True,
                  "requirements": {"disabled_reason": "requirements.past_due"}}
    stripe(client, "evt_acct_restricted", "account.updated", restricted)
    stripe(client, "evt_acct_restricted_again", "account.updated", restricted)
    _, action = inbox(app, mailpit, member, 2)
    assert action["Subject"] == "Your payout account needs action"
    assert f"{BASE}/partner/payouts" in action["Text"]
    unsubscribe_link(action)


def test_invoice_paid_and_payment_failed_mail_the_billing_contact(app, db, client, mailpit):
    admin = admin_with_workspace(db)
    listing = factories.make_paid_listing(db, name="Acme CRM")
    subscription, _ = factories.make_checkout(db, app, workspace_of(db, admin), listing)
    meta = {"bazaar_subscription_id": str(subscription.id)}
    stripe(client, "evt_done_notice", "checkout.session.completed", {
        "id": subscription.provider_checkout_session_id, "object": "checkout.session",
        "mode": "subscription", "status": "complete", "payment_status": "paid",
        "subscription": "sub_notice_1", "customer": subscription.provider_customer_id,
        "metadata": meta})
    invoice = {"id": "in_notice_1", "object": "invoice", "subscription": "sub_notice_1",
               "amount_due": 1500, "amount_paid": 0, "currency": "usd"}
    stripe(client, "evt_failed_notice", "invoice.payment_failed", invoice)
    failed = one_mail(app, mailpit, admin)
    assert failed["Subject"] == "A payment for Acme CRM failed"
    assert "$15.00" in failed["Text"] and f"{BASE}/my/billing" in failed["Text"]
    unsubscribe_link(failed)

    stripe(client, "evt_paid_notice", "invoice.paid", {**invoice, "amount_paid": 1500,
                                                       "status": "paid"})
    _, paid = inbox(app, mailpit, admin, 2)
    assert paid["Subject"] == "Invoice paid: Acme CRM, $15.00"
    unsubscribe_link(paid)


# --- one-click unsubscribe --------------------------------------------------------------


def test_one_click_unsubscribe_stops_that_kind_only(app, db, client, mailpit):
    editor = person(db, Role.EDITOR)
    _, [member, _], listing = partner_with_listing(db, name="Acme CRM")
    first = factories.make_release(db, listing, version="1.1.0", review_status=ReleaseStatus.PENDING)
    with app.app_context():
        review_release(db, first, editor, approve=True)
        db.commit()
    link = unsubscribe_link(one_mail(app, mailpit, member))

    # What a mail program does (RFC 8058 section 3.1): a POST, no cookie, no CSRF token.
    response = client.post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)

    second = factories.make_release(db, listing, version="1.2.0", review_status=ReleaseStatus.PENDING)
    with app.app_context():
        review_release(db, second, editor, approve=True)
        listing.status = ListingStatus.IN_REVIEW
        db.add(listing)
        approve_listing(db, listing, editor)  # another kind: still mailed
        db.commit()
    assert queued_kinds(db, member) == ["release_reviewed", "submission_reviewed"]
    send_due(app)
    assert next(m["Subject"] for m in mailpit.wait_for(member.email, 2)) == \
        "Acme CRM is approved and published"
