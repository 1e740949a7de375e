"""The revenue ledger: each invoice the provider reports, and where a paid
invoice's money went (gross = platform fee + partner net).

Called by the webhook handlers (``billing.webhooks``) inside the transaction
that records the event as processed, so an invoice is booked exactly once.
Amounts are the provider's integer minor units; the fee comes from
``billing.revenue`` (the partner's tier, rounded half up).
https://docs.stripe.com/api/invoices/object
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import case
from sqlmodel import Session, func, select

from billing.models import Invoice, LedgerEntry, Subscription
from billing.revenue import fee_percent, split_revenue
from listings.models import Listing, Partner
from storefront.db import utcnow


def _moment(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _amount(value) -> int:
    # The provider states money as integers of minor units; anything else is 0.
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _period(invoice: dict) -> tuple[datetime | None, datetime | None]:
    """The period the invoice pays for: its first line's period (the subscription's
    period; the invoice's own period_start/_end cover the previous one for
    subscription renewals), else the invoice's own fields."""
    lines = ((invoice.get("lines") or {}).get("data") or [])
    period = (lines[0].get("period") or {}) if lines else {}
    start = _moment(period.get("start")) or _moment(invoice.get("period_start"))
    end = _moment(period.get("end")) or _moment(invoice.get("period_end"))
    return start, end


def record_invoice(session: Session, provider_label: str, subscription: Subscription,
                   invoice: dict, status: str, now: datetime | None = None) -> Invoice:
    """Create or update our copy of the provider's ``invoice`` (a dict from a verified
    webhook) for ``subscription`` with ``status`` ("paid" or "open"). A paid invoice
    stays paid: a late ``payment_failed`` does not reopen it. Does not commit."""
    now = now or utcnow()
    found = session.exec(select(Invoice).where(
        Invoice.provider == provider_label,
        Invoice.provider_invoice_id == str(invoice["id"]))).first()
    if found is None:
        found = Invoice(provider=provider_label, provider_invoice_id=str(invoice["id"]),
                        subscription_id=subscription.id, workspace_id=subscription.workspace_id,
                        listing_id=subscription.listing_id, currency="usd", amount_due=0,
                        amount_paid=0, status=status, created_at=now)
    elif found.status == "paid":
        return found
    found.currency = str(invoice.get("currency") or found.currency).lower()[:3]
    found.amount_due = _amount(invoice.get("amount_due"))
    found.amount_paid = _amount(invoice.get("amount_paid"))
    found.status = status
    found.period_start, found.period_end = _period(invoice)
    url = invoice.get("hosted_invoice_url")
    found.hosted_invoice_url = url[:500] if isinstance(url, str) and url else None
    if status == "paid":
        transitions = invoice.get("status_transitions") or {}
        found.paid_at = _moment(transitions.get("paid_at")) or now
    session.add(found)
    session.flush()
    return found


def book_paid_invoice(session: Session, invoice: Invoice, now: datetime | None = None) -> LedgerEntry:
    """The invoice's ledger entry: gross = amount paid, the platform's fee by the
    listing's partner's tier (``BILLING_FEE_PERCENT_<TIER>``), the partner's net the
    rest. Made once per invoice; a second call returns the first. Does not commit."""
    existing = session.exec(select(LedgerEntry).where(
        LedgerEntry.invoice_id == invoice.id)).first()
    if existing is not None:
        return existing
    listing = session.get(Listing, invoice.listing_id)
    partner = session.get(Partner, listing.partner_id)
    percent = fee_percent(current_app.config, partner.tier)
    split = split_revenue(invoice.amount_paid, invoice.currency, percent)
    entry = LedgerEntry(invoice_id=invoice.id, partner_id=partner.id, listing_id=listing.id,
                        workspace_id=invoice.workspace_id, currency=invoice.currency,
                        gross=split.gross, platform_fee=split.platform_fee,
                        partner_net=split.partner_net, fee_percent=str(percent),
                        partner_tier=str(partner.tier), booked_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry


def partner_totals(session: Session, partner_id: int) -> list[dict]:
    """The partner's ledger summed per currency: ``[{currency, gross, platform_fee,
    partner_net, invoices}]``, ordered by currency. ``invoices`` counts the paid
    invoices that charged something (an invoice of 0, such as the one that starts a
    trial, is booked but sold nothing)."""
    rows = session.exec(
        select(LedgerEntry.currency, func.sum(LedgerEntry.gross),
               func.sum(LedgerEntry.platform_fee), func.sum(LedgerEntry.partner_net),
               func.sum(case((LedgerEntry.gross != 0, 1), else_=0)))
        .where(LedgerEntry.partner_id == partner_id)
        .group_by(LedgerEntry.currency).order_by(LedgerEntry.currency)).all()
    return [{"currency": currency, "gross": int(gross), "platform_fee": int(fee),
             "partner_net": int(net), "invoices": int(count or 0)}
            for currency, gross, fee, net, count in rows]
