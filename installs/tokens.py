"""Install tokens: short-lived, single-use proof for the app that an install just happened."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.db import as_utc, utcnow
from installs.models import Install, InstallToken
from listings.services import ensure_webhook_secret

# --- install tokens: proof for the app that an install just happened -------------

INSTALL_TOKEN_TTL = timedelta(minutes=10)


class InstallTokenError(ValueError):
    """A token that is forged, malformed, expired or already used; ``reason`` says which."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text_: str) -> bytes:
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


def _token_signature(secret: str, payload_part: str) -> str:
    return _b64(hmac.new(secret.encode(), payload_part.encode("ascii"), hashlib.sha256).digest())


def issue_install_token(session: Session, install: Install, listing) -> str:
    """A short-lived, single-use token for the app's redirect URL.

    ``<payload>.<signature>``, both base64url: the payload is JSON with the
    install, workspace, listing and expiry; the signature is HMAC-SHA256 of
    the payload part with the listing's secret, so the app can check it
    locally, then redeem it once through the Partner API.
    """
    secret = ensure_webhook_secret(listing)
    session.add(listing)
    now = utcnow()
    row = InstallToken(token_id=secrets.token_urlsafe(16), install_id=install.id,
                       listing_id=listing.id, created_at=now, expires_at=now + INSTALL_TOKEN_TTL)
    session.add(row)
    session.flush()
    payload = {"tid": row.token_id, "install_id": install.id, "workspace_id": install.workspace_id,
               "listing": listing.slug, "iat": int(now.timestamp()),
               "exp": int(row.expires_at.timestamp())}
    payload_part = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload_part}.{_token_signature(secret, payload_part)}"


def redeem_install_token(session: Session, listing, token: str, now=None) -> Install:
    """The install a token was issued for, marking the token used.

    Raises ``InstallTokenError`` when the token is not one of ``listing``'s
    (forged or malformed), has expired, or was redeemed before. Marking it
    used is one conditional UPDATE, so two simultaneous redemptions cannot
    both succeed.
    """
    now = now or utcnow()
    forged = InstallTokenError("invalid", "The install token is not valid for this app.")
    token = (token or "").strip()
    # Tokens are base64url, so ASCII; anything else is forged, and must not reach
    # encode("ascii") or compare_digest, which raise on non-ASCII text.
    if not token.isascii():
        raise forged
    payload_part, _, signature = token.partition(".")
    if not payload_part or not signature or not listing.webhook_secret:
        raise forged
    if not hmac.compare_digest(signature, _token_signature(listing.webhook_secret, payload_part)):
        raise forged
    try:
        payload = json.loads(_unb64(payload_part))
        token_id = str(payload["tid"])
    except (ValueError, KeyError, TypeError):
        raise forged from None
    row = session.exec(select(InstallToken).where(InstallToken.token_id == token_id,
                                                  InstallToken.listing_id == listing.id)).first()
    if row is None:
        raise forged
    expires_at = as_utc(row.expires_at)
    if now >= expires_at:
        raise InstallTokenError("expired", "The install token has expired; they last "
                                f"{int(INSTALL_TOKEN_TTL.total_seconds() // 60)} minutes.")
    claimed = session.execute(
        update(InstallToken).where(col(InstallToken.id) == row.id,
                                   col(InstallToken.redeemed_at).is_(None))
        .values(redeemed_at=now)).rowcount
    if claimed != 1:
        raise InstallTokenError("used", "The install token was already used.")
    return session.get(Install, row.install_id)
