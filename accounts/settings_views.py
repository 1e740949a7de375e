"""The account settings page (accounts blueprint, /account): name, email address (with
its verification), password, signed-in devices, and the way to account deletion."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from accounts.blueprint import bp
from accounts.devices import describe, is_this_device, user_devices
from accounts.forms import ChangeEmailForm, DisplayNameForm
from accounts.recovery import change_display_name, request_email_change
from accounts.services import UNVERIFIED, AccountError
from core.db import get_session
from core.extensions import limiter


def _render_settings(status: int = 200, *, name_form=None, email_form=None):
    session = get_session()
    user = current_user._get_current_object()
    token = current_user.get_id()
    devices = [(device, describe(device), is_this_device(device, token))
               for device in user_devices(session, user)]
    return render_template(
        "accounts/settings.html", devices=devices,
        unverified_message=UNVERIFIED.format(doing="pay for apps, invite people or write reviews",
                                             email=user.email),
        name_form=name_form or DisplayNameForm(formdata=None, display_name=user.display_name),
        email_form=email_form or ChangeEmailForm(formdata=None)), status


@bp.route("")
@login_required
def settings():
    """Your account: name, email, password, signed-in devices, deletion."""
    return _render_settings()


@bp.route("/name", methods=["POST"])
@login_required
def change_name():
    form = DisplayNameForm()
    if not form.validate_on_submit():
        return _render_settings(400, name_form=form)
    session = get_session()
    change_display_name(session, current_user._get_current_object(), form.display_name.data)
    session.commit()
    flash("Your name is changed.", "success")
    return redirect(url_for("accounts.settings"))


@bp.route("/email", methods=["POST"])
@login_required
@limiter.limit("5 per hour", methods=["POST"])
def change_email():
    """Ask to move the account to a new address: it changes once the link mailed
    there is opened."""
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return _render_settings(400, email_form=form)
    session = get_session()
    try:
        new_email = request_email_change(session, current_user._get_current_object(),
                                         form.password.data, form.email.data)
    except AccountError as error:
        session.rollback()
        getattr(form, error.field or "password").errors.append(str(error))
        return _render_settings(400, email_form=form)
    session.commit()
    flash(f"We emailed a confirmation link to {new_email}. Your address changes when you open "
          f"it; until then it stays {current_user.email}.", "success")
    return redirect(url_for("accounts.settings"))
