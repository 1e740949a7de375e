"""Failed sign-ins counted per email address, in the database.

Flask-Limiter limits sign-ins per client address; this limits them per account,
so guessing one person's password from many addresses, or through many workers
and hosts, still gets only ``max_failures`` tries per window: the count lives in
the database every worker shares.

Failures are keyed by an HMAC of the typed (normalised) address, not by user, so
an address without an account locks exactly like one with an account and the
answer never tells which addresses have accounts. The typed addresses themselves
are not kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from accounts.models import LoginFailure
from accounts.services import normalise_email
from core.db import utcnow


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failed sign-ins an address may have within a window before sign-in
    for it is refused, until its oldest counted failure leaves the window."""

    max_failures: int
    window: timedelta
    key: bytes  # keys the address digests (the app's SECRET_KEY)

    @classmethod
    def from_config(cls, config) -> LockoutPolicy:
        return cls(max_failures=config["LOGIN_LOCKOUT_MAX_FAILURES"],
                   window=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
                   key=str(config["SECRET_KEY"]).encode())

    @property
    def minutes(self) -> int:
        return int(self.window.total_seconds() // 60)


def email_digest(policy: LockoutPolicy, email: str) -> str:
    """What the failures of ``email`` are stored under."""
    return hmac.new(policy.key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def _failures_in_window(session: Session, policy: LockoutPolicy, digest: str,
                        now: datetime) -> int:
    return session.exec(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.email_digest == digest,
        col(LoginFailure.failed_at) > now - policy.window)).one()


def is_locked_out(session: Session, policy: LockoutPolicy, email: str,
                  now: datetime | None = None) -> bool:
    """Whether sign-in for ``email`` is refused now, whatever the password."""
    now = now or utcnow()
    return _failures_in_window(session, policy, email_digest(policy, email), now) \
        >= policy.max_failures


def record_failure(session: Session, policy: LockoutPolicy, email: str,
                   now: datetime | None = None) -> bool:
    """Count a failed sign-in for ``email``; True when the address is now locked.

    Attempts refused while locked are not recorded here (the caller never checks a
    password then), so a lock ends one window after the failures that caused it, and
    someone guessing gets at most ``max_failures`` tries per window. Failures older
    than the window, of any address, are removed on the way.
    """
    now = now or utcnow()
    digest = email_digest(policy, email)
    session.execute(delete(LoginFailure).where(col(LoginFailure.failed_at) <= now - policy.window))
    session.add(LoginFailure(email_digest=digest, failed_at=now))
    session.flush()
    return _failures_in_window(session, policy, digest, now) >= policy.max_failures


def clear_failures(session: Session, policy: LockoutPolicy, email: str) -> None:
    """Forget the failures of ``email`` after its owner signed in."""
    session.execute(delete(LoginFailure).where(LoginFailure.email_digest == email_digest(policy, email)))
