"""Reads behind the audit log page: one filtered page of events, and the
filter's choices (who acted, on which kinds of object, which actions).

Filtering by an object's name finds the events about the matching listings and
collections, and about the releases, reviews and badges of those listings
(their events name the listing), with subqueries, portable to SQLite and
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, false, or_
from sqlmodel import Session, col, func, select

from accounts.models import User
from listings.models import AuditEvent, Badge, Collection, Listing, Release, Review
from listings.queries import Page

# The kinds of object an event can be about, as the filter names them.
OBJECT_TYPES = {
    "listing": "Apps",
    "release": "Releases",
    "review": "Reviews",
    "badge": "Badges",
    "collection": "Collections",
    "prunerun": "Prune previews",
    "user": "Users",
    "synonymrule": "Search synonyms",
}
# Objects whose events a name search finds through their listing.
_OF_A_LISTING = {"release": Release, "review": Review, "badge": Badge}


@dataclass(frozen=True)
class AuditFilter:
    """What the editor asked to see; every part optional."""

    actor_id: int | None = None       # an account
    system: bool = False              # the jobs (no account)
    action: str = ""
    object_type: str = ""
    name: str = ""                    # part of an app's or a collection's name or slug
    listing_id: int | None = None     # everything about one app
    since: date | None = None         # from this day (UTC), inclusive
    until: date | None = None         # to this day (UTC), inclusive


def _matching_listings(text: str):
    pattern = f"%{text.lower()}%"
    return select(Listing.id).where(or_(func.lower(Listing.name).like(pattern),
                                        func.lower(Listing.slug).like(pattern)))


def _about_listings(listing_ids, object_type: str):
    """Events about these listings (a subquery of ids) or their releases, reviews, badges."""
    clauses = []
    if object_type in ("", "listing"):
        clauses.append(and_(AuditEvent.target_type == "listing",
                            col(AuditEvent.target_id).in_(listing_ids)))
    for kind, model in _OF_A_LISTING.items():
        if object_type in ("", kind):
            clauses.append(and_(AuditEvent.target_type == kind, col(AuditEvent.target_id).in_(
                select(model.id).where(col(model.listing_id).in_(listing_ids)))))
    return clauses


def _conditions(f: AuditFilter) -> list:
    conditions = []
    if f.system:
        conditions.append(col(AuditEvent.actor_id).is_(None))
    elif f.actor_id is not None:
        conditions.append(AuditEvent.actor_id == f.actor_id)
    if f.action:
        conditions.append(AuditEvent.action == f.action)
    if f.object_type:
        conditions.append(AuditEvent.target_type == f.object_type)
    if f.listing_id is not None:
        conditions.append(or_(false(), *_about_listings(select(Listing.id).where(
            Listing.id == f.listing_id), f.object_type)))
    if f.name:
        clauses = _about_listings(_matching_listings(f.name), f.object_type)
        if f.object_type in ("", "collection"):
            pattern = f"%{f.name.lower()}%"
            clauses.append(and_(AuditEvent.target_type == "collection",
                                col(AuditEvent.target_id).in_(select(Collection.id).where(or_(
                                    func.lower(Collection.name).like(pattern),
                                    func.lower(Collection.slug).like(pattern))))))
        conditions.append(or_(false(), *clauses))
    if f.since is not None:
        conditions.append(AuditEvent.created_at >= datetime.combine(f.since, time(0), tzinfo=UTC))
    if f.until is not None:
        # Before the next day's midnight: the "to" day is included whole.
        end = datetime.combine(f.until + timedelta(days=1), time(0), tzinfo=UTC)
        conditions.append(AuditEvent.created_at < end)
    return conditions


def filtered_audit_events(session: Session, f: AuditFilter, page: int, per_page: int) -> Page:
    """One page of the events ``f`` keeps, newest first, and how many it keeps."""
    conditions = _conditions(f)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    rows = session.exec(select(AuditEvent).where(*conditions)
                        .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(rows), total)


def audit_actors(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every account that appears in the log as the actor, by name."""
    acted = select(AuditEvent.actor_id).where(col(AuditEvent.actor_id).is_not(None)).distinct()
    return list(session.exec(select(User.id, User.display_name)
                             .where(col(User.id).in_(acted))
                             .order_by(User.display_name, User.id)).all())


def listing_name(session: Session, listing_id: int) -> str | None:
    """The name of the app the log is filtered to, or None when there is no such app."""
    return session.exec(select(Listing.name).where(Listing.id == listing_id)).first()
