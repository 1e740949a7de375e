"""The billing journey in a real browser, on the local (test-mode) payment
provider: a customer starts a paid app's trial and adds a card through the
simulated checkout, buys another app outright and sees its invoice; the partner
sees the revenue chart drawn and exports the month's CSV."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import sign_in

# Both made by the demo partner (Northwind Labs): $29 a month without a trial,
# and a paid app with a trial.
PAID_APP, PAID_SLUG = "Payline Commissions", "payline-commissions"
TRIAL_APP, TRIAL_SLUG = "Sequence Studio", "sequence-studio"


def test_trial_card_purchase_invoice_and_partner_revenue(browser, live_server):
    customer = browser.new_context(base_url=live_server).new_page()
    customer.set_default_timeout(10_000)
    # A demo reviewer's workspace: the installs journey uses the demo customer's.
    sign_in(customer, "maya.chen@example.com")

    # 1. A paid app's trial starts without a card; a card is added through checkout.
    customer.goto(f"/apps/{TRIAL_SLUG}")
    customer.get_by_role("button", name=re.compile(r"Start \d+-day free trial")).click()
    customer.get_by_role("button", name="Confirm and start free trial").click()
    customer.goto("/my/apps")
    trial_card = customer.locator(".installed-app", has_text=TRIAL_APP)
    trial_card.get_by_role("button", name="Add a payment method").click()
    expect(customer.get_by_text(re.compile("Test mode", re.I)).first).to_be_visible()
    customer.get_by_role("button", name="Pay (simulated)").click()
    customer.goto("/my/billing")
    trial_row = customer.locator(".billing-subscriptions tr", has_text=TRIAL_APP)
    expect(trial_row).to_contain_text("Trial")

    # 2. Buying an app outright: consent, simulated checkout, then the invoice.
    customer.goto(f"/apps/{PAID_SLUG}")
    # The button says the price of the plan chosen (its first, Basic monthly).
    customer.get_by_role("button", name="Buy — $29.00/month", exact=True).click()
    customer.get_by_role("button", name="Confirm and continue to payment").click()
    expect(customer).to_have_url(re.compile(r"/billing/local-checkout/"))
    expect(customer.get_by_text("$29.00").first).to_be_visible()
    customer.get_by_role("button", name="Pay (simulated)").click()
    expect(customer.get_by_role("heading", level=1)).to_have_text(f"{PAID_APP} is installed")
    customer.goto("/my/billing")
    invoice = customer.locator(".billing-invoices tr", has_text=PAID_APP)
    expect(invoice).to_contain_text("$29.00")
    expect(invoice).to_contain_text("Paid")
    customer.context.close()

    # 3. The partner sees the money in a drawn chart and exports the month as CSV.
    partner = browser.new_context(base_url=live_server).new_page()
    partner.set_default_timeout(10_000)
    sign_in(partner, "partner@example.com")
    partner.goto("/partner/revenue")
    canvases = partner.locator("canvas[data-chart-table]")
    expect(canvases.first).to_be_visible()
    drawn = partner.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart-table]')]"
        ".some(c => c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height)"
        ".data.some(v => v !== 0))")
    assert drawn
    with partner.expect_download() as download_info:
        partner.get_by_role("link", name=re.compile(r"Download \d{4}-\d{2} as CSV")).click()
    with open(download_info.value.path(), encoding="utf-8") as csv_file:
        csv_text = csv_file.read()
    assert PAID_APP in csv_text
    # Northwind Labs is a Premier partner: 10% of $29.00 to the platform, the rest to it.
    assert ",usd,29.00,2.90,26.10,10,premier" in csv_text
    partner.context.close()
