"""The signed links mailed for a password reset, an address to verify and a new email
address to confirm: itsdangerous' ``URLSafeTimedSerializer`` with the app's SECRET_KEY
and a salt per purpose (https://itsdangerous.palletsprojects.com/en/stable/url_safe/),
so a link made for one purpose never works for another and nothing is stored.

A link is single-use because it is bound to the state it changes: a reset link
carries a digest of the password hash (any new password, this link's included, kills
it), a verification link the address it verifies, an email-change link the address it
replaces. Each ``read_*`` returns the user, or raises ``BadLink`` with what to tell
the person; nothing is changed by reading.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from accounts.models import User

RESET_MAX_AGE = timedelta(hours=1)
VERIFY_MAX_AGE = timedelta(days=2)

RESET_SALT = "bazaar.password-reset"
VERIFY_SALT = "bazaar.verify-email"
EMAIL_CHANGE_SALT = "bazaar.change-email"

EXPIRED_RESET = ("This password reset link has expired: links work for one hour. "
                 "Ask for a new one below.")
USED_RESET = ("This password reset link no longer works: it was already used, or the password "
              "was changed since it was sent. Ask for a new one below if you still need it.")
BROKEN_LINK = ("This link is not valid: it may be incomplete. Copy the whole link from the "
               "email, or ask for a new one.")
EXPIRED_VERIFY = ("This verification link has expired: links work for two days. "
                  "Sign in and send a new one from your account page.")
USED_VERIFY = "This verification link was already used, or the address has changed since it was sent."
USED_EMAIL_CHANGE = ("This link no longer works: the address change was already confirmed, or the "
                     "account's email address has changed since it was sent.")

OTHER_ACCOUNT = ("This link belongs to another Bazaar account than the one you are signed in "
                 "with. Sign out first, then open the link again.")


class BadLink(ValueError):
    """A mailed link that cannot be used, with the reason for the person."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_digest(user: User) -> str:
    # Not the hash itself: the token is readable (only signed), and a hash of the hash
    # tells nothing. Argon2 salts every hash, so any new password changes it.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def _load(salt: str, token: str, max_age: timedelta, expired: str):
    try:
        return _serializer(salt).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as error:
        raise BadLink(expired) from error
    except BadSignature as error:
        raise BadLink(BROKEN_LINK) from error


def _user(session: Session, data, fields: int) -> User:
    if not isinstance(data, list) or len(data) != fields or not isinstance(data[0], int):
        raise BadLink(BROKEN_LINK)
    user = session.get(User, data[0])
    if user is None or not user.is_active or user.deleted_at is not None:
        raise BadLink(BROKEN_LINK)
    return user


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps([user.id, _password_digest(user)])


def read_reset_token(session: Session, token: str) -> User:
    """The user a reset link is for, while it is under an hour old and their password
    is still the one it was made for."""
    data = _load(RESET_SALT, token, RESET_MAX_AGE, EXPIRED_RESET)
    user = _user(session, data, 2)
    if not hmac.compare_digest(str(data[1]), _password_digest(user)):
        raise BadLink(USED_RESET)
    return user


def verify_token(user: User) -> str:
    return _serializer(VERIFY_SALT).dumps([user.id, user.email])


def read_verify_token(session: Session, token: str) -> User:
    """The user whose current, unverified address a verification link verifies."""
    data = _load(VERIFY_SALT, token, VERIFY_MAX_AGE, EXPIRED_VERIFY)
    user = _user(session, data, 2)
    if data[1] != user.email or user.email_verified:
        raise BadLink(USED_VERIFY)
    return user


def email_change_token(user: User, new_email: str) -> str:
    return _serializer(EMAIL_CHANGE_SALT).dumps([user.id, user.email, new_email])


def read_email_change_token(session: Session, token: str) -> tuple[User, str]:
    """The user and the new address a confirmation link moves them to, while the
    account still has the address the link was made from."""
    data = _load(EMAIL_CHANGE_SALT, token, VERIFY_MAX_AGE, EXPIRED_VERIFY)
    user = _user(session, data, 3)
    if data[1] != user.email or not isinstance(data[2], str):
        raise BadLink(USED_EMAIL_CHANGE)
    return user, data[2]
