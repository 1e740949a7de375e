"""The storefront: the customer-facing pages (home, categories, collections, an
app's page and reviews, installing, "My apps", deleting one's account), the
admin's user list, and the error pages every path shares.

The top of the package graph: its pages bring together accounts, listings,
search, installs and billing (docs/architecture.md)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from api.problems import problem, problem_for_http_error
from storefront.account_views import bp as account_bp
from storefront.admin import bp as admin_bp
from storefront.badge_views import bp as badges_bp
from storefront.findable import bp as findable_bp
from storefront.install_views import bp as installs_bp
from storefront.review_views import bp as reviews_bp
from storefront.views import bp as storefront_bp

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
            return problem_for_http_error(error)
        return _render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # Logged with the traceback for operators; the visitor sees no internals.
        log.exception("Unhandled error")
        return _render_error(500)


def init_app(app: Flask) -> None:
    _register_error_pages(app)
    app.register_blueprint(storefront_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(installs_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(badges_bp)
    app.register_blueprint(findable_bp)
