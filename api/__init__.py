"""The Partner API (v1): apps read their installs with a per-listing API key."""

from __future__ import annotations

from flask import Flask

from api.portal_views import bp as portal_bp
from api.views import bp as api_bp


def init_app(app: Flask) -> None:
    """Register the API (``/api/v1``) and the partner portal's API key pages.
    ``API_RATE_LIMIT`` (calls per API key) is read and checked in core/settings.py."""
    app.register_blueprint(api_bp)
    app.register_blueprint(portal_bp)
