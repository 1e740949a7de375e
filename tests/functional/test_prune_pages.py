"""The pages of stale-app pruning: the public rules, the editors' console and
run pages, the partner's flags and notices, the delisted listing page and the
suggested apps on "My apps"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from listings.models import DelistedBy, ListingStatus, Partner
from listings.prune_models import PartnerNotice
from tests import factories

RULE_TITLES = ["No release or update", "Too few active installs", "Security review out of date",
               "Webhook endpoint failing", "Never installed"]


def page_text(response) -> str:
    return response.get_data(as_text=True)


def long_date(moment) -> str:
    return moment.strftime("%-d %b %Y")


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR)
    login(user)
    return user


# --- the public rules page ------------------------------------------------------------


def test_rules_page_lists_the_five_rules_with_default_numbers(client):
    response = client.get("/policies/pruning")
    assert response.status_code == 200
    page = page_text(response)
    for title in RULE_TITLES:
        assert f"<h3>{title}</h3>" in page
    assert "No approved release and no update to the listing for 540 days." in page
    assert "Fewer than 3 active installs for 90 days, once the listing is 180 days old." in page
    assert "older than 365 days" in page
    assert "failed for 7 days in a row" in page
    assert "Approved 180 days ago or more and never installed" in page
    assert "grace period of <strong>30 days</strong>" in page
    assert "After another <strong>90 days</strong>" in page
    assert "Existing installs keep working." in page
    assert "WordPress.org" in page  # where a default comes from


class TestConfiguredNumbers:
    @pytest.fixture
    def app_overrides(self):
        return {"PRUNE_GRACE_DAYS": 45, "PRUNE_NO_RELEASE_DAYS": 400,
                "PRUNE_ARCHIVE_AFTER_DAYS": 60, "PRUNE_RULES_OFF": "never_installed"}

    def test_rules_page_shows_the_configured_numbers(self, client):
        page = page_text(client.get("/policies/pruning"))
        assert "grace period of <strong>45 days</strong>" in page
        assert "for 400 days." in page and "540 days" not in page
        assert "After another <strong>60 days</strong>" in page
        # A rule switched off is not published as applied.
        assert "<h3>Never installed</h3>" not in page
        assert "<h3>No release or update</h3>" in page


def test_every_page_links_to_the_rules_from_the_footer(client, db):
    page = page_text(client.get("/"))
    assert 'href="/policies/pruning">How we keep the catalog fresh</a>' in page


# --- the editors' console --------------------------------------------------------------


def test_console_shows_runs_with_counts_and_the_preview_form(client, db, editor):
    factories.make_prune_run(db, flagged=4, cleared=1, delisted=2, relisted=0, archived=3,
                             seconds=75)
    factories.make_prune_run(db, dry_run=True, trigger="editor", flagged=9,
                             started_at=utcnow() - timedelta(minutes=1))
    response = client.get("/editor/pruning")
    assert response.status_code == 200
    page = page_text(response)
    assert "Runs (2)" in page
    assert "Real run" in page and "Preview</span>" in page
    assert "Scheduled (CLI)" in page and "<td>Editor</td>" in page
    assert "1 min 15 s" in page
    for count in ("4", "1", "2", "0", "3", "9"):
        assert f'<td class="num">{count}</td>' in page
    assert '<label for="as_of">As of (optional)</label>' in page
    assert ">Preview a run</button>" in page
    # The newest run comes first.
    assert page.index("Preview</span>") < page.index("Real run")
    # The console is in the editor's navigation.
    assert 'href="/editor/pruning" aria-current="page">Pruning</a>' in page


def test_console_paginates_runs(client, db, editor):
    start = utcnow() - timedelta(days=40)
    for n in range(26):
        factories.make_prune_run(db, started_at=start + timedelta(days=n), flagged=n + 100)
    first = page_text(client.get("/editor/pruning"))
    assert "Runs (26)" in first and "Page 1 of 2" in first
    assert '<td class="num">125</td>' in first and '<td class="num">100</td>' not in first
    second = page_text(client.get("/editor/pruning?page=2"))
    assert '<td class="num">100</td>' in second


def test_console_lists_open_flags_nearest_grace_end_first(client, db, editor):
    late = factories.make_listing(db, name="Late Lantern")
    soon = factories.make_listing(db, name="Soon Sparrow")
    fixed = factories.make_listing(db, name="Fixed Falcon")
    factories.make_flag(db, late, rule="webhook_failing", grace_days=25)
    factories.make_flag(db, soon, rule="never_installed", grace_days=3)
    factories.make_flag(db, fixed, cleared=True)
    page = page_text(client.get("/editor/pruning"))
    assert "Open flags (2)" in page
    assert page.index("Soon Sparrow") < page.index("Late Lantern")
    assert "Fixed Falcon" not in page
    assert "Webhook endpoint failing" in page and "Never installed" in page


def test_run_page_groups_actions_with_links(client, db, editor):
    gone = factories.make_listing(db, name="Gone Gecko")
    flagged = factories.make_listing(db, name="Flagged Finch")
    run = factories.make_prune_run(db, delisted=1, flagged=1, cleared=1, actions=[
        {"action": "delist", "listing_id": gone.id, "slug": gone.slug, "name": gone.name,
         "rules": ["no_recent_release"],
         "detail": {"no_recent_release": {"last_activity_at": "2023-03-01T00:00:00+00:00"}}},
        {"action": "clear", "listing_id": gone.id + 1000, "slug": "fixed-fox", "name": "Fixed Fox",
         "rules": ["webhook_failing"], "detail": {"reason": "fixed"}},
        {"action": "flag", "listing_id": flagged.id, "slug": flagged.slug, "name": flagged.name,
         "rules": ["webhook_failing", "never_installed"], "detail": {}},
    ])
    page = page_text(client.get(f"/editor/pruning/runs/{run.id}"))
    assert "Prune run" in page and "Preview — nothing was changed" not in page
    assert "Delisted (1)" in page and "Flagged (1)" in page and "Archived (0)" in page
    assert f'href="/editor/listings/{gone.id}">Gone Gecko</a>' in page
    assert "Webhook endpoint failing; Never installed" in page
    assert "No release or update (last approved release or update on March 1, 2023)" in page
    assert "Fixed Fox</a> <span class=\"muted\">— Webhook endpoint failing: the cause is fixed" \
        in " ".join(page.split())
    assert page.index("Delisted (1)") < page.index("Gone Gecko") < page.index("Flagged (1)")


def test_dry_run_page_says_nothing_changed_and_when_actions_were_capped(client, db, editor):
    listing = factories.make_listing(db)
    run = factories.make_prune_run(db, dry_run=True, trigger="editor", flagged=1500, actions=[
        {"action": "flag", "listing_id": listing.id, "slug": listing.slug, "name": listing.name,
         "rules": ["never_installed"], "detail": {}}])
    page = page_text(client.get(f"/editor/pruning/runs/{run.id}"))
    assert "Preview — nothing was changed." in page
    assert "kept the first 1 of its 1500 actions" in page


def test_unknown_run_is_404(client, db, editor):
    assert client.get("/editor/pruning/runs/999999").status_code == 404


@pytest.mark.parametrize("as_of, message", [
    ("2030-13-45", "Enter the date as YYYY-MM-DD"),
    ("next week", "Enter the date as YYYY-MM-DD"),
    ("2001-01-01", "Choose today or a later day"),
    ("9000-01-01", "Choose a day within the next ten years."),
])
def test_preview_with_a_bad_date_is_refused_with_a_message(client, db, editor, as_of, message):
    response = client.post("/editor/pruning/preview", data={"as_of": as_of})
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert f'value="{as_of}"' in page  # what the editor typed stays
    assert "No runs yet." in page


# --- the partner portal ----------------------------------------------------------------


@pytest.fixture
def partner_world(db):
    partner = factories.make_partner(db, name="Acme Apps")
    member = factories.make_user(db, role=Role.PARTNER, partner=partner)
    listing = factories.make_listing(db, partner=partner, name="Acme Notes")
    flag = factories.make_flag(db, listing, rule="no_recent_release",
                               detail={"last_activity_at": "2023-01-15T10:00:00+00:00"})
    notice = factories.make_partner_notice(db, listing, message="Acme Notes was flagged.")
    rival_partner = factories.make_partner(db, name="Rival Co")
    rival = factories.make_user(db, role=Role.PARTNER, partner=rival_partner)
    rival_listing = factories.make_listing(db, partner=rival_partner, name="Rival Radar")
    factories.make_flag(db, rival_listing, rule="webhook_failing")
    rival_notice = factories.make_partner_notice(db, rival_listing,
                                                 message="Rival Radar was flagged.")
    return member, listing, flag, notice, rival, rival_notice


def test_partner_sees_its_flags_and_notices_with_the_fix_and_the_date(client, db, login,
                                                                      partner_world):
    member, listing, flag, _notice, _rival, _rival_notice = partner_world
    login(member)
    page = page_text(client.get("/partner/"))
    assert "Acme Notes</a>: No release or update" in page
    assert "No approved release and no update to the listing for 540 days." in page
    assert ("What we measured:</strong> last approved release or update on January 15, 2023."
            in page)
    assert "How to fix it:</strong> Ship a new release" in page
    assert f"will be delisted on <time datetime=\"{flag.grace_ends_at.isoformat()}\">" \
           f"{long_date(flag.grace_ends_at)}</time>" in page
    assert 'href="/policies/pruning#rule-no_recent_release"' in page
    assert "Acme Notes was flagged." in page
    assert 'href="/policies/pruning">Catalog rules</a>' in page
    # Never another partner's.
    assert "Rival Radar" not in page and "Webhook endpoint failing" not in page

    detail = page_text(client.get(f"/partner/listings/{listing.id}"))
    assert "No release or update" in detail and "Acme Notes was flagged." in detail
    assert "will be delisted on" in detail


def test_partner_detail_shows_only_that_listings_flags(client, db, login, partner_world):
    member, listing, _flag, _notice, _rival, _rival_notice = partner_world
    other = factories.make_listing(db, partner=db.get(Partner, listing.partner_id),
                                   name="Acme Calendar")
    factories.make_flag(db, other, rule="never_installed")
    login(member)
    detail = page_text(client.get(f"/partner/listings/{listing.id}"))
    assert "No release or update" in detail and "Never installed" not in detail
    assert "Never installed" in page_text(client.get(f"/partner/listings/{other.id}"))


def test_flag_of_a_prune_delisted_listing_says_how_to_come_back(client, db, login):
    partner = factories.make_partner(db)
    member = factories.make_user(db, role=Role.PARTNER, partner=partner)
    delisted_at = utcnow() - timedelta(days=2)
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.DELISTED,
                                     delisted_by=DelistedBy.PRUNE, delisted_at=delisted_at)
    factories.make_flag(db, listing, flagged_at=utcnow() - timedelta(days=40))
    login(member)
    page = page_text(client.get("/partner/"))
    assert f"Delisted on {long_date(delisted_at)}." in page
    assert f"until it is archived on {long_date(delisted_at + timedelta(days=90))}" in page


def test_partner_dismisses_its_own_notice_but_not_anothers(client, db, login, partner_world):
    member, listing, _flag, notice, _rival, rival_notice = partner_world
    login(member)
    response = client.post(f"/partner/notices/{notice.id}/dismiss",
                           data={"next": f"/partner/listings/{listing.id}"})
    assert response.status_code == 303
    assert response.location.endswith(f"/partner/listings/{listing.id}")
    assert "Acme Notes was flagged." not in page_text(client.get("/partner/"))

    assert client.post(f"/partner/notices/{rival_notice.id}/dismiss").status_code == 404
    db.expire_all()
    assert db.get(PartnerNotice, rival_notice.id).dismissed_at is None
    # An open redirect is not followed.
    again = client.post(f"/partner/notices/{notice.id}/dismiss", data={"next": "//evil.example"})
    assert again.location.endswith("/partner/")


# --- the storefront --------------------------------------------------------------------


def test_prune_delisted_listing_names_the_broken_rules(client, db):
    listing = factories.make_listing(db, name="Dusty Dial", status=ListingStatus.DELISTED,
                                     delisted_by=DelistedBy.PRUNE, delisted_at=utcnow(),
                                     review_note="Broke: no_recent_release, never_installed")
    factories.make_flag(db, listing, rule="never_installed")
    factories.make_flag(db, listing, rule="no_recent_release")
    factories.make_flag(db, listing, rule="webhook_failing", cleared=True)
    page = page_text(client.get(f"/apps/{listing.slug}"))
    assert "This app is no longer listed." in page
    assert "broke these of our <a href=\"/policies/pruning\">published catalog rules</a>" in page
    assert "<li>No release or update</li><li>Never installed</li>" in page
    assert "Webhook endpoint failing" not in page
    assert "Workspaces that installed it can keep using it." in page


def test_editor_delisted_listing_keeps_its_reason(client, db):
    listing = factories.make_listing(db, status=ListingStatus.DELISTED,
                                     delisted_by=DelistedBy.EDITOR, delisted_at=utcnow(),
                                     review_note="Security issue reported.")
    factories.make_flag(db, listing, rule="never_installed")
    page = page_text(client.get(f"/apps/{listing.slug}"))
    assert "Reason: Security issue reported." in page
    assert "published catalog rules" not in page


# --- "My apps": the delisted notice and its suggested alternatives ----------------------


def test_customer_sees_the_delisted_notice_with_three_alternatives(client, db, login, admin):
    workspace = factories.workspace_of(db, admin)
    category = factories.make_category(db)
    gone = factories.make_listing(db, category=category, name="Gone Gecko",
                                  status=ListingStatus.DELISTED, delisted_by=DelistedBy.PRUNE)
    factories.make_install(db, workspace, gone)
    alternatives = [factories.make_listing(db, category=category, name=f"Alt {n}",
                                           tagline=f"Tagline {n}") for n in range(3)]
    factories.make_review(db, alternatives[0], rating=4)
    factories.make_delisted_notification(db, workspace, gone, suggested=alternatives,
                                         message="Gone Gecko is no longer listed.")
    login(admin)
    page = page_text(client.get("/my/apps"))
    assert "Gone Gecko is no longer listed." in page
    assert "Similar apps you could try instead:" in page
    for alt in alternatives:
        assert f'<a href="/apps/{alt.slug}">{alt.name}</a>' in page
        assert alt.tagline in page
    assert "Rated 4.0 out of 5 from 1 review" in page
    assert page.index("Alt 0") < page.index("Alt 1") < page.index("Alt 2")  # best first
    assert "The app keeps working in your workspace." in page


def test_alternatives_no_longer_published_are_left_out(client, db, login, admin):
    workspace = factories.workspace_of(db, admin)
    gone = factories.make_listing(db, status=ListingStatus.DELISTED)
    live = factories.make_listing(db, name="Still Here")
    delisted_too = factories.make_listing(db, name="Also Gone", status=ListingStatus.DELISTED)
    factories.make_delisted_notification(db, workspace, gone, suggested=[delisted_too, live])
    login(admin)
    page = page_text(client.get("/my/apps"))
    assert "Still Here" in page and "Also Gone" not in page


def test_alternatives_for_many_notices_cost_one_query(app, client, db, login, admin):
    workspace = factories.workspace_of(db, admin)

    def add_notices(count):
        for _ in range(count):
            gone = factories.make_listing(db, status=ListingStatus.DELISTED)
            factories.make_delisted_notification(
                db, workspace, gone, suggested=[factories.make_listing(db) for _ in range(3)])

    login(admin)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app.extensions["bazaar.engine"]
    add_notices(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/my/apps")
        with_one = len(statements)
        statements.clear()
        add_notices(4)
        statements.clear()
        page = page_text(client.get("/my/apps"))
        with_five = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.count("Similar apps you could try instead:") == 5
    assert with_five == with_one


def test_notice_without_suggestions_shows_no_alternatives(client, db, login, admin):
    workspace = factories.workspace_of(db, admin)
    gone = factories.make_listing(db, status=ListingStatus.DELISTED)
    factories.make_delisted_notification(db, workspace, gone, suggested=None)
    login(admin)
    page = page_text(client.get("/my/apps"))
    assert "is no longer listed in Bazaar" in page
    assert "Similar apps you could try instead:" not in page


# --- the dry-run preview (runs the real job) ---------------------------------------------


def test_preview_far_ahead_shows_what_would_happen_and_changes_nothing(client, db, editor):
    from listings.models import AuditEvent, Listing
    from listings.prune_models import ListingFlag, PruneRun

    listing = factories.make_listing(db, name="Stale Stork")
    as_of = (utcnow() + timedelta(days=3 * 365)).date()
    response = client.post("/editor/pruning/preview", data={"as_of": as_of.isoformat()})
    assert response.status_code == 303
    db.expire_all()
    [run] = db.exec(select(PruneRun)).all()
    assert response.location.endswith(f"/editor/pruning/runs/{run.id}")
    assert run.dry_run and run.trigger == "editor" and run.status == "completed"
    assert run.as_of.date() == as_of and run.flagged == 1

    page = page_text(client.get(response.location))
    assert "Preview — nothing was changed." in page
    assert "Flagged (1)" in page
    assert f'href="/editor/listings/{listing.id}">Stale Stork</a>' in page
    assert "Never installed (published on" in page
    # Nothing but the run row (and the audit of who asked) was written.
    assert db.exec(select(ListingFlag)).all() == []
    assert db.exec(select(PartnerNotice)).all() == []
    assert db.get(Listing, listing.id).status == ListingStatus.PUBLISHED
    [audit] = db.exec(select(AuditEvent).where(AuditEvent.action == "prune.previewed")).all()
    assert audit.actor_id == editor.id and audit.target_id == run.id
    # The console lists the preview.
    console = page_text(client.get("/editor/pruning"))
    assert "Runs (1)" in console and "Preview</span>" in console


def test_preview_now_of_a_fresh_catalog_flags_nothing(client, db, editor):
    factories.make_listing(db)
    page = page_text(client.post("/editor/pruning/preview", data={"as_of": ""},
                                 follow_redirects=True))
    assert "Preview — nothing was changed." in page
    assert "Flagged (0)" in page and "Delisted (0)" in page


def test_preview_while_a_run_holds_the_lock_says_so(app, client, db, editor):
    from core.locks import job_lock
    from listings.prune import LOCK_NAME
    from listings.prune_models import PruneRun

    with job_lock(app.extensions["bazaar.engine"], LOCK_NAME):
        response = client.post("/editor/pruning/preview", data={})
    assert response.status_code == 303
    assert response.location.endswith("/editor/pruning")
    page = page_text(client.get(response.location))
    assert "Another prune run is in progress" in page
    db.expire_all()
    assert db.exec(select(PruneRun)).all() == []


def test_after_real_runs_the_pages_tell_customer_partner_and_visitor(app, client, db, login,
                                                                     admin):
    """The job flags, then delists; each page shows its part of the story."""
    from listings.prune import run_prune

    workspace = factories.workspace_of(db, admin)
    category = factories.make_category(db)
    partner = factories.make_partner(db)
    member = factories.make_user(db, role=Role.PARTNER, partner=partner)
    gone = factories.make_listing(db, partner=partner, category=category, name="Gone Gecko")
    factories.make_install(db, workspace, gone)
    alternatives = [factories.make_listing(db, category=category, name=f"Alt {n}")
                    for n in range(3)]
    for alternative in alternatives:
        factories.make_exemption(db, alternative, days=2000)  # they stay published throughout

    first = utcnow() + timedelta(days=400)
    run_prune(app, now=first)
    run_prune(app, now=first + timedelta(days=31))

    login(admin)
    my_apps = page_text(client.get("/my/apps"))
    assert "“Gone Gecko” was removed from the Bazaar catalog" in my_apps
    for alternative in alternatives:
        assert f'<a href="/apps/{alternative.slug}">{alternative.name}</a>' in my_apps
    assert f"Open {gone.name}" in my_apps  # the install keeps working

    listing_page = page_text(client.get(f"/apps/{gone.slug}"))
    assert "<li>Too few active installs</li>" in listing_page

    client.post("/account/logout")
    login(member)
    dashboard = page_text(client.get("/partner/"))
    assert "Gone Gecko</a>: Too few active installs" in dashboard
    assert "Fix it and the next nightly run lists it again" in dashboard
    assert "was delisted on" in dashboard  # the job's notice
