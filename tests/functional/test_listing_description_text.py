"""A listing's description as plain text, stored when the description is written (by
the listing services, an edit, a catalog import) so that a reindex reads it instead of
rendering Markdown for every listing: the search document still carries exactly the
text that rendering the description gives."""

import json

from sqlmodel import select

from core.markdown import markdown_to_text
from listings.catalog import import_catalog
from listings.documents import search_documents
from listings.models import Listing, ListingCreate, ListingStatus, ListingUpdate
from listings.services import create_listing, update_listing
from tests import factories

DESCRIPTION = """## Why teams pick it

**Pipe Sync** keeps *contacts* and `deals` in step; see [the guide](https://example.com/guide).

- Two-way sync
- Audit history

```
pipe-sync --all
```

> Trusted by 3,000 teams. <b>Not markup</b> ![A chart](https://example.com/chart.png)

| Plan | Price |
|------|-------|
| Free | $0 |
"""
EDITED = "Now with **webhooks**.\n\n1. Faster\n2. Cheaper"


def stored_text(db, listing_id: int) -> str:
    """The column as the database holds it (not the object in the session)."""
    return db.exec(select(Listing.description_text).where(Listing.id == listing_id)).one()


def document_text(db, listing_id: int) -> str:
    [document] = search_documents(db, [listing_id])
    return document["description"]


def test_the_rendered_text_is_not_the_markdown():
    # Guards the tests below: a stored copy of the raw Markdown would not pass them.
    text = markdown_to_text(DESCRIPTION)
    assert text.startswith("Why teams pick it · Pipe Sync keeps contacts and deals in step")
    assert "**" not in text and "](" not in text


def test_a_listing_made_by_the_service_stores_its_text_and_its_document_carries_it(db):
    listing = create_listing(db, factories.make_partner(db), factories.make_category(db),
                             ListingCreate(name="Pipe Sync", tagline="Two-way CRM sync",
                                           description=DESCRIPTION),
                             status=ListingStatus.PUBLISHED)
    factories.make_release(db, listing)
    db.commit()

    assert stored_text(db, listing.id) == markdown_to_text(DESCRIPTION)
    assert document_text(db, listing.id) == markdown_to_text(DESCRIPTION)


def test_an_imported_listing_stores_its_text_and_its_document_carries_it(db, app):
    line = ('{"slug": "pipe-sync", "name": "Pipe Sync", "tagline": "Two-way CRM sync", '
            '"category": "CRM", "partner": "Northwind", "description": %s, '
            '"releases": [{"version": "1.0.0", "redirect_url": "https://example.com/cb"}]}')
    result = import_catalog(db, [line % json.dumps(DESCRIPTION)], app.config["UPLOAD_FOLDER"])
    db.commit()

    assert (result.imported, result.errors) == (1, [])
    listing_id = db.exec(select(Listing.id).where(Listing.slug == "pipe-sync")).one()
    assert stored_text(db, listing_id) == markdown_to_text(DESCRIPTION)
    assert document_text(db, listing_id) == markdown_to_text(DESCRIPTION)


def test_the_text_follows_an_edit_of_the_description(db):
    listing = factories.make_listing(db, description=DESCRIPTION)
    assert stored_text(db, listing.id) == markdown_to_text(DESCRIPTION)

    fields = {"name": listing.name, "tagline": listing.tagline, "description": EDITED}
    update_listing(db, listing, factories.make_category(db), ListingUpdate(**fields))
    db.commit()
    assert stored_text(db, listing.id) == "Now with webhooks. Faster · Cheaper"
    assert document_text(db, listing.id) == "Now with webhooks. Faster · Cheaper"

    # An edit that leaves the description alone keeps the text, even when the
    # description was never loaded; clearing the description clears it.
    fresh = db.get(Listing, listing.id)
    db.expire(fresh)
    fresh.tagline = "A new tagline"
    db.commit()
    assert stored_text(db, listing.id) == "Now with webhooks. Faster · Cheaper"
    fresh.description = ""
    db.commit()
    assert stored_text(db, listing.id) == ""
