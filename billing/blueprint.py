"""The ``billing`` blueprint. Billing's pages are in one module per audience
(``customer_views``, ``partner_views``, ``stripe_webhook_views``, ``test_mode_views``),
all on this one blueprint, so their endpoints are ``billing.<name>``;
``billing.init_app`` imports them and registers it. The revenue pages have their own
(``billing.revenue_views``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("billing", __name__)
