"""Registering and changing a password without giving anything away: the sign-up
form doesn't tell which addresses have accounts, and a new password signs every
other device out."""

from __future__ import annotations

from sqlmodel import Session

from accounts.models import User
from accounts.services import (
    AccountError,
    authenticate,
    find_user_by_email,
    hash_password,
    register_user,
)


def sign_up(session: Session, *, email: str, password: str, display_name: str) -> User | None:
    """Register a customer unless the address already has an account.

    Returns the new user, or None when the address is taken: then nothing is
    created or changed. The caller must answer both the same way (nobody is
    signed in by registering), so the form does not tell anyone which addresses
    have accounts. The password is hashed either way, so both answers take as
    long. Once Bazaar sends mail, the owner of a taken address should be told by
    mail that someone tried to register with it.
    """
    if find_user_by_email(session, email) is not None:
        hash_password(password)  # the work a new account costs, so the timing matches
        return None
    return register_user(session, email=email, password=password, display_name=display_name)


def change_password(session: Session, user: User, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one, and sign out every
    session and remember-me cookie of the user (the caller signs the current
    device in again). Raises ``AccountError`` and changes nothing when the
    current password is wrong."""
    if authenticate(session, user.email, current_password or "") is None:
        raise AccountError("That password is not right. Your password was not changed.",
                           field="current_password")
    user.password_hash = hash_password(new_password)
    user.rotate_session_token()
    session.add(user)
    session.flush()
