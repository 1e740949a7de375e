"""The storefront: the app's shell (config, database, accounts, security,
error pages) and the customer's side of the marketplace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from core import db
from core.extensions import login_manager
from storefront.cli import installs_cli

log = logging.getLogger(__name__)

ERROR_MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please check what you sent."),
    401: ("Sign in needed", "Please sign in to continue."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Page not found", "We could not find that page. It may have moved or been removed."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "That upload is too large. Files may be at most 5 MB."),
    429: ("Slow down", "Too many attempts. Please wait a minute and try again."),
    500: ("Something went wrong", "We hit an error on our side. It has been logged; please try again."),
}


# Paths whose clients read JSON: their errors are JSON too.
JSON_PATHS = ("/search/suggest",)
# The Partner API answers every error as RFC 9457 problem+json (api.problems).
API_PATH = "/api/"


def _render_error(status: int, detail: str | None = None):
    title, message = ERROR_MESSAGES.get(status, ERROR_MESSAGES[500])
    if request.path.startswith(API_PATH):
        # Imported here: the API sits above the storefront, whose error pages answer
        # for its paths too (docs/architecture.md).
        from api.problems import problem

        return problem(status, None if status >= 500 else detail)
    if request.path.startswith(JSON_PATHS):
        return jsonify({"error": detail or message}), status
    return render_template("storefront/error.html", status=status, title=title,
                           message=detail or message), status


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render_error(400, "Your form expired or was sent from another site. "
                                  "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code < 400:
            return error
        if request.path.startswith(API_PATH):
            # Imported here: the API sits above the storefront (see _render_error).
            from api.problems import problem_for_http_error

            return problem_for_http_error(error)
        return _render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # Logged with the traceback for operators; the visitor sees no internals.
        log.exception("Unhandled error")
        return _render_error(500)


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` for database ids: a number past a 32-bit id column can't name
    a row, so the route answers 404 instead of a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    # First, before any blueprint adds a rule that uses it.
    app.url_map.converters["int"] = DatabaseIdConverter
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
        from sqlmodel import col, select

        from storefront.models import User

        if not session_token:
            return None
        return db.get_session().exec(select(User).where(
            User.session_token == session_token, col(User.active).is_(True))).first()

    _register_error_pages(app)
    app.cli.add_command(installs_cli)

    from storefront.accounts import bp as accounts_bp
    from storefront.admin import bp as admin_bp
    from storefront.install_views import bp as installs_bp
    from storefront.views import bp as storefront_bp
    from storefront.workspace_views import bp as workspaces_bp

    app.register_blueprint(storefront_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(installs_bp)
    app.register_blueprint(workspaces_bp)
