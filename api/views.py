"""The Partner API v1: an app reads its installs with one of its listing's API keys.

Every route except the OpenAPI document needs ``Authorization: Bearer <key>``.
Nothing here looks at the session cookie or the signed-in user, so a browser
that is signed in to Bazaar gets no further than a stranger; and since no
cookie authenticates, the blueprint is exempt from CSRF. Every error is a
problem+json document (``api.problems``).
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, g, jsonify, request
from sqlmodel import col, select

from api.openapi import openapi_document
from api.problems import BEARER_CHALLENGE, problem, problem_type
from api.services import authenticate, parse_key
from core.db import get_session
from core.extensions import csrf, limiter
from listings.models import Listing, Release
from storefront.models import Install, InstallStatus, Trial, Workspace
from storefront.services import InstallTokenError, install_public, redeem_install_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

DEFAULT_PAGE_SIZE = 50
# Ids are 32-bit integer columns; a larger number would fail in the database.
MAX_ID = 2**31 - 1
MAX_PAGE_SIZE = 100
# A cursor is the id of the last install seen, as the OpenAPI document says:
# ASCII digits only (not "²" or "١", which str.isdigit accepts), empty for page one.
CURSOR_PATTERN = re.compile(r"[0-9]{0,10}")
# Endpoints anyone may read, without a key.
PUBLIC_ENDPOINTS = {"api.openapi"}

# How each install token failure is answered; see docs/api.md.
TOKEN_PROBLEMS = {
    "invalid": (400, "token-invalid"),
    "expired": (410, "token-expired"),
    "used": (409, "token-used"),
}


def _presented_key() -> str | None:
    """The key in ``Authorization: Bearer <key>`` (scheme case-insensitive), or None."""
    match = re.fullmatch(r"[Bb][Ee][Aa][Rr][Ee][Rr] +(\S+) *", request.headers.get("Authorization", ""))
    return match.group(1) if match else None


def _rate_limit_key() -> str:
    # Counted per key, so one app's burst never slows another; requests
    # without a well-formed key are counted per client address.
    prefix = parse_key(_presented_key())
    return f"api-key:{prefix}" if prefix else f"api-ip:{request.remote_addr}"


limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="partner-api",
                     key_func=_rate_limit_key)(bp)


@bp.before_request
def _require_key():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    presented = _presented_key()
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


@bp.after_request
def _no_store(response):
    # Install data belongs to the calling app only: no shared cache keeps it.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _listing_id() -> int:
    return g.api_key.listing_id


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public)."""
    response = jsonify(openapi_document(server_url=request.host_url.rstrip("/")))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/installs/<int:install_id>")
def get_install(install_id: int):
    """One install of the key's listing, with its granted scopes and status."""
    session = get_session()
    install = session.get(Install, install_id) if install_id <= MAX_ID else None
    if install is None or install.listing_id != _listing_id():
        # Another listing's install is not admitted to exist.
        return problem(404, f"Your app has no install {install_id}.")
    return jsonify(install_public(session, install))


def _preload(session, installs: list[Install]) -> None:
    """Load the rows install_public reads in four queries, not four per install."""
    for model, ids in ((Workspace, {i.workspace_id for i in installs}),
                       (Listing, {i.listing_id for i in installs}),
                       (Release, {i.release_id for i in installs}),
                       (Trial, {i.trial_id for i in installs if i.trial_id})):
        if ids:
            session.exec(select(model).where(col(model.id).in_(ids))).all()


class _BadParameter(ValueError):
    pass


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # An empty value is no number either: "limit=" is refused, as the document says.
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise _BadParameter(f"'{name}' must be a whole number from {low} to {high}.")
    return int(raw)


def _cursor_param() -> int | None:
    raw = request.args.get("cursor", "")
    if not CURSOR_PATTERN.fullmatch(raw):
        raise _BadParameter("'cursor' must be the next_cursor of a previous page "
                            "(up to 10 digits), or be left out for the first page.")
    # Past the largest possible id there is nothing: an empty page, not an error.
    return min(int(raw), MAX_ID) if raw else None


@bp.get("/installs")
def list_installs():
    """The listing's installs, oldest first, a page at a time (cursor = last id seen)."""
    session = get_session()
    statuses = [status.value for status in InstallStatus]
    status = request.args.get("status")
    try:
        if status is not None and status not in statuses:
            raise _BadParameter(f"'status' must be one of: {', '.join(statuses)}.")
        limit = _int_param("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        cursor = _cursor_param()
    except _BadParameter as error:
        return problem(400, str(error))
    query = select(Install).where(Install.listing_id == _listing_id())
    if status:
        query = query.where(Install.status == status)
    if cursor is not None:
        query = query.where(col(Install.id) > cursor)
    rows = list(session.exec(query.order_by(col(Install.id)).limit(limit + 1)).all())
    page, more = rows[:limit], len(rows) > limit
    _preload(session, page)
    return jsonify({
        "data": [install_public(session, install) for install in page],
        "next_cursor": str(page[-1].id) if more else None,
    })


@bp.post("/install-tokens/redeem")
def redeem_token():
    """Exchange the install token from the redirect URL for the install, once."""
    body = request.get_json(silent=True)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        return problem(400, 'Send a JSON body like {"token": "<install_token>"} '
                            "with 'Content-Type: application/json'.")
    session = get_session()
    listing = session.get(Listing, _listing_id())
    try:
        install = redeem_install_token(session, listing, token)
    except InstallTokenError as error:
        session.rollback()
        status, slug = TOKEN_PROBLEMS.get(error.reason, (400, "token-invalid"))
        return problem(status, str(error), type_=problem_type(slug))
    session.commit()
    return jsonify(install_public(session, install))
