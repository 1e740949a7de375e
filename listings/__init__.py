"""The catalog and its governance: partners, listings, releases, reviews,
badges, collections; the partner portal and the editor console."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from listings.cli import register_cli
    from listings.editor_views import bp as editor_bp
    from listings.partner_views import bp as partner_bp

    app.register_blueprint(partner_bp)
    app.register_blueprint(editor_bp)
    register_cli(app)
