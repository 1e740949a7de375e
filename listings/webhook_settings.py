"""A listing's webhook endpoint: the URL its partner's app gets events at.

The partner changes it in the portal and it takes effect at once: it says where
Bazaar sends events, not what customers are shown or consent to, so no editor
reviews it (a release's scopes still are). Before migration 0022 it lived on each
release; ``Release.webhook_url`` is kept, read-only, for old data and catalog files.

The URL must be https, except when Bazaar runs locally (``BAZAAR_ENV`` local or
test: ``core.settings.LOCAL_ENVS``), where a developer's receiver on
http://127.0.0.1 is the point. It may not carry a user name or password: requests
are proven to come from Bazaar by the signing secret, and credentials in a URL
end up in logs and on screens.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from accounts.models import User
from core.settings import LOCAL_ENVS
from listings.models import Listing, _check_url
from listings.services import audit

MAX_URL_LENGTH = 500


class WebhookUrlError(ValueError):
    """A webhook URL that cannot be used; the message is for the partner."""


def plain_http_allowed(config) -> bool:
    """Whether ``http://`` endpoints are accepted: only when Bazaar runs locally."""
    return config.get("BAZAAR_ENV") in LOCAL_ENVS


def check_webhook_url(value: str | None, *, allow_http: bool) -> str | None:
    """``value`` stripped, or None when blank (no endpoint: no events).

    Raises ``WebhookUrlError`` for an over-long URL, one that is not a full
    http(s) address (the same shape ``ReleaseCreate`` checks), plain http when
    ``allow_http`` is false, or one with a user name or password.
    """
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_URL_LENGTH:
        raise WebhookUrlError(f"The webhook URL must be at most {MAX_URL_LENGTH} characters.")
    scheme_text = "http:// or https://" if allow_http else "https://"
    try:
        _check_url(value)
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise WebhookUrlError(f"The webhook URL must be a full {scheme_text} address.") from None
    if parts.scheme.lower() == "http" and not allow_http:
        raise WebhookUrlError("The webhook URL must start with https:// (plain http:// is only "
                              "accepted when Bazaar runs locally).")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("Leave the user name and password out of the webhook URL: check "
                              "the Bazaar-Signature header with your signing secret instead.")
    return value


def set_webhook_url(session: Session, listing: Listing, value: str | None, actor: User, *,
                    allow_http: bool) -> bool:
    """Point ``listing``'s webhooks at ``value`` (blank: stop sending), effective for every
    event queued after the caller commits; audited as ``webhook.url_changed`` with the
    old and new host only (a URL's path or query may hold the partner's own token).

    Returns False when the URL is unchanged. Raises ``WebhookUrlError`` (nothing written).
    """
    url = check_webhook_url(value, allow_http=allow_http)
    if url == listing.webhook_url:
        return False
    old = listing.webhook_url
    # A Core UPDATE, like the webhook failure flags: the URL is not part of the
    # search document, so it must not queue a reindex of the listing. It does give
    # the catalog a new version (listings is TRACKED): accepted, since a partner
    # changes the URL rarely, and exempting one column would be a special case in
    # the cache's rules for no noticeable gain.
    session.execute(update(Listing).where(Listing.id == listing.id).values(webhook_url=url)
                    .execution_options(synchronize_session=False))
    # The object in hand shows the new URL without becoming dirty itself.
    set_committed_value(listing, "webhook_url", url)
    audit(session, actor, "webhook.url_changed", listing,
          old_host=urlsplit(old).hostname if old else None,
          new_host=urlsplit(url).hostname if url else None)
    return True
