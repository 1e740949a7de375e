"""Accounts: people and their roles, signing in and out (per device), password reset
and email verification, workspaces with their members and invitations, and the
notices left for a workspace.

The lowest domain package: it imports only ``core`` and ``mail`` (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask

# The view modules are imported for their routes, which join the accounts blueprint.
from accounts import recovery_views, settings_views, views  # noqa: F401
from accounts.blueprint import bp as accounts_bp
from accounts.devices import load_device_user
from accounts.workspace_views import bp as workspaces_bp
from core import db
from core.extensions import login_manager


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    # Flask-Login "alternative tokens": the session and the remember-me cookie carry
    # the token of the device's user_sessions row (User.get_id), not the user's id, so
    # deleting the row signs that device out. https://flask-login.readthedocs.io/en/latest/#alternative-tokens
    @login_manager.user_loader
    def load_user(device_token: str):
        return load_device_user(db.get_session(), device_token)

    app.register_blueprint(accounts_bp)
    app.register_blueprint(workspaces_bp)
