"""Partner API keys: create, authenticate, rotate and revoke.

A key looks like ``bzk_<prefix>_<secret>``. The prefix (8 hex characters) is
stored in the clear to find the row and to let the partner tell keys apart;
the secret is 32 random bytes. Only the SHA-256 of the whole key is stored:
a key this random cannot be guessed, so it needs no slow password hash.

A key is *active*, *retiring* (replaced by a rotation and still accepted until
``revoked_at``, which lies in the future) or *revoked* (``revoked_at`` passed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from api.models import ApiKey
from core.db import as_utc, utcnow

KEY_SCHEME = "bzk"
PREFIX_HEX_CHARS = 8
SECRET_BYTES = 32
# Keys a listing may have that are not revoked or on their way out.
MAX_ACTIVE_KEYS = 5
# After a rotation the old key keeps working this long, so the app can be
# redeployed with the new key without a moment of failed calls.
ROTATION_GRACE = timedelta(hours=24)
# last_used_at is a hint for the partner, not an audit trail: writing it at
# most once a minute spares a database write on nearly every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_LABEL_LENGTH = 80


class ApiKeyError(ValueError):
    """A key operation the partner can fix or understand (limit reached, already revoked)."""


class KeyState:
    ACTIVE = "active"
    RETIRING = "retiring"
    REVOKED = "revoked"


def hash_key(plaintext: str) -> str:
    """The SHA-256 hex digest stored for a key."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def parse_key(presented: str | None) -> str | None:
    """The prefix of a well-formed key, else None (nothing is looked up for junk)."""
    scheme, _, rest = (presented or "").partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != PREFIX_HEX_CHARS or not secret:
        return None
    if any(ch not in "0123456789abcdef" for ch in prefix):
        return None
    return prefix


def key_state(key: ApiKey, now: datetime | None = None) -> str:
    """``active``, ``retiring`` (rotated, still accepted until revoked_at) or ``revoked``."""
    revoked_at = as_utc(key.revoked_at)
    if revoked_at is None:
        return KeyState.ACTIVE
    return KeyState.RETIRING if revoked_at > (now or utcnow()) else KeyState.REVOKED


def listing_api_keys(session: Session, listing_id: int) -> list[ApiKey]:
    """A listing's keys, newest first (revoked ones too, as history)."""
    return list(session.exec(select(ApiKey).where(ApiKey.listing_id == listing_id)
                             .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())).all())


def _active_count(session: Session, listing_id: int) -> int:
    return session.exec(select(func.count()).select_from(ApiKey).where(
        ApiKey.listing_id == listing_id, col(ApiKey.revoked_at).is_(None))).one()


def _new_key(session: Session, listing_id: int, user_id: int, label: str) -> tuple[ApiKey, str]:
    while True:
        prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
        # 4 billion prefixes make a clash rare; look before use so it is never an error.
        if session.exec(select(ApiKey.id).where(ApiKey.prefix == prefix)).first() is None:
            break
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    key = ApiKey(listing_id=listing_id, prefix=prefix, key_hash=hash_key(plaintext),
                 label=label, created_by_id=user_id, created_at=utcnow())
    session.add(key)
    session.flush()
    return key, plaintext


def create_api_key(session: Session, listing, user, label: str) -> tuple[ApiKey, str]:
    """A new key for ``listing``: the row and the plaintext, which is never stored.

    Raises ``ApiKeyError`` when the label is blank or too long, or when the
    listing already has ``MAX_ACTIVE_KEYS`` active keys.
    """
    label = (label or "").strip()
    if not label:
        raise ApiKeyError("Give the key a name, such as “Production”, to tell it apart later.")
    if len(label) > MAX_LABEL_LENGTH:
        raise ApiKeyError(f"Key names may be at most {MAX_LABEL_LENGTH} characters.")
    if _active_count(session, listing.id) >= MAX_ACTIVE_KEYS:
        raise ApiKeyError(f"A listing may have at most {MAX_ACTIVE_KEYS} active keys. "
                          "Revoke one you no longer use, then create the new one.")
    return _new_key(session, listing.id, user.id, label)


def rotate_api_key(session: Session, key: ApiKey, user,
                   now: datetime | None = None) -> tuple[ApiKey, str]:
    """Replace ``key`` with a new one of the same name; returns the new row and plaintext.

    The old key stays valid for ``ROTATION_GRACE`` (its ``revoked_at`` is set
    in the future), so the app can switch keys without downtime. Only an
    active key can be rotated; it does not count against the limit.
    """
    now = now or utcnow()
    state = key_state(key, now)
    if state == KeyState.RETIRING:
        raise ApiKeyError("This key was already replaced; it stops working on its own.")
    if state == KeyState.REVOKED:
        raise ApiKeyError("A revoked key cannot be rotated; create a new key instead.")
    key.revoked_at = now + ROTATION_GRACE
    session.add(key)
    return _new_key(session, key.listing_id, user.id, key.label)


def revoke_api_key(session: Session, key: ApiKey, now: datetime | None = None) -> None:
    """Stop ``key`` working at once (a retiring key too). Raises ``ApiKeyError`` if it already stopped."""
    now = now or utcnow()
    if key_state(key, now) == KeyState.REVOKED:
        raise ApiKeyError("This key is already revoked.")
    key.revoked_at = now
    session.add(key)


def authenticate(session: Session, presented: str | None,
                 now: datetime | None = None) -> ApiKey | None:
    """The key ``presented`` is, if it is a valid, unrevoked key; else None.

    Updates ``last_used_at`` when it is more than a minute old (the caller
    commits). The row is found by its public prefix, then the hashes are
    compared in constant time.
    """
    prefix = parse_key(presented)
    if prefix is None:
        return None
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(presented)):
        return None
    now = now or utcnow()
    if key_state(key, now) == KeyState.REVOKED:
        return None
    last_used = as_utc(key.last_used_at)
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return key
