"""The partner's revenue page (tables first, charts drawn from them), its CSV export
and the monthly statements command."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from accounts.models import Role
from billing.reports import MonthSpan
from core.db import utcnow
from tests import factories

# This month and the one before it, whatever today is.
PREVIOUS, THIS = MonthSpan.ending(utcnow().date(), 2).keys


def day_in(month: str, day: int = 2, hour: int = 12) -> datetime:
    year, number = map(int, month.split("-"))
    return datetime(year, number, day, hour, tzinfo=UTC)


def _workspace(db):
    return factories.make_workspace(db, factories.make_user(db, Role.CUSTOMER))


def _paid(db, listing, amount, month, fee_percent="20", currency=None):
    subscription = factories.make_subscription(db, _workspace(db), listing, status="canceled")
    invoice = factories.make_invoice(db, subscription, amount=amount, currency=currency,
                                     paid_at=day_in(month))
    return factories.make_ledger_entry(db, invoice, fee_percent=fee_percent), invoice


def _install(db, listing, created_at, **fields):
    install = factories.make_install(db, _workspace(db), listing, **fields)
    install.created_at = created_at
    return factories.save(db, install)


def _partner_with_revenue(db):
    partner = factories.make_partner(db, name="Acme Apps")
    flat = factories.make_paid_listing(db, partner=partner, name="Flat app")
    usage = factories.make_usage_listing(db, partner=partner, name="Usage app")
    _install(db, flat, day_in(PREVIOUS, 1, 0))
    _install(db, flat, day_in(THIS))
    gone = _install(db, flat, day_in(PREVIOUS), status="uninstalled")
    gone.uninstalled_at = day_in(THIS)
    factories.save(db, gone)
    metered = _install(db, usage, day_in(PREVIOUS))
    factories.make_usage_event(db, metered, quantity=40, occurred_at=day_in(PREVIOUS))
    factories.make_usage_event(db, metered, quantity=2, occurred_at=day_in(THIS, 1, 0))
    factories.make_trial(db, _workspace(db), flat, day_in(PREVIOUS), status="converted")
    factories.make_subscription(db, _workspace(db), flat, status="active")
    _paid(db, flat, 1500, PREVIOUS)
    _paid(db, flat, 1500, THIS)
    _paid(db, flat, 1200, THIS, fee_percent="15", currency="jpy")
    user = factories.make_user(db, Role.PARTNER, partner=partner)
    return partner, flat, usage, user


def _row(page: str, table_id: str, month: str) -> list[str]:
    """The cells (after the month) of ``month``'s row in the table ``table_id``."""
    table = page[page.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    row = re.search(rf'<th scope="row">{month}</th>(.*?)</tr>', table, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_page_shows_every_series_as_a_table_with_a_chart_drawn_from_it(client, db, login):
    partner, flat, usage, user = _partner_with_revenue(db)
    factories.make_install(db, _workspace(db), factories.make_paid_listing(db))  # not theirs
    login(user)

    response = client.get("/partner/revenue")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    # Installs, ended, active at the month's start, churn rate.
    assert _row(page, "installs-table", PREVIOUS) == ["3", "0", "0", "—"]
    assert _row(page, "installs-table", THIS) == ["1", "1", "3", "33.3%"]
    assert _row(page, "trials-table", PREVIOUS) == ["1", "1"]
    # Gross, fee, net, paid invoices, refunded (none).
    assert _row(page, "money-usd-table", THIS) == ["$15.00", "$3.00", "$12.00", "1", "—"]
    assert _row(page, "money-jpy-table", THIS) == ["¥1,200", "¥180", "¥1,020", "1", "—"]
    assert _row(page, "usage-table", PREVIOUS) == ["40"]
    assert _row(page, "usage-table", THIS) == ["2"]
    assert "<dt>Active installs</dt><dd>3</dd>" in page
    assert "$15.00" in page.split("Monthly recurring revenue")[1].split("</dd>")[0]
    # No JavaScript needed: captions and headers are there; charts only read the tables.
    # Payouts per currency beside the net booked (none paid out yet: no account).
    assert _row(page, "payouts-usd-table", PREVIOUS) == ["$12.00", "$0.00", "$0.00", "$0.00"]
    assert _row(page, "payouts-jpy-table", THIS) == ["¥1,020", "¥0", "¥0", "¥0"]
    assert "No payout account yet." in page
    assert page.count("<caption>") == 7 and 'scope="col"' in page
    assert 'data-chart-table="installs-table"' in page
    assert 'data-chart-table="money-usd-table"' in page
    assert re.search(r'<canvas[^>]*role="img"[^>]*aria-label="Bar chart of installs', page, re.S)
    assert re.search(r'src="/static/js/charts\.js\?v=[0-9a-f]+"', page)
    assert "/static/vendor/chartjs/chart.umd.min.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "no inline script (CSP)"
    assert " style=" not in page


def test_period_and_listing_filters(client, db, login):
    partner, flat, usage, user = _partner_with_revenue(db)
    login(user)

    page = client.get(f"/partner/revenue?listing={usage.id}&months=24").get_data(as_text=True)

    assert "<h1>Revenue of Usage app</h1>" in page
    # Installs, trials, usage; no money of this listing; the payouts (USD, JPY) are the
    # partner's, beside the net booked for all its listings.
    # Each of the five tables covers all 24 months; a run of empty months is one row.
    grouped = sum(len(run.split()) for run in re.findall(r'data-empty-months="([^"]+)"', page))
    assert page.count('<tr><th scope="row">') + grouped == 24 * 3 + 24 * 2
    assert "Payouts are for all your listings together" in page
    assert _row(page, "payouts-usd-table", THIS)[0] == "$12.00"
    assert _row(page, "installs-table", PREVIOUS) == ["1", "0", "0", "—"]
    assert "No paid invoices in this period yet." in page
    # A range the page does not offer falls back to a year, and says so.
    page = client.get("/partner/revenue?months=7").get_data(as_text=True)
    assert page.count('<option value="12" selected>') == 1
    assert "Choose a period of 6, 12, 24 months; showing the last 12 months." in page
    page = client.get("/partner/revenue?months=abc").get_data(as_text=True)
    assert "Choose a period of 6, 12, 24 months" in page
    assert "Choose a period" not in client.get("/partner/revenue").get_data(as_text=True)


def test_another_partners_listing_is_not_found(client, db, login):
    _, flat, _, _ = _partner_with_revenue(db)
    login(factories.make_user(db, Role.PARTNER))
    assert client.get(f"/partner/revenue?listing={flat.id}").status_code == 404
    assert client.get(f"/partner/revenue.csv?listing={flat.id}").status_code == 404
    assert client.get("/partner/revenue?listing=abc").status_code == 404
    assert client.get("/partner/revenue?listing=²").status_code == 404  # isdigit, not int
    assert client.get(f"/partner/revenue?listing={'9' * 30}").status_code == 404
    assert client.get(f"/partner/revenue.csv?listing={2**31}").status_code == 404
    # Its own (empty) page shows nothing of the other partner's money.
    page = client.get("/partner/revenue").get_data(as_text=True)
    assert "$15.00" not in page and "No paid invoices in this period yet." in page


def test_portal_pages_link_to_revenue(client, db, login):
    partner, flat, _, user = _partner_with_revenue(db)
    login(user)
    assert 'href="/partner/revenue"' in client.get("/partner/").get_data(as_text=True)
    detail = client.get(f"/partner/listings/{flat.id}").get_data(as_text=True)
    assert f'href="/partner/revenue?listing={flat.id}"' in detail


def test_csv_has_one_row_per_ledger_entry_with_exact_amounts(client, db, login):
    partner, flat, _, user = _partner_with_revenue(db)
    _, other_invoice = _paid(db, factories.make_paid_listing(db), 9900, THIS)  # not theirs
    login(user)

    response = client.get(f"/partner/revenue.csv?month={THIS}")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="revenue-{THIS}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["currency"], row["gross"], row["platform_fee"], row["partner_net"],
             row["fee_percent"], row["listing"], row["tier"]) for row in rows] == [
        ("usd", "15.00", "3.00", "12.00", "20", "Flat app", "registered"),
        ("jpy", "1200", "180", "1020", "15", "Flat app", "registered"),
    ]
    assert all(row["invoice_id"].startswith("in_test_") for row in rows)
    assert other_invoice.provider_invoice_id not in response.get_data(as_text=True)

    both = client.get(f"/partner/revenue.csv?from={PREVIOUS}&to={THIS}")
    assert len(list(csv.DictReader(io.StringIO(both.get_data(as_text=True))))) == 3
    assert f'filename="revenue-{PREVIOUS}_{THIS}.csv"' in both.headers["Content-Disposition"]


def test_csv_cells_cannot_become_spreadsheet_formulas(client, db, login):
    partner = factories.make_partner(db)
    listing = factories.make_paid_listing(db, partner=partner,
                                          name='=HYPERLINK("http://evil.test","x")')
    _paid(db, listing, 1000, THIS)
    login(factories.make_user(db, Role.PARTNER, partner=partner))

    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/partner/revenue.csv?month={THIS}").get_data(as_text=True))))

    assert rows[0]["listing"] == '\'=HYPERLINK("http://evil.test","x")'
    assert rows[0]["gross"] == "10.00"


def test_bad_month_is_a_clear_400(client, db, login):
    login(factories.make_user(db, Role.PARTNER))
    response = client.get("/partner/revenue.csv?month=2026-13")
    assert response.status_code == 400
    assert "YYYY-MM" in response.get_data(as_text=True)
    backwards = client.get("/partner/revenue.csv?from=2026-11&to=2026-01")
    assert backwards.status_code == 400
    assert "before it starts" in backwards.get_data(as_text=True)


def test_statements_print_each_partners_totals_and_net(runner, db):
    partner, flat, usage, _ = _partner_with_revenue(db)
    other_listing = factories.make_paid_listing(db, name="Other app")
    _paid(db, other_listing, 2000, THIS, fee_percent="10")

    result = runner.invoke(args=["billing", "statements", "--month", THIS])

    assert result.exit_code == 0, result.output
    assert f"Bazaar statement for Acme Apps ({partner.slug})" in result.stdout
    assert "Currency USD" in result.stdout and "Currency JPY" in result.stdout
    assert "Net payable: 12.00 USD" in result.stdout
    assert "Net payable: 1020 JPY" in result.stdout
    assert "Net payable: 18.00 USD" in result.stdout  # the other partner: 20.00 less 10%
    assert "Platform fee rate: 20%" in result.stdout
    assert re.search(r"\[1/2\] \S+: \d entries", result.stderr)


def test_statements_for_one_partner_into_files(runner, db, tmp_path):
    partner, *_ = _partner_with_revenue(db)
    _paid(db, factories.make_paid_listing(db), 2000, THIS)

    result = runner.invoke(args=["billing", "statements", "--month", THIS, "--partner",
                                 partner.slug, "--output", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    files = list((tmp_path / "out").iterdir())
    assert [file.name for file in files] == [f"statement-{partner.slug}-{THIS}.txt"]
    text = files[0].read_text()
    assert "Flat app" in text and "Net payable: 12.00 USD" in text
    assert f"[1/1] {partner.slug}: 2 entries" in result.stderr


def test_statements_refuse_a_malformed_month_or_unknown_partner(runner, db):
    result = runner.invoke(args=["billing", "statements", "--month", "11-2026"])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output
    result = runner.invoke(args=["billing", "statements", "--month", THIS, "--partner", "nobody"])
    assert result.exit_code == 2
    assert "No partner has the slug 'nobody'" in result.output
    result = runner.invoke(args=["billing", "statements", "--month", "1999-01"])
    assert result.exit_code == 0
    assert "No ledger entries and no payouts in 1999-01" in result.output


def test_monthly_figures_csv_has_churn_and_what_is_owed(client, db, login):
    partner, flat, usage, user = _partner_with_revenue(db)
    login(user)

    response = client.get(f"/partner/revenue/months.csv?from={PREVIOUS}&to={THIS}")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (response.headers["Content-Disposition"]
            == f'attachment; filename="revenue-months-{PREVIOUS}_{THIS}.csv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["month"] for row in rows] == [PREVIOUS, THIS]
    previous, this = rows
    assert (this["installs"], this["ended"], this["active_at_start"], this["ended_from_start"],
            this["churn_rate_percent"]) == ("1", "1", "3", "1", "33.3")
    assert previous["churn_rate_percent"] == ""  # nothing to lose at its start
    assert (previous["trials_started"], previous["trials_converted"]) == ("1", "1")
    assert (previous["usage_units"], this["usage_units"]) == ("40", "2")
    assert (this["gross_usd"], this["platform_fee_usd"], this["partner_net_usd"],
            this["paid_invoices_usd"]) == ("15.00", "3.00", "12.00", "1")
    assert (this["gross_jpy"], this["partner_net_jpy"]) == ("1200", "1020")

    # One listing only, and another partner's listing is not found.
    only_usage = client.get(f"/partner/revenue/months.csv?month={THIS}&listing={usage.id}")
    [row] = list(csv.DictReader(io.StringIO(only_usage.get_data(as_text=True))))
    assert row["installs"] == "0" and row["usage_units"] == "2" and "gross_usd" not in row
    client.post("/account/logout")
    login(factories.make_user(db, Role.PARTNER))
    assert client.get(f"/partner/revenue/months.csv?listing={flat.id}").status_code == 404


def test_monthly_figures_csv_refuses_bad_months(client, db, login):
    login(factories.make_user(db, Role.PARTNER))
    response = client.get("/partner/revenue/months.csv?month=2026-1")
    assert response.status_code == 400 and "YYYY-MM" in response.get_data(as_text=True)
    too_long = client.get("/partner/revenue/months.csv?from=2000-01&to=2026-01")
    assert too_long.status_code == 400
    assert "at most 120 months" in too_long.get_data(as_text=True)


def test_statements_show_churn_and_where_the_net_goes(app, runner, db):
    from billing.models import PayoutAccountStatus

    partner, *_ = _partner_with_revenue(db)
    result = runner.invoke(args=["billing", "statements", "--month", THIS])
    assert result.exit_code == 0, result.output
    assert "Installs: 1 new, 1 ended; 3 active at the month's start" in result.stdout
    assert "Churn rate: 33.3% (1 of 3 ended)" in result.stdout
    assert "Payout account: none yet; the net payable is owed to you and held" in result.stdout

    account, _ = factories.make_payout_account(db, app, partner)
    account.status = PayoutAccountStatus.ENABLED
    factories.save(db, account)
    result = runner.invoke(args=["billing", "statements", "--month", THIS])
    assert (f"Payout account: {account.provider_account_id} (enabled); the net payable is "
            "owed to you via this connected account.") in result.stdout


def test_statements_refuse_an_output_folder_they_cannot_make(runner, db, tmp_path):
    _partner_with_revenue(db)
    a_file = tmp_path / "statements.txt"
    a_file.write_text("not a folder")

    inside_a_file = runner.invoke(args=["billing", "statements", "--month", THIS,
                                        "--output", str(a_file / "out")])
    over_a_file = runner.invoke(args=["billing", "statements", "--month", THIS,
                                      "--output", str(a_file)])

    assert inside_a_file.exit_code == 2
    assert "Cannot make the folder" in inside_a_file.output
    assert "Traceback" not in inside_a_file.output
    assert over_a_file.exit_code == 2 and "is a file" in over_a_file.output
    assert a_file.read_text() == "not a folder"
