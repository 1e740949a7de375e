"""The foundation journey in a real browser: a customer browses, a partner
submits a new listing, an editor approves it, and it shows in its category."""

import re

from playwright.sync_api import expect

from e2e.conftest import sign_in


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
    page.goto("/partner/")
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Tagline").fill("Keep your ledgers and deals in step")
    category = page.get_by_label("Category")
    category.select_option(index=1)
    category_name = category.locator("option:checked").inner_text().strip()
    page.get_by_label("Description").fill("**Journey Ledger Sync** copies invoices into deals.")
    page.get_by_label("Support page").fill("https://ledger.example.com/support")
    page.get_by_label("Privacy policy").fill("https://ledger.example.com/privacy")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    page.get_by_role("link", name="New release").click()
    page.get_by_label("Version").fill("1.0.0")
    page.get_by_label("Redirect URL").fill("https://ledger.example.com/installed")
    page.locator("input[type=checkbox][value='deals:read']").check()
    page.get_by_label("Why your app needs deals:read").fill("To match invoices to deals.")
    page.get_by_role("button", name="Add release").click()
    expect(page.get_by_text("1.0.0").first).to_be_visible()

    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".status").first).to_contain_text(re.compile("review", re.I))

    editor = browser.new_context(base_url=live_server).new_page()
    sign_in(editor, "editor@example.com")
    editor.goto("/editor/")
    editor.get_by_role("link", name=name).click()
    expect(editor.get_by_text("To match invoices to deals.")).to_be_visible()
    editor.get_by_role("button", name="Approve and publish").click()
    expect(editor.locator(".flash").first).to_be_visible()
    editor.context.close()

    # A visitor finds the new app in its category.
    visitor = browser.new_context(base_url=live_server).new_page()
    visitor.goto("/categories")
    visitor.get_by_role("link", name=re.compile(re.escape(category_name))).first.click()
    expect(visitor.get_by_role("link", name=name)).to_be_visible()
    visitor.get_by_role("link", name=name).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(name)
    visitor.context.close()
