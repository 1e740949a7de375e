"""Billing records: who a workspace is at the payment provider, what we created
there, and the usage partners report.

Money is integer minor units with an explicit currency (house rule 6).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.db import utcnow


class BillingCustomer(SQLModel, table=True):
    """A workspace's customer record at a payment provider."""

    __tablename__ = "billing_customers"
    __table_args__ = (UniqueConstraint("provider", "workspace_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    # "stripe" or "local": switching providers starts new records, never mixes ids.
    provider: str = Field(max_length=20)
    provider_customer_id: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class ProviderObject(SQLModel, table=True):
    """Something made at the payment provider for us (product, price, meter, ...).

    ``local_key`` names what it stands for on our side (``listing:12``), so a
    second request finds the first object instead of making another. The local
    provider also keeps its own objects here, with their fields in ``data``. A refund
    (credit note) whose invoice is not booked yet waits here too, as kind
    ``waiting_refund`` keyed by its id, until the invoice is paid
    (``billing.ledger.keep_refund_for_later``).
    """

    __tablename__ = "billing_provider_objects"
    __table_args__ = (UniqueConstraint("provider", "kind", "local_key"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    kind: str = Field(max_length=40)
    local_key: str = Field(max_length=255)
    provider_id: str = Field(max_length=255, index=True)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class UsageStatus(StrEnum):
    PENDING = "pending"
    # The provider accepted the meter event.
    SENT = "sent"
    # The provider refused it for good (kept, with the reason, for an operator).
    REJECTED = "rejected"


class UsageEvent(SQLModel, table=True):
    """One usage event a partner's app reported, and the outbox row that sends it on.

    Unique per listing and the partner's own ``event_id``, so a retried batch
    counts once.
    """

    __tablename__ = "usage_events"
    __table_args__ = (
        UniqueConstraint("listing_id", "event_id"),
        Index("ix_usage_events_status_next_attempt", "status", "next_attempt_at"),
        # Usage by listing and month (partner revenue, statements) at volume.
        Index("ix_usage_events_listing_occurred", "listing_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    install_id: int = Field(foreign_key="installs.id", index=True)
    event_id: str = Field(max_length=100)
    quantity: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime = Field(index=True)
    received_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=UsageStatus.PENDING, max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default_factory=utcnow)
    locked_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class SubscriptionStatus(StrEnum):
    """Our copy of the provider's subscription status (Stripe's names)."""

    # Checkout started, nothing paid or confirmed yet: no access.
    INCOMPLETE = "incomplete"
    TRIALING = "trialing"
    ACTIVE = "active"
    # A payment failed; the provider retries. Access stays until it is canceled.
    PAST_DUE = "past_due"
    CANCELED = "canceled"


# The statuses that grant access to the app.
PAYING_STATUSES = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE,
                   SubscriptionStatus.PAST_DUE)


class Subscription(SQLModel, table=True):
    """A workspace's subscription to a paid app at the payment provider.

    Made (``incomplete``) when an admin confirms the consent screen of a paid app;
    the install itself is made only when a verified webhook says the subscription is
    active or trialing. ``release_id`` is the release whose scopes the admin saw.
    """

    __tablename__ = "subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    release_id: int = Field(foreign_key="releases.id")
    started_by_id: int = Field(foreign_key="users.id")
    # Set once access is granted; unique: one subscription per install.
    install_id: int | None = Field(default=None, foreign_key="installs.id", unique=True)
    provider: str = Field(max_length=20)
    provider_customer_id: str | None = Field(default=None, max_length=255)
    provider_subscription_id: str | None = Field(default=None, max_length=255, unique=True)
    provider_checkout_session_id: str | None = Field(default=None, max_length=255, index=True)
    status: str = Field(default=SubscriptionStatus.INCOMPLETE, max_length=20, index=True)
    trial_end: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The price plan paid for (listings/plans.py); None: the listing's first plan.
    plan_id: int | None = Field(default=None, foreign_key="listing_plans.id")


class ProcessedWebhookEvent(SQLModel, table=True):
    """A provider webhook event we acted on: recorded in the same transaction as its
    effect, so a replayed event (same id) changes nothing."""

    __tablename__ = "billing_processed_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=100)
    processed_at: datetime = Field(default_factory=utcnow)


class PayoutAccountStatus(StrEnum):
    # Made at the provider; the partner has not finished onboarding.
    PENDING = "pending"
    # Charges and payouts enabled: destination charges can go to it.
    ENABLED = "enabled"
    # The provider disabled it (missing details, review): charges wait.
    RESTRICTED = "restricted"


class PayoutAccount(SQLModel, table=True):
    """A partner's connected account (Stripe Express) that receives its share."""

    __tablename__ = "billing_payout_accounts"
    __table_args__ = (UniqueConstraint("provider", "partner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    provider: str = Field(max_length=20)
    provider_account_id: str = Field(max_length=255, unique=True)
    status: str = Field(default=PayoutAccountStatus.PENDING, max_length=20)
    charges_enabled: bool = Field(default=False)
    payouts_enabled: bool = Field(default=False)
    details_submitted: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PayoutStatus(StrEnum):
    """A payout's status, with Stripe's names (``payout.status``)."""

    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


class Payout(SQLModel, table=True):
    """Money the provider sent from a partner's connected account to its bank,
    as the connected account's ``payout.*`` events reported it."""

    __tablename__ = "billing_payouts"
    __table_args__ = (UniqueConstraint("provider", "provider_payout_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    provider_payout_id: str = Field(max_length=255)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    payout_account_id: int = Field(foreign_key="billing_payout_accounts.id")
    currency: str = Field(max_length=3)
    # Integer minor units, as the provider states them.
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=PayoutStatus.PENDING, max_length=20)
    # When the money is expected in (or reached) the bank.
    arrival_date: datetime | None = Field(default=None, index=True)
    failure_message: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Invoice(SQLModel, table=True):
    """A paid (or failed) invoice of a subscription, as the provider reported it."""

    __tablename__ = "billing_invoices"
    __table_args__ = (UniqueConstraint("provider", "provider_invoice_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    provider_invoice_id: str = Field(max_length=255)
    subscription_id: int = Field(foreign_key="subscriptions.id", index=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    currency: str = Field(max_length=3)
    # Integer minor units, as the provider states them.
    amount_due: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_paid: int = Field(sa_column=Column(BigInteger, nullable=False))
    # "paid", "open" (payment failed, retrying) or "void"/"uncollectible".
    status: str = Field(max_length=20)
    period_start: datetime | None = None
    period_end: datetime | None = None
    hosted_invoice_url: str | None = Field(default=None, max_length=500)
    paid_at: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class LedgerEntryKind(StrEnum):
    CHARGE = "charge"   # a paid invoice: positive amounts
    REFUND = "refund"   # money given back on a paid invoice: negative amounts


class LedgerEntry(SQLModel, table=True):
    """Where an invoice's money went: gross = platform fee + partner net.

    A paid invoice books one ``charge`` entry (a partial unique index), in the
    same transaction as the ``invoice.paid`` event that reported it. Each
    refund of it books a ``refund`` entry with negative amounts, unique per
    provider refund. Entries are never updated, so sums over the ledger are
    what the partner earned.
    """

    __tablename__ = "billing_ledger_entries"
    __table_args__ = (
        Index("uq_billing_ledger_entries_charge_invoice", "invoice_id", unique=True,
              sqlite_where=text("kind = 'charge'"),
              postgresql_where=text("kind = 'charge'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="billing_invoices.id", index=True)
    kind: str = Field(default=LedgerEntryKind.CHARGE, max_length=20)
    # The provider's refund (re_...) a refund entry books; None for charges.
    provider_refund_id: str | None = Field(default=None, max_length=255, unique=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    currency: str = Field(max_length=3)
    gross: int = Field(sa_column=Column(BigInteger, nullable=False))
    platform_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    partner_net: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The fee rate applied (percent, as text: Decimal without floats), e.g. "15".
    fee_percent: str = Field(max_length=10)
    partner_tier: str = Field(max_length=20)
    booked_at: datetime = Field(default_factory=utcnow, index=True)
