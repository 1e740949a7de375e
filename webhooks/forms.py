"""Partner portal form for a listing's webhook endpoint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import URLField

from listings.partner_forms import MessagesMixin


class WebhookEndpointForm(MessagesMixin, FlaskForm):
    """The URL events are sent to; the rules are in ``listings.webhook_settings``."""

    webhook_url = URLField("Webhook URL")
