"""``POST /api/v1/usage``: a partner's app reports usage with its listing's API key.

The route lives in its own blueprint (``usage_api``) under ``/api/v1`` and
shares the Partner API's key check, per-key rate limit and problem+json
errors (``api.auth``, ``api.problems``), so it behaves like every other
``/api/v1`` route; the OpenAPI document (``api.openapi``) describes it.

A well-formed batch is answered 200 even when some events were rejected
(a "207-style" body in a 200): the body says, per event, what happened.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, request

from api.auth import guard_with_api_key
from api.problems import problem, problem_type
from billing.usage import UsageBatchError, record_usage
from billing.usage_sender import init_usage_sender
from core.db import get_session
from listings.models import Listing

bp = Blueprint("usage_api", __name__, url_prefix="/api/v1")
# The same key check, per-key budget and no-store answers as the other routes.
guard_with_api_key(bp)

BODY_HINT = ('Send a JSON body like {"events": [{"event_id": "...", "install_id": 1, '
             '"quantity": 1, "timestamp": "2025-01-31T12:00:00Z"}]} '
             "with 'Content-Type: application/json'.")


@bp.post("/usage")
def record_usage_events():
    """Store a batch of 1 to 1,000 usage events; answer what was accepted, per event."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        return problem(400, BODY_HINT)
    session = get_session()
    listing = session.get(Listing, g.api_key.listing_id)
    try:
        receipt = record_usage(session, listing, body["events"])
    except UsageBatchError as error:
        session.rollback()
        if error.too_large:
            return problem(413, str(error), type_=problem_type("batch-too-large"))
        if error.not_metered:
            return problem(409, str(error), type_=problem_type("usage-not-metered"))
        return problem(400, str(error))
    session.commit()
    return jsonify(receipt.as_dict())


def init_usage(app: Flask) -> None:
    """Register the usage API and its outbox sender."""
    init_usage_sender(app)
    app.register_blueprint(bp)
