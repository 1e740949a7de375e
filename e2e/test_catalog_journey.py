"""The foundation journey in a real browser: a customer browses, a partner
submits a new listing, an editor approves it, and it shows in its category."""

import re
import time

from playwright.sync_api import expect

from e2e.conftest import approve_as_editor, sign_in, submit_listing

# How long the worker may take to put a newly published app into the search index.
INDEX_CATCH_UP_SECONDS = 10


def test_customer_sees_a_category_listing_screenshots_and_reviews(page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("link", name="Categories", exact=True).first.click()
    # Open the first category that has apps, then its first app.
    page.locator("main a[href^='/categories/']").first.click()
    expect(page).to_have_url(re.compile(r"/categories/[a-z0-9-]+"))
    page.locator("main .card a[href^='/apps/']").first.click()
    expect(page).to_have_url(re.compile(r"/apps/[a-z0-9-]+"))
    screenshots = page.locator(".gallery img")
    expect(screenshots.first).to_be_visible()
    # The screenshot really loads (not a broken image).
    assert screenshots.first.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_role("heading", name=re.compile("Permissions|What this app can access",
                                                       re.I))).to_be_visible()


def test_customer_reads_reviews_of_a_top_rated_app(page):
    page.goto("/")
    page.locator("section[aria-labelledby=top-rated-heading] .card a[href^='/apps/']").first.click()
    reviews = page.locator(".review")
    expect(reviews.first).to_be_visible()
    expect(page.locator(".stars").first).to_be_visible()


def test_partner_submits_editor_approves_and_it_shows_in_its_category(page, browser, live_server):
    name = "Journey Ledger Sync"
    sign_in(page, "partner@example.com")
    category_name = submit_listing(page, name, "https://ledger.example.com",
                                   "To match invoices to deals.")
    approve_as_editor(browser, live_server, name, "To match invoices to deals.")

    # A visitor finds the new app in its category. Category pages list what the search
    # index holds, which the worker process brings up to date a moment after the
    # approval (docs/caching.md): until then a visitor sees the page as it was, and the
    # next look shows the app. Look again for a few seconds, never longer.
    visitor = browser.new_context(base_url=live_server).new_page()
    visitor.goto("/categories")
    visitor.get_by_role("link", name=re.compile(re.escape(category_name))).first.click()
    listed = visitor.get_by_role("link", name=name)
    deadline = time.monotonic() + INDEX_CATCH_UP_SECONDS
    while listed.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        visitor.reload()
    expect(listed).to_be_visible()
    visitor.get_by_role("link", name=name).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(name)
    visitor.context.close()
