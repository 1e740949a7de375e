"""Account views: register, sign in, sign out (here or on every device), change the password.

The same blueprint's password reset and email verification pages are in
accounts/recovery_views.py, the settings page in accounts/settings_views.py."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from accounts.blueprint import bp
from accounts.credentials import change_password, sign_up
from accounts.devices import end_device_session, end_every_session, start_device_session
from accounts.forms import ChangePasswordForm, LoginForm, RegisterForm
from accounts.lockout import LockoutPolicy, clear_failures, is_locked_out, record_failure
from accounts.services import AccountError, authenticate
from core.db import get_session
from core.extensions import csrf, limiter
from core.security import safe_next

# One message for an unknown email and a wrong password.
NO_MATCH = "That email and password do not match an account."
# Shown for any address once it is locked, whether it has an account or not.
LOCKED_OUT = ("Too many failed sign-ins for this email address. Signing in with it is paused: "
              "try again in {minutes} minute{plural}.")
# Shown after registering, for a new address and for one that already has an account.
REGISTERED = ("Thanks! If this email address is new to Bazaar, your account is ready: sign in "
              "with it below, and open the link we emailed you to confirm the address. If it "
              "already had an account, sign in with that account's password.")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _landing_for(user) -> str:
    if user.is_editor:
        return url_for("editor.queue")
    if user.is_partner:
        return url_for("partner.dashboard")
    return url_for("storefront.home")


def sign_in_device(user, remember: bool = False) -> None:
    """Sign ``user`` in on this browser: a new signed-in device (a user_sessions row)
    whose token the session and remember-me cookies carry."""
    session = get_session()
    start_device_session(session, user, request)
    session.commit()
    login_user(user, remember=remember)


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
                # The commit also keeps a rehashed password, if any.
                sign_in_device(user, remember=form.remember.data)
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
    # Signing out deletes this device's row: a copied session or remember-me cookie
    # of this device is worth nothing afterwards. Other devices stay signed in.
    session = get_session()
    end_device_session(session, current_user.get_id())
    session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("storefront.home"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Every signed-in device of the user, this one included, is signed out."""
    session = get_session()
    end_every_session(session, current_user._get_current_object())
    session.commit()
    logout_user()
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
            change_password(session, user, form.current_password.data, form.new_password.data,
                            keep_device_token=current_user.get_id())
        except AccountError as error:
            session.rollback()
            getattr(form, error.field or "current_password").errors.append(str(error))
        else:
            session.commit()
            flash("Your password is changed. Every other device is signed out.", "success")
            return redirect(url_for("accounts.settings"))
    status = 400 if form.errors else 200
    return render_template("storefront/change_password.html", form=form), status
