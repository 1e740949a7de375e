"""The stale-app pruning journey in a real browser, on a Bazaar of its own (the
job delists most of the demo catalog, which the other journeys rely on).

The customer installs a free app; an editor exempts three other apps of its
category (so something healthy is left to suggest), previews a dry run far in
the future, and the nightly job runs twice from the command line at that time
(flagging, then delisting after the grace period). The editor sees the app
delisted in the run; the customer sees the notice on My apps with the
suggested alternatives, and the app's page says why it is gone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from e2e.conftest import sign_in

# A free app of the demo partner's that the demo customer installs.
APP, SLUG = "PipeSync for Salesforce", "pipesync-for-salesforce"


def _other_apps_of_its_category(database_url: str, count: int) -> list[tuple[int, str]]:
    """(id, name) of published apps in the same category as ``SLUG``, best rated first."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT other.id, other.name FROM listings AS app "
                "JOIN listings AS other ON other.category_id = app.category_id "
                "WHERE app.slug = :slug AND other.id != app.id AND other.status = 'published' "
                "ORDER BY other.name LIMIT :count"), {"slug": SLUG, "count": count}).all()
    finally:
        engine.dispose()
    return [(row.id, row.name) for row in rows]


def test_editor_previews_the_job_delists_and_the_customer_is_told(browser, own_live_server,
                                                                  own_page):
    today = datetime.now(UTC).date()
    # Far enough ahead that every demo app has gone 540 days without a release
    # (the demo's newest is from today); the second run is past the 30-day grace.
    flag_day = today + timedelta(days=560)
    delist_day = flag_day + timedelta(days=31)
    exempt_until = today + timedelta(days=700)

    # 1. The customer installs a free app.
    customer = own_page
    sign_in(customer, "customer@example.com")
    customer.goto(f"/apps/{SLUG}")
    customer.get_by_role("button", name="Install — Free", exact=True).click()
    customer.get_by_role("button", name="Confirm and install").click()
    expect(customer.get_by_role("heading", level=1)).to_have_text(f"{APP} is installed")

    # 2. An editor exempts three other apps of its category from every rule.
    alternatives = _other_apps_of_its_category(own_live_server.env["DATABASE_URL"], 3)
    assert len(alternatives) == 3, "the demo category should have three other apps"
    editor = browser.new_context(base_url=own_live_server).new_page()
    editor.set_default_timeout(10_000)
    sign_in(editor, "editor@example.com")
    for listing_id, name in alternatives:
        editor.goto(f"/editor/listings/{listing_id}")
        exempt = editor.get_by_role("form", name="Exempt from the rules")
        exempt.get_by_label("Rule").select_option(label="All rules")
        exempt.get_by_label("Reason").fill("Maintained; the partner ships from a private repo.")
        exempt.get_by_label("Exempt until").fill(exempt_until.isoformat())
        exempt.get_by_role("button", name="Exempt listing").click()
        expect(editor.locator(".prune-editor")).to_contain_text("Maintained; the partner ships")

    # 3. The editor previews a run at the first day: the app would be flagged; nothing changes.
    editor.goto("/editor/pruning")
    editor.get_by_label("As of (optional)").fill(flag_day.isoformat())
    editor.get_by_role("button", name="Preview a run").click()
    expect(editor.get_by_text("Preview — nothing was changed.")).to_be_visible()
    flagged = editor.locator("section", has=editor.get_by_role("heading", name=re.compile(r"^Flagged")))
    expect(flagged.get_by_role("link", name=APP)).to_be_visible()
    for _, name in alternatives:
        expect(flagged.get_by_role("link", name=name, exact=True)).to_have_count(0)
    customer.goto(f"/apps/{SLUG}")
    expect(customer.get_by_text("This app is no longer listed.")).to_have_count(0)

    # 4. The nightly job, run from the command line at that time: flags, then delists.
    first = own_live_server.flask("listings", "prune", "--now", flag_day.isoformat())
    assert re.search(r"Flagged [1-9]", first.stdout), first.stdout
    second = own_live_server.flask("listings", "prune", "--now", delist_day.isoformat())
    assert re.search(r"delisted [1-9]", second.stdout), second.stdout

    # 5. The editor sees the real run and the app among the delisted.
    editor.goto("/editor/pruning")
    expect(editor.get_by_text("Real run").first).to_be_visible()
    editor.locator("table a").first.click()  # the newest run
    delisted = editor.locator("section", has=editor.get_by_role("heading", name=re.compile(r"^Delisted")))
    expect(delisted.get_by_role("link", name=APP)).to_be_visible()

    # 6. The customer is told, with the exempted apps of the same category suggested.
    customer.goto("/my/apps")
    notice = customer.locator("li", has_text=f"“{APP}” was removed from the Bazaar catalog")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Similar apps you could try instead:")
    for _, name in alternatives:
        expect(notice.get_by_role("link", name=name)).to_be_visible()
    # The app keeps working: it is still among the installed apps.
    expect(customer.locator(".installed-app", has_text=APP)).to_be_visible()
    notice.get_by_role("link", name=alternatives[0][1]).click()
    expect(customer.get_by_role("heading", level=1)).to_have_text(alternatives[0][1])

    # 7. The delisted app's page says why, with a link to the published rules.
    customer.goto(f"/apps/{SLUG}")
    expect(customer.get_by_text("This app is no longer listed.")).to_be_visible()
    expect(customer.get_by_role("link", name=re.compile("rules", re.I)).first).to_be_visible()
    editor.context.close()
