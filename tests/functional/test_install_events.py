"""Partners hear about installs: each change writes its webhook event in the same transaction."""

from __future__ import annotations

import json

from sqlmodel import select

from installs.services import approve_scope_change, install_listing, uninstall
from tests import factories
from tests.factories import workspace_of
from webhooks.models import WebhookDelivery

SCOPES = [{"scope": "contacts:read", "justification": "Show names."}]
MORE = SCOPES + [{"scope": "deals:write", "justification": "Update deal stages."}]


def deliveries(db) -> list[WebhookDelivery]:
    db.expire_all()
    return list(db.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all())


def test_install_scope_approval_and_uninstall_each_tell_the_partner(db, admin):
    listing = factories.make_listing(db, scopes=SCOPES)
    workspace = workspace_of(db, admin)
    install, _ = install_listing(db, workspace, admin, listing)
    db.commit()
    factories.make_release(db, listing, version="2.0.0", scopes=MORE)
    approve_scope_change(db, install, admin)
    db.commit()
    uninstall(db, install, admin)
    db.commit()

    rows = deliveries(db)
    assert [row.event_type for row in rows] == [
        "install.created", "install.scopes_updated", "install.uninstalled"]
    assert {row.url for row in rows} == {listing.webhook_url}
    created, updated, removed = (json.loads(row.payload) for row in rows)
    assert created["type"] == "install.created" and created["id"] == rows[0].event_id
    assert created["api_version"] and created["listing"]["slug"] == listing.slug
    assert created["data"]["install"]["granted_scopes"] == ["contacts:read"]
    assert created["data"]["install"]["workspace"]["id"] == workspace.id
    assert updated["data"]["added_scopes"] == ["deals:write"]
    assert updated["data"]["install"]["granted_scopes"] == ["contacts:read", "deals:write"]
    assert updated["data"]["install"]["release"] == "2.0.0"
    assert removed["data"]["install"]["status"] == "uninstalled"
    assert removed["data"]["install"]["granted_scopes"] == []


def test_fewer_scopes_are_reported_when_they_apply(client, db, login, admin):
    listing = factories.make_listing(db, scopes=MORE)
    factories.make_install(db, workspace_of(db, admin), listing,
                           scopes=["contacts:read", "deals:write"])
    factories.make_release(db, listing, version="2.0.0", scopes=SCOPES)
    login(admin)
    client.get("/my/apps")

    [row] = deliveries(db)
    body = json.loads(row.payload)
    assert row.event_type == "install.scopes_updated"
    assert body["data"]["removed_scopes"] == ["deals:write"]


def test_app_without_a_webhook_url_gets_no_deliveries(db, admin):
    listing = factories.make_listing(db)
    listing.webhook_url = None
    factories.save(db, listing)
    install_listing(db, workspace_of(db, admin), admin, listing)
    db.commit()
    assert deliveries(db) == []


def test_a_failed_install_writes_no_event(db, admin):
    listing = factories.make_listing(db)
    install_listing(db, workspace_of(db, admin), admin, listing)
    db.rollback()
    assert deliveries(db) == []
