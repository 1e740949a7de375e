"""Signed-in devices: one ``user_sessions`` row per sign-in, whose random token the
session and remember-me cookies carry (Flask-Login's "alternative tokens",
https://flask-login.readthedocs.io/en/latest/#alternative-tokens). Signing out
deletes the device's row, "sign out of all devices" deletes them all, and a new
password deletes all but the device that set it. Only a SHA-256 of each token is
stored, so the table alone signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Request
from sqlalchemy import delete
from sqlmodel import Session, col, select
from ua_parser import parse as parse_user_agent

from accounts.models import User, UserSession
from core.db import as_utc, utcnow

# "Last seen" is written at most this often per device, not on every request.
LAST_SEEN_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def attach_device(user: User, token: str) -> User:
    """Mark ``user`` as signed in on the device of ``token`` (what ``get_id`` returns)."""
    object.__setattr__(user, "_device_token", token)
    return user


def start_device_session(session: Session, user: User, request: Request | None = None) -> str:
    """A new signed-in device for ``user``; returns the token its cookies carry.
    The user object is attached to it, so ``login_user(user)`` stores the token."""
    token = secrets.token_urlsafe(32)
    user_agent = (request.user_agent.string if request is not None else "") or ""
    ip_address = (request.remote_addr if request is not None else "") or ""
    session.add(UserSession(user_id=user.id, token_hash=_hash(token),
                            user_agent=user_agent[:255], ip_address=ip_address[:45]))
    session.flush()
    attach_device(user, token)
    return token


def device_of(session: Session, token: str) -> UserSession | None:
    if not token:
        return None
    return session.exec(select(UserSession).where(UserSession.token_hash == _hash(token))).first()


def load_device_user(session: Session, token: str) -> User | None:
    """The active user signed in on the device of ``token``, or None. Notes when the
    device was last seen (at most every few minutes)."""
    # Whether the request has changed anything yet: only then may "last seen" be
    # committed here without committing the request's own work early.
    untouched = not (session.new or session.dirty or session.deleted)
    device = device_of(session, token)
    if device is None:
        return None
    now = utcnow()
    if untouched and now - as_utc(device.last_seen_at) >= LAST_SEEN_EVERY:
        device.last_seen_at = now
        session.add(device)
        session.commit()
    user = session.get(User, device.user_id)
    if user is None or not user.is_active:
        return None
    return attach_device(user, token)


def end_device_session(session: Session, token: str) -> None:
    """Sign the device of ``token`` out (its cookies are worth nothing afterwards)."""
    session.execute(delete(UserSession).where(col(UserSession.token_hash) == _hash(token or "")))


def end_every_session(session: Session, user: User, keep_token: str | None = None) -> int:
    """Sign ``user`` out on every device but the one of ``keep_token``; returns how many."""
    statement = delete(UserSession).where(col(UserSession.user_id) == user.id)
    if keep_token:
        statement = statement.where(col(UserSession.token_hash) != _hash(keep_token))
    # The old per-user token goes too, so nothing made before devices existed still works.
    user.rotate_session_token()
    session.add(user)
    return session.execute(statement).rowcount


def user_devices(session: Session, user: User) -> list[UserSession]:
    """The user's signed-in devices, most recently seen first."""
    return list(session.exec(select(UserSession).where(UserSession.user_id == user.id)
                             .order_by(col(UserSession.last_seen_at).desc(),
                                       col(UserSession.id).desc())).all())


def is_this_device(device: UserSession, token: str) -> bool:
    return secrets.compare_digest(device.token_hash, _hash(token or ""))


def describe(device: UserSession) -> str:
    """A short, human summary of a device's browser: "Firefox 120 on Ubuntu"."""
    if not device.user_agent:
        return "Unknown browser"
    parsed = parse_user_agent(device.user_agent)
    if parsed.user_agent is None:
        return device.user_agent[:60]
    browser = " ".join(filter(None, [parsed.user_agent.family, parsed.user_agent.major]))
    return f"{browser} on {parsed.os.family}" if parsed.os and parsed.os.family != "Other" \
        else browser
