"""Accounts: people and their roles, signing in and out, workspaces with their
members and invitations, and the notices left for a workspace.

The lowest domain package: it imports only ``core`` (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask
from sqlmodel import col, select

from accounts.models import User
from accounts.views import bp as accounts_bp
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
    # the user's session token (User.get_id), not their id, so replacing the token
    # signs every device out. https://flask-login.readthedocs.io/en/latest/#alternative-tokens
    @login_manager.user_loader
    def load_user(session_token: str):
        if not session_token:
            return None
        return db.get_session().exec(select(User).where(
            User.session_token == session_token, col(User.active).is_(True))).first()

    app.register_blueprint(accounts_bp)
    app.register_blueprint(workspaces_bp)
