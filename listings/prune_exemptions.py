"""Editors' exemptions from the published prune rules.

An exemption says that one rule (or every rule, when ``rule`` is None) does
not apply to a listing until ``expires_at``. The nightly prune job reads the
active ones; these services create and end them, each with an audit event.
A listing holds at most one active exemption per rule: a new one replaces
(ends) the old, so the audit log shows both decisions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from accounts.models import User
from core.db import as_utc, utcnow
from listings.models import Listing
from listings.prune_models import ListingExemption, PruneRule
from listings.services import ListingError, audit

MAX_REASON_LENGTH = 1000
# Two years (one of them may be a leap year): long enough for a planned
# rewrite, short enough that someone looks at the listing again.
MAX_EXEMPTION = timedelta(days=731)


def is_active(exemption: ListingExemption, now: datetime) -> bool:
    """``ListingExemption.is_active`` that also accepts SQLite's naive datetimes."""
    return exemption.ended_at is None and as_utc(exemption.expires_at) > as_utc(now)


def active_exemptions(session: Session, listing_id: int, now: datetime | None = None
                      ) -> list[ListingExemption]:
    """The listing's exemptions in force at ``now``, the soonest to expire first."""
    now = now or utcnow()
    return list(session.exec(
        select(ListingExemption)
        .where(ListingExemption.listing_id == listing_id,
               col(ListingExemption.ended_at).is_(None),
               ListingExemption.expires_at > now)
        .order_by(ListingExemption.expires_at, ListingExemption.id)
    ).all())


def _rule_or_none(rule: str | None) -> str | None:
    """"" or None means every rule; anything else must be a published rule's key."""
    if rule is None or not str(rule).strip():
        return None
    try:
        return PruneRule(str(rule).strip()).value
    except ValueError:
        raise ListingError("Unknown rule: choose one of the published rules or “All rules”.",
                           field="rule") from None


def exempt_listing(session: Session, listing: Listing, editor: User, *, rule: str | None,
                   reason: str, expires_at: datetime, now: datetime | None = None
                   ) -> ListingExemption:
    """Exempt ``listing`` from ``rule`` (None: from every rule) until ``expires_at``.

    The reason is required (at most 1,000 characters); the expiry must be in
    the future and at most two years ahead. An active exemption for the same
    rule is ended and replaced. Raises ``ListingError`` naming the field.
    Writes the audit event "listing.exempted"; the caller commits.
    """
    now = as_utc(now or utcnow())
    rule = _rule_or_none(rule)
    reason = (reason or "").strip()
    if not reason:
        raise ListingError("Give a reason for the exemption; the audit log keeps it.",
                           field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise ListingError(f"Keep the reason to {MAX_REASON_LENGTH:,} characters.", field="reason")
    if expires_at is None:
        raise ListingError("Choose the day the exemption ends.", field="expires_at")
    expires_at = as_utc(expires_at)
    if expires_at <= now:
        raise ListingError("The exemption must end in the future.", field="expires_at")
    latest = now + MAX_EXEMPTION
    if expires_at > latest:
        raise ListingError(f"An exemption lasts at most two years: choose "
                           f"{latest.strftime('%-d %b %Y')} or earlier.", field="expires_at")

    replaced = [exemption for exemption in active_exemptions(session, listing.id, now)
                if exemption.rule == rule]
    for old in replaced:
        old.ended_at = now
        old.ended_by_id = editor.id
        session.add(old)
    exemption = ListingExemption(listing_id=listing.id, rule=rule, reason=reason,
                                 expires_at=expires_at, created_by_id=editor.id, created_at=now)
    session.add(exemption)
    session.flush()
    audit(session, editor, "listing.exempted", listing, slug=listing.slug,
          rule=rule or "all rules", reason=reason, expires_at=expires_at.isoformat(),
          exemption_id=exemption.id,
          replaced_exemption_ids=[old.id for old in replaced] or None)
    return exemption


def end_exemption(session: Session, exemption: ListingExemption, editor: User,
                  now: datetime | None = None) -> None:
    """End an active exemption now, so the rules apply again from the next run.

    Raises ``ListingError`` if it already ended or expired. Writes the audit
    event "listing.exemption_ended"; the caller commits.
    """
    now = as_utc(now or utcnow())
    if not is_active(exemption, now):
        raise ListingError("This exemption has already ended.")
    exemption.ended_at = now
    exemption.ended_by_id = editor.id
    session.add(exemption)
    listing = session.get(Listing, exemption.listing_id)
    audit(session, editor, "listing.exemption_ended", listing, slug=listing.slug,
          rule=exemption.rule or "all rules", exemption_id=exemption.id)
