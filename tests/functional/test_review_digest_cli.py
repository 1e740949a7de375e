"""`flask listings review-digest`: bad input is a clear error and marks no review mailed."""

from __future__ import annotations

from sqlmodel import select

from listings.models import Review, ReviewStatus
from mail.models import MailMessage
from tests import factories


def test_a_malformed_now_is_a_clear_error_and_changes_nothing(runner, db):
    listing = factories.make_listing(db)
    review = factories.make_review(db, listing, status=ReviewStatus.PUBLISHED)
    db.commit()

    result = runner.invoke(args=["listings", "review-digest", "--now", "next tuesday"])

    assert result.exit_code == 2
    assert "'next tuesday' is not a time" in result.output
    db.expire_all()
    assert db.get(Review, review.id).digest_mailed_at is None
    assert db.exec(select(MailMessage)).all() == []


def test_an_unknown_option_is_refused(runner):
    result = runner.invoke(args=["listings", "review-digest", "--all"])

    assert result.exit_code == 2
    assert "No such option '--all'" in result.output
