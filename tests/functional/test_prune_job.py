"""The nightly prune job (``listings.prune.run_prune``): each published rule, the
stages (flag, delist, archive, clear, list again), exemptions, rules switched
off, idempotency, dry runs, crash recovery, the search outbox and the number
of queries.

Every run happens at a fixed time far from today (2030), and every listing is
dated from it, so nothing depends on the day the tests run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func
from sqlmodel import col, select

from accounts.models import Notification, Role
from core.db import as_utc, get_engine
from core.locks import job_lock
from installs.models import Install
from listings import prune
from listings.models import AuditEvent, Listing, ListingStatus
from listings.prune_models import ListingFlag, PartnerNotice, PruneRun, PruneRunStatus
from listings.prune_plan import suggest_alternatives
from listings.services import delist_listing
from search import sync as search_sync
from search.models import SearchOutbox
from tests import factories

NOW = datetime(2030, 6, 1, 3, 17, tzinfo=UTC)
DAY = timedelta(days=1)


# --- helpers ----------------------------------------------------------------------------


def healthy(db, *, published_days: int = 400, installs: int = 3, **fields) -> Listing:
    """A published listing that breaks no rule at NOW unless ``fields`` make it:
    recently updated, installed ``installs`` times long ago, no failing webhook."""
    fields.setdefault("activity_days", 30)
    listing = factories.make_aged_listing(db, NOW, published_days=published_days, **fields)
    for _ in range(installs):
        factories.make_install_at(db, listing, NOW - timedelta(days=published_days - 1))
    return listing


def failing_webhook(db, days: int = 10, **fields) -> Listing:
    """A healthy listing whose webhook endpoint has failed for ``days`` days at NOW."""
    return healthy(db, webhook_failing_since=NOW - timedelta(days=days),
                   webhook_last_error="answered HTTP 500", **fields)


def fresh(db) -> None:
    """See what the job committed in its own session: end our snapshot, forget loaded rows."""
    db.rollback()
    db.expire_all()


def reload(db, listing: Listing) -> Listing:
    fresh(db)
    return db.get(Listing, listing.id)


def open_rules(db, listing: Listing) -> set[str]:
    fresh(db)
    return set(db.exec(select(ListingFlag.rule).where(ListingFlag.listing_id == listing.id,
                                                      col(ListingFlag.cleared_at).is_(None))).all())


def notices(db, listing: Listing, kind: str | None = None) -> list[PartnerNotice]:
    fresh(db)
    query = select(PartnerNotice).where(PartnerNotice.listing_id == listing.id)
    if kind:
        query = query.where(PartnerNotice.kind == kind)
    return list(db.exec(query.order_by(PartnerNotice.id)).all())


def audit_actions(db, listing: Listing) -> list[str]:
    fresh(db)
    return list(db.exec(select(AuditEvent.action).where(AuditEvent.target_type == "listing",
                                                        AuditEvent.target_id == listing.id,
                                                        col(AuditEvent.action).like("prune.%"))
                        .order_by(AuditEvent.id)).all())


def row_counts(db) -> dict[str, int]:
    fresh(db)
    return {model.__name__: db.exec(select(func.count()).select_from(model)).one()
            for model in (ListingFlag, PartnerNotice, AuditEvent, Notification)}


def statuses(db, *listings: Listing) -> list[str]:
    return [reload(db, listing).status for listing in listings]


def run(app, at: datetime = NOW, **options) -> PruneRun:
    return prune.run_prune(app, now=at, **options)


def counts_of(run_row: PruneRun) -> tuple[int, int, int, int, int]:
    return (run_row.flagged, run_row.cleared, run_row.delisted, run_row.relisted,
            run_row.archived)


# --- the rules ----------------------------------------------------------------------------


def test_a_healthy_catalog_gives_no_flags(app, db):
    healthy(db)
    healthy(db, published_days=20, installs=0)  # young: no install rule applies yet

    finished = run(app)

    assert finished.status == PruneRunStatus.COMPLETED
    assert counts_of(finished) == (0, 0, 0, 0, 0)
    assert row_counts(db)["ListingFlag"] == 0


def test_no_release_or_update_for_540_days_is_flagged(app, db):
    stale = healthy(db, published_days=700, activity_days=541)
    inside = healthy(db, published_days=700, activity_days=539)
    new_release_only = healthy(db, published_days=700, activity_days=600, release_days=10)
    edited_only = healthy(db, published_days=700, activity_days=10, release_days=600)

    run(app)

    assert open_rules(db, stale) == {"no_recent_release"}
    assert open_rules(db, inside) == set()
    assert open_rules(db, new_release_only) == set()
    assert open_rules(db, edited_only) == set()
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == stale.id)).one()
    assert flag.detail["last_activity_at"].startswith((NOW - timedelta(days=541)).date().isoformat())


def test_fewer_than_three_active_installs_for_90_days_is_flagged(app, db):
    few = healthy(db, published_days=200, installs=2)
    enough = healthy(db, published_days=200, installs=3)
    young = healthy(db, published_days=170, installs=2)  # under 180 days old
    # An install removed 30 days ago was active during the 90-day window: it counts.
    recent_loss = healthy(db, published_days=200, installs=2)
    factories.make_install_at(db, recent_loss, NOW - 150 * DAY, uninstalled_at=NOW - 30 * DAY)
    # One removed 100 days ago does not.
    old_loss = healthy(db, published_days=200, installs=2)
    factories.make_install_at(db, old_loss, NOW - 150 * DAY, uninstalled_at=NOW - 100 * DAY)

    run(app)

    assert open_rules(db, few) == {"few_active_installs"}
    assert open_rules(db, old_loss) == {"few_active_installs"}
    assert open_rules(db, enough) == set()
    assert open_rules(db, young) == set()
    assert open_rules(db, recent_loss) == set()
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == few.id)).one()
    assert flag.detail["active_installs"] == 2


def test_a_security_review_older_than_a_year_is_flagged(app, db):
    expired = healthy(db)
    factories.make_security_review(db, expired, NOW - 366 * DAY)
    inside = healthy(db)
    factories.make_security_review(db, inside, NOW - 364 * DAY)
    lapsed = healthy(db)
    factories.make_security_review(db, lapsed, NOW - 100 * DAY, expires_at=NOW - DAY)
    recertified = healthy(db)
    factories.make_security_review(db, recertified, NOW - 800 * DAY)
    factories.make_security_review(db, recertified, NOW - 20 * DAY)
    never_reviewed = healthy(db)

    run(app)

    assert open_rules(db, expired) == {"certification_expired"}
    assert open_rules(db, lapsed) == {"certification_expired"}
    assert open_rules(db, inside) == set()
    assert open_rules(db, recertified) == set()
    assert open_rules(db, never_reviewed) == set()


def test_a_webhook_failing_for_7_days_is_flagged(app, db):
    failing = failing_webhook(db, days=7)
    inside = failing_webhook(db, days=6)

    run(app)

    assert open_rules(db, failing) == {"webhook_failing"}
    assert open_rules(db, inside) == set()


def test_never_installed_six_months_after_approval_is_flagged(app, db):
    never = healthy(db, published_days=181, installs=0)
    inside = healthy(db, published_days=179, installs=0)

    run(app)

    assert "never_installed" in open_rules(db, never)
    assert open_rules(db, inside) == set()


# --- the stages ------------------------------------------------------------------------------


def test_a_flag_tells_the_partner_the_rule_the_fix_and_the_date(app, db):
    listing = failing_webhook(db, name="Payline Commissions")

    finished = run(app)

    assert counts_of(finished) == (1, 0, 0, 0, 0)
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == listing.id)).one()
    assert flag.run_id == finished.id
    assert as_utc(flag.grace_ends_at) == NOW + 30 * DAY
    [notice] = notices(db, listing, "prune.flagged")
    assert notice.partner_id == listing.partner_id
    assert "Payline Commissions" in notice.message
    assert "Webhook endpoint failing" in notice.message
    assert "Fix the endpoint" in notice.message
    assert "July 1, 2030" in notice.message  # the delisting date
    assert audit_actions(db, listing) == ["prune.flagged"]
    assert reload(db, listing).status == ListingStatus.PUBLISHED  # flagged, still listed


def test_a_second_rule_later_keeps_the_first_flags_grace_date(app, db):
    listing = failing_webhook(db, published_days=175, installs=0)
    run(app)  # webhook flagged; 175 days: not yet "never installed"

    run(app, NOW + 10 * DAY)

    fresh(db)
    flags = {flag.rule: as_utc(flag.grace_ends_at) for flag in db.exec(
        select(ListingFlag).where(ListingFlag.listing_id == listing.id)).all()}
    assert flags == {"webhook_failing": NOW + 30 * DAY, "never_installed": NOW + 40 * DAY,
                     "few_active_installs": NOW + 40 * DAY}


def test_still_broken_after_the_grace_period_it_is_delisted(app, db):
    category = factories.make_category(db)
    stale = failing_webhook(db, category=category, installs=0, published_days=100)
    installers = [factories.make_install_at(db, stale, NOW - 50 * DAY) for _ in range(2)]
    # Alternatives: the three most installed published apps of the same category.
    best = [healthy(db, category=category, installs=n, published_days=100) for n in (5, 4, 3)]
    healthy(db, category=category, installs=1, published_days=100)
    flagged_too = failing_webhook(db, category=category, installs=9, published_days=100)
    healthy(db, installs=9, published_days=100)  # another category
    run(app)

    early = run(app, NOW + 29 * DAY)
    assert early.delisted == 0 and reload(db, stale).status == ListingStatus.PUBLISHED

    finished = run(app, NOW + 30 * DAY)

    assert finished.delisted == 2
    listing = reload(db, stale)
    assert listing.status == ListingStatus.DELISTED
    assert listing.delisted_by == "prune"
    assert as_utc(listing.delisted_at) == NOW + 30 * DAY
    assert "Webhook endpoint failing" in listing.review_note
    fresh(db)
    told = db.exec(select(Notification).where(Notification.listing_id == stale.id)
                   .order_by(Notification.workspace_id)).all()
    assert [n.workspace_id for n in told] == sorted(i.workspace_id for i in installers)
    for notification in told:
        assert notification.kind == "listing.delisted"
        assert "keeps working" in notification.message
        assert notification.suggested_listing_ids == [item.id for item in best]
        assert flagged_too.id not in notification.suggested_listing_ids
    # Installs keep working.
    assert {i.status for i in db.exec(select(Install).where(Install.listing_id == stale.id))} \
        == {"active"}
    assert len(notices(db, stale, "prune.delisted")) == 1
    assert audit_actions(db, stale) == ["prune.flagged", "prune.delisted"]
    actor = db.exec(select(AuditEvent.actor_id).where(AuditEvent.action == "prune.delisted",
                                                      AuditEvent.target_id == stale.id)).one()
    assert actor is None  # the job, not a person


def test_a_delisted_app_leaves_search_and_the_outbox_carries_it(app, db, client, monkeypatch):
    listing = failing_webhook(db, name="Quillmark Ledger")
    assert "/apps/" + listing.slug in client.get("/search?q=Quillmark").get_data(as_text=True)
    run(app)
    applied = []
    monkeypatch.setattr(search_sync, "apply_pending",
                        lambda app, **kw: applied.append(app))

    run(app, NOW + 30 * DAY)

    fresh(db)
    outbox = db.exec(select(SearchOutbox.listing_id)).all()
    assert listing.id in outbox
    assert applied == [app]  # applied right after the run
    monkeypatch.undo()
    search_sync.apply_pending(app)
    assert "/apps/" + listing.slug not in client.get("/search?q=Quillmark").get_data(as_text=True)
    page = client.get(f"/apps/{listing.slug}")
    assert page.status_code == 200  # its page stays, saying why


def test_after_90_days_delisted_it_is_archived(app, db):
    stale = failing_webhook(db)
    run(app)
    run(app, NOW + 30 * DAY)

    not_yet = run(app, NOW + 119 * DAY)
    assert not_yet.archived == 0 and reload(db, stale).status == ListingStatus.DELISTED

    finished = run(app, NOW + 120 * DAY)

    assert finished.archived == 1
    listing = reload(db, stale)
    assert listing.status == ListingStatus.ARCHIVED
    assert as_utc(listing.archived_at) == NOW + 120 * DAY
    assert open_rules(db, stale) == set()
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == stale.id)).one()
    assert flag.cleared_reason == "archived"
    assert len(notices(db, stale, "prune.archived")) == 1
    assert audit_actions(db, stale)[-1] == "prune.archived"


def test_fixing_the_cause_clears_the_flag(app, db):
    listing = failing_webhook(db)
    run(app)
    listing = reload(db, listing)
    listing.webhook_failing_since = None  # the next delivery succeeded
    factories.save(db, listing)

    finished = run(app, NOW + DAY)

    assert counts_of(finished) == (0, 1, 0, 0, 0)
    assert open_rules(db, listing) == set()
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == listing.id)).one()
    assert flag.cleared_reason == "fixed"
    [notice] = notices(db, listing, "prune.cleared")
    assert "Webhook endpoint failing" in notice.message
    # Past the old grace date nothing happens to it.
    assert run(app, NOW + 31 * DAY).delisted == 0
    assert reload(db, listing).status == ListingStatus.PUBLISHED


def test_a_fixed_listing_the_job_delisted_is_listed_again(app, db, client):
    listing = failing_webhook(db, name="Tallyho Invoices")
    run(app)
    run(app, NOW + 30 * DAY)
    listing = reload(db, listing)
    listing.webhook_failing_since = None
    factories.save(db, listing)

    finished = run(app, NOW + 32 * DAY)

    assert (finished.cleared, finished.relisted) == (1, 1)
    listing = reload(db, listing)
    assert listing.status == ListingStatus.PUBLISHED
    assert (listing.delisted_at, listing.delisted_by, listing.review_note) == (None, None, None)
    assert len(notices(db, listing, "prune.relisted")) == 1
    assert "/apps/" + listing.slug in client.get("/search?q=Tallyho").get_data(as_text=True)


def test_an_editors_delisting_is_never_undone_by_the_job(app, db):
    editor = factories.make_user(db, Role.EDITOR)
    listing = failing_webhook(db)
    run(app)
    listing = reload(db, listing)
    delist_listing(db, listing, editor, "Misleading screenshots.")
    listing.delisted_at = NOW + DAY  # the editor acted the day after the flag
    listing.webhook_failing_since = None
    db.add(listing)
    db.commit()

    finished = run(app, NOW + 40 * DAY)

    assert finished.relisted == 0
    listing = reload(db, listing)
    assert (listing.status, listing.delisted_by) == (ListingStatus.DELISTED, "editor")
    assert listing.review_note == "Misleading screenshots."
    # ...but it is archived in time, like any delisting.
    delisted_at = as_utc(listing.delisted_at)
    assert run(app, delisted_at + 90 * DAY).archived == 1
    assert reload(db, listing).status == ListingStatus.ARCHIVED


# --- exemptions and rules switched off ----------------------------------------------------


def test_an_exemption_from_all_rules_keeps_a_listing_unflagged(app, db):
    listing = failing_webhook(db, published_days=200, installs=0)
    factories.make_exemption_until(db, listing, NOW + 60 * DAY)

    assert run(app).flagged == 0
    assert open_rules(db, listing) == set()


def test_an_exemption_from_one_rule_leaves_the_others(app, db):
    listing = failing_webhook(db, published_days=200, installs=0)
    factories.make_exemption_until(db, listing, NOW + 60 * DAY, rule="webhook_failing")

    run(app)

    assert open_rules(db, listing) == {"never_installed", "few_active_installs"}


def test_an_expired_or_ended_exemption_no_longer_counts(app, db):
    expired = failing_webhook(db)
    factories.make_exemption_until(db, expired, NOW)
    ended = failing_webhook(db)
    exemption = factories.make_exemption_until(db, ended, NOW + 60 * DAY)
    exemption.ended_at = NOW - DAY
    factories.save(db, exemption)

    run(app)

    assert open_rules(db, expired) == {"webhook_failing"}
    assert open_rules(db, ended) == {"webhook_failing"}


def test_an_exemption_clears_an_open_flag_and_prevents_the_delisting(app, db):
    listing = failing_webhook(db)
    run(app)
    factories.make_exemption_until(db, listing, NOW + 120 * DAY, rule="webhook_failing")

    finished = run(app, NOW + 30 * DAY)

    assert (finished.cleared, finished.delisted) == (1, 0)
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == listing.id)).one()
    assert flag.cleared_reason == "exempted"
    assert "exempted" in notices(db, listing, "prune.cleared")[0].message
    assert reload(db, listing).status == ListingStatus.PUBLISHED


def test_an_editor_delisting_with_an_exemption_is_not_archived(app, db):
    listing = failing_webhook(db, status=ListingStatus.DELISTED, delisted_by="editor",
                              delisted_at=NOW - 200 * DAY)
    factories.make_exemption_until(db, listing, NOW + 60 * DAY)

    assert run(app).archived == 0
    assert reload(db, listing).status == ListingStatus.DELISTED


@pytest.mark.parametrize("app_overrides", [{"PRUNE_RULES_OFF": "webhook_failing"}])
def test_a_rule_switched_off_flags_nothing_and_clears_its_flags(app, db):
    flagged = failing_webhook(db)
    factories.make_flag(db, flagged, "webhook_failing", flagged_at=NOW - DAY)
    unflagged = failing_webhook(db)

    finished = run(app)

    assert (finished.flagged, finished.cleared) == (0, 1)
    assert open_rules(db, unflagged) == set()
    flag = db.exec(select(ListingFlag).where(ListingFlag.listing_id == flagged.id)).one()
    assert flag.cleared_reason == "rule_off"


# --- idempotency, dry runs, crashes, the lock -------------------------------------------------


def test_a_second_run_the_same_day_changes_nothing(app, db):
    long_failing = failing_webhook(db, days=45)
    run(app, NOW - 31 * DAY)  # flagged then: its grace period ends a day before NOW
    failing_webhook(db)
    healthy(db, published_days=200, installs=0)
    first = run(app)
    assert (first.flagged, first.delisted) == (2, 1)
    before = row_counts(db)

    again = run(app)
    later = run(app, NOW + timedelta(hours=5))

    assert counts_of(again) == counts_of(later) == (0, 0, 0, 0, 0)
    assert row_counts(db) == before
    assert statuses(db, long_failing) == [ListingStatus.DELISTED]


def test_a_dry_run_records_a_preview_and_changes_nothing_else(app, db):
    flagged = failing_webhook(db)
    run(app)
    newcomer = failing_webhook(db, name="Brightline CRM")
    before = row_counts(db)

    preview = run(app, NOW + 30 * DAY, dry_run=True, trigger="editor")

    assert preview.dry_run and preview.trigger == "editor"
    assert preview.status == PruneRunStatus.COMPLETED
    assert (preview.flagged, preview.delisted) == (1, 1)
    assert {(a["action"], a["slug"]) for a in preview.actions} == {
        ("flag", newcomer.slug), ("delist", flagged.slug)}
    assert [a["rules"] for a in preview.actions if a["action"] == "flag"] == [["webhook_failing"]]
    assert row_counts(db) == before
    assert statuses(db, flagged, newcomer) == [ListingStatus.PUBLISHED] * 2
    fresh(db)
    assert db.get(PruneRun, preview.id).dry_run  # the preview is kept for the console


@pytest.mark.parametrize("app_overrides", [{"PRUNE_BATCH_SIZE": "2"}])
def test_a_run_that_dies_half_way_is_completed_by_the_next(app, db, monkeypatch):
    category = factories.make_category(db)
    healthy(db, category=category)
    stale = [failing_webhook(db, category=category, installs=0, published_days=100)
             for _ in range(5)]
    for listing in stale:
        factories.make_install_at(db, listing, NOW - 40 * DAY)
    run(app)
    real_delist, calls = prune.APPLY["delist"], []

    def dies_on_the_second_batch(ctx, batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("the machine went away")
        return real_delist(ctx, batch)

    monkeypatch.setitem(prune.APPLY, "delist", dies_on_the_second_batch)
    with pytest.raises(RuntimeError, match="went away"):
        run(app, NOW + 30 * DAY)

    fresh(db)
    failed = db.exec(select(PruneRun).order_by(col(PruneRun.id).desc())).first()
    assert failed.status == PruneRunStatus.FAILED
    assert "the machine went away" in failed.error and failed.finished_at is not None
    assert failed.delisted == 2  # the first batch is committed and counted
    assert statuses(db, *stale).count(ListingStatus.DELISTED) == 2
    # A run killed outright stays "running"; the next run marks it interrupted.
    dead = factories.make_prune_run(db, status="running")

    monkeypatch.undo()
    finished = run(app, NOW + 30 * DAY)

    assert finished.delisted == 3
    assert statuses(db, *stale) == [ListingStatus.DELISTED] * 5
    fresh(db)
    assert db.get(PruneRun, dead.id).status == PruneRunStatus.INTERRUPTED
    for listing in stale:  # nothing doubled
        assert audit_actions(db, listing) == ["prune.flagged", "prune.delisted"]
        assert len(notices(db, listing, "prune.delisted")) == 1
        assert db.exec(select(func.count()).select_from(Notification)
                       .where(Notification.listing_id == listing.id)).one() == 1
        assert db.exec(select(func.count()).select_from(ListingFlag)
                       .where(ListingFlag.listing_id == listing.id)).one() == 1
    assert counts_of(run(app, NOW + 30 * DAY)) == (0, 0, 0, 0, 0)


def test_a_second_run_while_one_holds_the_lock_stops_at_once(app, db):
    failing_webhook(db)
    with job_lock(get_engine(app), prune.LOCK_NAME):
        with pytest.raises(prune.PruneLocked, match="Another prune run is in progress"):
            run(app)
    assert row_counts(db)["ListingFlag"] == 0
    assert run(app).flagged == 1  # released: the next run goes ahead


def test_the_run_keeps_a_capped_list_of_actions_with_exact_counts(app, db, monkeypatch):
    monkeypatch.setattr(prune, "ACTIONS_KEPT", 2)
    for _ in range(3):
        failing_webhook(db)

    finished = run(app)

    assert finished.flagged == 3
    assert len(finished.actions) == 2
    assert finished.actions[0]["action"] == "flag"


def test_suggested_alternatives_come_from_the_same_category_in_one_query(app, db):
    first, second = factories.make_category(db), factories.make_category(db)
    a = healthy(db, category=first, installs=1)
    b = healthy(db, category=second, installs=1)
    top = [healthy(db, category=first, installs=n) for n in (4, 3, 2)]
    other = healthy(db, category=second, installs=2)
    wanted = [(a.id, first.id), (b.id, second.id)]
    expected = {a.id: [listing.id for listing in top], b.id: [other.id]}
    fresh(db)
    statements = []
    engine = get_engine(app)
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        found = suggest_alternatives(db, wanted)
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert found == expected
    assert len(statements) == 1


# --- scale: the number of queries does not grow with the catalog ----------------------------


def count_statements(app, action) -> int:
    statements = []
    engine = get_engine(app)

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_catalog(app, db):
    category = factories.make_category(db)
    partner = factories.make_partner(db)

    def catalog(size: int) -> None:
        for _ in range(size):
            factories.make_aged_listing(db, NOW, published_days=30, category=category,
                                        partner=partner)

    def stale_set(failing_days: int) -> list[Listing]:
        listings = []
        for _ in range(3):
            listing = factories.make_aged_listing(
                db, NOW, published_days=30, category=category, partner=partner,
                webhook_failing_since=NOW - timedelta(days=failing_days))
            factories.make_install_at(db, listing, NOW - 20 * DAY)
            listings.append(listing)
        return listings

    with job_lock(get_engine(app), prune.LOCK_NAME):
        pass  # the lease row exists from now on, as on any machine after the first run
    catalog(5)
    first = stale_set(10)
    small_flag = count_statements(app, lambda: run(app))
    catalog(40)
    stale_set(9)  # failing 7 days a day later
    large_flag = count_statements(app, lambda: run(app, NOW + DAY))
    assert large_flag == small_flag

    small_delist = count_statements(app, lambda: run(app, NOW + 30 * DAY))
    assert statuses(db, *first) == [ListingStatus.DELISTED] * 3
    catalog(40)
    large_delist = count_statements(app, lambda: run(app, NOW + 31 * DAY))
    assert large_delist == small_delist
    assert row_counts(db)["Notification"] == 6
