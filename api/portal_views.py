"""Partner portal: a listing's API keys (list, create, rotate, revoke).

Only a member of the partner that owns the listing gets here (another
partner's listing answers 404). A new key's plaintext is rendered once, in the
answer to the POST that made it: never redirected through a flash message,
which would carry it in the (signed, not encrypted) session cookie.
"""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from api.forms import NewApiKeyForm
from api.models import ApiKey
from api.services import (
    MAX_ACTIVE_KEYS,
    ROTATION_GRACE,
    ApiKeyError,
    KeyState,
    create_api_key,
    key_state,
    listing_api_keys,
    revoke_api_key,
    rotate_api_key,
)
from core.db import get_session, utcnow
from core.security import partner_required
from listings.access import own_listing

bp = Blueprint("api_keys", __name__, url_prefix="/partner/listings/<int:listing_id>/api-keys")


def format_when(moment) -> str:
    """A moment for people, in UTC: "3 Nov 2026, 14:05 UTC"."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def _grace_words() -> str:
    hours = int(ROTATION_GRACE.total_seconds() // 3600)
    return f"{hours} hours"


def _render_keys(session, listing, form: NewApiKeyForm | None = None, status: int = 200):
    now = utcnow()
    keys = listing_api_keys(session, listing.id)
    return render_template(
        "api/keys.html", listing=listing, keys=keys, states={k.id: key_state(k, now) for k in keys},
        form=form or NewApiKeyForm(formdata=None),
        max_keys=MAX_ACTIVE_KEYS, grace=_grace_words(), when=format_when, KeyState=KeyState,
    ), status


def _render_new_key(listing, key: ApiKey, plaintext: str, replaced: ApiKey | None = None):
    response = render_template("api/key_created.html", listing=listing, key=key,
                               plaintext=plaintext, replaced=replaced, when=format_when)
    # The page holds a secret: the browser must not keep it for the back button.
    return response, 200, {"Cache-Control": "no-store"}


def _own_key(session, listing, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.listing_id != listing.id:
        abort(404)
    return key


@bp.get("")
@partner_required
def index(listing_id: int):
    """The listing's keys and a form to create one."""
    session = get_session()
    return _render_keys(session, own_listing(session, listing_id))


@bp.post("")
@partner_required
def create(listing_id: int):
    """Create a key and show its plaintext, once."""
    session = get_session()
    listing = own_listing(session, listing_id)
    form = NewApiKeyForm()
    if not form.validate():
        return _render_keys(session, listing, form, status=400)
    try:
        key, plaintext = create_api_key(session, listing, current_user, form.label.data)
    except ApiKeyError as error:
        session.rollback()
        form.label.errors = [*form.label.errors, str(error)]
        return _render_keys(session, listing, form, status=400)
    session.commit()
    return _render_new_key(listing, key, plaintext)


@bp.post("/<int:key_id>/rotate")
@partner_required
def rotate(listing_id: int, key_id: int):
    """Replace a key: the new one is shown once; the old one works for the grace period."""
    session = get_session()
    listing = own_listing(session, listing_id)
    old = _own_key(session, listing, key_id)
    try:
        key, plaintext = rotate_api_key(session, old, current_user)
    except ApiKeyError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("api_keys.index", listing_id=listing.id))
    session.commit()
    return _render_new_key(listing, key, plaintext, replaced=old)


@bp.post("/<int:key_id>/revoke")
@partner_required
def revoke(listing_id: int, key_id: int):
    """Stop a key working at once."""
    session = get_session()
    listing = own_listing(session, listing_id)
    key = _own_key(session, listing, key_id)
    try:
        revoke_api_key(session, key)
    except ApiKeyError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"Key “{key.label}” (bzk_{key.prefix}_…) is revoked: calls with it now get 401.",
              "success")
    return redirect(url_for("api_keys.index", listing_id=listing.id))
