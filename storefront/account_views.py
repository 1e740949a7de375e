"""Deleting one's account, after typing the password again.

It sits in the storefront, above installs and billing, because it does more than
accounts can: it revokes the installs of the workspaces it leaves empty
(``installs.account_deletion``) and then stops charging for them.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask import session as flask_session
from flask_login import current_user, login_required, logout_user

from accounts.devices import end_every_session
from accounts.services import AccountError
from accounts.workspaces import SESSION_KEY, user_workspaces
from core.db import get_session
from core.extensions import limiter
from installs.account_deletion import delete_account as delete_account_service
from storefront.account_forms import DeleteAccountForm
from storefront.charging import stop_charging

bp = Blueprint("account", __name__)



@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"])
def delete_account():
    """Your account, and deleting it after typing the password again."""
    session = get_session()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            retired = delete_account_service(session, current_user, form.password.data)
        except AccountError as error:
            session.rollback()
            form.password.errors.append(str(error))
        else:
            # Every device of the account is signed out for good (the row stays, anonymised).
            end_every_session(session, current_user._get_current_object())
            session.commit()
            for workspace_id in retired:
                stop_charging(session, workspace_id)
            logout_user()
            flask_session.pop(SESSION_KEY, None)
            flash("Your account is deleted. Thank you for using Bazaar.", "success")
            return redirect(url_for("storefront.home"))
    status = 400 if form.errors else 200
    return render_template("workspaces/delete_account.html", form=form,
                           workspaces=user_workspaces(session, current_user)), status
