"""Registering and changing a password without giving anything away: the sign-up
form doesn't tell which addresses have accounts (it tells their owner by mail), and
a new password signs every other device out."""

from __future__ import annotations

from sqlmodel import Session

from accounts.account_mail import queue_password_changed, queue_signup_attempt, queue_verification
from accounts.devices import end_every_session
from accounts.models import User
from accounts.services import (
    AccountError,
    authenticate,
    find_user_by_email,
    hash_password,
    register_user,
)
from core.db import utcnow


def sign_up(session: Session, *, email: str, password: str, display_name: str) -> User | None:
    """Register a customer unless the address already has an account.

    Returns the new user, or None when the address is taken: then nothing is
    created or changed. The caller must answer both the same way (nobody is
    signed in by registering), so the form does not tell anyone which addresses
    have accounts. The password is hashed either way, so both answers take as
    long. The owner of a taken address is told by mail that someone tried to
    register with it (at most once an hour); a new account gets a mail with the
    link that verifies its address.
    """
    existing = find_user_by_email(session, email)
    if existing is not None:
        hash_password(password)  # the work a new account costs, so the timing matches
        if existing.is_active and existing.deleted_at is None:
            queue_signup_attempt(session, existing, utcnow())
        return None
    user = register_user(session, email=email, password=password, display_name=display_name)
    queue_verification(session, user)
    return user


def change_password(session: Session, user: User, current_password: str, new_password: str,
                    keep_device_token: str | None = None) -> None:
    """Set a new password after checking the current one, sign out every other
    device (all but the one of ``keep_device_token``) and mail the "password
    changed" notice. Raises ``AccountError`` and changes nothing when the
    current password is wrong."""
    if authenticate(session, user.email, current_password or "") is None:
        raise AccountError("That password is not right. Your password was not changed.",
                           field="current_password")
    user.password_hash = hash_password(new_password)
    end_every_session(session, user, keep_token=keep_device_token)
    session.add(user)
    session.flush()
    queue_password_changed(session, user, utcnow())
