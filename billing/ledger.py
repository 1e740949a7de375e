"""The revenue ledger: each invoice the provider reports, and where a paid
invoice's money went (gross = platform fee + partner net).

Called by the webhook handlers (``billing.webhooks``) inside the transaction
that records the event as processed, so an invoice is booked exactly once.
Amounts are the provider's integer minor units; the fee comes from
``billing.revenue`` (the partner's tier, rounded half up). A refund is a new negative
entry split like its charge (``book_refund``); entries are never updated.
https://docs.stripe.com/api/invoices/object
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import case
from sqlmodel import Session, col, func, select

from billing.models import Invoice, LedgerEntry, LedgerEntryKind, Subscription
from billing.revenue import fee_percent, split_refund, split_revenue
from listings.models import Listing, Partner
from storefront.db import utcnow

log = logging.getLogger(__name__)


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
    existing = charge_of(session, invoice.id)
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
    trial, is booked but sold nothing; refunds are netted in the sums, never counted).
    """
    rows = session.exec(
        select(LedgerEntry.currency, func.sum(LedgerEntry.gross),
               func.sum(LedgerEntry.platform_fee), func.sum(LedgerEntry.partner_net),
               func.sum(case(((LedgerEntry.kind == LedgerEntryKind.CHARGE)
                              & (LedgerEntry.gross != 0), 1), else_=0)))
        .where(LedgerEntry.partner_id == partner_id)
        .group_by(LedgerEntry.currency).order_by(LedgerEntry.currency)).all()
    return [{"currency": currency, "gross": int(gross), "platform_fee": int(fee),
             "partner_net": int(net), "invoices": int(count or 0)}
            for currency, gross, fee, net, count in rows]


def charge_of(session: Session, invoice_id: int) -> LedgerEntry | None:
    """The invoice's charge entry (one at most), or None when it was never booked."""
    return session.exec(select(LedgerEntry).where(
        LedgerEntry.invoice_id == invoice_id,
        LedgerEntry.kind == LedgerEntryKind.CHARGE)).first()


def refunded_so_far(session: Session, invoice_id: int) -> tuple[int, int]:
    """What refunds of the invoice booked so far gave back: (gross, platform fee), as
    positive minor units."""
    gross, fee = session.exec(select(
        func.coalesce(func.sum(LedgerEntry.gross), 0),
        func.coalesce(func.sum(LedgerEntry.platform_fee), 0)).where(
        LedgerEntry.invoice_id == invoice_id,
        LedgerEntry.kind == LedgerEntryKind.REFUND)).one()
    return -int(gross), -int(fee)


def refundable(session: Session, invoice: Invoice) -> int:
    """What may still be refunded on a paid invoice: its booked gross less the refunds
    booked so far (0 for an invoice with no charge entry)."""
    charge = charge_of(session, invoice.id)
    if charge is None:
        return 0
    return max(0, charge.gross - refunded_so_far(session, invoice.id)[0])


def refunded_per_invoice(session: Session, invoice_ids: list[int]) -> dict[int, int]:
    """``{invoice_id: minor units refunded}`` for the invoices with refunds."""
    if not invoice_ids:
        return {}
    rows = session.exec(select(LedgerEntry.invoice_id, func.sum(LedgerEntry.gross)).where(
        col(LedgerEntry.invoice_id).in_(invoice_ids),
        LedgerEntry.kind == LedgerEntryKind.REFUND).group_by(LedgerEntry.invoice_id)).all()
    return {invoice_id: -int(total) for invoice_id, total in rows if total}


def book_refund(session: Session, invoice: Invoice, provider_refund_id: str, amount: int,
                now: datetime | None = None) -> LedgerEntry | None:
    """Book money given back on a paid invoice as a new negative ``refund`` entry (the
    charge is never changed): gross -amount, the fee and the partner's net negative in
    the charge's own proportion (``split_refund``), in the invoice's currency.

    Once per ``provider_refund_id``: a second call returns the first entry. The part
    of ``amount`` beyond what remains refundable (the charge less earlier refunds) is
    refused and logged; nothing is booked when nothing remains, or when the invoice
    has no charge entry. Does not commit."""
    existing = session.exec(select(LedgerEntry).where(
        LedgerEntry.provider_refund_id == provider_refund_id)).first()
    if existing is not None:
        return existing
    charge = charge_of(session, invoice.id)
    if charge is None or amount <= 0:
        log.warning("Refund %s of invoice %s not booked: no paid charge or no amount",
                    provider_refund_id, invoice.id)
        return None
    refunded_gross, refunded_fee = refunded_so_far(session, invoice.id)
    remaining = charge.gross - refunded_gross
    if amount > remaining:
        log.warning("Refund %s of invoice %s asks for %s but only %s remains refundable: "
                    "the surplus is not booked", provider_refund_id, invoice.id, amount,
                    remaining)
        amount = remaining
    if amount <= 0:
        return None
    split = split_refund(charge.gross, charge.platform_fee, refunded_gross, refunded_fee,
                         amount, charge.currency, Decimal(charge.fee_percent))
    entry = LedgerEntry(invoice_id=invoice.id, kind=LedgerEntryKind.REFUND,
                        provider_refund_id=provider_refund_id, partner_id=charge.partner_id,
                        listing_id=charge.listing_id, workspace_id=charge.workspace_id,
                        currency=charge.currency, gross=split.gross,
                        platform_fee=split.platform_fee, partner_net=split.partner_net,
                        fee_percent=charge.fee_percent, partner_tier=charge.partner_tier,
                        booked_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry
