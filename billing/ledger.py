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
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import case, text
from sqlmodel import Session, col, func, select

from billing.events import InvoiceObject
from billing.models import Invoice, LedgerEntry, LedgerEntryKind, ProviderObject, Subscription
from billing.revenue import fee_percent, split_refund, split_revenue
from core.db import utcnow
from core.locks import lock_key
from listings.models import Listing, Partner

log = logging.getLogger(__name__)


# Where a link on a page may point: the provider's hosted invoice page is https; a
# local run (plain HTTP, ``BAZAAR_ENV`` local or test) may use http too.
PLAIN_HTTP_ENVS = ("local", "test")
# What ``ProviderObject.kind`` marks a refund waiting for its invoice with.
WAITING_REFUND = "waiting_refund"


def _moment(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def invoice_link(url: str | None) -> str | None:
    """``url`` when it is fit for an ``<a href>`` on our pages: an absolute https URL
    with a host (http too in a local run) of at most 500 characters; None for anything
    else (``javascript:``, ``data:``, ``vbscript:``, relative or malformed), logged."""
    if not url:
        return None
    schemes = ("https", "http") if current_app.config.get("BAZAAR_ENV") in PLAIN_HTTP_ENVS \
        else ("https",)
    try:
        parts = urlsplit(url)
        fits = (parts.scheme in schemes and bool(parts.hostname) and len(url) <= 500
                and url.isprintable() and not any(char.isspace() for char in url))
    except ValueError:  # an unbalanced [ in the host, a port that is not a number
        fits = False
    if not fits:
        log.warning("An invoice link that is not an %s URL was dropped (scheme %r)",
                    " or ".join(schemes), url.partition(":")[0][:20])
        return None
    return url


def record_invoice(session: Session, provider_label: str, subscription: Subscription,
                   invoice: InvoiceObject | dict, status: str,
                   now: datetime | None = None) -> Invoice:
    """Create or update our copy of the provider's ``invoice`` (a
    ``billing.events.InvoiceObject``; a dict is validated into one first, raising
    ``pydantic.ValidationError`` when it doesn't fit) for ``subscription`` with
    ``status`` ("paid" or "open"). A paid invoice stays paid: a late ``payment_failed``
    does not reopen it. Its link is kept only when ``invoice_link`` accepts it.
    Does not commit."""
    if isinstance(invoice, dict):
        invoice = InvoiceObject.model_validate(invoice)
    now = now or utcnow()
    found = session.exec(select(Invoice).where(
        Invoice.provider == provider_label,
        Invoice.provider_invoice_id == invoice.id)).first()
    if found is None:
        found = Invoice(provider=provider_label, provider_invoice_id=invoice.id,
                        subscription_id=subscription.id, workspace_id=subscription.workspace_id,
                        listing_id=subscription.listing_id, currency="usd", amount_due=0,
                        amount_paid=0, status=status, created_at=now)
    elif found.status == "paid":
        return found
    found.currency = (invoice.currency or found.currency).lower()
    found.amount_due = invoice.amount_due
    found.amount_paid = invoice.amount_paid
    found.status = status
    start, end = invoice.period
    found.period_start, found.period_end = _moment(start), _moment(end)
    found.hosted_invoice_url = invoice_link(invoice.hosted_invoice_url)
    if status == "paid":
        found.paid_at = _moment(invoice.paid_at) or now
    session.add(found)
    session.flush()
    return found


def book_paid_invoice(session: Session, invoice: Invoice, now: datetime | None = None) -> LedgerEntry:
    """The invoice's ledger entry: gross = amount paid, the platform's fee by the
    listing's partner's tier (``BILLING_FEE_PERCENT_<TIER>``), the partner's net the
    rest. Made once per invoice; a second call returns the first. Refunds of the
    invoice that arrived before it was paid (``keep_refund_for_later``) are booked
    right after the charge. Does not commit."""
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
    book_waiting_refunds(session, invoice)
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
    # The charge row is locked (on PostgreSQL) until the caller commits: a second
    # refund of the same invoice waits here, then reads the refunds booked before it,
    # so two at once can never give back more than was paid.
    # https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
    charge = session.exec(select(LedgerEntry).where(
        LedgerEntry.invoice_id == invoice.id, LedgerEntry.kind == LedgerEntryKind.CHARGE)
        .with_for_update().execution_options(populate_existing=True)).first()
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


# --- refunds that arrive before their invoice is paid ---------------------------------------


def hold_invoice(session: Session, provider_label: str, provider_invoice_id: str) -> None:
    """Until the caller's transaction ends, be the only one booking for this provider
    invoice: a refund that finds no charge yet and the ``invoice.paid`` that books it
    must not pass each other unseen. On PostgreSQL a transaction-level advisory lock
    (the invoice row may not exist yet); SQLite lets one writer in at a time anyway.
    https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {
            "key": lock_key(f"billing-invoice:{provider_label}:{provider_invoice_id}")})


def keep_refund_for_later(session: Session, provider_label: str, provider_invoice_id: str,
                          provider_refund_id: str, amount: int, booked_at: datetime) -> None:
    """Remember a refund (a credit note) of an invoice we have not booked yet (it is
    unknown, or its payment has not been reported): ``book_paid_invoice`` books it
    when the invoice is paid. Kept once per ``provider_refund_id``; call
    ``hold_invoice`` first. Does not commit."""
    kept = session.exec(select(ProviderObject.id).where(
        ProviderObject.provider == provider_label, ProviderObject.kind == WAITING_REFUND,
        ProviderObject.local_key == provider_refund_id)).first()
    if kept is None:
        session.add(ProviderObject(provider=provider_label, kind=WAITING_REFUND,
                                   local_key=provider_refund_id, provider_id=provider_invoice_id,
                                   data={"amount": amount, "booked_at": booked_at.isoformat()}))
        session.flush()


def book_waiting_refunds(session: Session, invoice: Invoice) -> list[LedgerEntry]:
    """Book the refunds of ``invoice`` that arrived before it was paid, in the order
    they were made, and forget them. Does not commit."""
    hold_invoice(session, invoice.provider, invoice.provider_invoice_id)
    waiting = session.exec(select(ProviderObject).where(
        ProviderObject.provider == invoice.provider, ProviderObject.kind == WAITING_REFUND,
        ProviderObject.provider_id == invoice.provider_invoice_id)).all()
    booked = []
    for kept in sorted(waiting, key=lambda row: (row.data["booked_at"], row.local_key)):
        entry = book_refund(session, invoice, kept.local_key, int(kept.data["amount"]),
                            now=datetime.fromisoformat(kept.data["booked_at"]))
        if entry is not None:
            booked.append(entry)
        session.delete(kept)
    session.flush()
    return booked
