"""Password reset, email verification and email change: the services behind the links
Bazaar mails (accounts/tokens.py makes and reads them, accounts/account_mail.py
queues the mail). Every function takes a ``Session`` and never commits.
"""

from __future__ import annotations

from sqlmodel import Session

from accounts.account_mail import (
    queue_email_change,
    queue_email_changed,
    queue_password_changed,
    queue_password_reset,
    queue_verification,
    render_unsent_password_reset,
)
from accounts.devices import end_every_session
from accounts.models import User
from accounts.services import (
    AccountError,
    authenticate,
    find_user_by_email,
    hash_password,
    normalise_email,
)
from accounts.tokens import read_email_change_token, read_reset_token, read_verify_token
from core.db import utcnow

EMAIL_TAKEN = "That address belongs to another account."


def request_password_reset(session: Session, email: str) -> None:
    """Mail a reset link when ``email`` has an active account; otherwise do the same
    rendering work and nothing else. The caller answers the same either way."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active or user.deleted_at is not None:
        render_unsent_password_reset()
        return
    queue_password_reset(session, user)


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password from a reset link: every device is signed out, the link
    dies (it is bound to the old password) and a notice is mailed. The link proves
    the address is the person's, so it counts as verified. Raises ``BadLink``."""
    user = read_reset_token(session, token)
    user.password_hash = hash_password(new_password)
    if not user.email_verified:
        user.email_verified_at = utcnow()
    end_every_session(session, user)
    queue_password_changed(session, user, utcnow())
    session.add(user)
    session.flush()
    return user


def send_verification(session: Session, user: User) -> bool:
    """Mail a verification link for the account's address; False when it is verified."""
    if user.email_verified:
        return False
    queue_verification(session, user)
    return True


def verify_email(session: Session, token: str) -> User:
    """Mark the address a verification link was sent to as verified. Raises ``BadLink``."""
    user = read_verify_token(session, token)
    user.email_verified_at = utcnow()
    session.add(user)
    session.flush()
    return user


def change_display_name(session: Session, user: User, name: str) -> None:
    user.display_name = name.strip()
    session.add(user)
    session.flush()


def request_email_change(session: Session, user: User, password: str, new_email: str) -> str:
    """Mail a confirmation link to ``new_email`` after checking the password; the
    address changes only when it is opened. Returns the normalised new address.
    Raises ``AccountError`` for a wrong password or the same address; an address
    of another account gets the same answer as a free one (nothing is mailed to it)."""
    if authenticate(session, user.email, password or "") is None:
        raise AccountError("That password is not right. Your email address was not changed.",
                           field="password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your email address.", field="email")
    if find_user_by_email(session, new_email) is None:
        queue_email_change(session, user, new_email)
    return new_email


def confirm_email_change(session: Session, token: str) -> tuple[User, str]:
    """Move the account to the new address of a confirmation link (now verified) and
    tell the old address. Returns the user and the old address. Raises ``BadLink``,
    or ``AccountError`` when another account took the address meanwhile."""
    user, new_email = read_email_change_token(session, token)
    if find_user_by_email(session, new_email) is not None:
        raise AccountError(EMAIL_TAKEN, field="email")
    old_email = user.email
    user.email = new_email
    user.email_verified_at = utcnow()
    session.add(user)
    session.flush()
    queue_email_changed(session, user, old_email)
    return user, old_email


def change_password_notice(session: Session, user: User) -> None:
    """The "your password was changed" mail after a change on the settings page."""
    queue_password_changed(session, user, utcnow())
