"""Sending stored usage events to the payment provider's meter events (the usage outbox).

``send_due_usage(app)`` is the one entry point: the background sender thread,
``flask billing usage-sync`` and the tests call it. For the due rows it

1. claims a batch with one conditional UPDATE (committed at once), so two
   senders, in one process or several, never send the same row together;
2. makes sure the listing has a meter and the install's workspace a customer
   at the provider (each made once, with a deterministic idempotency key, and
   remembered in ``ProviderObject`` / ``BillingCustomer``);
3. records the meter event with ``identifier = meter_event_identifier(event)``,
   so a resend (a sender that died after the provider answered) is dropped by
   the provider's own deduplication, never counted twice;
4. moves the row on: accepted -> ``sent``; ``ProviderUnavailable`` (or any
   unexpected fault) -> pending again after an exponential backoff, forever,
   so nothing is lost; ``ProviderError`` -> ``rejected`` with the provider's
   reason kept in ``last_error`` and logged (``flask billing usage-status``
   lists them).

The sender works in the app context's session (``get_session``), which the
local provider also writes its records through; the claim is committed before
any provider call, so no write lock is held across a call to Stripe.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from billing.models import BillingCustomer, ProviderObject, UsageEvent, UsageStatus
from billing.usage import PENDING_INFO_KEY, _aware, _insert
from listings.models import Listing
from storefront.db import get_session, utcnow
from storefront.models import Install, User, Workspace, WorkspaceMember, WorkspaceRole
from storefront.outbox_sender import OutboxSender, wake_after_commit

log = logging.getLogger(__name__)


def meter_event_identifier(usage) -> str:
    """The meter event's identifier: the same for every resend of one usage event.

    Stripe dedupes on it (for at least 24 hours) and allows at most 100
    characters (https://docs.stripe.com/api/billing/meter-event/create), while
    a partner's event id alone may be 100: ``<listing id>:<event id>`` when it
    fits, else the listing id with a SHA-256 of the event id.
    """
    plain = f"{usage.listing_id}:{usage.event_id}"
    if len(plain) <= 100:
        return plain
    return f"{usage.listing_id}:sha256:{hashlib.sha256(usage.event_id.encode()).hexdigest()}"

SENDER_KEY = "bazaar.billing.usage_sender"
SENDERS = ("thread", "off")
# The wait after the n-th failed attempt is 10 s x 2^(n-1), spread by +/-10 %,
# at most an hour: an outage of a day costs ~24 tries per event, and events
# are sent within the hour after the provider is back.
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
BACKOFF_JITTER = 0.10
# Longer than a batch of provider calls takes; a claim older than this
# belongs to a sender that died, and the rows are sent again.
CLAIM_LEASE = timedelta(minutes=5)
DEFAULT_BATCH = 100
ERROR_LIMIT = 2000


@dataclass
class UsageSendReport:
    """What one ``send_due_usage`` run did."""

    sent: int = 0
    retrying: int = 0
    rejected: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.rejected

    def add(self, other: UsageSendReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.rejected += other.rejected

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, rejected {self.rejected}"


def backoff_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (see ``BACKOFF_*``)."""
    base = BACKOFF_BASE.total_seconds() * 2 ** min(max(attempts, 1) - 1, 20)
    spread = (rng or random).uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
    return timedelta(seconds=min(base * spread, BACKOFF_CAP.total_seconds()))


def provider_of(app: Flask):
    """The app's payment provider (built once by ``get_provider`` and kept in extensions)."""
    from billing.providers import get_provider

    return get_provider(app)


def provider_name(provider) -> str:
    """"stripe" or "local": records made at one provider are never used with another."""
    return getattr(provider, "name", None) or type(provider).__name__.lower()


# --- the provider's objects we need ------------------------------------------------------


def _remember(session: Session, model, values: dict, conflict: list[str]) -> None:
    """Insert a row unless an equal one exists (another sender was first), and commit."""
    session.execute(_insert(session)(model).values(**values)
                    .on_conflict_do_nothing(index_elements=conflict))
    session.commit()


def meter_event_name(session: Session, provider, listing: Listing) -> str:
    """The event name of ``listing``'s meter, creating the meter once. Commits."""
    name, local_key = provider_name(provider), f"listing:{listing.id}"
    query = select(ProviderObject).where(ProviderObject.provider == name,
                                         ProviderObject.kind == "meter",
                                         ProviderObject.local_key == local_key)
    known = session.exec(query).first()
    if known is None:
        event_name = f"bazaar_listing_{listing.id}"
        meter_id = provider.create_meter(
            display_name=f"{listing.name} ({listing.unit_name or 'units'})"[:250],
            event_name=event_name, idempotency_key=f"meter:listing:{listing.id}")
        _remember(session, ProviderObject, dict(
            provider=name, kind="meter", local_key=local_key, provider_id=meter_id,
            data={"event_name": event_name}, created_at=utcnow()),
            ["provider", "kind", "local_key"])
        known = session.exec(query).one()
    return known.data["event_name"]


def _billing_email(session: Session, workspace_id: int) -> str | None:
    return session.exec(
        select(User.email).join(WorkspaceMember, WorkspaceMember.user_id == User.id)
        .where(WorkspaceMember.workspace_id == workspace_id,
               WorkspaceMember.role == WorkspaceRole.ADMIN)
        .order_by(col(WorkspaceMember.id))).first()


def billing_customer_id(session: Session, provider, workspace_id: int) -> str:
    """The workspace's customer id at the provider, creating the customer once. Commits."""
    name = provider_name(provider)
    query = select(BillingCustomer.provider_customer_id).where(
        BillingCustomer.provider == name, BillingCustomer.workspace_id == workspace_id)
    known = session.exec(query).first()
    if known is None:
        workspace = session.get(Workspace, workspace_id)
        customer_id = provider.create_customer(
            name=workspace.name, email=_billing_email(session, workspace_id) or "",
            metadata={"workspace_id": str(workspace_id)},
            idempotency_key=f"customer:workspace:{workspace_id}")
        _remember(session, BillingCustomer, dict(
            workspace_id=workspace_id, provider=name, provider_customer_id=customer_id,
            created_at=utcnow()), ["provider", "workspace_id"])
        known = session.exec(query).one()
    return known


# --- claiming and sending ------------------------------------------------------------------


def _due(now: datetime):
    return (
        UsageEvent.status == UsageStatus.PENDING,
        col(UsageEvent.next_attempt_at) <= now,
        or_(col(UsageEvent.locked_until).is_(None), col(UsageEvent.locked_until) < now),
    )


def claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due events for this sender (committed); their ids.

    The UPDATE repeats the "due and unclaimed" test, so when two senders pick
    the same rows each row goes to one of them only (PostgreSQL re-checks the
    WHERE after the other's commit; SQLite runs writes one at a time).
    """
    candidates = session.exec(select(UsageEvent.id).where(*_due(now))
                              .order_by(col(UsageEvent.next_attempt_at), col(UsageEvent.id))
                              .limit(limit)).all()
    if not candidates:
        return []
    claimed = session.execute(
        update(UsageEvent).where(col(UsageEvent.id).in_(candidates), *_due(now))
        .values(locked_until=now + CLAIM_LEASE).returning(UsageEvent.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    session.commit()
    return sorted(claimed)


def _send_one(session: Session, provider, usage: UsageEvent, now: datetime) -> str:
    """Send one claimed event and record the outcome; returns its new status. Commits."""
    from billing.interfaces import ProviderError, ProviderUnavailable

    listing = session.get(Listing, usage.listing_id)
    install = session.get(Install, usage.install_id)
    try:
        event_name = meter_event_name(session, provider, listing)
        customer_id = billing_customer_id(session, provider, install.workspace_id)
        provider.record_meter_event(event_name=event_name, customer_id=customer_id,
                                    value=usage.quantity,
                                    identifier=meter_event_identifier(usage),
                                    timestamp=_aware(usage.occurred_at))
    except ProviderError as error:
        session.rollback()
        usage.status, usage.next_attempt_at = UsageStatus.REJECTED, None
        usage.last_error = f"refused by the provider: {error}"[:ERROR_LIMIT]
        log.error("Usage event %s of listing %s refused by the provider: %s",
                  usage.event_id, usage.listing_id, error)
    except Exception as error:  # ProviderUnavailable, or a fault of ours: try again later
        session.rollback()
        if not isinstance(error, ProviderUnavailable):
            log.exception("Sending usage event %s failed", usage.event_id)
        usage.next_attempt_at = now + backoff_delay(usage.attempts + 1)
        usage.last_error = (f"provider unavailable: {error.detail or error}"
                            if isinstance(error, ProviderUnavailable)
                            else f"failed ({type(error).__name__}); will retry")[:ERROR_LIMIT]
    else:
        usage.status, usage.sent_at = UsageStatus.SENT, now
        usage.next_attempt_at, usage.last_error = None, None
    usage.attempts += 1
    usage.locked_until = None
    session.add(usage)
    session.commit()
    return usage.status


def send_due_usage(app: Flask, now: datetime | None = None,
                   limit: int = DEFAULT_BATCH) -> UsageSendReport:
    """Send up to ``limit`` usage events that are due at ``now`` (default: the clock).

    Safe to run in several threads and processes at once. Passing ``now``
    (tests) fixes the clock for claims, backoff and timestamps.
    """
    provider = provider_of(app)
    report = UsageSendReport()
    # The app context's session: the local provider writes its records through
    # it, so they commit together with the event's new status.
    with app.app_context():
        session = get_session()
        for usage_id in claim_due(session, now or utcnow(), limit):
            usage = session.get(UsageEvent, usage_id, populate_existing=True)
            status = _send_one(session, provider, usage, now or utcnow())
            if status == UsageStatus.SENT:
                report.sent += 1
            elif status == UsageStatus.REJECTED:
                report.rejected += 1
            else:
                report.retrying += 1
    return report


# --- the background sender ------------------------------------------------------------------


def usage_sender_of(app: Flask) -> OutboxSender | None:
    """The app's usage sender, or None when ``USAGE_SENDER`` is "off"."""
    return app.extensions.get(SENDER_KEY)


wake_after_commit(PENDING_INFO_KEY, SENDER_KEY)


def _send_round(app: Flask) -> int:
    return send_due_usage(app).attempted


def init_usage_sender(app: Flask) -> None:
    """Read ``USAGE_SENDER`` ("thread" by default, or "off") and set up the sender."""
    from storefront.config import ConfigError

    app.config.setdefault("USAGE_SENDER",
                          os.environ.get("USAGE_SENDER", "thread").strip().lower() or "thread")
    if app.config["USAGE_SENDER"] not in SENDERS:
        raise ConfigError(f"USAGE_SENDER must be one of {', '.join(SENDERS)}, "
                          f"got {app.config['USAGE_SENDER']!r}")
    if app.config["USAGE_SENDER"] != "thread":
        return
    sender = OutboxSender(app, _send_round, name="bazaar-usage-sender", batch=DEFAULT_BATCH)
    app.extensions[SENDER_KEY] = sender
    # Started by the first request too, so retries go out from every worker.
    app.before_request(sender.ensure_started)
