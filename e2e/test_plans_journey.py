"""A customer compares two plans and buys the annual one, with the price seen at each
step: the plan table and the button on the listing page, the consent screen, the
(local, test-mode) checkout, and My billing afterwards. On a desktop and on a
390-wide phone, with axe-core run on every page visited."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from e2e.conftest import check_accessibility, sign_in

# The demo partner's paid app: Basic $29/month or $290/year, Pro $79/month (demo/data.py).
APP, SLUG = "Payline Commissions", "payline-commissions"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Demo customers who administer their own workspace; each run takes the first one
# whose workspace does not have the app yet (the demo's reviewers installed some apps).
CUSTOMERS = ["customer@example.com", "maya.chen@example.com", "tom.becker@example.com",
             "aisha.khan@example.com", "lucas.silva@example.com", "hannah.weiss@example.com",
             "kenji.sato@example.com", "olivia.brown@example.com", "noah.dubois@example.com"]


def _customer_without_the_app(browser, base_url: str, viewport: dict):
    for email in CUSTOMERS:
        context = browser.new_context(base_url=base_url, viewport=viewport)
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, email)
        page.goto(f"/apps/{SLUG}")
        if page.locator(".install-state").count() == 0:
            return page
        context.close()
    pytest.fail(f"every demo customer already has {APP}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_compare_plans_and_buy_the_annual_one(browser, embedded_live_server, viewport):
    page = _customer_without_the_app(browser, embedded_live_server, viewport)

    # 1. The listing page: three plans to compare, the first chosen, its price on the button.
    plans = page.locator(".plan-table")
    expect(plans).to_be_visible()
    expect(plans.locator("tbody tr")).to_have_count(3)
    expect(plans).to_contain_text("$29.00/month")
    expect(plans).to_contain_text("$290.00/year")
    expect(plans).to_contain_text("Save $58.00 a year")
    expect(plans).to_contain_text("$79.00/month")
    button = page.locator("#install-form [data-plan-button]")
    expect(button).to_have_text("Buy — $29.00/month")
    check_accessibility(page)

    # 2. Choosing the annual plan changes what the button says.
    annual = page.get_by_role("radio", name="Basic, $290.00/year")
    annual.check()
    expect(button).to_have_text("Buy — $290.00/year")
    bar = page.locator("[data-install-bar]")
    expect(bar).to_be_hidden()  # the form itself is in sight
    page.locator("#ratings").scroll_into_view_if_needed()
    if viewport == PHONE:
        # Reading on down the page, the install bar keeps the chosen plan's price in reach.
        expect(bar).to_be_visible()
        bar_button = bar.get_by_role("button")
        expect(bar_button).to_have_text("Buy — $290.00/year")
        box = bar.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"] + 1, box
        check_accessibility(page)
        bar_button.click()
    else:
        expect(bar).to_be_hidden()  # a desktop has no bar: the side column is beside the page
        button.click()

    # 3. The consent screen says the plan, the price, when it is charged and how to cancel.
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(f"Install {APP}"))
    expect(page.get_by_role("heading", name="Your plan: Basic")).to_be_visible()
    expect(page.locator(".consent-price")).to_contain_text(
        "$290.00 is charged now at checkout, then every year until you cancel.")
    expect(page.locator(".consent-price")).to_contain_text("To cancel, uninstall")
    check_accessibility(page)
    page.get_by_role("button", name="Confirm and continue to payment — $290.00/year").click()

    # 4. The (simulated) checkout charges the annual plan's price.
    expect(page).to_have_url(re.compile(r"/billing/local-checkout/"))
    expect(page.locator(".checkout-plan")).to_have_text("Basic")
    expect(page.locator(".checkout-price")).to_have_text("$290.00/year")
    expect(page.get_by_text("the first year is charged now")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Pay (simulated)").click()

    # 5. Installed, on the annual plan: billed $290.00, renewing in a year.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{APP} is installed")
    check_accessibility(page)
    page.goto("/my/billing")
    subscription = page.locator(".billing-subscriptions tr", has_text=APP)
    expect(subscription).to_contain_text("(Basic plan)")
    renewal = date.today() + timedelta(days=365)
    expect(subscription).to_contain_text(f"{renewal.day} {renewal:%b %Y}")
    invoice = page.locator(".billing-invoices tr", has_text=APP)
    expect(invoice).to_contain_text("$290.00")
    expect(invoice).to_contain_text("Paid")
    check_accessibility(page)
    page.context.close()


def test_the_partners_preview_card_says_from_the_cheapest_plan_as_they_type(
        browser, embedded_live_server):
    """The listing form's live preview (static/js/partner-listing-preview.js) prices the
    card as the catalog will: the typed price is the first plan's, beside the others."""
    context = browser.new_context(base_url=embedded_live_server, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, "partner@example.com")
    page.goto("/partner/")
    page.get_by_role("link", name=f"Edit {APP}", exact=True).first.click()

    card_price = page.locator("#listing-preview .card-price [data-preview='price']")
    expect(card_price).to_have_text("From $29.00 / month")
    page.get_by_label("Monthly price").fill("9")
    expect(card_price).to_have_text("From $9.00 / month")
    # Basic at $99 a month: Pro, at $79, is now the cheapest monthly plan.
    page.get_by_label("Monthly price").fill("99")
    expect(card_price).to_have_text("From $79.00 / month")
    check_accessibility(page)
    context.close()


def test_what_the_partner_typed_before_the_preview_script_ran_is_previewed(
        browser, embedded_live_server):
    """On a slow page the partner may type before the preview's script has run: once it
    runs, the card shows what was typed (its input events were missed)."""
    context = browser.new_context(base_url=embedded_live_server, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, "partner@example.com")
    page.goto("/partner/")
    edit = page.get_by_role("link", name=f"Edit {APP}", exact=True).first.get_attribute("href")
    held = []
    page.route(re.compile(r"/js/partner-listing-preview\.js"), lambda route: held.append(route))
    page.goto(edit, wait_until="commit")  # the script is held back
    page.get_by_label("Monthly price").fill("9")
    card_price = page.locator("#listing-preview .card-price [data-preview='price']")
    expect(card_price).to_have_text("From $29.00 / month")  # the server's preview
    held[0].continue_()
    expect(card_price).to_have_text("From $9.00 / month")
    context.close()
