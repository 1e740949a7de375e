"""Trials: one per workspace and app, days left on My apps, a reminder, and the end."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from accounts.models import Notification
from core.db import utcnow
from installs.models import Install, Trial
from installs.services import InstallError, install_listing, uninstall
from installs.trials import settle_trials
from listings.models import PricingModel
from listings.services import current_release
from tests import factories
from tests.factories import workspace_of
from webhooks.models import WebhookDelivery


def trial_app(db, days: int = 14):
    return factories.make_listing(db, pricing_model=PricingModel.FLAT_MONTHLY,
                                  monthly_price=2500, trial_days=days)


def events(db, listing) -> list[str]:
    db.expire_all()
    rows = db.exec(select(WebhookDelivery).where(WebhookDelivery.listing_id == listing.id)
                   .order_by(WebhookDelivery.id)).all()
    return [row.event_type for row in rows]


def start_trial(db, admin, listing, now=None) -> Install:
    install, created = install_listing(db, workspace_of(db, admin), admin, listing, now=now)
    db.commit()
    assert created
    return install


def test_consent_and_confirm_start_a_trial_without_a_card(client, db, login, admin):
    listing = trial_app(db)
    login(admin)

    page = client.get(f"/apps/{listing.slug}").get_data(as_text=True)
    assert "Start 14-day free trial" in page
    page = client.get(f"/apps/{listing.slug}/install").get_data(as_text=True)
    assert "14-day free trial" in page and "No card needed" in page
    assert "Confirm and start free trial" in page

    response = client.post(f"/apps/{listing.slug}/install/confirm",
                           data={"release_id": current_release(db, listing.id).id})
    assert response.status_code == 303
    [install] = db.exec(select(Install)).all()
    trial = db.get(Trial, install.trial_id)
    assert trial.status == "active" and trial.workspace_id == install.workspace_id
    assert timedelta(days=13, hours=23) < (trial.ends_at - trial.started_at) <= timedelta(days=14)
    assert "14 days left" in client.get(response.location).get_data(as_text=True)
    assert "14 days left" in client.get("/my/apps").get_data(as_text=True)


def test_second_trial_is_refused_after_an_uninstall(client, db, login, admin):
    listing = trial_app(db)
    install = start_trial(db, admin, listing)
    uninstall(db, install, admin)
    db.commit()
    db.refresh(install)
    assert db.get(Trial, install.trial_id).status == "cancelled"

    with pytest.raises(InstallError, match="already used its free trial"):
        install_listing(db, workspace_of(db, admin), admin, listing)
    login(admin)
    response = client.get(f"/apps/{listing.slug}/install", follow_redirects=True)
    assert "already used its free trial" in response.get_data(as_text=True)
    assert events(db, listing) == ["install.created", "install.uninstalled"]


def test_another_workspace_gets_its_own_trial(db, admin):
    listing = trial_app(db)
    start_trial(db, admin, listing)
    other = factories.make_user(db)
    factories.make_workspace(db, other)
    start_trial(db, other, listing)
    assert len(db.exec(select(Trial)).all()) == 2


def test_reminder_three_days_before_the_end_goes_out_once(client, db, login, admin):
    listing = trial_app(db, days=14)
    start = utcnow()
    start_trial(db, admin, listing, now=start)

    assert settle_trials(db, now=start + timedelta(days=10)).reminded == 0
    sweep = settle_trials(db, now=start + timedelta(days=11, hours=1))
    db.commit()
    assert sweep.reminded == 1
    assert settle_trials(db, now=start + timedelta(days=12)).reminded == 0  # once only
    db.commit()

    [note] = db.exec(select(Notification)).all()
    assert note.kind == "trial_ending" and f"trial of {listing.name} ends in 3 days" in note.message
    assert events(db, listing) == ["install.created", "trial.will_end"]
    login(admin)
    page = client.get("/my/apps").get_data(as_text=True)
    assert f"trial of {listing.name} ends in" in page


def test_trial_without_payment_method_expires_and_disables_the_app(client, db, login, admin):
    listing = trial_app(db, days=7)
    start = utcnow() - timedelta(days=8)
    install = start_trial(db, admin, listing, now=start)

    login(admin)
    # My apps settles the workspace's own trials even before the nightly run.
    page = client.get("/my/apps").get_data(as_text=True)

    db.refresh(install)
    assert install.status == "expired" and install.granted_scopes == []
    trial = db.get(Trial, install.trial_id)
    assert trial.status == "expired" and trial.ended_at is not None
    assert "Disabled apps" in page and f"so {listing.name} is disabled" in page
    assert f"Your trial of {listing.name} ended, so the app is disabled" in page
    assert f"/my/apps/{install.id}/open" not in page
    assert events(db, listing) == ["install.created", "trial.ended"]
    ended = db.exec(select(WebhookDelivery).where(WebhookDelivery.event_type == "trial.ended")).one()
    body = json.loads(ended.payload)
    assert body["data"]["outcome"] == "expired"
    assert body["data"]["install"]["status"] == "expired"
    assert body["data"]["install"]["granted_scopes"] == []
    # Opening a disabled app is refused.
    response = client.post(f"/my/apps/{install.id}/open", follow_redirects=True)
    assert "is not active in your workspace" in response.get_data(as_text=True)
    # Ending is done once.
    assert settle_trials(db, now=utcnow()).expired == 0


def test_nightly_command_settles_every_workspace(runner, db, admin):
    listing = trial_app(db, days=5)
    start_trial(db, admin, listing, now=utcnow() - timedelta(days=3))
    other_listing = trial_app(db, days=30)
    start_trial(db, admin, other_listing)

    result = runner.invoke(args=["installs", "trials"])
    assert result.exit_code == 0, result.output
    assert "1 reminded, 0 converted, 0 expired" in result.output

    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = runner.invoke(args=["installs", "trials", "--now", later])
    assert "0 reminded, 0 converted, 1 expired" in result.output


def test_nightly_command_rejects_a_malformed_time(runner):
    result = runner.invoke(args=["installs", "trials", "--now", "tomorrow"])
    assert result.exit_code == 2
    assert "'tomorrow' is not a time" in result.output


@pytest.mark.parametrize("app_overrides", [{"WEBHOOK_SENDER": "thread"}])
def test_commands_leave_their_events_to_the_web_processes(app, runner, db, admin, app_overrides):
    from webhooks.sender import sender_of

    listing = trial_app(db, days=2)
    start_trial(db, admin, listing, now=utcnow() - timedelta(days=1))
    sender_of(app).stop()  # started by that commit, as in a web process

    result = runner.invoke(args=["installs", "trials"])

    assert "1 reminded" in result.output
    # The command exits when done; a sender thread started here would be cut off mid-POST.
    assert not sender_of(app).running
    pending = db.exec(select(WebhookDelivery).where(
        WebhookDelivery.event_type == "trial.will_end")).one()
    assert pending.status == "pending"
