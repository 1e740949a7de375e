"""Account mail as a person receives it: sent over real SMTP to Mailpit, read through its
API, and its link followed. Password reset, verification at sign-up, email change
(both addresses), workspace invitations, and a display name trying header injection."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlmodel import select

from accounts.models import User
from mail.sender import send_due
from tests import factories

BASE_URL = "https://bazaar.example.com"


@pytest.fixture
def app_overrides(mailpit):
    return {**mailpit.app_config(), "MAIL_SEND_TIMEOUT": 5.0, "BAZAAR_BASE_URL": BASE_URL,
            "MAIL_FROM": "Bazaar <no-reply@bazaar.example.com>"}


def address(name: str = "acct") -> str:
    """A recipient no other test (or test process) sends to."""
    return f"{name}-{uuid.uuid4().hex[:12]}@example.com"


def delivered(app, mailpit, to: str, count: int = 1) -> list[dict]:
    """The messages Mailpit received for ``to``, oldest first, after sending due mail."""
    send_due(app)
    found = mailpit.wait_for(to, count)
    assert len(found) == count, [m["Subject"] for m in found]
    return [mailpit.message(summary["ID"]) for summary in reversed(found)]


def link_in(message: dict, path: str) -> str:
    """The path of the link under ``BASE_URL`` + ``path`` in the mail, the same in both parts."""
    found = re.search(re.escape(BASE_URL + path) + r"[^\s\"<>]+", message["Text"])
    assert found, message["Text"]
    assert found.group(0) in message["HTML"]
    return found.group(0)[len(BASE_URL):]


def test_a_forgotten_password_is_reset_from_the_mail(app, client, db, mailpit):
    user = factories.make_user(db, email=address("reset"), name="Ada Lovelace")
    assert client.post("/account/forgot-password", data={"email": user.email}).status_code == 200

    [mail] = delivered(app, mailpit, user.email)
    assert mail["Subject"] == "Reset your Bazaar password"
    assert mail["To"] == [{"Name": "Ada Lovelace", "Address": user.email}]
    assert "works once, for 60 minutes" in mail["Text"]
    headers = mailpit.headers(mail["ID"])
    assert "List-Unsubscribe" not in headers  # security mail can't be turned off
    path = link_in(mail, "/account/reset-password/")

    response = client.post(path, data={"new_password": "a-brand-new-password",
                                       "confirm": "a-brand-new-password"})

    assert response.status_code == 302
    assert client.post("/account/login", data={"email": user.email,
                                               "password": "a-brand-new-password"}).status_code == 302
    _, notice = delivered(app, mailpit, user.email, 2)
    assert notice["Subject"] == "Your Bazaar password was changed"
    assert "every device was signed out" in notice["Text"]


def test_no_mail_goes_to_an_address_without_an_account(app, client, db, mailpit):
    nobody = address("nobody")
    assert client.post("/account/forgot-password", data={"email": nobody}).status_code == 200
    send_due(app)
    assert mailpit.wait_for(nobody, 1, timeout=1.0) == []


def test_a_new_customer_verifies_the_address_from_the_mail(app, client, db, mailpit):
    email = address("verify")
    client.post("/account/register", data={"display_name": "Grace", "email": email,
                                           "password": "long-enough-pw", "confirm": "long-enough-pw"})

    [mail] = delivered(app, mailpit, email)
    assert mail["Subject"] == "Confirm your email address for Bazaar"
    assert "Hello Grace," in mail["Text"]
    assert client.get(link_in(mail, "/account/verify-email/")).status_code == 302

    db.expire_all()
    assert db.exec(select(User).where(User.email == email)).one().email_verified_at is not None


def test_an_email_change_is_confirmed_by_the_new_address_and_told_to_the_old(
        app, client, db, login, mailpit):
    old, new = address("old"), address("new")
    user = factories.make_user(db, email=old)
    login(user)
    client.post("/account/email", data={"email": new, "password": factories.PASSWORD})

    [confirm] = delivered(app, mailpit, new)
    assert confirm["Subject"] == "Confirm your new email address for Bazaar"
    assert f"instead of {old}" in confirm["Text"]
    assert client.get(link_in(confirm, "/account/confirm-email/")).status_code == 302

    [notice] = delivered(app, mailpit, old)
    assert notice["Subject"] == "Your Bazaar email address was changed"
    assert f"changed from {old} to {new}" in notice["Text"]
    db.expire_all()
    assert db.get(User, user.id).email == new


def test_an_invitation_arrives_by_mail_with_its_expiry(app, client, db, login, mailpit):
    admin = factories.make_user(db, name="Ada Lovelace")
    factories.make_workspace(db, admin, name="Analytical Engines")
    invitee = address("invitee")
    login(admin)

    page = client.post("/workspace/invitations", data={"email": invitee, "role": "member"})

    assert page.status_code == 201
    [mail] = delivered(app, mailpit, invitee)
    assert mail["Subject"] == "Ada Lovelace invited you to Analytical Engines on Bazaar"
    assert "The invitation works for 7 days" in mail["Text"]
    path = link_in(mail, "/invitations/")
    assert path in page.get_data(as_text=True)  # the admin still sees the same link
    assert "Analytical Engines" in app.test_client().get(path).get_data(as_text=True)


def test_a_display_name_never_injects_a_header(app, client, db, login, mailpit):
    user = factories.make_user(db, email=address("name"))
    victim = address("victim")
    login(user)
    client.post("/account/name", data={"display_name": f"Ada\r\nBcc: {victim}\r\nSubject: Win"})
    client.post("/account/forgot-password", data={"email": user.email})

    [mail] = delivered(app, mailpit, user.email)

    assert mail["Subject"] == "Reset your Bazaar password"
    assert mail["Bcc"] == []
    assert mail["To"] == [{"Name": f"Ada Bcc: {victim} Subject: Win", "Address": user.email}]
    # Mailpit's search also finds the address in the (harmless) name; no message was
    # delivered *to* it.
    recipients = [entry["Address"] for summary in mailpit.sent_to(victim)
                  for message in [mailpit.message(summary["ID"])]
                  for entry in message["To"] + message["Cc"] + message["Bcc"]]
    assert victim not in recipients and recipients == [user.email]
