"""The catalog's services: the listing lifecycle, releases, reviews, badges,
collections and the audit log.

Every function takes a ``Session`` and leaves committing to its caller (the
view or CLI command). Rule breaks raise ``ListingError`` with a message meant
for the person who asked, and the field it concerns when there is one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import bindparam, delete, or_, update
from sqlmodel import Session, col, func, select

from accounts.models import User
from core.db import utcnow
from listings.models import (
    AuditEvent,
    Badge,
    BadgeKind,
    Category,
    Collection,
    CollectionItem,
    DelistedBy,
    Listing,
    ListingCreate,
    ListingStatus,
    ListingUpdate,
    Partner,
    Release,
    ReleaseCreate,
    ReleaseStatus,
    Review,
    ReviewCreate,
    ReviewStatus,
)
from listings.notices import mail_release_reviewed, mail_review_reply, mail_submission_reviewed
from listings.ports import installs_port
from listings.review_checks import BURST_WINDOW, hold_reasons
from listings.text import first_free_slug, slugify

# Statuses a partner may still change freely; once published, edits are live.
EDITABLE_STATUSES = {ListingStatus.DRAFT, ListingStatus.PUBLISHED}
# Statuses under which customers can see a listing's page.
VISIBLE_STATUSES = {ListingStatus.PUBLISHED, ListingStatus.DELISTED}

# What public pages read on every render, built once (statements are immutable) with
# their values bound at each call: building one cost as much as running it.
_VISIBLE_BY_SLUG = select(Listing).where(Listing.slug == bindparam("slug"),
                                         col(Listing.status).in_(VISIBLE_STATUSES))
_STAR_COUNTS = (select(Review.rating, func.count())
                .where(Review.listing_id == bindparam("listing_id"),
                       Review.status == ReviewStatus.PUBLISHED)
                .group_by(Review.rating))
# Badge.is_active as a condition of a statement, ``now`` bound at each call.
BADGE_ACTIVE_NOW = (col(Badge.revoked_at).is_(None)
                    & or_(col(Badge.expires_at).is_(None), col(Badge.expires_at) > bindparam("now")))
_ACTIVE_BADGES = select(Badge).where(col(Badge.listing_id).in_(bindparam("ids", expanding=True)),
                                     BADGE_ACTIVE_NOW)


class ListingError(ValueError):
    """A catalog rule was broken; ``field`` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def validation_messages(error: ValidationError) -> dict[str, str]:
    """Pydantic errors as {field: message}, for forms and the importer.

    Model-level checks put the field name before a colon in their message.
    """
    messages: dict[str, str] = {}
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if not loc and ": " in message:
            loc, message = message.split(": ", 1)
        messages.setdefault(loc or "__all__", message)
    return messages


# --- audit -------------------------------------------------------------------


def audit(session: Session, actor: User | None, action: str, target, **detail) -> AuditEvent:
    """Record an editor or admin action in the audit log."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=getattr(target, "id", None),
        detail={key: value for key, value in detail.items() if value is not None},
    )
    session.add(event)
    return event


# --- partners and categories -------------------------------------------------


def get_or_create_partner(session: Session, name: str) -> Partner:
    name = name.strip()
    partner = session.exec(select(Partner).where(Partner.name == name)).first()
    if partner is None:
        partner = Partner(name=name, slug=unique_slug(session, Partner, name))
        session.add(partner)
        session.flush()
    return partner


def get_or_create_category(session: Session, name: str) -> Category:
    name = name.strip()
    category = session.exec(select(Category).where(Category.name == name)).first()
    if category is None:
        category = Category(name=name, slug=unique_slug(session, Category, name))
        session.add(category)
        session.flush()
    return category


def unique_slug(session: Session, model, text: str) -> str:
    return first_free_slug(slugify(text) or "item", lambda slug: session.exec(
        select(model.id).where(model.slug == slug)).first() is not None)


# --- listings ------------------------------------------------------------------


def listing_for_partner(session: Session, partner_id: int, listing_id: int) -> Listing | None:
    """A listing only when it belongs to this partner (else None, shown as 404)."""
    listing = session.get(Listing, listing_id)
    if listing is None or listing.partner_id != partner_id:
        return None
    return listing


def create_listing(session: Session, partner: Partner, category: Category,
                   data: ListingCreate, status: ListingStatus = ListingStatus.DRAFT) -> Listing:
    """A new listing for ``partner``; the slug comes from the name when not given."""
    slug = data.slug or slugify(data.name)
    if not slug:
        raise ListingError("Choose a slug of letters and digits.", field="slug")
    if session.exec(select(Listing.id).where(Listing.slug == slug)).first() is not None:
        raise ListingError(f"The slug {slug!r} is taken; choose another.", field="slug")
    now = utcnow()
    listing = Listing(**data.model_dump(exclude={"slug"}), slug=slug, partner_id=partner.id,
                      category_id=category.id, status=status, created_at=now, updated_at=now)
    if status == ListingStatus.PUBLISHED:
        listing.published_at = now
    session.add(listing)
    session.flush()
    return listing


def update_listing(session: Session, listing: Listing, category: Category,
                   data: ListingUpdate) -> Listing:
    """Change a draft or published listing's details."""
    if listing.status not in EDITABLE_STATUSES:
        raise ListingError(f"A listing that is {listing.status.replace('_', ' ')} cannot be edited.")
    for key, value in data.model_dump().items():
        setattr(listing, key, value)
    listing.category_id = category.id
    listing.updated_at = utcnow()
    session.add(listing)
    return listing


def add_release(session: Session, listing: Listing, data: ReleaseCreate) -> Release:
    """A new release with its manifest; it waits for an editor's review."""
    if listing.status == ListingStatus.ARCHIVED:
        raise ListingError("An archived listing takes no new releases.")
    exists = session.exec(select(Release.id).where(Release.listing_id == listing.id,
                                                   Release.version == data.version)).first()
    if exists is not None:
        raise ListingError(f"Version {data.version} already exists.", field="version")
    release = Release(listing_id=listing.id, version=data.version, changelog=data.changelog,
                      scopes=[item.model_dump() for item in data.scopes],
                      redirect_url=data.redirect_url, webhook_url=data.webhook_url)
    session.add(release)
    listing.updated_at = utcnow()
    session.add(listing)
    session.flush()
    return release


def current_release(session: Session, listing_id: int) -> Release | None:
    """The newest approved release: what customers install."""
    return session.exec(
        select(Release).where(Release.listing_id == listing_id,
                              Release.review_status == ReleaseStatus.APPROVED)
        .order_by(col(Release.created_at).desc(), col(Release.id).desc())
    ).first()


def submit_for_review(session: Session, listing: Listing) -> None:
    """Send a draft to the editors' queue; it needs a description and a release."""
    if listing.status != ListingStatus.DRAFT:
        raise ListingError("Only a draft can be submitted for review.")
    if not listing.description.strip():
        raise ListingError("Add a description before submitting.", field="description")
    pending = session.exec(select(Release.id).where(
        Release.listing_id == listing.id, Release.review_status != ReleaseStatus.REJECTED)).first()
    if pending is None:
        raise ListingError("Add a release with its manifest before submitting.")
    listing.status = ListingStatus.IN_REVIEW
    listing.submitted_at = utcnow()
    listing.review_note = None
    session.add(listing)


def approve_listing(session: Session, listing: Listing, editor: User) -> None:
    """Publish a submitted listing and approve its pending releases."""
    if listing.status != ListingStatus.IN_REVIEW:
        raise ListingError("Only a listing in review can be approved.")
    now = utcnow()
    listing.status = ListingStatus.PUBLISHED
    listing.published_at = listing.published_at or now
    listing.updated_at = now
    listing.review_note = None
    session.add(listing)
    session.execute(
        update(Release)
        .where(Release.listing_id == listing.id, Release.review_status == ReleaseStatus.PENDING)
        .values(review_status=ReleaseStatus.APPROVED, reviewed_at=now)
    )
    audit(session, editor, "listing.approved", listing, slug=listing.slug)
    session.flush()
    mail_submission_reviewed(session, listing, approved=True)


def reject_listing(session: Session, listing: Listing, editor: User, reason: str) -> None:
    """Send a submission back to draft with a reason the partner sees."""
    reason = (reason or "").strip()
    if not reason:
        raise ListingError("Give the partner a reason.", field="reason")
    if listing.status != ListingStatus.IN_REVIEW:
        raise ListingError("Only a listing in review can be rejected.")
    listing.status = ListingStatus.DRAFT
    listing.review_note = reason
    listing.updated_at = utcnow()
    session.add(listing)
    audit(session, editor, "listing.rejected", listing, slug=listing.slug, reason=reason)
    session.flush()
    mail_submission_reviewed(session, listing, approved=False, reason=reason)


def review_release(session: Session, release: Release, editor: User, approve: bool,
                   reason: str = "") -> None:
    """Approve or reject a new release of an already published listing."""
    if release.review_status != ReleaseStatus.PENDING:
        raise ListingError("This release has already been reviewed.")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ListingError("Give the partner a reason.", field="reason")
    release.review_status = ReleaseStatus.APPROVED if approve else ReleaseStatus.REJECTED
    release.review_note = reason or None
    release.reviewed_at = utcnow()
    session.add(release)
    audit(session, editor, "release.approved" if approve else "release.rejected", release,
          listing_id=release.listing_id, version=release.version, reason=reason or None)
    session.flush()
    mail_release_reviewed(session, release, approve, reason)
    if approve:
        # A release that asks for less access applies to existing installs at once;
        # one that asks for more waits for each workspace admin's approval.
        session.flush()
        installs_port(session).release_approved(session, release.listing_id)


def delist_listing(session: Session, listing: Listing, editor: User, reason: str) -> None:
    """Take a published listing out of the catalog at once (installs keep working)."""
    reason = (reason or "").strip()
    if not reason:
        raise ListingError("Give a reason for delisting.", field="reason")
    if listing.status != ListingStatus.PUBLISHED:
        raise ListingError("Only a published listing can be delisted.")
    listing.status = ListingStatus.DELISTED
    listing.delisted_at = utcnow()
    # An editor's delisting stays: the prune job archives it in time, never relists it.
    listing.delisted_by = DelistedBy.EDITOR
    listing.review_note = reason
    session.add(listing)
    audit(session, editor, "listing.delisted", listing, slug=listing.slug, reason=reason)


def published_listing(session: Session, slug: str) -> Listing | None:
    """The listing behind a public page: published, or delisted with its notice."""
    return session.exec(_VISIBLE_BY_SLUG, params={"slug": slug}).first()


def ensure_webhook_secret(listing: Listing) -> str:
    """The listing's signing secret for webhooks and install tokens, made on first use
    (shown to its partner)."""
    if not listing.webhook_secret:
        listing.webhook_secret = "whsec_" + secrets.token_urlsafe(32)
    return listing.webhook_secret


# --- reviews ---------------------------------------------------------------------


def workspace_review(session: Session, listing: Listing, workspace) -> Review | None:
    """The review the workspace already wrote of ``listing``, if any."""
    if workspace is None:
        return None
    return session.exec(select(Review).where(Review.listing_id == listing.id,
                                             Review.workspace_id == workspace.id)).first()


def post_review(session: Session, listing: Listing, author: User, data: ReviewCreate,
                workspace, install) -> Review:
    """A verified review: only a workspace that installed the app may write one, once.

    It is published at once unless an automatic check (``listings.review_checks``)
    holds it for an editor, with the reasons in ``hold_reason``. It remembers the
    install, so the page can say "verified install" and how long the app was used.
    """
    if listing.status != ListingStatus.PUBLISHED:
        raise ListingError("Only published apps can be reviewed.")
    if install is None or workspace is None or install.workspace_id != workspace.id \
            or install.listing_id != listing.id:
        raise ListingError(f"Only a workspace that has installed {listing.name} can review it.")
    if workspace_review(session, listing, workspace) is not None:
        raise ListingError("Your workspace has already reviewed this app.")
    exists = session.exec(select(Review.id).where(Review.listing_id == listing.id,
                                                  Review.author_id == author.id)).first()
    if exists is not None:
        raise ListingError("You have already reviewed this app.")
    now = utcnow()
    recent_same_rating = session.exec(select(func.count()).select_from(Review).where(
        Review.listing_id == listing.id, Review.rating == data.rating,
        Review.created_at >= now - BURST_WINDOW)).one()
    reasons = hold_reasons(author.created_at, now, data.title, data.body, data.rating,
                           recent_same_rating)
    review = Review(listing_id=listing.id, author_id=author.id, workspace_id=workspace.id,
                    install_id=install.id, created_at=now, **data.model_dump(),
                    status=ReviewStatus.PENDING if reasons else ReviewStatus.PUBLISHED,
                    hold_reason="; ".join(reasons) or None)
    session.add(review)
    session.flush()
    return review


def moderate_review(session: Session, review: Review, editor: User, publish: bool,
                    reason: str = "") -> None:
    """Publish or reject a held review (a rejection needs ``reason``); audited."""
    if review.status != ReviewStatus.PENDING:
        raise ListingError("This review has already been moderated.")
    reason = (reason or "").strip()
    if not publish and not reason:
        raise ListingError("Give a reason for rejecting the review.", field="reason")
    review.status = ReviewStatus.PUBLISHED if publish else ReviewStatus.REJECTED
    review.moderation_note = reason or None
    review.moderated_by_id = editor.id
    review.moderated_at = utcnow()
    session.add(review)
    audit(session, editor, "review.published" if publish else "review.rejected", review,
          listing_id=review.listing_id, reason=reason or None)


def reply_to_review(session: Session, review: Review, body: str) -> None:
    """The partner's public reply (one per review; replying again replaces it)."""
    body = (body or "").strip()
    if not body:
        raise ListingError("Write a reply.", field="body")
    if len(body) > 3000:
        raise ListingError("A reply must be at most 3,000 characters.", field="body")
    if review.status != ReviewStatus.PUBLISHED:
        raise ListingError("Only published reviews can be answered.")
    review.reply_body = body
    review.replied_at = utcnow()
    session.add(review)
    session.flush()
    mail_review_reply(session, review)


def rating_summary(session: Session, listing_id: int) -> dict:
    """Average, count and per-star counts of a listing's published reviews."""
    rows = session.exec(_STAR_COUNTS, params={"listing_id": listing_id}).all()
    stars = {star: 0 for star in range(5, 0, -1)}
    for rating, count in rows:
        stars[rating] = count
    total = sum(stars.values())
    average = round(sum(r * c for r, c in stars.items()) / total, 1) if total else None
    return {"average": average, "count": total, "stars": stars}


def rating_summaries(session: Session, listing_ids: Iterable[int]) -> dict[int, tuple[float, int]]:
    """{listing_id: (average, count)} for many listings in one query."""
    ids = list(listing_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(Review.listing_id, func.avg(Review.rating), func.count())
        .where(col(Review.listing_id).in_(ids), Review.status == ReviewStatus.PUBLISHED)
        .group_by(Review.listing_id)
    ).all()
    return {listing_id: (round(float(avg), 1), count) for listing_id, avg, count in rows}


# --- badges ----------------------------------------------------------------------


def award_badge(session: Session, listing: Listing, editor: User, kind: str,
                expires_at: datetime | None, note: str = "") -> Badge:
    try:
        kind = BadgeKind(kind)
    except ValueError:
        raise ListingError("Unknown badge.", field="kind") from None
    if kind == BadgeKind.TOP_RATED:
        # Derived from the reviews (listings/badges.py), never decided by hand.
        raise ListingError("“Top rated” is earned from customers’ reviews, not awarded: an "
                           "app wears it while its reviews meet the rule on the badge’s page.",
                           field="kind")
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise ListingError("The expiry must be in the future.", field="expires_at")
    active = session.exec(select(Badge).where(Badge.listing_id == listing.id, Badge.kind == kind,
                                              col(Badge.revoked_at).is_(None))).all()
    if any(badge.is_active(now) for badge in active):
        raise ListingError("This listing already holds that badge.", field="kind")
    badge = Badge(listing_id=listing.id, kind=kind, note=note.strip()[:300],
                  awarded_by_id=editor.id, awarded_at=now, expires_at=expires_at)
    session.add(badge)
    session.flush()
    audit(session, editor, "badge.awarded", badge, listing_id=listing.id, kind=kind.value,
          expires_at=expires_at.isoformat() if expires_at else None)
    return badge


def revoke_badge(session: Session, badge: Badge, editor: User, reason: str = "") -> None:
    if badge.revoked_at is not None:
        raise ListingError("This badge was already revoked.")
    badge.revoked_at = utcnow()
    badge.revoked_by_id = editor.id
    session.add(badge)
    audit(session, editor, "badge.revoked", badge, listing_id=badge.listing_id, kind=badge.kind,
          reason=(reason or "").strip() or None)


def active_badges(session: Session, listing_ids: Iterable[int]) -> dict[int, list[Badge]]:
    """{listing_id: [active badges]} for many listings in one query."""
    ids = list(listing_ids)
    if not ids:
        return {}
    result: dict[int, list[Badge]] = {}
    for badge in session.exec(_ACTIVE_BADGES, params={"ids": ids, "now": utcnow()}).all():
        result.setdefault(badge.listing_id, []).append(badge)
    return result


# --- collections -------------------------------------------------------------------


def create_collection(session: Session, editor: User, name: str, description: str = "") -> Collection:
    name = (name or "").strip()
    if not name:
        raise ListingError("Name the collection.", field="name")
    position = session.exec(select(func.coalesce(func.max(Collection.position), 0))).one() + 1
    collection = Collection(name=name[:80], description=(description or "").strip()[:500],
                            slug=unique_slug(session, Collection, name), position=position)
    session.add(collection)
    session.flush()
    audit(session, editor, "collection.created", collection, name=collection.name)
    return collection


def set_collection_items(session: Session, collection: Collection, editor: User,
                         listing_ids: list[int]) -> None:
    """Replace a collection's listings with ``listing_ids``, in that order."""
    if len(listing_ids) != len(set(listing_ids)):
        raise ListingError("A listing appears twice in the collection.", field="listings")
    if listing_ids:
        found = set(session.exec(select(Listing.id).where(
            col(Listing.id).in_(listing_ids), Listing.status == ListingStatus.PUBLISHED)).all())
        missing = [lid for lid in listing_ids if lid not in found]
        if missing:
            raise ListingError("Only published listings can be in a collection.", field="listings")
    session.execute(delete(CollectionItem).where(CollectionItem.collection_id == collection.id))
    for position, listing_id in enumerate(listing_ids):
        session.add(CollectionItem(collection_id=collection.id, listing_id=listing_id,
                                   position=position))
    audit(session, editor, "collection.updated", collection, listing_ids=listing_ids)


def collection_listings(session: Session, collection_id: int) -> list[Listing]:
    """A collection's published listings in the editor's order."""
    return list(session.exec(
        select(Listing).join(CollectionItem, CollectionItem.listing_id == Listing.id)
        .where(CollectionItem.collection_id == collection_id,
               Listing.status == ListingStatus.PUBLISHED)
        .order_by(CollectionItem.position)
    ).all())




def move_collection(session: Session, collection: Collection, editor: User, direction: str) -> None:
    """Move a collection one place "up" or "down" in the home page order.

    Positions are renumbered 1..n so ties left by older data cannot make a
    move a no-op.
    """
    if direction not in ("up", "down"):
        raise ListingError("Move a collection up or down.", field="direction")
    ordered = list(session.exec(select(Collection).order_by(Collection.position, Collection.id)).all())
    index = next(i for i, item in enumerate(ordered) if item.id == collection.id)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ordered):
        raise ListingError(f"“{collection.name}” is already at the "
                           f"{'top' if direction == 'up' else 'bottom'}.")
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            item.position = position
            session.add(item)
    audit(session, editor, "collection.moved", collection, name=collection.name,
          direction=direction, position=target + 1)
