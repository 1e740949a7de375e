"""Reads of the mail outbox: the counts ``flask mail status`` shows and the pages of
/admin/mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from mail.models import MailMessage, MailStatus


@dataclass(frozen=True)
class MailCounts:
    """Messages by status, and when the oldest still waiting to go was queued."""

    by_status: dict[str, int]
    oldest_queued: datetime | None


def mail_counts(session: Session) -> MailCounts:
    """Every status with its number of messages (0 when none), in one query, and the
    oldest queued (or sending) message's time in another."""
    found = dict(session.exec(select(MailMessage.status, func.count())
                              .group_by(MailMessage.status)).all())
    oldest = session.exec(select(func.min(MailMessage.created_at)).where(
        col(MailMessage.status).in_([MailStatus.QUEUED, MailStatus.SENDING]))).one()
    return MailCounts({status.value: found.get(status.value, 0) for status in MailStatus}, oldest)


@dataclass(frozen=True)
class MailPage:
    messages: list[MailMessage]
    total: int


def mail_page(session: Session, status: str | None, page: int, per_page: int) -> MailPage:
    """One page (1-based) of messages, newest first, optionally of one status only."""
    query = select(MailMessage)
    if status:
        query = query.where(MailMessage.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(col(MailMessage.created_at).desc(),
                                            col(MailMessage.id).desc())
                             .offset((page - 1) * per_page).limit(per_page)).all())
    return MailPage(rows, total)
