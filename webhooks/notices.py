"""Mail to a partner whose webhook endpoint keeps failing: once when it has failed
for 24 hours and once at 6 days (the day before the prune job flags the listing for
it), per failure streak: a streak starts at ``Listing.webhook_failing_since`` and
ends with the next delivered event, so a new streak is mailed again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.db import as_utc
from listings.models import Listing
from listings.notices import mail_partner
from mail.compose import absolute_url, with_app_context

# (how long it has failed, what the key calls it, what the subject says)
THRESHOLDS = [(timedelta(days=6), "6d", "6 days"), (timedelta(hours=24), "24h", "24 hours")]


@with_app_context
def mail_if_failing_long(session: Session, listing_id: int, now: datetime) -> None:
    """After a failed delivery: mail the partner's members when the endpoint has now
    failed for 24 hours or 6 days (each once per streak). Never commits."""
    row = session.exec(select(Listing.name, Listing.partner_id, Listing.webhook_failing_since,
                              Listing.webhook_last_error).where(Listing.id == listing_id)).first()
    if row is None or row[2] is None:
        return
    name, partner_id, since, last_error = row
    since = as_utc(since)
    for age, label, words in THRESHOLDS:
        if now - since < age:
            continue
        paragraphs = [f"Bazaar could not deliver webhook events to the endpoint of {name} "
                      f"since {since:%d %b %Y %H:%M} UTC. The last answer: "
                      f"{last_error or 'no answer'}.",
                      "Events are retried and kept; fix the endpoint and redeliver them from "
                      "the webhook page."]
        if label == "6d":
            paragraphs.append("A listing whose endpoint fails for 7 days is flagged by the "
                              "nightly catalog checks, and delisted if it is not fixed.")
        mail_partner(session, partner_id, kind="webhook_failing",
                     key=f"webhook_failing:{listing_id}:{since.isoformat()}:{label}",
                     subject=f"Webhooks to {name} have failed for {words}",
                     paragraphs=paragraphs, action_text="See the deliveries",
                     action_url=absolute_url("webhooks.deliveries", listing_id=listing_id))
        return  # the longest threshold reached; a shorter one never after it
