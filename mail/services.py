"""What an admin or operator does to queued mail: send failed (or held) mail again."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from core.db import utcnow
from mail.compose import PENDING_INFO_KEY
from mail.models import MailMessage, MailStatus

RETRYABLE = (MailStatus.FAILED, MailStatus.HELD)


class NotRetryable(ValueError):
    """The message is not failed or held (already sent, or still on its way)."""


def retry_message(session: Session, message: MailMessage) -> None:
    """Queue a failed or held message again with its attempts reset (the caller
    commits; the sender is woken after the commit). Raises ``NotRetryable`` for
    any other status, so sent mail is never sent twice by a retry."""
    if message.status not in RETRYABLE:
        raise NotRetryable(f"message {message.id} is {message.status}: only failed or held "
                           "mail can be retried")
    message.status = MailStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.locked_until = None
    session.add(message)
    session.info[PENDING_INFO_KEY] = True


def retry_all(session: Session, status: str = MailStatus.FAILED) -> int:
    """Queue every message of ``status`` (failed or held) again; returns how many.
    The caller commits."""
    if status not in RETRYABLE:
        raise NotRetryable(f"only failed or held mail can be retried, not {status}")
    count = session.execute(
        update(MailMessage).where(MailMessage.status == status)
        .values(status=MailStatus.QUEUED, attempts=0, next_attempt_at=utcnow(),
                locked_until=None)
        .execution_options(synchronize_session=False)).rowcount
    if count:
        session.info[PENDING_INFO_KEY] = True
    return count
