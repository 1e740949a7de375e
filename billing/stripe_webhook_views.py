"""The payment provider's webhook endpoint: thin (house rule 7). The signature is
checked on the raw body, the event applied once (``billing.webhooks``), and the answer
tells Stripe whether to deliver it again."""

from __future__ import annotations

import logging

from flask import request
from sqlalchemy.exc import IntegrityError, OperationalError

from billing.blueprint import bp
from billing.events import UnusableEvent
from billing.interfaces import InvalidWebhook, ProviderError, ProviderUnavailable
from billing.providers import get_provider
from billing.webhooks import already_processed, process_event
from core.db import get_session
from core.extensions import csrf

log = logging.getLogger(__name__)

@csrf.exempt
@bp.route("/billing/webhooks/stripe", methods=["POST"])
def stripe_webhook():
    """The payment provider's signed events. 2xx only once the event is applied
    (or was already): Stripe never delivers a 2xx'd event again, and delivers any other
    answer again later (https://docs.stripe.com/webhooks#retries). So: 400 for a bad,
    stale or future signature or an event of a shape we cannot use (nothing changes,
    and no redelivery will change that); 503 when the provider could not be asked or
    the event lost a race with another one (rolled back; the redelivery applies it);
    200 for an applied event or a replay."""
    session = get_session()
    provider = get_provider()
    try:
        event = provider.parse_webhook(request.get_data(),
                                       request.headers.get("Stripe-Signature") or "")
        process_event(session, provider, event)
        session.commit()
    except UnusableEvent as error:
        session.rollback()
        log.warning("Webhook %s (%s) refused, its shape is unusable: %s",
                    error.event_id or "without an id", error.event_type or "no type", error)
        return {"error": "The event has a shape we cannot use."}, 400
    except InvalidWebhook as error:
        session.rollback()
        log.warning("Webhook refused: %s", error)
        return {"error": str(error)}, 400
    except (ProviderUnavailable, ProviderError) as error:
        # Reading the subscription's current state failed: nothing was applied, and
        # the provider delivers the event again later.
        session.rollback()
        log.warning("Webhook %s not applied, the provider could not answer: %s", event.id,
                    getattr(error, "detail", "") or error)
        return {"error": "Try again later."}, 503
    except (IntegrityError, OperationalError) as error:
        # Rolled back whole: a concurrent delivery of the same event (it applied it),
        # or another event that wrote the same row first (an invoice, an install), or a
        # deadlock or lock timeout. Only the first is done; the others are retried.
        session.rollback()
        if already_processed(session, provider, event.id):
            return {"received": True}, 200
        log.warning("Webhook %s (%s) not applied, it ran into another transaction (%s): "
                    "answered 503 so the provider delivers it again", event.id, event.type,
                    type(error.orig).__name__ if error.orig is not None else "conflict")
        return {"error": "Try again later."}, 503
    return {"received": True}, 200
