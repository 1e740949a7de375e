"""A partner submits a listing, an editor approves it in the console, and the partner
gets the approval by mail: delivered over SMTP to Mailpit by the worker, with a link
that opens the published app and a one-click unsubscribe header."""

import re
import uuid

from playwright.sync_api import expect

from e2e.conftest import approve_as_editor, mail_with, sign_in, submit_listing


def test_a_partner_receives_the_approval_mail_when_an_editor_approves(page, browser,
                                                                       live_server, mailpit):
    name = f"Mail Journey {uuid.uuid4().hex[:8]}"
    sign_in(page, "partner@example.com")
    submit_listing(page, name, "https://mail-journey.example.com", "To show deal names.")
    approve_as_editor(browser, live_server, name, "To show deal names.")

    message = mail_with(mailpit, "partner@example.com", f"{name} is approved and published",
                        timeout=30.0)
    assert [to["Address"] for to in message["To"]] == ["partner@example.com"]
    headers = mailpit.headers(message["ID"])
    assert headers["List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    assert headers["List-Unsubscribe"][0].startswith(f"<{live_server}/account/notifications/")

    # The mail's link opens the published app.
    link = re.search(rf"See it in the catalog: ({re.escape(live_server)}/apps/\S+)",
                     message["Text"]).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
