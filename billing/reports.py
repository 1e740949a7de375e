"""Partner revenue figures: installs, churn, trials, MRR, usage and the ledger's money.

Each figure is one set-based query over all the partner's listings (or one of
them), grouped by calendar month (UTC) in SQL. Months are ``"YYYY-MM"`` keys;
every series has a value (zero when nothing happened) for every month asked.
Money is integer minor units per currency; currencies are never added together.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from billing.models import (
    PAYING_STATUSES,
    LedgerEntry,
    LedgerEntryKind,
    Payout,
    PayoutStatus,
    Subscription,
    UsageEvent,
)
from core.db import utcnow
from installs.models import Install, InstallStatus, Trial, TrialStatus
from listings.models import Listing, PricingModel
from listings.plans import ListingPlan, PlanInterval

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
# The ranges the revenue page offers (months, newest last).
MONTH_CHOICES = (6, 12, 24)


class BadMonth(ValueError):
    """A month that is not ``YYYY-MM`` or not a real month."""


def parse_month(text: str | None) -> date:
    """``"2026-11"`` -> date(2026, 11, 1); anything else raises ``BadMonth``."""
    match = MONTH_RE.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise BadMonth(f"Give the month as YYYY-MM, for example 2026-11 (got {text!r}).")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class MonthSpan:
    """Whole calendar months from ``first`` to ``last`` (both included, first days)."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, count: int) -> MonthSpan:
        """``count`` months ending with the month of ``last``."""
        last = last.replace(day=1)
        return cls(_add_months(last, 1 - count), last)

    @property
    def keys(self) -> list[str]:
        keys, month = [], self.first
        while month <= self.last:
            keys.append(month.strftime("%Y-%m"))
            month = _add_months(month, 1)
        return keys

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the span (exclusive bound)."""
        after = _add_months(self.last, 1)
        return datetime(after.year, after.month, 1, tzinfo=UTC)


def _month_of(session: Session, column):
    """SQL for the UTC calendar month of a timestamp column, as ``YYYY-MM`` text.

    PostgreSQL keeps aware timestamps (shown in the session's time zone, so it is
    converted to UTC first); SQLite keeps naive UTC text.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _owned(statement, partner_id: int, listing_id: int | None, listing_column):
    statement = statement.join(Listing, Listing.id == listing_column).where(
        Listing.partner_id == partner_id)
    if listing_id is not None:
        statement = statement.where(Listing.id == listing_id)
    return statement


def _monthly_counts(session, span, partner_id, listing_id, timestamp, listing_column, *where):
    month = _month_of(session, timestamp)
    statement = _owned(select(month, func.count()), partner_id, listing_id, listing_column).where(
        timestamp >= span.start, timestamp < span.end, *where).group_by(month)
    counts = dict.fromkeys(span.keys, 0)
    for key, count in session.exec(statement).all():
        counts[key] = int(count)
    return counts


def installs_per_month(session: Session, partner_id: int, span: MonthSpan,
                       listing_id: int | None = None) -> dict[str, int]:
    """New installs (free, paid or on trial) of the partner's apps, by month installed."""
    return _monthly_counts(session, span, partner_id, listing_id, col(Install.created_at),
                           Install.listing_id)


def ended_per_month(session: Session, partner_id: int, span: MonthSpan,
                    listing_id: int | None = None) -> dict[str, int]:
    """Churn: installs of the partner's apps that ended, by the month they ended:
    uninstalled by their workspace, ended with their subscription (cancelled or
    unpaid: billing uninstalls it), or a trial that expired unpaid."""
    return _monthly_counts(session, span, partner_id, listing_id, col(Install.uninstalled_at),
                           Install.listing_id)


def ended_from_start_per_month(session: Session, partner_id: int, span: MonthSpan,
                               listing_id: int | None = None) -> dict[str, int]:
    """The installs counted by ``ended_per_month`` that were already there when their
    month started: the churn rate's numerator (an install made and ended in the same
    month is churn, but was never part of the month's starting base)."""
    return _monthly_counts(session, span, partner_id, listing_id, col(Install.uninstalled_at),
                           Install.listing_id,
                           _month_of(session, col(Install.created_at))
                           < _month_of(session, col(Install.uninstalled_at)))


def active_at(session: Session, partner_id: int, moment: datetime,
              listing_id: int | None = None) -> int:
    """Installs of the partner's apps in place at ``moment``: made before it and not
    ended by then."""
    statement = _owned(select(func.count()).select_from(Install), partner_id, listing_id,
                       Install.listing_id).where(
        col(Install.created_at) < moment,
        col(Install.uninstalled_at).is_(None) | (col(Install.uninstalled_at) >= moment))
    return int(session.exec(statement).one())


def active_at_month_starts(session: Session, partner_id: int, span: MonthSpan,
                           installs: dict[str, int], ended: dict[str, int],
                           listing_id: int | None = None) -> dict[str, int]:
    """``{month: installs in place when it started}``: one count at the span's start,
    then each month's start is the previous one's plus its installs less its ended ones."""
    active = {}
    count = active_at(session, partner_id, span.start, listing_id)
    for key in span.keys:
        active[key] = count
        count += installs[key] - ended[key]
    return active


def churn_rate(ended_from_start: int, active_at_start: int) -> Decimal | None:
    """Percent of the installs in place at a month's start that ended during it, to one
    decimal (half up); None when there were none to lose."""
    if active_at_start <= 0:
        return None
    return (Decimal(ended_from_start) * 100 / Decimal(active_at_start)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


def active_installs(session: Session, partner_id: int, listing_id: int | None = None) -> int:
    """Installs of the partner's apps active right now."""
    statement = _owned(select(func.count()).select_from(Install), partner_id, listing_id,
                       Install.listing_id).where(Install.status == InstallStatus.ACTIVE)
    return int(session.exec(statement).one())


def trials_per_month(session: Session, partner_id: int, span: MonthSpan,
                     listing_id: int | None = None) -> dict[str, dict[str, int]]:
    """``{month: {"started": n, "converted": m}}`` by the month each trial started
    (a cohort: ``converted`` counts those trials that have since become paid)."""
    month = _month_of(session, col(Trial.started_at))
    converted = func.sum(case((Trial.status == TrialStatus.CONVERTED, 1), else_=0))
    statement = _owned(select(month, func.count(), converted), partner_id, listing_id,
                       Trial.listing_id).where(
        col(Trial.started_at) >= span.start, col(Trial.started_at) < span.end).group_by(month)
    trials = {key: {"started": 0, "converted": 0} for key in span.keys}
    for key, started, converted_count in session.exec(statement).all():
        trials[key] = {"started": int(started), "converted": int(converted_count or 0)}
    return trials


def monthly_recurring_revenue(session: Session, partner_id: int,
                              listing_id: int | None = None) -> dict[str, int]:
    """MRR now, ``{currency: minor units}``: for each subscription to the partner's
    flat-priced listings that is active, trialing or past due, the monthly price of
    its plan (a yearly plan's price over twelve, to the nearest minor unit), or the
    listing's monthly price for a subscription made before plans.

    Usage-priced listings add nothing here: what they earn depends on the usage
    reported, which shows in the usage series and, once invoiced, in the ledger.
    The plan's current price is used (a price change applies to renewals).
    """
    plan_monthly = case((ListingPlan.interval == PlanInterval.YEAR, (ListingPlan.price + 6) // 12),
                        else_=ListingPlan.price)
    monthly = func.coalesce(plan_monthly, Listing.monthly_price)
    statement = _owned(select(Listing.currency, func.sum(monthly)).select_from(Subscription)
                       .outerjoin(ListingPlan, col(ListingPlan.id) == Subscription.plan_id),
                       partner_id, listing_id, Subscription.listing_id).where(
        col(Subscription.status).in_([str(status) for status in PAYING_STATUSES]),
        Listing.pricing_model == PricingModel.FLAT_MONTHLY).group_by(Listing.currency)
    return {currency.lower(): int(total) for currency, total in session.exec(statement).all()
            if total}


def usage_per_month(session: Session, partner_id: int, span: MonthSpan,
                    listing_id: int | None = None) -> dict[int, dict[str, int]]:
    """``{listing_id: {month: units}}``: the sum of reported usage quantities by the
    month the usage happened (every event stored, whether sent to the provider yet
    or not). Only listings with usage in the span appear."""
    month = _month_of(session, col(UsageEvent.occurred_at))
    statement = _owned(select(UsageEvent.listing_id, month, func.sum(UsageEvent.quantity)),
                       partner_id, listing_id, UsageEvent.listing_id).where(
        col(UsageEvent.occurred_at) >= span.start, col(UsageEvent.occurred_at) < span.end
    ).group_by(UsageEvent.listing_id, month)
    usage: dict[int, dict[str, int]] = {}
    for usage_listing_id, key, quantity in session.exec(statement).all():
        usage.setdefault(usage_listing_id, dict.fromkeys(span.keys, 0))[key] = int(quantity)
    return usage


@dataclass
class Money:
    """Gross = platform fee + partner net, in one currency's minor units.

    ``sales`` counts the paid invoices that charged something: an invoice of 0 (the
    one that starts a trial, or a usage plan's first period) is in the ledger, but it
    sold nothing.
    """

    gross: int = 0
    platform_fee: int = 0
    partner_net: int = 0
    sales: int = 0
    # Refunds, as a positive amount of gross given back: already netted in the gross,
    # fee and net above (refund entries are negative), shown on their own line.
    refunded: int = 0

    def add(self, gross: int, platform_fee: int, partner_net: int, sales: int = 1,
            refunded: int = 0) -> None:
        self.gross += int(gross)
        self.platform_fee += int(platform_fee)
        self.partner_net += int(partner_net)
        self.sales += int(sales)
        self.refunded += int(refunded)


def is_sale(entry) -> bool:
    """Whether a ledger entry charged anything (see ``Money.sales``): a refund never is."""
    return entry.kind == LedgerEntryKind.CHARGE and entry.gross != 0


def _sales_count():
    """SQL for the number of ledger entries that are sales (see ``Money.sales``)."""
    return func.sum(case(((LedgerEntry.kind == LedgerEntryKind.CHARGE)
                          & (LedgerEntry.gross != 0), 1), else_=0))


def _refunded_sum():
    """SQL for the gross given back by refund entries, as a positive amount."""
    return func.sum(case((LedgerEntry.kind == LedgerEntryKind.REFUND, -LedgerEntry.gross),
                         else_=0))


def money_per_month(session: Session, partner_id: int, span: MonthSpan,
                    listing_id: int | None = None) -> dict[str, dict[str, Money]]:
    """``{currency: {month: Money}}`` from the ledger, by the month each entry was
    booked, refunds netted (and their gross also in ``Money.refunded``). Only
    currencies with entries in the span appear."""
    month = _month_of(session, col(LedgerEntry.booked_at))
    statement = _owned(select(LedgerEntry.currency, month, func.sum(LedgerEntry.gross),
                              func.sum(LedgerEntry.platform_fee),
                              func.sum(LedgerEntry.partner_net), _sales_count(),
                              _refunded_sum()),
                       partner_id, listing_id, LedgerEntry.listing_id).where(
        LedgerEntry.partner_id == partner_id,
        col(LedgerEntry.booked_at) >= span.start, col(LedgerEntry.booked_at) < span.end,
    ).group_by(LedgerEntry.currency, month)
    money: dict[str, dict[str, Money]] = {}
    for currency, key, gross, fee, net, sales, refunded in session.exec(statement).all():
        months = money.setdefault(currency.lower(), {k: Money() for k in span.keys})
        months[key].add(gross, fee, net, sales or 0, refunded or 0)
    return dict(sorted(money.items()))


@dataclass
class PayoutMonth:
    """One currency's payouts to the partner's bank arriving in a month, in minor
    units: paid, still on their way (pending or in transit), and failed or canceled
    (that money went back to the connected account's balance)."""

    paid: int = 0
    in_flight: int = 0
    failed: int = 0


def payouts_per_month(session: Session, partner_id: int,
                      span: MonthSpan) -> dict[str, dict[str, PayoutMonth]]:
    """``{currency: {month: PayoutMonth}}`` of the partner's payouts, by the month of
    their arrival date (when the provider gave none, the month they were made). Only
    currencies with payouts in the span appear. Payouts are the partner's, never one
    listing's: a connected account pays out everything it holds at once."""
    arrival = func.coalesce(Payout.arrival_date, Payout.created_at)
    month = _month_of(session, arrival)
    statement = select(Payout.currency, month, Payout.status, func.sum(Payout.amount)).where(
        Payout.partner_id == partner_id, arrival >= span.start, arrival < span.end,
    ).group_by(Payout.currency, month, Payout.status)
    payouts: dict[str, dict[str, PayoutMonth]] = {}
    for currency, key, status, amount in session.exec(statement).all():
        months = payouts.setdefault(currency.lower(), {k: PayoutMonth() for k in span.keys})
        if status == PayoutStatus.PAID:
            months[key].paid += int(amount)
        elif status in (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT):
            months[key].in_flight += int(amount)
        else:
            months[key].failed += int(amount)
    return dict(sorted(payouts.items()))


def partners_with_payouts(session: Session, span: MonthSpan) -> list[int]:
    """The ids of the partners with a payout arriving in ``span`` (statements)."""
    arrival = func.coalesce(Payout.arrival_date, Payout.created_at)
    return list(session.exec(select(Payout.partner_id).where(
        arrival >= span.start, arrival < span.end).distinct()).all())


def ledger_entries(session: Session, span: MonthSpan, partner_id: int | None = None,
                   listing_id: int | None = None):
    """The ledger entries booked in ``span`` with their listing, oldest first: rows of
    (LedgerEntry, Listing). ``partner_id`` None means every partner (statements)."""
    statement = select(LedgerEntry, Listing).join(Listing, Listing.id == LedgerEntry.listing_id).where(
        col(LedgerEntry.booked_at) >= span.start, col(LedgerEntry.booked_at) < span.end)
    if partner_id is not None:
        statement = statement.where(LedgerEntry.partner_id == partner_id)
    if listing_id is not None:
        statement = statement.where(LedgerEntry.listing_id == listing_id)
    return session.exec(statement.order_by(col(LedgerEntry.booked_at), col(LedgerEntry.id))).all()


@dataclass(frozen=True)
class MonthRow:
    """A row of a month table: one month, or a run of months with nothing to show
    (``empty``), which the page shows as one row instead of a row of zeros each."""

    months: tuple[str, ...]
    empty: bool = False

    @property
    def label(self) -> str:
        return self.months[0] if len(self.months) == 1 else f"{self.months[0]} to {self.months[-1]}"


def month_rows(keys: list[str], is_empty: Callable[[str], bool]) -> list[MonthRow]:
    """``keys`` in order, each run of consecutive months ``is_empty`` says have nothing
    grouped into one empty ``MonthRow``."""
    rows: list[MonthRow] = []
    for key in keys:
        if is_empty(key) and rows and rows[-1].empty:
            rows[-1] = MonthRow(rows[-1].months + (key,), empty=True)
        else:
            rows.append(MonthRow((key,), empty=is_empty(key)))
    return rows


@dataclass
class RevenueReport:
    """Every figure of the revenue page for one partner (or one listing) and span."""

    span: MonthSpan
    active_installs: int
    mrr: dict[str, int]
    installs: dict[str, int]
    # Churn: installs ended per month, those of them in place at the month's start,
    # and the installs in place at each month's start (the churn rate's base).
    ended: dict[str, int]
    ended_from_start: dict[str, int]
    active_at_start: dict[str, int]
    trials: dict[str, dict[str, int]]
    usage: dict[int, dict[str, int]]
    money: dict[str, dict[str, Money]]
    listing_names: dict[int, str] = field(default_factory=dict)
    # Payouts to the partner's bank by arrival month, and the ledger's money of all the
    # partner's listings beside them (``money`` itself is one listing's when filtered):
    # payouts are the partner's, never one listing's.
    payouts: dict[str, dict[str, PayoutMonth]] = field(default_factory=dict)
    partner_money: dict[str, dict[str, Money]] = field(default_factory=dict)

    def payout_currencies(self) -> list[str]:
        """The currencies the payouts section shows: booked or paid out in the span."""
        return sorted(set(self.partner_money) | set(self.payouts))

    def payout_month(self, currency: str, month: str) -> PayoutMonth:
        """The payouts of ``currency`` arriving in ``month`` (zeros when none)."""
        return self.payouts.get(currency, {}).get(month) or PayoutMonth()

    def net_booked(self, currency: str, month: str) -> int:
        """The partner's net booked in ``month`` (all its listings), in minor units."""
        money = self.partner_money.get(currency, {}).get(month)
        return money.partner_net if money else 0

    def money_totals(self) -> dict[str, Money]:
        """``{currency: Money}`` over the whole span."""
        totals: dict[str, Money] = defaultdict(Money)
        for currency, months in self.money.items():
            for month in months.values():
                totals[currency].add(month.gross, month.platform_fee, month.partner_net,
                                     month.sales, month.refunded)
        return dict(totals)

    def installs_rows(self) -> list[MonthRow]:
        """The installs table's rows: months with no install, none ended and none active
        at their start are grouped."""
        return month_rows(self.span.keys, lambda month: not (
            self.installs[month] or self.ended[month] or self.active_at_start[month]))

    def trials_rows(self) -> list[MonthRow]:
        return month_rows(self.span.keys, lambda month: not (
            self.trials[month]["started"] or self.trials[month]["converted"]))

    def money_rows(self, currency: str) -> list[MonthRow]:
        months = self.money[currency]
        return month_rows(self.span.keys, lambda month: months[month] == Money())

    def payout_rows(self, currency: str) -> list[MonthRow]:
        def quiet(month: str) -> bool:
            paid = self.payout_month(currency, month)
            return not (self.net_booked(currency, month) or paid.paid or paid.in_flight
                        or paid.failed)
        return month_rows(self.span.keys, quiet)

    def usage_rows(self) -> list[MonthRow]:
        return month_rows(self.span.keys, lambda month: not any(
            by_month[month] for by_month in self.usage.values()))

    def churn_rate(self, month: str) -> Decimal | None:
        """The month's churn rate in percent (see ``churn_rate``)."""
        return churn_rate(self.ended_from_start[month], self.active_at_start[month])


def revenue_report(session: Session, partner_id: int, months: int = 12,
                   listing_id: int | None = None, today: date | None = None,
                   span: MonthSpan | None = None) -> RevenueReport:
    """The revenue page's figures: ``months`` calendar months ending this one, or the
    months of ``span``."""
    span = span or MonthSpan.ending(today or utcnow().date(), months)
    names = dict(session.exec(select(Listing.id, Listing.name)
                              .where(Listing.partner_id == partner_id)).all())
    installs = installs_per_month(session, partner_id, span, listing_id)
    ended = ended_per_month(session, partner_id, span, listing_id)
    money = money_per_month(session, partner_id, span, listing_id)
    return RevenueReport(
        span=span,
        active_installs=active_installs(session, partner_id, listing_id),
        mrr=monthly_recurring_revenue(session, partner_id, listing_id),
        installs=installs,
        ended=ended,
        ended_from_start=ended_from_start_per_month(session, partner_id, span, listing_id),
        active_at_start=active_at_month_starts(session, partner_id, span, installs, ended,
                                               listing_id),
        trials=trials_per_month(session, partner_id, span, listing_id),
        usage=usage_per_month(session, partner_id, span, listing_id),
        money=money,
        listing_names=names,
        payouts=payouts_per_month(session, partner_id, span),
        partner_money=(money if listing_id is None
                       else money_per_month(session, partner_id, span)),
    )
