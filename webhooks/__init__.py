"""Partner webhooks: signed, versioned events about installs, delivered from an outbox."""

from __future__ import annotations

from flask import Flask

from installs.ports import consume_events
from webhooks.cli import webhooks_cli
from webhooks.sender import init_sender
from webhooks.services import deliver_install_event
from webhooks.views import bp


def init_app(app: Flask) -> None:
    """The sender (``WEBHOOK_*`` settings: core/settings.py), the CLI and the portal pages."""
    init_sender(app)
    # Every install event becomes a delivery to the app's partner (installs.ports).
    consume_events(app, deliver_install_event)
    app.cli.add_command(webhooks_cli)
    app.register_blueprint(bp)
