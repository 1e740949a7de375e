"""The catalog import/export service: line-numbered errors, all-or-nothing
unless skip_invalid, batching, and a faithful export -> import round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from core.db import APP_INFO_KEY, make_engine
from listings.catalog import import_catalog
from listings.catalog_export import export_catalog
from listings.models import (
    Category,
    Listing,
    ListingStatus,
    Partner,
    Release,
    ReleaseStatus,
    Screenshot,
)
from listings.screenshots import save_screenshot, screenshot_path
from tests import factories


@pytest.fixture
def uploads(app) -> str:
    return app.config["UPLOAD_FOLDER"]


@pytest.fixture
def image_file(tmp_path) -> Path:
    path = tmp_path / "shot.png"
    path.write_bytes(factories.image_bytes(size=(320, 200)))
    return path


def line(**overrides) -> str:
    """One valid catalog line; ``overrides`` replace (or, with None, remove) fields."""
    record = {
        "slug": "pipe-sync",
        "name": "Pipe Sync",
        "tagline": "Two-way sync with your CRM.",
        "description": "**Pipe Sync** keeps contacts in step.\n\n- Contacts\n- Deals",
        "category": "CRM sync",
        "partner": "Northwind Labs",
        "tags": ["crm", "sync"],
        "pricing": {"model": "flat_monthly", "currency": "usd", "monthly_price": 1900},
        "trial_days": 14,
        "website_url": "https://northwind.example.com/pipe-sync",
        "support_url": "https://northwind.example.com/support",
        "privacy_url": "https://northwind.example.com/privacy",
        "data_residency": ["us", "eu"],
        "releases": [{"version": "1.0.0", "changelog": "First release.",
                      "redirect_url": "https://northwind.example.com/callback",
                      "scopes": [{"scope": "contacts:read",
                                  "justification": "To match contacts by email."}]}],
    }
    for key, value in overrides.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(record)


def count(db: Session, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_a_good_line_becomes_a_live_listing(db, uploads, image_file):
    result = import_catalog(db, [line(screenshots=[{"path": str(image_file),
                                                    "caption": "The dashboard"}])], uploads)
    db.commit()

    assert (result.imported, result.skipped, result.errors) == (1, 0, [])
    listing = db.exec(select(Listing).where(Listing.slug == "pipe-sync")).one()
    assert listing.status == ListingStatus.PUBLISHED
    assert listing.published_at is not None
    assert (listing.pricing_model, listing.currency, listing.monthly_price) == (
        "flat_monthly", "usd", 1900)
    assert listing.tags == ["crm", "sync"] and listing.data_residency == ["us", "eu"]
    assert db.get(Partner, listing.partner_id).name == "Northwind Labs"
    assert db.get(Category, listing.category_id).name == "CRM sync"
    release = db.exec(select(Release).where(Release.listing_id == listing.id)).one()
    assert release.review_status == ReleaseStatus.APPROVED
    assert release.scopes == [{"scope": "contacts:read",
                               "justification": "To match contacts by email."}]
    shot = db.exec(select(Screenshot).where(Screenshot.listing_id == listing.id)).one()
    assert (shot.width, shot.height, shot.caption) == (320, 200, "The dashboard")
    assert screenshot_path(uploads, shot.filename).read_bytes() == image_file.read_bytes()


def test_status_and_defaults(db, uploads):
    lines = [line(slug="a-draft", status="draft", pricing=None, trial_days=None),
             line(slug="in-queue", status="in_review")]
    result = import_catalog(db, lines, uploads)

    assert result.imported == 2
    draft = db.exec(select(Listing).where(Listing.slug == "a-draft")).one()
    assert draft.status == ListingStatus.DRAFT and draft.published_at is None
    assert (draft.pricing_model, draft.monthly_price, draft.trial_days) == ("free", 0, 0)
    queued = db.exec(select(Listing).where(Listing.slug == "in-queue")).one()
    assert queued.submitted_at is not None
    statuses = db.exec(select(Release.review_status)).all()
    assert statuses == [ReleaseStatus.PENDING, ReleaseStatus.PENDING]


def test_partners_and_categories_are_made_once_and_reused(db, uploads):
    existing = factories.make_partner(db, name="Northwind Labs")
    lines = [line(slug=f"app-{n}", category="Brand new") for n in range(3)]
    import_catalog(db, lines, uploads)

    assert count(db, Partner) == 1
    assert db.exec(select(Category.name)).all() == ["Brand new"]
    assert {row.partner_id for row in db.exec(select(Listing)).all()} == {existing.id}


BAD_LINES = [
    ("{not json", "json", "not valid JSON"),
    ("[1, 2]", "json", "each line must be a JSON object, not a list"),
    (line(name=None), "name", "is required"),
    (line(tagline="   "), "tagline", "is required"),
    (line(partner=None), "partner", "is required"),
    (line(category=None), "category", "is required"),
    (line(category=12), "category", "must be text"),
    (line(status="live"), "status", "unknown status 'live'"),
    (line(taglne="typo"), "taglne", "unknown field"),
    (line(slug="Not A Slug"), "slug", "use lowercase letters"),
    (line(pricing={"model": "monthly"}), "pricing.model", "must be free, flat_monthly or usage"),
    (line(pricing={"model": "flat_monthly", "monthly_price": 0}), "pricing.monthly_price",
     "needs a price above zero"),
    (line(pricing={"model": "usage", "unit_price": 5}), "pricing.unit_name",
     "needs a unit name"),
    (line(pricing={"model": "free", "monthly_price": "lots"}), "pricing.monthly_price",
     "valid integer"),
    (line(pricing="free"), "pricing", "must be an object"),
    (line(trial_days=120), "trial_days", "between 0 and 90"),
    (line(website_url="northwind.example.com"), "website_url", "must be a full http"),
    (line(data_residency=["mars"]), "data_residency", "unknown region 'mars'"),
    (line(tags=5), "tags", "must be a list of text"),
    (line(status=["published"]), "status", "unknown status"),
    (line(releases={"version": "1.0.0"}), "releases", "must be a list"),
    (line(releases=[{"version": "one", "redirect_url": "https://x.example.com"}]),
     "releases[0].version", "semantic versioning"),
    (line(releases=[{"version": "1.0.0"}]), "releases[0].redirect_url", "is required"),
    (line(releases=[{"version": "1.0.0", "redirect_url": "https://x.example.com",
                     "review_status": "maybe"}]), "releases[0].review_status",
     "unknown review status"),
    (line(releases=[{"version": "1.0.0", "redirect_url": "https://x.example.com",
                     "scopes": [{"scope": "everything:write", "justification": "Why not."}]}]),
     "releases[0].scopes[0].scope", "unknown scope 'everything:write'"),
    (line(releases=[{"version": "1.0.0", "redirect_url": "https://x.example.com",
                     "scopes": [{"scope": "contacts:read", "justification": ""}]}]),
     "releases[0].scopes[0].justification", "every scope needs a justification"),
    (line(releases=[{"version": "1.0.0", "redirect_url": "https://x.example.com"},
                    {"version": "1.0.0", "redirect_url": "https://x.example.com"}]),
     "releases[1].version", "listed twice"),
    (line(screenshots=[{"path": "/nowhere/shot.png"}]), "screenshots[0].path",
     "cannot read /nowhere/shot.png"),
    (line(screenshots=[{"caption": "No path"}]), "screenshots[0].path", "is required"),
]


@pytest.mark.parametrize(("text", "field", "message"), BAD_LINES,
                         ids=[f"{field}:{message[:20]}" for _, field, message in BAD_LINES])
def test_each_bad_input_is_reported_with_line_and_field(db, uploads, text, field, message):
    result = import_catalog(db, [line(slug="fine"), "", text], uploads)

    assert result.imported == 0
    assert result.errors, "the bad line was accepted"
    error = result.errors[0]
    assert (error.line, error.field) == (3, field), [str(e) for e in result.errors]
    assert message in error.message
    assert str(error).startswith(f"line 3: {field}: ")
    assert count(db, Listing) == 0  # the good line 1 is not written either


def test_a_file_that_is_not_an_image_is_refused(db, uploads, tmp_path):
    fake = tmp_path / "shot.png"
    fake.write_text("#!/bin/sh\necho not an image\n")
    result = import_catalog(db, [line(screenshots=[{"path": str(fake)}])], uploads)

    assert [str(e) for e in result.errors] == [
        f"line 1: screenshots[0].path: {fake}: The screenshot must be a PNG, JPEG or WebP image."]


def test_relative_screenshot_paths_are_read_from_the_files_folder(db, uploads, image_file):
    result = import_catalog(db, [line(screenshots=[{"path": image_file.name}])], uploads,
                            base_dir=image_file.parent)

    assert result.errors == [] and count(db, Screenshot) == 1


def test_duplicate_slug_in_the_file_and_in_the_catalog(db, uploads):
    factories.make_listing(db, slug="taken")
    result = import_catalog(db, [line(slug="pipe-sync"), line(slug="taken"),
                                 line(slug="pipe-sync"), line(slug=None, name="Pipe Sync")],
                            uploads)

    assert [str(e) for e in result.errors] == [
        "line 2: slug: 'taken' is already in the catalog",
        "line 3: slug: 'pipe-sync' is already used on line 1",
        # without a slug, it is made from the name: the same listing again
        "line 4: slug: 'pipe-sync' is already used on line 1, by a listing of the same "
        "name and partner",
    ]


def test_a_slug_made_from_a_name_another_listing_has_is_made_unique(db, uploads):
    # Names that differ make one slug ("Pipe-Sync", "Pipe Sync", "Pipe.Sync": npm's
    # "@types/node" and "types-node"). A slug the file does not give is the import's
    # to choose, so each listing gets one of its own rather than being refused.
    factories.make_listing(db, slug="pipe-sync", name="Pipe-Sync")
    result = import_catalog(db, [line(slug=None, name="Pipe Sync"),
                                 line(slug=None, name="Pipe.Sync", partner="Contoso"),
                                 line(slug=None, name="Pipe Sync", partner="Contoso")],
                            uploads)
    db.commit()

    assert result.errors == [] and result.imported == 3
    assert sorted(db.exec(select(Listing.slug, Listing.name)).all()) == [
        ("pipe-sync", "Pipe-Sync"), ("pipe-sync-2", "Pipe Sync"), ("pipe-sync-3", "Pipe.Sync"),
        ("pipe-sync-4", "Pipe Sync")]
    assert [(note.line, note.slug) for note in result.slugs_made_unique] == [
        (1, "pipe-sync-2"), (2, "pipe-sync-3"), (3, "pipe-sync-4")]


def test_a_slug_a_later_line_gives_is_left_to_it(db, uploads):
    # A slug written in the file is the partner's choice and is kept; a slug made
    # from a name on an earlier line steps aside rather than taking it.
    result = import_catalog(db, [line(slug=None, name="Pipe Sync", partner="Contoso"),
                                 line(slug="pipe-sync")], uploads)
    db.commit()

    assert result.errors == []
    assert set(db.exec(select(Listing.slug)).all()) == {"pipe-sync", "pipe-sync-2"}
    assert db.exec(select(Listing.slug).where(Listing.partner_id == select(Partner.id).where(
        Partner.name == "Contoso").scalar_subquery())).one() == "pipe-sync-2"


def test_the_same_listing_imported_again_without_slugs_is_refused(db, uploads):
    # Importing a file a second time must not make a copy of each listing: the same
    # name by the same partner (in any case) is the listing already there.
    assert import_catalog(db, [line(slug=None)], uploads).imported == 1
    db.commit()
    result = import_catalog(db, [line(slug=None), line(slug=None, name="PIPE SYNC")], uploads)

    assert [str(e) for e in result.errors] == [
        "line 1: slug: 'pipe-sync' is already in the catalog, for a listing of the same "
        "name and partner",
        "line 2: slug: 'pipe-sync' is already in the catalog, for a listing of the same "
        "name and partner",
    ]


def test_nothing_is_written_when_any_line_is_bad(db, uploads, image_file):
    lines = [line(slug="one", screenshots=[{"path": str(image_file)}]), line(slug="two"),
             line(slug="three", status="bogus")]
    result = import_catalog(db, lines, uploads)
    db.commit()

    assert (result.imported, result.skipped, result.bad_lines) == (0, 0, 1)
    assert count(db, Listing) == count(db, Release) == count(db, Partner) == 0
    assert not (Path(uploads) / "screenshots").exists()


def test_skip_invalid_imports_the_good_lines(db, uploads):
    lines = [line(slug="one"), "{oops", line(slug="two", status="bogus"), line(slug="three")]
    result = import_catalog(db, lines, uploads, skip_invalid=True)
    db.commit()

    assert (result.lines, result.imported, result.skipped) == (4, 2, 2)
    assert [e.line for e in result.errors] == [2, 3]
    assert set(db.exec(select(Listing.slug)).all()) == {"one", "three"}


def test_a_bad_line_does_not_block_its_slug_for_a_later_good_line(db, uploads):
    lines = [line(slug="one", status="bogus"), line(slug="one")]
    result = import_catalog(db, lines, uploads, skip_invalid=True)

    assert result.imported == 1 and [e.line for e in result.errors] == [1]


def test_queries_per_batch_do_not_grow_with_the_lines(app, db, uploads):
    """Checking and writing cost a fixed number of statements per batch."""
    statements: list[str] = []

    def _count(*args, **kwargs):
        statements.append(args[2])

    engine = app.extensions["bazaar.engine"]
    event.listen(engine, "before_cursor_execute", _count)
    try:
        import_catalog(db, [line(slug=f"a-{n}") for n in range(3)], uploads, batch_size=50)
        few = len(statements)
        statements.clear()
        import_catalog(db, [line(slug=f"b-{n}") for n in range(40)], uploads, batch_size=50)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert many <= few
    assert count(db, Listing) == 43


def test_many_batches(db, uploads):
    result = import_catalog(db, [line(slug=f"app-{n}") for n in range(7)], uploads, batch_size=3)

    assert result.imported == 7 and count(db, Release) == 7


@pytest.fixture
def fresh_db(app, _sqlite_template, tmp_path):
    """A second, empty, migrated database (its session works for the app, like a command's)."""
    path = tmp_path / "fresh.db"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False, info={APP_INFO_KEY: app}) as session:
        yield session
    engine.dispose()


def test_export_then_import_into_an_empty_catalog_round_trips(db, uploads, fresh_db, tmp_path):
    partner = factories.make_partner(db, name="Northwind Labs")
    category = factories.make_category(db, name="Analytics & reporting")
    metered = factories.make_listing(
        db, partner=partner, category=category, slug="metered", pricing_model="usage",
        currency="eur", unit_name="1,000 events", unit_price=250, included_units=1000,
        trial_days=30, data_residency=["eu"], tags=["events", "analytics"],
        scopes=[{"scope": "analytics:read", "justification": "To chart usage."},
                {"scope": "webhooks:manage", "justification": "To hear about changes."}])
    factories.make_release(db, metered, version="1.1.0", review_status=ReleaseStatus.PENDING)
    save_screenshot(db, metered, factories.image_bytes(size=(640, 400)), "Usage chart", uploads)
    db.commit()
    for status in ("draft", "in_review", "delisted", "archived"):
        factories.make_listing(db, partner=partner, category=category,
                               slug="app-" + status.replace("_", "-"), status=status,
                               pricing_model="flat_monthly", monthly_price=4900)

    exported = list(export_catalog(db, uploads))
    records = [json.loads(text) for text in exported]
    assert [r["slug"] for r in records] == ["metered", "app-draft", "app-in-review",
                                            "app-delisted", "app-archived"]
    assert records[0]["pricing"] == {"model": "usage", "currency": "eur", "monthly_price": 0,
                                     "unit_name": "1,000 events", "unit_price": 250,
                                     "included_units": 1000}
    assert Path(records[0]["screenshots"][0]["path"]).is_absolute()

    new_uploads = str(tmp_path / "new-uploads")
    result = import_catalog(fresh_db, exported, new_uploads)
    fresh_db.commit()
    assert (result.imported, result.errors) == (5, [])

    again = [json.loads(text) for text in export_catalog(fresh_db, new_uploads)]
    for before, after in zip(records, again, strict=True):
        shots_before, shots_after = before.pop("screenshots"), after.pop("screenshots")
        assert before == after
        assert [s["caption"] for s in shots_before] == [s["caption"] for s in shots_after]
        for old, new in zip(shots_before, shots_after, strict=True):
            assert Path(old["path"]).read_bytes() == Path(new["path"]).read_bytes()
            assert new["path"].startswith(str(Path(new_uploads).resolve()))


def test_a_slug_made_unique_still_fits_eighty_characters(db, uploads):
    name = "Pipe " + "sync " * 15  # a slug of 80 characters, cut at a hyphen
    result = import_catalog(db, [line(slug=None, name=name.strip()),
                                 line(slug=None, name=name.strip() + "!", partner="Contoso")],
                            uploads)
    db.commit()

    assert result.errors == []
    second = result.slugs_made_unique[0].slug
    assert len(second) <= 80 and second.endswith("-2") and "--" not in second
    assert db.exec(select(Listing).where(Listing.slug == second)).one().name.endswith("!")
