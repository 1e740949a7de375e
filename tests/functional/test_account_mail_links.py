"""Password reset, email verification and email change through the links Bazaar mails,
and every bad link: expired, reused, tampered, another account's, the password
changed since. Mail is held in the outbox here (no MAIL_SERVER); the tests read the
links from the queued messages. tests/integration/test_account_mail.py reads them as
delivered over SMTP."""

from __future__ import annotations

import re
import time

import itsdangerous.timed
import pytest
from sqlmodel import select

from accounts.models import User
from mail.models import MailMessage
from tests import factories

NEW_PASSWORD = "a-brand-new-password"
LINK = re.compile(r"https?://[^\s\"<>]+/account/(?:reset-password|verify-email|confirm-email)/[^\s\"<>]+")


def mails(db, kind: str | None = None, to: str | None = None) -> list[MailMessage]:
    db.expire_all()
    query = select(MailMessage).order_by(MailMessage.id)
    if kind:
        query = query.where(MailMessage.kind == kind)
    found = list(db.exec(query).all())
    return [m for m in found if to is None or to in m.to_address]


def link_in(message: MailMessage) -> str:
    """The path of the one account link in a mail (same in both parts)."""
    [url] = set(LINK.findall(message.text_body))
    assert url in message.html_body
    return "/" + url.split("/", 3)[3]


def forgot(client, email: str, **kwargs):
    return client.post("/account/forgot-password", data={"email": email}, **kwargs)


def reset_link(client, db, user) -> str:
    assert forgot(client, user.email).status_code == 200
    return link_in(mails(db, "password_reset", user.email)[-1])


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"new_password": password, "confirm": confirm or password})


def can_sign_in(app, email: str, password: str) -> bool:
    return app.test_client().post("/account/login", data={
        "email": email, "password": password}).status_code == 302


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def reload(db, user) -> User:
    db.expire_all()
    return db.get(User, user.id)


# --- forgot your password -----------------------------------------------------------


def test_the_sign_in_page_offers_a_password_reset(client, db):
    page = client.get("/account/login").get_data(as_text=True)
    assert 'href="/account/forgot-password"' in page and "Forgot your password?" in page


def test_forgot_password_answers_alike_for_a_known_and_an_unknown_address(app, db):
    user = factories.make_user(db, email="known@example.com")
    known = forgot(app.test_client(), "Known@Example.com")
    unknown = forgot(app.test_client(), "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace("known@example.com", "nobody@example.com") == \
        unknown.get_data(as_text=True)
    assert "If known@example.com has a Bazaar account" in known.get_data(as_text=True)
    [message] = mails(db)
    assert (message.kind, message.security, message.user_id) == ("password_reset", True, user.id)
    assert user.email in message.to_address
    assert message.headers == {}  # security mail: no unsubscribe
    assert "works once, for 60 minutes" in message.text_body


def test_a_reset_link_sets_the_password_signs_out_everywhere_and_mails_a_notice(app, client, db):
    user = factories.make_user(db)
    laptop = app.test_client()
    assert laptop.post("/account/login", data={"email": user.email,
                                               "password": factories.PASSWORD}).status_code == 302
    path = reset_link(client, db, user)

    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    response = set_password(client, path)

    assert response.status_code == 302 and response.location.endswith("/account/login")
    assert "every device is signed out" in client.get(response.location).get_data(as_text=True)
    assert not signed_in(laptop)
    assert can_sign_in(app, user.email, NEW_PASSWORD)
    assert not can_sign_in(app, user.email, factories.PASSWORD)
    [notice] = mails(db, "password_changed")
    assert notice.security and user.email in notice.to_address
    assert "password of your Bazaar account was changed" in notice.text_body


def test_a_reset_link_works_once(app, client, db):
    user = factories.make_user(db)
    path = reset_link(client, db, user)
    assert set_password(client, path).status_code == 302

    again = app.test_client()
    page = again.get(path)
    reused = set_password(again, path, "yet-another-password")

    for response in (page, reused):
        assert response.status_code == 400
        assert "already used, or the password was changed" in response.get_data(as_text=True)
    assert can_sign_in(app, user.email, NEW_PASSWORD)
    assert not can_sign_in(app, user.email, "yet-another-password")


def test_a_reset_link_dies_when_the_password_is_changed_another_way(app, client, db, login):
    user = factories.make_user(db)
    path = reset_link(app.test_client(), db, user)
    login(user)
    assert client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}).status_code == 302

    response = set_password(app.test_client(), path, "the-attackers-password")

    assert response.status_code == 400
    assert "the password was changed since it was sent" in response.get_data(as_text=True)
    assert can_sign_in(app, user.email, NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app, client, db, monkeypatch):
    user = factories.make_user(db)
    real_time = time.time
    # Asked for 61 minutes ago: itsdangerous stamps the link with the time it was made.
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 61 * 60)
    path = reset_link(client, db, user)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)

    response = set_password(client, path)

    assert response.status_code == 400
    assert "This password reset link has expired" in response.get_data(as_text=True)
    assert can_sign_in(app, user.email, factories.PASSWORD)


def test_a_tampered_reset_link_is_refused(app, client, db):
    victim, attacker = factories.make_user(db), factories.make_user(db)
    path = reset_link(client, db, attacker)
    # The attacker's own link, with the payload edited to name the victim's account.
    token = path.rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    forged = itsdangerous.encoding.base64_encode(
        itsdangerous.encoding.base64_decode(payload).replace(
            str(attacker.id).encode(), str(victim.id).encode(), 1)).decode()
    for bad in (f"/account/reset-password/{forged}.{rest}", path[:-3],
                "/account/reset-password/not-a-token"):
        response = set_password(app.test_client(), bad)
        assert response.status_code == 400, bad
        assert "This link is not valid" in response.get_data(as_text=True)
    assert can_sign_in(app, victim.email, factories.PASSWORD)
    assert can_sign_in(app, attacker.email, factories.PASSWORD)


def test_another_accounts_reset_link_is_refused_while_signed_in(app, client, db, login):
    owner, someone = factories.make_user(db), factories.make_user(db)
    path = reset_link(app.test_client(), db, owner)
    login(someone)

    response = set_password(client, path)

    assert response.status_code == 400
    assert "belongs to another Bazaar account" in response.get_data(as_text=True)
    assert can_sign_in(app, owner.email, factories.PASSWORD)


@pytest.mark.parametrize("password,confirm,message", [
    ("short", "short", "The password must be at least 10 characters."),
    (NEW_PASSWORD, "something-else-entirely", "The passwords do not match."),
])
def test_a_reset_refuses_a_password_sign_up_would_refuse(app, client, db, password, confirm,
                                                          message):
    user = factories.make_user(db)
    path = reset_link(client, db, user)
    response = set_password(client, path, password, confirm)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert can_sign_in(app, user.email, factories.PASSWORD)
    assert mails(db, "password_changed") == []


class TestResetRateLimits:
    @pytest.fixture
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True}

    def test_one_address_gets_three_reset_mails_an_hour_whoever_asks(self, app, db):
        user = factories.make_user(db)
        statuses = [forgot(app.test_client(), user.email,
                           environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
                    for n in range(1, 5)]
        assert statuses == [200, 200, 200, 429]
        assert len(mails(db, "password_reset")) == 3
        # An unknown address is limited alike, so the limit tells nothing either.
        unknown = [forgot(app.test_client(), "nobody@example.com",
                          environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code
                   for n in range(1, 5)]
        assert unknown == statuses

    def test_one_client_may_ask_ten_times_an_hour(self, app, db):
        client = app.test_client()
        statuses = [forgot(client, f"person{n}@example.com").status_code for n in range(11)]
        assert statuses == [200] * 10 + [429]


# --- verification -------------------------------------------------------------------


def register(client, email: str, name: str = "Ada"):
    return client.post("/account/register", data={
        "display_name": name, "email": email, "password": "long-enough-pw",
        "confirm": "long-enough-pw"})


def test_a_new_account_is_unverified_until_the_mailed_link_is_opened(app, client, db):
    register(client, "ada@example.com")
    user = db.exec(select(User).where(User.email == "ada@example.com")).one()
    assert user.email_verified_at is None
    [message] = mails(db, "verify_email")
    assert message.security and "ada@example.com" in message.to_address
    path = link_in(message)

    response = client.get(path)

    assert response.status_code == 302
    assert "ada@example.com is confirmed" in client.get(response.location).get_data(as_text=True)
    assert reload(db, user).email_verified_at is not None
    reused = client.get(path)
    assert reused.status_code == 400
    assert "This verification link was already used" in reused.get_data(as_text=True)


def test_a_tampered_verification_link_is_refused(client, db):
    register(client, "ada@example.com")
    path = link_in(mails(db, "verify_email")[0])
    response = client.get(path[:-4] + "abcd")
    assert response.status_code == 400 and "This link is not valid" in response.get_data(as_text=True)
    assert db.exec(select(User)).one().email_verified_at is None


def test_a_verification_link_for_an_old_address_does_not_verify_the_new_one(app, client, db):
    register(client, "ada@example.com")
    path = link_in(mails(db, "verify_email")[0])
    user = db.exec(select(User)).one()
    user.email = "ada@elsewhere.example.com"
    db.add(user)
    db.commit()
    response = app.test_client().get(path)
    assert response.status_code == 400
    assert reload(db, user).email_verified_at is None


def test_signing_up_with_a_taken_address_tells_its_owner_once_an_hour(app, db):
    owner = factories.make_user(db, email="taken@example.com")
    for _ in range(2):
        assert register(app.test_client(), "Taken@Example.com", name="Mallory").status_code == 302
    [message] = mails(db, "signup_attempt")
    assert owner.email in message.to_address and message.security
    assert "reset it with the link below" in message.text_body
    assert mails(db, "verify_email") == []


def test_an_unverified_customer_can_send_the_link_again_a_few_times(app, client, db, login):
    user = factories.make_user(db, verified=False)
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "Confirm your email address" in page and "Send the link again" in page

    response = client.post("/account/verify-email/resend")

    assert response.status_code == 302
    assert f"We sent a new confirmation link to {user.email}" in \
        client.get(response.location).get_data(as_text=True)
    [message] = mails(db, "verify_email")
    assert client.get(link_in(message)).status_code == 302
    assert reload(db, user).email_verified_at is not None


class TestResendRateLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True}

    def test_resending_is_rate_limited(self, client, db, login):
        login(factories.make_user(db, verified=False))
        statuses = [client.post("/account/verify-email/resend").status_code for _ in range(4)]
        assert statuses == [302, 302, 302, 429]
        assert len(mails(db, "verify_email")) == 3


# --- what an unverified customer cannot do ------------------------------------------


@pytest.fixture
def unverified(db):
    user = factories.make_user(db, verified=False)
    factories.make_workspace(db, user)
    return user


def test_an_unverified_customer_installs_free_apps(client, db, login, unverified):
    listing = factories.make_listing(db)
    login(unverified)
    page = client.get(f"/apps/{listing.slug}/install").get_data(as_text=True)
    assert "Confirm and install" in page and "Confirm your email address" not in page
    from listings.services import current_release
    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": current_release(db, listing.id).id})
    assert response.status_code == 303 and "/installed" in response.location


def test_an_unverified_customer_cannot_pay_and_is_told_why(client, db, login, unverified):
    from billing.models import Subscription
    from listings.services import current_release
    listing = factories.make_paid_listing(db)
    login(unverified)

    page = client.get(f"/apps/{listing.slug}/install").get_data(as_text=True)
    assert "Confirm your email address to pay for apps" in page
    assert "Confirm and continue to payment" not in page
    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": current_release(db, listing.id).id})

    assert response.status_code == 302 and response.location.endswith(f"/apps/{listing.slug}/install")
    assert "Confirm your email address to pay for apps" in \
        client.get(response.location).get_data(as_text=True)
    assert db.exec(select(Subscription)).all() == []


def test_an_unverified_customer_cannot_invite_and_is_told_why(client, db, login, unverified):
    from accounts.models import WorkspaceInvitation
    login(unverified)
    page = client.get("/workspace").get_data(as_text=True)
    assert "Confirm your email address to invite people" in page
    assert "Create invitation link" not in page

    response = client.post("/workspace/invitations", data={"email": "bo@example.com",
                                                           "role": "member"})

    assert response.status_code == 400
    assert "Confirm your email address to invite people" in response.get_data(as_text=True)
    assert db.exec(select(WorkspaceInvitation)).all() == []
    assert mails(db, "workspace_invitation") == []


def test_an_unverified_customer_cannot_review_and_is_told_why(client, db, login):
    from listings.models import Review
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing, verified=False)
    login(user)
    page = client.get(f"/apps/{listing.slug}").get_data(as_text=True)
    assert "Confirm your email address to write reviews" in page and "Send review" not in page

    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Hi"})

    assert response.status_code == 403
    assert "Confirm your email address to write reviews" in response.get_data(as_text=True)
    assert db.exec(select(Review).where(Review.author_id == user.id)).all() == []


# --- settings: name and email -------------------------------------------------------


def test_the_header_links_the_account_settings_page(client, db, login):
    login(factories.make_user(db))
    assert 'href="/account" class="account-link"' in client.get("/").get_data(as_text=True)


def test_changing_the_name(client, db, login):
    user = factories.make_user(db)
    login(user)
    response = client.post("/account/name", data={"display_name": "  Ada Lovelace "})
    assert response.status_code == 302
    assert reload(db, user).display_name == "Ada Lovelace"
    assert client.post("/account/name", data={"display_name": ""}).status_code == 400


def test_changing_the_email_waits_for_the_new_address_and_tells_the_old(app, client, db, login):
    user = factories.make_user(db, email="old@example.com")
    login(user)

    response = client.post("/account/email", data={"email": "New@Example.com",
                                                   "password": factories.PASSWORD})

    assert response.status_code == 302
    assert "We emailed a confirmation link to new@example.com" in \
        client.get(response.location).get_data(as_text=True)
    assert reload(db, user).email == "old@example.com"
    [confirm] = mails(db, "email_change_confirm")
    assert "new@example.com" in confirm.to_address and confirm.security
    path = link_in(confirm)

    assert client.get(path).status_code == 302
    changed = reload(db, user)
    assert changed.email == "new@example.com" and changed.email_verified_at is not None
    [notice] = mails(db, "email_changed")
    assert "old@example.com" in notice.to_address and notice.security
    assert "changed from old@example.com to new@example.com" in notice.text_body
    assert can_sign_in(app, "new@example.com", factories.PASSWORD)
    reused = client.get(path)
    assert reused.status_code == 400 and "already confirmed" in reused.get_data(as_text=True)


def test_changing_the_email_needs_the_password(client, db, login):
    user = factories.make_user(db, email="old@example.com")
    login(user)
    response = client.post("/account/email", data={"email": "new@example.com",
                                                   "password": "not-the-password"})
    assert response.status_code == 400
    assert "That password is not right" in response.get_data(as_text=True)
    assert mails(db) == []


def test_an_address_taken_meanwhile_is_not_taken_over(app, client, db, login):
    user = factories.make_user(db, email="old@example.com")
    login(user)
    client.post("/account/email", data={"email": "new@example.com", "password": factories.PASSWORD})
    path = link_in(mails(db, "email_change_confirm")[0])
    factories.make_user(db, email="new@example.com")

    response = client.get(path)

    assert response.status_code == 400
    assert "belongs to another account" in response.get_data(as_text=True)
    assert reload(db, user).email == "old@example.com"


def test_a_name_with_line_breaks_never_reaches_a_mail_header(client, db, login):
    user = factories.make_user(db)
    login(user)
    client.post("/account/name", data={"display_name": "Ada\r\nBcc: victim@example.com"})
    client.post("/account/password", data={"current_password": factories.PASSWORD,
                                           "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    [notice] = mails(db, "password_changed")
    assert "\r" not in notice.to_address and "\n" not in notice.to_address
    assert notice.to_address == f'"Ada Bcc: victim@example.com" <{user.email}>'


# --- signed-in devices --------------------------------------------------------------

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")


def sign_in_from(app, user, agent: str, address: str):
    client = app.test_client()
    # Every request of this browser: Flask-Login's "strong" protection checks them.
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    response = client.post("/account/login", data={"email": user.email,
                                                   "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def test_the_settings_page_lists_the_signed_in_devices(app, db):
    user = factories.make_user(db)
    laptop = sign_in_from(app, user, FIREFOX, "192.0.2.10")
    sign_in_from(app, user, IPHONE, "198.51.100.7")

    page = laptop.get("/account").get_data(as_text=True)

    assert "Signed-in devices" in page
    assert "Firefox 120 on Ubuntu" in page and "192.0.2.10" in page
    assert "Mobile Safari 17 on iOS" in page and "198.51.100.7" in page
    assert page.count("(this device)") == 1
    assert re.search(r"Firefox 120 on Ubuntu <strong>\(this device\)", page)
    assert 'href="/account/delete"' in page  # account deletion is reached from here


def test_signing_out_ends_only_this_device(app, db):
    user = factories.make_user(db)
    laptop = sign_in_from(app, user, FIREFOX, "192.0.2.10")
    phone = sign_in_from(app, user, IPHONE, "198.51.100.7")

    laptop.post("/account/logout")

    assert not signed_in(laptop)
    assert signed_in(phone)
    page = phone.get("/account").get_data(as_text=True)
    assert "Firefox" not in page and "Mobile Safari" in page


def test_last_seen_moves_on_after_a_few_minutes(app, db):
    from datetime import timedelta

    from accounts.models import UserSession
    from core.db import utcnow
    user = factories.make_user(db)
    laptop = sign_in_from(app, user, FIREFOX, "192.0.2.10")
    [device] = db.exec(select(UserSession).where(UserSession.user_id == user.id)).all()
    long_ago = utcnow() - timedelta(hours=3)
    device.last_seen_at = long_ago
    db.add(device)
    db.commit()

    assert signed_in(laptop)

    db.expire_all()
    [seen] = db.exec(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert (utcnow() - seen.last_seen_at.replace(tzinfo=utcnow().tzinfo)) < timedelta(minutes=1)
