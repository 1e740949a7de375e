"""What partners download from billing: the revenue page's CSV exports (ledger entries,
figures per month) and the monthly statements' text. Amounts are integer minor units
in the database and exact decimal strings in major units here."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

from billing.models import LedgerEntry, LedgerEntryKind, PayoutAccount, PayoutAccountStatus
from billing.reports import BadMonth, Money, MonthSpan, PayoutMonth, is_sale, parse_month
from core.db import utcnow
from core.templating import ZERO_DECIMAL_CURRENCIES
from listings.models import Partner

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
