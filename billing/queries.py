"""Billing's reads for its pages and commands: small queries, testable without HTTP.
The revenue figures themselves are in ``billing.reports``."""

from __future__ import annotations

from sqlmodel import Session, col, select

from billing.models import (
    PAYING_STATUSES,
    Invoice,
    Subscription,
    SubscriptionStatus,
    UsageEvent,
    UsageStatus,
)
from billing.reports import MonthSpan, ledger_entries
from listings.models import Listing, Partner


def ledger_rows_with_invoices(session: Session, span: MonthSpan, partner_id: int | None,
                              listing_id: int | None = None) -> list[tuple]:
    """The ledger entries booked in ``span`` (a partner's, or everyone's when
    ``partner_id`` is None) as (LedgerEntry, Listing, Invoice) rows, in
    ``ledger_entries``' order; the invoices are read in one query."""
    rows = ledger_entries(session, span, partner_id, listing_id)
    invoice_ids = [entry.invoice_id for entry, _ in rows]
    invoices = {invoice.id: invoice for invoice in session.exec(
        select(Invoice).where(col(Invoice.id).in_(invoice_ids))).all()} if invoice_ids else {}
    return [(entry, listing, invoices[entry.invoice_id]) for entry, listing in rows]


def partner_listings(session: Session, partner_id: int) -> list[Listing]:
    """The partner's listings by name (the revenue page's filter)."""
    return list(session.exec(select(Listing).where(Listing.partner_id == partner_id)
                             .order_by(Listing.name)).all())


def partner_by_slug(session: Session, slug: str) -> Partner | None:
    """The partner with this slug, or None."""
    return session.exec(select(Partner).where(Partner.slug == slug)).first()


def partners_by_id(session: Session, partner_ids) -> dict[int, Partner]:
    """The partners with these ids, by id (one query)."""
    ids = list(partner_ids)
    if not ids:
        return {}
    return {partner.id: partner for partner in session.exec(
        select(Partner).where(col(Partner.id).in_(ids)))}


def workspace_subscription(session: Session, workspace_id: int,
                           subscription_id: int) -> Subscription | None:
    """The subscription if it belongs to the workspace, else None."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.workspace_id != workspace_id:
        return None
    return subscription


def has_payment_method(session: Session, workspace_id: int, listing_id: int | None = None) -> bool:
    """Whether the workspace can pay for an app (``listing_id``; any app when None)
    when its trial ends: the payment provider confirmed a subscription for it
    (trialing or active), which it does once a card was given at checkout."""
    query = select(Subscription.id).where(
        Subscription.workspace_id == workspace_id,
        col(Subscription.status).in_([SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE]))
    if listing_id is not None:
        query = query.where(Subscription.listing_id == listing_id)
    return session.exec(query).first() is not None


class Payments:
    """Billing's answer to installs' ``Payments`` port (installs.ports)."""

    def can_pay(self, session: Session, workspace_id: int, listing_id: int) -> bool:
        return has_payment_method(session, workspace_id, listing_id)


def local_checkout_subscription(session: Session, checkout_session_id: str) -> Subscription | None:
    """Our subscription that the local provider's checkout session started, or None."""
    return session.exec(select(Subscription).where(
        Subscription.provider == "local",
        Subscription.provider_checkout_session_id == checkout_session_id)).first()


def refused_usage_events(session: Session, limit: int) -> list[UsageEvent]:
    """The newest usage events the provider refused, newest first."""
    return list(session.exec(
        select(UsageEvent).where(UsageEvent.status == UsageStatus.REJECTED)
        .order_by(col(UsageEvent.id).desc()).limit(limit)).all())


def last_usage_retry_reason(session: Session) -> str | None:
    """Why the most recently postponed usage event waits to be sent again, if one does."""
    return session.exec(
        select(UsageEvent.last_error).where(UsageEvent.status == UsageStatus.PENDING,
                                            col(UsageEvent.last_error).is_not(None))
        .order_by(col(UsageEvent.next_attempt_at).desc())).first()


def install_charges(session: Session, install_id: int) -> tuple[Subscription | None, Invoice | None]:
    """What an uninstall would stop charging: the subscription still paying for
    the install (trialing, active or past due) and its latest invoice, or Nones
    (a free app, or a trial no card was given for)."""
    subscription = session.exec(select(Subscription).where(
        Subscription.install_id == install_id,
        col(Subscription.status).in_(PAYING_STATUSES))).first()
    if subscription is None:
        return None, None
    invoice = session.exec(select(Invoice).where(Invoice.subscription_id == subscription.id)
                           .order_by(col(Invoice.created_at).desc(), col(Invoice.id).desc())).first()
    return subscription, invoice
