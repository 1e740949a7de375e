"""Reviews that scale, in a real browser (issue 16): a customer marks one review of a
top-rated app helpful and reports another; an editor finds the reported one in the
report queue and removes it with the bulk action; it is gone from the app's page.
On a desktop and a phone (each on its own app of the demo catalog), with axe on
every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import check_accessibility, sign_in

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Each device takes another app of the "Top rated" shelf, so the runs do not meet.
APP_ON_SHELF = {"desktop": 0, "phone": 1}


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_customer_votes_and_reports_and_an_editor_removes_in_bulk(page, browser, live_server,
                                                                  device):
    page.set_viewport_size(VIEWPORTS[device])
    sign_in(page, "customer@example.com")
    page.goto("/")
    shelf = page.locator("section[aria-labelledby=top-rated-heading] .card a[href^='/apps/']")
    shelf.nth(APP_ON_SHELF[device]).click()
    expect(page).to_have_url(re.compile(r"/apps/[a-z0-9-]+"))
    app_url = page.url
    check_accessibility(page)

    reviews = page.locator("article.review")
    expect(reviews.nth(1)).to_be_visible()
    helpful_id = reviews.nth(0).locator("h3").get_attribute("id")
    reported = reviews.nth(1)
    reported_id = reported.locator("h3").get_attribute("id")
    reported_title = reported.locator("h3").inner_text().strip()

    # "Was this helpful?": one click, the page comes back at the review, marked.
    page.locator(f"article.review:has(h3#{helpful_id})").get_by_role("button", name="Yes").click()
    expect(page).to_have_url(re.compile(rf"#{helpful_id}$"))
    expect(page.locator(".flash").first).to_contain_text("as helpful")
    helpful = page.locator(f"article.review:has(h3#{helpful_id})")
    expect(helpful.get_by_role("button", pressed=True)).to_be_visible()
    expect(helpful).to_contain_text(re.compile(r"\d+ (person|people) found this helpful"))
    check_accessibility(page)

    # "Report": a reason from the list and a note, in a disclosure that needs no script.
    reported = page.locator(f"article.review:has(h3#{reported_id})")
    reported.get_by_text("Report this review").click()
    reported.get_by_label("What is wrong with it?").select_option(label="Spam or advertising")
    reported.get_by_label(re.compile("Anything an editor should know")).fill("An advert.")
    check_accessibility(page)
    reported.get_by_role("button", name="Send report").click()
    expect(page.locator(".flash").first).to_contain_text("An editor will look at your report")
    expect(page.locator(f"article.review:has(h3#{reported_id})")).to_contain_text(
        "You reported this review.")
    check_accessibility(page)

    # The editor's report queue: tick it, choose "Remove", one button.
    editor = browser.new_context(base_url=live_server).new_page()
    editor.set_viewport_size(VIEWPORTS[device])
    sign_in(editor, "editor@example.com")
    editor.goto("/editor/reviews/reports")
    row = editor.locator(f"tr#{reported_id}")
    expect(row).to_contain_text(reported_title)
    expect(row).to_contain_text("Spam or advertising ×1")
    expect(row).to_contain_text("An advert.")
    check_accessibility(editor)
    row.get_by_role("checkbox").check()
    editor.get_by_label("Decision").select_option("remove")
    editor.get_by_role("button", name="Apply to ticked reviews").click()
    expect(editor.locator(".flash").first).to_contain_text("1 review removed.")
    expect(editor.locator(f"tr#{reported_id}")).to_have_count(0)
    check_accessibility(editor)
    editor.context.close()

    # Gone from the app's page, for the customer and for a visitor alike.
    page.goto(app_url)
    expect(page.locator(f"h3#{reported_id}")).to_have_count(0)
    check_accessibility(page)
    visitor = browser.new_context(base_url=live_server).new_page()
    visitor.set_viewport_size(VIEWPORTS[device])
    visitor.goto(app_url)
    expect(visitor.locator(f"h3#{reported_id}")).to_have_count(0)
    expect(visitor.locator("article.review").first).to_be_visible()
    check_accessibility(visitor)
    visitor.context.close()
