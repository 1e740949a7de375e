"""Errors of the Partner API as problem details (RFC 9457, application/problem+json).

Plain HTTP errors use the type ``about:blank`` with the status's reason phrase
as the title, as the RFC suggests; errors an app may want to tell apart by
program (the install token ones) get their own ``urn:bazaar:problem:...`` type,
documented in docs/api.md.
"""

from __future__ import annotations

import json
import math
from http import HTTPStatus

from flask import Response
from werkzeug.exceptions import HTTPException

from core.db import utcnow
from core.extensions import limiter

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:bazaar:problem:"
# What the 401 answer asks for (RFC 6750); the realm names the API, not a page.
BEARER_CHALLENGE = 'Bearer realm="bazaar-api"'

# Details for the plain errors, written for the app's developer reading a log.
DEFAULT_DETAILS = {
    400: "The request could not be understood; check its parameters and body.",
    401: "Send a valid API key in the header 'Authorization: Bearer <key>'.",
    403: "This API key may not do that.",
    404: "Nothing was found at this address.",
    405: "This method is not allowed on this address; see the Allow header.",
    413: "The request body is too large.",
    415: "Send the body as JSON with 'Content-Type: application/json'.",
    429: "Too many requests for this API key; wait and try again (see Retry-After).",
    500: "The server hit an error on its side. It has been logged; please try again later.",
}


def problem_type(slug: str) -> str:
    """The stable identifier of one of Bazaar's own problem types."""
    return PROBLEM_TYPE_PREFIX + slug


def problem(status: int, detail: str | None = None, *, type_: str = "about:blank",
            title: str | None = None, headers: dict | None = None, **extensions) -> Response:
    """A problem+json response; ``extensions`` become extra members of the object."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = {"type": type_, "title": title or phrase, "status": status,
            "detail": detail or DEFAULT_DETAILS.get(status, phrase + "."), **extensions}
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    # Errors are about this one request: never cached by a proxy.
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_for_http_error(error: HTTPException) -> Response:
    """Werkzeug's (and Flask-Limiter's) HTTP errors as problems, keeping their useful headers."""
    status = error.code or 500
    # A description given on purpose (abort(404, "...")) is kept; Werkzeug's
    # generic wording about web pages is replaced by our API wording.
    custom = error.description if error.description != type(error).description else None
    headers = {}
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(sorted(allowed))
    if status == 429:
        headers.update(_retry_after())
        limit = getattr(error, "limit", None)
        if limit is not None:
            custom = (f"Too many requests: the limit is {limit.limit} for each API key. "
                      "Wait and try again (see Retry-After).")
    if status >= 500:
        custom = None  # never echo internals
    return problem(status, custom, headers=headers)


def _retry_after() -> dict:
    current = limiter.current_limit
    if current is None:
        return {}
    seconds = max(1, math.ceil(current.reset_at - utcnow().timestamp()))
    return {"Retry-After": str(seconds)}
