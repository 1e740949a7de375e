"""Account mail journeys in a real browser, with the mail read from Mailpit (the live
server sends it over SMTP through its worker): a customer resets a forgotten password
from the mail's link and signs in; a new customer verifies the address from the mail;
an admin invites a colleague, who joins from the mail.

Every journey uses addresses of its own, so the shared Mailpit is read, never cleared
(other tests may be reading it at the same time)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from e2e.conftest import mail_with, sign_in

PASSWORD = "journey-password-1"


def new_address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def link_in(message: dict, base_url: str, path: str) -> str:
    found = re.search(re.escape(base_url + path) + r"[^\s\"<>]+", message["Text"])
    assert found, message["Text"]
    return found.group(0)


def register(page, name: str, email: str, open_form: bool = True) -> None:
    """Fill the sign-up form (opening it first unless a link led there)."""
    if open_form:
        page.goto("/account/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("your account is ready")).to_be_visible()


def test_a_customer_resets_a_forgotten_password_from_the_mail(page, live_server, mailpit):
    email = new_address("forgetful")
    register(page, "Frances Forgetful", email)

    page.goto("/account/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_text(f"If {email} has a Bazaar account")).to_be_visible()

    mail = mail_with(mailpit, email, "Reset your Bazaar password")
    page.goto(link_in(mail, live_server, "/account/reset-password/"))
    page.get_by_label("New password", exact=True).fill("a-new-remembered-password")
    page.get_by_label("Repeat new password").fill("a-new-remembered-password")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed and every device is signed out")).to_be_visible()

    sign_in(page, email, "a-new-remembered-password")
    expect(page.get_by_text("Welcome back, Frances Forgetful.")).to_be_visible()
    mail_with(mailpit, email, "Your Bazaar password was changed")


def test_a_new_customer_verifies_the_address_from_the_mail(page, live_server, mailpit):
    email = new_address("newcomer")
    register(page, "Nico Newcomer", email)
    sign_in(page, email, PASSWORD)
    page.goto("/account")
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()

    mail = mail_with(mailpit, email, "Confirm your email address for Bazaar")
    page.goto(link_in(mail, live_server, "/account/verify-email/"))

    expect(page.get_by_text(f"Thank you: {email} is confirmed.")).to_be_visible()
    expect(page.get_by_text("(confirmed)")).to_be_visible()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_have_count(0)


def test_an_admin_invites_a_colleague_who_joins_from_the_mail(page, browser, live_server, mailpit):
    admin_email, colleague_email = new_address("admin"), new_address("colleague")
    register(page, "Ada Admin", admin_email)
    sign_in(page, admin_email, PASSWORD)
    # Inviting needs a confirmed address.
    page.goto(link_in(mail_with(mailpit, admin_email, "Confirm your email address for Bazaar"),
                      live_server, "/account/verify-email/"))
    page.goto("/workspace")
    page.get_by_label("Email").fill(colleague_email)
    page.get_by_role("button", name="Create invitation link").click()
    expect(page.get_by_text(f"We emailed this link to {colleague_email}.")).to_be_visible()

    mail = mail_with(mailpit, colleague_email,
                     "Ada Admin invited you to Ada Admin's workspace on Bazaar")
    assert "The invitation works for 7 days" in mail["Text"]
    link = link_in(mail, live_server, "/invitations/")

    colleague = browser.new_context(base_url=live_server).new_page()
    try:
        colleague.goto(link)
        expect(colleague.get_by_role("heading", name="Join Ada Admin's workspace")).to_be_visible()
        colleague.get_by_role("link", name="Create an account").click()
        register(colleague, "Colin Colleague", colleague_email, open_form=False)
        # The sign-in page registering led to brings the colleague back to the invitation.
        colleague.get_by_label("Email").fill(colleague_email)
        colleague.get_by_label("Password").fill(PASSWORD)
        colleague.get_by_role("button", name="Sign in").click()
        colleague.get_by_role("button", name="Accept and join Ada Admin's workspace").click()
        expect(colleague.get_by_text("Welcome to Ada Admin's workspace.")).to_be_visible()
    finally:
        colleague.context.close()

    page.goto("/workspace")
    expect(page.locator("main")).to_contain_text("Colin Colleague")
