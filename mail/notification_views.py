"""/account/notifications: which notices a signed-in person gets by mail, and the
one-click unsubscribe link every notice carries (RFC 8058), which works without
signing in: a GET shows a confirm button, a POST (the mail program's, or the
button's) turns that one kind off for that one person."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.db import get_session
from core.extensions import csrf
from mail.preferences import (
    NOTICE_KINDS,
    SECURITY_MAIL,
    BadUnsubscribeToken,
    kinds_for,
    opted_out_kinds,
    read_unsubscribe_token,
    save_preferences,
    set_preference,
)

bp = Blueprint("notifications", __name__, url_prefix="/account/notifications")


@bp.route("", methods=["GET", "POST"])
@login_required
def settings():
    """Each kind of notice with a checkbox; security mail shown as always on."""
    session = get_session()
    kinds = kinds_for(current_user)
    if request.method == "POST":
        wanted = {kind for kind in request.form.getlist("kind") if kind in kinds}
        save_preferences(session, current_user.id, wanted, shown=kinds)
        session.commit()
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("notifications.settings")), 303
    off = opted_out_kinds(session, current_user.id)
    return render_template("mail_settings/settings.html", kinds=kinds, off=off,
                           security_mail=SECURITY_MAIL)


def _read(token: str) -> tuple[int, str] | None:
    try:
        return read_unsubscribe_token(token)
    except BadUnsubscribeToken:
        return None


def _bad_link():
    # 400 and nothing changed: a forged or altered link names nobody we can trust.
    return render_template("mail_settings/bad_link.html"), 400


@bp.route("/unsubscribe/<token>", methods=["GET"])
def unsubscribe_confirm(token: str):
    """The page behind the footer link: a button, so a link scanner that follows
    every URL in a mail unsubscribes nobody (RFC 8058 section 3.2)."""
    found = _read(token)
    if found is None:
        return _bad_link()
    _, kind = found
    return render_template("mail_settings/unsubscribe.html", token=token,
                           label=NOTICE_KINDS.get(kind, kind))


# A mail program posts "List-Unsubscribe=One-Click" with no cookie and no form token,
# so this one endpoint is exempt from CSRF; the signed token is what authorises it
# (https://www.rfc-editor.org/rfc/rfc8058#section-3.1).
@bp.route("/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
def unsubscribe(token: str):
    """Turn the token's kind off for the token's person; idempotent."""
    found = _read(token)
    if found is None:
        return _bad_link()
    user_id, kind = found
    session = get_session()
    set_preference(session, user_id, kind, wanted=False)
    session.commit()
    return render_template("mail_settings/unsubscribed.html",
                           label=NOTICE_KINDS.get(kind, kind))
