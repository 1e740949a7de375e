"""Partner revenue figures over a small catalog with known installs, trials, usage
and ledger entries across months (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from accounts.models import Role
from billing.reports import BadMonth, MonthSpan, parse_month, revenue_report
from tests import factories

TODAY = date(2026, 11, 15)


def at(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _workspace(db):
    return factories.make_workspace(db, factories.make_user(db, Role.CUSTOMER))


def _install(db, listing, created_at, status="active", uninstalled_at=None):
    install = factories.make_install(db, _workspace(db), listing, status=status)
    install.created_at = created_at
    install.uninstalled_at = uninstalled_at
    return factories.save(db, install)


def _paid(db, listing, amount, paid_at, fee_percent="20", currency=None):
    subscription = factories.make_subscription(db, _workspace(db), listing, status="canceled")
    invoice = factories.make_invoice(db, subscription, amount=amount, currency=currency,
                                     paid_at=paid_at)
    return factories.make_ledger_entry(db, invoice, fee_percent=fee_percent)


@pytest.fixture
def catalog(db):
    """Partner with a flat app (A, $15/month) and a usage app (B); another partner's C."""
    partner = factories.make_partner(db)
    flat = factories.make_paid_listing(db, partner=partner, name="Flat app")
    usage = factories.make_usage_listing(db, partner=partner, name="Usage app")
    other = factories.make_paid_listing(db)

    _install(db, flat, at(2026, 8, 20))                                   # before the span
    _install(db, flat, at(2026, 9, 5))
    _install(db, flat, at(2026, 10, 10), status="uninstalled",
             uninstalled_at=at(2026, 11, 2))
    _install(db, flat, at(2026, 11, 10))
    _install(db, flat, at(2026, 9, 20), status="expired",                 # a trial, unpaid
             uninstalled_at=at(2026, 10, 4))
    _install(db, flat, at(2026, 11, 3), status="uninstalled",             # made and gone
             uninstalled_at=at(2026, 11, 5))
    metered = _install(db, usage, at(2026, 10, 31, 23, 30))               # late on 31 Oct UTC
    _install(db, other, at(2026, 10, 5))

    factories.make_trial(db, _workspace(db), flat, at(2026, 10, 1), status="converted")
    factories.make_trial(db, _workspace(db), flat, at(2026, 10, 15), status="expired")
    factories.make_trial(db, _workspace(db), flat, at(2026, 11, 1))
    factories.make_trial(db, _workspace(db), other, at(2026, 11, 1), status="converted")

    factories.make_subscription(db, _workspace(db), flat, status="active")
    factories.make_subscription(db, _workspace(db), flat, status="trialing")
    factories.make_subscription(db, _workspace(db), flat, status="past_due")
    factories.make_subscription(db, _workspace(db), flat, status="incomplete")
    factories.make_subscription(db, _workspace(db), usage, status="active")
    factories.make_subscription(db, _workspace(db), other, status="active")

    for quantity, when in [(100, at(2026, 8, 30)), (5, at(2026, 10, 3)), (7, at(2026, 10, 20)),
                           (3, at(2026, 11, 1))]:
        factories.make_usage_event(db, metered, quantity=quantity, occurred_at=when)

    _paid(db, flat, 1500, at(2026, 10, 1))
    _paid(db, flat, 1500, at(2026, 11, 1))
    _paid(db, flat, 999, at(2026, 11, 3), fee_percent="15", currency="eur")
    _paid(db, other, 5000, at(2026, 11, 4))
    return partner, flat, usage


def test_figures_per_month_for_all_of_a_partners_listings(db, catalog):
    partner, flat, usage = catalog
    report = revenue_report(db, partner.id, months=3, today=TODAY)

    assert report.span.keys == ["2026-09", "2026-10", "2026-11"]
    assert report.installs == {"2026-09": 2, "2026-10": 2, "2026-11": 2}
    # Churn: every install that ended (uninstalled, or a trial that expired unpaid)...
    assert report.ended == {"2026-09": 0, "2026-10": 1, "2026-11": 2}
    # ...and the rate over the installs in place when the month started (the one made
    # and gone in November is churn, but was never part of November's base).
    assert report.active_at_start == {"2026-09": 1, "2026-10": 3, "2026-11": 4}
    assert report.ended_from_start == {"2026-09": 0, "2026-10": 1, "2026-11": 1}
    assert [str(report.churn_rate(month)) for month in report.span.keys] == [
        "0.0", "33.3", "25.0"]
    assert report.active_installs == 4
    assert report.trials == {"2026-09": {"started": 0, "converted": 0},
                             "2026-10": {"started": 2, "converted": 1},
                             "2026-11": {"started": 1, "converted": 0}}
    # Active, trialing and past-due subscriptions of the flat app; the usage app adds nothing.
    assert report.mrr == {"usd": 4500}
    assert report.usage == {usage.id: {"2026-09": 0, "2026-10": 12, "2026-11": 3}}

    usd, eur = report.money["usd"], report.money["eur"]
    assert (usd["2026-10"].gross, usd["2026-10"].platform_fee, usd["2026-10"].partner_net) == (
        1500, 300, 1200)
    assert usd["2026-09"].gross == 0 and usd["2026-11"].partner_net == 1200
    assert (eur["2026-11"].gross, eur["2026-11"].platform_fee, eur["2026-11"].partner_net) == (
        999, 150, 849)
    totals = report.money_totals()
    assert totals["usd"].gross == 3000 and totals["usd"].sales == 2
    assert totals["eur"].partner_net == 849


def test_an_invoice_of_zero_is_booked_but_not_counted_as_a_sale(db, catalog):
    partner, flat, usage = catalog
    # The invoice that opens a trial (or a usage plan's first period) is paid, for 0.
    _paid(db, flat, 0, at(2026, 11, 6))

    usd = revenue_report(db, partner.id, months=3, today=TODAY).money["usd"]["2026-11"]

    assert (usd.gross, usd.platform_fee, usd.partner_net, usd.sales) == (1500, 300, 1200, 1)


def test_without_installs_at_a_months_start_there_is_no_churn_rate(db):
    partner = factories.make_partner(db)
    listing = factories.make_listing(db, partner=partner)
    _install(db, listing, at(2026, 11, 3), status="uninstalled", uninstalled_at=at(2026, 11, 4))

    report = revenue_report(db, partner.id, months=1, today=TODAY)

    assert report.ended == {"2026-11": 1} and report.active_at_start == {"2026-11": 0}
    assert report.churn_rate("2026-11") is None


def test_one_listing_only(db, catalog):
    partner, flat, usage = catalog
    report = revenue_report(db, partner.id, months=3, listing_id=usage.id, today=TODAY)

    assert report.installs == {"2026-09": 0, "2026-10": 1, "2026-11": 0}
    assert report.ended == {"2026-09": 0, "2026-10": 0, "2026-11": 0}
    assert report.active_at_start == {"2026-09": 0, "2026-10": 0, "2026-11": 1}
    assert report.active_installs == 1
    assert report.mrr == {}
    assert report.money == {}
    assert list(report.usage) == [usage.id]


def test_another_partners_listing_gives_nothing(db, catalog):
    partner, flat, usage = catalog
    stranger = factories.make_partner(db)
    report = revenue_report(db, stranger.id, months=3, listing_id=flat.id, today=TODAY)
    assert report.active_installs == 0
    assert sum(report.installs.values()) == 0
    assert report.money == {} and report.usage == {} and report.mrr == {}


def test_month_spans_cross_the_year():
    span = MonthSpan.ending(date(2026, 2, 10), 4)
    assert span.keys == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert span.start == datetime(2025, 11, 1, tzinfo=UTC)
    assert span.end == datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-00", "26-11", "2026-1", "2026/11",
                                  "november", None, "2026-11-01"])
def test_malformed_months_are_refused_with_the_expected_form(text):
    with pytest.raises(BadMonth, match="YYYY-MM"):
        parse_month(text)


def test_a_month_parses_to_its_first_day():
    assert parse_month(" 2026-11 ") == date(2026, 11, 1)


def test_mrr_counts_each_subscriptions_own_plan_an_annual_one_as_a_twelfth(db):
    """Found after plans came (issue 16): MRR read the listing's first plan price for
    every subscription, so a $290/year plan counted as $29 a month and a Pro plan as Basic."""
    from billing.reports import monthly_recurring_revenue
    from listings.plans import add_plan

    partner = factories.make_partner(db)
    listing = factories.make_listing(db, partner=partner, pricing_model="flat_monthly",
                                     monthly_price=2900)
    annual = add_plan(db, listing, {"name": "Annual", "interval": "year", "price": 30000})
    pro = add_plan(db, listing, {"name": "Pro", "interval": "month", "price": 7900})
    factories.make_subscription(db, _workspace(db), listing)  # no plan: the listing's price
    factories.make_subscription(db, _workspace(db), listing, plan_id=annual.id)
    factories.make_subscription(db, _workspace(db), listing, plan_id=pro.id)
    factories.make_subscription(db, _workspace(db), listing, plan_id=pro.id, status="canceled")
    assert monthly_recurring_revenue(db, partner.id) == {"usd": 2900 + 2500 + 7900}
    assert monthly_recurring_revenue(db, partner.id, listing.id) == {"usd": 13300}
