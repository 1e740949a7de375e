"""What installs ask of, and tell, the packages above them.

Installs sit below billing and webhooks (docs/architecture.md), so they never import
them:

- what happened to an install is written as an ``InstallEvent`` row, and each
  consumer plugged in here (webhooks: a signed delivery to the partner) reads it in
  the same transaction, so the event and what it causes commit or roll back together;
- whether a workspace can pay for an app when its trial ends is billing's to say,
  through the ``Payments`` port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flask import Flask
from sqlmodel import Session

from core.db import app_of
from installs.models import InstallEvent

CONSUMERS_KEY = "bazaar.installs.event_consumers"
PAYMENTS_KEY = "bazaar.installs.payments_port"

EventConsumer = Callable[[Session, InstallEvent], None]


class Payments(Protocol):
    def can_pay(self, session: Session, workspace_id: int, listing_id: int) -> bool:
        """Whether the provider confirmed a way to pay for the app (a trialing or
        active subscription), so its trial converts instead of expiring."""


def consume_events(app: Flask, consumer: EventConsumer) -> None:
    app.extensions.setdefault(CONSUMERS_KEY, []).append(consumer)


def plug_payments(app: Flask, port: Payments) -> None:
    app.extensions[PAYMENTS_KEY] = port


def event_consumers(session: Session) -> list[EventConsumer]:
    app = app_of(session)
    return [] if app is None else list(app.extensions.get(CONSUMERS_KEY, []))


def payments_port(session: Session) -> Payments:
    app = app_of(session)
    if app is None or PAYMENTS_KEY not in app.extensions:
        raise RuntimeError("installs needs the billing package plugged in: make the app "
                           "with app.create_app()")
    return app.extensions[PAYMENTS_KEY]
