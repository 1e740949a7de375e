"""The partner's revenue page and its CSV exports (the ledger's entries, and the figures
per month). The documents are made in ``billing.exports``; ``flask billing statements``
is in ``billing.cli``.

The page is tables first (what works without JavaScript and what screen readers
read); ``static/js/charts.js`` draws each table as a Chart.js chart beside it.
A partner member sees only its own partner's figures; another partner's listing
answers 404, like everywhere else in the partner portal.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_login import current_user

from billing.exports import export_span, ledger_csv, major_units, summary_csv
from billing.payouts import payout_account, payout_balances
from billing.providers import get_provider
from billing.queries import ledger_rows_with_invoices, partner_listings
from billing.reports import MONTH_CHOICES, BadMonth, revenue_report
from billing.usage import MAX_ID
from core.db import get_session
from core.security import partner_required
from listings.models import Listing, Partner
from listings.services import listing_for_partner

bp = Blueprint("revenue", __name__, url_prefix="/partner")


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
    listings = partner_listings(session, current_user.partner_id)
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
    rows = ledger_rows_with_invoices(session, span, current_user.partner_id,
                                     listing.id if listing else None)
    keys = span.keys
    name = keys[0] if len(keys) == 1 else f"{keys[0]}_{keys[-1]}"
    return Response(ledger_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="revenue-{name}.csv"'})


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
