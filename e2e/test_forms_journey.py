"""Forms that speak, in a real browser (issue 16): a failed review post opens with
the error summary focused at the top, and its links take focus to the fields; an
uninstall goes through its "Are you sure?" page, which says what stops and what
happens to billing. On its own server (it installs and uninstalls), with axe on
the pages it visits, desktop and phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import check_accessibility, sign_in

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# A free app of the demo catalog the demo customer's (empty) workspace can install.
FREE_APP, FREE_SLUG = "PipeSync for Salesforce", "pipesync-for-salesforce"


def _active_element(page) -> dict:
    return page.evaluate("""() => ({
        id: document.activeElement.id,
        summary: document.activeElement.hasAttribute('data-error-summary'),
    })""")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_failed_review_focuses_the_summary_and_uninstall_asks_first(own_page, device):
    page = own_page
    page.set_viewport_size(VIEWPORTS[device])
    sign_in(page, "customer@example.com")

    # Install a free app, so its review form is offered.
    page.goto(f"/apps/{FREE_SLUG}")
    page.locator("form.install-form button[type=submit]").first.click()
    page.get_by_role("button", name="Confirm and install").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{FREE_APP} is installed")

    # A review sent without a rating or a title.
    page.goto(f"/apps/{FREE_SLUG}")
    form = page.locator("form.review-form")
    form.get_by_label("Your review").fill("Works, mostly.")
    form.get_by_role("button", name="Send review").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(["Choose a rating from 1 to 5 stars.",
                                                      "Enter a title for your review."])
    # Focus is on the summary, which is in view: not 2,750 px below on the body.
    page.wait_for_function("document.activeElement.hasAttribute('data-error-summary')")
    assert _active_element(page)["summary"]
    assert summary.bounding_box()["y"] < VIEWPORTS[device]["height"]
    check_accessibility(page)

    # Each link takes focus to its field.
    summary.get_by_role("link", name="Choose a rating from 1 to 5 stars.").click()
    assert _active_element(page)["id"] == "rating-0"
    summary.get_by_role("link", name="Enter a title for your review.").click()
    assert _active_element(page)["id"] == "title"
    expect(page.get_by_label("Title")).to_be_in_viewport()

    # Uninstalling asks first, and the button is not beside "Open".
    page.goto("/my/apps")
    card = page.locator(".installed-app", has_text=FREE_APP)
    expect(card.locator(".install-actions").get_by_role("link", name=re.compile("Uninstall"))
           ).to_have_count(0)
    card.get_by_role("link", name=f"Uninstall {FREE_APP}").click()  # to confirm-uninstall
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Uninstall {FREE_APP}?")
    expect(page.locator("main")).to_contain_text(
        f"{FREE_APP} is free, so there is no subscription to cancel.")
    check_accessibility(page)
    page.get_by_role("button", name=f"Uninstall {FREE_APP}").click()
    flash = page.locator(".flashes[role=status]")
    expect(flash).to_contain_text(f"Uninstalled {FREE_APP}")
    expect(page.locator(".installed-app", has_text=FREE_APP)).to_have_count(0)
