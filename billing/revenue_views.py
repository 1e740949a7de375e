"""The partner's revenue page, its CSV exports (the ledger's entries, and the figures
per month) and the monthly statements command.

The page is tables first (what works without JavaScript and what screen readers
read); ``static/js/charts.js`` draws each table as a Chart.js chart beside it.
A partner member sees only its own partner's figures; another partner's listing
answers 404, like everywhere else in the partner portal.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
from flask import Blueprint, Flask, Response, abort, current_app, flash, render_template, request
from flask_login import current_user
from sqlmodel import Session, select

from billing.models import (
    Invoice,
    LedgerEntry,
    LedgerEntryKind,
    PayoutAccount,
    PayoutAccountStatus,
)
from billing.payouts import payout_account, payout_balances
from billing.providers import get_provider
from billing.reports import (
    MONTH_CHOICES,
    BadMonth,
    Money,
    MonthSpan,
    PayoutMonth,
    is_sale,
    ledger_entries,
    parse_month,
    partners_with_payouts,
    revenue_report,
)
from billing.usage import MAX_ID
from listings.models import Listing, Partner
from listings.services import listing_for_partner
from storefront.db import get_session, utcnow
from storefront.security import partner_required
from storefront.templating import ZERO_DECIMAL_CURRENCIES

bp = Blueprint("revenue", __name__, url_prefix="/partner")

# A CSV export covers at most this many months (ten years), so one request stays small.
MAX_EXPORT_MONTHS = 120
# Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["booked_at", "kind", "invoice_id", "listing", "workspace_id", "currency",
               "gross", "platform_fee", "partner_net", "fee_percent", "tier", "refund_id"]
# The monthly summary: one line per month, then these four per currency.
SUMMARY_COLUMNS = ["month", "installs", "ended", "active_at_start", "ended_from_start",
                   "churn_rate_percent", "trials_started", "trials_converted", "usage_units"]
SUMMARY_MONEY_COLUMNS = ["gross", "platform_fee", "partner_net", "paid_invoices", "refunded"]
# ... and, for all of a partner's listings, its payouts to its bank by arrival month.
SUMMARY_PAYOUT_COLUMNS = ["paid_out", "payouts_in_flight"]


def major_units(minor: int, currency: str) -> str:
    """Integer minor units as an exact decimal string in major units: 1999 usd -> "19.99"."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return str(int(minor))
    return str(Decimal(int(minor)).scaleb(-2))


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will show, never run: formulas get a leading quote."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _listing_filter(session) -> Listing | None:
    """The ``?listing=`` filter: one of the partner's own listings, or 404."""
    raw = request.args.get("listing", "").strip()
    if not raw:
        return None
    # Past a 32-bit id column no listing exists: 404 before the database is asked.
    # isascii: "²".isdigit() is true, but int("²") raises.
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        abort(404)
    listing = listing_for_partner(session, current_user.partner_id, int(raw))
    if listing is None:
        abort(404)
    return listing


@bp.route("/revenue")
@partner_required
def index():
    """Installs, churn, trials, MRR, usage, money and payouts by month, as tables and
    charts."""
    session = get_session()
    listing = _listing_filter(session)
    months = request.args.get("months", type=int)
    if months not in MONTH_CHOICES:
        if request.args.get("months"):
            flash(f"Choose a period of {', '.join(map(str, MONTH_CHOICES))} months; "
                  "showing the last 12 months.", "warning")
        months = 12
    report = revenue_report(session, current_user.partner_id, months,
                            listing.id if listing else None)
    listings = session.exec(select(Listing).where(Listing.partner_id == current_user.partner_id)
                            .order_by(Listing.name)).all()
    return render_template("billing/revenue.html", report=report, listing=listing,
                           listings=listings, months=months, month_choices=MONTH_CHOICES,
                           partner=session.get(Partner, current_user.partner_id),
                           payout_account=payout_account(session, get_provider(),
                                                         current_user.partner_id),
                           balances=payout_balances(session, current_user.partner_id),
                           this_month=report.span.last.strftime("%Y-%m"),
                           period_args={"from": report.span.keys[0], "to": report.span.keys[-1],
                                        "listing": listing.id if listing else None},
                           major_units=major_units)


def export_span(args) -> MonthSpan:
    """The months an export asks for: ``month``, or ``from`` and ``to`` (this month when
    none). Raises ``BadMonth`` with a message for the partner."""
    if args.get("month"):
        month = parse_month(args["month"])
        return MonthSpan(month, month)
    if args.get("from") or args.get("to"):
        first = parse_month(args.get("from") or args.get("to"))
        last = parse_month(args.get("to") or args.get("from"))
        if last < first:
            raise BadMonth("The range ends before it starts: “to” must not be before “from”.")
        span = MonthSpan(first, last)
        if len(span.keys) > MAX_EXPORT_MONTHS:
            raise BadMonth(f"Export at most {MAX_EXPORT_MONTHS} months at a time.")
        return span
    today = utcnow().date()
    return MonthSpan.ending(today, 1)


def ledger_csv(rows) -> str:
    """The CSV text of (LedgerEntry, Listing, Invoice) rows, one line per entry: a
    ``charge`` (positive amounts) or a ``refund`` (negative amounts, with the
    provider's refund id)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry, listing, invoice in rows:
        currency = entry.currency.lower()
        writer.writerow([
            entry.booked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            entry.kind,
            safe_cell(invoice.provider_invoice_id),
            safe_cell(listing.name),
            entry.workspace_id,
            currency,
            major_units(entry.gross, currency),
            major_units(entry.platform_fee, currency),
            major_units(entry.partner_net, currency),
            safe_cell(entry.fee_percent),
            safe_cell(entry.partner_tier),
            safe_cell(entry.provider_refund_id or ""),
        ])
    return out.getvalue()


def _entries_with_invoices(session: Session, span: MonthSpan, partner_id: int | None,
                           listing_id: int | None = None):
    rows = ledger_entries(session, span, partner_id, listing_id)
    invoice_ids = [entry.invoice_id for entry, _ in rows]
    invoices = {invoice.id: invoice for invoice in session.exec(
        select(Invoice).where(Invoice.id.in_(invoice_ids))).all()} if invoice_ids else {}
    return [(entry, listing, invoices[entry.invoice_id]) for entry, listing in rows]


@bp.route("/revenue.csv")
@partner_required
def export():
    """The ledger entries of a month (``?month=YYYY-MM``) or a range (``?from=&to=``)."""
    session = get_session()
    listing = _listing_filter(session)
    try:
        span = export_span(request.args)
    except BadMonth as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    rows = _entries_with_invoices(session, span, current_user.partner_id,
                                  listing.id if listing else None)
    keys = span.keys
    name = keys[0] if len(keys) == 1 else f"{keys[0]}_{keys[-1]}"
    return Response(ledger_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="revenue-{name}.csv"'})


def summary_csv(report, with_payouts: bool = True) -> str:
    """The CSV text of a revenue report, one line per month: installs and churn,
    trials, usage, and per currency the money (``partner_net_<currency>``: the net
    booked for the partner) and, ``with_payouts``, the payouts to its bank arriving in
    the month (``paid_out_<currency>``, ``payouts_in_flight_<currency>``)."""
    money_currencies = set(report.money)
    payout_currencies = set(report.payouts) | money_currencies if with_payouts else set()
    currencies = sorted(money_currencies | payout_currencies)
    header = list(SUMMARY_COLUMNS)
    for currency in currencies:
        header += [f"{column}_{currency}" for column in SUMMARY_MONEY_COLUMNS]
        if with_payouts:
            header += [f"{column}_{currency}" for column in SUMMARY_PAYOUT_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for month in report.span.keys:
        rate = report.churn_rate(month)
        row = [month, report.installs[month], report.ended[month],
               report.active_at_start[month], report.ended_from_start[month],
               "" if rate is None else str(rate), report.trials[month]["started"],
               report.trials[month]["converted"],
               sum(units[month] for units in report.usage.values())]
        for currency in currencies:
            money = report.money.get(currency, {}).get(month) or Money()
            row += [major_units(money.gross, currency), major_units(money.platform_fee, currency),
                    major_units(money.partner_net, currency), money.sales,
                    major_units(money.refunded, currency)]
            if with_payouts:
                payouts = report.payout_month(currency, month)
                row += [major_units(payouts.paid, currency),
                        major_units(payouts.in_flight, currency)]
        writer.writerow(row)
    return out.getvalue()


@bp.route("/revenue/months.csv")
@partner_required
def export_summary():
    """The revenue page's figures per month (``?month=`` or ``?from=&to=``), churn and
    the partner's net included, and what was paid out to its bank (for all its
    listings: left out when the export is for one listing)."""
    session = get_session()
    listing = _listing_filter(session)
    try:
        span = export_span(request.args)
    except BadMonth as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    report = revenue_report(session, current_user.partner_id,
                            listing_id=listing.id if listing else None, span=span)
    keys = span.keys
    name = keys[0] if len(keys) == 1 else f"{keys[0]}_{keys[-1]}"
    text = summary_csv(report, with_payouts=listing is None)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="revenue-months-{name}.csv"'})


# --- monthly statements -------------------------------------------------------


def statement_text(partner: Partner, month: str, rows, report=None,
                   account: PayoutAccount | None = None) -> str:
    """A partner's plain-text statement for ``month`` from its (LedgerEntry, Listing,
    Invoice) rows: per currency, the total and each listing's share (invoices of 0,
    such as a trial's start, are not counted as invoices), the fee rates applied and
    the net payable, and, from ``report`` (the month's revenue report), what was paid
    out to the partner's bank (payouts arriving in the month); then installs and
    churn, and where the net goes (``account``: the partner's payout account)."""
    by_currency: dict[str, dict[str, list[LedgerEntry]]] = defaultdict(lambda: defaultdict(list))
    for entry, listing, _ in rows:
        by_currency[entry.currency.lower()][listing.name].append(entry)
    payouts = report.payouts if report is not None else {}
    lines = [f"Bazaar statement for {partner.name} ({partner.slug})", f"Month: {month}",
             f"Tier: {partner.tier}", ""]
    for currency in sorted(set(by_currency) | set(payouts)):
        listings = by_currency.get(currency, {})
        entries = [entry for group in listings.values() for entry in group]
        code = currency.upper()
        lines.append(f"Currency {code}")
        if entries:
            rates = sorted({entry.fee_percent for entry in entries}, key=Decimal)
            lines.append(f"  {'Listing':<40} {'Invoices':>8} {'Gross':>14} {'Fee':>14} "
                         f"{'Net':>14}")
            for name in sorted(listings):
                lines.append(_statement_line(name, listings[name], currency))
            lines.append(_statement_line("Total", entries, currency))
            refunds = [entry for entry in entries if entry.kind == LedgerEntryKind.REFUND]
            if refunds:
                given_back = -sum(entry.gross for entry in refunds)
                lines.append(f"  Refunded: {major_units(given_back, currency)} {code} "
                             f"({len(refunds)} refund{'' if len(refunds) == 1 else 's'}, netted in "
                             "the totals above)")
            lines.append(f"  Platform fee rate: {', '.join(rate + '%' for rate in rates)}")
            net = sum(entry.partner_net for entry in entries)
            lines.append(f"  Net payable: {major_units(net, currency)} {code}")
        else:
            lines.append("  No paid invoices this month.")
        paid = payouts.get(currency, {}).get(month) or PayoutMonth()
        lines.append(f"  Paid out to your bank: {major_units(paid.paid, currency)} {code} "
                     "(payouts arriving this month)")
        if paid.in_flight:
            lines.append(f"  Payouts in flight: {major_units(paid.in_flight, currency)} {code}")
        if paid.failed:
            lines.append(f"  Payouts failed or canceled: {major_units(paid.failed, currency)} "
                         f"{code} (returned to your balance)")
        lines.append("")
    if report is not None:
        rate = report.churn_rate(month)
        lines.append(f"Installs: {report.installs[month]} new, {report.ended[month]} ended; "
                     f"{report.active_at_start[month]} active at the month's start")
        lines.append("Churn rate: " + ("n/a (no installs at the month's start)" if rate is None
                                       else f"{rate}% ({report.ended_from_start[month]} of "
                                            f"{report.active_at_start[month]} ended)"))
    lines.append(f"Payout account: {payout_line(account)}")
    lines.append("")
    return "\n".join(lines)


def payout_line(account: PayoutAccount | None) -> str:
    """Where the partner's net goes, for statements."""
    if account is None:
        return ("none yet; the net payable is owed to you and held until you set up "
                "payouts in the partner portal.")
    if account.status == PayoutAccountStatus.ENABLED:
        return (f"{account.provider_account_id} (enabled); the net payable is owed to you "
                "via this connected account.")
    return (f"{account.provider_account_id} ({account.status}); finish the setup in the "
            "partner portal's Payouts to be paid the net payable.")


def _statement_line(label: str, entries, currency: str) -> str:
    gross = sum(entry.gross for entry in entries)
    fee = sum(entry.platform_fee for entry in entries)
    net = sum(entry.partner_net for entry in entries)
    invoices = sum(1 for entry in entries if is_sale(entry))
    return (f"  {label[:40]:<40} {invoices:>8} {major_units(gross, currency):>14} "
            f"{major_units(fee, currency):>14} {major_units(net, currency):>14}")


def _month_option(ctx, param, value):
    try:
        return parse_month(value)
    except BadMonth as error:
        raise click.BadParameter(str(error)) from None


def register_revenue(app: Flask) -> None:
    """Register the revenue pages and ``flask billing statements``."""
    from billing.usage_cli import billing_group

    app.register_blueprint(bp)
    group = billing_group(app)

    @group.command("statements", help="Write each partner's statement for a month.")
    @click.option("--month", required=True, callback=_month_option, help="The month, YYYY-MM.")
    @click.option("--partner", "partner_slug", default=None, help="Only this partner (its slug).")
    @click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Write one file per partner into this folder instead of printing.")
    def statements_command(month: date, partner_slug: str | None, output: Path | None):
        span = MonthSpan(month, month)
        key = span.keys[0]
        with Session(current_app.extensions["bazaar.engine"]) as session:
            partner_id = None
            if partner_slug:
                partner = session.exec(select(Partner).where(Partner.slug == partner_slug)).first()
                if partner is None:
                    raise click.BadParameter(f"No partner has the slug {partner_slug!r}.",
                                             param_hint="--partner")
                partner_id = partner.id
            rows = _entries_with_invoices(session, span, partner_id)
            by_partner = defaultdict(list)
            for row in rows:
                by_partner[row[0].partner_id].append(row)
            # A partner paid out this month gets a statement too, even with no sales in it.
            wanted = set(by_partner) | {paid for paid in partners_with_payouts(session, span)
                                        if partner_id is None or paid == partner_id}
            partners = {p.id: p for p in session.exec(
                select(Partner).where(Partner.id.in_(list(wanted))))} if wanted else {}
            provider = get_provider(current_app)
            extras = {partner_id: (revenue_report(session, partner_id, span=span),
                                   payout_account(session, provider, partner_id))
                      for partner_id in partners}
        if not partners:
            click.echo(f"No ledger entries and no payouts in {key}: no statements.")
            return
        if output is not None:
            try:
                output.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise click.BadParameter(f"Cannot make the folder {output}: "
                                         f"{error.strerror or error}.",
                                         param_hint="--output") from None
        for number, partner in enumerate(sorted(partners.values(), key=lambda p: p.slug), 1):
            text = statement_text(partner, key, by_partner[partner.id], *extras[partner.id])
            if output is None:
                click.echo(text)
            else:
                path = output / f"statement-{partner.slug}-{key}.txt"
                try:
                    path.write_text(text, encoding="utf-8")
                except OSError as error:
                    raise click.ClickException(f"Cannot write {path}: "
                                               f"{error.strerror or error}.") from None
            where = f" -> {output / f'statement-{partner.slug}-{key}.txt'}" if output else ""
            click.echo(f"[{number}/{len(partners)}] {partner.slug}: "
                       f"{len(by_partner[partner.id])} entries{where}", err=True)
