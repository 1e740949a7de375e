"""The Partner API (v1): apps read their installs with a per-listing API key."""

from __future__ import annotations

import os

from flask import Flask

# Calls each API key may make; "600 per minute" is ten a second, plenty for
# reading installs, and a runaway loop in an app is stopped early.
DEFAULT_API_RATE_LIMIT = "600 per minute"


def init_app(app: Flask) -> None:
    """Register the API (``/api/v1``) and the partner portal's API key pages."""
    from api.portal_views import bp as portal_bp
    from api.views import bp as api_bp

    app.config.setdefault("API_RATE_LIMIT",
                          os.environ.get("API_RATE_LIMIT", DEFAULT_API_RATE_LIMIT))
    app.register_blueprint(api_bp)
    app.register_blueprint(portal_bp)
