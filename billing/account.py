"""The customer's billing page: a workspace's subscriptions, usage this period and
invoices, read from our own records (never the provider's JSON)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from billing.interfaces import usage_charge
from billing.ledger import refunded_per_invoice
from billing.models import BillingCustomer, Invoice, Subscription, SubscriptionStatus, UsageEvent
from billing.usage_sender import provider_name
from core.db import as_utc, utcnow
from listings.models import Listing, PricingModel
from listings.plans import ListingPlan, plans_by_id


def month_before(moment: datetime) -> datetime:
    """The same moment one calendar month earlier (the day clamped to the month's
    length): where a monthly period that ends at ``moment`` starts."""
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_start(subscription: Subscription, now: datetime) -> datetime:
    """Where the subscription's current (monthly) billing period started: a month
    before its period end when the provider told us one still ahead, else the start
    of the calendar month."""
    end = as_utc(subscription.current_period_end)
    if end is not None and end > now:
        return month_before(end)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SubscriptionLine:
    subscription: Subscription
    listing: Listing
    trial_end: datetime | None
    renews_at: datetime | None
    # The price plan's name, when one was chosen at install ("" before plans existed).
    plan_name: str = ""


@dataclass(frozen=True)
class UsageLine:
    """Usage of one usage-priced app since its period started, and what it comes to at
    the app's current price: the included units are free (``usage_charge``)."""

    listing: Listing
    since: datetime
    quantity: int
    included: int = 0
    billable: int = 0
    # Integer minor units of ``currency`` so far; invoiced at the period's end.
    charge: int = 0
    currency: str = "usd"
    unit_price: int = 0
    plan_name: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    invoice: Invoice
    listing: Listing
    date: datetime
    amount: int
    # Minor units given back on this invoice so far (refunds booked in the ledger).
    refunded: int = 0
    plan_name: str = ""


@dataclass(frozen=True)
class WorkspaceBilling:
    subscriptions: list[SubscriptionLine]
    usage: list[UsageLine]
    invoices: list[InvoiceLine]


def usage_line(listing: Listing, since: datetime, quantity: int,
               plan: ListingPlan | None = None) -> UsageLine:
    """``quantity`` units of ``listing`` this period at the price of the subscription's
    ``plan`` (the listing's own columns for one made before plans), with its included
    units taken off the way the provider's graduated price takes them off."""
    priced = plan or listing
    included = max(0, int(priced.included_units or 0))
    unit_price = int(priced.unit_price or 0)
    return UsageLine(listing=listing, since=since, quantity=quantity, included=included,
                     billable=max(0, quantity - included),
                     charge=usage_charge(quantity, unit_price, included),
                     currency=listing.currency.lower(), unit_price=unit_price,
                     plan_name=plan.name if plan else "")


def workspace_billing(session: Session, workspace_id: int, now: datetime | None = None,
                      invoice_limit: int = 50) -> WorkspaceBilling:
    """What the workspace pays for: its subscriptions (not the unstarted checkouts),
    usage this period per usage-priced install (the sum of its reported quantities
    since the period started, and what they come to after the included units), and
    its latest invoices, newest first, each with what was refunded on it."""
    now = now or utcnow()
    listings: dict[int, Listing] = {}

    def listing(listing_id: int) -> Listing:
        if listing_id not in listings:
            listings[listing_id] = session.get(Listing, listing_id)
        return listings[listing_id]

    subscriptions = session.exec(select(Subscription).where(
        Subscription.workspace_id == workspace_id,
        Subscription.status != SubscriptionStatus.INCOMPLETE)
        .order_by(col(Subscription.created_at).desc(), col(Subscription.id).desc())).all()
    invoices = session.exec(select(Invoice).where(Invoice.workspace_id == workspace_id)
                            .order_by(col(Invoice.created_at).desc(), col(Invoice.id).desc())
                            .limit(invoice_limit)).all()
    plans = _plans(session, [*subscriptions, *(session.get(Subscription, invoice.subscription_id)
                                               for invoice in invoices)])
    lines, usage = [], []
    for subscription in subscriptions:
        ongoing = subscription.status != SubscriptionStatus.CANCELED
        lines.append(SubscriptionLine(
            subscription=subscription, listing=listing(subscription.listing_id),
            trial_end=as_utc(subscription.trial_end) if ongoing else None,
            renews_at=(as_utc(subscription.current_period_end)
                       if ongoing and not subscription.cancel_at_period_end else None),
            plan_name=_name(plans.get(subscription.id))))
        if ongoing and subscription.install_id is not None \
                and listing(subscription.listing_id).pricing_model == PricingModel.USAGE:
            since = period_start(subscription, now)
            total = session.exec(select(func.coalesce(func.sum(UsageEvent.quantity), 0)).where(
                UsageEvent.install_id == subscription.install_id,
                col(UsageEvent.occurred_at) >= since)).one()
            usage.append(usage_line(listing(subscription.listing_id), since, int(total),
                                    plans.get(subscription.id)))
    refunded = refunded_per_invoice(session, [invoice.id for invoice in invoices])
    return WorkspaceBilling(
        subscriptions=lines, usage=usage,
        invoices=[InvoiceLine(invoice=invoice, listing=listing(invoice.listing_id),
                              date=as_utc(invoice.paid_at or invoice.created_at),
                              amount=(invoice.amount_paid if invoice.status == "paid"
                                      else invoice.amount_due),
                              refunded=refunded.get(invoice.id, 0),
                              plan_name=_name(plans.get(invoice.subscription_id)))
                  for invoice in invoices])


def _plans(session: Session, subscriptions) -> dict[int, ListingPlan]:
    """{subscription id: its price plan}, in one query for all of them; subscriptions
    made before plans have none."""
    subscriptions = [s for s in subscriptions if s is not None]
    found = plans_by_id(session, [s.plan_id for s in subscriptions])
    return {s.id: found[s.plan_id] for s in subscriptions if s.plan_id in found}


def _name(plan: ListingPlan | None) -> str:
    return plan.name if plan else ""


def portal_customer_id(session: Session, provider, workspace_id: int) -> str | None:
    """The workspace's customer id at the provider, if it ever started a checkout."""
    return session.exec(select(BillingCustomer.provider_customer_id).where(
        BillingCustomer.provider == provider_name(provider),
        BillingCustomer.workspace_id == workspace_id)).first()
