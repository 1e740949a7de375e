"""Mail: the one place that talks SMTP. Other packages queue messages with
``mail.compose.queue_mail`` in their own transaction; the mail outbox sends them
after commit (docs/mail.md)."""

from __future__ import annotations

from flask import Flask

from mail.cli import mail_cli
from mail.notification_views import bp as notifications_bp
from mail.sender import init_sender
from mail.views import bp


def init_app(app: Flask) -> None:
    """The mail outbox and its sender (``MAIL_*`` settings), ``flask mail``, /admin/mail
    and /account/notifications (preferences and one-click unsubscribe)."""
    init_sender(app)
    app.cli.add_command(mail_cli)
    app.register_blueprint(bp)
    app.register_blueprint(notifications_bp)
