"""The pages behind mailed links (accounts blueprint): "forgot your password?", setting a
new password from a reset link, verifying an address and confirming a new one.

A link that cannot be used (expired, used, tampered, another account's, the password
changed since) gets a page saying why, with status 400, and changes nothing.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from accounts import recovery
from accounts.blueprint import bp
from accounts.forms import ForgotPasswordForm, ResetPasswordForm
from accounts.services import AccountError, normalise_email
from accounts.tokens import (
    OTHER_ACCOUNT,
    BadLink,
    read_email_change_token,
    read_reset_token,
    read_verify_token,
)
from core.db import get_session
from core.extensions import limiter

# One answer whether or not the address has an account.
RESET_REQUESTED = ("If {email} has a Bazaar account, we have emailed it a link to choose a new "
                   "password. The link works for one hour. No email? Check your spam folder, "
                   "or ask again in a few minutes.")


def _no_store(response):
    # Pages reached by a secret link stay out of caches and history.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _address_key() -> str:
    """Flask-Limiter key of the typed address, so one address gets few reset mails
    whichever clients ask (https://flask-limiter.readthedocs.io/en/stable/recipes.html)."""
    return "reset-address:" + normalise_email(request.form.get("email", ""))[:254]


def _for_someone_else(user) -> bool:
    """Whether a link of ``user``'s account is opened while signed in as another."""
    return current_user.is_authenticated and current_user.id != user.id


def _bad_link(message: str, title: str = "This link does not work"):
    body = render_template("accounts/link_problem.html", title=title, message=message)
    return _no_store(current_app.make_response((body, 400)))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])  # per client address
@limiter.limit("3 per hour", key_func=_address_key, methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer never tells whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        session = get_session()
        recovery.request_password_reset(session, form.email.data)
        session.commit()
        return render_template("accounts/forgot_password.html", form=None,
                               sent=RESET_REQUESTED.format(email=normalise_email(form.email.data)))
    status = 400 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form, sent=None), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset_password(token: str):
    """Choose a new password from a mailed link: every device is signed out."""
    session = get_session()
    try:
        user = read_reset_token(session, token)
    except BadLink as error:
        return _bad_link(str(error), "This password reset link does not work")
    if _for_someone_else(user):
        return _bad_link(OTHER_ACCOUNT, "This password reset link does not work")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            recovery.reset_password(session, token, form.new_password.data)
        except BadLink as error:  # used a moment ago in another tab
            session.rollback()
            return _bad_link(str(error), "This password reset link does not work")
        session.commit()
        if current_user.is_authenticated:
            logout_user()  # its device was signed out with every other one
        flash("Your password is changed and every device is signed out. Sign in with the new "
              "password.", "success")
        return redirect(url_for("accounts.login"))
    status = 400 if form.errors else 200
    body = render_template("accounts/reset_password.html", form=form, email=user.email)
    return _no_store(current_app.make_response((body, status)))


@bp.route("/verify-email/<token>")
def verify_email(token: str):
    """Open the link mailed at sign-up: the address counts as verified."""
    session = get_session()
    try:
        user = read_verify_token(session, token)
        if _for_someone_else(user):
            raise BadLink(OTHER_ACCOUNT)
        recovery.verify_email(session, token)
    except BadLink as error:
        return _bad_link(str(error), "This verification link does not work")
    session.commit()
    flash(f"Thank you: {user.email} is confirmed. You can now pay for apps, invite people "
          "and write reviews.", "success")
    return _no_store(redirect(url_for("accounts.settings") if current_user.is_authenticated
                              else url_for("accounts.login")))


@bp.route("/verify-email/resend", methods=["POST"])
@login_required
@limiter.limit("3 per hour", methods=["POST"])
def resend_verification():
    """Send the verification link again (a few times an hour at most)."""
    session = get_session()
    if recovery.send_verification(session, current_user._get_current_object()):
        session.commit()
        flash(f"We sent a new confirmation link to {current_user.email}.", "success")
    else:
        flash("Your email address is already confirmed.", "info")
    return redirect(url_for("accounts.settings"))


@bp.route("/confirm-email/<token>")
def confirm_email_change(token: str):
    """Open the link mailed to a new address: the account moves to it."""
    session = get_session()
    try:
        user, _ = read_email_change_token(session, token)
        if _for_someone_else(user):
            raise BadLink(OTHER_ACCOUNT)
        user, old_email = recovery.confirm_email_change(session, token)
    except BadLink as error:
        return _bad_link(str(error), "This confirmation link does not work")
    except AccountError as error:
        session.rollback()
        return _bad_link(str(error), "This confirmation link does not work")
    session.commit()
    flash(f"Your email address is now {user.email}. We told {old_email} about the change.",
          "success")
    return _no_store(redirect(url_for("accounts.settings") if current_user.is_authenticated
                              else url_for("accounts.login")))
