"""The OpenAPI 3.1 document of the Partner API, built in code.

A test compares its paths and methods with the routes of the ``api``
blueprint, so a route cannot be added or removed without this document
following.
"""

from __future__ import annotations

from copy import deepcopy

API_VERSION = "1.0.0"
PREFIX = "/api/v1"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_STAMP = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS = {
    "Problem": {
        "type": "object",
        "description": "An error, as RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri",
                     "description": "about:blank, or urn:bazaar:problem:<name> for the "
                                    "errors an app should tell apart (token-invalid, "
                                    "token-expired, token-used, batch-too-large, "
                                    "usage-not-metered)."},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "What went wrong, for a developer."},
        },
    },
    "Install": {
        "type": "object",
        "description": "An app installed into a customer's workspace.",
        "required": ["id", "status", "workspace", "listing", "release", "granted_scopes",
                     "installed_at", "uninstalled_at", "trial"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["active", "expired", "uninstalled"]},
            "workspace": {"type": "object", "required": ["id", "name"],
                          "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "listing": {"type": "object", "required": ["id", "slug"],
                        "properties": {"id": {"type": "integer"}, "slug": {"type": "string"}}},
            "release": {"type": ["string", "null"], "description": "The version installed."},
            "granted_scopes": {"type": "array", "items": {"type": "string"},
                               "description": "The scopes the workspace admin consented to; "
                                              "empty once uninstalled."},
            "installed_at": {"type": "string", "format": "date-time"},
            "uninstalled_at": _STAMP,
            "trial": {
                "oneOf": [
                    {"type": "null"},
                    {"type": "object", "required": ["status", "started_at", "ends_at", "ended_at"],
                     "properties": {
                         "status": {"type": "string",
                                    "enum": ["active", "converted", "expired", "cancelled"]},
                         "started_at": {"type": "string", "format": "date-time"},
                         "ends_at": {"type": "string", "format": "date-time"},
                         "ended_at": _STAMP,
                     }},
                ],
            },
        },
    },
    "InstallPage": {
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": _ref("Install")},
            "next_cursor": {"type": ["string", "null"],
                            "description": "Pass as 'cursor' for the next page; null on the last."},
        },
    },
    "UsageEvent": {
        "type": "object",
        "required": ["event_id", "install_id", "quantity", "timestamp"],
        "properties": {
            "event_id": {"type": "string", "minLength": 1, "maxLength": 100,
                         "description": "Your own unique id for the event: a retry with the "
                                        "same id is counted once."},
            "install_id": {"type": "integer", "description": "One of your app's installs."},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000000,
                         "description": "Units used (a JSON integer, not a string)."},
            "timestamp": {"type": "string", "format": "date-time",
                          "description": "When the usage happened, with a zone; at most "
                                         "35 days old and 5 minutes ahead."},
        },
    },
    "UsageBatch": {
        "type": "object",
        "required": ["events"],
        "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 1000,
                                  "items": _ref("UsageEvent")}},
    },
    "UsageReceipt": {
        "type": "object",
        "description": "What happened to each event: valid events are kept even when "
                       "others in the batch were rejected.",
        "required": ["accepted", "duplicates", "rejected"],
        "properties": {
            "accepted": {"type": "integer", "description": "Events stored now."},
            "duplicates": {"type": "integer",
                           "description": "Events whose event_id was already received "
                                          "(counted once, not again)."},
            "rejected": {"type": "array", "items": {
                "type": "object", "required": ["index", "event_id", "reason"],
                "properties": {"index": {"type": "integer",
                                         "description": "Position in the batch, from 0."},
                               "event_id": {"type": ["string", "null"]},
                               "reason": {"type": "string"}}}},
        },
    },
    "RedeemRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {"type": "string",
                                 "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
                                 "description": "The install_token query parameter your "
                                                "redirect URL received: two base64url "
                                                "parts joined by a dot."}},
    },
}

RESPONSES = {
    "BadRequest": _problem_response("The request's parameters or body are not valid."),
    "Unauthorized": {
        **_problem_response("No API key, a malformed Authorization header, or a wrong or "
                            "revoked key."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"},
                                         "description": 'Bearer realm="bazaar-api"'}},
    },
    "NotFound": _problem_response("Nothing at this address for this key: another listing's "
                                  "install is not found either."),
    "TooManyRequests": {
        **_problem_response("The key's rate limit is used up."),
        "headers": {"Retry-After": {"schema": {"type": "integer"},
                                    "description": "Seconds until the limit resets."}},
    },
}

_COMMON_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
}

PATHS = {
    f"{PREFIX}/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This OpenAPI document",
            "security": [],
            "responses": {"200": _json_response("The OpenAPI 3.1 document.", {"type": "object"})},
        },
    },
    f"{PREFIX}/installs": {
        "get": {
            "operationId": "listInstalls",
            "summary": "Your app's installs, oldest first",
            "parameters": [
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["active", "expired", "uninstalled"]},
                 "description": "Only installs with this status."},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                {"name": "cursor", "in": "query", "required": False,
                 "schema": {"type": "string", "pattern": "^[0-9]{0,10}$"},
                 "description": "The next_cursor of the previous page: up to 10 digits. "
                                "Leave it out (or empty) for the first page. Anything else "
                                "is a 400."},
            ],
            "responses": {
                "200": _json_response("A page of installs.", _ref("InstallPage")),
                "400": {"$ref": "#/components/responses/BadRequest"},
                **_COMMON_ERRORS,
            },
        },
    },
    f"{PREFIX}/installs/{{install_id}}": {
        "get": {
            "operationId": "getInstall",
            "summary": "One install, with its granted scopes and status",
            "parameters": [{"name": "install_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "responses": {
                "200": _json_response("The install.", _ref("Install")),
                "404": {"$ref": "#/components/responses/NotFound"},
                **_COMMON_ERRORS,
            },
        },
    },
    f"{PREFIX}/install-tokens/redeem": {
        "post": {
            "operationId": "redeemInstallToken",
            "summary": "Exchange an install token for its install (once, within 10 minutes)",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("RedeemRequest")}}},
            "responses": {
                "200": _json_response("The install the token was issued for.", _ref("Install")),
                "400": _problem_response("No token in the body, or a forged or malformed token, "
                                         "or one issued to another app "
                                         "(type urn:bazaar:problem:token-invalid)."),
                "409": _problem_response("The token was already redeemed "
                                         "(type urn:bazaar:problem:token-used)."),
                "410": _problem_response("The token expired "
                                         "(type urn:bazaar:problem:token-expired)."),
                **_COMMON_ERRORS,
            },
        },
    },
    f"{PREFIX}/usage": {
        "post": {
            "operationId": "recordUsage",
            "summary": "Report a batch of 1 to 1,000 usage events (idempotent by event_id)",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("UsageBatch")}}},
            "responses": {
                "200": _json_response("The batch was judged event by event; rejected events "
                                      "are listed with their index and reason.",
                                      _ref("UsageReceipt")),
                "400": _problem_response("The body is not JSON, has no 'events' list, or the "
                                         "list is empty."),
                "409": _problem_response("The listing is not priced by usage "
                                         "(type urn:bazaar:problem:usage-not-metered)."),
                "413": _problem_response("More than 1,000 events in one batch "
                                         "(type urn:bazaar:problem:batch-too-large)."),
                **_COMMON_ERRORS,
            },
        },
    },
}


def openapi_document(server_url: str = "") -> dict:
    """The whole document; ``server_url`` is where this Bazaar answers (paths include /api/v1)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bazaar Partner API",
            "version": API_VERSION,
            "description": "Read your app's installs, redeem install tokens and report "
                           "usage. "
                           "Authenticate with an API key from the partner portal: "
                           "'Authorization: Bearer bzk_...'. Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": server_url or "/"}],
        "security": [{"bearerAuth": []}],
        "paths": deepcopy(PATHS),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A Bazaar API key (bzk_...)."}},
            "schemas": deepcopy(SCHEMAS),
            "responses": deepcopy(RESPONSES),
        },
    }
