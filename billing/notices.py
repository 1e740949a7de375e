"""Billing mail: a failed payout and a payout account that needs action (to the
partner's members), and an invoice paid or a payment failed (to the workspace's
billing contact: its admins, as a workspace has no billing contact of its own).
Each is queued in the transaction of the provider event that causes it, keyed by
the thing it is about, so a replayed or duplicated event mails once."""

from __future__ import annotations

from sqlmodel import Session

from billing.models import Invoice, Payout, PayoutAccount, Subscription
from core.templating import format_money
from listings.models import Listing
from listings.notices import mail_partner, mail_workspace_admins
from mail.compose import absolute_url, with_app_context


@with_app_context
def mail_payout_failed(session: Session, payout: Payout) -> None:
    """Tell the partner's members a payout to their bank failed, and why."""
    amount = format_money(payout.amount, payout.currency)
    mail_partner(session, payout.partner_id, kind="payout_failed",
                 key=f"payout_failed:{payout.id}",
                 subject=f"A payout of {amount} to your bank failed",
                 paragraphs=[f"A payout of {amount} to your bank account failed. The reason "
                             f"given: {payout.failure_message or 'none'}",
                             "The money went back to your account's balance. Update your bank "
                             "details and it is paid out again."],
                 action_text="See your payouts", action_url=absolute_url("billing.payouts"))


@with_app_context
def mail_payout_account_needs_action(session: Session, account: PayoutAccount,
                                     event_id: str) -> None:
    """Tell the partner's members their payout account is restricted: the provider
    needs more details before it pays out (once per provider event)."""
    mail_partner(session, account.partner_id, kind="payout_account_action",
                 key=f"payout_account_action:{account.id}:{event_id}",
                 subject="Your payout account needs action",
                 paragraphs=["The payment provider restricted your payout account: it needs "
                             "more details from you before it can pay out your earnings.",
                             "Open your payouts page and continue the account setup."],
                 action_text="Continue setup", action_url=absolute_url("billing.payouts"))


@with_app_context
def mail_invoice(session: Session, subscription: Subscription, invoice: Invoice, paid: bool,
                 event_id: str) -> None:
    """Tell the workspace's billing contact an invoice was paid (once per invoice) or a
    payment of it failed (once per failure the provider reports: it retries)."""
    listing = session.get(Listing, subscription.listing_id)
    money = format_money(invoice.amount_paid if paid else invoice.amount_due, invoice.currency)
    if paid:
        subject = f"Invoice paid: {listing.name}, {money}"
        paragraphs = [f"We received your payment of {money} for {listing.name}. Thank you.",
                      "Your invoices are on your billing page."]
        key = f"invoice_paid:{invoice.id}"
    else:
        subject = f"A payment for {listing.name} failed"
        paragraphs = [f"Your payment of {money} for {listing.name} failed.",
                      "Please update your payment method; we will try again. The app keeps "
                      "working meanwhile."]
        key = f"payment_failed:{invoice.id}:{event_id}"
    mail_workspace_admins(session, subscription.workspace_id,
                          kind="invoice_paid" if paid else "payment_failed", key=key,
                          subject=subject, paragraphs=paragraphs, action_text="Open billing",
                          action_url=absolute_url("billing.my_billing"))
