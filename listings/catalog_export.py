"""Exporting the catalog as JSON Lines, one listing a line, in the shape
``flask catalog import`` reads back (listings/catalog.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlmodel import Session, select

from listings.catalog import BATCH_SIZE
from listings.models import (
    Category,
    Listing,
    Partner,
    Release,
    ReleaseStatus,
    Screenshot,
)
from listings.screenshots import screenshot_path


def export_catalog(session: Session, upload_folder: str,
                   batch_size: int = BATCH_SIZE) -> Iterator[str]:
    """Every listing (all statuses, by id) as one JSON line each, without newlines.

    Reads in batches of ``batch_size`` listings with three queries per batch,
    and selects plain rows so a large catalog does not fill the session.
    """
    partners = dict(session.execute(select(Partner.id, Partner.name)).all())
    categories = dict(session.execute(select(Category.id, Category.name)).all())
    listings_table = Listing.__table__
    last_id = 0
    while True:
        rows = session.execute(select(listings_table).where(listings_table.c.id > last_id)
                               .order_by(listings_table.c.id).limit(batch_size)).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        last_id = ids[-1]
        releases: dict[int, list[dict]] = {}
        for release in session.execute(select(Release.__table__)
                                       .where(Release.__table__.c.listing_id.in_(ids))
                                       .order_by(Release.__table__.c.id)).all():
            releases.setdefault(release.listing_id, []).append({
                "version": release.version,
                "changelog": release.changelog,
                "redirect_url": release.redirect_url,
                "webhook_url": release.webhook_url,
                "review_status": release.review_status,
                "scopes": [{"scope": item["scope"], "justification": item["justification"]}
                           for item in release.scopes],
            })
        shots: dict[int, list[dict]] = {}
        for shot in session.execute(select(Screenshot.__table__)
                                    .where(Screenshot.__table__.c.listing_id.in_(ids))
                                    .order_by(Screenshot.__table__.c.position,
                                              Screenshot.__table__.c.id)).all():
            path = screenshot_path(upload_folder, shot.filename).resolve()
            shots.setdefault(shot.listing_id, []).append({"path": str(path),
                                                          "caption": shot.caption})
        for row in rows:
            approved = [item for item in releases.get(row.id, [])
                        if item["review_status"] == ReleaseStatus.APPROVED]
            if approved:
                # Where webhooks go is the listing's own setting now; the catalog format
                # keeps it on the current release, where the import reads it back.
                approved[-1]["webhook_url"] = row.webhook_url
            record = {
                "slug": row.slug,
                "name": row.name,
                "tagline": row.tagline,
                "description": row.description,
                "category": categories[row.category_id],
                "partner": partners[row.partner_id],
                "tags": list(row.tags),
                "status": row.status,
                "pricing": {
                    "model": row.pricing_model,
                    "currency": row.currency,
                    "monthly_price": row.monthly_price,
                    "unit_name": row.unit_name,
                    "unit_price": row.unit_price,
                    "included_units": row.included_units,
                },
                "trial_days": row.trial_days,
                "website_url": row.website_url,
                "support_url": row.support_url,
                "privacy_url": row.privacy_url,
                "data_residency": list(row.data_residency),
                "releases": releases.get(row.id, []),
                "screenshots": shots.get(row.id, []),
            }
            yield json.dumps(record, ensure_ascii=False)
