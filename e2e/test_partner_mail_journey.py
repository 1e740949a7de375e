"""A partner submits a listing, an editor approves it in the console, and the partner
gets the approval by mail: delivered over SMTP to Mailpit by the worker, with a link
that opens the published app and a one-click unsubscribe header."""

import re
import time
import uuid

from playwright.sync_api import expect

from e2e.conftest import sign_in


def wait_for_mail(mailpit, query: str, timeout: float = 30.0) -> dict:
    """The one message matching Mailpit's search ``query``, once the worker sent it."""
    deadline = time.monotonic() + timeout
    while True:
        found = mailpit.search(query)
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{len(found)} messages match {query}"
            return found[0]
        time.sleep(0.25)


def test_a_partner_receives_the_approval_mail_when_an_editor_approves(page, browser,
                                                                       live_server, mailpit):
    name = f"Mail Journey {uuid.uuid4().hex[:8]}"
    sign_in(page, "partner@example.com")
    page.goto("/partner/")
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Tagline").fill("Tells you when your app is live")
    page.get_by_label("Category").select_option(index=1)
    page.get_by_label("Description").fill(f"**{name}** keeps partners in the loop.")
    page.get_by_label("Support page").fill("https://mail-journey.example.com/support")
    page.get_by_label("Privacy policy").fill("https://mail-journey.example.com/privacy")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.get_by_role("link", name="New release").click()
    page.get_by_label("Version").fill("1.0.0")
    page.get_by_label("Redirect URL").fill("https://mail-journey.example.com/installed")
    page.locator("input[type=checkbox][value='deals:read']").check()
    page.get_by_label("Why your app needs deals:read").fill("To show deal names.")
    page.get_by_role("button", name="Add release").click()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".status").first).to_contain_text(re.compile("review", re.I))

    editor = browser.new_context(base_url=live_server).new_page()
    sign_in(editor, "editor@example.com")
    editor.goto("/editor/")
    editor.get_by_role("link", name=name).click()
    editor.get_by_role("button", name="Approve and publish").click()
    expect(editor.locator(".flash").first).to_be_visible()
    editor.context.close()

    summary = wait_for_mail(mailpit, f'to:"partner@example.com" subject:"{name}"')
    message = mailpit.message(summary["ID"])
    assert message["Subject"] == f"{name} is approved and published"
    assert [to["Address"] for to in message["To"]] == ["partner@example.com"]
    headers = mailpit.headers(summary["ID"])
    assert headers["List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    assert headers["List-Unsubscribe"][0].startswith(f"<{live_server}/account/notifications/")

    # The mail's link opens the published app.
    link = re.search(rf"See it in the catalog: ({re.escape(live_server)}/apps/\S+)",
                     message["Text"]).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
