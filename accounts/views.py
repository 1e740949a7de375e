"""Account views: register, sign in, sign out (here or on every device), change the password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from accounts.credentials import change_password, sign_up
from accounts.forms import ChangePasswordForm, LoginForm, RegisterForm
from accounts.lockout import LockoutPolicy, clear_failures, is_locked_out, record_failure
from accounts.services import AccountError, authenticate
from core.db import get_session
from core.extensions import csrf, limiter
from core.security import safe_next

bp = Blueprint("accounts", __name__, url_prefix="/account")

# One message for an unknown email and a wrong password.
NO_MATCH = "That email and password do not match an account."
# Shown for any address once it is locked, whether it has an account or not.
LOCKED_OUT = ("Too many failed sign-ins for this email address. Signing in with it is paused: "
              "try again in {minutes} minute{plural}.")
# Shown after registering, for a new address and for one that already has an account.
REGISTERED = ("Thanks! If this email address is new to Bazaar, your account is ready: sign in "
              "with it below. If it already had an account, sign in with that account's password.")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _landing_for(user) -> str:
    if user.is_editor:
        return url_for("editor.queue")
    if user.is_partner:
        return url_for("partner.dashboard")
    return url_for("storefront.home")


def _end_every_session() -> None:
    """Replace the user's session token, then sign this browser out: every session
    and remember-me cookie made with the old token stops working, on every device
    (the user loader only finds users by their current token)."""
    session = get_session()
    user = current_user._get_current_object()
    user.rotate_session_token()
    session.add(user)
    session.commit()
    logout_user()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@csrf.exempt  # checked below instead, after the rate limit has counted the attempt
def login():
    if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    form = LoginForm()
    next_url = request.values.get("next")
    if current_user.is_authenticated:
        return redirect(safe_next(next_url, _landing_for(current_user)))
    if form.validate_on_submit():
        session = get_session()
        policy = LockoutPolicy.from_config(current_app.config)
        email = form.email.data
        # Checked before the password, so a locked address gets no more guesses.
        locked = is_locked_out(session, policy, email)
        if not locked:
            user = authenticate(session, email, form.password.data)
            if user is not None:
                clear_failures(session, policy, email)
                session.commit()  # also keeps a rehashed password, if any
                login_user(user, remember=form.remember.data)
                flash(f"Welcome back, {user.display_name}.", "success")
                return redirect(safe_next(next_url, _landing_for(user)))
            locked = record_failure(session, policy, email)
            session.commit()
        if locked:
            form.password.errors = [LOCKED_OUT.format(minutes=policy.minutes,
                                                      plural="" if policy.minutes == 1 else "s")]
            return render_template("storefront/login.html", form=form, next=next_url), 429
        form.password.errors = [NO_MATCH]
        return render_template("storefront/login.html", form=form, next=next_url), 401
    status = 400 if form.errors else 200
    return render_template("storefront/login.html", form=form, next=next_url), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    """The same answer for a new address and a taken one (see ``sign_up``): nobody is
    signed in, everyone is sent to the sign-in page with the same message."""
    form = RegisterForm()
    next_url = request.values.get("next")
    if form.validate_on_submit():
        session = get_session()
        try:
            sign_up(session, email=form.email.data, password=form.password.data,
                    display_name=form.display_name.data)
            session.commit()
        except IntegrityError:
            # Someone registered the same address a moment earlier: taken, same answer.
            session.rollback()
        flash(REGISTERED, "success")
        next_url = safe_next(next_url, "")
        return redirect(url_for("accounts.login", next=next_url or None))
    status = 400 if form.errors else 200
    return render_template("storefront/register.html", form=form, next=next_url), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Signing out retires the session token: a copied session or remember-me cookie
    # is worth nothing afterwards (and other devices are signed out too).
    _end_every_session()
    flash("You are signed out.", "info")
    return redirect(url_for("storefront.home"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    _end_every_session()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("storefront.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        session = get_session()
        user = current_user._get_current_object()
        try:
            change_password(session, user, form.current_password.data, form.new_password.data)
        except AccountError as error:
            session.rollback()
            getattr(form, error.field or "current_password").errors.append(str(error))
        else:
            session.commit()
            # The change retired every session; this device signs in again with the new token.
            login_user(user)
            flash("Your password is changed. Every other device is signed out.", "success")
            return redirect(url_for("account.delete_account"))
    status = 400 if form.errors else 200
    return render_template("storefront/change_password.html", form=form), status
