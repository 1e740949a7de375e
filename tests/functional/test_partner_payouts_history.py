"""What a partner sees of the payouts to its bank: the payouts page (history, failures,
the balance not yet paid out), the revenue page's Payouts section, the monthly CSV and
statements, and, in test mode, the simulated payout of the account's balance."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from sqlmodel import select

from accounts.models import Role
from billing.models import Payout
from billing.payouts import simulated_payouts
from billing.providers import get_provider
from billing.reports import MonthSpan
from core.db import utcnow
from tests import factories

# This month and the one before it, whatever today is.
PREVIOUS, THIS = MonthSpan.ending(utcnow().date(), 2).keys


def day_in(month: str, day: int = 3) -> datetime:
    year, number = map(int, month.split("-"))
    return datetime(year, number, day, 12, tzinfo=UTC)


@pytest.fixture
def partner(db):
    return factories.make_partner(db, name="Acme Apps", tier="premier")


@pytest.fixture
def member(db, partner):
    return factories.make_user(db, Role.PARTNER, partner=partner)


def booked(db, partner, amount: int, month: str = THIS, currency: str = "usd"):
    """A paid invoice of ``amount`` for one of the partner's apps (10% fee: premier)."""
    listing = factories.make_paid_listing(db, partner=partner, currency=currency)
    customer = factories.make_workspace(db, factories.make_user(db, Role.CUSTOMER))
    subscription = factories.make_subscription(db, customer, listing)
    invoice = factories.make_invoice(db, subscription, amount=amount, currency=currency,
                                     paid_at=day_in(month))
    return factories.make_ledger_entry(db, invoice, fee_percent="10")


def all_payouts(db) -> list[Payout]:
    db.expire_all()
    return list(db.exec(select(Payout).order_by(Payout.id)).all())


def cells(page: str, table_id: str, row_header: str) -> list[str]:
    """The cells after ``row_header`` in its row of the table ``table_id``."""
    table = page[page.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    row = re.search(rf'<th scope="row">{re.escape(row_header)}</th>(.*?)</tr>', table, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


# --- the payouts page ---------------------------------------------------------------------


def test_the_payouts_page_lists_payouts_newest_first_25_a_page(client, db, login, partner,
                                                               member):
    account = factories.make_connected_account(db, partner)
    start = utcnow() - timedelta(days=60)
    for number in range(1, 31):  # $1.00 ... $30.00, one a day, the last the newest
        factories.make_payout(db, account, amount=number * 100,
                              created_at=start + timedelta(days=number))
    login(member)

    first = client.get("/partner/payouts").get_data(as_text=True)
    second = client.get("/partner/payouts?page=2").get_data(as_text=True)

    def amounts(page):
        history = page[page.index('id="payout-history"'):]
        return re.findall(r"<td>(\$[\d.]+)</td>", history[:history.index("</table>")])

    assert amounts(first) == [f"${number}.00" for number in range(30, 5, -1)]
    assert amounts(second) == [f"${number}.00" for number in range(5, 0, -1)]
    assert "Page 1 of 2" in first and 'href="/partner/payouts?page=2"' in first
    assert "Page 2 of 2" in second
    assert "No payouts on this page" in client.get("/partner/payouts?page=9").get_data(as_text=True)


def test_another_partner_never_sees_your_payouts(client, db, login, partner, member):
    account = factories.make_connected_account(db, partner)
    factories.make_payout(db, account, amount=123456, failure_message="Closed account.",
                          status="failed")
    factories.make_payout(db, account, amount=654321)
    booked(db, partner, 10000)
    outsider = factories.make_user(db, Role.PARTNER)
    login(outsider)

    payouts_page = client.get("/partner/payouts").get_data(as_text=True)
    revenue_page = client.get("/partner/revenue").get_data(as_text=True)

    for page in (payouts_page, revenue_page):
        assert "1,234.56" not in page and "6,543.21" not in page
        assert "Closed account." not in page and "notice-payout-failed" not in page
    assert "No payouts yet." in payouts_page
    assert "Nothing booked or paid out yet." in revenue_page
    # A request for the owner's page number changes nothing: the list is the caller's own.
    assert "6,543.21" not in client.get("/partner/payouts?page=1").get_data(as_text=True)


def test_balance_not_yet_paid_out_per_currency(client, db, login, partner, member):
    booked(db, partner, 10000)                  # net $90.00
    booked(db, partner, 5000, currency="eur")   # net €45.00
    account = factories.make_connected_account(db, partner)
    factories.make_payout(db, account, amount=3000)                       # paid
    factories.make_payout(db, account, amount=2000, status="in_transit")  # in flight
    factories.make_payout(db, account, amount=9999, status="failed",
                          failure_message="Closed.")                      # back in the balance
    factories.make_payout(db, account, amount=500, status="canceled")
    login(member)

    page = client.get("/partner/payouts").get_data(as_text=True)

    # Invoices, gross, fees, net, paid out, in flight, balance not yet paid out.
    assert cells(page, "earnings-table", "USD") == [
        "1", "$100.00", "$10.00", "$90.00", "$30.00", "$20.00", "$40.00"]
    assert cells(page, "earnings-table", "EUR")[-3:] == ["€0.00", "€0.00", "€45.00"]
    revenue = client.get("/partner/revenue").get_data(as_text=True)
    balances = revenue[revenue.index("Balance not yet paid out"):]
    assert "<strong>$40.00</strong>" in balances
    assert "$90.00 net booked − $30.00 paid out − $20.00 in flight" in balances
    assert "<strong>€45.00</strong>" in balances


def test_more_paid_out_than_booked_is_explained_not_shown_negative(client, db, login, partner,
                                                                  member):
    booked(db, partner, 1000)  # net $9.00
    factories.make_payout(db, factories.make_connected_account(db, partner), amount=2500)
    login(member)

    page = client.get("/partner/payouts").get_data(as_text=True)
    revenue = client.get("/partner/revenue").get_data(as_text=True)

    assert cells(page, "earnings-table", "USD")[-1].startswith("$0.00")
    assert "$16.00 more was paid out than Bazaar booked" in page
    assert "$16.00 more was paid out than Bazaar booked" in revenue
    assert "-$16.00" not in page and "-$16.00" not in revenue


def test_a_failure_fixed_by_a_later_paid_payout_no_longer_warns(client, db, login, partner,
                                                                member):
    account = factories.make_connected_account(db, partner)
    factories.make_payout(db, account, status="failed", failure_message="Closed account.",
                          created_at=utcnow() - timedelta(days=3))
    login(member)
    assert "notice-payout-failed" in client.get("/partner/payouts").get_data(as_text=True)

    factories.make_payout(db, account, created_at=utcnow() - timedelta(days=1))
    page = client.get("/partner/payouts").get_data(as_text=True)
    assert "notice-payout-failed" not in page
    assert "Closed account." in page  # still in the history, with its reason


# --- the revenue page, CSV and statements -----------------------------------------------


def test_revenue_page_shows_payouts_per_month_by_arrival_date(client, db, login, partner,
                                                              member):
    booked(db, partner, 10000, PREVIOUS)
    booked(db, partner, 5000, THIS)
    account = factories.make_connected_account(db, partner)
    # Made in the previous month, arriving in this one: counted when it arrives.
    factories.make_payout(db, account, amount=9000, created_at=day_in(PREVIOUS, 25),
                          arrival_date=day_in(THIS, 1))
    factories.make_payout(db, account, amount=1000, status="pending",
                          created_at=day_in(THIS, 1), arrival_date=day_in(THIS, 2))
    factories.make_payout(db, account, amount=700, status="failed", failure_message="Closed.",
                          created_at=day_in(PREVIOUS, 2), arrival_date=day_in(PREVIOUS, 4))
    login(member)

    page = client.get("/partner/revenue").get_data(as_text=True)

    # Net booked, paid out, in flight, failed or canceled.
    assert cells(page, "payouts-usd-table", PREVIOUS) == ["$90.00", "$0.00", "$0.00", "$7.00"]
    assert cells(page, "payouts-usd-table", THIS) == ["$45.00", "$90.00", "$10.00", "$0.00"]
    assert 'data-chart-table="payouts-usd-table"' in page
    assert "<strong>$35.00</strong>" in page  # 135.00 booked - 90.00 paid - 10.00 in flight


def test_monthly_csv_includes_paid_out_amounts(client, db, login, partner, member):
    booked(db, partner, 10000, PREVIOUS)
    account = factories.make_connected_account(db, partner)
    factories.make_payout(db, account, amount=9000, arrival_date=day_in(THIS))
    factories.make_payout(db, account, amount=1000, status="in_transit",
                          arrival_date=day_in(THIS, 5))
    factories.make_payout(db, account, amount=4000, status="failed", arrival_date=day_in(THIS))
    factories.make_payout(db, account, amount=300, currency="eur", arrival_date=day_in(THIS))
    login(member)

    response = client.get(f"/partner/revenue/months.csv?from={PREVIOUS}&to={THIS}")

    previous, this = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert (previous["partner_net_usd"], previous["paid_out_usd"]) == ("90.00", "0.00")
    assert (this["partner_net_usd"], this["paid_out_usd"], this["payouts_in_flight_usd"]) \
        == ("0.00", "90.00", "10.00")
    # Paid out in a currency nothing was booked in this period still shows.
    assert (this["paid_out_eur"], this["partner_net_eur"]) == ("3.00", "0.00")
    # One listing's figures leave out the payouts: those are for all the partner's listings.
    listing = factories.make_paid_listing(db, partner=partner)
    [row] = list(csv.DictReader(io.StringIO(client.get(
        f"/partner/revenue/months.csv?month={THIS}&listing={listing.id}").get_data(as_text=True))))
    assert not any(column.startswith("paid_out") for column in row)


def test_statements_show_what_was_paid_out(runner, db, partner):
    booked(db, partner, 10000, THIS)
    account = factories.make_connected_account(db, partner)
    factories.make_payout(db, account, amount=6000, arrival_date=day_in(THIS))
    factories.make_payout(db, account, amount=1500, status="pending", arrival_date=day_in(THIS))
    factories.make_payout(db, account, amount=2000, status="failed", arrival_date=day_in(THIS))
    # Another partner with a payout this month and no sales in it still gets a statement.
    quiet = factories.make_partner(db, name="Quiet Labs")
    factories.make_payout(db, factories.make_connected_account(db, quiet), amount=4200,
                          arrival_date=day_in(THIS))

    result = runner.invoke(args=["billing", "statements", "--month", THIS])

    assert result.exit_code == 0, result.output
    acme = result.stdout[result.stdout.index("Bazaar statement for Acme Apps"):]
    acme = acme[:acme.index("Payout account:")]
    assert "Net payable: 90.00 USD" in acme
    assert "Paid out to your bank: 60.00 USD (payouts arriving this month)" in acme
    assert "Payouts in flight: 15.00 USD" in acme
    assert "Payouts failed or canceled: 20.00 USD" in acme
    other = result.stdout[result.stdout.index("Bazaar statement for Quiet Labs"):]
    assert "No paid invoices this month." in other
    assert "Paid out to your bank: 42.00 USD" in other
    assert "[2/2]" in result.stderr


# --- test mode: the simulated payout -------------------------------------------------------


@pytest.fixture
def enabled_account(app, db, partner):
    """The partner's payout account at the local provider, onboarded (enabled)."""
    account, _ = factories.make_payout_account(db, app, partner)
    account.status = "enabled"
    return factories.save(db, account)


def test_simulating_a_payout_pays_out_the_balance_per_currency(client, db, login, partner, member,
                                                               enabled_account):
    booked(db, partner, 10000)                 # net $90.00
    booked(db, partner, 2000, currency="eur")  # net €18.00
    factories.make_payout(db, enabled_account, amount=1000, status="in_transit")
    login(member)
    page = client.get("/partner/payouts").get_data(as_text=True)
    assert "Simulate a payout (test mode)" in page

    response = client.post("/partner/payouts/simulate")

    assert response.status_code == 302 and response.location.endswith("/partner/payouts")
    made = [payout for payout in all_payouts(db)
            if payout.provider_payout_id.startswith("po_local_")]
    assert sorted((p.currency, p.amount, p.status) for p in made) == [
        ("eur", 1800, "paid"), ("usd", 8000, "paid")]
    assert all(p.partner_id == partner.id for p in made)
    page = client.get("/partner/payouts").get_data(as_text=True)
    assert "Payout simulated: €18.00, $80.00 paid out to your bank (test mode" in page
    assert cells(page, "earnings-table", "USD")[-3:] == ["$80.00", "$10.00", "$0.00"]


def test_simulating_with_nothing_to_pay_out_says_so(client, db, login, member, enabled_account):
    login(member)

    response = client.post("/partner/payouts/simulate", follow_redirects=True)

    assert "There is nothing to pay out" in response.get_data(as_text=True)
    assert all_payouts(db) == []


def test_a_double_submit_pays_out_once(app, client, db, login, partner, member, enabled_account):
    booked(db, partner, 10000)
    login(member)

    client.post("/partner/payouts/simulate")
    again = client.post("/partner/payouts/simulate", follow_redirects=True)

    assert [(p.amount, p.status) for p in all_payouts(db)] == [(9000, "paid")]
    assert "There is nothing to pay out" in again.get_data(as_text=True)


def test_two_requests_from_the_same_balance_make_the_same_payout(app, client, db, partner,
                                                                 enabled_account):
    """Two submits that both read the balance before either paid out (a race) make the
    same payout and the same events, which the webhook handler applies once."""
    booked(db, partner, 10000)
    first = simulated_payouts(db, enabled_account)
    second = simulated_payouts(db, enabled_account)
    assert first[0]["id"] == second[0]["id"]

    provider = get_provider(app)
    for payout in (first[0], second[0]):
        for event_type, status in (("payout.created", "pending"), ("payout.paid", "paid")):
            body = json.dumps({
                "id": f"evt_local_{payout['id']}_{event_type}", "object": "event",
                "type": event_type, "account": enabled_account.provider_account_id,
                "created": int(time.time()), "data": {"object": {**payout, "status": status}}})
            assert client.post("/billing/webhooks/stripe", data=body, headers={
                "Stripe-Signature": provider.sign_webhook(body)}).status_code == 200

    assert [(p.amount, p.status) for p in all_payouts(db)] == [(9000, "paid")]
    # After a failure the money is back in the balance, and a new payout is a new one.
    payout = all_payouts(db)[0]
    payout.status = "failed"
    factories.save(db, payout)
    assert simulated_payouts(db, enabled_account)[0]["id"] != first[0]["id"]


def test_no_simulation_before_the_account_is_enabled(app, client, db, login, partner, member):
    booked(db, partner, 10000)
    factories.make_payout_account(db, app, partner)  # pending: onboarding not finished
    login(member)

    assert "Simulate a payout" not in client.get("/partner/payouts").get_data(as_text=True)
    response = client.post("/partner/payouts/simulate", follow_redirects=True)
    assert "Set up payouts first" in response.get_data(as_text=True)
    assert all_payouts(db) == []


class TestStripeMode:
    """With Stripe as the provider, payouts follow Stripe's schedule: no simulation, and
    payout events come through the Connect endpoint, signed with its own secret."""

    CONNECT_SECRET = "whsec_bazaar_connect_tests"

    @pytest.fixture
    def app_overrides(self, stripe_mock_url):
        return {"STRIPE_SECRET_KEY": "sk_test_bazaarpayouts",
                "STRIPE_WEBHOOK_SECRET": "whsec_bazaar_platform_tests",
                "STRIPE_CONNECT_WEBHOOK_SECRET": self.CONNECT_SECRET,
                "STRIPE_API_BASE": stripe_mock_url, "STRIPE_METER_EVENTS": "v1"}

    def test_the_simulation_is_neither_shown_nor_served(self, client, db, login, partner,
                                                        member):
        booked(db, partner, 10000)
        factories.make_connected_account(db, partner, provider="stripe")
        login(member)

        page = client.get("/partner/payouts").get_data(as_text=True)

        assert "Enabled:" in page and "Simulate a payout" not in page
        assert client.post("/partner/payouts/simulate").status_code == 404
        assert all_payouts(db) == []

    def test_a_payout_signed_by_the_connect_endpoint_is_applied(self, client, db, partner):
        account = factories.make_connected_account(db, partner, provider="stripe")

        def send(secret, event_id):
            body = json.dumps({
                "id": event_id, "object": "event", "type": "payout.paid",
                "account": account.provider_account_id, "created": int(time.time()),
                "data": {"object": {"id": "po_1", "object": "payout", "amount": 4500,
                                    "currency": "usd", "status": "paid",
                                    "arrival_date": int(time.time())}}})
            header = stripe.WebhookSignature.generate_signature_header(
                body, secret, timestamp=int(time.time()))
            return client.post("/billing/webhooks/stripe", data=body,
                               headers={"Stripe-Signature": header})

        assert send("whsec_someone_else", "evt_forged").status_code == 400
        assert all_payouts(db) == []
        assert send(self.CONNECT_SECRET, "evt_connect").status_code == 200
        [payout] = all_payouts(db)
        assert (payout.provider, payout.amount, payout.status) == ("stripe", 4500, "paid")
