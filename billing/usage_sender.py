"""Sending stored usage events to the payment provider's meter events (the usage outbox).

``send_due_usage(app)`` is the one entry point: the background sender thread,
``flask billing usage-sync`` and the tests call it. For the due rows it

1. claims a batch with one conditional UPDATE (committed at once), so two
   senders, in one process or several, never send the same row together;
2. makes sure each listing has a meter and each install's workspace a customer
   at the provider (each made once, with a deterministic idempotency key, and
   remembered in ``ProviderObject`` / ``BillingCustomer``);
3. records the meter events in batches of the provider's ``meter_batch_size``
   (100 on Stripe's v2 meter event stream, 1 with v1 meter events),
   ``USAGE_SEND_CONCURRENCY`` batches at a time (``billing/usage_batches.py``),
   each event with ``identifier = meter_event_identifier(event)``, so a resend (a
   sender that died after the provider answered) is dropped by the provider's own
   deduplication, never counted twice;
4. moves the rows on, in one commit: accepted -> ``sent``;
   ``ProviderUnavailable`` (or any unexpected fault) -> pending again after an
   exponential backoff, forever, so nothing is lost; ``ProviderError`` ->
   ``rejected`` with the provider's reason kept in ``last_error`` and logged
   (``flask billing usage-status`` lists them).

A circuit breaker (``SendBreaker``, one per process) stops a round after
``BREAKER_THRESHOLD`` unavailable answers in a row and gives the rest of the
claimed rows back untried; the process then sends nothing for a rest, tries one
event, and rests longer while that fails. An outage so costs a few calls per
rest, not a timeout per event of the backlog.

The claim is committed before any provider call, and no transaction is open
while the calls run, so no lock is held across a call to Stripe.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from accounts.models import User, Workspace, WorkspaceMember, WorkspaceRole
from billing.interfaces import DEFAULT_CALL_BUDGET, MeterEvent
from billing.models import BillingCustomer, ProviderObject, UsageEvent, UsageStatus
from billing.providers import get_provider
from billing.usage import PENDING_INFO_KEY, _insert
from billing.usage_batches import Outcomes, file_outcome, send_batches, tell_breaker
from core.db import as_utc, get_session, utcnow
from core.observability import count_sends
from core.outbox import Backoff, OutboxSender, claim_rows, register_outbox, wake_after_commit
from installs.models import Install
from listings.models import Listing

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
BREAKER_KEY = "bazaar.billing.usage_breaker"
# The wait after the n-th failed attempt is 10 s x 2^(n-1), spread by +/-10 %,
# at most an hour: an outage of a day costs ~24 tries per event, and events
# are sent within the hour after the provider is back.
BACKOFF = Backoff(base=timedelta(seconds=10), cap=timedelta(hours=1))
backoff_delay = BACKOFF.delay
# A claim older than this belongs to a sender that died, and the rows are sent
# again; a round starts no call it could not finish within it.
CLAIM_LEASE = timedelta(minutes=5)
DEFAULT_BATCH = 100
ERROR_LIMIT = 2000
# Provider calls (batches of meter events) in flight at once (USAGE_SEND_CONCURRENCY).
# One at a time, a round trip to Stripe caps sending far below what the usage API
# accepts; Stripe takes up to 1,000 v1 meter events a second in live mode
# (https://docs.stripe.com/api/billing/meter-event/create) and 10,000 stream
# requests of up to 100 events (https://docs.stripe.com/api/v2/billing-meter-stream).
DEFAULT_SEND_CONCURRENCY = 8
MAX_SEND_CONCURRENCY = 32
# The circuit breaker: this many unavailable answers in a row mean the provider is
# down (one is a blip); the process then rests, 30 s (the sender's poll interval)
# doubled after each failed probe, at most 10 minutes: a day-long outage costs each
# process ~150 probe calls instead of a timeout per event per backoff step.
BREAKER_THRESHOLD = 5
BREAKER_REST = timedelta(seconds=30)
BREAKER_MAX_REST = timedelta(minutes=10)


@dataclass
class UsageSendReport:
    """What one ``send_due_usage`` run did."""

    sent: int = 0
    retrying: int = 0
    rejected: int = 0
    # Set when the circuit breaker is open: nothing is sent before this moment.
    resting_until: datetime | None = None

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.rejected

    def add(self, other: UsageSendReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.rejected += other.rejected
        self.resting_until = other.resting_until or self.resting_until

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, rejected {self.rejected}"


def provider_of(app: Flask):
    """The app's payment provider (built once by ``get_provider`` and kept in extensions)."""
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
    """Claim up to ``limit`` due events for this sender (committed); their ids."""
    return claim_rows(session, UsageEvent, _due(now),
                      (col(UsageEvent.next_attempt_at), col(UsageEvent.id)),
                      now=now, limit=limit, lease=CLAIM_LEASE)


class SendBreaker:
    """One process's circuit breaker over the provider, like the search fallback's
    cool-down (``search/services.py``) but growing while the outage lasts.

    ``BREAKER_THRESHOLD`` unavailable answers in a row open it for ``BREAKER_REST``;
    after a rest the next round sends one event (a probe): if the provider answers,
    sending resumes, else the rest doubles (at most ``BREAKER_MAX_REST``). Any answer,
    even a refusal, shows the provider is up. Shared by the threads of a process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures = 0  # unavailable answers in a row
        self._rests = 0  # rests in a row, with no answer in between
        self._resting_until: datetime | None = None

    def resting_until(self, now: datetime) -> datetime | None:
        """The end of the current rest, or None when sending is allowed at ``now``."""
        with self._lock:
            if self._resting_until is not None and now < self._resting_until:
                return self._resting_until
            return None

    @property
    def probing(self) -> bool:
        """True after a rest until the provider answers: send one event first."""
        return self._rests > 0

    def answered(self) -> None:
        with self._lock:
            self._failures, self._rests, self._resting_until = 0, 0, None

    def unavailable(self, now: datetime) -> bool:
        """Count a failure at ``now``; True when it opens the breaker."""
        with self._lock:
            if self._resting_until is not None and now < self._resting_until:
                return False  # a call that was under way when it opened
            self._failures += 1
            if self._failures < (1 if self._rests else BREAKER_THRESHOLD):
                return False
            self._rests += 1
            rest = min(BREAKER_REST * 2 ** min(self._rests - 1, 10), BREAKER_MAX_REST)
            self._resting_until, self._failures = now + rest, 0
        log.warning("Usage sender: the payment provider is unavailable; resting for %ds",
                    rest.total_seconds())
        return True


def usage_breaker_of(app: Flask) -> SendBreaker:
    """The process's circuit breaker for sending usage (made on first use)."""
    return app.extensions.setdefault(BREAKER_KEY, SendBreaker())


def _targets(session: Session, provider, breaker: SendBreaker, rows, now: datetime,
             outcomes: Outcomes) -> dict[int, tuple[str, str]]:
    """(meter event name, customer id) for each claimed row whose meter and customer
    exist or could be made; the other rows go to ``outcomes``. At most one provider
    call per listing and per workspace, and none once the breaker opens."""
    listings = {listing.id: listing for listing in session.exec(select(Listing).where(
        col(Listing.id).in_({row.listing_id for row in rows}))).all()}
    workspaces = dict(session.exec(select(Install.id, Install.workspace_id).where(
        col(Install.id).in_({row.install_id for row in rows}))).all())
    known: dict[tuple[str, int], str] = {}
    failed: dict[tuple[str, int], BaseException | None] = {}  # None: not tried (resting)

    def resolve(key: tuple[str, int], make) -> str | None:
        if key in known or key in failed:
            return known.get(key)
        if breaker.resting_until(now):
            failed[key] = None
            return None
        try:
            known[key] = make()
        except Exception as error:  # filed below for each of the rows concerned
            session.rollback()
            failed[key] = error
            tell_breaker(breaker, now, error)
        return known.get(key)

    targets = {}
    for row in rows:
        meter_key = ("meter", row.listing_id)
        customer_key = ("customer", workspaces.get(row.install_id))
        event_name = resolve(meter_key, lambda: meter_event_name(
            session, provider, listings[row.listing_id]))
        customer_id = event_name and resolve(customer_key, lambda: billing_customer_id(
            session, provider, workspaces.get(row.install_id)))
        if customer_id:
            targets[row.id] = (event_name, customer_id)
            continue
        error = failed[meter_key if event_name is None else customer_key]
        if error is None:
            outcomes.untried.append(row.id)
        else:
            file_outcome(outcomes, row.id, error)
    return targets


def _record(session: Session, rows, outcomes: Outcomes, now: datetime) -> None:
    """Move the claimed rows on, as ``outcomes`` says, in one transaction. Commits."""
    attempts = {row.id: row.attempts for row in rows}
    by_id = {row.id: row for row in rows}
    done = dict(locked_until=None, attempts=UsageEvent.attempts + 1)
    if outcomes.sent:
        session.execute(update(UsageEvent).where(col(UsageEvent.id).in_(outcomes.sent))
                        .values(status=UsageStatus.SENT, sent_at=now, next_attempt_at=None,
                                last_error=None, **done)
                        .execution_options(synchronize_session=False))
    for row_id, reason in outcomes.rejected.items():
        row = by_id[row_id]
        log.error("Usage event %s of listing %s refused by the provider: %s",
                  row.event_id, row.listing_id, reason)
        session.execute(update(UsageEvent).where(UsageEvent.id == row_id)
                        .values(status=UsageStatus.REJECTED, next_attempt_at=None,
                                last_error=reason[:ERROR_LIMIT], **done)
                        .execution_options(synchronize_session=False))
    for row_id, reason in outcomes.retry.items():
        session.execute(update(UsageEvent).where(UsageEvent.id == row_id)
                        .values(next_attempt_at=now + backoff_delay(attempts[row_id] + 1),
                                last_error=reason[:ERROR_LIMIT], **done)
                        .execution_options(synchronize_session=False))
    if outcomes.untried:
        # Given back as they were: due again once the breaker lets sending resume.
        session.execute(update(UsageEvent).where(col(UsageEvent.id).in_(outcomes.untried))
                        .values(locked_until=None)
                        .execution_options(synchronize_session=False))
    session.commit()


def _send_round(app: Flask, session: Session, provider, breaker: SendBreaker,
                now: datetime, limit: int) -> UsageSendReport:
    """Claim up to ``limit`` due events, send them, and record what became of them."""
    report = UsageSendReport()
    claimed = claim_due(session, now, limit)
    if not claimed:
        return report
    # Enough time left to finish the calls started before the claim runs out (a stream
    # request may first make a session and be sent again once with a new one).
    budget = float(app.config.get("STRIPE_CALL_BUDGET") or 0) or DEFAULT_CALL_BUDGET
    stop_at = time.monotonic() + CLAIM_LEASE.total_seconds() - 3 * budget
    rows = session.execute(
        select(UsageEvent.id, UsageEvent.listing_id, UsageEvent.install_id,
               UsageEvent.event_id, UsageEvent.quantity, UsageEvent.occurred_at,
               UsageEvent.attempts).where(col(UsageEvent.id).in_(claimed))
        .order_by(col(UsageEvent.id))).all()
    outcomes = Outcomes()
    targets = _targets(session, provider, breaker, rows, now, outcomes)
    session.commit()  # no transaction stays open during the provider calls
    jobs = [(row.id, MeterEvent(event_name=targets[row.id][0], customer_id=targets[row.id][1],
                                value=row.quantity, identifier=meter_event_identifier(row),
                                timestamp=as_utc(row.occurred_at)))
            for row in rows if row.id in targets]
    send_batches(provider, breaker, jobs, now, _concurrency(app), stop_at, outcomes)
    _record(session, rows, outcomes, now)
    report.sent, report.retrying = len(outcomes.sent), len(outcomes.retry)
    report.rejected = len(outcomes.rejected)
    return report


def _concurrency(app: Flask) -> int:
    return app.config.get("USAGE_SEND_CONCURRENCY") or DEFAULT_SEND_CONCURRENCY


def round_size(app: Flask, provider) -> int:
    """The events one round claims: enough to keep every batch slot busy
    (``meter_batch_size`` x ``USAGE_SEND_CONCURRENCY``, 800 on Stripe's stream), and
    at least ``DEFAULT_BATCH``."""
    return max(DEFAULT_BATCH, provider.meter_batch_size * _concurrency(app))


def send_due_usage(app: Flask, now: datetime | None = None,
                   limit: int | None = None) -> UsageSendReport:
    """Send up to ``limit`` usage events (default: ``round_size``) that are due at
    ``now`` (default: the clock).

    Safe to run in several threads and processes at once. Sends nothing while the
    process's circuit breaker rests (``report.resting_until`` says until when), and
    only one event first after a rest. Passing ``now`` (tests) fixes the clock for
    claims, backoff, the breaker and timestamps.
    """
    provider = provider_of(app)
    breaker = usage_breaker_of(app)
    now = now or utcnow()
    limit = limit or round_size(app, provider)
    report = UsageSendReport()
    with app.app_context():
        session = get_session()
        if not breaker.resting_until(now) and breaker.probing:
            report.add(_send_round(app, session, provider, breaker, now, 1))
        if not breaker.resting_until(now) and not breaker.probing:
            report.add(_send_round(app, session, provider, breaker, now, limit - report.attempted))
    report.resting_until = breaker.resting_until(now)
    return report


# --- the background sender ------------------------------------------------------------------


def usage_sender_of(app: Flask) -> OutboxSender | None:
    """The app's usage sender, or None when ``USAGE_SENDER`` is "off"."""
    return app.extensions.get(SENDER_KEY)


wake_after_commit(PENDING_INFO_KEY, SENDER_KEY)


def _background_round(app: Flask) -> int:
    report = send_due_usage(app)
    count_sends("usage", sent=report.sent, failed=report.retrying + report.rejected)
    return report.attempted


def init_usage_sender(app: Flask) -> None:
    """Set up the usage sender: ``USAGE_SENDER`` ("thread" or "off") and
    ``USAGE_SEND_CONCURRENCY`` are read and checked at start-up by core/settings.py."""
    usage_breaker_of(app)
    register_outbox(app, "usage", _background_round, batch=DEFAULT_BATCH,
                    queued_at=UsageEvent.received_at,
                    due=lambda now: [UsageEvent.status == UsageStatus.PENDING,
                                     col(UsageEvent.next_attempt_at) <= now],
                    given_up=lambda: [UsageEvent.status == UsageStatus.REJECTED])
    if app.config["USAGE_SENDER"] != "thread":
        return
    sender = OutboxSender(app, _background_round, name="bazaar-usage-sender",
                          batch=DEFAULT_BATCH)
    app.extensions[SENDER_KEY] = sender
    # Started by the first request too, so retries go out from every worker.
    app.before_request(sender.ensure_started)
