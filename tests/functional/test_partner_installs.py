"""A partner sees who installed its apps, and only its own apps."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import Role
from core.db import utcnow
from installs.models import Trial
from tests import factories


def test_partner_sees_installs_with_workspace_status_and_scopes(client, db, login):
    partner = factories.make_partner(db)
    listing = factories.make_listing(db, partner=partner)
    customer = factories.make_user(db, Role.CUSTOMER)
    workspace = factories.make_workspace(db, customer, name="Acme Ops")
    factories.make_install(db, workspace, listing)
    other = factories.make_workspace(db, factories.make_user(db), name="Globex")
    gone = factories.make_install(db, other, listing, status="uninstalled", scopes=[])
    trial = factories.save(db, Trial(workspace_id=other.id, listing_id=listing.id,
                                     ends_at=utcnow() + timedelta(days=5)))
    on_trial = factories.make_install(db, other, listing)
    on_trial.trial_id = trial.id
    factories.save(db, on_trial)
    factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                           factories.make_listing(db))  # someone else's app
    login(factories.make_user(db, Role.PARTNER, partner=partner))

    page = client.get(f"/partner/listings/{listing.id}/installs").get_data(as_text=True)

    assert "Acme Ops" in page and "Globex" in page
    assert "<code>contacts:read</code>" in page
    assert page.count("<tr>") == 1 + 3  # header + this listing's three installs
    assert "Uninstalled" in page and f"<code>{gone.id}</code>" in page
    assert "Active · trial" in page.replace("</span>", "")
    assert "<dt>Trials running</dt><dd>1</dd>" in page
    detail = client.get(f"/partner/listings/{listing.id}").get_data(as_text=True)
    assert f'href="/partner/listings/{listing.id}/installs"' in detail


def test_another_partners_installs_are_missing(client, db, login):
    listing = factories.make_listing(db)
    login(factories.make_user(db, Role.PARTNER))
    assert client.get(f"/partner/listings/{listing.id}/installs").status_code == 404
