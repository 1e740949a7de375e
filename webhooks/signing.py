"""Signing webhook requests, Stripe-style, and checking a signature.

A request carries ``Bazaar-Signature: t=<unix seconds>,v1=<hex>``, where the
hex is HMAC-SHA256 over ``"<t>.<body>"`` keyed with the listing's webhook
secret. Signing the timestamp with the body lets a receiver refuse replays
of an old request. The header may carry several ``v1`` values (one per
secret), so a receiver accepts the request when any of them matches.

docs/webhooks.md shows partners the same check in plain standard-library
Python; a test runs that snippet, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Bazaar-Signature"
USER_AGENT = "Bazaar-Webhooks/1"
# A receiver should refuse a request signed longer ago than this (seconds).
DEFAULT_TOLERANCE = 300


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def compute_signature(secret: str, body: bytes | str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], body: bytes | str, timestamp: int) -> str:
    """The ``Bazaar-Signature`` value: ``t=<ts>,v1=<sig>`` with one ``v1`` per secret."""
    parts = [f"t={int(timestamp)}"]
    parts += [f"v1={compute_signature(secret, body, timestamp)}" for secret in secrets]
    return ",".join(parts)


def request_headers(*, event_id: str, event_type: str, secrets: list[str], body: bytes | str,
                    timestamp: int) -> dict[str, str]:
    """Every header a webhook POST carries (the signature made from ``secrets``)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Bazaar-Event-Id": event_id,
        "Bazaar-Event-Type": event_type,
        "Bazaar-Timestamp": str(int(timestamp)),
        SIGNATURE_HEADER: signature_header(secrets, body, timestamp),
    }


def verify_signature(secret: str, body: bytes | str, header: str | None,
                     tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> bool:
    """True when ``header`` holds a ``v1`` signature of ``body`` made with ``secret``
    and its timestamp is within ``tolerance`` seconds of ``now`` (default: the clock).

    Compares in constant time; a malformed header is simply not valid.
    """
    # A real header is ASCII; other text would make int() or compare_digest raise.
    if not (header or "").isascii():
        return False
    timestamp, signatures = None, []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, body, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
