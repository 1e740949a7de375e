"""The Partner API v1: an app reads its installs with one of its listing's API keys.

Every route except the OpenAPI document needs ``Authorization: Bearer <key>``.
Nothing here looks at the session cookie or the signed-in user, so a browser
that is signed in to Bazaar gets no further than a stranger; and since no
cookie authenticates, the blueprint is exempt from CSRF. Every error is a
problem+json document (``api.problems``).
"""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, request

from api.auth import guard_with_api_key
from api.openapi import openapi_document
from api.problems import problem, problem_type
from api.queries import listing_install, listing_installs_after
from core.db import get_session
from installs.models import InstallStatus
from installs.services import install_public
from installs.tokens import InstallTokenError, redeem_install_token
from listings.models import Listing

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_PAGE_SIZE = 50
# Ids are 32-bit integer columns; a larger number would fail in the database.
MAX_ID = 2**31 - 1
MAX_PAGE_SIZE = 100
# A cursor is the id of the last install seen, as the OpenAPI document says:
# ASCII digits only (not "²" or "١", which str.isdigit accepts), empty for page one.
CURSOR_PATTERN = re.compile(r"[0-9]{0,10}")

# How each install token failure is answered; see docs/api.md.
TOKEN_PROBLEMS = {
    "invalid": (400, "token-invalid"),
    "expired": (410, "token-expired"),
    "used": (409, "token-used"),
}


guard_with_api_key(bp, public_endpoints={"api.openapi"})


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
    install = listing_install(session, _listing_id(), install_id) if install_id <= MAX_ID else None
    if install is None:
        # Another listing's install is not admitted to exist.
        return problem(404, f"Your app has no install {install_id}.")
    return jsonify(install_public(session, install))


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
    page = listing_installs_after(session, _listing_id(), status, cursor, limit)
    return jsonify({
        "data": [install_public(session, install) for install in page.installs],
        "next_cursor": str(page.installs[-1].id) if page.more else None,
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
