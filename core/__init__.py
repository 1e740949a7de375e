"""The app's infrastructure, shared by every domain package: the database, settings,
security headers, extensions, locks, the outbox runner and worker, templating,
pagination, Markdown, logging and metrics. It imports no domain package."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import cache, db, observability, security, static_assets
from core.cli import db_cli
from core.extensions import compress, csrf, limiter
from core.routing import BuiltOnFirstUseRule, DatabaseIdConverter
from core.templating import register_template_helpers
from core.worker import outbox_status_command, worker_command


def init_app(app: Flask) -> None:
    """Set up what every package builds on, before any of them registers itself."""
    # First, before any blueprint adds a rule that uses it.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.url_rule_class = BuiltOnFirstUseRule
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    observability.init_app(app)  # first: the request id and timer wrap every other hook
    db.init_app(app)
    security.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    cache.init_app(app)
    static_assets.init_app(app)
    if app.config["COMPRESS_RESPONSES"]:
        # Pages, JSON and the like; files (streamed) are left to the browser's year-long
        # cache (core/static_assets.py) and to the reverse proxy.
        app.config.setdefault("COMPRESS_STREAMS", False)
        compress.init_app(app)
    register_template_helpers(app)
    app.cli.add_command(db_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_status_command)
