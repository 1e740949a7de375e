"""Stopping the charges of apps a workspace removed, right after the commit that
removed them (an uninstall, a workspace deleted)."""

from __future__ import annotations

import logging

from flask import flash

from billing.interfaces import ProviderError, ProviderUnavailable
from billing.providers import get_provider
from billing.subscriptions import cancel_ended_subscriptions

log = logging.getLogger(__name__)


def stop_charging(session, workspace_id: int) -> None:
    """After the commit that removed apps: cancel their subscriptions at the provider.

    An outage doesn't undo the uninstall; `flask billing cancel-ended` retries.
    """
    try:
        cancel_ended_subscriptions(session, get_provider(), workspace_id=workspace_id)
    except ProviderUnavailable:
        session.rollback()
        log.warning("Payment provider unavailable: subscriptions of workspace %s are cancelled "
                    "by the next `flask billing cancel-ended`", workspace_id)
        flash("We could not reach the payment provider to cancel the subscription just now; "
              "we keep trying until it is cancelled.", "warning")
    except ProviderError:
        session.rollback()
        log.exception("The payment provider refused to cancel a subscription of workspace %s",
                      workspace_id)
