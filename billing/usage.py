"""Usage metering: storing the events a partner's app reports (``record_usage``).

Each stored ``UsageEvent`` is also the outbox row that sends it on to the
payment provider's meter events (``billing.usage_sender``).

Limits follow Stripe's meter events, so that every event we accept can be
accepted there too: a timestamp at most 35 days old and at most 5 minutes in
the future (https://docs.stripe.com/api/billing/meter-event/create, the
``timestamp`` parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from billing.models import UsageEvent, UsageStatus
from core.db import as_utc, utcnow
from installs.models import Install
from listings.models import PricingModel

MAX_BATCH = 1000
MAX_EVENT_ID_LENGTH = 100
MAX_QUANTITY = 10**9
# The largest id the database holds (a 32-bit integer column): a larger install_id
# can't name an install, and must not reach the query.
MAX_ID = 2**31 - 1
# Stripe's window for a meter event's timestamp (see the module docstring).
MAX_AGE = timedelta(days=35)
MAX_AHEAD = timedelta(minutes=5)
# Set on the session when events were stored: the sender is woken after commit.
PENDING_INFO_KEY = "bazaar.billing.usage_pending"


class UsageBatchError(ValueError):
    """The batch as a whole cannot be taken (not a list, empty, too large, not metered).

    ``too_large`` tells the API to answer 413 instead of 400.
    """

    def __init__(self, message: str, *, too_large: bool = False, not_metered: bool = False):
        super().__init__(message)
        self.too_large = too_large
        self.not_metered = not_metered


@dataclass
class Rejection:
    """One event that was not stored, by its position in the batch."""

    index: int
    event_id: str | None
    reason: str


@dataclass
class UsageReceipt:
    """What ``record_usage`` did with a batch."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": [{"index": r.index, "event_id": r.event_id, "reason": r.reason}
                             for r in self.rejected]}


def _is_int(value) -> bool:
    # bool is an int in Python, but `true` is not a count in JSON.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value) -> bool:
    return _is_int(value) and 1 <= value <= MAX_ID


def _check_event_id(value) -> str | None:
    """The reason ``value`` is not a usable event id, or None."""
    if not isinstance(value, str) or not value.strip():
        return "event_id is required: a string of 1 to 100 characters."
    if len(value) > MAX_EVENT_ID_LENGTH:
        return f"event_id is longer than {MAX_EVENT_ID_LENGTH} characters."
    if not value.isprintable():
        return "event_id may contain only printable characters."
    return None


def _parse_timestamp(value, now: datetime) -> tuple[datetime | None, str | None]:
    if not isinstance(value, str):
        return None, "timestamp is required: an ISO 8601 date and time with a zone, " \
                     "such as 2025-01-31T12:00:00Z."
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, "timestamp is not an ISO 8601 date and time (such as 2025-01-31T12:00:00Z)."
    if moment.tzinfo is None or "T" not in value.upper():
        return None, "timestamp needs a time and a zone, such as 2025-01-31T12:00:00Z or +02:00."
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # the first or last hours Python can hold, shifted by the zone
        if moment.year == 1:
            return None, "timestamp is more than 35 days old; such usage can no longer be billed."
        return None, "timestamp is more than 5 minutes in the future; check your clock."
    if moment < now - MAX_AGE:
        return None, "timestamp is more than 35 days old; such usage can no longer be billed."
    if moment > now + MAX_AHEAD:
        return None, "timestamp is more than 5 minutes in the future; check your clock."
    return moment, None


def _install_reason(install: Install | None, install_id, moment: datetime) -> str | None:
    """Why usage at ``moment`` cannot be billed to ``install``, or None.

    The rule: the event must fall while the install was in place, from its
    creation to its end (uninstalled, or expired trial), with ``MAX_AHEAD`` of
    slack on both sides for clocks that disagree a little. So an app may still
    report usage from before an uninstall, within the 35 days.
    """
    if install is None:
        return f"install {install_id} was not found for this app."
    started = as_utc(install.created_at) - MAX_AHEAD
    ended = as_utc(install.uninstalled_at)
    if moment < started:
        return f"install {install_id} did not exist yet at that timestamp."
    if ended is not None and moment > ended + MAX_AHEAD:
        return f"install {install_id} had ended ({install.status}) before that timestamp."
    return None


def _insert(session: Session):
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def record_usage(session: Session, listing, events, now: datetime | None = None) -> UsageReceipt:
    """Store a batch of usage events for ``listing``; returns what was accepted.

    Each event is a dict with ``event_id``, ``install_id``, ``quantity`` and
    ``timestamp``, judged on its own: a bad one is listed in the receipt
    (index and reason) and the good ones are stored anyway. An ``event_id``
    the listing already sent (in an earlier batch, this one, or a concurrent
    request) counts as a duplicate and is stored once: the unique constraint
    on (listing, event_id) with ON CONFLICT DO NOTHING decides, in one INSERT
    for the whole batch. A duplicate keeps the first event's values.

    Raises ``UsageBatchError`` when the batch itself is unusable. Does not commit.
    """
    if not isinstance(events, list):
        raise UsageBatchError('Send a JSON body like {"events": [...]}: "events" must be a list.')
    if not events:
        raise UsageBatchError('"events" is empty: send between 1 and 1000 events.')
    if len(events) > MAX_BATCH:
        raise UsageBatchError(f"A batch may hold at most {MAX_BATCH} events; this one has "
                              f"{len(events)}. Split it into smaller batches.", too_large=True)
    if listing.pricing_model != PricingModel.USAGE:
        raise UsageBatchError("This app is not priced by usage, so it cannot report usage. "
                              "Change its plan to usage-based first.", not_metered=True)
    now = now or utcnow()
    receipt = UsageReceipt()
    wanted_ids = {e["install_id"] for e in events
                  if isinstance(e, dict) and _is_id(e.get("install_id"))}
    installs = {}
    if wanted_ids:
        # One query for the batch; another listing's installs are never loaded,
        # so they read as "not found" like ones that do not exist.
        installs = {i.id: i for i in session.exec(select(Install).where(
            Install.listing_id == listing.id, col(Install.id).in_(wanted_ids))).all()}

    rows: dict[str, dict] = {}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            receipt.rejected.append(Rejection(index, None, "each event must be a JSON object."))
            continue
        event_id = event.get("event_id")
        reason = _check_event_id(event_id)
        shown_id = event_id if isinstance(event_id, str) else None
        install_id, quantity = event.get("install_id"), event.get("quantity")
        if reason is None and not _is_int(install_id):
            reason = "install_id is required: the id of one of your app's installs."
        if reason is None and not (_is_int(quantity) and 1 <= quantity <= MAX_QUANTITY):
            reason = f"quantity must be a whole number from 1 to {MAX_QUANTITY:,}."
        moment = None
        if reason is None:
            moment, reason = _parse_timestamp(event.get("timestamp"), now)
        if reason is None:
            reason = _install_reason(installs.get(install_id), install_id, moment)
        if reason is not None:
            receipt.rejected.append(Rejection(index, shown_id, reason))
            continue
        if event_id in rows:
            receipt.duplicates += 1  # repeated within the batch: the first one counts
            continue
        rows[event_id] = dict(listing_id=listing.id, install_id=install_id, event_id=event_id,
                              quantity=quantity, occurred_at=moment, received_at=now,
                              status=UsageStatus.PENDING, attempts=0, next_attempt_at=now)
    if rows:
        insert = _insert(session)
        stored = session.execute(
            insert(UsageEvent).values(list(rows.values()))
            .on_conflict_do_nothing(index_elements=["listing_id", "event_id"])
            .returning(UsageEvent.id)
        ).all()
        receipt.accepted = len(stored)
        receipt.duplicates += len(rows) - len(stored)
        if stored:
            session.info[PENDING_INFO_KEY] = True
    return receipt


def usage_counts(session: Session, now: datetime | None = None) -> dict[str, int]:
    """How many usage events are pending, sent and rejected; of the pending ones, how
    many a sender has claimed and is sending ("being_sent") and how many wait for a
    sender now ("due": their time has come and no live claim holds them)."""
    now = now or utcnow()
    counts = dict(session.exec(select(UsageEvent.status, func.count())
                               .group_by(UsageEvent.status)).all())
    pending = UsageEvent.status == UsageStatus.PENDING
    claimed = col(UsageEvent.locked_until) >= now
    being_sent = session.exec(select(func.count()).select_from(UsageEvent)
                              .where(pending, claimed)).one()
    due = session.exec(select(func.count()).select_from(UsageEvent).where(
        pending, col(UsageEvent.next_attempt_at) <= now,
        or_(col(UsageEvent.locked_until).is_(None), col(UsageEvent.locked_until) < now))).one()
    return {"pending": counts.get(UsageStatus.PENDING, 0), "due": due,
            "being_sent": being_sent, "sent": counts.get(UsageStatus.SENT, 0),
            "rejected": counts.get(UsageStatus.REJECTED, 0)}
