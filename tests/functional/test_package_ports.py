"""The ports through which a lower package reaches a higher one (docs/architecture.md):
install events that webhooks consume, what listings ask of installs and search, and
what installs ask of billing. Each keeps its transaction whole."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, select

from core.db import APP_INFO_KEY
from installs.events import record_event
from installs.models import InstallEvent
from installs.ports import payments_port
from installs.services import install_listing
from listings.models import ListingStatus
from listings.ports import installs_port, search_port
from listings.services import review_release
from search.models import SearchOutbox
from tests import factories
from tests.factories import workspace_of
from webhooks.models import WebhookDelivery

SCOPES = [{"scope": "contacts:read", "justification": "Show names."}]
MORE = SCOPES + [{"scope": "deals:write", "justification": "Update deal stages."}]


def test_an_install_writes_its_event_and_the_partners_delivery_together(db, admin):
    listing = factories.make_listing(db, scopes=SCOPES)
    install, _ = install_listing(db, workspace_of(db, admin), admin, listing)
    db.commit()

    [event] = db.exec(select(InstallEvent)).all()
    [delivery] = db.exec(select(WebhookDelivery)).all()
    assert (event.event_type, event.install_id, event.listing_id) == \
        ("install.created", install.id, listing.id)
    assert event.data["install"]["granted_scopes"] == ["contacts:read"]
    assert (delivery.event_type, delivery.install_id) == ("install.created", install.id)


def test_a_rolled_back_install_leaves_neither_event_nor_delivery(db, admin):
    listing = factories.make_listing(db, scopes=SCOPES)
    install_listing(db, workspace_of(db, admin), admin, listing)
    db.rollback()

    assert db.exec(select(InstallEvent)).all() == []
    assert db.exec(select(WebhookDelivery)).all() == []


def test_an_event_recorded_outside_the_app_is_kept_for_later(app, db, caplog):
    listing = factories.make_listing(db, scopes=SCOPES)
    db.commit()
    # A session of its own, not opened by the app: no consumer can be reached.
    with Session(app.extensions["bazaar.engine"]) as outside, caplog.at_level(logging.WARNING):
        record_event(outside, listing.id, "install.created", {"note": "imported"})
        outside.commit()

    assert [e.event_type for e in db.exec(select(InstallEvent)).all()] == ["install.created"]
    assert db.exec(select(WebhookDelivery)).all() == []
    assert "no consumer told" in caplog.text


def test_listings_ports_name_what_is_missing_for_a_session_outside_the_app(app):
    with Session(app.extensions["bazaar.engine"]) as outside:
        with pytest.raises(RuntimeError, match="installs package plugged in"):
            installs_port(outside)
        with pytest.raises(RuntimeError, match="search package plugged in"):
            search_port(outside)
        with pytest.raises(RuntimeError, match="billing package plugged in"):
            payments_port(outside)


def test_an_app_session_reaches_every_port(app):
    with Session(app.extensions["bazaar.engine"], info={APP_INFO_KEY: app}) as session:
        assert installs_port(session) is installs_port(app)
        assert search_port(session) is search_port(app)
        assert payments_port(session).can_pay(session, workspace_id=1, listing_id=1) is False


def test_approving_a_release_that_asks_less_moves_installs_onto_it(db, admin):
    """Listings approve the release; installs follow it through the port."""
    listing = factories.make_listing(db, scopes=MORE)
    install, _ = install_listing(db, workspace_of(db, admin), admin, listing)
    smaller = factories.make_release(db, listing, version="2.0.0", scopes=SCOPES,
                                     review_status="pending")
    editor = factories.make_user(db, role="editor")
    review_release(db, smaller, editor, approve=True)
    db.commit()
    db.refresh(install)

    assert install.release_id == smaller.id and install.granted_scopes == ["contacts:read"]
    assert [e.event_type for e in db.exec(select(InstallEvent).order_by(InstallEvent.id))] == \
        ["install.created", "install.scopes_updated"]


def test_a_change_to_an_install_queues_its_listing_for_search(db, admin):
    """The listing's document counts installs, so search re-indexes it (search.sync.watch)."""
    listing = factories.make_listing(db, scopes=SCOPES)
    # Its signing secret already made, so the install's delivery leaves the listing as is.
    listing.webhook_secret = "whsec_" + "x" * 43
    db.commit()
    for row in db.exec(select(SearchOutbox)).all():
        db.delete(row)
    db.commit()

    install_listing(db, workspace_of(db, admin), admin, listing)

    # In the install's own transaction (after its commit the rows are applied and gone).
    assert {row.listing_id for row in db.exec(select(SearchOutbox)).all()} == {listing.id}


def test_install_counts_reach_listings_through_the_port(db, admin):
    listing = factories.make_listing(db, scopes=SCOPES)
    other = factories.make_listing(db, scopes=SCOPES, status=ListingStatus.PUBLISHED)
    install_listing(db, workspace_of(db, admin), admin, listing)
    db.commit()

    assert installs_port(db).counts(db, [listing.id, other.id]) == {listing.id: (1, 1)}
    assert installs_port(db).installing_workspaces(db, [listing.id, other.id]) == \
        {listing.id: [workspace_of(db, admin).id]}
