"""Partner webhooks: signed, versioned events about installs, delivered from an outbox."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The sender (``WEBHOOK_*`` settings: core/settings.py), the CLI and the portal pages."""
    from webhooks.cli import webhooks_cli
    from webhooks.sender import init_sender
    from webhooks.views import bp

    init_sender(app)
    app.cli.add_command(webhooks_cli)
    app.register_blueprint(bp)
