"""What customers say about reviews: "Was this helpful?" votes and reports.

Neither is a tracked catalog model (listings/catalog_cache.py) nor watched by the
search sync, and neither touches its review's or listing's row: a click never
reindexes the listing nor gives the catalog a new version. So the helpful counts
on the kept anonymous listing page may lag until the catalog next changes; a
signed-in visitor's page is rendered for them and shows their vote at once
(docs/caching.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.db import utcnow


class ReviewProblem(StrEnum):
    """Why a customer reports a review, and why an editor rejects one."""

    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off_topic"
    PERSONAL_INFO = "personal_info"
    FAKE = "fake"

    @property
    def label(self) -> str:
        return PROBLEM_LABELS[self]


PROBLEM_LABELS = {
    ReviewProblem.SPAM: "Spam or advertising",
    ReviewProblem.OFFENSIVE: "Abusive or offensive",
    ReviewProblem.OFF_TOPIC: "Not about this app",
    ReviewProblem.PERSONAL_INFO: "Shares personal information",
    ReviewProblem.FAKE: "Fake, or written by someone with a stake in the app",
}


class ReportResolution(StrEnum):
    KEPT = "kept"        # an editor read it and kept the review
    REMOVED = "removed"  # an editor removed the review


class ReviewVote(SQLModel, table=True):
    """One signed-in customer found one review helpful (one vote per user and review)."""

    __tablename__ = "review_votes"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # Indexed through the unique constraint's leading column: counts per review.
    review_id: int = Field(foreign_key="reviews.id")
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class ReviewReport(SQLModel, table=True):
    """A signed-in customer's report of a review, open until an editor resolves it.

    At most one open report per user and review (a partial unique index), so a
    second click adds nothing; once resolved, the same user may report again."""

    __tablename__ = "review_reports"
    __table_args__ = (
        Index("uq_review_reports_open_review_reporter", "review_id", "reporter_id", unique=True,
              sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
        # The editors' queue reads the open reports.
        Index("ix_review_reports_open", "resolved_at", "review_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="reviews.id")
    reporter_id: int = Field(foreign_key="users.id", index=True)
    reason: str = Field(max_length=20)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="users.id")
    resolution: str | None = Field(default=None, max_length=20)
