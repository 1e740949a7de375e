"""Editing the editors' collections beyond create/reorder (``listings.services``):
finding published apps to add, adding one, renaming (name and slug), deleting.

Every change writes an audit event; the caller commits. Collections and their
items are tracked by the catalog cache, so the home and collection pages
follow at once.
"""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlmodel import Session, col, func, or_, select

from accounts.models import User
from listings.models import Collection, CollectionItem, Listing, ListingStatus, Partner
from listings.services import ListingError, audit

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SEARCH_RESULTS = 10


def find_apps_to_add(session: Session, collection_id: int, text: str,
                     limit: int = SEARCH_RESULTS) -> list[tuple[Listing, str, bool]]:
    """Published apps whose name, slug or tagline contains ``text`` (case-insensitive),
    names starting with it first, as (listing, partner name, already in the
    collection); one query. Under two characters finds nothing."""
    text = (text or "").strip().lower()
    if len(text) < 2:
        return []
    pattern = f"%{text}%"
    in_collection = (select(CollectionItem.listing_id)
                     .where(CollectionItem.collection_id == collection_id))
    rows = session.exec(
        select(Listing, Partner.name, col(Listing.id).in_(in_collection))
        .join(Partner, Partner.id == Listing.partner_id)
        .where(Listing.status == ListingStatus.PUBLISHED,
               or_(func.lower(Listing.name).like(pattern), func.lower(Listing.slug).like(pattern),
                   func.lower(Listing.tagline).like(pattern)))
        .order_by(~func.lower(Listing.name).like(f"{text}%"), Listing.name, Listing.id)
        .limit(limit)).all()
    return [(listing, partner, bool(added)) for listing, partner, added in rows]


def add_listing(session: Session, collection: Collection, editor: User, listing_id) -> Listing:
    """Put a published app last in ``collection``. Raises ``ListingError`` with the
    reason when there is no such app, it is not published or already there."""
    listing = session.get(Listing, listing_id) if isinstance(listing_id, int) else None
    if listing is None:
        raise ListingError("That app does not exist (any more). Search for it again.",
                           field="listing_id")
    if listing.status != ListingStatus.PUBLISHED:
        raise ListingError(f"“{listing.name}” is not published; only published apps can be "
                           "in a collection.", field="listing_id")
    existing = session.exec(select(CollectionItem.listing_id, CollectionItem.position)
                            .where(CollectionItem.collection_id == collection.id)).all()
    if any(item_listing == listing.id for item_listing, _ in existing):
        raise ListingError(f"“{listing.name}” is already in this collection.", field="listing_id")
    last = max((position for _, position in existing), default=-1)
    session.add(CollectionItem(collection_id=collection.id, listing_id=listing.id,
                               position=last + 1))
    audit(session, editor, "collection.listing_added", collection, listing_id=listing.id,
          name=collection.name)
    return listing


def rename_collection(session: Session, collection: Collection, editor: User, name: str,
                      slug: str, description: str) -> None:
    """Change a collection's name, slug and description. The slug is its public
    address (/collections/<slug>): lowercase letters, digits and hyphens, unique.
    Raises ``ListingError`` naming the field."""
    name, slug = (name or "").strip(), (slug or "").strip().lower()
    if not name:
        raise ListingError("Name the collection.", field="name")
    if len(name) > 80:
        raise ListingError("Keep the name to 80 characters.", field="name")
    if not SLUG_RE.match(slug) or len(slug) > 80:
        raise ListingError("Use lowercase letters, digits and single hyphens, e.g. spring-picks "
                           "(at most 80 characters).", field="slug")
    taken = session.exec(select(Collection.name).where(Collection.slug == slug,
                                                       Collection.id != collection.id)).first()
    if taken is not None:
        raise ListingError(f"The collection “{taken}” already uses the address “{slug}”; "
                           "choose another.", field="slug")
    old_name, old_slug = collection.name, collection.slug
    collection.name, collection.slug = name, slug
    collection.description = (description or "").strip()[:500]
    session.add(collection)
    audit(session, editor, "collection.renamed", collection, name=name, slug=slug,
          old_name=old_name, old_slug=old_slug)


def delete_collection(session: Session, collection: Collection, editor: User) -> None:
    """Delete a collection and its items (the apps themselves stay published)."""
    count = session.exec(select(func.count()).select_from(CollectionItem)
                         .where(CollectionItem.collection_id == collection.id)).one()
    audit(session, editor, "collection.deleted", collection, name=collection.name,
          slug=collection.slug, apps=count)
    session.execute(delete(CollectionItem).where(CollectionItem.collection_id == collection.id))
    session.delete(collection)
