"""Which notices a person gets by mail: the settings page, the one-click unsubscribe
link every notice carries (RFC 8058), and links that are forged or altered."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
from sqlmodel import func, select

from accounts.models import Role, User
from listings.models import Partner
from listings.services import reply_to_review
from mail.compose import queue_mail
from mail.models import MailMessage, MailPreference
from mail.preferences import (
    CUSTOMER_KINDS,
    NOTICE_KINDS,
    PARTNER_KINDS,
    opted_out_kinds,
    unsubscribe_token,
)
from tests import factories


@pytest.fixture
def csrf_on(app):
    """CSRF checked, as in production (the tests' sign-in helper posts without a token,
    so it is turned on after signing in): the unsubscribe POST must work without one."""

    def turn_on():
        app.config["WTF_CSRF_ENABLED"] = True

    return turn_on


@pytest.fixture
def reviewer(db):
    listing = factories.make_listing(db, name="Acme CRM")
    author = factories.make_installer(db, listing)
    return author, factories.make_review(db, listing, author=author)


def replied(db, review, body: str = "Thanks for the review!") -> list[MailMessage]:
    """The partner replies; the mail queued to the review's author (if any)."""
    reply_to_review(db, review, body)
    db.commit()
    return list(db.exec(select(MailMessage).where(MailMessage.user_id == review.author_id,
                                                  MailMessage.kind == "review_reply")).all())


def unsubscribe_path(message: MailMessage) -> str:
    return urlsplit(message.headers["List-Unsubscribe"].strip("<>")).path


def preference_rows(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(MailPreference)).one()


def csrf_token_of(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def test_the_settings_page_needs_a_signed_in_user(client):
    response = client.get("/account/notifications")
    assert response.status_code == 302 and "/account/login" in response.location


def test_the_page_lists_every_kind_on_and_security_mail_always_on(client, db, login, reviewer):
    author, _ = reviewer
    login(author)
    page = client.get("/account/notifications").get_data(as_text=True)
    for kind, label in CUSTOMER_KINDS.items():
        assert f'name="kind" value="{kind}" checked' in page
        assert label in page
    # A customer is not offered a partner's notices, nor the other way round.
    assert not any(f'value="{kind}"' in page for kind in PARTNER_KINDS)
    assert "Security mail: password reset" in page and "(always on)" in page
    assert 'checked disabled' in page
    # The header menu links to it.
    assert 'href="/account/notifications"' in client.get("/").get_data(as_text=True)


def test_a_partner_is_offered_the_partner_notices_and_keeps_the_others(client, db, login,
                                                                        csrf_on):
    listing = factories.make_listing(db)
    partner = factories.make_user(db, role="partner", partner=db.get(Partner, listing.partner_id))
    db.commit()
    login(partner)
    csrf_on()
    page = client.get("/account/notifications").get_data(as_text=True)
    assert all(f'value="{kind}" checked' in page for kind in PARTNER_KINDS)
    assert not any(f'value="{kind}"' in page for kind in CUSTOMER_KINDS)

    wanted = [kind for kind in PARTNER_KINDS if kind != "new_reviews"]
    client.post("/account/notifications", data={"kind": wanted, "csrf_token": csrf_token_of(page)})

    # Only what the page showed changed: the customer kinds it did not show stay on.
    assert opted_out_kinds(db, partner.id) == {"new_reviews"}


def test_turning_a_kind_off_stops_that_mail_and_keeps_the_others(client, db, login, reviewer,
                                                                   csrf_on):
    author, review = reviewer
    login(author)
    csrf_on()
    page = client.get("/account/notifications").get_data(as_text=True)
    wanted = [kind for kind in NOTICE_KINDS if kind != "review_reply"]
    response = client.post("/account/notifications",
                           data={"kind": wanted, "csrf_token": csrf_token_of(page)})
    assert response.status_code == 303

    page = client.get("/account/notifications").get_data(as_text=True)
    assert 'name="kind" value="review_reply">' in page  # unchecked now
    assert 'name="kind" value="trial_ending" checked' in page
    assert replied(db, review) == []


def test_a_notice_carries_a_one_click_unsubscribe_that_works_without_signing_in(client, db,
                                                                                 reviewer, csrf_on):
    _, review = reviewer
    csrf_on()
    [message] = replied(db, review)
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:5000/account/notifications/unsubscribe/")
    assert message.headers["List-Unsubscribe"].strip("<>") in message.text_body
    path = unsubscribe_path(message)

    # GET (a person following the footer link, or a link scanner): a button, no change.
    page = client.get(path)
    assert page.status_code == 200
    assert "A partner replied to your review" in page.get_data(as_text=True)
    assert f'action="{path}"' in page.get_data(as_text=True)
    assert preference_rows(db) == 0

    # POST as a mail program sends it: no session, no CSRF token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert preference_rows(db) == 1

    # A reply to another review by the same person is not queued.
    author = db.get(User, review.author_id)
    other = factories.make_review(db, factories.make_listing(db), author=author)
    assert [m.id for m in replied(db, other)] == [message.id]


def test_the_settings_form_still_needs_its_csrf_token(client, db, login, reviewer, csrf_on):
    author, _ = reviewer
    login(author)
    csrf_on()
    response = client.post("/account/notifications", data={"kind": []})
    assert response.status_code == 400
    assert preference_rows(db) == 0


def _altered(token: str, **change) -> str:
    """``token`` with its payload changed but its signature kept."""
    payload, signature = token.rsplit(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data = [change.get("user_id", data[0]), change.get("kind", data[1])]
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{encoded.decode().rstrip('=')}.{signature}"


def test_forged_or_altered_unsubscribe_links_are_refused_and_change_nothing(app, client, db,
                                                                            reviewer, csrf_on):
    _, review = reviewer
    csrf_on()
    victim = factories.make_user(db, Role.PARTNER)
    [message] = replied(db, review)
    token = unsubscribe_path(message).rsplit("/", 1)[1]
    with app.app_context():
        real_key = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = "another-secret-key-" + "x" * 32
        other_app_token = unsubscribe_token(victim.id, "payout_failed")
        app.config["SECRET_KEY"] = real_key

    forged = [
        _altered(token, user_id=victim.id),           # someone else
        _altered(token, kind="payout_failed"),        # another kind
        other_app_token,                              # signed with another key
        token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),  # signature altered
        "not-a-token",
    ]
    for bad in forged:
        path = f"/account/notifications/unsubscribe/{bad}"
        assert client.get(path).status_code == 400, bad
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400, bad
        assert "not valid" in response.get_data(as_text=True)
    assert preference_rows(db) == 0


def test_security_mail_ignores_preferences_and_has_no_unsubscribe(app, client, db, reviewer):
    author, review = reviewer
    [message] = replied(db, review)
    client.post(unsubscribe_path(message), data={"List-Unsubscribe": "One-Click"})
    with app.app_context():
        row = queue_mail(db, to=author.email, kind="review_reply", template="notice",
                         user_id=author.id, security=True, key="security-check",
                         context={"subject": "Your password was changed", "paragraphs": []})
    db.commit()
    assert row is not None and row.headers == {}
