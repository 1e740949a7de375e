"""Install events: one row per thing that happened to an install, read by the
packages above installs in the same transaction (``installs.ports``)."""

from __future__ import annotations

import logging

from sqlmodel import Session

from installs.models import InstallEvent
from installs.ports import event_consumers

log = logging.getLogger(__name__)


def record_event(session: Session, listing_id: int, event_type: str, data: dict, *,
                 install_id: int | None = None) -> InstallEvent:
    """Write the event and hand it to every consumer, inside the caller's transaction."""
    event = InstallEvent(listing_id=listing_id, install_id=install_id, event_type=event_type,
                         data=data)
    session.add(event)
    session.flush()
    consumers = event_consumers(session)
    if not consumers:
        # A session outside the app (a script): the row is kept, nobody hears now.
        log.warning("Install event %s recorded outside the app; no consumer told", event_type)
    for consume in consumers:
        consume(session, event)
    return event
