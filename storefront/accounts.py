"""Account views: register, sign in, sign out."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from storefront.db import get_session
from storefront.extensions import csrf, limiter
from storefront.forms import LoginForm, RegisterForm
from storefront.security import safe_next
from storefront.services import AccountError, authenticate, register_user

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _landing_for(user) -> str:
    if user.is_editor:
        return url_for("editor.queue")
    if user.is_partner:
        return url_for("partner.dashboard")
    return url_for("storefront.home")


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
        user = authenticate(session, form.email.data, form.password.data)
        if user is not None:
            session.commit()  # keeps a rehashed password, if any
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(safe_next(next_url, _landing_for(user)))
        # One message for an unknown email and a wrong password.
        form.password.errors = ["That email and password do not match an account."]
        return render_template("storefront/login.html", form=form, next=next_url), 401
    status = 400 if form.errors else 200
    return render_template("storefront/login.html", form=form, next=next_url), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    form = RegisterForm()
    next_url = request.values.get("next")
    if form.validate_on_submit():
        session = get_session()
        try:
            user = register_user(session, email=form.email.data, password=form.password.data,
                                 display_name=form.display_name.data)
        except AccountError as error:
            getattr(form, error.field or "email").errors.append(str(error))
        else:
            session.commit()
            login_user(user)
            flash("Your account is ready.", "success")
            return redirect(safe_next(next_url, url_for("storefront.home")))
    status = 400 if form.errors else 200
    return render_template("storefront/register.html", form=form, next=next_url), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("storefront.home"))
