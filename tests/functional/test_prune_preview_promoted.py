"""Apps an editor promoted (an active editor badge, or a place in a home page
collection) are never delisted silently by the prune job: the job leaves them
listed, and its preview and run pages show them in a "Needs a decision" group
saying why, until an editor decides (delist, exempt, or take the promotion away)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from listings import prune
from listings.models import Listing, ListingStatus
from tests import factories

NOW = datetime(2030, 6, 1, 3, 17, tzinfo=UTC)
DAY = timedelta(days=1)
GRACE_ENDED = NOW + 30 * DAY


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR)
    login(user)
    return user


def failing(db, name: str) -> Listing:
    """A published app whose webhook has failed for 10 days at NOW (and is installed)."""
    listing = factories.make_aged_listing(db, NOW, published_days=400, activity_days=30, name=name,
                                          webhook_failing_since=NOW - 10 * DAY,
                                          webhook_last_error="answered HTTP 500")
    for _ in range(3):
        factories.make_install_at(db, listing, NOW - 300 * DAY)
    return listing


def status(db, listing: Listing) -> str:
    db.rollback()
    db.expire_all()
    return db.get(Listing, listing.id).status


def section(page: str, heading: str) -> str:
    """The HTML of the group whose heading starts with ``heading``, up to the next group."""
    start = page.index(f">{heading}")
    end = page.find("<section", start)
    return page[start:end if end != -1 else len(page)]


def test_promoted_apps_need_a_decision_instead_of_a_silent_delisting(app, client, db, editor):
    picked = failing(db, "Picked App")
    factories.make_badge(db, picked, "staff_pick")
    shelved = failing(db, "Shelved App")
    factories.make_collection(db, [shelved], name="Spring picks")
    plain = failing(db, "Plain App")
    # A badge that has ended, and a security review (a certificate, not a promotion), count for nothing.
    revoked = factories.make_badge(db, plain, "built_for_bazaar")
    revoked.revoked_at = NOW - DAY
    db.add(revoked)
    db.commit()
    prune.run_prune(app, now=NOW)   # flags all three

    preview = prune.run_prune(app, now=GRACE_ENDED, dry_run=True)
    page = client.get(f"/editor/pruning/runs/{preview.id}").get_data(as_text=True)

    assert preview.delisted == 1
    decide = section(page, "Needs a decision (2)")
    assert "Picked App" in decide and "Staff pick badge" in decide
    assert "Shelved App" in decide and "in the collection “Spring picks”" in decide
    assert "Webhook endpoint failing" in decide
    assert "leaves these apps listed until an editor decides" in decide
    delisted = section(page, "Delisted (1)")
    assert "Plain App" in delisted and "Picked App" not in delisted and "Shelved App" not in delisted

    # The real run skips them too, and says so on its page.
    real = prune.run_prune(app, now=GRACE_ENDED)
    assert real.delisted == 1
    assert status(db, picked) == ListingStatus.PUBLISHED
    assert status(db, shelved) == ListingStatus.PUBLISHED
    assert status(db, plain) == ListingStatus.DELISTED
    real_page = client.get(f"/editor/pruning/runs/{real.id}").get_data(as_text=True)
    assert "Picked App" in section(real_page, "Needs a decision (2)")


def test_once_the_promotion_ends_the_next_run_delists(app, client, db, editor):
    picked = failing(db, "Picked App")
    badge = factories.make_badge(db, picked, "staff_pick")
    prune.run_prune(app, now=NOW)
    prune.run_prune(app, now=GRACE_ENDED)
    assert status(db, picked) == ListingStatus.PUBLISHED

    # The editor decides: the badge goes (through the console), the next run delists.
    client.post(f"/editor/badges/{badge.id}/revoke", data={"reason": "Broken webhook."})
    later = prune.run_prune(app, now=GRACE_ENDED + DAY)

    assert later.delisted == 1 and status(db, picked) == ListingStatus.DELISTED


def test_a_run_without_promoted_apps_says_none_need_a_decision(app, client, db, editor):
    failing(db, "Plain App")
    prune.run_prune(app, now=NOW)
    preview = prune.run_prune(app, now=GRACE_ENDED, dry_run=True)
    page = client.get(f"/editor/pruning/runs/{preview.id}").get_data(as_text=True)
    assert "Needs a decision (0)" in page and "Delisted (1)" in page
