"""The Partner API's door: every ``/api/v1`` blueprint (the API's own, billing's
usage API) is guarded the same way by ``guard_with_api_key``: an API key in
``Authorization: Bearer <key>``, one rate-limit budget per key, answers never
cached, and no session cookie or CSRF token involved."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, g, request

from api.problems import BEARER_CHALLENGE, problem
from api.services import authenticate, parse_key
from core.db import get_session
from core.extensions import csrf, limiter


def presented_key() -> str | None:
    """The key in ``Authorization: Bearer <key>`` (scheme case-insensitive), or None."""
    match = re.fullmatch(r"[Bb][Ee][Aa][Rr][Ee][Rr] +(\S+) *", request.headers.get("Authorization", ""))
    return match.group(1) if match else None


def rate_limit_key() -> str:
    """What the "partner-api" limit counts: the key, so one app's burst never slows
    another; requests without a well-formed key are counted per client address."""
    prefix = parse_key(presented_key())
    return f"api-key:{prefix}" if prefix else f"api-ip:{request.remote_addr}"


def require_api_key(public_endpoints: frozenset[str] = frozenset()):
    """A ``before_request`` hook: a problem+json 401 unless a valid key was sent
    (``g.api_key`` then holds it); ``public_endpoints`` need no key."""

    def check():
        if request.endpoint in public_endpoints:
            return None
        presented = presented_key()
        if presented is None:
            # RFC 6750 §3.1: no error code when no credentials were sent at all.
            detail = ("Send your API key as 'Authorization: Bearer <key>'." if
                      "Authorization" not in request.headers else
                      "The Authorization header must be 'Bearer <key>'.")
            return problem(401, detail)
        session = get_session()
        key = authenticate(session, presented)
        if key is None:
            return problem(401, "The API key is not valid: it is wrong, or it was revoked.",
                           headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error="invalid_token"'})
        # Only last_used_at may have changed; saved now so a later error cannot lose it.
        session.commit()
        g.api_key = key
        return None

    return check


def no_store(response):
    """Install data belongs to the calling app only: no shared cache keeps it."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def guard_with_api_key(bp: Blueprint, *, public_endpoints: set[str] | None = None) -> None:
    """Put ``bp`` behind the API key check, the shared per-key rate limit and
    ``Cache-Control: no-store``; authenticated by key only, so exempt from CSRF."""
    csrf.exempt(bp)
    bp.before_request(require_api_key(frozenset(public_endpoints or ())))
    bp.after_request(no_store)
    # One "partner-api" scope for every /api/v1 blueprint: one budget per key.
    limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="partner-api",
                         key_func=rate_limit_key)(bp)
