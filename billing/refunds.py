"""Refunding a paid invoice: the checks made before asking the provider, and the
request itself (``flask billing refund``).

The ledger books the refund only when the provider's ``credit_note.created`` webhook
says money went back (``billing.webhooks``, ``billing.ledger.book_refund``); the
local provider (test mode) sends that event at once, through the same handler.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from billing.ledger import refundable, refunded_so_far
from billing.models import Invoice
from billing.usage_sender import provider_name
from billing.webhooks import receive_webhook
from core.templating import ZERO_DECIMAL_CURRENCIES


class RefundError(ValueError):
    """A refund that can't be asked for as given; ``str(error)`` says why.
    ``bad_input`` marks malformed input (as opposed to a refused refund)."""

    def __init__(self, message: str, bad_input: bool = False):
        super().__init__(message)
        self.bad_input = bad_input


def minor_units(text: str, currency: str) -> int:
    """``"12.50"`` usd -> 1250: an exact decimal amount in major units as integer minor
    units. Raises ``RefundError`` for anything else (more decimals than the currency
    has, not a number, 0 or less)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise RefundError(f"The amount must be a number such as 12.50, got {text!r}.",
                          bad_input=True) from None
    places = 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2
    try:
        exact = value.is_finite() and value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # too many digits to be an amount at all (1e400)
        exact = False
    if not exact:
        raise RefundError(f"The amount must be a number with at most {places} decimals "
                          f"in {currency.upper()}, got {text!r}.", bad_input=True)
    if value <= 0:
        raise RefundError("The amount must be greater than 0.", bad_input=True)
    return int(value.scaleb(places))


def refund_plan(session: Session, provider, invoice_id: int,
                amount_text: str | None) -> tuple[Invoice, int]:
    """The invoice and the amount (minor units) to refund: ``amount_text`` in major
    units, or all that remains refundable when None. Raises ``RefundError`` for an
    unknown invoice (``bad_input``), one not paid through this provider, or an amount
    that is malformed, not positive or more than remains refundable."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise RefundError(f"No invoice has the id {invoice_id}.", bad_input=True)
    if invoice.provider != provider_name(provider):
        raise RefundError(f"Invoice {invoice_id} was paid through the {invoice.provider} "
                          "provider, not the one configured now.")
    if invoice.status != "paid":
        raise RefundError(f"Invoice {invoice_id} is not paid ({invoice.status}): there is "
                          "nothing to refund.")
    remaining = refundable(session, invoice)
    if remaining <= 0:
        raise RefundError(f"Invoice {invoice_id} has nothing left to refund.")
    amount = remaining if amount_text is None else minor_units(amount_text, invoice.currency)
    if amount > remaining:
        raise RefundError(f"Invoice {invoice_id} has only {_major(remaining, invoice.currency)} "
                          f"{invoice.currency.upper()} left to refund.")
    return invoice, amount


def _major(minor: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return str(minor)
    return str(Decimal(minor).scaleb(-2))


def refund_invoice(session: Session, provider, invoice_id: int,
                   amount_text: str | None) -> tuple[Invoice, int, str]:
    """Ask the provider to refund ``amount_text`` (major units; None: all that remains)
    of our invoice ``invoice_id``; returns (invoice, amount, credit note id).

    Checks first (``refund_plan``; ``RefundError``), commits nothing of its own, and
    leaves no transaction open while the provider is called. The idempotency key
    names the invoice, the refunds booked so far and the amount, so a retry after a
    timeout finds the same credit note instead of refunding twice. With the local
    provider (test mode) the credit note's signed ``credit_note.created`` goes through
    the webhook handler at once, and is committed. ``ProviderUnavailable`` and
    ``ProviderError`` propagate."""
    invoice, amount = refund_plan(session, provider, invoice_id, amount_text)
    already = refunded_so_far(session, invoice.id)[0]
    provider_invoice_id, currency = invoice.provider_invoice_id, invoice.currency
    session.commit()  # no open transaction while the (local) provider writes
    credit_note_id = provider.refund_invoice(
        invoice_id=provider_invoice_id, amount=amount,
        idempotency_key=f"refund:invoice:{invoice.id}:after:{already}:amount:{amount}")
    if getattr(provider, "test_mode", False):
        payload = json.dumps(provider.credit_note_event(credit_note_id, currency)).encode()
        receive_webhook(session, provider, payload, provider.sign_webhook(payload))
        session.commit()
    return invoice, amount, credit_note_id
