"""`flask demo load`: a believable catalog, demo users who can sign in, and a
second run that changes nothing."""

from __future__ import annotations

from sqlmodel import col, func, select

from accounts.models import Role, User
from app import create_app
from demo.data import DEMO_PASSWORD
from listings.models import (
    Badge,
    Category,
    Collection,
    CollectionItem,
    Listing,
    ListingStatus,
    Partner,
    Release,
    Review,
    ReviewStatus,
    Screenshot,
)
from listings.screenshots import inspect_image, screenshot_path
from mail.models import MailMessage

TABLES = [User, Category, Partner, Listing, Release, Screenshot, Review, Badge, Collection,
          CollectionItem]


def counts(db) -> dict[str, int]:
    return {model.__name__: db.exec(select(func.count()).select_from(model)).one()
            for model in TABLES}


def test_demo_load_builds_the_catalog_once(app, runner, db, client, login):
    result = runner.invoke(args=["demo", "load"])

    assert result.exit_code == 0, result.output
    for email in ("customer@example.com", "partner@example.com", "editor@example.com",
                  "admin@example.com"):
        assert email in result.output
    assert DEMO_PASSWORD in result.output

    users = {user.email: user for user in db.exec(select(User)).all()}
    assert users["customer@example.com"].role == Role.CUSTOMER
    assert users["editor@example.com"].role == Role.EDITOR
    assert users["admin@example.com"].role == Role.ADMIN
    partner_user = users["partner@example.com"]
    assert partner_user.is_partner
    own = db.exec(select(Listing).where(Listing.partner_id == partner_user.partner_id)).all()
    assert len(own) >= 4
    assert ListingStatus.DRAFT in {listing.status for listing in own}

    statuses = [listing.status for listing in db.exec(select(Listing)).all()]
    assert statuses.count(ListingStatus.PUBLISHED) >= 60
    assert statuses.count(ListingStatus.IN_REVIEW) >= 2
    assert db.exec(select(func.count()).select_from(Category)).one() >= 10
    partners = db.exec(select(Partner)).all()
    assert len(partners) == 12
    assert {partner.tier for partner in partners} == {"registered", "select", "premier"}
    pricing = {listing.pricing_model for listing in db.exec(select(Listing)).all()}
    assert pricing == {"free", "flat_monthly", "usage"}

    # Every listing has 2-4 screenshots, stored as real images.
    shots = db.exec(select(Screenshot)).all()
    per_listing = {}
    for shot in shots:
        per_listing[shot.listing_id] = per_listing.get(shot.listing_id, 0) + 1
    assert len(per_listing) == len(statuses) and set(per_listing.values()) <= {2, 3, 4}
    sample = screenshot_path(app.config["UPLOAD_FOLDER"], shots[0].filename).read_bytes()
    assert inspect_image(sample)[2:] == (1280, 800)
    assert all(screenshot_path(app.config["UPLOAD_FOLDER"], shot.filename).exists()
               for shot in shots)

    # Every release explains each scope it asks for.
    for release in db.exec(select(Release)).all():
        assert release.scopes and all(item["justification"] for item in release.scopes)

    reviews = db.exec(select(Review)).all()
    assert sum(r.status == ReviewStatus.PENDING for r in reviews) >= 2
    # The held queue says why each waits (issue 16: reviews are published unless held).
    assert all(r.hold_reason for r in reviews if r.status == ReviewStatus.PENDING)
    assert any(r.reply_body for r in reviews)
    assert db.exec(select(Badge).where(col(Badge.expires_at).is_not(None))).first() is not None
    collections = db.exec(select(Collection)).all()
    assert len(collections) >= 2
    for collection in collections:
        positions = db.exec(select(CollectionItem.position)
                            .where(CollectionItem.collection_id == collection.id)
                            .order_by(CollectionItem.position)).all()
        assert positions == list(range(len(positions))) and positions

    # The shop front shows it, and the demo logins work.
    home = client.get("/").get_data(as_text=True)
    assert "PipeSync for Salesforce" in home or "Metricboard" in home or "CRM sync" in home
    assert client.get("/apps/pipesync-for-salesforce").status_code == 200
    login(users["editor@example.com"], DEMO_PASSWORD)

    # A second run says so and changes nothing.
    before = counts(db)
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    assert counts(db) == before


def test_demo_load_mails_nobody(runner, db):
    """The demo is made-up history: its reviews' replies and its editors' decisions
    must not mail the example.com people it invents."""
    result = runner.invoke(args=["demo", "load"])

    assert result.exit_code == 0, result.output
    assert db.exec(select(func.count()).select_from(MailMessage)).one() == 0


def test_demo_load_needs_a_migrated_database(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    try:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    finally:
        app.extensions["bazaar.engine"].dispose()

    assert result.exit_code == 1
    assert "not been migrated" in result.output and "flask --app app db upgrade" in result.output
    assert not (tmp_path / "uploads").exists()
