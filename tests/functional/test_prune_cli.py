"""`flask listings prune`: the summary, --dry-run, --now, the lock, bad input
and failures, as an operator sees them in a terminal or in cron's mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from core.db import as_utc, get_engine
from core.locks import job_lock
from listings import prune
from listings.models import ListingStatus
from listings.prune_models import ListingFlag, PruneRun
from tests import factories

NOW = datetime(2030, 6, 1, 3, 17, tzinfo=UTC)


def failing_webhook(db, **fields):
    """A listing that breaks only the webhook rule at NOW."""
    listing = factories.make_aged_listing(db, NOW, published_days=60,
                                          webhook_failing_since=NOW - timedelta(days=10),
                                          **fields)
    factories.make_install_at(db, listing, NOW - timedelta(days=50))
    return listing


def flag_count(db) -> int:
    db.rollback()
    return db.exec(select(func.count()).select_from(ListingFlag)).one()


def test_a_run_prints_its_summary(runner, db):
    failing_webhook(db)
    failing_webhook(db)

    result = runner.invoke(args=["listings", "prune", "--now", "2030-06-01T03:17:00Z"])

    assert result.exit_code == 0, result.output
    run = db.exec(select(PruneRun)).one()
    assert (f"Flagged 2, cleared 0, delisted 0, relisted 0, archived 0 (run {run.id}, "
            in result.output)
    assert flag_count(db) == 2


def test_a_second_run_the_same_day_reports_nothing_to_do(runner, db):
    failing_webhook(db)
    runner.invoke(args=["listings", "prune", "--now", "2030-06-01"])

    result = runner.invoke(args=["listings", "prune", "--now", "2030-06-01T09:00:00"])

    assert result.exit_code == 0, result.output
    assert "Flagged 0, cleared 0, delisted 0, relisted 0, archived 0" in result.output
    assert flag_count(db) == 1


def test_a_dry_run_prints_each_action_and_changes_nothing(runner, db):
    stale = failing_webhook(db, name="Payline Commissions", slug="payline-commissions")
    runner.invoke(args=["listings", "prune", "--now", "2030-06-01"])
    newcomer = failing_webhook(db)

    result = runner.invoke(args=["listings", "prune", "--dry-run", "--now", "2030-07-02"])

    assert result.exit_code == 0, result.output
    assert "would delist payline-commissions: webhook_failing" in result.output
    assert f"would flag {newcomer.slug}: webhook_failing" in result.output
    assert result.output.rstrip().endswith("Dry run: nothing changed.")
    assert flag_count(db) == 1
    db.expire_all()
    assert db.get(type(stale), stale.id).status == ListingStatus.PUBLISHED
    assert db.exec(select(PruneRun).where(col(PruneRun.dry_run))).one().delisted == 1


def test_without_now_the_run_uses_the_current_time(runner, db):
    result = runner.invoke(args=["listings", "prune"])

    assert result.exit_code == 0, result.output
    run = db.exec(select(PruneRun)).one()
    assert abs(as_utc(run.as_of) - as_utc(run.started_at)) < timedelta(seconds=5)


def test_a_malformed_now_is_a_clear_error(runner, db):
    result = runner.invoke(args=["listings", "prune", "--now", "next tuesday"])

    assert result.exit_code == 2
    assert "'next tuesday' is not a time" in result.output
    assert "2027-01-31" in result.output  # an example of what to write
    assert db.exec(select(func.count()).select_from(PruneRun)).one() == 0


def test_an_unknown_option_is_refused(runner, db):
    result = runner.invoke(args=["listings", "prune", "--force"])

    assert result.exit_code == 2
    assert "No such option '--force'" in result.output
    assert db.exec(select(func.count()).select_from(PruneRun)).one() == 0


def test_a_run_already_in_progress_makes_the_second_exit_at_once(app, runner, db):
    failing_webhook(db)
    with job_lock(get_engine(app), prune.LOCK_NAME):
        result = runner.invoke(args=["listings", "prune", "--now", "2030-06-01"])

    assert result.exit_code == 1
    assert result.stderr.startswith("Another prune run is in progress (")
    assert result.stderr.rstrip().endswith("; exiting.")
    assert "Traceback" not in result.output
    assert flag_count(db) == 0


def test_a_failed_run_says_so_without_a_traceback(runner, db, monkeypatch):
    failing_webhook(db)

    def broken(ctx, batch):
        raise RuntimeError("disk full")

    monkeypatch.setitem(prune.APPLY, "flag", broken)
    result = runner.invoke(args=["listings", "prune", "--now", "2030-06-01"])

    assert result.exit_code == 1
    assert "The prune run failed: disk full." in result.stderr
    assert "next run completes the rest" in result.stderr
    assert "Traceback" not in result.output
    db.rollback()
    assert db.exec(select(PruneRun.status)).one() == "failed"


def test_the_command_is_listed_with_its_options(runner):
    result = runner.invoke(args=["listings", "prune", "--help"])

    assert result.exit_code == 0
    assert "--dry-run" in result.output and "--now" in result.output
